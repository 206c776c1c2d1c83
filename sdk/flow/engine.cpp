// The run engine: runs a flow body, orchestrates its task runs in this process (the default
// policy from sdk/core, applied locally), hands their states to the backend, and drives the
// flow run's own states through the backend (synchronously).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "sdk/core/orchestration/rule.hpp"
#include "sdk/flow/internal.hpp"

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
};

enum class AttemptEnd { kOk, kError, kTimedOut };

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

  // ---------------------------------------------------------------- task runs

  // Applies the default policy locally and reports what was written.
  Outcome Transition(TaskRun& run, State proposed) {
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
      TaskRunCreate create;
      create.id = run.id;
      create.flow_run_id = cfg.flow_run_id;
      create.task_key = run.task_key;
      create.dynamic_key = run.dynamic_key;
      create.name = run.name;
      create.retry_policy = run.policy;
      create.tags = run.tags;
      create.initial = out.to_write.front();
      cfg.backend->TaskRunCreated(create);
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

  // Proposes until accepted or refused; WAIT sleeps (the local policy only waits for a
  // scheduled time, which the caller already slept to).
  Outcome Propose(TaskRun& run, State proposed) {
    for (int i = 0;; ++i) {
      Outcome out = Transition(run, proposed);
      if (out.decision != Decision::kWait || i > 100) return out;
      std::this_thread::sleep_for(core::FromSeconds(std::min(out.wait_seconds, 1.0) + 0.001));
      proposed.timestamp = {};
    }
  }

  AttemptEnd RunAttempt(TaskRun& run, const TaskDef& def, int attempt, const AttemptBody& body,
                        std::exception_ptr& error) {
    double timeout = def.options.timeout_seconds;
    if (timeout <= 0) {
      TaskContext ctx;
      FillContext(ctx, run, def, attempt);
      ScopedRunContext scope(self, &ctx.logger_);
      try {
        body(ctx);
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
    std::jthread worker([shared, ctx, body, engine](std::stop_token st) {
      ctx->stop_token_ = st;
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
    TaskRun run;
    run.id = NewUuid();
    run.task_key = def.name;
    run.policy = def.policy;
    run.tags = def.options.tags;
    {
      std::lock_guard lock(mu);
      run.dynamic_key = std::to_string(counters[def.name]++);
      ++task_run_count;
    }
    run.name = def.name + "-" + run.dynamic_key;
    run.logger = Logger("Task run '" + run.name + "'", cfg.flow_run_id, run.id, run.name);

    Propose(run, core::Pending(Now()));
    State running = core::Running(Now());
    int succeeded = 0;
    for (;;) {
      Outcome started = Propose(run, running);
      if (started.decision != Decision::kAccept || !run.state ||
          run.state->type != StateType::kRunning) {
        State s = run.state.value_or(core::Failed(Now(), "could not start: " + started.reason));
        Finish(run);
        throw TaskRunFailed(run.id, run.name, s);
      }
      int attempt = run.run_count;
      std::exception_ptr error;
      AttemptEnd end = RunAttempt(run, def, attempt, body, error);
      Outcome out;
      if (end == AttemptEnd::kOk) {
        out = Propose(run, core::Completed(Now()));
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
      Finish(run);
      throw TaskRunFailed(run.id, run.name, final_state);
    }
    Finish(run);
    return succeeded;
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
      FlowContext ctx;
      ctx.params_ = &cfg.params;
      ctx.flow_run_id_ = cfg.flow_run_id;
      ctx.flow_run_name_ = cfg.flow_run_name;
      ctx.flow_name_ = cfg.flow->name();
      ctx.attempt_ = std::max(1, started->run_count);
      ctx.ephemeral_ = cfg.backend->ephemeral();
      ctx.logger_ = flow_logger;

      std::optional<ExceptionInfo> failure;
      try {
        cfg.flow->body()(ctx);
      } catch (const TaskRunFailed& e) {
        failure = ExceptionInfo{"weft::TaskRunFailed", e.what()};
        failure->message =
            "task run '" + e.task_run_name() + "' ended " + e.state().name + ": " + e.what();
      } catch (...) {
        failure = DescribeException(std::current_exception());
      }
      JoinAbandoned();
      auto t0 = std::chrono::steady_clock::now();
      cfg.backend->Flush();
      result.flush_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

      State final_state =
          failure ? core::Failed(
                        Now(),
                        failure->type == "weft::TaskRunFailed" ? failure->message : failure->Text(),
                        failure->DetailsJson())
                  : core::Completed(Now());
      auto ended = ProposeFlow(final_state);
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
}

Engine::~Engine() { impl_->JoinAbandoned(); }

void Engine::Execute(FlowRunResult& result) { impl_->Execute(result); }

int Engine::RunTaskCall(const TaskDef& def, const AttemptBody& body) {
  return impl_->RunTaskCall(def, body);
}

const Logger& Engine::flow_logger() const { return impl_->flow_logger; }

Engine* Engine::Current() { return tls_engine; }

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
