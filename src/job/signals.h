// How a person stops a job from the terminal. Process-wide: one handler set at a time.
#pragma once

#include <atomic>

#include "job/job_control.h"

namespace bikestream {

// For a job that finishes what it started: SIGINT and SIGTERM set the returned flag; a second
// SIGINT exits at once with status 130.
const std::atomic<bool>& InstallStopHandlers();

// For a server that runs on threads of its own (the console, `serve`): installs the stop
// handlers and returns once Ctrl-C or SIGTERM came.
void WaitForStopSignal();

// For streaming jobs, as Dataflow's: SIGTERM drains `control`, SIGINT cancels it, and a second
// SIGINT exits at once with status 130. `control` must outlive the process's signal handling.
void InstallJobSignalHandlers(JobControl* control);

}  // namespace bikestream
