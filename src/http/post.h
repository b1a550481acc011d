// POST handlers that take a request without a body as one with an empty body, as
// `curl -X POST URL` sends it (no Content-Length), instead of cpp-httplib's 400.
#pragma once

#include <functional>
#include <string>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace bikestream {

using PostHandler = std::function<void(const httplib::Request&, const std::string& body, httplib::Response&)>;

// Serves POST `pattern` with `handler`. The body is read only when the request declares one
// (Content-Length or chunked), within the server's payload limit (413 beyond it).
void HandlePost(httplib::Server& server, const std::string& pattern, PostHandler handler);

}  // namespace bikestream
