// The in-process broker: a bounded, closable multi-producer queue between simulate and ingest.
//
// Push() blocks while the queue is full, so memory stays flat however many messages flow.
// PopBatch() hands the consumer everything waiting (up to a limit) under one lock. Close()
// lets the consumer drain what is left and then see the end. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

namespace bikestream {

template <typename T>
class InprocQueue {
 public:
  explicit InprocQueue(std::size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

  // Returns false, without enqueuing, once the queue is closed.
  bool Push(T item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Waits up to `timeout` for at least one item and moves up to `max_items` into `out`
  // (cleared first); `out` stays empty on a timeout. Returns false when the queue is closed
  // and empty.
  template <typename Duration>
  bool PopBatch(std::vector<T>& out, std::size_t max_items, Duration timeout) {
    out.clear();
    std::unique_lock lock(mutex_);
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    if (closed_ && items_.empty()) return false;
    while (!items_.empty() && out.size() < max_items) {
      out.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.notify_all();
    return true;
  }

  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace bikestream
