// While the warehouse cannot be reached, the console answers 503 at once instead of holding
// each request for the engine's retries (a minute for PostgreSQL) with the others queued behind.
#include "console/warehouse_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

namespace bikestream {
namespace {

using std::chrono::milliseconds;

ApiReply Ok() { return {200, R"({"ok":true})"}; }
ApiReply Unreachable() {
  return {503, R"({"error":"PostgreSQL at db:5432 refused the connection"})"};
}

TEST(WarehouseGate, AnswersWhatTheCallAnswers) {
  WarehouseGate gate;
  const ApiReply reply = gate.Run(Ok, milliseconds(1000));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, R"({"ok":true})");
}

// A call that hangs answers 503 when its bound runs out; the requests after it answer 503 at
// once, not after waiting behind it.
TEST(WarehouseGate, AHangingCallIsAnswered503AndTheOthersDoNotQueueBehindIt) {
  WarehouseGate gate;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  const ApiReply late = gate.Run(
      [released] {
        released.wait();
        return Ok();
      },
      milliseconds(200));
  EXPECT_EQ(late.status, 503);
  EXPECT_NE(late.body.find("has not answered within 0.2 s"), std::string::npos) << late.body;
  std::atomic<int> calls{0};
  const ApiReply next = gate.Run(
      [&] {
        ++calls;
        return Ok();
      },
      milliseconds(60'000));
  EXPECT_EQ(next.status, 503);
  EXPECT_NE(next.body.find("the warehouse has not answered for 0 s"), std::string::npos)
      << next.body;
  release.set_value();
  EXPECT_EQ(calls, 0);
}

// Closed by an unreachable warehouse, the gate lets one request a probe interval try again, and
// opens when it answers.
TEST(WarehouseGate, WhileClosedOneRequestAProbeIntervalTriesAgain) {
  WarehouseGate gate({.probe_every = milliseconds(100)});
  std::atomic<int> calls{0};
  std::atomic<bool> reachable{false};
  const auto read = [&] {
    ++calls;
    return reachable ? Ok() : Unreachable();
  };
  EXPECT_EQ(gate.Run(read, milliseconds(1000)).status, 503);
  EXPECT_EQ(calls, 1);
  const ApiReply closed = gate.Run(read, milliseconds(1000));
  EXPECT_EQ(closed.status, 503);
  EXPECT_NE(closed.body.find("PostgreSQL at db:5432 refused the connection"), std::string::npos)
      << closed.body;
  EXPECT_EQ(calls, 1);  // Answered without calling.
  std::this_thread::sleep_for(milliseconds(150));
  reachable = true;
  EXPECT_EQ(gate.Run(read, milliseconds(1000)).status, 200);  // The probe.
  EXPECT_EQ(gate.Run(read, milliseconds(1000)).status, 200);
  EXPECT_EQ(calls, 3);
}

// A read that is slow, not lost: its lateness closes the gate, its answer opens it again.
TEST(WarehouseGate, ALateAnswerOpensTheGateItsLatenessClosed) {
  WarehouseGate gate({.probe_every = milliseconds(60'000)});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> answered{false};
  EXPECT_EQ(gate.Run(
                    [&, released] {
                      released.wait();
                      answered = true;
                      return Ok();
                    },
                    milliseconds(100))
                .status,
            503);
  EXPECT_EQ(gate.Run(Ok, milliseconds(1000)).status, 503);  // Closed, with no probe due.
  release.set_value();
  for (int i = 0; i < 100 && !answered; ++i) std::this_thread::sleep_for(milliseconds(10));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(gate.Run(Ok, milliseconds(1000)).status, 200);
}

}  // namespace
}  // namespace bikestream
