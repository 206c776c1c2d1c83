// The bounded worker pool behind weft::ConcurrentTaskRunner, and the per-thread hand-over of
// a call's reserved identity and inputs to the engine.
#include "sdk/flow/task_runner.hpp"

#include <algorithm>

namespace weft::detail {

namespace {
thread_local std::shared_ptr<CallContext> tls_next_call;
thread_local bool tls_in_pool_worker = false;
}  // namespace

bool InPoolWorker() { return tls_in_pool_worker; }

void SetNextCall(std::shared_ptr<CallContext> call) { tls_next_call = std::move(call); }
std::shared_ptr<CallContext> TakeNextCall() { return std::exchange(tls_next_call, nullptr); }

int DefaultMaxWorkers() {
  int hw = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(4 * std::max(hw, 1), 4, 64);
}

WorkerPool::WorkerPool(int max_workers)
    : max_workers_(max_workers > 0 ? max_workers : DefaultMaxWorkers()) {}

WorkerPool::~WorkerPool() { Shutdown(); }

void WorkerPool::Enqueue(std::function<void()> job) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(job));
  // Every queued job needs a thread of its own while the pool is below its size.
  if (static_cast<int>(queue_.size()) > idle_ &&
      static_cast<int>(threads_.size()) < max_workers_) {
    threads_.emplace_back([this] { Loop(); });
  }
  cv_.notify_one();
}

void WorkerPool::Loop() {
  tls_in_pool_worker = true;
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty()) return;  // stopping
    auto job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

void WorkerPool::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

}  // namespace weft::detail
