#include "http/post.h"

#include <fmt/format.h>
#include <httplib.h>

#include "common/limits.h"
#include "http/http_server.h"

namespace bikestream {

void HandlePost(HttpServer& server, const std::string& pattern, PostHandler handler) {
  const std::size_t max_bytes = server.limits().max_body_bytes;
  // A handler with a content reader is called before the body is read, so it can choose not
  // to read one that was never announced (httplib would wait for the connection to close).
  server.Post(pattern, [handler = std::move(handler), max_bytes](
                           const httplib::Request& request, httplib::Response& response,
                           const httplib::ContentReader& read) {
    std::string body;
    const bool announced =
        request.has_header("Content-Length") ||
        request.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
    if (announced) {
      bool too_large = false;
      const bool complete = read([&](const char* data, std::size_t length) {
        too_large = body.size() + length > max_bytes;
        if (!too_large) body.append(data, length);
        return !too_large;
      });
      if (too_large) {
        response.status = 413;
        response.set_header("Connection", "close");
        response.set_content(
            fmt::format("the body is larger than {}, more than this endpoint takes\n",
                        limits::BytesText(max_bytes)),
            "text/plain");
        return;
      }
      if (!complete) return;  // httplib answers: 400, or 413 over the payload limit.
    }
    handler(request, body, response);
  });
}

}  // namespace bikestream
