// Starts Google's Spanner emulator on free loopback ports and stops it (its whole process group:
// gcloud leaves the emulator and its gateway behind otherwise). One instance is created in it;
// each test takes a database of its own. Used by tests and benchmarks.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/process_group.h"
#include "support/pubsub_emulator_process.h"  // FreeLoopbackPort, InCi.
#include "warehouse/spanner/client.h"

namespace bikestream::testing_support {

class SpannerEmulator {
 public:
  static constexpr const char* kProject = "bikestream-test";
  static constexpr const char* kInstance = "test-instance";

  // Starts the emulator and creates the instance; `error()` says why not.
  SpannerEmulator() {
    const char* gcloud = "/usr/bin/gcloud";
    if (!std::filesystem::exists(gcloud) ||
        !std::filesystem::exists("/usr/lib/google-cloud-sdk/bin/cloud_spanner_emulator")) {
      error_ = "the Spanner emulator is not installed (gcloud's cloud_spanner_emulator)";
      return;
    }
    grpc_port_ = FreeLoopbackPort();
    rest_port_ = FreeLoopbackPort();
    log_ =
        std::filesystem::temp_directory_path() / fmt::format("spanner-emulator-{}.log", rest_port_);
    std::vector<std::string> args = {gcloud,
                                     "emulators",
                                     "spanner",
                                     "start",
                                     fmt::format("--host-port=127.0.0.1:{}", grpc_port_),
                                     fmt::format("--rest-port={}", rest_port_),
                                     "--quiet"};
    if (!process_.Start(std::move(args), log_.string())) {
      error_ = "could not start gcloud";
      return;
    }
    WaitUntilReady();
  }

  ~SpannerEmulator() {
    process_.Stop();
    if (ready()) std::filesystem::remove(log_);
  }

  bool ready() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // The REST port as SPANNER_EMULATOR_HOST names it, and as an endpoint.
  std::string host() const { return fmt::format("127.0.0.1:{}", rest_port_); }
  std::string endpoint() const { return "http://" + host(); }

  // Options for a client of a database no other caller has (not created yet).
  spanner::ClientOptions FreshDatabase() {
    return {.endpoint = endpoint(),
            .project = kProject,
            .instance = kInstance,
            .database = fmt::format("db-{}", ++databases_)};
  }

 private:
  void WaitUntilReady() {
    spanner::ClientOptions options{
        .endpoint = endpoint(), .project = kProject, .instance = kInstance, .database = "unused"};
    options.retry = {.max_attempts = 1};
    options.timeout = std::chrono::seconds(2);
    spanner::Client client(options);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    absl::Status last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto exists = client.InstanceExists();
      last = exists.status();
      if (exists.ok()) {
        if (absl::Status created = client.CreateEmulatorInstance(); !created.ok()) {
          error_ = fmt::format("creating the emulator's instance: {}", created.ToString());
        }
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    error_ = fmt::format("the Spanner emulator did not start within 60 s ({}; see {})",
                         last.ToString(), log_.string());
  }

  ProcessGroup process_;
  int grpc_port_ = 0;
  int rest_port_ = 0;
  std::filesystem::path log_;
  std::string error_;
  std::atomic<int> databases_{0};
};

// The binary's emulator, started at the first call and stopped at exit.
inline SpannerEmulator& SharedSpannerEmulator() {
  static SpannerEmulator emulator;
  return emulator;
}

// At the top of a test: skips (or fails in CI) when `emulator` cannot run here.
#define REQUIRE_SPANNER(emulator)                                              \
  do {                                                                         \
    if (!(emulator).ready()) {                                                 \
      if (::bikestream::testing_support::InCi()) FAIL() << (emulator).error(); \
      GTEST_SKIP() << "skipped: " << (emulator).error();                       \
    }                                                                          \
  } while (0)

}  // namespace bikestream::testing_support
