#include "console/warehouse_gate.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/mutex.h"

namespace bikestream {
namespace {

ApiReply NotAnswered(const std::string& why) {
  return ApiReply{503, nlohmann::json({{"error", why}})
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

// The error a 503 carried, for the requests that follow it.
std::string ErrorOf(const ApiReply& reply) {
  const nlohmann::json body =
      nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) return body["error"];
  return "the warehouse cannot be reached";
}

}  // namespace

WarehouseGate::WarehouseGate(WarehouseGateOptions options)
    : options_(options), worker_([this] { Work(); }) {}

WarehouseGate::~WarehouseGate() {
  {
    MutexLock lock(&mutex_);
    stopping_ = true;
    queued_.SignalAll();
  }
  worker_.join();
}

std::optional<ApiReply> WarehouseGate::Closed() {
  if (!closed_since_) return std::nullopt;
  const Steady::time_point now = Steady::now();
  if (now >= next_probe_ && !calling_) {  // This request tries the warehouse again.
    next_probe_ = now + options_.probe_every;
    return std::nullopt;
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now - *closed_since_).count();
  return NotAnswered(
      fmt::format("the warehouse has not answered for {} s (tried again every {:g} s): {}", seconds,
                  std::chrono::duration<double>(options_.probe_every).count(), why_closed_));
}

void WarehouseGate::Learn(const ApiReply& reply) {
  MutexLock lock(&mutex_);
  if (reply.status != 503) {
    closed_since_.reset();
    return;
  }
  if (!closed_since_) {
    closed_since_ = Steady::now();
    next_probe_ = *closed_since_ + options_.probe_every;
  }
  why_closed_ = ErrorOf(reply);
}

ApiReply WarehouseGate::Run(std::function<ApiReply()> run, std::chrono::milliseconds within) {
  auto call = std::make_shared<Call>();
  call->run = std::move(run);
  std::future<ApiReply> answer = call->answer.get_future();
  {
    MutexLock lock(&mutex_);
    if (auto closed = Closed()) return *closed;
    calls_.push_back(call);
    queued_.Signal();
  }
  if (answer.wait_for(within) == std::future_status::ready) return answer.get();  // Learnt from.
  {
    MutexLock lock(&mutex_);
    call->abandoned = true;  // Never started, it never will; started, its answer is dropped.
  }
  ApiReply late =
      NotAnswered(fmt::format("the warehouse has not answered within {:g} s (is it reachable?)",
                              std::chrono::duration<double>(within).count()));
  Learn(late);
  return late;
}

void WarehouseGate::Work() {
  for (;;) {
    std::shared_ptr<Call> call;
    {
      MutexLock lock(&mutex_);
      while (calls_.empty() && !stopping_) Wait(queued_, &mutex_);
      if (calls_.empty()) return;
      call = std::move(calls_.front());
      calls_.pop_front();
      if (call->abandoned) continue;
      calling_ = true;
    }
    ApiReply reply = call->run();
    // Also from an answer nobody waits for any more: a slow read that answers opens the gate
    // its lateness closed.
    Learn(reply);
    MutexLock lock(&mutex_);
    calling_ = false;
    call->answer.set_value(std::move(reply));
  }
}

}  // namespace bikestream
