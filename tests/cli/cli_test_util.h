// Runs the real `bikestream` binary for end-to-end tests.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bikestream::e2e {

// A fresh directory under /tmp, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bikestream-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Sets (or, with nullopt, unsets) an environment variable for a scope; restores it after.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    Set(value);
  }
  ~ScopedEnv() { Set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void Set(const std::optional<std::string>& value) {
    if (value)
      setenv(name_.c_str(), value->c_str(), 1);
    else
      unsetenv(name_.c_str());
  }
  std::string name_;
  std::optional<std::string> old_;
};

// A child process running bikestream with stdout (and stderr) to files.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& stdout_path,
        const std::string& stdin_path = "/dev/null") {
    std::vector<std::string> argv = {BIKESTREAM_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const std::string stderr_path = stdout_path + ".err";
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, raw[0], &actions, nullptr, raw.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  // Never kill(-1, ...) when the spawn failed: that signals every process of this user.
  void Kill9() { Signal(SIGKILL); }
  void Signal(int signal) {
    if (pid_ > 0) kill(pid_, signal);
  }
  // Returns the exit code, or 128 + signal; -1 when it never started.
  int Wait() {
    if (pid_ <= 0) return -1;
    if (!reaped_) {
      int status = 0;
      waitpid(pid_, &status, 0);
      Reaped(status);
    }
    return exit_code_;
  }
  bool started() const { return pid_ > 0; }
  // Whether it is still running (not exited, not killed).
  bool Running() {
    if (reaped_ || pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == 0) return true;
    Reaped(status);
    return false;
  }

 private:
  void Reaped(int status) {
    reaped_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  pid_t pid_ = -1;
  int exit_code_ = -1;
  bool reaped_ = false;
};

// Polls `done` until it holds or `timeout` passes; returns whether it held.
inline bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The groups of the first match of `pattern` in the file at `path` (a child's stderr, as it says
// where it serves), waiting up to 20 s for one; empty when none came.
inline std::vector<std::string> WaitForMatch(const std::string& path, const std::string& pattern) {
  std::vector<std::string> groups;
  const std::regex expression(pattern);
  WaitUntil(
      [&] {
        const std::string text = ReadFile(path);
        std::smatch match;
        if (!std::regex_search(text, match, expression)) return false;
        for (const auto& group : match) groups.push_back(group.str());
        return true;
      },
      std::chrono::seconds(20));
  return groups;
}

// Runs bikestream to completion; returns its exit code and fills `out` with its stdout and
// `err` with its stderr.
inline int RunBikestream(const std::vector<std::string>& args, std::string* out = nullptr,
                         const std::string& stdin_path = "/dev/null", std::string* err = nullptr) {
  const std::string path =
      std::filesystem::temp_directory_path() / ("bikestream-out-" + std::to_string(getpid()));
  Child child(args, path, stdin_path);
  const int code = child.Wait();
  if (out) *out = ReadFile(path);
  if (err) *err = ReadFile(path + ".err");
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".err");
  return code;
}

}  // namespace bikestream::e2e
