#include <chrono>
#include <iostream>
#include <thread>

#include "cli/commands/agent.hpp"
#include "cli/commands/common.hpp"
#include "cli/output/json.hpp"
#include "cli/output/table.hpp"
#include "sdk/client/convert.hpp"
#include "sdk/core/state.hpp"
#include "sdk/core/time.hpp"

namespace weft::cli {

namespace {

std::string Duration(const v1::FlowRun& r) {
  if (r.total_run_time_seconds() <= 0) return "";
  return core::FormatDuration(r.total_run_time_seconds());
}

}  // namespace

int FlowRunLs(const Globals& g, const FlowRunLsOptions& o) {
  v1::ListFlowRunsRequest req;
  req.mutable_page()->set_limit(o.limit);
  req.set_flow_name(o.flow);
  req.set_deployment(o.deployment);
  req.set_parent_flow_run_id(o.parent);
  for (const auto& s : o.states) {
    auto type = core::ParseStateType(s);
    if (!type) {
      return Fail("--state: unknown state \"" + s +
                  "\" (expected a type such as COMPLETED or a name such as Late)");
    }
    bool is_type = core::StateTypeName(*type) == [&] {
      std::string u;
      for (char ch : s) u += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      return u;
    }();
    if (is_type) {
      req.add_state_types(static_cast<v1::StateType>(static_cast<int>(*type)));
    } else {
      // A state name: normalise the case ("late" -> "Late", "awaitingretry" -> "AwaitingRetry").
      static const char* kNames[] = {"Late", "AwaitingRetry", "Retrying", "Cached", "TimedOut"};
      std::string name = s;
      for (const char* n : kNames) {
        if (strcasecmp(n, s.c_str()) == 0) name = n;
      }
      req.add_state_names(name);
    }
  }
  client::Client c(g.api);
  auto resp = c.ListFlowRuns(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"ID", "FLOW", "NAME", "STATE", "START", "DURATION"});
  for (const auto& r : resp->flow_runs()) {
    t.AddRow({r.id(), r.flow_name(), r.name(), StateLabel(r.state()),
              ShortTime(r.start_time().seconds() ? r.start_time() : r.expected_start_time()),
              Duration(r)});
  }
  t.Print(std::cout);
  return 0;
}

int FlowRunInspect(const Globals& g, const std::string& id) {
  client::Client c(g.api);
  v1::GetFlowRunRequest req;
  req.set_id(id);
  auto run = c.GetFlowRun(req);
  if (!run) return Fail(run.error());
  auto history = FlowRunHistory(c, id);
  if (!history) return Fail(history.error());
  v1::ListTaskRunsRequest treq;
  treq.set_flow_run_id(id);
  treq.mutable_page()->set_limit(1000);
  auto tasks = c.ListTaskRuns(treq);
  if (!tasks) return Fail(tasks.error());
  // Subflow runs started from this run (newest first).
  v1::ListFlowRunsRequest creq;
  creq.set_parent_flow_run_id(run->flow_run().id());
  creq.mutable_page()->set_limit(200);
  auto children = c.ListFlowRuns(creq);
  if (!children) return Fail(children.error());

  // Each task run's history, so a retried task shows how it got to its final state.
  std::vector<v1::ListTaskRunStatesResponse> task_histories;
  for (const auto& tr : tasks->task_runs()) {
    auto h = TaskRunHistory(c, tr.id());
    if (!h) return Fail(h.error());
    task_histories.push_back(std::move(*h));
  }

  if (g.format == Format::kJson) {
    // One JSON document: {"flow_run": ..., "states": [...], "task_runs": [...]}.
    std::cout << "{\n\"flow_run\": ";
    output::PrintJson(std::cout, run->flow_run());
    std::cout << ",\n\"history\": ";
    output::PrintJson(std::cout, *history);
    std::cout << ",\n\"task_runs\": ";
    output::PrintJson(std::cout, *tasks);
    std::cout << ",\n\"task_run_histories\": [\n";
    for (size_t i = 0; i < task_histories.size(); ++i) {
      if (i) std::cout << ",\n";
      output::PrintJson(std::cout, task_histories[i]);
    }
    std::cout << "],\n\"subflow_runs\": ";
    output::PrintJson(std::cout, *children);
    std::cout << "\n}\n";
    return 0;
  }
  const auto& r = run->flow_run();
  std::cout << "Flow run " << r.name() << " (" << r.id() << ")\n"
            << "  flow:        " << r.flow_name() << "\n"
            << "  state:       " << StateLabel(r.state())
            << (r.state().message().empty() ? "" : " - " + r.state().message()) << "\n"
            << "  parameters:  " << (r.parameters_json().empty() ? "{}" : r.parameters_json())
            << "\n"
            << "  run count:   " << r.run_count() << "\n"
            << "  started:     " << ShortTime(r.start_time()) << "\n"
            << "  ended:       " << ShortTime(r.end_time()) << "\n"
            << "  duration:    " << Duration(r) << "\n";
  if (!r.agent_id().empty()) {
    std::cout << "  agent:       " << (r.agent_name().empty() ? r.agent_id() : r.agent_name())
              << " (" << r.agent_id() << "), last heartbeat " << ShortTime(r.last_heartbeat())
              << "\n";
  }
  if (!r.tags().empty()) {
    std::vector<std::string> tags(r.tags().begin(), r.tags().end());
    std::cout << "  tags:        " << Join(tags, ", ") << "\n";
  }
  if (!r.parent_flow_run_id().empty() || !r.parent_task_run_id().empty()) {
    std::cout << "  parent:      flow run " << r.parent_flow_run_id() << ", task run "
              << r.parent_task_run_id() << "\n";
  }
  if (r.state().type() == v1::PAUSED && r.state().has_scheduled_time()) {
    std::cout << "  resume by:   " << ShortTime(r.state().scheduled_time())
              << " (weft flow-run resume " << r.id() << ")\n";
  }
  std::cout << "\nState history\n";
  output::Table h({"TIME", "STATE", "TYPE", "MESSAGE"});
  for (const auto& s : history->states()) {
    h.AddRow({ShortTime(s.timestamp()), StateLabel(s),
              core::StateTypeName(static_cast<core::StateType>(s.type())), s.message()});
  }
  h.Print(std::cout);
  std::cout << "\nTask runs (" << tasks->task_runs_size() << ")\n";
  output::Table t({"NAME", "STATE", "RUNS", "HISTORY", "MESSAGE"});
  for (int i = 0; i < tasks->task_runs_size(); ++i) {
    const auto& tr = tasks->task_runs(i);
    std::vector<std::string> names;
    for (const auto& s : task_histories[static_cast<size_t>(i)].states()) names.push_back(s.name());
    t.AddRow({tr.name(), tr.state().name(), std::to_string(tr.run_count()), Join(names, " -> "),
              tr.state().message()});
  }
  t.Print(std::cout);
  if (children->flow_runs_size() > 0) {
    std::cout << "\nSubflow runs (" << children->flow_runs_size() << ")\n";
    output::Table st({"ID", "FLOW", "NAME", "STATE", "PARENT TASK RUN"});
    for (const auto& ch : children->flow_runs()) {
      st.AddRow({ch.id(), ch.flow_name(), ch.name(), StateLabel(ch.state()),
                 ch.parent_task_run_id()});
    }
    st.Print(std::cout);
  }
  return 0;
}

}  // namespace weft::cli

namespace weft::cli {

int FlowRunResume(const Globals& g, const std::string& id) {
  client::Client c(g.api);
  v1::ResumeFlowRunRequest req;
  req.set_flow_run_id(id);
  auto resp = c.ResumeFlowRun(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  const auto& r = resp->result();
  if (r.decision() != v1::ACCEPT) {
    return Fail("flow run " + id + ": resume refused: " + r.reason());
  }
  std::cout << "Flow run " << id << " is " << (r.state().name().empty() ? "Running" : r.state().name())
            << " again.\n";
  return 0;
}

int FlowRunCancel(const Globals& g, const std::string& id, const std::string& message) {
  client::Client c(g.api);
  v1::CancelFlowRunRequest req;
  req.set_flow_run_id(id);
  req.set_message(message);
  auto resp = c.CancelFlowRun(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  const auto& r = resp->result();
  if (r.decision() != v1::ACCEPT) {
    return Fail("flow run " + id + ": cancel refused: " + r.reason());
  }
  const auto& s = r.state();
  if (s.type() == v1::CANCELLING) {
    std::cout << "Flow run " << id << " is Cancelling: its agent stops the process and reports "
              << "Cancelled (watch with 'weft flow-run inspect " << id << "').\n";
  } else {
    std::cout << "Flow run " << id << " is " << (s.name().empty() ? "Cancelled" : s.name())
              << ".\n";
  }
  return 0;
}

int FlowRunWait(const Globals& g, const std::string& id, double timeout_seconds) {
  client::Client c(g.api);
  v1::GetFlowRunRequest req;
  req.set_id(id);
  auto deadline = std::chrono::steady_clock::now() + core::FromSeconds(timeout_seconds);
  std::string last;
  for (;;) {
    auto resp = c.GetFlowRun(req);
    if (!resp) return Fail(resp.error());
    const v1::FlowRun& run = resp->flow_run();
    auto state = client::FromProto(run.state());
    std::string name = state ? state->name : "?";
    if (g.format != Format::kJson && name != last) {
      std::cout << "Flow run " << run.name() << " (" << id << "): " << name
                << (run.state().message().empty() ? "" : " - " + run.state().message()) << "\n"
                << std::flush;
      last = name;
    }
    if (state && state->IsTerminal()) {
      if (g.format == Format::kJson) output::PrintJson(std::cout, *resp);
      return state->type == core::StateType::kCompleted ? 0 : 1;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Fail("flow run " + id + " is still " + name + " after " +
                  core::FormatDuration(timeout_seconds));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace weft::cli
