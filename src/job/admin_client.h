// A request to a job's admin endpoint (admin_server.h), as `bikestream jobs` and the console send
// it: naming the job (`?job=ID`), so that an endpoint that now serves another job refuses it, and
// with the admin token when one is set.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>

#include "job/job_registry.h"

namespace bikestream {

// GET, or POST with `post`, `path` (e.g. "/job", "/drain") of `job`'s endpoint, waiting at most
// `timeout` to connect and as long for the answer.
httplib::Result AskJob(const JobRecord& job, const std::string& token, bool post,
                       const std::string& path, std::chrono::seconds timeout);

// Why a request got no answer, for a person (httplib's own names are single words).
std::string WhyNoAnswer(httplib::Error error, std::chrono::seconds timeout);

}  // namespace bikestream
