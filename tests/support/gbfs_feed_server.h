// A live GBFS feed on a free loopback port, serving recorded snapshots one after another:
// /gbfs.json (auto-discovery, GBFS 2.x: per language) and /station_status.json, which serves
// snapshot i to requests 2i and 2i+1 (each snapshot twice, so that a poller killed after
// fetching one fetches it again on restart), then the last one for good. Chosen requests fail
// instead: a 500, a body cut short, a body that is not JSON; the first `bad_discoveries`
// requests of /gbfs.json answer 200 with an HTML error page. With ServeStationInformation,
// gbfs.json lists /station_information.json too.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "support/loopback_server.h"

namespace bikestream::testing_support {

class GbfsFeedServer {
 public:
  enum class Fault { kServerError, kTruncated, kNotJson };

  // `faults`: by the number of the station_status request (from 0) that fails instead.
  explicit GbfsFeedServer(std::vector<std::string> snapshots, std::map<int, Fault> faults = {},
                          int bad_discoveries = 0)
      : snapshots_(std::move(snapshots)),
        faults_(std::move(faults)),
        bad_discoveries_(bad_discoveries),
        server_([this](httplib::Server& s) {
          s.Get("/gbfs.json", [this](const httplib::Request&, httplib::Response& response) {
            if (discoveries_.fetch_add(1) < bad_discoveries_) {
              response.set_content("<html><body>Maintenance</body></html>", "text/html");
              return;
            }
            response.set_content(Discovery(), "application/json");
          });
          s.Get("/system_information.json",
                [](const httplib::Request&, httplib::Response& response) {
                  response.set_content(
                      R"({"last_updated":1728259785,"ttl":10,"version":"2.3","data":{)"
                      R"("system_id":"oslobysykkel","language":"nb","name":"Oslo Bysykkel"}})",
                      "application/json");
                });
          s.Get("/station_status.json",
                [this](const httplib::Request&, httplib::Response& response) { Serve(response); });
          s.Get("/station_information.json",
                [this](const httplib::Request&, httplib::Response& response) {
                  if (information_requests_.fetch_add(1) < information_failures_) {
                    response.status = 503;
                    return;
                  }
                  response.set_content(station_information_, "application/json");
                });
        }) {}

  // Before the first request: serves `document`, the first `failures` requests a 503 instead.
  void ServeStationInformation(std::string document, int failures = 0) {
    station_information_ = std::move(document);
    information_failures_ = failures;
  }

  std::string discovery_url() const { return server_.url() + "/gbfs.json"; }
  std::string information_url() const { return server_.url() + "/station_information.json"; }
  int information_requests() const { return information_requests_.load(); }
  std::string status_url() const { return server_.url() + "/station_status.json"; }
  // Whether the last snapshot has been served (at least once).
  bool served_all() const { return served_last_.load(); }
  int requests() const { return requests_.load(); }

 private:
  std::string Discovery() const {
    return fmt::format(
        R"({{"last_updated":1728259785,"ttl":10,"version":"2.3","data":{{"nb":{{"feeds":[)"
        R"({{"name":"system_information","url":"{0}/system_information.json"}},)"
        R"({{"name":"station_status","url":"{1}"}}{2}]}}}}}})",
        server_.url(), status_url(),
        station_information_.empty()
            ? ""
            : fmt::format(R"(,{{"name":"station_information","url":"{}"}})", information_url()));
  }

  void Serve(httplib::Response& response) {
    const int request = requests_.fetch_add(1);
    if (auto fault = faults_.find(request); fault != faults_.end()) {
      switch (fault->second) {
        case Fault::kServerError:
          response.status = 500;
          response.set_content("upstream timed out", "text/plain");
          return;
        case Fault::kTruncated: {
          const std::string& whole = snapshots_[Index(request)];
          response.set_content(whole.substr(0, whole.size() / 2), "application/json");
          return;
        }
        case Fault::kNotJson:
          response.set_content("<html><body>Service Unavailable</body></html>", "text/html");
          return;
      }
    }
    const std::size_t index = Index(request);
    if (index + 1 == snapshots_.size()) served_last_ = true;
    response.set_content(snapshots_[index], "application/json");
  }

  std::size_t Index(int request) const {
    return std::min<std::size_t>(request / 2, snapshots_.size() - 1);
  }

  const std::vector<std::string> snapshots_;
  const std::map<int, Fault> faults_;
  const int bad_discoveries_;
  std::string station_information_;
  int information_failures_ = 0;
  std::atomic<int> information_requests_{0};
  std::atomic<int> discoveries_{0};
  std::atomic<int> requests_{0};
  std::atomic<bool> served_last_{false};
  LoopbackServer server_;
};

}  // namespace bikestream::testing_support
