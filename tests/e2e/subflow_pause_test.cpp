// Subflows, pause/resume and the parameter schema end to end (issue 6): a real weft-server,
// the weft CLI and the subflow_pause_flow program as processes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "tests/e2e/cli_support.hpp"

using namespace weft::e2e;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json RunsOf(const Env& env, const std::string& flow) {
  return WeftJson(env, {"flow-run", "ls", "--flow", flow})["flow_runs"];
}

// Waits for a running child_sum run; fills its id and its parent's.
bool RunningChild(const Env& env, std::string* child_id, std::string* parent_id) {
  return Eventually(
      [&] {
        json kids = RunsOf(env, "child_sum");
        if (kids.empty() || kids[0]["state"]["type"] != "RUNNING") return false;
        *child_id = kids[0]["id"];
        *parent_id = kids[0]["parent_flow_run_id"];
        return true;
      },
      60, 0.1);
}

}  // namespace

TEST_CASE("subflows: the child run links to its parent task run", "[e2e][subflows]") {
  Server server(FreshDatabase("subflows"));
  Env env = server.ClientEnv();
  RunResult r = Run({SUBFLOW_PAUSE_FLOW_BIN, "--param", "n=4"}, env);
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Has(r.out, "ended Completed"));

  json parents = RunsOf(env, "nested");
  json children = RunsOf(env, "child_sum");
  REQUIRE(parents.size() == 1);
  REQUIRE(children.size() == 1);
  std::string parent_id = parents[0]["id"];
  json child = children[0];
  CHECK(child["state"]["type"] == "COMPLETED");
  CHECK(child["parent_flow_run_id"] == parent_id);
  std::string wrapper_id = child["parent_task_run_id"];

  // The parent's task runs: the wrapper (named after the child flow, Completed) and add-0.
  json inspect = WeftJson(env, {"flow-run", "inspect", parent_id});
  bool found = false;
  for (const auto& t : inspect["task_runs"]["task_runs"]) {
    if (t["id"] == wrapper_id) {
      found = true;
      CHECK(t["name"] == "child_sum-0");
      CHECK(t["state"]["type"] == "COMPLETED");
    }
  }
  CHECK(found);
  REQUIRE(inspect["subflow_runs"]["flow_runs"].size() == 1);
  CHECK(inspect["subflow_runs"]["flow_runs"][0]["id"] == child["id"]);

  // The text view shows both directions of the link.
  RunResult text = WeftOk(env, {"flow-run", "inspect", child["id"]});
  CHECK(Has(text.out, "parent:      flow run " + parent_id + ", task run " + wrapper_id));
  RunResult ptext = WeftOk(env, {"flow-run", "inspect", parent_id});
  CHECK(Has(ptext.out, "Subflow runs (1)"));
  json listed = WeftJson(env, {"flow-run", "ls", "--parent", parent_id})["flow_runs"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["id"] == child["id"]);
  RunResult bad_parent = Weft(env, {"flow-run", "ls", "--parent", "nope"});
  CHECK(bad_parent.exit_code != 0);
  CHECK(Has(bad_parent.err, "parent_flow_run_id"));

  SECTION("submitted subflows run as futures, each linked to its own task run") {
    RunResult s = Run({SUBFLOW_PAUSE_FLOW_BIN, "--param", "parallel=3"}, env);
    INFO("stdout:\n" << s.out << "\nstderr:\n" << s.err);
    REQUIRE(s.exit_code == 0);
    json all = RunsOf(env, "nested");
    REQUIRE(all.size() == 2);
    std::string second = all[0]["id"];  // newest first

    json kids = WeftJson(env, {"flow-run", "inspect", second})["subflow_runs"]["flow_runs"];
    REQUIRE(kids.size() == 3);
    std::set<std::string> wrappers;
    for (const auto& k : kids) {
      CHECK(k["state"]["type"] == "COMPLETED");
      wrappers.insert(k["parent_task_run_id"].get<std::string>());
    }
    CHECK(wrappers.size() == 3);
  }

  SECTION("a failed child fails its wrapper task run; the parent catches it") {
    RunResult f = Run({SUBFLOW_PAUSE_FLOW_BIN, "--param", "fail_child=true"}, env);
    INFO("stdout:\n" << f.out << "\nstderr:\n" << f.err);
    REQUIRE(f.exit_code == 0);
    CHECK(Has(f.out, "child failed: task run "));
    CHECK(Has(f.out, "child asked to fail"));
    json failed_children = WeftJson(
        env, {"flow-run", "ls", "--flow", "child_sum", "--state", "FAILED"})["flow_runs"];
    REQUIRE(failed_children.size() == 1);
    json wrapper = WeftJson(env, {"task-run", "inspect", failed_children[0]["parent_task_run_id"]});
    CHECK(wrapper.dump().find("FAILED") != std::string::npos);
  }
}

TEST_CASE("subflows: cancelling the parent run cancels its running subflow run",
          "[e2e][subflows]") {
  Server server(FreshDatabase("subflow_cancel"));
  Env env = server.ClientEnv();
  std::string log = TempDir("subflow_cancel") + "/flow.log";
  Background flow({SUBFLOW_PAUSE_FLOW_BIN, "--param", "child_sleep=120"}, env, log);
  std::string child_id, parent_id;
  REQUIRE(RunningChild(env, &child_id, &parent_id));
  WeftOk(env, {"flow-run", "cancel", parent_id});
  // The child at once (the cascade); the parent when its program sees it and stops (130).
  json child = WeftJson(env, {"flow-run", "inspect", child_id})["flow_run"];
  CHECK(child["state"]["type"] == "CANCELLED");
  CHECK(Has(child["state"]["message"], "cancelled with its parent flow run " + parent_id));
  REQUIRE(Eventually([&] { return !flow.Running(); }, 60, 0.1));
  CHECK(flow.Stop() == 130);
  json parent = WeftJson(env, {"flow-run", "inspect", parent_id})["flow_run"];
  CHECK(parent["state"]["type"] == "CANCELLED");
}

TEST_CASE("subflows: cancelling only a subflow run stops it; its parent goes on",
          "[e2e][subflows]") {
  Server server(FreshDatabase("subflow_cancel_child"), "", 0, {"--heartbeat-interval", "0.2s"});
  Env env = server.ClientEnv();
  std::string log = TempDir("subflow_cancel_child") + "/flow.log";
  Background flow({SUBFLOW_PAUSE_FLOW_BIN, "--param", "child_sleep=120"}, env, log);
  std::string child_id, parent_id;
  REQUIRE(RunningChild(env, &child_id, &parent_id));
  WeftOk(env, {"flow-run", "cancel", child_id});
  // The child sees Cancelling through its heartbeats, its stop token is signalled, its body
  // returns and it ends Cancelled; the parent's process goes on and ends by itself.
  REQUIRE(Eventually([&] { return !flow.Running(); }, 60, 0.1));
  INFO(flow.Log());
  json child = WeftJson(env, {"flow-run", "inspect", child_id})["flow_run"];
  CHECK(child["state"]["type"] == "CANCELLED");
  CHECK(Has(flow.Log(), "child stopped early"));
  json parent = WeftJson(env, {"flow-run", "inspect", parent_id})["flow_run"];
  // The parent caught the child's TaskRunFailed (program: "child failed: ...") and finished.
  CHECK(Has(flow.Log(), "child failed"));
  CHECK(parent["state"]["type"] == "COMPLETED");
  CHECK(flow.Stop() == 0);
}

TEST_CASE("pause: a paused flow waits for `weft flow-run resume` and completes",
          "[e2e][pause]") {
  Server server(FreshDatabase("pause"));
  Env env = server.ClientEnv();
  std::string log = TempDir("pause_flow") + "/flow.log";
  Background flow({SUBFLOW_PAUSE_FLOW_BIN, "--param", "pause=true"}, env, log);
  std::string id;
  REQUIRE(Eventually(
      [&] {
        json runs = RunsOf(env, "nested");
        if (runs.empty() || runs[0]["state"]["type"] != "PAUSED") return false;
        id = runs[0]["id"];
        return true;
      },
      60, 0.1));
  RunResult text = WeftOk(env, {"flow-run", "inspect", id});
  CHECK(Has(text.out, "resume by:"));

  WeftOk(env, {"flow-run", "resume", id});
  REQUIRE(Eventually([&] { return !flow.Running(); }, 60, 0.1));  // it ends on its own
  CHECK(flow.Stop() == 0);
  json run = WeftJson(env, {"flow-run", "inspect", id})["flow_run"];
  CHECK(run["state"]["type"] == "COMPLETED");
  CHECK(Has(flow.Log(), "resumed and going on"));

  // Resuming a run that is not paused names its state.
  RunResult again = Weft(env, {"flow-run", "resume", id});
  CHECK(again.exit_code != 0);
  CHECK(Has(again.err, "is not paused (it is Completed)"));
}

TEST_CASE("parameters: a deployment run with a wrong type is refused before any run exists",
          "[e2e][params]") {
  Server server(FreshDatabase("param_schema"));
  Env env = server.ClientEnv();
  fs::path project = TempDir("param_schema_project");
  fs::copy_file(SUBFLOW_PAUSE_FLOW_BIN, project / "nested");
  WeftOk(env, {"storage", "create", "local", "--name", "flows", "--path",
               TempDir("param_schema_store") + "/store", "--default"});
  WeftOk(env, {"deployment", "create", "./nested"}, project.string());

  // The flow never ran, yet its declared parameters are known to the server.
  RunResult bad = Weft(env, {"deployment", "run", "nested/manual", "--param", "n=abc"});
  INFO("stdout:\n" << bad.out << "\nstderr:\n" << bad.err);
  CHECK(bad.exit_code != 0);
  CHECK(Has(bad.err, "parameter \"n\""));
  RunResult range = Weft(env, {"deployment", "run", "nested/manual", "--param", "n=1000"});
  CHECK(range.exit_code != 0);
  CHECK(Has(range.err, "parameter \"n\""));
  RunResult unknown = Weft(env, {"deployment", "run", "nested/manual", "--param", "m=1"});
  CHECK(unknown.exit_code != 0);
  CHECK(Has(unknown.err, "parameter \"m\""));
  CHECK(RunsOf(env, "nested").empty());

  // Good parameters make a run.
  WeftOk(env, {"deployment", "run", "nested/manual", "--param", "n=5"});
  CHECK(RunsOf(env, "nested").size() == 1);
}
