#pragma once
// libweft: write flows and tasks in C++.
//
//   #include "sdk/flow/weft.hpp"
//
//   auto say_hello = weft::task("say_hello", [](const std::string& name) {
//     return "Hello, " + name + "!";
//   });
//   auto hello = weft::flow("hello", [](weft::FlowContext& ctx) {
//     ctx.logger().info("{}", say_hello(ctx.params().String("name")));
//   }, weft::FlowOptions{.params = {weft::Param::String("name").Default("world")}});
//   int main(int argc, char** argv) { return weft::Main(argc, argv, hello); }
//
// Calling a task inside a flow creates a task run, orchestrates its states in the flow
// process (Pending -> Running -> Completed, or Failed -> AwaitingRetry -> Retrying -> ...),
// reports them to the server in the background and returns the callable's value, or throws
// weft::TaskRunFailed when the run ends Failed. sdk/README.md documents the whole contract.
//
// This header is light on purpose: no gRPC, no JSON library, no spdlog.
#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "sdk/core/deployment_spec.hpp"
#include "sdk/core/params.hpp"
#include "sdk/core/retry.hpp"
#include "sdk/core/schedule.hpp"
#include "sdk/core/state.hpp"
#include "sdk/flow/futures.hpp"
#include "sdk/flow/result_codec.hpp"

namespace weft {

class Flow;
class TaskContext;
class FlowContext;
namespace detail {
class Engine;
struct TaskDef;
}  // namespace detail

// ------------------------------------------------------------------ logging

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kOff = 4 };

// The console level (default: info, or WEFT_LOG_LEVEL=debug|info|warning|error|off).
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
bool LogEnabled(LogLevel level);

// A run logger: lines carry the run they belong to, Prefect style:
//   04:12:01.123 | INFO    | Task run 'flaky-0' - Finished in state Completed()
class Logger {
 public:
  explicit Logger(std::string prefix = "weft") : prefix_(std::move(prefix)) {}
  // A run's logger: when the run is on a server, its lines are also shipped there (in
  // batches, from a background thread) with these ids.
  Logger(std::string prefix, std::string flow_run_id, std::string task_run_id,
         std::string task_run_name)
      : prefix_(std::move(prefix)),
        flow_run_id_(std::move(flow_run_id)),
        task_run_id_(std::move(task_run_id)),
        task_run_name_(std::move(task_run_name)) {}
  const std::string& prefix() const { return prefix_; }

  void Write(LogLevel level, std::string_view message) const;

  template <typename... A>
  void debug(fmt::format_string<A...> f, A&&... a) const {
    Emit(LogLevel::kDebug, f, std::forward<A>(a)...);
  }
  template <typename... A>
  void info(fmt::format_string<A...> f, A&&... a) const {
    Emit(LogLevel::kInfo, f, std::forward<A>(a)...);
  }
  template <typename... A>
  void warning(fmt::format_string<A...> f, A&&... a) const {
    Emit(LogLevel::kWarning, f, std::forward<A>(a)...);
  }
  template <typename... A>
  void error(fmt::format_string<A...> f, A&&... a) const {
    Emit(LogLevel::kError, f, std::forward<A>(a)...);
  }

 private:
  template <typename... A>
  void Emit(LogLevel level, fmt::format_string<A...> f, A&&... a) const {
    if (LogEnabled(level)) Write(level, fmt::format(f, std::forward<A>(a)...));
  }
  std::string prefix_;
  std::string flow_run_id_;  // "" = console only
  std::string task_run_id_;
  std::string task_run_name_;
};

namespace log {
// The logger of the run this thread is in (the task run's inside a task, else the flow run's).
const Logger& Current();
template <typename... A>
void debug(fmt::format_string<A...> f, A&&... a) {
  Current().debug(f, std::forward<A>(a)...);
}
template <typename... A>
void info(fmt::format_string<A...> f, A&&... a) {
  Current().info(f, std::forward<A>(a)...);
}
template <typename... A>
void warning(fmt::format_string<A...> f, A&&... a) {
  Current().warning(f, std::forward<A>(a)...);
}
template <typename... A>
void error(fmt::format_string<A...> f, A&&... a) {
  Current().error(f, std::forward<A>(a)...);
}
}  // namespace log

// ------------------------------------------------------------------ options

// How long to wait before each retry:
//   .retry_delays = 0.2                       fixed
//   .retry_delays = {1, 10, 60}               one per retry (the last repeats)
//   .retry_delays = weft::RetryDelays::Exponential(1.0, 0.2)   1s, 2s, 4s, ... +-20% jitter
class RetryDelays {
 public:
  RetryDelays() = default;
  RetryDelays(double seconds) : delays_{seconds} {}                         // NOLINT
  RetryDelays(std::initializer_list<double> seconds) : delays_(seconds) {}  // NOLINT
  explicit RetryDelays(std::vector<double> seconds) : delays_(std::move(seconds)) {}
  static RetryDelays Exponential(double base_seconds, double jitter = 0.2, double max_seconds = 0);

  // The policy for `retries` retries with these delays.
  core::RetryPolicy ToPolicy(int retries) const;

 private:
  std::vector<double> delays_;
  double exponential_base_ = 0;
  double jitter_ = 0;
  double max_seconds_ = 0;
};

// Options of a task (designated initializers in this order).
struct TaskOptions {
  int retries = 0;
  RetryDelays retry_delays{};
  double timeout_seconds = 0;  // > 0: the call runs on its own thread; late runs become TimedOut
  std::vector<std::string> tags{};
  std::optional<core::RetryPolicy> retry_policy{};  // full control; overrides retries/retry_delays
  // Run in the flow process after the run ends Completed / Failed (TimedOut, Crashed, an
  // upstream failure included), in the thread that ran it. A throwing hook is logged only.
  std::function<void(const TaskContext&, const core::State&)> on_completion{};
  std::function<void(const TaskContext&, const core::State&)> on_failure{};
  // Caching (needs a server; docs/caching.md): the key of a call, from its inputs (e.g.
  // weft::task_input_hash; "" = do not cache this call). A stored result for the key that has
  // not expired is returned without running the task, and the run ends Cached. The result
  // (and, for the key, the arguments) must convert to JSON: include sdk/flow/json.hpp.
  std::function<std::string(const CacheKeyInputs&)> cache_key_fn{};
  double cache_expiration_seconds = 0;  // 0 = a cached result never expires
  bool persist_result = false;          // store the result on the server even without a key
};

// A declared flow parameter:
//   weft::Param::Int("months").Default(2).Describe("number of training months")
//   weft::Param::String("csv").Optional()          absent unless given
//   weft::Param::Double("rate")                     required: no default
class Param {
 public:
  static Param Int(std::string name) { return Param(std::move(name), core::ParamType::kInt); }
  static Param Double(std::string name) { return Param(std::move(name), core::ParamType::kDouble); }
  static Param Bool(std::string name) { return Param(std::move(name), core::ParamType::kBool); }
  static Param String(std::string name) { return Param(std::move(name), core::ParamType::kString); }

  Param& Default(std::int64_t v) {
    spec_.default_value = core::ParamValue{v};
    return *this;
  }
  Param& Default(int v) { return Default(static_cast<std::int64_t>(v)); }
  Param& Default(double v) {
    spec_.default_value = core::ParamValue{v};
    return *this;
  }
  Param& Default(bool v) {
    spec_.default_value = core::ParamValue{v};
    return *this;
  }
  Param& Default(std::string v) {
    spec_.default_value = core::ParamValue{std::move(v)};
    return *this;
  }
  Param& Default(const char* v) { return Default(std::string(v)); }
  Param& Optional() {
    spec_.required = false;
    return *this;
  }
  // Inclusive bounds for Int and Double parameters.
  Param& Range(double minimum, double maximum) {
    spec_.minimum = minimum;
    spec_.maximum = maximum;
    return *this;
  }
  Param& Min(double minimum) {
    spec_.minimum = minimum;
    return *this;
  }
  Param& Max(double maximum) {
    spec_.maximum = maximum;
    return *this;
  }
  Param& Describe(std::string text) {
    spec_.description = std::move(text);
    return *this;
  }

  const core::ParamSpec& spec() const { return spec_; }

 private:
  Param(std::string name, core::ParamType type) {
    spec_.name = std::move(name);
    spec_.type = type;
  }
  core::ParamSpec spec_;
};

using Params = core::ParamValues;

// Options of a flow (designated initializers in this order).
struct FlowOptions {
  std::string description{};
  std::vector<Param> params{};
  int retries = 0;  // flow retries re-run the body through AwaitingRetry -> Retrying
  RetryDelays retry_delays{};
  std::vector<std::string> tags{};
  // How Submit/Map run tasks: weft::ConcurrentTaskRunner{.max_workers = N} (the default,
  // bounded pool) or weft::SequentialTaskRunner{}.
  TaskRunner task_runner{};
  // > 0: an attempt that runs longer ends TimedOut (task stop tokens are signalled; a body
  // that does not return within a short grace ends the process, exit 1). Deployments use it
  // as their timeout_seconds unless they set one.
  double timeout_seconds = 0;
  // Run after the flow run's final state (not after an attempt that will be retried). A
  // throwing hook is logged only. on_crashed: best effort on SIGTERM, or when the run is
  // found Crashed.
  std::function<void(const FlowContext&, const core::State&)> on_completion{};
  std::function<void(const FlowContext&, const core::State&)> on_failure{};
  std::function<void(const FlowContext&, const core::State&)> on_crashed{};
};

// ------------------------------------------------------------------ errors

// Thrown by a task call whose run ended Failed (or TimedOut). what() is the final state's
// message; the flow may catch it and go on.
class TaskRunFailed : public std::runtime_error {
 public:
  TaskRunFailed(std::string task_run_id, std::string task_run_name, core::State state);
  const std::string& task_run_id() const { return task_run_id_; }
  const std::string& task_run_name() const { return task_run_name_; }
  const core::State& state() const { return state_; }

 private:
  std::string task_run_id_;
  std::string task_run_name_;
  core::State state_;
};

// ------------------------------------------------------------------ contexts

// What a task sees: pass `weft::TaskContext&` as the callable's first parameter.
class TaskContext {
 public:
  const std::string& task_run_id() const { return task_run_id_; }
  const std::string& task_run_name() const { return task_run_name_; }  // "flaky-0"
  const std::string& task_name() const { return task_name_; }          // "flaky"
  const std::string& flow_run_id() const { return flow_run_id_; }
  int attempt() const { return attempt_; }  // 1 on the first run, 2 on the first retry, ...
  // Signalled when the task's timeout passes (the run is already TimedOut): return soon.
  std::stop_token stop_token() const { return stop_token_; }
  bool stop_requested() const { return stop_token_.stop_requested(); }
  const Logger& logger() const { return logger_; }

 private:
  friend class detail::Engine;
  friend void detail::ReturnState(TaskContext& ctx, const core::State& state);
  std::optional<core::State> returned_state_;  // the body returned a state
  std::string task_run_id_;
  std::string task_run_name_;
  std::string task_name_;
  std::string flow_run_id_;
  int attempt_ = 1;
  std::stop_token stop_token_;
  Logger logger_;
};

// What a flow body sees: pass `weft::FlowContext&` as the body's parameter.
class FlowContext {
 public:
  const Params& params() const { return *params_; }
  const std::string& flow_run_id() const { return flow_run_id_; }
  const std::string& flow_run_name() const { return flow_run_name_; }
  const std::string& flow_name() const { return flow_name_; }
  int attempt() const { return attempt_; }
  bool ephemeral() const { return ephemeral_; }  // states are not recorded on a server
  const Logger& logger() const { return logger_; }
  // Signalled when the flow run's timeout passes (the run is already TimedOut): return soon.
  std::stop_token stop_token() const { return stop_token_; }
  bool stop_requested() const { return stop_token_.stop_requested(); }

 private:
  friend class detail::Engine;
  friend void detail::ReturnFlowState(FlowContext& ctx, const core::State& state);
  std::optional<core::State> returned_state_;  // the body returned a state
  std::stop_token stop_token_;
  const Params* params_ = nullptr;
  std::string flow_run_id_;
  std::string flow_run_name_;
  std::string flow_name_;
  int attempt_ = 1;
  bool ephemeral_ = true;
  Logger logger_;
};

// ------------------------------------------------------------------ tasks

namespace detail {

struct TaskDef {
  std::string name;
  TaskOptions options;
  core::RetryPolicy policy;
};

using AttemptBody = std::function<void(TaskContext&)>;

// Runs one call of a task in the current flow run: creates the task run, orchestrates its
// states and retries, runs `body` once per attempt (on its own thread when the task has a
// timeout: then `body` must own everything it touches). Returns the attempt that succeeded;
// throws TaskRunFailed when the run ends Failed, std::logic_error outside a flow.
int RunTaskCall(const TaskDef& def, const AttemptBody& body);

template <typename T>
struct IsWithState : std::false_type {};
template <typename T>
struct IsWithState<WithState<T>> : std::true_type {};

template <typename F, typename... Args>
decltype(auto) InvokeTaskRaw(F& fn, TaskContext& ctx, Args&... args) {
  if constexpr (std::is_invocable_v<F&, TaskContext&, Args&...>) {
    return std::invoke(fn, ctx, args...);
  } else {
    static_assert(std::is_invocable_v<F&, Args&...>,
                  "a task callable takes (weft::TaskContext&, args...) or (args...); arguments "
                  "are passed as lvalues");
    return std::invoke(fn, args...);
  }
}

// Calls the task's callable; a returned state (core::State, WithState) is handed to the
// engine as the run's final state.
template <typename F, typename... Args>
decltype(auto) InvokeTask(F& fn, TaskContext& ctx, Args&... args) {
  using Raw = decltype(InvokeTaskRaw(fn, ctx, args...));
  using D = std::decay_t<Raw>;
  if constexpr (std::is_same_v<D, core::State>) {
    D r = InvokeTaskRaw(fn, ctx, args...);
    ReturnState(ctx, r);
    return r;
  } else if constexpr (IsWithState<D>::value) {
    D r = InvokeTaskRaw(fn, ctx, args...);
    ReturnState(ctx, r.state);
    return r;
  } else {
    return InvokeTaskRaw(fn, ctx, args...);
  }
}

template <typename F, typename... Args>
using TaskResultT = std::decay_t<decltype(InvokeTask(
    std::declval<F&>(), std::declval<TaskContext&>(), std::declval<Args&>()...))>;

// Per-call state for a task with a timeout: owns copies of the arguments and one result slot
// per attempt (a timed-out attempt may still finish later; its result is ignored).
template <typename F, typename R, typename... Args>
struct TimedCall {
  template <typename... A>
  explicit TimedCall(std::shared_ptr<F> f, A&&... a)
      : fn(std::move(f)), args(std::forward<A>(a)...) {}
  std::shared_ptr<F> fn;
  std::tuple<Args...> args;
  std::mutex mu;
  std::map<int, R> results;

  void Invoke(TaskContext& ctx) {
    std::tuple<Args...> copy = args;  // each attempt gets its own arguments
    R r = std::apply([&](auto&... a) -> R { return InvokeTask(*fn, ctx, a...); }, copy);
    std::lock_guard lock(mu);
    results.emplace(ctx.attempt(), std::move(r));
  }
  R Take(int attempt) {
    std::lock_guard lock(mu);
    return std::move(results.at(attempt));
  }
  const R& Peek(int attempt) {
    std::lock_guard lock(mu);
    return results.at(attempt);
  }
};

template <typename F, typename... Args>
struct TimedCallVoid {
  template <typename... A>
  explicit TimedCallVoid(std::shared_ptr<F> f, A&&... a)
      : fn(std::move(f)), args(std::forward<A>(a)...) {}
  std::shared_ptr<F> fn;
  std::tuple<Args...> args;
  void Invoke(TaskContext& ctx) {
    std::tuple<Args...> copy = args;
    std::apply([&](auto&... a) { InvokeTask(*fn, ctx, a...); }, copy);
  }
};

}  // namespace detail

template <typename F>
class Task {
 public:
  Task(std::string name, F fn, TaskOptions options)
      : fn_(std::make_shared<F>(std::move(fn))), def_(std::make_shared<detail::TaskDef>()) {
    def_->name = std::move(name);
    def_->policy = options.retry_policy ? *options.retry_policy
                                        : options.retry_delays.ToPolicy(options.retries);
    def_->options = std::move(options);
  }

  const std::string& name() const { return def_->name; }
  const TaskOptions& options() const { return def_->options; }

  // Submits a run to the flow's task runner and returns its future at once. Futures among
  // the arguments are waited for and their values passed; weft::allow_failure(f) passes a
  // weft::Outcome<T>; a first argument weft::wait_for(...) orders without data.
  template <typename... Args>
  auto Submit(Args&&... args) const {
    return SubmitWith(WaitFor{}, std::forward<Args>(args)...);
  }
  template <typename... Args>
  auto Submit(WaitFor deps, Args&&... args) const {
    return SubmitWith(std::move(deps), std::forward<Args>(args)...);
  }

  // One run per element of `items` (any range; its elements may be futures); `extra`
  // arguments are passed unchanged to every call. Returns the futures, in order.
  template <typename Range, typename... Extra>
  auto Map(Range&& items, Extra&&... extra) const {
    return MapWith(WaitFor{}, std::forward<Range>(items), std::forward<Extra>(extra)...);
  }
  template <typename Range, typename... Extra>
  auto Map(WaitFor deps, Range&& items, Extra&&... extra) const {
    return MapWith(std::move(deps), std::forward<Range>(items), std::forward<Extra>(extra)...);
  }

  // A direct call with futures among its arguments (or a wait_for): waits for them in the
  // caller's thread, then runs like any direct call.
  template <typename... Args>
    requires(detail::kAnyFutureArg<Args...>)
  auto operator()(Args&&... args) const {
    return CallResolved(WaitFor{}, std::forward<Args>(args)...);
  }
  template <typename... Args>
  auto operator()(WaitFor deps, Args&&... args) const {
    return CallResolved(std::move(deps), std::forward<Args>(args)...);
  }

  // Runs the task as a task run of the current flow run and returns its value.
  template <typename... Args>
  auto operator()(Args&&... args) const {
    using R = detail::TaskResultT<F, std::remove_reference_t<Args>...>;
    detail::CallCache cache;
    bool caching = PrepareCache<R>(cache, args...);
    if (def_->options.timeout_seconds > 0) {
      if constexpr (std::is_void_v<R>) {
        auto call = std::make_shared<detail::TimedCallVoid<F, std::decay_t<Args>...>>(
            fn_, std::forward<Args>(args)...);
        if (caching) detail::SetNextCallCache(&cache);
        detail::RunTaskCall(*def_, [call](TaskContext& ctx) { call->Invoke(ctx); });
        return;
      } else {
        auto call = std::make_shared<detail::TimedCall<F, R, std::decay_t<Args>...>>(
            fn_, std::forward<Args>(args)...);
        if constexpr (ResultCodec<R>::kAvailable) {
          cache.encode = [call](int attempt) {
            return ResultCodec<R>::Encode(call->Peek(attempt));
          };
        }
        if (caching) detail::SetNextCallCache(&cache);
        int attempt = detail::RunTaskCall(*def_, [call](TaskContext& ctx) { call->Invoke(ctx); });
        if constexpr (ResultCodec<R>::kAvailable) {
          if (cache.cached) return ResultCodec<R>::Decode(cache.cached_json);
        }
        return call->Take(attempt);
      }
    } else {
      if constexpr (std::is_void_v<R>) {
        if (caching) detail::SetNextCallCache(&cache);
        detail::RunTaskCall(*def_,
                            [&](TaskContext& ctx) { detail::InvokeTask(*fn_, ctx, args...); });
        return;
      } else {
        std::optional<R> result;
        if constexpr (ResultCodec<R>::kAvailable) {
          cache.encode = [&](int) { return ResultCodec<R>::Encode(*result); };
        }
        if (caching) detail::SetNextCallCache(&cache);
        detail::RunTaskCall(*def_, [&](TaskContext& ctx) {
          result.reset();
          result.emplace(detail::InvokeTask(*fn_, ctx, args...));
        });
        if constexpr (ResultCodec<R>::kAvailable) {
          if (cache.cached) return ResultCodec<R>::Decode(cache.cached_json);
        }
        return R(std::move(*result));
      }
    }
  }

 private:
  template <typename... Args>
  auto SubmitWith(WaitFor wait, Args&&... args) const {
    using R = detail::TaskResultT<
        F, std::remove_reference_t<typename detail::ArgTraits<std::decay_t<Args>>::Passed>...>;
    auto core = std::make_shared<detail::FutureValue<R>>();
    std::vector<detail::Dep> deps = detail::CollectDeps(wait, std::as_const(args)...);
    detail::SubmitTaskCall(
        def_, core, std::move(deps),
        [self = *this, core, stored = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]()
            -> std::exception_ptr {
          try {
            std::apply(
                [&](const auto&... a) {
                  if constexpr (std::is_void_v<R>) {
                    self(detail::ArgTraits<std::decay_t<decltype(a)>>::Resolve(a)...);
                  } else {
                    core->value.emplace(
                        self(detail::ArgTraits<std::decay_t<decltype(a)>>::Resolve(a)...));
                  }
                },
                stored);
          } catch (...) {
            return std::current_exception();
          }
          return nullptr;
        });
    return Future<R>(std::move(core));
  }

  template <typename Range, typename... Extra>
  auto MapWith(WaitFor wait, Range&& items, Extra&&... extra) const {
    using Elem = decltype(*std::begin(items));
    using Fut = decltype(SubmitWith(wait, std::declval<Elem>(), extra...));
    std::vector<Fut> out;
    if constexpr (requires { std::size(items); }) out.reserve(std::size(items));
    for (auto&& item : items) out.push_back(SubmitWith(wait, item, extra...));
    return out;
  }

  template <typename... Args>
  auto CallResolved(WaitFor wait, Args&&... args) const {
    std::vector<detail::Dep> deps = detail::CollectDeps(wait, std::as_const(args)...);
    std::string upstream = detail::AwaitDeps(deps);
    detail::PrepareNextCall(detail::TaskInputsJson(deps), upstream);
    using R = detail::TaskResultT<
        F, std::remove_reference_t<typename detail::ArgTraits<std::decay_t<Args>>::Passed>...>;
    if (!upstream.empty()) {
      detail::RunTaskCall(*def_, [](TaskContext&) {});  // fails the run, throws
      throw std::logic_error("task '" + def_->name + "': " + upstream);
    }
    if constexpr (std::is_void_v<R>) {
      (*this)(detail::ArgTraits<std::decay_t<Args>>::Resolve(args)...);
    } else {
      return R((*this)(detail::ArgTraits<std::decay_t<Args>>::Resolve(args)...));
    }
  }

  // Fills `cache` for one call when the task caches or persists its result: the key from
  // cache_key_fn over the arguments as JSON. False when this call is not cached. Throws
  // std::invalid_argument when the result or an argument the key needs has no JSON form.
  template <typename R, typename... Args>
  bool PrepareCache(detail::CallCache& cache, const Args&... args) const {
    const TaskOptions& o = def_->options;
    if (!o.cache_key_fn && !o.persist_result) return false;
    if constexpr (!std::is_void_v<R> && !ResultCodec<R>::kAvailable) {
      throw std::invalid_argument(
          "task '" + def_->name +
          "': its result is cached or persisted, so it must convert to JSON: include "
          "sdk/flow/json.hpp (and give your own types to_json/from_json)");
    }
    if constexpr (std::is_void_v<R>) cache.encode = [](int) { return std::string("null"); };
    if (o.cache_key_fn) {
      CacheKeyInputs in;
      in.task_name = def_->name;
      in.inputs_json = "[";
      int position = 0;
      auto add = [&](const auto& arg) {
        using A = std::decay_t<decltype(arg)>;
        ++position;
        if constexpr (ResultCodec<A>::kAvailable) {
          if (position > 1) in.inputs_json += ',';
          in.inputs_json += ResultCodec<A>::Encode(arg);
        } else {
          throw std::invalid_argument(
              "task '" + def_->name + "': its cache key reads the arguments as JSON, and "
              "argument " + std::to_string(position) + " has no JSON form: include "
              "sdk/flow/json.hpp (and give your own types to_json/from_json)");
        }
      };
      (add(args), ...);
      (void)add;
      in.inputs_json += ']';
      cache.key = o.cache_key_fn(in);
    }
    cache.expiration_seconds = o.cache_expiration_seconds;
    cache.persist = o.persist_result;
    return !cache.key.empty() || cache.persist;
  }

  std::shared_ptr<F> fn_;
  std::shared_ptr<detail::TaskDef> def_;
};

// Declares a task. `fn` takes (weft::TaskContext&, args...) or (args...).
template <typename F>
Task<std::decay_t<F>> task(std::string name, F&& fn, TaskOptions options = {}) {
  return Task<std::decay_t<F>>(std::move(name), std::forward<F>(fn), std::move(options));
}

// ------------------------------------------------------------------ flows

class ParamArg;
using ParamMap = std::map<std::string, ParamArg>;
struct FlowRunResult;

class Flow {
 public:
  using Body = std::function<void(FlowContext&)>;
  Flow(std::string name, Body body, FlowOptions options);

  // Subflows (sdk/flow/subflow.cpp; docs/subflows.md): called from inside a flow run, runs
  // this flow as a child flow run, in this thread, with its own engine:
  //   child.Call({{"n", 3}})   or   child(ctx, {{"n", 3}})
  // The parameters are checked against this flow's declared parameters first (a bad one
  // throws std::invalid_argument naming it; nothing is created). On a server the parent gets
  // a task run "<flow>-<n>" (task_key "subflow:<flow>"), created before the child, and the
  // child run links to it (parent_task_run_id, parent_flow_run_id); the child's final state
  // becomes that task run's. A child that does not end Completed throws weft::TaskRunFailed,
  // like a task. Returns the child's result (id, final state). Outside a flow run:
  // std::logic_error.
  FlowRunResult Call(const ParamMap& params) const;
  FlowRunResult Call() const;
  FlowRunResult operator()(FlowContext& parent, const ParamMap& params) const;
  FlowRunResult operator()(FlowContext& parent) const;
  // Submits the subflow to the flow's task runner (runs concurrently with other submitted
  // work) and returns its future at once: the wrapper task run is the submitted task run,
  // named "<flow>-<n>" (task_key = the flow's name); Result() returns the child's result or
  // throws weft::TaskRunFailed. Same parameter check, links and cancel cascade as Call.
  Future<FlowRunResult> Submit(const ParamMap& params) const;
  Future<FlowRunResult> Submit() const;

  const std::string& name() const { return name_; }
  const FlowOptions& options() const { return options_; }
  const std::vector<core::ParamSpec>& param_specs() const { return specs_; }
  const Body& body() const { return body_; }
  core::RetryPolicy retry_policy() const {
    return options_.retry_delays.ToPolicy(options_.retries);
  }
  // A problem with the declaration itself (bad default, duplicate parameter); reported with
  // exit 2 when the flow is run.
  const std::string& declaration_error() const { return declaration_error_; }

 private:
  std::string name_;
  Body body_;
  FlowOptions options_;
  std::vector<core::ParamSpec> specs_;
  std::string declaration_error_;
};

// Declares a flow. `fn` takes (weft::FlowContext&) or nothing; a returned value is ignored.
template <typename F>
Flow flow(std::string name, F&& fn, FlowOptions options = {}) {
  using Fn = std::decay_t<F>;
  auto shared = std::make_shared<Fn>(std::forward<F>(fn));
  Flow::Body body = [shared](FlowContext& ctx) {
    auto call = [&]() -> decltype(auto) {
      if constexpr (std::is_invocable_v<Fn&, FlowContext&>) {
        return std::invoke(*shared, ctx);
      } else {
        static_assert(std::is_invocable_v<Fn&>,
                      "a flow body takes (weft::FlowContext&) or nothing");
        return std::invoke(*shared);
      }
    };
    using Ret = std::decay_t<decltype(call())>;
    if constexpr (std::is_same_v<Ret, core::State>) {
      detail::ReturnFlowState(ctx, call());  // a returned state is the run's final state
    } else {
      (void)call();
    }
  };
  return Flow(std::move(name), std::move(body), std::move(options));
}

// ------------------------------------------------------------------ pause / resume

// Thrown by weft::pause_flow_run when the run was not resumed before its timeout (or the
// server failed it for that). Escaping the body, it ends the run Failed with this message;
// a flow that catches it may clean up, but the run still ends Failed (docs/pause-resume.md).
class PauseTimedOut : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Pauses the current flow run (sdk/flow/pause.cpp): the run goes to Paused (type PAUSED; the
// resume deadline = now + timeout is the state's scheduled_time), heartbeats go on, and the
// call blocks until `weft flow-run resume ID` moves the run back to Running (then it
// returns) or the timeout passes (throws weft::PauseTimedOut). Call it from the flow body.
// Ephemeral mode (no server) throws std::logic_error: nothing could resume the run.
void pause_flow_run(std::chrono::duration<double> timeout = std::chrono::hours(1));
void pause_flow_run(double timeout_seconds);

// ------------------------------------------------------------------ deployments

// One parameter value given in code: `{"months", 3}`, `{"rate", 0.5}`, `{"csv", "a.csv"}`,
// `{"dry_run", true}`. Checked against the flow's declared parameters where it is used.
class ParamArg {
 public:
  ParamArg(int v) : value_(static_cast<std::int64_t>(v)) {}                 // NOLINT
  ParamArg(long v) : value_(static_cast<std::int64_t>(v)) {}                // NOLINT
  ParamArg(long long v) : value_(static_cast<std::int64_t>(v)) {}           // NOLINT
  ParamArg(unsigned v) : value_(static_cast<std::int64_t>(v)) {}            // NOLINT
  ParamArg(double v) : value_(v) {}                                         // NOLINT
  ParamArg(bool v) : value_(v) {}                                           // NOLINT
  ParamArg(const char* v) : value_(std::string(v)) {}                       // NOLINT
  ParamArg(std::string v) : value_(std::move(v)) {}                         // NOLINT
  ParamArg(std::string_view v) : value_(std::string(v)) {}                  // NOLINT
  ParamArg(core::ParamValue v) : value_(std::move(v)) {}                    // NOLINT
  const core::ParamValue& value() const { return value_; }

 private:
  core::ParamValue value_;
};
using ParamMap = std::map<std::string, ParamArg>;

// {"months":3,"csv":"a.csv"} (a JSON object; strings escaped).
std::string ParamMapToJson(const ParamMap& params);

// When a deployment runs on its own. Build one with weft::Cron, weft::Interval or
// weft::RRule; the default (none) means runs only on demand. Problems (a bad anchor) are kept
// and reported when the program describes its deployments.
class Schedule {
 public:
  Schedule() = default;
  Schedule(core::ScheduleSpec spec) : spec_(std::move(spec)) {}  // NOLINT
  static Schedule Invalid(std::string problem) {
    Schedule s;
    s.error_ = std::move(problem);
    return s;
  }
  bool empty() const { return !spec_ && error_.empty(); }
  const std::optional<core::ScheduleSpec>& spec() const { return spec_; }
  const std::string& error() const { return error_; }  // "field: problem", "" when fine

 private:
  std::optional<core::ScheduleSpec> spec_;
  std::string error_;
};

// Classic 5-field cron ("0 6 * * 1") or a macro (@daily), in an IANA time zone ("" = UTC).
Schedule Cron(std::string expression, std::string timezone = "");
// Every `every` (e.g. std::chrono::hours(24), 3600s) from `anchor` (RFC 3339, "" =
// 2020-01-01T00:00:00 local); whole days keep the anchor's local wall time in `timezone`.
Schedule Interval(std::chrono::duration<double> every, std::string timezone = "",
                  std::string anchor = "");
// An RFC 5545 rule ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=6;BYMINUTE=0").
Schedule RRule(std::string rule, std::string timezone = "");

// How an agent starts the deployment's runs.
struct Runner {
  std::string type = "process";  // process | docker | kubernetes
  std::string image{};           // required for docker and kubernetes
  std::string kube_namespace{};  // kubernetes; "" = "default"
  std::map<std::string, std::string> env{};
  std::string network{};         // docker: --network ("" = the agent's --docker-network)
};
using Catchup = core::CatchupSpec;  // .policy = weft::CatchupPolicy::kAll, .max_lateness_seconds
using CatchupPolicy = core::CatchupPolicy;

// A deployment declared in the flow program (designated initializers in this order); the
// C++ counterpart of a deploy.yaml. `weft deployment create ./my_flow` runs the program with
// --weft-describe and creates them. The flow name and the entrypoint ("./<program>") come
// from the program; the program itself is always in the bundle.
struct Deployment {
  std::string name{};  // required; [A-Za-z0-9_.-]
  std::string description{};
  std::string version{};
  Schedule schedule{};
  ParamMap parameters{};  // checked against the flow's declared parameters
  std::vector<std::string> tags{};
  std::string work_queue = "default";
  std::string storage{};               // "" = the server's default storage
  std::vector<std::string> include{};  // extra files, relative to the program's directory
  Runner runner{};
  Catchup catchup{};
  bool paused = false;
  double timeout_seconds = 0;  // > 0: an agent stops a run's process after this (TimedOut)
};

// The specs a program declares: flow_name = the flow's name, entrypoint = ["./<program>"]
// (`program` is argv[0]; its file name is used), include = [<program file name>, extra...].
// Each spec is checked (core::ValidateDeploymentSpec) and its parameters are checked against
// the flow's declared parameters (unknown names, types, bounds; a scheduled deployment must
// give every required parameter). Errors read
//   program ./taxi_training: deployment "weekly": parameter "monthz": unknown parameter (...)
core::Result<std::vector<core::DeploymentSpec>> DeploymentSpecs(
    const Flow& flow, const std::vector<Deployment>& deployments, std::string_view program);

// ------------------------------------------------------------------ running

struct TaskRunRecord {
  std::string id;  // the server's id when it mapped the run to an existing one
  std::string name;
  std::string task_key;
  std::string dynamic_key;
  core::State state;  // final
  int run_count = 0;
  std::vector<core::State> history;  // every state, in order (when RunOptions::keep_history)
};

struct FlowRunResult {
  int exit_code = 1;  // 0 Completed, 1 Failed/Crashed/refused, 2 usage or parameter error
  std::string error;  // why, when exit_code != 0 and the flow itself did not say
  bool ephemeral = true;
  std::string flow_run_id;
  std::string flow_run_name;
  std::optional<core::State> state;      // the flow run's final state (none: no run was created)
  std::vector<core::State> history;      // the flow run's states, in order
  std::vector<TaskRunRecord> task_runs;  // with RunOptions::keep_history
  int task_run_count = 0;
  double flush_seconds = 0;  // the final flush of task-run reports
  int reports_dropped = 0;   // task-run states the server never accepted (network)
};

struct RunOptions {
  enum class Mode { kAuto, kEphemeral, kServer };
  // kAuto: WEFT_EPHEMERAL=1 -> ephemeral; else the server at api_url if it answers quickly,
  // else ephemeral (said once). kServer: no fallback (error when unreachable).
  Mode mode = Mode::kAuto;
  std::vector<std::pair<std::string, std::string>> params;  // --param overrides, as text
  std::string api_url;      // "" = WEFT_API_URL, else 127.0.0.1:4201
  std::string api_key;      // "" = WEFT_API_KEY
  std::string flow_run_id;  // adopt this run; "" = WEFT_FLOW_RUN_ID (kAuto/kServer only)
  double connect_timeout_seconds = 1.5;
  bool keep_history = false;
};

// Runs a flow once (and its retries). Never throws for flow or parameter errors.
FlowRunResult Run(const Flow& flow, const RunOptions& options = {});

// A flow program's main: `--param name=value` (repeatable), `--help`. Prints `error: ...` on
// stderr and returns 0 (Completed), 1 (Failed/Crashed) or 2 (usage/parameter error).
int Main(int argc, char** argv, const Flow& flow);
// The same, for a program that declares deployments. `--weft-describe` prints their specs as
// a JSON array (core::DeploymentSpecsToJson) on stdout and exits 0 without contacting a
// server; a declaration problem prints `error: ...` and exits 2.
int Main(int argc, char** argv, const Flow& flow, const std::vector<Deployment>& deployments);

// The usage text of a flow program (what --help prints).
std::string Usage(const Flow& flow, std::string_view program);

}  // namespace weft
