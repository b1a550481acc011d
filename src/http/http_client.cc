#include "http/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <new>
#include <optional>
#include <string_view>

#include "absl/strings/match.h"
#include "common/limits.h"
#include "common/mutex.h"
#include "common/redact.h"

namespace bikestream::http {
namespace {

// curl_global_init is not thread-safe; do it once, before any handle exists.
void GlobalInit() {
  static const bool initialized = [] {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  }();
  (void)initialized;
}

struct Reply {
  std::string* body = nullptr;
  std::size_t max_bytes = 0;
  bool too_large = false;
};

std::size_t AppendBody(char* data, std::size_t size, std::size_t count, void* out) {
  auto* reply = static_cast<Reply*>(out);
  const std::size_t bytes = size * count;
  if (reply->body->size() + bytes > reply->max_bytes) {
    reply->too_large = true;
    return 0;  // Anything but `bytes` ends the transfer.
  }
  reply->body->append(data, bytes);
  return bytes;
}

int AskCancelled(void* cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return (*static_cast<const std::function<bool()>*>(cancelled))() ? 1 : 0;
}

// Whether `url` is https (true) or http (false); nullopt for any other scheme.
std::optional<bool> IsHttps(const std::string& url) {
  if (absl::StartsWithIgnoreCase(url, "https://")) return true;
  if (absl::StartsWithIgnoreCase(url, "http://")) return false;
  return std::nullopt;
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

HttpClient::HttpClient(Options options) : options_(std::move(options)) { GlobalInit(); }

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
  const std::optional<bool> https = IsHttps(url);
  if (!https) {
    return absl::InvalidArgumentError(fmt::format(
        "{} {}: refused: bikestream speaks http and https only", method, RedactUrl(url)));
  }
  auto handle = Borrow();
  CURL* curl = handle->curl;
  if (!curl) return absl::ResourceExhaustedError("cannot create a curl handle");
  curl_easy_reset(curl);  // Keeps the connection cache, drops the last request's options.
  HeaderList header_list;
  for (const auto& header : headers)
    header_list.list = curl_slist_append(header_list.list, header.c_str());
  HttpResponse response;
  Reply reply{.body = &response.body, .max_bytes = options_.max_reply_bytes};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list.list);
  if (method != "GET" && method != "DELETE") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
  // A Content-Length past the bound is refused before the body is read.
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_reply_bytes));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (options_.cancelled) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, AskCancelled);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &options_.cancelled);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }
  if (options_.proxy == Proxy::kNone) curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  if (options_.use == Use::kPublicFeed) {
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    // A feed asked for over https is never handed over in the clear.
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, *https ? "https" : "http,https");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "bikestream/" BIKESTREAM_VERSION);
  }
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    // A broken connection must not be reused.
    handle = std::make_unique<Handle>();
    Return(std::move(handle));
    return TransferError(method, url, code, reply.too_large);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  Return(std::move(handle));
  return response;
}

absl::Status HttpClient::TransferError(const std::string& method, const std::string& url, int code,
                                       bool too_large) const {
  const std::string request = fmt::format("{} {}", method, RedactUrl(url));
  switch (code) {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
      if (code == CURLE_FILESIZE_EXCEEDED || too_large) {
        return absl::OutOfRangeError(
            fmt::format("{}: the reply is larger than {}, more than such a reply may be: refused",
                        request, limits::BytesText(options_.max_reply_bytes)));
      }
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      return absl::CancelledError(fmt::format("{}: abandoned: the job is stopping", request));
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(
          fmt::format("{}: refused a redirect to another protocol (only http and https are spoken, "
                      "and https stays https)",
                      request));
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(
          fmt::format("{}: {}", request, curl_easy_strerror(CURLcode(code))));
    default:
      break;
  }
  return absl::UnavailableError(fmt::format("{}: {}", request, curl_easy_strerror(CURLcode(code))));
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
