// Subflow links, the cancel cascade, pause/resume and the pause deadline (issue 6), against
// the real server in-process (gRPC through the SDK's client).
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <functional>
#include <thread>

#include "sdk/client/convert.hpp"
#include "tests/integration/server_fixture.hpp"

using namespace weft;
using namespace std::chrono_literals;

namespace {

core::TimePoint Now() { return std::chrono::system_clock::now(); }

struct Fixture : test::ApiServer {
  Fixture() : test::ApiServer(test::QuietScheduler) {}

  std::string CreateRun(const std::string& flow, const std::string& parent_task_run_id = "") {
    v1::CreateFlowRunRequest req;
    req.set_flow_name(flow);
    req.set_parent_task_run_id(parent_task_run_id);
    auto r = client->CreateFlowRun(req);
    REQUIRE(r.ok());
    return r->flow_run().id();
  }
  std::string CreateTask(const std::string& flow_run_id, const std::string& key) {
    v1::CreateTaskRunRequest req;
    req.set_flow_run_id(flow_run_id);
    req.set_task_key(key);
    req.set_dynamic_key("0");
    auto r = client->CreateTaskRun(req);
    REQUIRE(r.ok());
    return r->task_run().id();
  }
  v1::OrchestrationResult Propose(const std::string& id, const core::State& s) {
    v1::SetFlowRunStateRequest req;
    req.set_flow_run_id(id);
    *req.mutable_state() = client::ToProto(s);
    auto r = client->SetFlowRunState(req);
    REQUIRE(r.ok());
    return r->result();
  }
  v1::FlowRun Get(const std::string& id) {
    v1::GetFlowRunRequest req;
    req.set_id(id);
    auto r = client->GetFlowRun(req);
    REQUIRE(r.ok());
    return r->flow_run();
  }
  core::Result<v1::ResumeFlowRunResponse> Resume(const std::string& id) {
    v1::ResumeFlowRunRequest req;
    req.set_flow_run_id(id);
    return client->ResumeFlowRun(req);
  }
};

bool Eventually(const std::function<bool()>& check) {
  auto until = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < until) {
    if (check()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return check();
}

}  // namespace

TEST_CASE("subflows: a child run stores its parent task run and parent flow run", "[subflows]") {
  Fixture f;
  std::string parent = f.CreateRun("parent");
  std::string task = f.CreateTask(parent, "subflow:child");
  std::string child = f.CreateRun("child", task);
  std::string other = f.CreateRun("child");

  auto c = f.Get(child);
  CHECK(c.parent_task_run_id() == task);
  CHECK(c.parent_flow_run_id() == parent);
  CHECK(f.Get(other).parent_flow_run_id().empty());
  CHECK(f.Get(parent).parent_task_run_id().empty());

  v1::ListFlowRunsRequest list;
  list.set_parent_flow_run_id(parent);
  auto children = f.client->ListFlowRuns(list);
  REQUIRE(children.ok());
  REQUIRE(children->flow_runs_size() == 1);
  CHECK(children->flow_runs(0).id() == child);
  CHECK(children->flow_runs(0).parent_task_run_id() == task);

  SECTION("an unknown parent task run is NOT_FOUND naming the field") {
    v1::CreateFlowRunRequest req;
    req.set_flow_name("child");
    req.set_parent_task_run_id("44444444-4444-4444-8444-444444444444");
    auto r = f.client->CreateFlowRun(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kNotFound);
    CHECK_THAT(r.error().message, Catch::Contains("parent_task_run_id"));
  }
  SECTION("a malformed parent filter is INVALID_ARGUMENT naming the field") {
    v1::ListFlowRunsRequest bad;
    bad.set_parent_flow_run_id("nope");
    auto r = f.client->ListFlowRuns(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(r.error().message, Catch::Contains("parent_flow_run_id"));
  }
}

TEST_CASE("subflows: cancelling a parent cancels its unfinished children, recursively",
          "[subflows]") {
  Fixture f;
  std::string parent = f.CreateRun("parent");
  f.Propose(parent, core::Running(Now()));
  std::string child = f.CreateRun("child", f.CreateTask(parent, "subflow:child"));
  f.Propose(child, core::Running(Now()));
  std::string grandchild = f.CreateRun("grandchild", f.CreateTask(child, "subflow:grandchild"));
  f.Propose(grandchild, core::Running(Now()));
  std::string done = f.CreateRun("child", f.CreateTask(parent, "subflow:done"));
  f.Propose(done, core::Running(Now()));
  f.Propose(done, core::Completed(Now()));
  std::string unrelated = f.CreateRun("child");
  f.Propose(unrelated, core::Running(Now()));

  v1::CancelFlowRunRequest req;
  req.set_flow_run_id(parent);
  auto r = f.client->CancelFlowRun(req);
  REQUIRE(r.ok());
  CHECK(f.Get(parent).state().type() == v1::CANCELLED);
  for (const auto& id : {child, grandchild}) {
    auto run = f.Get(id);
    CHECK(run.state().name() == "Cancelled");
    CHECK_THAT(run.state().message(), Catch::Contains("cancelled with its parent flow run"));
  }
  CHECK(f.Get(done).state().name() == "Completed");
  CHECK(f.Get(unrelated).state().name() == "Running");
}

TEST_CASE("pause: resume moves a Paused run back to Running; others are refused", "[pause]") {
  Fixture f;
  std::string id = f.CreateRun("waiter");
  f.Propose(id, core::Running(Now()));

  auto early = f.Resume(id);
  REQUIRE_FALSE(early.ok());
  CHECK(early.error().code == core::Code::kFailedPrecondition);
  CHECK_THAT(early.error().message, Catch::Contains("is not paused (it is Running)"));

  core::State paused = core::Paused(Now(), "waiting");
  paused.scheduled_time = Now() + 1h;
  REQUIRE(f.Propose(id, paused).decision() == v1::ACCEPT);
  auto run = f.Get(id);
  CHECK(run.state().type() == v1::PAUSED);
  CHECK(run.state().has_scheduled_time());

  auto resumed = f.Resume(id);
  REQUIRE(resumed.ok());
  CHECK(resumed->result().decision() == v1::ACCEPT);
  run = f.Get(id);
  CHECK(run.state().type() == v1::RUNNING);
  CHECK(run.run_count() == 1);  // resuming is not a new attempt

  auto again = f.Resume(id);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == core::Code::kFailedPrecondition);

  auto unknown = f.Resume("55555555-5555-4555-8555-555555555555");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == core::Code::kNotFound);

  REQUIRE(f.Propose(id, core::Completed(Now())).decision() == v1::ACCEPT);
}

TEST_CASE("pause: the server fails a Paused run past its deadline", "[pause]") {
  Fixture f;
  std::string expired = f.CreateRun("waiter");
  f.Propose(expired, core::Running(Now()));
  core::State paused = core::Paused(Now(), "waiting");
  paused.scheduled_time = Now() + 200ms;
  REQUIRE(f.Propose(expired, paused).decision() == v1::ACCEPT);

  std::string waiting = f.CreateRun("waiter");
  f.Propose(waiting, core::Running(Now()));
  core::State later = core::Paused(Now(), "waiting");
  later.scheduled_time = Now() + 1h;
  REQUIRE(f.Propose(waiting, later).decision() == v1::ACCEPT);

  REQUIRE(Eventually([&] { return f.Get(expired).state().type() == v1::FAILED; }));
  auto run = f.Get(expired);
  CHECK_THAT(run.state().message(), Catch::Contains("was not resumed before"));
  CHECK(f.Get(waiting).state().type() == v1::PAUSED);
  auto late = f.Resume(expired);
  REQUIRE_FALSE(late.ok());
  CHECK_THAT(late.error().message, Catch::Contains("is not paused (it is Failed)"));
}

TEST_CASE("subflows and pause in the JSON API: links, subflow list, resume", "[subflows][pause]") {
  test::ApiServer server([](server::app::Settings& s) {
    s.http_enabled = true;
    s.http_address = "127.0.0.1:0";
    s.scheduler_interval = 3600;
  });
  std::string addr = server.app->http_address();
  auto colon = addr.rfind(':');
  httplib::Client http(addr.substr(0, colon), std::stoi(addr.substr(colon + 1)));
  http.set_bearer_token_auth(server.app->admin_key());  // the JSON API needs a key
  auto call = [&](const std::string& method, const std::string& path) {
    auto res = method == "GET" ? http.Get(path) : http.Post(path, "{}", "application/json");
    REQUIRE(res);
    INFO(method << " " << path << " -> " << res->status << " " << res->body);
    return std::make_pair(res->status, nlohmann::json::parse(res->body, nullptr, false));
  };
  auto create = [&](const std::string& flow, const std::string& parent_task) {
    v1::CreateFlowRunRequest req;
    req.set_flow_name(flow);
    req.set_parent_task_run_id(parent_task);
    auto r = server.client->CreateFlowRun(req);
    REQUIRE(r.ok());
    return r->flow_run().id();
  };
  std::string parent = create("parent", "");
  v1::CreateTaskRunRequest tr;
  tr.set_flow_run_id(parent);
  tr.set_task_key("subflow:child");
  tr.set_dynamic_key("0");
  auto task = server.client->CreateTaskRun(tr);
  REQUIRE(task.ok());
  std::string child = create("child", task->task_run().id());

  auto [st, c] = call("GET", "/api/flow-runs/" + child);
  REQUIRE(st == 200);
  CHECK(c["parent_flow_run_id"] == parent);
  CHECK(c["parent_task_run_id"] == task->task_run().id());
  auto [pst, p] = call("GET", "/api/flow-runs/" + parent);
  REQUIRE(pst == 200);
  CHECK(p["parent_flow_run_id"].is_null());
  REQUIRE(p["subflow_runs"].size() == 1);
  CHECK(p["subflow_runs"][0]["id"] == child);

  // Resume: 412 naming the state unless Paused; then Running.
  auto [bad, berr] = call("POST", "/api/flow-runs/" + child + "/resume");
  CHECK(bad == 412);
  CHECK_THAT(berr.dump(), Catch::Contains("is not paused"));
  v1::SetFlowRunStateRequest sr;
  sr.set_flow_run_id(child);
  *sr.mutable_state() = client::ToProto(core::Running(Now()));
  REQUIRE(server.client->SetFlowRunState(sr).ok());
  core::State paused = core::Paused(Now(), "waiting");
  paused.scheduled_time = Now() + 1h;
  *sr.mutable_state() = client::ToProto(paused);
  REQUIRE(server.client->SetFlowRunState(sr).ok());
  auto [ok, out] = call("POST", "/api/flow-runs/" + child + "/resume");
  CHECK(ok == 200);
  CHECK(out["decision"] == "ACCEPT");
  auto [gst, g] = call("GET", "/api/flow-runs/" + child);
  CHECK(g["state"]["type"] == "RUNNING");
}

TEST_CASE("parameters: a deployment's parameters_schema_json becomes the flow's schema",
          "[deployments][params]") {
  test::ApiServerWithStorage f;
  auto& c = *f.client;
  v1::CreateDeploymentRequest req;
  auto* s = req.mutable_spec();
  s->set_name("manual");
  s->set_flow_name("never_ran");
  s->add_entrypoint("./never_ran");
  s->mutable_bundle()->set_storage("flows");
  s->mutable_bundle()->set_digest(
      "sha256:0000000000000000000000000000000000000000000000000000000000000000");
  s->mutable_bundle()->set_size(1);

  SECTION("a malformed schema is refused naming the field") {
    s->set_parameters_schema_json(R"([{"name":"n","type":"matrix"}])");
    auto r = c.CreateDeployment(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(r.error().message, Catch::StartsWith("spec.parameters_schema_json: "));
  }
  SECTION("runs are checked against it before the flow ever ran") {
    s->set_parameters_schema_json(
        R"([{"name":"n","type":"int","required":true,"minimum":0,"maximum":10}])");
    REQUIRE(c.CreateDeployment(req).ok());
    v1::GetFlowRequest gf;
    gf.set_name("never_ran");
    auto flow = c.GetFlow(gf);
    REQUIRE(flow.ok());
    CHECK_THAT(flow->flow().parameters_schema_json(), Catch::Contains("\"n\""));

    v1::RunDeploymentRequest run;
    run.mutable_ref()->set_full_name("never_ran/manual");
    for (const char* bad : {R"({"n":"abc"})", R"({"n":11})", R"({})", R"({"n":1,"m":2})"}) {
      run.set_parameters_json(bad);
      auto r = c.RunDeployment(run);
      INFO(bad);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == core::Code::kInvalidArgument);
      CHECK_THAT(r.error().message, Catch::Contains("parameter \""));
    }
    v1::ListFlowRunsRequest list;
    list.set_flow_name("never_ran");
    CHECK(c.ListFlowRuns(list)->flow_runs_size() == 0);
    run.set_parameters_json(R"({"n":3})");
    REQUIRE(c.RunDeployment(run).ok());
    CHECK(c.ListFlowRuns(list)->flow_runs_size() == 1);
  }
}
