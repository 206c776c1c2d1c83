// weft work-queue create|ls|inspect|preview|pause|resume|set-concurrency-limit|
// clear-concurrency-limit|delete
#include "cli/commands/work_queue.hpp"

#include <iostream>

#include "cli/output/json.hpp"
#include "cli/output/table.hpp"
#include "sdk/core/names.hpp"

namespace weft::cli {

namespace {

std::string LimitText(const v1::WorkQueue& q) {
  return q.has_concurrency_limit() ? std::to_string(q.concurrency_limit()) : "none";
}

std::string Items(const google::protobuf::RepeatedPtrField<std::string>& items,
                  const std::string& empty) {
  if (items.empty()) return empty;
  return Join(std::vector<std::string>(items.begin(), items.end()), ", ");
}

std::string FilterSummary(const v1::WorkQueue& q) {
  std::vector<std::string> parts;
  if (!q.filter().tags().empty()) parts.push_back("tags=" + Items(q.filter().tags(), ""));
  if (!q.filter().deployments().empty()) {
    parts.push_back("deployments=" + Items(q.filter().deployments(), ""));
  }
  if (!q.filter().runner_types().empty()) {
    parts.push_back("runners=" + Items(q.filter().runner_types(), ""));
  }
  return Join(parts, " ");
}

void PrintQueue(const v1::WorkQueue& q) {
  std::cout << "Name:              " << q.name() << "\n"
            << "Id:                " << q.id() << "\n"
            << "Description:       " << q.description() << "\n"
            << "Status:            " << (q.paused() ? "paused" : "ready") << "\n"
            << "Priority:          " << q.priority() << "\n"
            << "Concurrency limit: " << LimitText(q) << "\n"
            << "Tags (all of):     " << Items(q.filter().tags(), "(any)") << "\n"
            << "Deployments:       " << Items(q.filter().deployments(), "(any)") << "\n"
            << "Runner types:      " << Items(q.filter().runner_types(), "(any)") << "\n"
            << "Created:           " << ShortTime(q.created()) << "\n"
            << "Updated:           " << ShortTime(q.updated()) << "\n";
}

int Update(const Globals& g, const v1::UpdateWorkQueueRequest& req, const std::string& done) {
  client::Client c(g.api);
  auto resp = c.UpdateWorkQueue(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, resp->work_queue());
    return 0;
  }
  std::cout << done << "\n";
  return 0;
}

}  // namespace

int WorkQueueCreate(const Globals& g, const WorkQueueCreateOptions& o) {
  // The server checks too; checking here answers without a connection.
  if (auto s = core::CheckName(o.name, "name"); !s) return Fail(s.error());
  if (o.concurrency_limit && *o.concurrency_limit < 0) {
    return Fail("--concurrency-limit: must be >= 0, got " + std::to_string(*o.concurrency_limit));
  }
  for (const auto& r : o.runner_types) {
    if (r != "process" && r != "docker" && r != "kubernetes") {
      return Fail("--runner: must be process, docker or kubernetes, got \"" + r + "\"");
    }
  }
  for (const auto& d : o.deployments) {
    auto slash = d.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == d.size()) {
      return Fail("--deployment: must be a deployment's full name FLOW/NAME, got \"" + d + "\"");
    }
  }
  v1::CreateWorkQueueRequest req;
  req.set_name(o.name);
  req.set_description(o.description);
  for (const auto& t : o.tags) req.mutable_filter()->add_tags(t);
  for (const auto& d : o.deployments) req.mutable_filter()->add_deployments(d);
  for (const auto& r : o.runner_types) req.mutable_filter()->add_runner_types(r);
  if (o.concurrency_limit) req.set_concurrency_limit(*o.concurrency_limit);
  req.set_priority(o.priority);
  client::Client c(g.api);
  auto resp = c.CreateWorkQueue(req);
  if (!resp) return Fail(resp.error());
  const auto& q = resp->work_queue();
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, q);
    return 0;
  }
  std::cout << "Created work queue " << q.name() << " (priority " << q.priority()
            << ", concurrency limit " << LimitText(q);
  std::string filters = FilterSummary(q);
  if (!filters.empty()) std::cout << ", " << filters;
  std::cout << ")\n";
  return 0;
}

int WorkQueueLs(const Globals& g) {
  client::Client c(g.api);
  v1::ListWorkQueuesResponse all;
  v1::ListWorkQueuesRequest req;
  req.mutable_page()->set_limit(1000);
  for (;;) {
    auto resp = c.ListWorkQueues(req);
    if (!resp) return Fail(resp.error());
    for (const auto& q : resp->work_queues()) *all.add_work_queues() = q;
    if (resp->page().next_cursor().empty()) break;
    req.mutable_page()->set_cursor(resp->page().next_cursor());
  }
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, all);
    return 0;
  }
  output::Table t({"NAME", "PRIORITY", "LIMIT", "STATUS", "FILTERS"});
  for (const auto& q : all.work_queues()) {
    t.AddRow({q.name(), std::to_string(q.priority()), LimitText(q), q.paused() ? "paused" : "ready",
              FilterSummary(q)});
  }
  t.Print(std::cout);
  return 0;
}

int WorkQueueInspect(const Globals& g, const std::string& name) {
  client::Client c(g.api);
  v1::GetWorkQueueRequest req;
  req.set_name(name);
  auto resp = c.GetWorkQueue(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, resp->work_queue());
    return 0;
  }
  PrintQueue(resp->work_queue());
  return 0;
}

int WorkQueuePreview(const Globals& g, const std::string& name, double hours, int limit) {
  if (hours < 0) return Fail("--hours: must be > 0, got " + std::to_string(hours));
  client::Client c(g.api);
  v1::PreviewWorkQueueRequest req;
  req.set_name(name);
  req.set_hours(hours);
  req.set_limit(limit);
  auto resp = c.PreviewWorkQueue(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  const auto& q = resp->work_queue();
  if (resp->runs().empty()) {
    std::cout << "No scheduled runs for work queue " << q.name() << " in the next "
              << (hours > 0 ? hours : 24) << " hours\n";
  } else {
    output::Table t({"SCHEDULED FOR (UTC)", "FLOW RUN", "DEPLOYMENT", "STATE", "TAGS", "ID"});
    for (const auto& r : resp->runs()) {
      t.AddRow({ShortTime(r.expected_start_time()), r.name(), r.deployment_name(),
                StateLabel(r.state()),
                Join(std::vector<std::string>(r.tags().begin(), r.tags().end()), ","), r.id()});
    }
    t.Print(std::cout);
  }
  if (resp->total() > resp->runs_size()) {
    std::cout << resp->total() << " runs due in the window; showing the first " << resp->runs_size()
              << "\n";
  }
  if (q.paused()) {
    std::cout << "Work queue " << q.name() << " is paused: it hands out none of these ("
              << resp->held_back() << " held back)\n";
  } else if (q.has_concurrency_limit()) {
    std::cout << "Concurrency limit " << q.concurrency_limit() << ": " << resp->active_runs()
              << " Pending/Running now, " << resp->held_back() << " held back\n";
  }
  return 0;
}

int WorkQueueSetPaused(const Globals& g, const std::string& name, bool paused) {
  v1::UpdateWorkQueueRequest req;
  req.set_name(name);
  req.set_paused(paused);
  return Update(g, req, (paused ? "Paused work queue " : "Resumed work queue ") + name);
}

int WorkQueueSetConcurrencyLimit(const Globals& g, const std::string& name,
                                 std::optional<int> limit) {
  v1::UpdateWorkQueueRequest req;
  req.set_name(name);
  if (limit) {
    if (*limit < 0) {
      return Fail("concurrency limit: must be >= 0, got " + std::to_string(*limit));
    }
    req.set_concurrency_limit(*limit);
    return Update(
        g, req,
        "Set the concurrency limit of work queue " + name + " to " + std::to_string(*limit));
  }
  req.set_clear_concurrency_limit(true);
  return Update(g, req, "Cleared the concurrency limit of work queue " + name);
}

int WorkQueueDelete(const Globals& g, const std::string& name) {
  client::Client c(g.api);
  v1::DeleteWorkQueueRequest req;
  req.set_name(name);
  auto resp = c.DeleteWorkQueue(req);
  if (!resp) return Fail(resp.error());
  std::cout << "Deleted work queue " << name << "\n";
  return 0;
}

}  // namespace weft::cli
