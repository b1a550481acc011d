// Starts the official Pub/Sub emulator on a free loopback port and stops it (its whole process
// group: the gcloud wrapper leaves a java child behind otherwise). Used by tests and benchmarks.
#pragma once

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "pubsub/pubsub.h"
#include "support/free_port.h"
#include "support/process_group.h"

namespace bikestream::testing_support {

inline bool InCi() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

class PubsubEmulator {
 public:
  static constexpr const char* kProject = "bikestream-test";

  // Starts the emulator; `error()` says why not.
  PubsubEmulator() {
    const char* gcloud = "/usr/bin/gcloud";
    if (!std::filesystem::exists(gcloud)) {
      error_ = "the Pub/Sub emulator is not installed (no /usr/bin/gcloud)";
      return;
    }
    port_ = FreeLoopbackPort();
    data_dir_ = std::filesystem::temp_directory_path() / fmt::format("pubsub-emulator-{}", port_);
    std::filesystem::create_directories(data_dir_);
    std::vector<std::string> args = {gcloud,
                                     "beta",
                                     "emulators",
                                     "pubsub",
                                     "start",
                                     fmt::format("--host-port=127.0.0.1:{}", port_),
                                     fmt::format("--project={}", kProject),
                                     fmt::format("--data-dir={}", data_dir_.string()),
                                     "--quiet"};
    if (!process_.Start(std::move(args), (data_dir_ / "emulator.log").string())) {
      error_ = "could not start gcloud";
      return;
    }
    WaitUntilReady();
  }

  ~PubsubEmulator() {
    process_.Stop();
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }

  bool ready() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string host() const { return fmt::format("127.0.0.1:{}", port_); }

  std::unique_ptr<pubsub::PubsubConnection> Connect() const {
    return pubsub::MakeRetryingConnection(
        pubsub::MakeRestConnection(pubsub::ConnectionOptions{.emulator_host = host()}));
  }

 private:
  void WaitUntilReady() {
    auto client = pubsub::MakeRestConnection(
        pubsub::ConnectionOptions{.emulator_host = host(), .timeout = std::chrono::seconds(2)});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (std::chrono::steady_clock::now() < deadline) {
      // Any answer from the service, even "not found", means it is up.
      auto status = client->GetTopic(kProject, "readiness-probe");
      if (status.code() == absl::StatusCode::kNotFound || status.ok()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    error_ = "the Pub/Sub emulator did not start within 90 s (see " +
             (data_dir_ / "emulator.log").string() + ")";
  }

  ProcessGroup process_;
  int port_ = 0;
  std::filesystem::path data_dir_;
  std::string error_;
};

}  // namespace bikestream::testing_support
