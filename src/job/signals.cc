#include "job/signals.h"

#include <unistd.h>

#include <csignal>

#include "common/clock.h"

namespace bikestream {
namespace {

constexpr int kExitInterrupted = 130;  // As a shell reports a job ended by SIGINT.

std::atomic<bool> stop_requested = false;
std::atomic<int> interrupts = 0;
std::atomic<JobControl*> job_control = nullptr;

void OnStopSignal(int signal) {
  if (signal == SIGINT && interrupts.fetch_add(1) >= 1) _exit(kExitInterrupted);
  stop_requested = true;
}

void OnJobSignal(int signal) {
  JobControl* control = job_control.load();
  if (signal == SIGTERM) {
    control->RequestDrain();
    return;
  }
  if (interrupts.fetch_add(1) >= 1) _exit(kExitInterrupted);
  control->RequestCancel();
}

void Install(void (*handler)(int)) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace

const std::atomic<bool>& InstallStopHandlers() {
  Install(OnStopSignal);
  return stop_requested;
}

void WaitForStopSignal() {
  const std::atomic<bool>& stop = InstallStopHandlers();
  while (!stop) SystemClock().SleepFor(kMicrosPerSecond / 5, [&stop] { return stop.load(); });
}

void InstallJobSignalHandlers(JobControl* control) {
  job_control = control;
  Install(OnJobSignal);
}

}  // namespace bikestream
