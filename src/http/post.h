// POST handlers that take a request without a body as one with an empty body, as
// `curl -X POST URL` sends it (no Content-Length), instead of cpp-httplib's 400; and that
// refuse a body past the server's bound (413) however it arrives.
#pragma once

#include <functional>
#include <string>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace bikestream {

class HttpServer;

using PostHandler =
    std::function<void(const httplib::Request&, const std::string& body, httplib::Response&)>;

// Serves POST `pattern` with `handler`. The body is read only when the request declares one
// (Content-Length or chunked), and only up to the server's max_body_bytes, counted as it
// arrives and decoded (a chunked body, a gzip one): past it the handler is not called and the
// answer is 413.
void HandlePost(HttpServer& server, const std::string& pattern, PostHandler handler);

}  // namespace bikestream
