// Subflows: a flow called from inside another flow's body runs as a child flow run, in the
// caller's thread, with its own engine and backend. On a server the parent gets a wrapper
// task run (created synchronously, so it exists before the child links to it) whose final
// state is the child's. docs/subflows.md has the contract.
#include <algorithm>
#include <thread>

#include "sdk/client/client.hpp"
#include "sdk/client/convert.hpp"
#include "sdk/core/field_limits.hpp"
#include "sdk/flow/internal.hpp"
#include "sdk/flow/subflow.hpp"

namespace weft {
namespace detail {

namespace {

std::mutex hosts_mu;
std::map<const Engine*, std::shared_ptr<RunHost>>& Hosts() {
  static auto* hosts = new std::map<const Engine*, std::shared_ptr<RunHost>>();
  return *hosts;
}

core::TimePoint Now() { return std::chrono::system_clock::now(); }

// The wrapper task run's final state for the child's final state.
core::State WrapperState(const Flow& child, const FlowRunResult& r) {
  if (!r.state) {
    return core::Failed(Now(), "subflow '" + child.name() + "' did not run: " +
                                   (r.error.empty() ? std::string("no flow run") : r.error));
  }
  core::State s = *r.state;
  s.timestamp = Now();
  s.idempotency_key.clear();
  s.scheduled_time.reset();
  std::string who = "subflow run '" + r.flow_run_name + "' (" + r.flow_run_id + ")";
  if (s.type == core::StateType::kCompleted) {
    s.message = who + " Completed";
  } else {
    s.message = core::CutText(who + " ended " + s.name + (s.message.empty() ? "" : ": " + s.message),
                              core::kMaxStateMessageBytes);
    if (!s.IsTerminal()) {  // never expected: Execute ends in a final state
      s = core::Failed(Now(), who + " ended in non-final state " + r.state->name);
    }
  }
  return s;
}

void LogWrapper(const Logger& log, const core::State& s, bool created, const std::string& name,
                const std::string& flow_name) {
  if (created) {
    log.info("Created task run '{}' for subflow '{}' in state {}", name, flow_name,
             DescribeState(s));
    return;
  }
  bool failed = s.type == core::StateType::kFailed || s.type == core::StateType::kCrashed;
  if (s.IsTerminal()) {
    log.Write(failed ? LogLevel::kError : LogLevel::kInfo, "Finished in state " + DescribeState(s));
  } else {
    log.info("Entered state {}", DescribeState(s));
  }
}

FlowRunResult RunChildEphemeral(const Flow& child, RunHost& parent, core::ParamValues params,
                                const Logger& wrapper_log) {
  auto backend = MakeEphemeralBackend(child.retry_policy());
  EngineConfig cfg;
  cfg.flow = &child;
  cfg.params = std::move(params);
  cfg.backend = backend.get();
  cfg.flow_run_id = NewUuid();
  cfg.flow_run_name = NewRunName();
  cfg.keep_history = parent.keep_history;
  std::string id = cfg.flow_run_id, name = cfg.flow_run_name;
  Engine engine(std::move(cfg));
  ScopedRunHost host(&engine, nullptr, id, name, parent.keep_history);
  auto created = backend->ProposeFlowRunState(core::Pending(Now()));
  wrapper_log.info("Created subflow run '{}' of flow '{}' in state Pending() (ephemeral)", name,
                   child.name());
  FlowRunResult result;
  engine.Execute(result);
  if (created && !created->written.empty()) {
    result.history.insert(result.history.begin(), created->written.front());
  }
  return result;
}

}  // namespace

ScopedRunHost::ScopedRunHost(const Engine* engine, client::Client* client,
                             std::string flow_run_id, std::string flow_run_name,
                             bool keep_history)
    : engine_(engine) {
  auto host = std::make_shared<RunHost>();
  host->client = client;
  host->flow_run_id = std::move(flow_run_id);
  host->flow_run_name = std::move(flow_run_name);
  host->keep_history = keep_history;
  std::lock_guard lock(hosts_mu);
  Hosts()[engine_] = std::move(host);
}

ScopedRunHost::~ScopedRunHost() {
  std::lock_guard lock(hosts_mu);
  Hosts().erase(engine_);
}

std::shared_ptr<RunHost> FindRunHost(const Engine* engine) {
  std::lock_guard lock(hosts_mu);
  auto it = Hosts().find(engine);
  return it == Hosts().end() ? nullptr : it->second;
}

namespace {

// A submitted subflow: the current task run is the wrapper. The engine reports it in the
// background, so the child's creation retries while the server does not know it yet.
FlowRunResult RunSubmittedChild(const Flow& child, RunHost& parent, core::ParamValues params,
                                const TaskContext& task) {
  const Logger& wrapper_log = task.logger();
  FlowRunResult result;
  if (!parent.client) {
    result = RunChildEphemeral(child, parent, std::move(params), wrapper_log);
  } else {
    client::Client& c = *parent.client;
    v1::CreateFlowRequest cf;
    cf.set_name(child.name());
    for (const auto& t : child.options().tags) cf.add_tags(t);
    cf.set_parameters_schema_json(core::SpecsToJson(child.param_specs()));
    if (auto r = WithRetries([&] { return c.CreateFlow(cf); }); !r) {
      throw std::runtime_error("subflow '" + child.name() + "': registering the flow: " +
                               r.error().message);
    }
    v1::CreateFlowRunRequest cr;
    cr.set_flow_name(child.name());
    cr.set_parameters_json(core::ParamsToJson(params));
    for (const auto& t : child.options().tags) cr.add_tags(t);
    *cr.mutable_retry_policy() = client::ToProto(child.retry_policy());
    *cr.mutable_initial_state() = client::ToProto(core::Pending(Now()));
    cr.set_idempotency_key("subflow:" + task.task_run_id());
    cr.set_parent_task_run_id(task.task_run_id());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto created = WithRetries([&] { return c.CreateFlowRun(cr); });
    while (!created && created.error().code == core::Code::kNotFound &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the report is on its way
      created = WithRetries([&] { return c.CreateFlowRun(cr); });
    }
    if (!created) {
      throw std::runtime_error("subflow '" + child.name() + "': creating its flow run: " +
                               created.error().message);
    }
    const v1::FlowRun& run = created->flow_run();
    std::optional<core::State> current;
    if (run.has_state()) current = client::FromProto(run.state());
    wrapper_log.info("Created subflow run '{}' of flow '{}' (id {})", run.name(), child.name(),
                     run.id());
    auto backend = MakeServerBackend(c, run.id(), current, /*stop_on_cancel=*/false);
    EngineConfig cfg;
    cfg.flow = &child;
    cfg.params = std::move(params);
    cfg.backend = backend.get();
    cfg.flow_run_id = run.id();
    cfg.flow_run_name = run.name().empty() ? run.id() : run.name();
    cfg.keep_history = parent.keep_history;
    cfg.initial_state = current;
    cfg.initial_run_count = run.run_count();
    cfg.cancel_cooperatively = true;  // cancelling this child alone stops it, not the process
    Engine engine(std::move(cfg));
    ScopedRunHost host(&engine, &c, run.id(), run.name(), parent.keep_history);
    engine.Execute(result);
    if (current) result.history.insert(result.history.begin(), *current);
  }
  core::State final_state = WrapperState(child, result);
  if (final_state.type != core::StateType::kCompleted) {
    throw TaskRunFailed(task.task_run_id(), task.task_run_name(), final_state);
  }
  return result;
}

}  // namespace

// `in_task`: the call runs as the body of a submitted task run (Flow::Submit), which is then
// the wrapper task run (created by the engine, not here).
FlowRunResult RunSubflow(const Flow& child, const ParamMap& args, const TaskContext* in_task) {
  Engine* parent_engine = Engine::Current();
  std::shared_ptr<RunHost> parent = parent_engine ? FindRunHost(parent_engine) : nullptr;
  if (!parent) {
    throw std::logic_error("flow '" + child.name() +
                           "' was called as a subflow outside a flow run (call it from a flow "
                           "body, run by weft::Main or weft::Run)");
  }
  if (!child.declaration_error().empty()) {
    throw std::invalid_argument("subflow '" + child.name() + "': " + child.declaration_error());
  }
  auto resolved = core::ResolveParams(child.param_specs(), ParamMapToJson(args), {});
  if (!resolved) {
    throw std::invalid_argument("subflow '" + child.name() + "': " + resolved.error().message);
  }
  if (in_task) return RunSubmittedChild(child, *parent, std::move(*resolved), *in_task);
  int n;
  {
    std::lock_guard lock(parent->mu);
    n = parent->subflow_calls[child.name()]++;
  }
  const std::string dynamic_key = std::to_string(n);
  const std::string task_name = child.name() + "-" + dynamic_key;

  if (!parent->client) {
    // Ephemeral: the wrapper task run is on the console only.
    std::string task_id = NewUuid();
    Logger wrapper_log("Task run '" + task_name + "'", parent->flow_run_id, task_id, task_name);
    LogWrapper(wrapper_log, core::Pending(Now()), true, task_name, child.name());
    FlowRunResult result = RunChildEphemeral(child, *parent, std::move(*resolved), wrapper_log);
    core::State final_state = WrapperState(child, result);
    LogWrapper(wrapper_log, final_state, false, task_name, child.name());
    if (final_state.type != core::StateType::kCompleted) {
      throw TaskRunFailed(task_id, task_name, final_state);
    }
    return result;
  }

  client::Client& c = *parent->client;
  auto fail = [&](const std::string& what, const core::Error& e) -> std::runtime_error {
    return std::runtime_error("subflow '" + child.name() + "': " + what + ": " + e.message);
  };
  v1::CreateFlowRequest cf;
  cf.set_name(child.name());
  for (const auto& t : child.options().tags) cf.add_tags(t);
  cf.set_parameters_schema_json(core::SpecsToJson(child.param_specs()));
  if (auto r = WithRetries([&] { return c.CreateFlow(cf); }); !r) {
    throw fail("registering the flow", r.error());
  }

  // The wrapper task run, synchronously, so that it exists before the child links to it.
  v1::CreateTaskRunRequest tr;
  tr.set_id(NewUuid());
  tr.set_flow_run_id(parent->flow_run_id);
  tr.set_task_key("subflow:" + child.name());
  tr.set_dynamic_key(dynamic_key);
  tr.set_name(task_name);
  for (const auto& t : child.options().tags) tr.add_tags(t);
  *tr.mutable_initial_state() = client::ToProto(core::Pending(Now()));
  auto created_task = WithRetries([&] { return c.CreateTaskRun(tr); });
  if (!created_task) throw fail("creating its task run", created_task.error());
  const std::string task_id = created_task->task_run().id();
  Logger wrapper_log("Task run '" + task_name + "'", parent->flow_run_id, task_id, task_name);
  LogWrapper(wrapper_log, core::Pending(Now()), true, task_name, child.name());

  auto propose_task = [&](core::State s) {
    s.idempotency_key = NewUuid();  // safe to resend
    v1::SetTaskRunStateRequest sr;
    sr.set_task_run_id(task_id);
    *sr.mutable_state() = client::ToProto(s);
    auto r = WithRetries([&] { return c.SetTaskRunState(sr); });
    if (!r) {
      wrapper_log.warning("proposing {}: {}", s.name, r.error().message);
      return;
    }
    if (r->result().decision() != v1::ACCEPT) {
      wrapper_log.warning("{} refused: {}", s.name, r->result().reason());
      return;
    }
    LogWrapper(wrapper_log, s, false, task_name, child.name());
  };
  propose_task(core::Running(Now()));

  v1::CreateFlowRunRequest cr;
  cr.set_flow_name(child.name());
  cr.set_parameters_json(core::ParamsToJson(*resolved));
  for (const auto& t : child.options().tags) cr.add_tags(t);
  *cr.mutable_retry_policy() = client::ToProto(child.retry_policy());
  *cr.mutable_initial_state() = client::ToProto(core::Pending(Now()));
  cr.set_idempotency_key("subflow:" + task_id);  // a resend returns the same run
  cr.set_parent_task_run_id(task_id);
  auto created_run = WithRetries([&] { return c.CreateFlowRun(cr); });
  if (!created_run) {
    core::State failed =
        core::Failed(Now(), "creating the subflow run: " + created_run.error().message);
    propose_task(failed);
    throw TaskRunFailed(task_id, task_name, failed);
  }
  const v1::FlowRun& run = created_run->flow_run();
  std::optional<core::State> current;
  if (run.has_state()) current = client::FromProto(run.state());
  wrapper_log.info("Created subflow run '{}' of flow '{}' (id {})", run.name(), child.name(),
                   run.id());

  FlowRunResult result;
  {
    // The child's own heartbeats and reports; a cancel of the parent cancels it on the
    // server (the cascade), and the parent's process stop ends it.
    auto backend = MakeServerBackend(c, run.id(), current, /*stop_on_cancel=*/false);
    EngineConfig cfg;
    cfg.flow = &child;
    cfg.params = std::move(*resolved);
    cfg.backend = backend.get();
    cfg.flow_run_id = run.id();
    cfg.flow_run_name = run.name().empty() ? run.id() : run.name();
    cfg.keep_history = parent->keep_history;
    cfg.initial_state = current;
    cfg.initial_run_count = run.run_count();
    cfg.cancel_cooperatively = true;  // cancelling this child alone stops it, not the process
    Engine engine(std::move(cfg));
    ScopedRunHost host(&engine, &c, run.id(), run.name(), parent->keep_history);
    engine.Execute(result);  // sets and restores this thread's engine and logger
    if (current) result.history.insert(result.history.begin(), *current);
  }
  core::State final_state = WrapperState(child, result);
  propose_task(final_state);
  if (final_state.type != core::StateType::kCompleted) {
    throw TaskRunFailed(task_id, task_name, final_state);
  }
  return result;
}

}  // namespace detail

FlowRunResult Flow::Call(const ParamMap& params) const {
  return detail::RunSubflow(*this, params, nullptr);
}
FlowRunResult Flow::Call() const { return detail::RunSubflow(*this, {}, nullptr); }
FlowRunResult Flow::operator()(FlowContext& parent, const ParamMap& params) const {
  (void)parent;  // the thread's current run is the parent; the context documents the call
  return detail::RunSubflow(*this, params, nullptr);
}
FlowRunResult Flow::operator()(FlowContext& parent) const {
  (void)parent;
  return detail::RunSubflow(*this, {}, nullptr);
}

Future<FlowRunResult> Flow::Submit(const ParamMap& params) const {
  // Checked in the caller's thread, so a bad parameter throws here, before any run exists.
  if (!declaration_error().empty()) {
    throw std::invalid_argument("subflow '" + name() + "': " + declaration_error());
  }
  if (auto resolved = core::ResolveParams(param_specs(), ParamMapToJson(params), {}); !resolved) {
    throw std::invalid_argument("subflow '" + name() + "': " + resolved.error().message);
  }
  // The submitted task run is the wrapper; the flow object outlives its runs (a declared
  // flow is a long-lived value), the parameters are copied.
  auto wrapper = weft::task(name(), [self = this, params](TaskContext& ctx) {
    return detail::RunSubflow(*self, params, &ctx);
  });
  return wrapper.Submit();
}
Future<FlowRunResult> Flow::Submit() const { return Submit(ParamMap{}); }

}  // namespace weft
