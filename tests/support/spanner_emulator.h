// Starts Google's Spanner emulator on free loopback ports and stops it (its whole process group:
// gcloud leaves the emulator and its gateway behind otherwise). One instance is created in it;
// each test takes a database of its own. Used by tests and benchmarks.
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

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
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    if (posix_spawn(&pid_, gcloud, &actions, &attributes, argv.data(), environ) != 0) {
      error_ = "could not start gcloud";
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (pid_ > 0) WaitUntilReady();
  }

  ~SpannerEmulator() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGTERM);
    for (int i = 0; i < 50 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
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

  pid_t pid_ = -1;
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
