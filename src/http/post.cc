#include "http/post.h"

#include <httplib.h>

namespace bikestream {

void HandlePost(httplib::Server& server, const std::string& pattern, PostHandler handler) {
  // A handler with a content reader is called before the body is read, so it can choose not
  // to read one that was never announced (httplib would wait for the connection to close).
  server.Post(pattern, [handler = std::move(handler)](const httplib::Request& request, httplib::Response& response,
                                                      const httplib::ContentReader& read) {
    std::string body;
    const bool announced = request.has_header("Content-Length") ||
                           request.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
    if (announced) {
      const bool complete = read([&](const char* data, std::size_t length) {
        body.append(data, length);
        return true;
      });
      if (!complete) return;  // httplib answers: 400, or 413 over the payload limit.
    }
    handler(request, body, response);
  });
}

}  // namespace bikestream
