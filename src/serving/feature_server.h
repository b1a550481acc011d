// `bikestream serve`'s HTTP server: the latest features of stations for inference, from memory
// (latest_features.h), refreshed by a thread of its own.
//
//   GET  /v1/features?station_id=A&station_id=B[&feature=NAME...]
//   POST /v1/features  {"station_ids": [...], "features": [...]}   (up to 1,000 stations)
//   GET  /healthz      200 once a tick is held and the last refresh worked; else 503 and why
//   GET  /metrics      Prometheus text: requests, their latency, the tick's and the cache's age
//
// Who may use it: the console's rules (http/access_rules.h). On loopback (the default) anyone on
// this machine; off loopback a token is required, and every request but /healthz must carry it
// as `Authorization: Bearer TOKEN`. Slow clients only delay themselves (http/http_server.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "serving/serving_api.h"
#include "warehouse/feature_store.h"

namespace bikestream {

class HttpServer;

struct FeatureServerOptions {
  std::string listen = "127.0.0.1:8090";  // HOST:PORT; port 0 picks a free one. Default: that.
  std::string token;  // Required of all but /healthz when set; needed off loopback.
  ServingRules rules;
  // How often LatestFeatureTime is asked whether a new tick landed. Default: 0.25 s.
  DurationMicros poll = kMicrosPerSecond / 4;
  // How often the latest tick is read again even so (rewritten in place). Default: 5 s.
  DurationMicros reread = 5 * kMicrosPerSecond;
};

class FeatureServer {
 public:
  // Reads the latest tick of `features` from `store` (an error here is returned: a wrong URL,
  // a missing setup), then serves until destroyed. `store` is used by the server's refresh
  // thread alone and must outlive the server.
  static absl::StatusOr<std::unique_ptr<FeatureServer>> Start(const FeatureServerOptions& options,
                                                              FeatureStore& store,
                                                              std::vector<std::string> features,
                                                              Clock& clock);
  ~FeatureServer();

  const std::string& address() const;  // "HOST:PORT" as bound.

 private:
  class Impl;
  explicit FeatureServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bikestream
