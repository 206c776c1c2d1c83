// Futures and conditional failure logic against a live server: a mapped task over 1,000
// elements, allow_failure, hooks, recorded task inputs, flow retries and the flow timeout
// (tests/e2e/programs/futures_flow.cpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/e2e/cli_support.hpp"

using namespace weft::e2e;
using nlohmann::json;

namespace {

// Runs futures_flow in `mode`; returns the run's result and its observations file.
struct FlowOutcome {
  RunResult run;
  std::string observed;
};

FlowOutcome RunMode(const Env& env, const std::string& mode, const std::string& dir,
                    const std::vector<std::string>& extra = {}) {
  std::string out = dir + "/" + mode + ".log";
  std::vector<std::string> argv = {FUTURES_FLOW_BIN, "--param", "mode=" + mode, "--param",
                                   "out=" + out};
  argv.insert(argv.end(), extra.begin(), extra.end());
  FlowOutcome o;
  o.run = Run(argv, env, 240);
  o.observed = ReadFile(out);
  return o;
}

// The only flow run of futures_flow in this database (each test uses its own server).
json OnlyRun(const Env& env) {
  json runs = WeftJson(env, {"flow-run", "ls", "--flow", "futures_flow", "--limit", "10"})
      ["flow_runs"];
  REQUIRE(runs.size() == 1);
  return WeftJson(env, {"flow-run", "inspect", runs[0]["id"]});
}

}  // namespace

TEST_CASE("a mapped task over 1,000 elements: 1,000 task runs Completed, the flow Completed",
          "[e2e][futures]") {
  Server server(FreshDatabase("futmap"));
  Env env = server.ClientEnv();
  FlowOutcome o = RunMode(env, "map", TempDir("futmap"));
  INFO(o.run.err);
  REQUIRE(o.run.exit_code == 0);
  CHECK(Has(o.observed, "sum 332833500\n"));  // sum of squares 0..999
  json doc = OnlyRun(env);
  CHECK(doc["flow_run"]["state"]["type"] == "COMPLETED");
  const json& runs = doc["task_runs"]["task_runs"];
  REQUIRE(runs.size() == 1000);
  std::map<std::string, int> names;
  int completed = 0;
  for (const auto& tr : runs) {
    completed += tr["state"]["type"] == "COMPLETED";
    names[tr["name"]]++;
  }
  CHECK(completed == 1000);
  CHECK(names.size() == 1000);
  CHECK(names.count("square-999") == 1);
}

TEST_CASE("allow_failure: the downstream runs after the upstream failed; the flow completes",
          "[e2e][futures]") {
  Server server(FreshDatabase("futallow"));
  Env env = server.ClientEnv();
  FlowOutcome o = RunMode(env, "allow", TempDir("futallow"));
  INFO(o.run.err);
  CHECK(o.run.exit_code == 0);
  CHECK(o.observed.find("report ran: Failed 2\n") != std::string::npos);
  json doc = OnlyRun(env);
  CHECK(doc["flow_run"]["state"]["type"] == "COMPLETED");
  std::map<std::string, std::string> states;
  for (const auto& tr : doc["task_runs"]["task_runs"]) states[tr["name"]] = tr["state"]["type"];
  CHECK(states == std::map<std::string, std::string>{
                      {"boom-0", "FAILED"}, {"fine-0", "COMPLETED"}, {"report-0", "COMPLETED"}});
}

TEST_CASE("hooks: a task's on_completion and the flow's on_completion run", "[e2e][futures]") {
  Server server(FreshDatabase("futhooks"));
  Env env = server.ClientEnv();
  FlowOutcome o = RunMode(env, "hooks", TempDir("futhooks"));
  INFO(o.run.err);
  REQUIRE(o.run.exit_code == 0);
  json doc = OnlyRun(env);
  std::string name = doc["flow_run"]["name"];
  CHECK(o.observed == "task hook hooked-0 Completed\nflow hook " + name + " Completed\n");
}

TEST_CASE("task inputs: the server records which runs fed a task run", "[e2e][futures]") {
  Server server(FreshDatabase("futinputs"));
  Env env = server.ClientEnv();
  FlowOutcome o = RunMode(env, "inputs", TempDir("futinputs"));
  INFO(o.run.err);
  REQUIRE(o.run.exit_code == 0);
  std::map<std::string, std::string> ids;  // a, b, c -> task run id
  std::istringstream in(o.observed);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 2 && line[1] == ' ' && line.find("flow hook") != 0) {
      ids[line.substr(0, 1)] = line.substr(2);
    }
  }
  REQUIRE(ids.size() == 3);
  json doc = OnlyRun(env);
  std::map<std::string, json> inputs;
  for (const auto& tr : doc["task_runs"]["task_runs"]) {
    std::string text = tr["task_inputs_json"];
    inputs[tr["id"]] = text.empty() ? json() : json::parse(text);
  }
  CHECK(inputs[ids["a"]].is_null());
  CHECK(inputs[ids["b"]]["args"] == json::parse(R"([{"task_run_id":")" + ids["a"] +
                                                R"(","arg":0}])"));
  CHECK(inputs[ids["c"]]["wait_for"] ==
        json::parse(R"([{"task_run_id":")" + ids["a"] + R"("},{"task_run_id":")" + ids["b"] +
                    R"("}])"));
  // The text view lists the runs too.
  CHECK(Has(Weft(env, {"flow-run", "inspect", doc["flow_run"]["id"]}).out, "twice-0"));
}

TEST_CASE("flow retries: the run fails its first attempt and ends Completed on the second",
          "[e2e][futures]") {
  Server server(FreshDatabase("futretry"));
  Env env = server.ClientEnv();
  FlowOutcome o = RunMode(env, "retry", TempDir("futretry"));
  INFO(o.run.err);
  CHECK(o.run.exit_code == 0);
  json doc = OnlyRun(env);
  // The hook runs once, after the final state (not after the failed attempt).
  CHECK(o.observed == "attempt 1\nattempt 2\nflow hook " + doc["flow_run"]["name"].get<std::string>() +
                          " Completed\n");
  CHECK(doc["flow_run"]["state"]["type"] == "COMPLETED");
  CHECK(doc["flow_run"]["run_count"] == 2);
  std::vector<std::string> names;
  for (const auto& s : doc["history"]["states"]) names.push_back(s["name"]);
  CHECK(std::find(names.begin(), names.end(), "AwaitingRetry") != names.end());
  CHECK(std::find(names.begin(), names.end(), "Retrying") != names.end());
}

TEST_CASE("flow timeout: the run becomes TimedOut and a body that ignores it ends the process",
          "[e2e][futures]") {
  Server server(FreshDatabase("futtimeout"));
  Env env = server.ClientEnv();
  FlowOutcome o = RunMode(env, "timeout", TempDir("futtimeout"));
  INFO(o.run.err);
  CHECK(o.run.exit_code == 1);
  CHECK(o.observed == "started\nflow failure hook TimedOut\n");
  json doc = OnlyRun(env);
  CHECK(doc["flow_run"]["state"]["name"] == "TimedOut");
  CHECK(Has(o.run.err, "did not return within 5s of its timeout"));
}

TEST_CASE("on_crashed: a flow process stopped with SIGTERM runs its hook", "[e2e][futures]") {
  Server server(FreshDatabase("futcrash"));
  Env env = server.ClientEnv();
  std::string dir = TempDir("futcrash");
  std::string out = dir + "/sleep.log";
  Background flow({FUTURES_FLOW_BIN, "--param", "mode=sleep", "--param", "out=" + out}, env,
                  dir + "/flow.log");
  REQUIRE(Eventually([&] { return Has(ReadFile(out), "started"); }, 60));
  int status = flow.Stop();
  CHECK(status == 128 + 15);  // it still dies of the signal
  CHECK(ReadFile(out) == "started\nflow crashed hook the flow process received SIGTERM\n");
}

TEST_CASE("on_crashed: SIGTERM after a subflow with its own hook still runs the parent's",
          "[e2e][futures]") {
  Server server(FreshDatabase("futcrashsub"));
  Env env = server.ClientEnv();
  std::string dir = TempDir("futcrashsub");
  std::string out = dir + "/sleep.log";
  Background flow({FUTURES_FLOW_BIN, "--param", "mode=subflow-sleep", "--param", "out=" + out},
                  env, dir + "/flow.log");
  REQUIRE(Eventually([&] { return Has(ReadFile(out), "started"); }, 60));
  int status = flow.Stop();
  CHECK(status == 128 + 15);  // it dies of the signal, not of the SIGKILL after the grace
  CHECK(ReadFile(out) == "started\nflow crashed hook the flow process received SIGTERM\n");
}
