// Shared by the benchmarks: failing loudly, timing, medians, and a child process whose peak
// memory is watched while it runs.
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace bikestream::bench {

// Stops the benchmark with `what` unless `ok`: a figure from a failed step means nothing.
inline void Must(bool ok, const std::string& what) {
  if (!ok) {
    fmt::print(stderr, "bench: {}\n", what);
    std::exit(1);
  }
}

inline double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The value below which `share` (0.99 for p99) of `values` lie.
inline double Percentile(std::vector<double> values, double share) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, std::size_t(share * double(values.size())))];
}

// Runs `args` (args[0] is the program) with stdout to `stdout_path`, sampling VmHWM every
// 20 ms. VmHWM belongs to the address space made at exec, unlike ru_maxrss, which also counts
// the spawning process's pages; as a high-water mark, sampling misses no peak but one in the
// last interval before exit.
class WatchedProcess {
 public:
  explicit WatchedProcess(std::vector<std::string> args,
                          const std::string& stdout_path = "/dev/null") {
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    sampler_ = std::thread([this] { Sample(); });
  }
  ~WatchedProcess() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }

  bool started() const { return pid_ > 0; }
  void Signal(int signal) { kill(pid_, signal); }

  // Waits for exit; returns the exit code, or 128 + the signal.
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    if (sampler_.joinable()) sampler_.join();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  double PeakMiB() const { return peak_kib_.load() / 1024.0; }

 private:
  void Sample() {
    const std::string path = "/proc/" + std::to_string(pid_) + "/status";
    while (!exited_) {
      std::ifstream status(path);
      for (std::string line; std::getline(status, line);) {
        if (line.starts_with("VmHWM:")) {
          long kib = std::stol(line.substr(6));
          long peak = peak_kib_.load();
          while (kib > peak && !peak_kib_.compare_exchange_weak(peak, kib)) {
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  pid_t pid_ = -1;
  std::atomic<bool> exited_ = false;
  std::atomic<long> peak_kib_ = 0;
  std::thread sampler_;
};

}  // namespace bikestream::bench
