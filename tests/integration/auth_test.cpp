// Authentication and scopes through the real gRPC API: keys created, listed, revoked and
// expired; each scope's calls; agent keys bound to their queues; run tokens minted at claim.
#include <catch2/catch.hpp>

#include "tests/integration/agent_test_support.hpp"

namespace weft::test {

namespace {

std::unique_ptr<client::Client> As(const ApiServer& s, const std::string& key) {
  client::ClientOptions o;
  o.address = s.app->grpc_address();
  o.api_key = key;
  return std::make_unique<client::Client>(o);
}

v1::CreateApiKeyResponse CreateKey(client::Client& admin, const std::string& name,
                                   const std::string& scope, std::vector<std::string> queues = {},
                                   std::int64_t expires_in = 0) {
  v1::CreateApiKeyRequest req;
  req.set_name(name);
  req.set_scope(scope);
  for (const auto& q : queues) req.add_work_queues(q);
  req.set_expires_in_seconds(expires_in);
  auto r = admin.CreateApiKey(req);
  if (!r.ok()) FAIL("creating key " << name << ": " << r.error().message);
  return *r;
}

core::Code CodeOf(const core::Status& s) { return s.ok() ? core::Code::kOk : s.error().code; }

template <typename T>
core::Status Ok(const core::Result<T>& r) {
  if (r.ok()) return {};
  return r.error();
}

// The error of a call that must be refused with PERMISSION_DENIED ("" when it was not).
template <typename T>
std::string DeniedMessage(const core::Result<T>& r) {
  if (r.ok()) return "(allowed)";
  if (r.error().code != core::Code::kPermissionDenied) {
    return std::string("(") + core::CodeName(r.error().code) + ": " + r.error().message + ")";
  }
  return r.error().message;
}

v1::GetFlowRunRequest GetRun(const std::string& id) {
  v1::GetFlowRunRequest g;
  g.set_id(id);
  return g;
}

v1::SetFlowRunStateRequest ProposeRun(const std::string& id, const core::State& s) {
  v1::SetFlowRunStateRequest r;
  r.set_flow_run_id(id);
  *r.mutable_state() = client::ToProto(s);
  return r;
}

v1::CreateTaskRunRequest NewTask(const std::string& flow_run_id, const std::string& key) {
  v1::CreateTaskRunRequest t;
  t.set_flow_run_id(flow_run_id);
  t.set_task_key(key);
  return t;
}

v1::CreateFlowRunRequest NewSubflow(const std::string& parent_task_run_id,
                                    const std::string& key = "") {
  v1::CreateFlowRunRequest c;
  c.set_flow_name("child");
  c.set_parent_task_run_id(parent_task_run_id);
  c.set_idempotency_key(key.empty() ? "subflow:" + parent_task_run_id : key);
  return c;
}

v1::WriteLogsRequest OneLine(const std::string& flow_run_id, const std::string& task_run_id = "") {
  v1::WriteLogsRequest w;
  auto* l = w.add_lines();
  l->set_flow_run_id(flow_run_id);
  l->set_task_run_id(task_run_id);
  l->set_message("hello");
  return w;
}

v1::ListLogsRequest LogsOf(const std::string& flow_run_id) {
  v1::ListLogsRequest r;
  r.set_flow_run_id(flow_run_id);
  return r;
}

}  // namespace

TEST_CASE("auth: no key, a malformed key or an unknown key is UNAUTHENTICATED", "[auth]") {
  ApiServer s;
  auto none = As(s, "")->ListFlows({});
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == core::Code::kUnauthenticated);
  CHECK(none.error().message.find("no API key") != std::string::npos);

  auto garbage = As(s, "hunter2")->ListFlows({});
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().code == core::Code::kUnauthenticated);
  CHECK(garbage.error().message.find("hunter2") == std::string::npos);  // never echoed

  // The right shape and id with the wrong secret.
  std::string admin = s.app->admin_key();
  std::string forged = admin.substr(0, admin.size() - 4) + "0000";
  if (forged == admin) forged = admin.substr(0, admin.size() - 4) + "1111";
  auto wrong = As(s, forged)->ListFlows({});
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == core::Code::kUnauthenticated);

  auto ok = As(s, admin)->ListFlows({});
  CHECK(ok.ok());
}

TEST_CASE("auth: api keys are created once, listed without secrets and revoked", "[auth]") {
  ApiServer s;
  auto& admin = *s.client;
  auto created = CreateKey(admin, "ci-viewer", "viewer");
  CHECK(created.token().rfind("weft_", 0) == 0);
  CHECK(created.key().scope() == "viewer");
  CHECK(created.key().id() == created.token().substr(5, 12));

  auto dup = admin.CreateApiKey([] {
    v1::CreateApiKeyRequest r;
    r.set_name("ci-viewer");
    r.set_scope("viewer");
    return r;
  }());
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == core::Code::kAlreadyExists);

  v1::CreateApiKeyRequest bad;
  bad.set_name("has space");
  bad.set_scope("viewer");
  auto bad_name = admin.CreateApiKey(bad);
  REQUIRE_FALSE(bad_name.ok());
  CHECK(bad_name.error().message.rfind("name:", 0) == 0);
  bad.set_name("x");
  bad.set_scope("root");
  auto bad_scope = admin.CreateApiKey(bad);
  REQUIRE_FALSE(bad_scope.ok());
  CHECK(bad_scope.error().message.find("scope: \"root\"") != std::string::npos);
  bad.set_scope("viewer");
  bad.add_work_queues("etl");
  auto queues_on_viewer = admin.CreateApiKey(bad);
  REQUIRE_FALSE(queues_on_viewer.ok());
  CHECK(queues_on_viewer.error().message.rfind("work_queues:", 0) == 0);

  // Listed (the local admin key too), never with anything secret.
  auto list = admin.ListApiKeys({});
  REQUIRE(list.ok());
  std::string secret = created.token().substr(5 + 12 + 1);
  CHECK(list->SerializeAsString().find(secret) == std::string::npos);
  CHECK(list->DebugString().find(secret) == std::string::npos);
  bool found = false;
  for (const auto& k : list->keys()) found = found || k.name() == "ci-viewer";
  CHECK(found);

  auto viewer = As(s, created.token());
  v1::WhoAmIResponse me = *viewer->WhoAmI({});
  CHECK(me.name() == "ci-viewer");
  CHECK(me.scope() == "viewer");
  // A viewer may not list keys.
  auto listed_by_viewer = viewer->ListApiKeys({});
  REQUIRE_FALSE(listed_by_viewer.ok());
  CHECK(listed_by_viewer.error().code == core::Code::kPermissionDenied);

  v1::RevokeApiKeyRequest revoke;
  revoke.set_name("ci-viewer");
  REQUIRE(admin.RevokeApiKey(revoke).ok());
  // This server forgets it at once.
  auto after = viewer->ListFlows({});
  REQUIRE_FALSE(after.ok());
  CHECK(after.error().code == core::Code::kUnauthenticated);
  auto again = admin.RevokeApiKey(revoke);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == core::Code::kNotFound);
}

TEST_CASE("auth: a key revoked through one replica is refused by another within a second",
          "[auth]") {
  ApiServer a;
  server::app::Settings sb;
  sb.grpc_address = "127.0.0.1:0";
  sb.database_url = a.database.url();
  sb.pool_size = 2;
  sb.log_level = "warn";
  sb.scheduler_enabled = false;
  sb.liveness_enabled = false;
  sb.notifier_enabled = false;
  server::app::App b(sb);
  REQUIRE(b.Start().ok());

  auto key = CreateKey(*a.client, "rotating", "operator");
  client::ClientOptions o;
  o.address = b.grpc_address();
  o.api_key = key.token();
  client::Client on_b(o);
  REQUIRE(on_b.ListFlows({}).ok());  // B has now checked (and cached) the key

  v1::RevokeApiKeyRequest revoke;
  revoke.set_name("rotating");
  REQUIRE(a.client->RevokeApiKey(revoke).ok());
  // B's cache trusts a checked key for at most 1 s (Settings::auth_cache_seconds).
  CHECK(Eventually([&] { return CodeOf(Ok(on_b.ListFlows({}))) == core::Code::kUnauthenticated; },
                   2.5));
}

TEST_CASE("auth: an expired key is refused, naming when it expired", "[auth]") {
  ApiServer s;
  auto key = CreateKey(*s.client, "short-lived", "viewer", {}, 1);
  REQUIRE(key.key().has_expires());
  auto c = As(s, key.token());
  core::Error last;
  CHECK(Eventually(
      [&] {
        auto r = c->ListFlows({});
        if (r.ok()) return false;
        last = r.error();
        return true;
      },
      4));
  CHECK(last.code == core::Code::kUnauthenticated);
  CHECK(last.message.find("\"short-lived\" expired at") != std::string::npos);
}

TEST_CASE("auth: each scope may do what it says and no more", "[auth]") {
  AgentFixture f;
  f.Deploy("etl", "etl");
  auto viewer = As(f.server, CreateKey(f.api, "v", "viewer").token());
  auto op = As(f.server, CreateKey(f.api, "o", "operator").token());
  auto agent = As(f.server, CreateKey(f.api, "g", "agent", {"etl"}).token());

  // viewer: reads, nothing else.
  CHECK(viewer->ListFlowRuns({}).ok());
  CHECK(viewer->ListDeployments({}).ok());
  v1::RunDeploymentRequest run;
  run.mutable_ref()->set_full_name("etl/main");
  auto denied = viewer->RunDeployment(run);
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().code == core::Code::kPermissionDenied);
  CHECK(denied.error().message ==
        "DeploymentService.RunDeployment needs scope operator or admin; key \"v\" (scope "
        "viewer) may not call it");

  // operator: runs deployments and creates queues; no key management.
  auto started = op->RunDeployment(run);
  REQUIRE(started.ok());
  v1::CreateWorkQueueRequest q;
  q.set_name("etl");
  CHECK(op->CreateWorkQueue(q).ok());
  auto op_keys = op->CreateApiKey([] {
    v1::CreateApiKeyRequest r;
    r.set_name("escalate");
    r.set_scope("admin");
    return r;
  }());
  REQUIRE_FALSE(op_keys.ok());
  CHECK(op_keys.error().code == core::Code::kPermissionDenied);

  // agent: polls its own queue (and gets a run token per claimed run), nothing else.
  auto polled = agent->PollWorkQueues(AgentFixture::PollRequest(kAgentA, {"etl"}));
  REQUIRE(polled.ok());
  REQUIRE(polled->runs_size() == 1);
  CHECK(polled->runs(0).run_token().rfind("weftrun_", 0) == 0);
  auto other_queue = agent->PollWorkQueues(AgentFixture::PollRequest(kAgentA, {"default"}));
  REQUIRE_FALSE(other_queue.ok());
  CHECK(other_queue.error().code == core::Code::kPermissionDenied);
  CHECK(other_queue.error().message.find("may serve only the work queues etl, not \"default\"") !=
        std::string::npos);
  v1::CreateDeploymentRequest dep;
  auto agent_deploys = agent->CreateDeployment(dep);
  REQUIRE_FALSE(agent_deploys.ok());
  CHECK(agent_deploys.error().code == core::Code::kPermissionDenied);
}

TEST_CASE("auth: a run token drives its run and dies when the run is final", "[auth]") {
  AgentFixture f;
  f.Deploy("etl", "default");
  std::string id = f.Run("etl");
  auto polled = f.Poll(kAgentA, {"default"});
  REQUIRE(polled.runs_size() == 1);
  std::string token = polled.runs(0).run_token();
  REQUIRE_FALSE(token.empty());
  auto flow = As(f.server, token);

  auto me = flow->WhoAmI({});
  REQUIRE(me.ok());
  CHECK(me->scope() == "run");
  CHECK(me->flow_run_id() == id);

  v1::SetFlowRunStateRequest running;
  running.set_flow_run_id(id);
  *running.mutable_state() = client::ToProto(core::Running(std::chrono::system_clock::now()));
  auto r = flow->SetFlowRunState(running);
  REQUIRE(r.ok());
  CHECK(r->result().decision() == v1::ACCEPT);
  // Not an operator: it cannot create deployments or queues.
  auto q = flow->CreateWorkQueue([] {
    v1::CreateWorkQueueRequest w;
    w.set_name("mine");
    return w;
  }());
  REQUIRE_FALSE(q.ok());
  CHECK(q.error().code == core::Code::kPermissionDenied);

  v1::SetFlowRunStateRequest done;
  done.set_flow_run_id(id);
  *done.mutable_state() = client::ToProto(core::Completed(std::chrono::system_clock::now()));
  REQUIRE(flow->SetFlowRunState(done).ok());
  core::Error last;
  CHECK(Eventually(
      [&] {
        auto again = flow->GetFlowRun([&] {
          v1::GetFlowRunRequest g;
          g.set_id(id);
          return g;
        }());
        if (again.ok()) return false;
        last = again.error();
        return true;
      },
      2.5));
  CHECK(last.code == core::Code::kUnauthenticated);
  CHECK(last.message.find("is final (Completed)") != std::string::npos);
  // ... but the flow's last log lines ("Finished in state Completed", shipped after the
  // final state) are still taken for a while (run_token_log_grace_seconds).
  REQUIRE(flow->WriteLogs(OneLine(id)).ok());
  auto logs = f.api.ListLogs(LogsOf(id));
  REQUIRE(logs.ok());
  CHECK(logs->lines_size() == 1);
}

TEST_CASE("auth: a run token drives its run tree (task runs, reports, logs, subflows)",
          "[auth][run-scope]") {
  AgentFixture f;
  f.Deploy("etl", "default");
  std::string id = f.Run("etl");
  auto polled = f.Poll(kAgentA, {"default"});
  REQUIRE(polled.runs_size() == 1);
  auto flow = As(f.server, polled.runs(0).run_token());
  auto now = [] { return std::chrono::system_clock::now(); };

  REQUIRE(flow->SetFlowRunState(ProposeRun(id, core::Running(now()))).ok());
  CHECK(flow->FlowRunHeartbeat([&] {
              v1::FlowRunHeartbeatRequest h;
              h.set_flow_run_id(id);
              return h;
            }())
            .ok());

  // Task runs: created one by one and reported in a batch (created there too).
  auto task = flow->CreateTaskRun(NewTask(id, "extract"));
  REQUIRE(task.ok());
  std::string task_id = task->task_run().id();
  const std::string reported = "33333333-3333-4333-8333-333333333333";
  v1::ReportTaskRunsRequest report;
  auto* created = report.add_reports();
  created->set_task_run_id(reported);
  created->mutable_create()->set_id(reported);
  created->mutable_create()->set_flow_run_id(id);
  created->mutable_create()->set_task_key("load");
  *created->add_states() = client::ToProto(core::Running(now()));
  auto* update = report.add_reports();
  update->set_task_run_id(task_id);
  *update->add_states() = client::ToProto(core::Running(now()));
  auto reports = flow->ReportTaskRuns(report);
  REQUIRE(reports.ok());
  REQUIRE(reports->results_size() == 2);
  CHECK(reports->results(0).accepted());
  CHECK(reports->results(1).accepted());
  v1::SetTaskRunStateRequest done;
  done.set_task_run_id(task_id);
  *done.mutable_state() = client::ToProto(core::Completed(now()));
  CHECK(flow->SetTaskRunState(done).ok());
  v1::GetTaskRunRequest get_task;
  get_task.set_id(reported);
  CHECK(flow->GetTaskRun(get_task).ok());
  v1::ListTaskRunsRequest list_tasks;
  list_tasks.set_flow_run_id(id);
  auto tasks = flow->ListTaskRuns(list_tasks);
  REQUIRE(tasks.ok());
  CHECK(tasks->task_runs_size() == 2);
  v1::ListTaskRunStatesRequest task_states;
  task_states.set_task_run_id(task_id);
  CHECK(flow->ListTaskRunStates(task_states).ok());

  // Logs of its run and its task runs.
  REQUIRE(flow->WriteLogs(OneLine(id, task_id)).ok());
  auto logs = flow->ListLogs(LogsOf(id));
  REQUIRE(logs.ok());
  CHECK(logs->lines_size() == 1);

  // A subflow under one of its task runs, driven with the same token, and a subflow of that.
  v1::CreateFlowRequest child_flow;
  child_flow.set_name("child");
  REQUIRE(flow->CreateFlow(child_flow).ok());
  auto wrapper = flow->CreateTaskRun(NewTask(id, "child-wrapper"));
  REQUIRE(wrapper.ok());
  auto child = flow->CreateFlowRun(NewSubflow(wrapper->task_run().id()));
  REQUIRE(child.ok());
  std::string child_id = child->flow_run().id();
  CHECK(child->flow_run().parent_flow_run_id() == id);
  CHECK(flow->SetFlowRunState(ProposeRun(child_id, core::Running(now()))).ok());
  auto child_task = flow->CreateTaskRun(NewTask(child_id, "inner"));
  REQUIRE(child_task.ok());
  CHECK(flow->WriteLogs(OneLine(child_id, child_task->task_run().id())).ok());
  auto grandchild = flow->CreateFlowRun(NewSubflow(child_task->task_run().id()));
  REQUIRE(grandchild.ok());
  std::string grandchild_id = grandchild->flow_run().id();
  CHECK(flow->GetFlowRun(GetRun(grandchild_id)).ok());
  CHECK(flow->SetFlowRunState(ProposeRun(grandchild_id, core::Running(now()))).ok());
  CHECK(flow->SetFlowRunState(ProposeRun(grandchild_id, core::Completed(now()))).ok());
  // Re-sending a creation (same idempotency key) answers the same run.
  auto again = flow->CreateFlowRun(NewSubflow(wrapper->task_run().id()));
  REQUIRE(again.ok());
  CHECK_FALSE(again->created());
  CHECK(again->flow_run().id() == child_id);
  v1::ListFlowRunsRequest children;
  children.set_parent_flow_run_id(id);
  auto listed = flow->ListFlowRuns(children);
  REQUIRE(listed.ok());
  REQUIRE(listed->flow_runs_size() == 1);
  CHECK(listed->flow_runs(0).id() == child_id);
  CHECK(flow->SetFlowRunState(ProposeRun(child_id, core::Completed(now()))).ok());

  // An id that does not exist is NOT_FOUND, as for anyone.
  auto missing = flow->GetFlowRun(GetRun("44444444-4444-4444-8444-444444444444"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == core::Code::kNotFound);
  CHECK(flow->SetFlowRunState(ProposeRun(id, core::Completed(now()))).ok());
}

TEST_CASE("auth: a run token is refused outside its run tree, naming the id",
          "[auth][run-scope]") {
  AgentFixture f;
  f.Deploy("etl", "default");
  std::string mine = f.Run("etl");
  std::string other = f.Run("etl", std::chrono::milliseconds(1));
  auto polled = f.Poll(kAgentA, {"default"});
  REQUIRE(polled.runs_size() == 2);
  std::string token;
  for (const auto& r : polled.runs()) {
    if (r.flow_run().id() == mine) token = r.run_token();
  }
  REQUIRE_FALSE(token.empty());
  auto flow = As(f.server, token);
  auto now = [] { return std::chrono::system_clock::now(); };
  const std::string me = "a run token of flow run " + mine;

  // Another run: its state, history, heartbeat.
  CHECK(DeniedMessage(flow->GetFlowRun(GetRun(other))) ==
        "id: " + me + " may not touch flow run " + other);
  CHECK(DeniedMessage(flow->SetFlowRunState(ProposeRun(other, core::Crashed(now(), "gone")))) ==
        "flow_run_id: " + me + " may not touch flow run " + other);
  v1::ListFlowRunStatesRequest states;
  states.set_flow_run_id(other);
  CHECK(DeniedMessage(flow->ListFlowRunStates(states)) ==
        "flow_run_id: " + me + " may not touch flow run " + other);
  v1::FlowRunHeartbeatRequest beat;
  beat.set_flow_run_id(other);
  CHECK(DeniedMessage(flow->FlowRunHeartbeat(beat)) ==
        "flow_run_id: " + me + " may not touch flow run " + other);

  // Another run's task runs.
  auto theirs = f.api.CreateTaskRun(NewTask(other, "secret"));
  REQUIRE(theirs.ok());
  std::string their_task = theirs->task_run().id();
  CHECK(DeniedMessage(flow->CreateTaskRun(NewTask(other, "sneak"))) ==
        "flow_run_id: " + me + " may not touch flow run " + other);
  v1::GetTaskRunRequest get_task;
  get_task.set_id(their_task);
  CHECK(DeniedMessage(flow->GetTaskRun(get_task)) ==
        "id: " + me + " may not touch task run " + their_task);
  v1::SetTaskRunStateRequest set_task;
  set_task.set_task_run_id(their_task);
  *set_task.mutable_state() = client::ToProto(core::Running(now()));
  CHECK(DeniedMessage(flow->SetTaskRunState(set_task)) ==
        "task_run_id: " + me + " may not touch task run " + their_task);
  v1::GetTaskRunResultRequest result;
  result.set_task_run_id(their_task);
  CHECK(DeniedMessage(flow->GetTaskRunResult(result)).find("task run " + their_task) !=
        std::string::npos);
  v1::ListTaskRunsRequest list_tasks;
  list_tasks.set_flow_run_id(other);
  CHECK(DeniedMessage(flow->ListTaskRuns(list_tasks)).find("flow run " + other) !=
        std::string::npos);
  // In a batch: a report on their task run, a creation in their run, or a creation reusing
  // the id of their task run.
  auto own_task = flow->CreateTaskRun(NewTask(mine, "mine"));
  REQUIRE(own_task.ok());
  v1::ReportTaskRunsRequest report;
  auto* ok_report = report.add_reports();
  ok_report->set_task_run_id(own_task->task_run().id());
  *ok_report->add_states() = client::ToProto(core::Running(now()));
  auto* bad = report.add_reports();
  bad->set_task_run_id(their_task);
  *bad->add_states() = client::ToProto(core::Completed(now()));
  CHECK(DeniedMessage(flow->ReportTaskRuns(report)) ==
        "reports[1].task_run_id: " + me + " may not touch task run " + their_task);
  bad->clear_task_run_id();
  bad->mutable_create()->set_id("55555555-5555-4555-8555-555555555555");
  bad->mutable_create()->set_flow_run_id(other);
  bad->mutable_create()->set_task_key("sneak");
  CHECK(DeniedMessage(flow->ReportTaskRuns(report)) ==
        "reports[1].create.flow_run_id: " + me + " may not touch flow run " + other);
  // Nothing of the refused batches was written.
  v1::GetTaskRunRequest own_get;
  own_get.set_id(own_task->task_run().id());
  CHECK(f.api.GetTaskRun(own_get)->task_run().state().type() == v1::PENDING);
  // A creation in its own run reusing their task run's id gets nothing of it (and teaches
  // the scope cache nothing: their task run stays out of reach).
  bad->mutable_create()->set_id(their_task);
  bad->mutable_create()->set_flow_run_id(mine);
  auto reused = flow->ReportTaskRuns(report);
  REQUIRE(reused.ok());
  REQUIRE(reused->results_size() == 2);
  CHECK(reused->results(1).accepted() == 0);
  CHECK(reused->results(1).rejected_reason().find("already used by another task run") !=
        std::string::npos);
  CHECK(DeniedMessage(flow->GetTaskRun(get_task)) ==
        "id: " + me + " may not touch task run " + their_task);
  v1::CreateTaskRunRequest reuse_one = NewTask(mine, "reuse");
  reuse_one.set_id(their_task);
  auto reused_one = flow->CreateTaskRun(reuse_one);
  REQUIRE_FALSE(reused_one.ok());
  CHECK(reused_one.error().code == core::Code::kAlreadyExists);
  CHECK(f.api.GetTaskRun(get_task)->task_run().state().type() == v1::PENDING);

  // Another run's logs.
  REQUIRE(f.api.WriteLogs(OneLine(other)).ok());
  CHECK(DeniedMessage(flow->ListLogs(LogsOf(other))) ==
        "flow_run_id: " + me + " may not touch flow run " + other);
  v1::ListLogsRequest by_task;
  by_task.set_task_run_id(their_task);
  CHECK(DeniedMessage(flow->ListLogs(by_task)) ==
        "task_run_id: " + me + " may not touch task run " + their_task);
  auto lines = OneLine(mine);
  *lines.add_lines() = OneLine(other).lines(0);
  CHECK(DeniedMessage(flow->WriteLogs(lines)) ==
        "lines[1].flow_run_id: " + me + " may not touch flow run " + other);

  // Flow runs: no top-level runs, no subflows under another run's task run, no listing of all
  // runs, and no taking over a run through its idempotency key.
  v1::CreateFlowRunRequest top;
  top.set_flow_name("etl");
  CHECK(DeniedMessage(flow->CreateFlowRun(top)) ==
        "parent_task_run_id: " + me +
            " may create only subflow runs (under a task run of its own), not top-level runs");
  CHECK(DeniedMessage(flow->CreateFlowRun(NewSubflow(their_task))) ==
        "parent_task_run_id: " + me + " may not touch task run " + their_task);
  v1::CreateFlowRunRequest operator_run;
  operator_run.set_flow_name("child");
  operator_run.set_idempotency_key("nightly-2026-12-06");
  auto foreign = f.api.CreateFlowRun(operator_run);
  REQUIRE(foreign.ok());
  CHECK(DeniedMessage(flow->CreateFlowRun(
            NewSubflow(own_task->task_run().id(), "nightly-2026-12-06"))) ==
        "idempotency_key: " + me + " may not touch flow run " + foreign->flow_run().id());
  CHECK(DeniedMessage(flow->ListFlowRuns({})).rfind("parent_flow_run_id: " + me, 0) == 0);
  v1::ListFlowRunsRequest their_children;
  their_children.set_parent_flow_run_id(other);
  CHECK(DeniedMessage(flow->ListFlowRuns(their_children)) ==
        "parent_flow_run_id: " + me + " may not touch flow run " + other);

  // The other run is untouched.
  CHECK(f.Get(other).state().type() == v1::PENDING);
}

TEST_CASE("auth: an agent key limited to work queues reads and reports only their runs",
          "[auth][run-scope]") {
  AgentFixture f;
  f.CreateQueue("etl");
  f.Deploy("etl", "etl");
  f.Deploy("nightly", "default");
  std::string etl_run = f.Run("etl");
  std::string default_run = f.Run("nightly");
  auto agent = As(f.server, CreateKey(f.api, "g", "agent", {"etl"}).token());
  auto now = [] { return std::chrono::system_clock::now(); };
  const std::string g = "key \"g\" (limited to the work queues etl)";

  v1::GetWorkQueueRequest queue;
  queue.set_name("etl");
  CHECK(agent->GetWorkQueue(queue).ok());
  queue.set_name("default");
  CHECK(DeniedMessage(agent->GetWorkQueue(queue)) ==
        "name: key \"g\" may serve only the work queues etl, not \"default\"");

  auto polled = agent->PollWorkQueues(AgentFixture::PollRequest(kAgentA, {"etl"}));
  REQUIRE(polled.ok());
  REQUIRE(polled->runs_size() == 1);
  CHECK(polled->runs(0).flow_run().id() == etl_run);
  CHECK(agent->GetFlowRun(GetRun(etl_run)).ok());
  CHECK(agent->SetFlowRunState(ProposeRun(etl_run, core::Running(now()))).ok());
  v1::FlowRunHeartbeatRequest beat;
  beat.set_flow_run_id(etl_run);
  CHECK(agent->FlowRunHeartbeat(beat).ok());
  CHECK(agent->WriteLogs(OneLine(etl_run)).ok());

  CHECK(DeniedMessage(agent->SetFlowRunState(ProposeRun(default_run, core::Crashed(now(), "gone")))) ==
        "flow_run_id: " + g + " may not touch flow run " + default_run +
            " of work queue \"default\"");
  CHECK(DeniedMessage(agent->GetFlowRun(GetRun(default_run))) ==
        "id: " + g + " may not touch flow run " + default_run + " of work queue \"default\"");
  beat.set_flow_run_id(default_run);
  CHECK(DeniedMessage(agent->FlowRunHeartbeat(beat)).find(default_run) != std::string::npos);
  CHECK(DeniedMessage(agent->WriteLogs(OneLine(default_run))).find(default_run) !=
        std::string::npos);
  CHECK(f.Get(default_run).state().type() == v1::SCHEDULED);

  // An agent key for every queue is not limited.
  auto any = As(f.server, CreateKey(f.api, "any", "agent").token());
  queue.set_name("default");
  auto any_queue = any->GetWorkQueue(queue);
  CHECK((any_queue.ok() || any_queue.error().code == core::Code::kNotFound));
  CHECK(any->GetFlowRun(GetRun(default_run)).ok());
}

}  // namespace weft::test
