// A small HTTP/1.1 client over libcurl with keep-alive, for the Google Cloud clients and the
// GBFS feeds. TLS peers are always verified (libcurl's default, never turned off).
//
// What a URL from input may make it do is bounded: it speaks http and https only (never the
// other protocols libcurl knows: a gbfs.json listing gopher:// or file:// is refused), a
// redirect from https stays on https, a reply's body is refused past `max_reply_bytes` (counted
// decoded, so a gzip bomb is stopped as it inflates), and a request gives up as soon as
// `cancelled` says so. Its errors name the URL with its secrets masked (common/redact.h).
//
// Connections are reused: each request borrows a curl handle from a pool and returns it, so
// concurrent callers each get their own connection and sequential ones reuse theirs.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
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
  struct Options {
    std::chrono::milliseconds timeout;  // For a whole request.
    std::size_t max_reply_bytes;        // A reply's body, decoded (common/limits.h).
    Proxy proxy = Proxy::kFromEnvironment;
    Use use = Use::kApi;
    // Asked about every second while a request waits (and at each piece of a reply): true
    // abandons the request (kCancelled), so that a job told to stop does not wait for a slow
    // server. Default: never.
    std::function<bool()> cancelled;
  };
  explicit HttpClient(Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request. Transport failures (refused, reset, timed out) are kUnavailable or
  // kDeadlineExceeded; a URL that is not http or https kInvalidArgument; a reply larger than
  // max_reply_bytes kOutOfRange (not worth retrying as it is); a request abandoned kCancelled.
  // Any HTTP status is a response.
  absl::StatusOr<HttpResponse> Send(const std::string& method, const std::string& url,
                                    const std::string& body,
                                    const std::vector<std::string>& headers);

 private:
  struct Handle;
  std::unique_ptr<Handle> Borrow();
  void Return(std::unique_ptr<Handle> handle);
  // The status of a request that ended with libcurl's `code`.
  absl::Status TransferError(const std::string& method, const std::string& url, int code,
                             bool too_large) const;

  const Options options_;
  absl::Mutex mutex_;
  std::vector<std::unique_ptr<Handle>> idle_ ABSL_GUARDED_BY(mutex_);
};

// An application/x-www-form-urlencoded body: name=value pairs, each percent-encoded.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace bikestream::http
