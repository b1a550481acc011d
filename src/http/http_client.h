// A small HTTP/1.1 client over libcurl with keep-alive, for the Google Cloud clients and the
// GBFS feeds. TLS
// peers are always verified (libcurl's default, never turned off).
//
// Connections are reused: each request borrows a curl handle from a pool and returns it, so
// concurrent callers each get their own connection and sequential ones reuse theirs.
// Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace bikestream::http {

struct HttpResponse {
  long status = 0;
  std::string body;
};

class HttpClient {
 public:
  // kNone for endpoints that must be reached directly whatever $http_proxy says (the
  // metadata server: its replies hold tokens).
  enum class Proxy { kFromEnvironment, kNone };
  // kPublicFeed, for open data (GBFS): asks for a gzip body and hands it over decoded (feeds are
  // large and compress tenfold; only gzip, what servers keep feeds in: brotli made on the fly,
  // at cpp-httplib's quality 11 for one, costs a server more than it saves), follows up to five
  // redirects (a feed that moved), and names itself (User-Agent: bikestream/VERSION, as open
  // data terms ask). kApi does none of these: an authorized request never follows a redirect.
  enum class Use { kApi, kPublicFeed };
  explicit HttpClient(std::chrono::milliseconds timeout, Proxy proxy = Proxy::kFromEnvironment, Use use = Use::kApi);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request. Transport failures (refused, reset, timed out) are kUnavailable or
  // kDeadlineExceeded; any HTTP status is a response.
  absl::StatusOr<HttpResponse> Send(const std::string& method, const std::string& url,
                                    const std::string& body,
                                    const std::vector<std::string>& headers);

 private:
  struct Handle;
  std::unique_ptr<Handle> Borrow();
  void Return(std::unique_ptr<Handle> handle);

  std::chrono::milliseconds timeout_;
  Proxy proxy_;
  Use use_;
  absl::Mutex mutex_;
  std::vector<std::unique_ptr<Handle>> idle_ ABSL_GUARDED_BY(mutex_);
};

// An application/x-www-form-urlencoded body: name=value pairs, each percent-encoded.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace bikestream::http
