#include "http/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <new>

#include "common/mutex.h"

namespace bikestream::http {
namespace {

// curl_global_init is not thread-safe; do it once, before any handle exists.
void GlobalInit() {
  static const bool initialized = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)initialized;
}

std::size_t AppendBody(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
};

}  // namespace

struct HttpClient::Handle {
  Handle() : curl(curl_easy_init()) {}
  ~Handle() { curl_easy_cleanup(curl); }
  CURL* curl;
};

HttpClient::HttpClient(std::chrono::milliseconds timeout, Proxy proxy, Use use)
    : timeout_(timeout), proxy_(proxy), use_(use) {
  GlobalInit();
}

HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Handle> HttpClient::Borrow() {
  MutexLock lock(&mutex_);
  if (idle_.empty()) return std::make_unique<Handle>();
  auto handle = std::move(idle_.back());
  idle_.pop_back();
  return handle;
}

void HttpClient::Return(std::unique_ptr<Handle> handle) {
  MutexLock lock(&mutex_);
  idle_.push_back(std::move(handle));
}

absl::StatusOr<HttpResponse> HttpClient::Send(const std::string& method, const std::string& url,
                                              const std::string& body,
                                              const std::vector<std::string>& headers) {
  auto handle = Borrow();
  CURL* curl = handle->curl;
  if (!curl) return absl::ResourceExhaustedError("cannot create a curl handle");
  curl_easy_reset(curl);  // Keeps the connection cache, drops the last request's options.
  HeaderList header_list;
  for (const auto& header : headers) header_list.list = curl_slist_append(header_list.list, header.c_str());
  HttpResponse response;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list.list);
  if (method != "GET" && method != "DELETE") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (proxy_ == Proxy::kNone) curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  if (use_ == Use::kPublicFeed) {
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "bikestream/" BIKESTREAM_VERSION);
  }
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    // A broken connection must not be reused.
    handle = std::make_unique<Handle>();
    Return(std::move(handle));
    std::string message = fmt::format("{} {}: {}", method, url, curl_easy_strerror(code));
    if (code == CURLE_OPERATION_TIMEDOUT) return absl::DeadlineExceededError(message);
    return absl::UnavailableError(message);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  Return(std::move(handle));
  return response;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    for (const std::string* part : {&name, &value}) {
      // Since curl 7.82 the handle may be null.
      char* escaped = curl_easy_escape(nullptr, part->data(), static_cast<int>(part->size()));
      if (!escaped) throw std::bad_alloc();  // Its only failure.
      body += escaped;
      curl_free(escaped);
      if (part == &name) body += '=';
    }
  }
  return body;
}

}  // namespace bikestream::http
