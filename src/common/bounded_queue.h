// A bounded, closable multi-producer queue: the streaming runner's hand-over from its receivers
// to its committer, and the in-process broker's store (source/inproc_source.h).
//
// Push() blocks while the queue is full, so memory stays flat however many messages flow.
// PopBatch() hands the consumer everything waiting (up to a limit) under one lock. Close()
// lets the consumer drain what is left and then see the end. Thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/mutex.h"

namespace bikestream {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

  // Returns false once the queue is closed, leaving `item` as it was (the caller still owns
  // it, e.g. to hand it back).
  bool Push(T&& item) {
    MutexLock lock(&mutex_);
    while (!closed_ && items_.size() >= capacity_) Wait(not_full_, &mutex_);
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.Signal();
    return true;
  }

  // Waits up to `timeout` for at least one item and moves up to `max_items` into `out`
  // (cleared first); `out` stays empty on a timeout. Returns false when the queue is closed
  // and empty.
  template <typename Duration>
  bool PopBatch(std::vector<T>& out, std::size_t max_items, Duration timeout) {
    out.clear();
    const absl::Time deadline = absl::Now() + absl::FromChrono(timeout);
    MutexLock lock(&mutex_);
    while (!closed_ && items_.empty()) {
      if (WaitWithDeadline(not_empty_, &mutex_, deadline)) break;
    }
    if (closed_ && items_.empty()) return false;
    while (!items_.empty() && out.size() < max_items) {
      out.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.SignalAll();
    return true;
  }

  void Close() {
    MutexLock lock(&mutex_);
    closed_ = true;
    not_empty_.SignalAll();
    not_full_.SignalAll();
  }

 private:
  const std::size_t capacity_;
  absl::Mutex mutex_;
  absl::CondVar not_full_;
  absl::CondVar not_empty_;
  std::deque<T> items_ ABSL_GUARDED_BY(mutex_);
  bool closed_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace bikestream
