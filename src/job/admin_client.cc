#include "job/admin_client.h"

#include <fmt/format.h>

#include <cstdint>

#include "common/limits.h"
#include "job/admin_server.h"

namespace bikestream {

httplib::Result AskJob(const JobRecord& job, const std::string& token, bool post,
                       const std::string& path, std::chrono::seconds timeout) {
  httplib::Client client("http://" + job.admin);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  if (!token.empty()) client.set_bearer_token_auth(token);
  httplib::Request request;
  request.method = post ? "POST" : "GET";
  request.path = path + "?job=" + job.id;
  if (post) request.headers.emplace(kAdminActionHeader, "1");
  // The answer is read up to a bound: /job is a few KB.
  std::string body;
  request.content_receiver = [&body](const char* data, std::size_t length, std::uint64_t,
                                     std::uint64_t) {
    if (body.size() + length > limits::kSmallReply) return false;
    body.append(data, length);
    return true;
  };
  httplib::Result answer = client.send(request);
  if (answer) answer->body = std::move(body);
  return answer;
}

std::string WhyNoAnswer(httplib::Error error, std::chrono::seconds timeout) {
  switch (error) {
    case httplib::Error::Connection:
      return "nothing listens there (the job may have just ended)";
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::Read:
      return fmt::format("no answer within {} s (the job may be stuck: kill -TERM its pid)",
                         timeout.count());
    default:
      return "the request failed";
  }
}

}  // namespace bikestream
