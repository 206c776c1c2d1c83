// The run engine: runs a flow body, orchestrates its task runs in this process (the default
// policy from sdk/core, applied locally), hands their states to the backend, and drives the
// flow run's own states through the backend (synchronously).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "sdk/core/orchestration/rule.hpp"
#include "sdk/flow/internal.hpp"
#include "sdk/flow/task_runner.hpp"

namespace weft {

namespace {
thread_local detail::Engine* tls_engine = nullptr;
thread_local const Logger* tls_logger = nullptr;  // the task's (inside a task) or the flow's
}  // namespace

namespace log {
const Logger& Current() {
  static const Logger fallback("weft");
  return tls_logger ? *tls_logger : fallback;
}
}  // namespace log

TaskRunFailed::TaskRunFailed(std::string task_run_id, std::string task_run_name, core::State state)
    : std::runtime_error(state.message.empty()
                             ? "task run '" + task_run_name + "' ended " + state.name
                             : state.message),
      task_run_id_(std::move(task_run_id)),
      task_run_name_(std::move(task_run_name)),
      state_(std::move(state)) {}

namespace detail {

using core::State;
using core::StateType;
using core::orchestration::Decision;
using core::orchestration::Outcome;
using core::orchestration::RunKind;
using core::orchestration::TransitionContext;

namespace {

core::TimePoint Now() { return std::chrono::system_clock::now(); }

// Sets the thread's engine and logger for a scope.
class ScopedRunContext {
 public:
  ScopedRunContext(Engine* engine, const Logger* logger)
      : prev_engine_(tls_engine), prev_logger_(tls_logger) {
    tls_engine = engine;
    tls_logger = logger;
  }
  ~ScopedRunContext() {
    tls_engine = prev_engine_;
    tls_logger = prev_logger_;
  }
  ScopedRunContext(const ScopedRunContext&) = delete;
  ScopedRunContext& operator=(const ScopedRunContext&) = delete;

 private:
  Engine* prev_engine_;
  const Logger* prev_logger_;
};

struct TaskRun {
  std::string id;
  std::string name;
  std::string task_key;
  std::string dynamic_key;
  std::optional<State> state;
  int run_count = 0;
  core::RetryPolicy policy;
  std::vector<std::string> tags;
  Logger logger;
  std::vector<State> history;
  bool reported_create = false;
  std::string task_inputs_json;  // which upstream runs fed this one ("" = none)
  // The synchronous path (TransitionOnServer): the server decides this run's states.
  bool sync = false;
  std::string cache_key;
  double cache_expiration_seconds = 0;
  std::string result_json;  // sent with Completed; on a Cached answer, the stored result
};

enum class AttemptEnd { kOk, kError, kTimedOut };

// How long a flow body gets to return after its flow run timed out.
constexpr double kFlowTimeoutGraceSeconds = 5;

// SIGTERM -> the callbacks of every flow run of this process that registered one (a subflow
// runs inside its parent: the innermost first), on a thread of its own, then the default
// action. The handler only writes a byte to a pipe. One pipe and thread serve every run: the
// first registration sets them up, the last one to go takes them down (a subflow's watcher
// ending must not leave its parent's SIGTERM unhandled, nor race a sibling's).
std::atomic<int> g_term_pipe_write{-1};
void OnTerm(int) {
  char c = 1;
  int fd = g_term_pipe_write.load();
  if (fd >= 0) (void)!::write(fd, &c, 1);
}

struct TermHooks {
  std::mutex mu;  // held while the callbacks run: a watcher cannot end under them
  std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks;
  std::uint64_t next_id = 1;
  int fds[2] = {-1, -1};
  struct sigaction old {};
  std::thread thread;
};
TermHooks& Term() {
  static auto* hooks = new TermHooks();  // never destroyed: a signal may come at exit
  return *hooks;
}

class TermWatcher {
 public:
  explicit TermWatcher(std::function<void()> on_term) {
    TermHooks& h = Term();
    std::lock_guard lock(h.mu);
    if (h.callbacks.empty()) {
      if (::pipe2(h.fds, O_CLOEXEC) != 0) return;
      int read_fd = h.fds[0];
      h.thread = std::thread([read_fd] {
        char c = 0;
        ssize_t n;
        do {
          n = ::read(read_fd, &c, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1 || c != 1) return;  // the last watcher ended
        TermHooks& hooks = Term();
        hooks.mu.lock();  // kept: the process dies below
        for (auto it = hooks.callbacks.rbegin(); it != hooks.callbacks.rend(); ++it) it->second();
        ::signal(SIGTERM, SIG_DFL);
        ::raise(SIGTERM);
      });
      g_term_pipe_write.store(h.fds[1]);
      struct sigaction sa {};
      sa.sa_handler = OnTerm;
      sigemptyset(&sa.sa_mask);
      ::sigaction(SIGTERM, &sa, &h.old);
    }
    id_ = h.next_id++;
    h.callbacks.emplace_back(id_, std::move(on_term));
  }
  ~TermWatcher() {
    if (id_ == 0) return;
    TermHooks& h = Term();
    std::thread thread;
    int fds[2];
    {
      std::lock_guard lock(h.mu);
      std::erase_if(h.callbacks, [&](const auto& c) { return c.first == id_; });
      if (!h.callbacks.empty()) return;
      ::sigaction(SIGTERM, &h.old, nullptr);
      g_term_pipe_write.store(-1);
      thread = std::move(h.thread);
      fds[0] = std::exchange(h.fds[0], -1);
      fds[1] = std::exchange(h.fds[1], -1);
    }
    char c = 0;
    (void)!::write(fds[1], &c, 1);
    thread.join();
    ::close(fds[0]);
    ::close(fds[1]);
  }
  TermWatcher(const TermWatcher&) = delete;
  TermWatcher& operator=(const TermWatcher&) = delete;

 private:
  std::uint64_t id_ = 0;
};

// Shared between the caller and the thread of a task with a timeout.
struct AttemptShared {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::exception_ptr error;
};

void SleepUntil(core::TimePoint when) {
  auto now = Now();
  if (when > now) std::this_thread::sleep_for(when - now);
}

}  // namespace

struct Engine::Impl {
  EngineConfig cfg;
  Engine* self = nullptr;
  Logger flow_logger;
  std::mutex mu;                        // counters, records, abandoned threads
  std::map<std::string, int> counters;  // task name -> next dynamic key
  std::vector<TaskRunRecord> records;
  int task_run_count = 0;
  std::vector<std::jthread> abandoned;  // timed-out attempts still running
  std::vector<State> flow_history;
  std::optional<State> flow_state;
  std::stop_source flow_stop;            // signalled when the flow run times out
  FlowContext* ctx_ptr = nullptr;        // the current attempt's context (hooks)
  std::mutex hook_mu;
  std::atomic<bool> cancel_requested{false};  // the server is cancelling the run (cooperative)
  bool hook_ran = false;
  std::unique_ptr<WorkerPool> pool;      // null: the sequential runner
  std::mutex submitted_mu;
  std::vector<std::shared_ptr<FutureCore>> submitted;  // this attempt's submitted runs

  // ---------------------------------------------------------------- task runs

  // Applies the default policy locally and reports what was written; a synchronous run
  // asks the server instead.
  Outcome Transition(TaskRun& run, State proposed) {
    if (run.sync) return TransitionOnServer(run, std::move(proposed));
    TransitionContext ctx;
    ctx.kind = RunKind::kTaskRun;
    ctx.initial = run.state;
    ctx.proposed = std::move(proposed);
    ctx.run_count = run.run_count;
    ctx.retry_policy = run.policy;
    ctx.now = Now();
    ctx.unit_random = UnitRandom();
    Outcome out = core::orchestration::DefaultPolicy().Apply(std::move(ctx));
    if (out.decision != Decision::kAccept) {
      run.logger.warning("proposal refused ({}): {}",
                         core::orchestration::DecisionName(out.decision), out.reason);
      return out;
    }
    run.run_count = out.run_count;
    for (size_t i = 0; i < out.to_write.size(); ++i) {
      const State& s = out.to_write[i];
      bool last = i + 1 == out.to_write.size();
      LogTaskState(run, s, last);
    }
    if (!run.reported_create) {
      // The first state is the creation (Pending); the rest are ordinary reports.
      cfg.backend->TaskRunCreated(Creation(run, out.to_write.front()));
      if (out.to_write.size() > 1) {
        cfg.backend->TaskRunStates(run.id, {out.to_write.begin() + 1, out.to_write.end()});
      }
      run.reported_create = true;
    } else {
      cfg.backend->TaskRunStates(run.id, out.to_write);
    }
    if (cfg.keep_history) {
      for (const auto& s : out.to_write) run.history.push_back(s);
    }
    run.state = out.state;
    return out;
  }

  // The creation a backend reports for `run`, starting in `initial`.
  TaskRunCreate Creation(const TaskRun& run, const State& initial) const {
    TaskRunCreate create;
    create.id = run.id;
    create.flow_run_id = cfg.flow_run_id;
    create.task_key = run.task_key;
    create.dynamic_key = run.dynamic_key;
    create.name = run.name;
    create.retry_policy = run.policy;
    create.tags = run.tags;
    create.task_inputs_json = run.task_inputs_json;
    create.initial = initial;
    create.cache_key = run.cache_key;
    create.cache_expiration_seconds = run.cache_expiration_seconds;
    return create;
  }

  void LogTaskState(const TaskRun& run, const State& s, bool last) {
    bool failed = s.type == StateType::kFailed || s.type == StateType::kCrashed;
    LogLevel level = failed && last ? LogLevel::kError : LogLevel::kInfo;
    if (!LogEnabled(level)) return;
    if (s.type == StateType::kPending && !run.state) {
      run.logger.Write(level, fmt::format("Created task run '{}' for task '{}' in state {}",
                                          run.name, run.task_key, DescribeState(s)));
    } else if (s.IsTerminal() && last) {
      run.logger.Write(level, "Finished in state " + DescribeState(s));
    } else {
      run.logger.Write(level, "Entered state " + DescribeState(s));
    }
  }

  // A synchronous run's creation or proposal: the server decides (tag concurrency slots,
  // the cache) and its answer is logged and kept like a local outcome.
  Outcome TransitionOnServer(TaskRun& run, State proposed) {
    core::Result<TaskRunAnswer> answer = core::Error{};
    if (!run.reported_create) {
      answer = cfg.backend->CreateTaskRun(Creation(run, proposed));
      if (answer) {
        run.reported_create = true;
        if (!answer->task_run_id.empty()) run.id = answer->task_run_id;
      }
    } else {
      const std::string& result =
          proposed.type == StateType::kCompleted ? run.result_json : std::string();
      answer = cfg.backend->ProposeTaskRunState(run.id, proposed, result);
    }
    Outcome out;
    if (!answer) {
      run.logger.error("proposing {}: {}", proposed.name, answer.error().message);
      out.decision = Decision::kAbort;
      out.reason = answer.error().message;
      out.state = run.state;
      out.run_count = run.run_count;
      return out;
    }
    out.decision = answer->decision;
    out.reason = answer->reason;
    out.rule = answer->rule;
    out.wait_seconds = answer->wait_seconds;
    out.run_count = answer->run_count;
    out.to_write = answer->written;
    out.state = answer->state;
    bool cached = answer->state && answer->state->name == "Cached";
    if (out.decision != Decision::kAccept && out.decision != Decision::kWait && !cached) {
      run.logger.warning("proposal refused ({}): {}",
                         core::orchestration::DecisionName(out.decision), out.reason);
    }
    for (size_t i = 0; i < out.to_write.size(); ++i) {
      LogTaskState(run, out.to_write[i], i + 1 == out.to_write.size());
    }
    if (cfg.keep_history) {
      for (const auto& s : out.to_write) run.history.push_back(s);
    }
    if (answer->state) run.state = answer->state;
    run.run_count = answer->run_count;
    if (cached) run.result_json = std::move(answer->result_json);
    return out;
  }

  // Proposes until accepted or refused. WAIT: a local run sleeps (the local policy only
  // waits for a scheduled time, which the caller already slept to); a synchronous run waits
  // for a concurrency slot (woken by the server as soon as one frees) or the time the server
  // said, as long as it takes.
  Outcome Propose(TaskRun& run, State proposed) {
    auto logged = std::chrono::steady_clock::time_point{};
    for (int i = 0;; ++i) {
      Outcome out = Transition(run, proposed);
      if (out.decision != Decision::kWait || (!run.sync && i > 100)) return out;
      if (!run.sync) {
        std::this_thread::sleep_for(core::FromSeconds(std::min(out.wait_seconds, 1.0) + 0.001));
      } else {
        auto now = std::chrono::steady_clock::now();
        if (now - logged > std::chrono::minutes(1)) {
          run.logger.info("waiting to enter {}: {}", proposed.name, out.reason);
          logged = now;
        }
        double wait = std::clamp(out.wait_seconds, 0.01, 30.0);
        if (out.rule.find("Concurrency") != std::string::npos) {
          cfg.backend->WaitForSlot(run.tags, wait);
        } else {
          std::this_thread::sleep_for(core::FromSeconds(wait));
        }
      }
      proposed.timestamp = {};
      proposed.idempotency_key.clear();
    }
  }

  AttemptEnd RunAttempt(TaskRun& run, const TaskDef& def, int attempt, const AttemptBody& body,
                        std::exception_ptr& error, std::optional<State>& returned) {
    double timeout = def.options.timeout_seconds;
    if (timeout <= 0) {
      TaskContext ctx;
      FillContext(ctx, run, def, attempt);
      ctx.stop_token_ = flow_stop.get_token();
      ScopedRunContext scope(self, &ctx.logger_);
      try {
        body(ctx);
        returned = std::move(ctx.returned_state_);
        return AttemptEnd::kOk;
      } catch (...) {
        error = std::current_exception();
        return AttemptEnd::kError;
      }
    }
    auto shared = std::make_shared<AttemptShared>();
    auto ctx = std::make_shared<TaskContext>();
    FillContext(*ctx, run, def, attempt);
    Engine* engine = self;
    std::stop_token flow_token = flow_stop.get_token();
    std::jthread worker([shared, ctx, body, engine, flow_token](std::stop_token st) {
      // The attempt stops on its own timeout or the flow run's.
      std::stop_source own;
      std::stop_callback on_timeout(st, [&own] { own.request_stop(); });
      std::stop_callback on_flow_stop(flow_token, [&own] { own.request_stop(); });
      ctx->stop_token_ = own.get_token();
      std::exception_ptr err;
      {
        ScopedRunContext scope(engine, &ctx->logger_);
        try {
          body(*ctx);
        } catch (...) {
          err = std::current_exception();
        }
      }
      std::lock_guard lock(shared->mu);
      shared->error = err;
      shared->done = true;
      shared->cv.notify_all();
    });
    bool finished;
    {
      std::unique_lock lock(shared->mu);
      finished =
          shared->cv.wait_for(lock, core::FromSeconds(timeout), [&] { return shared->done; });
    }
    if (finished) {
      worker.join();
      if (shared->error) {
        error = shared->error;
        return AttemptEnd::kError;
      }
      returned = std::move(ctx->returned_state_);
      return AttemptEnd::kOk;
    }
    worker.request_stop();
    std::lock_guard lock(mu);
    abandoned.push_back(std::move(worker));
    return AttemptEnd::kTimedOut;
  }

  void FillContext(TaskContext& ctx, const TaskRun& run, const TaskDef& def, int attempt);

  int RunTaskCall(const TaskDef& def, const AttemptBody& body) {
    if (std::string problem = def.policy.Validate(); !problem.empty()) {
      throw std::invalid_argument("task '" + def.name + "': " + problem);
    }
    if (def.name.empty()) throw std::invalid_argument("a task's name must not be empty");
    // A submitted call (or one fed by futures) reserved its identity and inputs.
    std::shared_ptr<CallContext> call = TakeNextCall();
    CallCache* cache = TakeNextCallCache();  // the call caches or persists its result
    TaskRun run;
    run.id = call && !call->id.empty() ? call->id : NewUuid();
    run.task_key = def.name;
    run.policy = def.policy;
    run.tags = def.options.tags;
    {
      std::lock_guard lock(mu);
      run.dynamic_key = call && !call->dynamic_key.empty() ? call->dynamic_key
                                                           : std::to_string(counters[def.name]++);
      ++task_run_count;
    }
    if (call) run.task_inputs_json = call->inputs_json;
    // A server rule decides this run's states (a tag that may be limited, the cache): its
    // creation and proposals go to the server synchronously.
    run.sync = cfg.backend->sync_tasks() &&
               (!run.tags.empty() || (cache && (!cache->key.empty() || cache->persist)));
    if (cache && run.sync) {
      run.cache_key = cache->key;
      run.cache_expiration_seconds = cache->expiration_seconds;
    }
    run.name = def.name + "-" + run.dynamic_key;
    run.logger = Logger("Task run '" + run.name + "'", cfg.flow_run_id, run.id, run.name);
    // Keeps a future's State() current and hands the final state to hooks and the future.
    auto observe = [&] {
      if (call && call->core && run.state) call->core->SetState(*run.state);
    };
    auto end_run = [&](const State& final_state) {
      if (call) call->final_state = final_state;
      Finish(run);
      RunTaskHooks(run, def, final_state);
    };

    Propose(run, core::Pending(Now()));
    observe();
    if (call && !call->upstream_failure.empty()) {
      // An upstream it needs did not complete: the run ends without running its body.
      Propose(run, core::Failed(Now(), call->upstream_failure, "{\"upstream_failed\":true}"));
      State s = run.state.value_or(core::Failed(Now(), call->upstream_failure));
      end_run(s);
      throw TaskRunFailed(run.id, run.name, s);
    }
    State running = core::Running(Now());
    int succeeded = 0;
    for (;;) {
      Outcome started = Propose(run, running);
      observe();
      if (cache && run.state && run.state->name == "Cached") {
        // The server had a valid result for the key: the body does not run.
        cache->cached = true;
        cache->cached_json = std::move(run.result_json);
        end_run(*run.state);
        return run.run_count;
      }
      if (started.decision != Decision::kAccept || !run.state ||
          run.state->type != StateType::kRunning) {
        State s = run.state.value_or(core::Failed(Now(), "could not start: " + started.reason));
        end_run(s);
        throw TaskRunFailed(run.id, run.name, s);
      }
      int attempt = run.run_count;
      std::exception_ptr error;
      std::optional<State> returned;
      AttemptEnd end = RunAttempt(run, def, attempt, body, error, returned);
      if (end == AttemptEnd::kOk && cache && run.sync && cache->encode) {
        try {
          run.result_json = cache->encode(attempt);
        } catch (...) {
          error = std::current_exception();
          end = AttemptEnd::kError;
        }
      }
      Outcome out;
      if (end == AttemptEnd::kOk) {
        // A returned state is the final state (a returned Failed retries like a throw).
        State proposed_end = core::Completed(Now());
        if (returned) {
          proposed_end = std::move(*returned);
          proposed_end.timestamp = Now();
          if (!proposed_end.IsTerminal()) {
            proposed_end = core::Failed(Now(), "the task returned a non-final state " +
                                                   proposed_end.name);
          }
        }
        out = Propose(run, proposed_end);
        if (out.decision == Decision::kAbort && !run.result_json.empty()) {
          // The server refused the result (e.g. over its size limit): the run fails.
          run.result_json.clear();
          out = Propose(run, core::Failed(Now(), "the result was not stored: " + out.reason));
        }
        if (run.state && run.state->type == StateType::kCompleted) {
          succeeded = attempt;
          break;
        }
      } else if (end == AttemptEnd::kError) {
        ExceptionInfo info = DescribeException(error);
        out = Propose(run, core::Failed(Now(), info.Text(), info.DetailsJson()));
      } else {
        char msg[96];
        std::snprintf(msg, sizeof msg, "Task run exceeded its timeout of %gs",
                      def.options.timeout_seconds);
        State timed_out = core::TimedOut(Now(), msg);
        timed_out.details_json =
            "{\"timeout_seconds\":" + std::to_string(def.options.timeout_seconds) + "}";
        out = Propose(run, std::move(timed_out));
      }
      if (run.state && run.state->type == StateType::kScheduled) {
        // AwaitingRetry: wait for its time, then run again as Retrying.
        if (run.state->scheduled_time) SleepUntil(*run.state->scheduled_time);
        running = core::Retrying(Now());
        continue;
      }
      State final_state = run.state.value_or(core::Failed(Now(), out.reason));
      end_run(final_state);
      throw TaskRunFailed(run.id, run.name, final_state);
    }
    end_run(*run.state);
    return succeeded;
  }

  // The server is cancelling the run: signal the flow's stop token (the body and its tasks
  // should return soon); the run then ends Cancelled.
  void RequestCancel() {
    if (cancel_requested.exchange(true)) return;
    flow_logger.warning("cancellation requested: the flow's stop token is signalled");
    std::lock_guard lock(hook_mu);
    flow_stop.request_stop();
  }

  // on_completion / on_failure of the task, in this thread; a throwing hook is only logged.
  void RunTaskHooks(const TaskRun& run, const TaskDef& def, const State& final_state) {
    bool completed = final_state.type == StateType::kCompleted;
    bool failed =
        final_state.type == StateType::kFailed || final_state.type == StateType::kCrashed;
    const auto& hook = completed ? def.options.on_completion : def.options.on_failure;
    if (!hook || (!completed && !failed)) return;
    TaskContext ctx;
    FillContext(ctx, run, def, std::max(1, run.run_count));
    ctx.stop_token_ = flow_stop.get_token();
    ScopedRunContext scope(self, &ctx.logger_);
    try {
      hook(ctx, final_state);
    } catch (...) {
      run.logger.error("{} hook failed: {}",
                       final_state.type == StateType::kCompleted ? "on_completion" : "on_failure",
                       DescribeException(std::current_exception()).Text());
    }
  }

  // ---------------------------------------------------------------- submitted runs

  void Submit(const std::shared_ptr<const TaskDef>& def, const std::shared_ptr<FutureCore>& core,
              std::vector<Dep> deps, SubmitJob job) {
    auto call = std::make_shared<CallContext>();
    call->id = NewUuid();
    {
      std::lock_guard lock(mu);
      call->dynamic_key = std::to_string(counters[def->name]++);
    }
    core->SetIdentity(call->id, def->name + "-" + call->dynamic_key);
    call->inputs_json = TaskInputsJson(deps);
    call->core = core;
    {
      std::lock_guard lock(submitted_mu);
      submitted.push_back(core);
    }
    auto run = [this, def, core, deps, job = std::move(job), call] {
      ScopedRunContext scope(self, &flow_logger);
      call->upstream_failure = UpstreamProblem(deps);
      SetNextCall(call);
      std::exception_ptr error;
      if (!call->upstream_failure.empty()) {
        try {
          RunTaskCall(*def, [](TaskContext&) {});
        } catch (...) {
          error = std::current_exception();
        }
      } else {
        error = job();
      }
      SetNextCall(nullptr);  // when the call failed before its run started
      State final_state = call->final_state
                              ? *call->final_state
                              : core::Failed(Now(), DescribeException(error).Text(),
                                             DescribeException(error).DetailsJson());
      if (final_state.type == StateType::kCompleted) error = nullptr;
      core->Finish(std::move(final_state), error);
    };
    if (!pool) {
      // Sequential: at once, in the caller's thread.
      for (const auto& d : deps) d.core->Wait();
      run();
      return;
    }
    // Concurrent: queued once every upstream is final.
    auto remaining = std::make_shared<std::atomic<int>>(static_cast<int>(deps.size()) + 1);
    auto ready = [this, remaining, core, run = std::move(run)]() mutable {
      if (remaining->fetch_sub(1) != 1) return;
      auto job = std::make_shared<FutureCore::PendingJob>();
      job->fn = std::move(run);
      core->SetPendingJob(job);
      pool->Enqueue([job] { job->TryRun(); });
    };
    auto shared_ready = std::make_shared<decltype(ready)>(std::move(ready));
    for (const auto& d : deps) d.core->OnDone([shared_ready] { (*shared_ready)(); });
    (*shared_ready)();
  }

  // Waits for every run submitted so far (runs may submit more while we wait).
  void AwaitSubmitted() {
    for (size_t i = 0;; ++i) {
      std::shared_ptr<FutureCore> core;
      {
        std::lock_guard lock(submitted_mu);
        if (i >= submitted.size()) return;
        core = submitted[i];
      }
      core->Wait();
    }
  }

  void Finish(TaskRun& run) {
    if (!cfg.keep_history) return;
    TaskRunRecord rec;
    rec.id = run.id;
    rec.name = run.name;
    rec.task_key = run.task_key;
    rec.dynamic_key = run.dynamic_key;
    rec.state = run.state.value_or(State{});
    rec.run_count = run.run_count;
    rec.history = std::move(run.history);
    std::lock_guard lock(mu);
    records.push_back(std::move(rec));
  }

  void JoinAbandoned() {
    std::vector<std::jthread> threads;
    {
      std::lock_guard lock(mu);
      threads.swap(abandoned);
    }
    if (threads.empty()) return;
    flow_logger.info("waiting for {} timed-out task attempt(s) to return", threads.size());
    threads.clear();  // jthread joins
  }

  // ---------------------------------------------------------------- flow run

  void LogFlowStates(const FlowRunAnswer& a) {
    for (size_t i = 0; i < a.written.size(); ++i) {
      const State& s = a.written[i];
      bool last = i + 1 == a.written.size();
      bool failed = s.type == StateType::kFailed || s.type == StateType::kCrashed;
      LogLevel level = failed && last ? LogLevel::kError : LogLevel::kInfo;
      if (s.IsTerminal() && last) {
        flow_logger.Write(level, "Finished in state " + DescribeState(s));
      } else {
        flow_logger.Write(level, "Entered state " + DescribeState(s));
      }
      flow_history.push_back(s);
    }
  }

  // Proposes a flow-run state, obeying WAIT. Returns the answer (or an error).
  core::Result<FlowRunAnswer> ProposeFlow(State proposed) {
    for (;;) {
      auto answer = cfg.backend->ProposeFlowRunState(proposed);
      if (!answer) return answer.error();
      if (answer->state) flow_state = answer->state;
      if (answer->decision == Decision::kAccept) {
        LogFlowStates(*answer);
        return answer;
      }
      if (answer->decision == Decision::kReject && cfg.adopted && proposed.name == "Running" &&
          flow_state && flow_state->type == StateType::kRunning &&
          flow_state->name == "Running") {
        // The agent proposed Running after it started this process, and that landed between
        // our read of the run and this proposal: the run is started either way.
        answer->decision = Decision::kAccept;
        answer->written.clear();
        return answer;
      }
      if (answer->decision == Decision::kWait) {
        double wait = std::clamp(answer->wait_seconds, 0.01, 60.0);
        flow_logger.info("waiting {:.3g}s before {}: {}", wait, proposed.name, answer->reason);
        std::this_thread::sleep_for(core::FromSeconds(wait));
        proposed.timestamp = {};
        continue;
      }
      flow_logger.error("{} refused ({}): {}", proposed.name,
                        core::orchestration::DecisionName(answer->decision), answer->reason);
      return answer;
    }
  }

  int TaskRunCount() {
    std::lock_guard lock(mu);
    return task_run_count;
  }

  // "2 of 1000 task runs failed: square-17 (ValueError: x), ..." for the submitted runs that
  // ended Failed/TimedOut/Crashed and that nobody handled; none when there are none.
  std::optional<State> UnhandledFailures(int total) {
    std::vector<std::shared_ptr<FutureCore>> runs;
    {
      std::lock_guard lock(submitted_mu);
      runs = submitted;
    }
    constexpr size_t kNamed = 5;
    std::string names, ids;
    int count = 0;
    for (const auto& r : runs) {
      if (!r->failed() || r->handled()) continue;
      State s = r->Current();
      if (s.type != StateType::kFailed && s.type != StateType::kCrashed) continue;
      if (++count <= static_cast<int>(kNamed)) {
        if (!names.empty()) names += ", ";
        names += r->task_run_name() + " (" + (s.message.empty() ? s.name : s.message) + ")";
      }
      if (!ids.empty()) ids += ",";
      ids += "\"" + r->task_run_id() + "\"";
    }
    if (count == 0) return std::nullopt;
    std::string message = fmt::format("{} of {} task runs failed: {}{}", count,
                                      std::max(total, count), names,
                                      count > static_cast<int>(kNamed) ? ", ..." : "");
    return core::Failed(Now(), message, "{\"failed_task_runs\":[" + ids + "]}");
  }

  // Runs the body on its own thread; when the timeout passes first, proposes TimedOut at
  // once, signals the stop tokens and gives the body a short grace to return. A body that
  // does not return ends the process (exit 1) after flushing what it can.
  std::optional<core::Result<FlowRunAnswer>> RunBodyWithTimeout(const std::function<void()>& body,
                                                                double timeout) {
    struct Shared {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
    };
    auto shared = std::make_shared<Shared>();
    Engine* engine = self;
    const Logger* logger = &flow_logger;
    std::thread worker([shared, &body, engine, logger] {
      {
        ScopedRunContext scope(engine, logger);
        body();
      }
      std::lock_guard lock(shared->mu);
      shared->done = true;
      shared->cv.notify_all();
    });
    auto wait = [&](double seconds) {
      std::unique_lock lock(shared->mu);
      return shared->cv.wait_for(lock, core::FromSeconds(seconds), [&] { return shared->done; });
    };
    if (wait(timeout)) {
      worker.join();
      return std::nullopt;
    }
    char msg[96];
    std::snprintf(msg, sizeof msg, "Flow run exceeded its timeout of %gs", timeout);
    State timed_out = core::TimedOut(Now(), msg);
    timed_out.details_json = "{\"timeout_seconds\":" + std::to_string(timeout) + "}";
    flow_stop.request_stop();
    auto answer = ProposeFlow(timed_out);
    if (!wait(kFlowTimeoutGraceSeconds)) {
      flow_logger.error("the flow body did not return within {}s of its timeout; exiting",
                        kFlowTimeoutGraceSeconds);
      cfg.backend->Flush();
      if (flow_state && flow_state->IsTerminal()) RunFlowHook(current_ctx(), *flow_state);
      std::_Exit(1);
    }
    worker.join();
    return answer;
  }

  FlowContext& current_ctx() { return *ctx_ptr; }

  // on_completion / on_failure / on_crashed of the flow; a throwing hook is only logged.
  void RunFlowHook(const FlowContext& ctx, const State& state) {
    const FlowOptions& o = cfg.flow->options();
    const auto* hook = state.type == StateType::kCompleted ? &o.on_completion
                       : state.type == StateType::kFailed  ? &o.on_failure
                       : state.type == StateType::kCrashed ? &o.on_crashed
                                                           : nullptr;
    if (!hook || !*hook) return;
    std::lock_guard lock(hook_mu);  // on_crashed from a signal may race the final hook
    if (hook_ran) return;
    hook_ran = true;
    try {
      (*hook)(ctx, state);
    } catch (...) {
      flow_logger.error("flow hook for state {} failed: {}", state.name,
                        DescribeException(std::current_exception()).Text());
    }
  }

  void Execute(FlowRunResult& result) {
    ScopedRunContext scope(self, &flow_logger);
    result.flow_run_id = cfg.flow_run_id;
    result.flow_run_name = cfg.flow_run_name;
    result.ephemeral = cfg.backend->ephemeral();

    auto finish = [&](int code, std::string error) {
      JoinAbandoned();
      auto t0 = std::chrono::steady_clock::now();
      cfg.backend->Flush();
      result.flush_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      result.exit_code = code;
      result.error = std::move(error);
    };

    const FlowOptions& fopts = cfg.flow->options();
    if (const auto* c = std::get_if<ConcurrentTaskRunner>(&fopts.task_runner)) {
      pool = std::make_unique<WorkerPool>(c->max_workers);
    }
    FlowContext ctx;
    ctx_ptr = &ctx;
    std::unique_ptr<TermWatcher> term_watcher;
    if (fopts.on_crashed) {
      // Best effort: a stopped process (an agent's SIGTERM) runs on_crashed before it dies.
      term_watcher = std::make_unique<TermWatcher>([this, &ctx] {
        RunFlowHook(ctx, core::Crashed(Now(), "the flow process received SIGTERM"));
      });
    }

    State proposed = core::Running(Now());
    bool started_by_agent =
        cfg.initial_state && cfg.initial_state->type == StateType::kRunning;
    for (;;) {
      core::Result<FlowRunAnswer> started = core::Error{};
      if (started_by_agent) {
        // The agent proposed Running when it started this process.
        started_by_agent = false;
        FlowRunAnswer a;
        a.state = cfg.initial_state;
        a.run_count = cfg.initial_run_count;
        flow_state = a.state;
        started = std::move(a);
      } else {
        started = ProposeFlow(proposed);
      }
      if (!started) {
        finish(1, "flow run " + cfg.flow_run_id + ": proposing " + proposed.name + ": " +
                      started.error().message);
        break;
      }
      if (started->decision != Decision::kAccept || !flow_state ||
          flow_state->type != StateType::kRunning) {
        finish(1, "flow run " + cfg.flow_run_id + " did not start: " + started->reason);
        break;
      }
      {
        std::lock_guard lock(hook_mu);
        flow_stop = std::stop_source();
        if (cancel_requested) flow_stop.request_stop();
      }
      {
        std::lock_guard lock(submitted_mu);
        submitted.clear();
      }
      int first_task_run = TaskRunCount();
      {
        // The SIGTERM watcher may run on_crashed with this context at any time (under
        // hook_mu, on its own thread).
        std::lock_guard lock(hook_mu);
        ctx = FlowContext();
        ctx.stop_token_ = flow_stop.get_token();
        ctx.params_ = &cfg.params;
        ctx.flow_run_id_ = cfg.flow_run_id;
        ctx.flow_run_name_ = cfg.flow_run_name;
        ctx.flow_name_ = cfg.flow->name();
        ctx.attempt_ = std::max(1, started->run_count);
        ctx.ephemeral_ = cfg.backend->ephemeral();
        ctx.logger_ = flow_logger;
      }

      std::optional<ExceptionInfo> failure;
      auto run_body = [&] {
        try {
          cfg.flow->body()(ctx);
        } catch (const TaskRunFailed& e) {
          failure = ExceptionInfo{"weft::TaskRunFailed", e.what()};
          failure->message =
              "task run '" + e.task_run_name() + "' ended " + e.state().name + ": " + e.what();
        } catch (...) {
          failure = DescribeException(std::current_exception());
        }
        // Nothing dangles: runs the body submitted end before the flow's final state.
        AwaitSubmitted();
      };
      std::optional<core::Result<FlowRunAnswer>> timed_out;
      if (fopts.timeout_seconds > 0) {
        timed_out = RunBodyWithTimeout(run_body, fopts.timeout_seconds);
      } else {
        run_body();
      }
      JoinAbandoned();
      auto t0 = std::chrono::steady_clock::now();
      cfg.backend->Flush();
      result.flush_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

      // The final-state rule (docs/failure-handling.md): the body threw -> Failed; it
      // returned a state -> that state; an unhandled failed task run -> Failed; else
      // Completed.
      State final_state =
          failure ? core::Failed(
                        Now(),
                        failure->type == "weft::TaskRunFailed" ? failure->message : failure->Text(),
                        failure->DetailsJson())
                  : core::Completed(Now());
      if (!failure && ctx.returned_state_) {
        final_state = *ctx.returned_state_;
        final_state.timestamp = Now();
        if (!final_state.IsTerminal()) {
          final_state = core::Failed(Now(), "the flow returned a non-final state " + final_state.name);
        }
      } else if (!failure) {
        if (auto unhandled = UnhandledFailures(TaskRunCount() - first_task_run)) {
          final_state = std::move(*unhandled);
        }
      }
      if (cancel_requested && !timed_out) {
        final_state = core::Cancelled(Now(), "cancelled while running (the flow's stop token was signalled)");
      }
      auto ended = timed_out ? std::move(*timed_out) : ProposeFlow(final_state);
      if (timed_out && ended) final_state = ended->state.value_or(final_state);
      if (!ended) {
        finish(1, "flow run " + cfg.flow_run_id + ": proposing " + final_state.name + ": " +
                      ended.error().message);
        break;
      }
      if (flow_state && flow_state->type == StateType::kScheduled) {
        if (flow_state->scheduled_time) SleepUntil(*flow_state->scheduled_time);
        proposed = core::Retrying(Now());
        continue;
      }
      if (ended->decision != Decision::kAccept) {
        finish(1, "flow run " + cfg.flow_run_id + ": " + final_state.name +
                      " refused: " + ended->reason);
        break;
      }
      bool completed = flow_state && flow_state->type == StateType::kCompleted;
      finish(completed ? 0 : 1, "");
      break;
    }
    if (flow_state && flow_state->IsTerminal()) {
      // The final state is written: hooks may look at it (on_crashed: found Crashed).
      RunFlowHook(ctx, *flow_state);
    }
    term_watcher.reset();
    if (pool) pool->Shutdown();
    result.state = flow_state;
    result.history = flow_history;
    result.task_run_count = task_run_count;
    result.reports_dropped = cfg.backend->dropped();
    std::lock_guard lock(mu);
    result.task_runs = std::move(records);
  }
};

void Engine::Impl::FillContext(TaskContext& ctx, const TaskRun& run, const TaskDef& def,
                               int attempt) {
  ctx.task_run_id_ = run.id;
  ctx.task_run_name_ = run.name;
  ctx.task_name_ = def.name;
  ctx.flow_run_id_ = cfg.flow_run_id;
  ctx.attempt_ = attempt;
  ctx.logger_ = run.logger;
}

Engine::Engine(EngineConfig config) : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(config);
  impl_->self = this;
  impl_->flow_logger =
      Logger("Flow run '" + impl_->cfg.flow_run_name + "'", impl_->cfg.flow_run_id, "", "");
  if (impl_->cfg.cancel_cooperatively) {
    Impl* impl = impl_.get();
    impl_->cfg.backend->OnCancelRequested([impl] { impl->RequestCancel(); });
  }
}

Engine::~Engine() {
  if (impl_->cfg.cancel_cooperatively) impl_->cfg.backend->OnCancelRequested(nullptr);
  impl_->JoinAbandoned();
}

void Engine::Execute(FlowRunResult& result) { impl_->Execute(result); }

int Engine::RunTaskCall(const TaskDef& def, const AttemptBody& body) {
  return impl_->RunTaskCall(def, body);
}

void Engine::Submit(const std::shared_ptr<const TaskDef>& def,
                    const std::shared_ptr<FutureCore>& core, std::vector<Dep> deps,
                    SubmitJob job) {
  impl_->Submit(def, core, std::move(deps), std::move(job));
}

const Logger& Engine::flow_logger() const { return impl_->flow_logger; }

Engine* Engine::Current() { return tls_engine; }

void SubmitTaskCall(const std::shared_ptr<const TaskDef>& def,
                    const std::shared_ptr<FutureCore>& core, std::vector<Dep> deps,
                    SubmitJob job) {
  Engine* engine = Engine::Current();
  if (!engine) {
    throw std::logic_error("task '" + def->name +
                           "' was submitted outside a flow run (submit it from a flow body, run "
                           "by weft::Main or weft::Run)");
  }
  engine->Submit(def, core, std::move(deps), std::move(job));
}

int RunTaskCall(const TaskDef& def, const AttemptBody& body) {
  Engine* engine = Engine::Current();
  if (!engine) {
    throw std::logic_error("task '" + def.name +
                           "' was called outside a flow run (call it from a "
                           "flow body, run by weft::Main or weft::Run)");
  }
  return engine->RunTaskCall(def, body);
}

}  // namespace detail
}  // namespace weft
