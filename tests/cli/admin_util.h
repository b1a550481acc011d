// Talking to a job's admin endpoint (`--admin HOST:PORT`) from a test.
#pragma once

#include <httplib.h>

#include <chrono>
#include <thread>

namespace bikestream::e2e {

// Asks the job at 127.0.0.1:`port` to run now (POST /run), trying every 0.1 s for up to 10 s
// while it starts; the answer's HTTP status, 0 when it never answered.
inline int TriggerRun(int port) {
  httplib::Client admin("127.0.0.1", port);
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (auto answer = admin.Post("/run", {{"X-Bikestream-Admin", "1"}}, "", "text/plain")) {
      return answer->status;
    }
  }
  return 0;
}

}  // namespace bikestream::e2e
