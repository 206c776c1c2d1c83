#include <iostream>

#include "cli/commands/common.hpp"
#include "cli/output/json.hpp"
#include "cli/output/table.hpp"
#include "sdk/core/state.hpp"
#include "sdk/core/time.hpp"

namespace weft::cli {

int TaskRunLs(const Globals& g, const std::string& flow_run_id, int limit) {
  client::Client c(g.api);
  v1::ListTaskRunsRequest req;
  req.set_flow_run_id(flow_run_id);
  req.mutable_page()->set_limit(limit);
  auto resp = c.ListTaskRuns(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"ID", "NAME", "STATE", "RUNS", "START", "DURATION"});
  for (const auto& r : resp->task_runs()) {
    t.AddRow({r.id(), r.name(), StateLabel(r.state()), std::to_string(r.run_count()),
              ShortTime(r.start_time()),
              r.total_run_time_seconds() > 0 ? core::FormatDuration(r.total_run_time_seconds())
                                             : ""});
  }
  t.Print(std::cout);
  return 0;
}

int TaskRunInspect(const Globals& g, const std::string& id) {
  client::Client c(g.api);
  v1::GetTaskRunRequest req;
  req.set_id(id);
  auto run = c.GetTaskRun(req);
  if (!run) return Fail(run.error());
  auto history = TaskRunHistory(c, id);
  if (!history) return Fail(history.error());
  if (g.format == Format::kJson) {
    std::cout << "{\n\"task_run\": ";
    output::PrintJson(std::cout, run->task_run());
    std::cout << ",\n\"history\": ";
    output::PrintJson(std::cout, *history);
    std::cout << "}\n";
    return 0;
  }
  const auto& r = run->task_run();
  std::cout << "Task run " << r.name() << " (" << r.id() << ")\n"
            << "  flow run:    " << r.flow_run_id() << "\n"
            << "  task key:    " << r.task_key() << " [" << r.dynamic_key() << "]\n"
            << "  state:       " << StateLabel(r.state())
            << (r.state().message().empty() ? "" : " - " + r.state().message()) << "\n"
            << "  run count:   " << r.run_count() << "\n";
  if (!r.cache_key().empty()) {
    std::cout << "  cache key:   " << r.cache_key() << "\n";
  }
  if (r.has_result()) {
    std::cout << "  result:      stored"
              << (r.has_cache_expiration()
                      ? ", cached until " + ShortTime(r.cache_expiration())
                      : std::string(r.cache_key().empty() ? "" : ", cached without expiration"))
              << " (weft task-run result " << r.id() << ")\n";
  }
  std::cout << "\nState history\n";
  output::Table h({"TIME", "STATE", "TYPE", "MESSAGE"});
  for (const auto& s : history->states()) {
    h.AddRow({ShortTime(s.timestamp()), StateLabel(s),
              core::StateTypeName(static_cast<core::StateType>(s.type())), s.message()});
  }
  h.Print(std::cout);
  return 0;
}

int TaskRunResult(const Globals& g, const std::string& id) {
  client::Client c(g.api);
  v1::GetTaskRunResultRequest req;
  req.set_task_run_id(id);
  auto resp = c.GetTaskRunResult(req);
  if (!resp) return Fail(resp.error());
  // The result is JSON already: printed as stored, in either output format.
  std::cout << resp->result_json() << "\n";
  return 0;
}

}  // namespace weft::cli
