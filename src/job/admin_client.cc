#include "job/admin_client.h"

#include <fmt/format.h>

#include "common/limits.h"
#include "job/admin_server.h"

namespace bikestream {

httplib::Result AskJob(const JobRecord& job, const std::string& token, bool post, const std::string& path,
                       std::chrono::seconds timeout) {
  httplib::Client client("http://" + job.admin);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  if (!token.empty()) client.set_bearer_token_auth(token);
  const std::string target = path + "?job=" + job.id;
  if (post) return client.Post(target, {{kAdminActionHeader, "1"}}, "", "text/plain");
  // The answer is read up to a bound: /job is a few KB.
  std::string body;
  auto answer = client.Get(target, [&](const char* data, std::size_t length) {
    if (body.size() + length > limits::kSmallReply) return false;
    body.append(data, length);
    return true;
  });
  if (answer) answer->body = std::move(body);
  return answer;
}

std::string WhyNoAnswer(httplib::Error error, std::chrono::seconds timeout) {
  switch (error) {
    case httplib::Error::Connection:
      return "nothing listens there (the job may have just ended)";
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::Read:
      return fmt::format("no answer within {} s (the job may be stuck: kill -TERM its pid)", timeout.count());
    default:
      return "the request failed";
  }
}

}  // namespace bikestream
