#include "job/admin_client.h"

#include <fmt/format.h>

namespace bikestream {

httplib::Result AskJob(const JobRecord& job, const std::string& token, bool post, const std::string& path,
                       std::chrono::seconds timeout) {
  httplib::Client client("http://" + job.admin);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  if (!token.empty()) client.set_bearer_token_auth(token);
  const std::string target = path + "?job=" + job.id;
  return post ? client.Post(target) : client.Get(target);
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
