#include "serving/feature_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <atomic>
#include <thread>

#include "common/mutex.h"
#include "common/redact.h"
#include "common/status.h"
#include "http/access_rules.h"
#include "http/http_server.h"
#include "http/listen_address.h"
#include "http/post.h"

namespace bikestream {
namespace {

// Not "application/json" alone: cpp-httplib would compress it with brotli at its highest
// quality, slower than the answer itself.
constexpr char kJson[] = "application/json; charset=utf-8";
// A POST of 1,000 station ids, with room to spare.
constexpr std::size_t kMaxRequestBytes = 256 * 1024;
// Request latency buckets, in seconds (Prometheus histogram upper bounds).
constexpr std::array<double, 9> kLatencyBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01,
                                                   0.025,  0.1,   0.5,   1};

std::vector<std::string> ParamValues(const httplib::Request& request, const std::string& name) {
  std::vector<std::string> values;
  auto [from, to] = request.params.equal_range(name);
  for (auto it = from; it != to; ++it) values.push_back(it->second);
  return values;
}

}  // namespace

namespace serving_internal {

struct ServingMetrics {
  std::atomic<std::uint64_t> answered{0};  // 2xx.
  std::atomic<std::uint64_t> refused{0};   // 4xx: a request to fix.
  std::atomic<std::uint64_t> failed{0};    // 5xx: no tick to serve.
  std::atomic<std::uint64_t> refresh_failures{0};
  std::array<std::atomic<std::uint64_t>, kLatencyBuckets.size() + 1> latency_buckets{};
  std::atomic<double> latency_sum{0};

  void Observe(int status, double seconds) {
    (status < 400 ? answered : status < 500 ? refused : failed)++;
    std::size_t bucket = 0;
    while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
    ++latency_buckets[bucket];
    double sum = latency_sum.load();
    while (!latency_sum.compare_exchange_weak(sum, sum + seconds)) {
    }
  }
};

}  // namespace serving_internal

class FeatureServer::Impl {
 public:
  Impl(const FeatureServerOptions& options, FeatureStore& store, std::vector<std::string> features,
       Clock& clock)
      : options_(options),
        clock_(clock),
        latest_(store, std::move(features), clock, options.reread),
        server_(ServerLimits{.max_body_bytes = kMaxRequestBytes}) {}

  ~Impl() {
    stop_ = true;
    if (refresher_.joinable()) refresher_.join();
    server_.Stop();
  }

  absl::Status Start() {
    auto listen =
        ParseListenAddress(options_.listen, /*port_alone_ok=*/true, "--listen", "127.0.0.1:8090");
    if (!listen.ok()) return listen.status();
    const bool loopback = IsLoopback(listen->host);
    if (!loopback && options_.token.empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "--listen {}: the features would be open to the network; set --token (or "
          "$BIKESTREAM_SERVE_TOKEN) to require it of every request, or listen on 127.0.0.1",
          options_.listen));
    }
    if (absl::Status read = latest_.Refresh(); !read.ok()) return read;
    Route(AccessRules{
        .loopback = loopback,
        .token = options_.token,
        // Probes reach /healthz without it, as a job's admin endpoint.
        .needs_token = [](const httplib::Request& request) { return request.path != "/healthz"; },
        .loopback_url = "http://127.0.0.1:PORT/"});
    auto address = server_.Start(*listen, "--listen");
    if (!address.ok()) return address.status();
    address_ = *address;
    refresher_ = std::thread([this] { RefreshUntilStopped(); });
    return absl::OkStatus();
  }

  const std::string& address() const { return address_; }

 private:
  void Route(AccessRules rules) {
    server_.set_pre_routing_handler(
        [rules = std::move(rules)](const httplib::Request& request, httplib::Response& response) {
          auto refusal = CheckAccess(request, rules);
          if (!refusal) return httplib::Server::HandlerResponse::Unhandled;
          Send(response, ErrorReply(refusal->status, refusal->why));
          return httplib::Server::HandlerResponse::Handled;
        });
    server_.Get("/v1/features", [this](const httplib::Request& request,
                                       httplib::Response& response) {
      const TimestampMicros start = clock_.Now();
      Reply(response, start,
            AnswerFeatures({ParamValues(request, "station_id"), ParamValues(request, "feature")},
                           latest_.Current().get(), options_.rules, start));
    });
    HandlePost(
        server_, "/v1/features",
        [this](const httplib::Request&, const std::string& body, httplib::Response& response) {
          const TimestampMicros start = clock_.Now();
          Reply(response, start,
                AnswerFeaturePost(body, latest_.Current().get(), options_.rules, start));
        });
    server_.Get("/healthz", [this](const httplib::Request&, httplib::Response& response) {
      const std::string why = Unhealthy();
      response.status = why.empty() ? 200 : 503;
      response.set_content(why.empty() ? "ok\n" : why + "\n", "text/plain");
    });
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
      response.set_content(PrometheusText(), "text/plain; version=0.0.4");
    });
  }

  // Sends `reply` to a request handled since `start`, and counts it.
  void Reply(httplib::Response& response, TimestampMicros start, const ServingReply& reply) {
    Send(response, reply);
    metrics_.Observe(reply.status, double(clock_.Now() - start) / kMicrosPerSecond);
  }

  static void Send(httplib::Response& response, const ServingReply& reply) {
    response.status = reply.status;
    response.set_header("Cache-Control", "no-store");
    response.set_content(reply.body, kJson);
  }

  void RefreshUntilStopped() {
    while (!stop_) {
      clock_.SleepFor(options_.poll, [this] { return stop_.load(); });
      if (stop_) break;
      absl::Status refreshed = latest_.Refresh();
      if (!refreshed.ok()) ++metrics_.refresh_failures;
      MutexLock lock(&mu_);
      refresh_error_ = refreshed.ok() ? "" : RedactSecrets(MessageOf(refreshed));
    }
  }

  std::string Unhealthy() {
    {
      MutexLock lock(&mu_);
      if (!refresh_error_.empty()) return "cannot read the latest features: " + refresh_error_;
    }
    return latest_.Current() ? "" : "no features yet: station_features is empty";
  }

  std::string PrometheusText() {
    prometheus::Registry registry;
    auto& requests = prometheus::BuildCounter()
                         .Name("bikestream_serving_requests_total")
                         .Help("Feature requests answered, by outcome.")
                         .Register(registry);
    requests.Add({{"outcome", "answered"}}).Increment(double(metrics_.answered.load()));
    requests.Add({{"outcome", "refused"}}).Increment(double(metrics_.refused.load()));
    requests.Add({{"outcome", "failed"}}).Increment(double(metrics_.failed.load()));
    prometheus::BuildCounter()
        .Name("bikestream_serving_refresh_failures_total")
        .Help("Reads of the latest tick that failed (the tick held is served meanwhile).")
        .Register(registry)
        .Add({})
        .Increment(double(metrics_.refresh_failures.load()));
    std::vector<double> increments;
    for (const auto& bucket : metrics_.latency_buckets) increments.push_back(double(bucket.load()));
    prometheus::BuildHistogram()
        .Name("bikestream_serving_request_seconds")
        .Help("From a feature request's handling to its answer.")
        .Register(registry)
        .Add({}, prometheus::Histogram::BucketBoundaries(kLatencyBuckets.begin(),
                                                         kLatencyBuckets.end()))
        .ObserveMultiple(increments, metrics_.latency_sum.load());
    if (auto tick = latest_.Current()) {
      const TimestampMicros now = clock_.Now();
      auto gauge = [&](const char* name, const char* help, double value) {
        prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({}).Set(value);
      };
      gauge("bikestream_serving_cache_age_seconds",
            "Since the latest tick held was read from the warehouse.",
            double(now - tick->read_at) / kMicrosPerSecond);
      gauge("bikestream_serving_tick_age_seconds", "Since the as_of of the latest tick held.",
            double(now - tick->as_of) / kMicrosPerSecond);
      gauge("bikestream_serving_stations", "Stations in the latest tick held.",
            double(tick->stations.size()));
    }
    return prometheus::TextSerializer().Serialize(registry.Collect());
  }

  const FeatureServerOptions options_;
  Clock& clock_;
  LatestFeatures latest_;
  serving_internal::ServingMetrics metrics_;
  HttpServer server_;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::thread refresher_;
  absl::Mutex mu_;
  std::string refresh_error_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<FeatureServer>> FeatureServer::Start(
    const FeatureServerOptions& options, FeatureStore& store, std::vector<std::string> features,
    Clock& clock) {
  auto impl = std::make_unique<Impl>(options, store, std::move(features), clock);
  if (absl::Status started = impl->Start(); !started.ok()) return started;
  return std::unique_ptr<FeatureServer>(new FeatureServer(std::move(impl)));
}

FeatureServer::FeatureServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeatureServer::~FeatureServer() = default;

const std::string& FeatureServer::address() const { return impl_->address(); }

}  // namespace bikestream
