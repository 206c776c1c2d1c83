#pragma once
// Futures, task runners and conditional failure logic. Included by sdk/flow/weft.hpp (after
// its contexts and errors); include weft.hpp, not this file. docs/task-runners.md and
// docs/failure-handling.md describe the contract.
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "sdk/core/state.hpp"

namespace weft {

class TaskContext;
class FlowContext;

// ------------------------------------------------------------------ states as values

// A task or flow body may return a state; it becomes the run's final state:
//   return weft::Failed("3 bad rows");       the run ends Failed (retries apply, like a throw)
//   return weft::Completed("nothing to do");  Completed with a message
core::State Completed(std::string message = {});
core::State Failed(std::string message, std::string details_json = {});
core::State Cancelled(std::string message = {});

// A value and a state: `return weft::WithState{rows, weft::Completed("2 rows skipped")};`
// The call (or Future::Result) returns the whole WithState; a Failed state throws instead.
template <typename T>
struct WithState {
  T value;
  core::State state;
};

// ------------------------------------------------------------------ runners

// Submit hands runs to a bounded pool: at most max_workers task runs execute at once.
// 0 = 4 x the hardware threads, at least 4 and at most 64 (tasks mostly wait on I/O).
struct ConcurrentTaskRunner {
  int max_workers = 0;
};
// Submit runs the task at once, in the caller's thread, in order.
struct SequentialTaskRunner {};
using TaskRunner = std::variant<ConcurrentTaskRunner, SequentialTaskRunner>;

// ------------------------------------------------------------------ futures

namespace detail {

// What a Future shares with the engine: the run's identity, its latest state, the outcome.
class FutureCore {
 public:
  FutureCore() = default;
  FutureCore(const FutureCore&) = delete;
  FutureCore& operator=(const FutureCore&) = delete;
  virtual ~FutureCore() = default;

  std::string task_run_id() const;
  std::string task_run_name() const;
  void SetIdentity(std::string id, std::string name);

  core::State Wait() const;     // blocks until the run is final
  core::State Current() const;  // Pending before it starts
  bool done() const;
  // Failed, TimedOut or Crashed (or it never produced a value: Cancelled).
  bool failed() const;
  std::exception_ptr error() const;  // the call's exception (after done)

  void SetState(const core::State& state);
  void Finish(core::State final_state, std::exception_ptr error);
  // Runs `fn` when the run is final (at once when it already is), on the finishing thread.
  void OnDone(std::function<void()> fn);

  // A failure the flow dealt with: Result() threw it to the flow, allow_failure() passed it
  // on, or a downstream run failed because of it. Unhandled failures fail the flow.
  void MarkHandled() { handled_ = true; }
  bool handled() const { return handled_; }

  // A queued run not yet taken by a worker. A pool worker that waits for this future takes
  // it and runs it itself (instead of holding its thread while the run waits in the queue
  // behind it), so tasks that submit and wait inside the pool can never starve it.
  struct PendingJob {
    std::atomic<bool> claimed{false};
    std::function<void()> fn;
    // Runs fn unless someone already has; true when this call ran it.
    bool TryRun() {
      if (claimed.exchange(true)) return false;
      fn();
      return true;
    }
  };
  void SetPendingJob(std::shared_ptr<PendingJob> job);

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::string id_;
  std::string name_;
  std::optional<core::State> state_;
  bool done_ = false;
  std::exception_ptr error_;
  std::vector<std::function<void()>> on_done_;
  std::atomic<bool> handled_{false};
  std::shared_ptr<PendingJob> pending_;  // until Finish
};

template <typename R>
struct FutureValue : FutureCore {
  std::optional<R> value;
};
template <>
struct FutureValue<void> : FutureCore {};

// An upstream run a call depends on: as an argument (arg >= 0) or through wait_for (-1).
struct Dep {
  std::shared_ptr<FutureCore> core;
  bool allow_failure = false;
  int arg = -1;
};

}  // namespace detail

// The run of a submitted task. Copyable; copies share the run.
template <typename R>
class Future {
 public:
  Future() = default;
  explicit Future(std::shared_ptr<detail::FutureValue<R>> v) : v_(std::move(v)) {}

  // Blocks until the run is final; returns its value (a copy), or throws TaskRunFailed (or
  // the call's own error) when it did not complete. A thrown failure counts as handled.
  R Result() const {
    v_->Wait();
    if (std::exception_ptr e = v_->error()) {
      v_->MarkHandled();
      std::rethrow_exception(e);
    }
    if constexpr (!std::is_void_v<R>) return *v_->value;
  }
  // Blocks until the run is final and returns its final state (never throws for a failure;
  // the failure still counts against the flow unless handled: see allow_failure).
  core::State Wait() const { return v_->Wait(); }
  // The run's latest state, without blocking.
  core::State State() const { return v_->Current(); }
  bool done() const { return v_->done(); }
  std::string task_run_id() const { return v_->task_run_id(); }
  std::string task_run_name() const { return v_->task_run_name(); }

  const std::shared_ptr<detail::FutureValue<R>>& core() const { return v_; }

 private:
  std::shared_ptr<detail::FutureValue<R>> v_;
};

// What a downstream task receives for an argument passed through weft::allow_failure: the
// upstream's final state and, when it completed, its value.
template <typename T>
class Outcome {
 public:
  Outcome(core::State state, std::optional<T> value, std::exception_ptr error,
          std::string task_run_name)
      : state_(std::move(state)),
        value_(std::move(value)),
        error_(std::move(error)),
        task_run_name_(std::move(task_run_name)) {}
  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const core::State& state() const { return state_; }
  const std::string& task_run_name() const { return task_run_name_; }
  // The upstream's value; rethrows its failure (TaskRunFailed) when it did not complete.
  const T& value() const {
    if (!value_) std::rethrow_exception(error_);
    return *value_;
  }
  const T* operator->() const { return &value(); }
  const T& operator*() const { return value(); }

 private:
  core::State state_;
  std::optional<T> value_;
  std::exception_ptr error_;
  std::string task_run_name_;
};

// Marks a future whose failure is allowed: passed to a task, the task runs even when the
// upstream failed and receives a weft::Outcome<T>; the failure does not fail the flow.
// Called on its own (`weft::allow_failure(f);`) it only says "this failure is fine".
template <typename T>
struct AllowFailure {
  Future<T> future;
};
template <typename T>
AllowFailure<T> allow_failure(const Future<T>& f) {
  f.core()->MarkHandled();
  return AllowFailure<T>{f};
}

// allow_failure over a vector of futures: each one allowed.
template <typename T>
std::vector<AllowFailure<T>> allow_failure(const std::vector<Future<T>>& fs) {
  std::vector<AllowFailure<T>> out;
  out.reserve(fs.size());
  for (const auto& f : fs) out.push_back(allow_failure(f));
  return out;
}

// Dependencies without data: `task.Submit(weft::wait_for(a, b), x)` starts after the runs
// of a and b end. Takes futures, allow_failure(...) and vectors of futures (Map's result).
class WaitFor {
 public:
  WaitFor() = default;
  template <typename... Fs>
  explicit WaitFor(const Fs&... fs) {
    (Add(fs), ...);
  }
  const std::vector<detail::Dep>& deps() const { return deps_; }

 private:
  template <typename T>
  void Add(const Future<T>& f) {
    deps_.push_back(detail::Dep{f.core(), false, -1});
  }
  template <typename T>
  void Add(const AllowFailure<T>& f) {
    deps_.push_back(detail::Dep{f.future.core(), true, -1});
  }
  template <typename T>
  void Add(const std::vector<T>& v) {
    for (const auto& f : v) Add(f);
  }
  std::vector<detail::Dep> deps_;
};
template <typename... Fs>
WaitFor wait_for(const Fs&... fs) {
  return WaitFor(fs...);
}

namespace detail {

// How each argument of a task call is stored and resolved: futures become their values,
// allow_failure(...) an Outcome; anything else passes unchanged.
template <typename A>
struct ArgTraits {
  static constexpr bool kFuture = false;
  using Passed = A;
  static void AddDeps(const A&, int, std::vector<Dep>&) {}
  static const A& Resolve(const A& a) { return a; }
};
template <typename T>
struct ArgTraits<Future<T>> {
  static_assert(!std::is_void_v<T>, "a Future<void> has no value: pass it with weft::wait_for");
  static constexpr bool kFuture = true;
  using Passed = T;
  static void AddDeps(const Future<T>& f, int i, std::vector<Dep>& d) {
    d.push_back(Dep{f.core(), false, i});
  }
  static T Resolve(const Future<T>& f) { return *f.core()->value; }
};
template <typename T>
struct ArgTraits<AllowFailure<T>> {
  static constexpr bool kFuture = true;
  using Passed = Outcome<T>;
  static void AddDeps(const AllowFailure<T>& f, int i, std::vector<Dep>& d) {
    d.push_back(Dep{f.future.core(), true, i});
  }
  static Outcome<T> Resolve(const AllowFailure<T>& f) {
    const auto& c = f.future.core();
    std::optional<T> value;
    if (!c->error() && c->value) value = *c->value;
    return Outcome<T>(c->Current(), std::move(value), c->error(), c->task_run_name());
  }
};

// A vector of futures (Map's result) fans in: the task receives a vector of values (or of
// Outcomes, for a vector of allow_failure(...)).
template <typename T>
struct ArgTraits<std::vector<Future<T>>> {
  static constexpr bool kFuture = true;
  using Passed = std::vector<T>;
  static void AddDeps(const std::vector<Future<T>>& v, int i, std::vector<Dep>& d) {
    for (const auto& f : v) ArgTraits<Future<T>>::AddDeps(f, i, d);
  }
  static std::vector<T> Resolve(const std::vector<Future<T>>& v) {
    std::vector<T> out;
    out.reserve(v.size());
    for (const auto& f : v) out.push_back(ArgTraits<Future<T>>::Resolve(f));
    return out;
  }
};
template <typename T>
struct ArgTraits<std::vector<AllowFailure<T>>> {
  static constexpr bool kFuture = true;
  using Passed = std::vector<Outcome<T>>;
  static void AddDeps(const std::vector<AllowFailure<T>>& v, int i, std::vector<Dep>& d) {
    for (const auto& f : v) ArgTraits<AllowFailure<T>>::AddDeps(f, i, d);
  }
  static std::vector<Outcome<T>> Resolve(const std::vector<AllowFailure<T>>& v) {
    std::vector<Outcome<T>> out;
    out.reserve(v.size());
    for (const auto& f : v) out.push_back(ArgTraits<AllowFailure<T>>::Resolve(f));
    return out;
  }
};
template <typename... Args>
inline constexpr bool kAnyFutureArg = (ArgTraits<std::decay_t<Args>>::kFuture || ...);

template <typename... Args>
std::vector<Dep> CollectDeps(const WaitFor& w, const Args&... args) {
  std::vector<Dep> deps = w.deps();
  int i = 0;
  (ArgTraits<Args>::AddDeps(args, i++, deps), ...);
  return deps;
}

// {"args":[{"task_run_id":"...","arg":0}],"wait_for":[{"task_run_id":"..."}]}; "" when none.
std::string TaskInputsJson(const std::vector<Dep>& deps);
// Blocks until every dependency is final; returns "" or why the call cannot run (an upstream
// failed and was not allowed to). Upstream failures passed on this way count as handled.
std::string AwaitDeps(const std::vector<Dep>& deps);
// The next task run this thread starts records these inputs (and fails at once, without
// running the body, when `upstream_failure` is not empty).
void PrepareNextCall(std::string inputs_json, std::string upstream_failure);

// Hands a submitted call to the current flow run's task runner. `job` runs the call (in a
// thread with the flow's context) and returns its exception, if any; the engine reserves the
// run's identity at once and finishes `core` when the run is final.
using SubmitJob = std::function<std::exception_ptr()>;
struct TaskDef;
void SubmitTaskCall(const std::shared_ptr<const TaskDef>& def,
                    const std::shared_ptr<FutureCore>& core, std::vector<Dep> deps,
                    SubmitJob job);

// A returned state (weft::Failed(...), WithState) reaches the engine through the context.
void ReturnState(TaskContext& ctx, const core::State& state);
void ReturnFlowState(FlowContext& ctx, const core::State& state);

}  // namespace detail
}  // namespace weft
