#pragma once
// libweft internals: the pool behind weft::ConcurrentTaskRunner, and what a submitted (or
// future-fed) call hands to the engine's next task run on its thread. Not installed.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sdk/core/state.hpp"
#include "sdk/flow/futures.hpp"

namespace weft::detail {

// A bounded pool: at most `max_workers` jobs run at once, in submission order. Threads are
// started on demand (a flow that never submits starts none) and joined by Shutdown().
class WorkerPool {
 public:
  explicit WorkerPool(int max_workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Enqueue(std::function<void()> job);
  void Shutdown();  // runs what is queued, then joins every thread
  int max_workers() const { return max_workers_; }

 private:
  void Loop();
  int max_workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool stopping_ = false;
};

// The default pool size: 4 x hardware threads, clamped to [4, 64].
int DefaultMaxWorkers();
// True on a WorkerPool's threads.
bool InPoolWorker();

// Given to the next task run started on this thread (read and cleared at its start).
struct CallContext {
  std::string id;           // reserved at Submit ("" = new)
  std::string dynamic_key;  // reserved at Submit
  std::string inputs_json;
  std::string upstream_failure;  // not empty: fail the run at once with this message
  std::shared_ptr<FutureCore> core;  // kept informed of the run's states
  std::optional<core::State> final_state;  // out: the run's final state
};
void SetNextCall(std::shared_ptr<CallContext> call);
// "" or why a call cannot run: the first upstream that did not complete and was not allowed
// to fail (every such upstream is marked handled: the downstream carries the failure).
std::string UpstreamProblem(const std::vector<Dep>& deps);
std::shared_ptr<CallContext> TakeNextCall();

}  // namespace weft::detail
