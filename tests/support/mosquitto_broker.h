// Debian's mosquitto broker for a test, on a free loopback port, configured as docs/mqtt.md
// asks (no limit on the messages queued for a session). Where it is missing the tests that need
// it skip, saying so in one line, unless CI=true, where they fail.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/pubsub_emulator_process.h"  // FreeLoopbackPort, InCi.

namespace bikestream::testing_support {

struct MosquittoOptions {
  // With a username, the broker takes only that user with that password.
  std::string username;
  std::string password;
  // TLS only, with a self-signed certificate for 127.0.0.1 (ca_file()).
  bool tls = false;
  int max_qos = 2;  // The highest QoS the broker grants.
};

class MosquittoBroker {
 public:
  static constexpr const char* kBinary = "/usr/sbin/mosquitto";

  explicit MosquittoBroker(MosquittoOptions options = {}) : options_(std::move(options)) {
    if (!std::filesystem::exists(kBinary)) {
      error_ =
          "the MQTT broker is not installed (no /usr/sbin/mosquitto; apt-get install mosquitto)";
      return;
    }
    port_ = FreeLoopbackPort();
    dir_ = std::filesystem::temp_directory_path() / fmt::format("mosquitto-{}-{}", getpid(), port_);
    std::filesystem::create_directories(dir_);
    WriteConfig();
    Start();
  }

  ~MosquittoBroker() {
    Stop();
    std::filesystem::remove_all(dir_);
  }
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  bool ready() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string Url(const std::string& topic) const {
    return fmt::format("{}://127.0.0.1:{}/{}", options_.tls ? "mqtts" : "mqtt", port_, topic);
  }
  std::string ca_file() const { return (dir_ / "broker.crt").string(); }
  std::filesystem::path log() const { return dir_ / "mosquitto.log"; }

  // Stops the broker (it saves its sessions and their messages), calls `while_down`, and starts
  // it again on the same port, as an operator's restart does.
  void Restart(const std::function<void()>& while_down = [] {}) {
    Stop();
    while_down();
    Start();
  }

 private:
  void WriteConfig() {
    std::ofstream config(dir_ / "mosquitto.conf");
    config << "listener " << port_ << " 127.0.0.1\n"
           << "max_queued_messages 0\n"  // docs/mqtt.md: the default, 1000, drops the rest.
           << "set_tcp_nodelay true\n"   // docs/mqtt.md: PUBACKs without Nagle's 40 ms.
           << "persistence true\npersistence_location " << dir_.string() << "/\n"
           << "user root\n"  // Stay the test's user: the broker drops to "mosquitto" otherwise.
           << "log_dest file " << log().string() << "\n"
           << "max_qos " << options_.max_qos << "\n";
    if (options_.tls) {
      const std::string key = (dir_ / "broker.key").string();
      const std::string command = fmt::format(
          "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "
          "subjectAltName=IP:127.0.0.1 "
          "-keyout '{}' -out '{}' 2>/dev/null",
          key, ca_file());
      if (std::system(command.c_str()) != 0) error_ = "openssl could not make a certificate";
      config << "cafile " << ca_file() << "\ncertfile " << ca_file() << "\nkeyfile " << key << "\n";
    }
    if (options_.username.empty()) {
      config << "allow_anonymous true\n";
      return;
    }
    const auto passwords = dir_ / "passwords";
    const std::string command =
        fmt::format("/usr/bin/mosquitto_passwd -b -c '{}' '{}' '{}'", passwords.string(),
                    options_.username, options_.password);
    if (std::system(command.c_str()) != 0) error_ = "mosquitto_passwd failed";
    config << "allow_anonymous false\npassword_file " << passwords.string() << "\n";
  }

  void Start() {
    const std::string config = (dir_ / "mosquitto.conf").string();
    std::vector<std::string> args = {kBinary, "-c", config};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    // Its own complaints (running as root) go to its log, not the test's output.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string output = (dir_ / "mosquitto.out").string();
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    const bool spawned = posix_spawn(&pid_, kBinary, &actions, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
    if (!spawned) {
      error_ = "could not start mosquitto";
      pid_ = -1;
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Accepts()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    error_ = fmt::format("mosquitto did not listen on port {} within 10 s (see {})", port_,
                         log().string());
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  bool Accepts() const {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(std::uint16_t(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    return connected;
  }

  MosquittoOptions options_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::filesystem::path dir_;
  std::string error_;
};

// At the top of a test: skips (or fails in CI) when `broker` cannot run here.
#define REQUIRE_MOSQUITTO(broker)                                            \
  do {                                                                       \
    if (!(broker).ready()) {                                                 \
      if (::bikestream::testing_support::InCi()) FAIL() << (broker).error(); \
      GTEST_SKIP() << "skipped: " << (broker).error();                       \
    }                                                                        \
  } while (0)

}  // namespace bikestream::testing_support
