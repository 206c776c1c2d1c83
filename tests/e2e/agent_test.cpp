// Agents with real processes: weft-server, weft-agent, the weft CLI and flow programs on
// loopback. The seed's path (storage -> deployment with an interval schedule -> work queue
// -> preview -> agent -> runs Completed with task runs), the taxi pipeline through an agent,
// exactly-once execution with 4 agents racing, queue filters, pause and limits, liveness
// (kill -9 of an agent, a segfault, cancel, a flow timeout), a server restart under load and
// hostile bundles.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/cli_support.hpp"

using namespace weft::e2e;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A server with a local default storage "flows" and a project directory holding the
// count_flow program.
struct Setup {
  explicit Setup(const std::string& name, std::vector<std::string> server_flags = {})
      : database(FreshDatabase(name)),
        server(std::make_unique<Server>(database, "", 0, std::move(server_flags))),
        env(server->ClientEnv()),
        project(TempDir(name + "_project")),
        store(TempDir(name + "_store") + "/store"),
        out_dir(TempDir(name + "_out")) {
    fs::copy_file(COUNT_FLOW_BIN, project / "count_flow");
    WeftOk(env, {"storage", "create", "local", "--name", "flows", "--path", store, "--default"});
  }

  // Creates deployment count/<name> from YAML `extra` lines (indented 4) on `queue`.
  void Deploy(const std::string& name, const std::string& queue, const std::string& extra = "",
              const std::string& out = "") {
    std::string yaml = "deployments:\n  - name: " + name +
                       "\n    flow_name: count\n    entrypoint: ./count_flow\n"
                       "    include: [count_flow]\n    work_queue: " +
                       queue + "\n    parameters: {out: \"" + (out.empty() ? Out(name) : out) +
                       "\"}\n" + extra;
    WriteFile(project / (name + ".yaml"), yaml);
    WeftOk(env, {"deployment", "create", name + ".yaml"}, project.string());
  }

  std::string Out(const std::string& name) const { return out_dir + "/" + name + ".txt"; }

  // `weft deployment run count/<name>`; returns the run id.
  std::string RunNow(const std::string& deployment, std::vector<std::string> params = {}) {
    std::vector<std::string> args = {"deployment", "run", deployment};
    for (const auto& p : params) {
      args.push_back("--param");
      args.push_back(p);
    }
    return WeftJson(env, args)["flow_run"]["id"];
  }

  std::unique_ptr<Background> Agent(const std::vector<std::string>& queues,
                                    std::vector<std::string> flags = {},
                                    const std::string& name = "agent") {
    std::vector<std::string> argv = {WEFT_AGENT_BIN, "--name", name, "--work-dir",
                                     TempDir(name + "_work"), "--cache-dir",
                                     TempDir(name + "_cache")};
    for (const auto& q : queues) {
      argv.push_back("-q");
      argv.push_back(q);
    }
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto agent = std::make_unique<Background>(argv, env, TempDir(name + "_log") + "/agent.log");
    if (!agent->WaitForLog("weft-agent ready", 30)) {
      FAIL("weft-agent did not become ready; its log:\n" << agent->Log());
    }
    return agent;
  }

  json Runs(const std::string& deployment) {
    return WeftJson(env, {"flow-run", "ls", "--deployment", deployment, "--limit", "1000"})
        ["flow_runs"];
  }

  json Get(const std::string& id) { return WeftJson(env, {"flow-run", "inspect", id}); }

  std::string StateName(const std::string& id) { return Get(id)["flow_run"]["state"]["name"]; }

  // Waits until run `id` is in a terminal state; returns the final state (or {} on timeout).
  json WaitFinal(const std::string& id, double seconds = 60) {
    json state;
    Eventually(
        [&] {
          state = Get(id)["flow_run"]["state"];
          std::string t = state["type"];
          return t == "COMPLETED" || t == "FAILED" || t == "CANCELLED" || t == "CRASHED";
        },
        seconds, 0.1);
    return state;
  }

  std::string database;
  std::unique_ptr<Server> server;
  Env env;
  fs::path project;
  std::string store;
  std::string out_dir;
};

struct Execution {
  std::string run_id;
  long pid = 0;
  long long start_us = 0, end_us = 0;
};

// The lines count_flow appended to `path`.
std::vector<Execution> Executions(const std::string& path) {
  std::vector<Execution> out;
  std::istringstream in(fs::exists(path) ? ReadFile(path) : "");
  Execution e;
  while (in >> e.run_id >> e.pid >> e.start_us >> e.end_us) out.push_back(e);
  return out;
}

std::map<std::string, long> StartedPids(const std::string& out) {
  std::map<std::string, long> pids;
  std::istringstream in(fs::exists(out + ".started") ? ReadFile(out + ".started") : "");
  std::string id;
  long pid;
  while (in >> id >> pid) pids[id] = pid;
  return pids;
}

bool ProcessGone(long pid) { return ::kill(static_cast<pid_t>(pid), 0) != 0; }

std::vector<std::string> Names(const json& states) {
  std::vector<std::string> names;
  for (const auto& s : states) names.push_back(s["name"]);
  return names;
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

TEST_CASE("agent: the seed's path, an interval deployment runs through an agent",
          "[e2e][agent]") {
  Setup s("agent_seed");
  s.Deploy("every2s", "etl", "    schedule: {interval: 2s}\n    tags: [etl]\n");
  WeftOk(s.env, {"work-queue", "create", "etl", "--tag", "etl"});

  json preview = WeftJson(s.env, {"work-queue", "preview", "etl", "--hours", "1"});
  REQUIRE(preview["runs"].size() >= 3);
  for (const auto& r : preview["runs"]) CHECK(r["deployment_name"] == "count/every2s");

  auto agent = s.Agent({"etl"});
  std::vector<std::string> completed;
  bool two = Eventually(
      [&] {
        completed.clear();
        for (const auto& r : s.Runs("count/every2s")) {
          if (r["state"]["type"] == "COMPLETED") completed.push_back(r["id"]);
        }
        return completed.size() >= 2;
      },
      30, 0.2);
  INFO("agent log:\n" << agent->Log());
  REQUIRE(two);

  const std::string id = completed.front();
  RunResult waited = WeftOk(s.env, {"flow-run", "wait", id, "--timeout", "30s"});
  CHECK(Has(waited.out, "Completed"));
  json inspect = s.Get(id);
  std::vector<std::string> names = Names(inspect["history"]["states"]);
  INFO("history of " << id << ": " << inspect["history"].dump());
  CHECK(Contains(names, "Pending"));
  CHECK(Contains(names, "Running"));
  CHECK(names.back() == "Completed");
  CHECK(inspect["flow_run"]["agent_name"] == "agent");
  json tasks = WeftJson(s.env, {"task-run", "ls", "--flow-run", id});
  REQUIRE(tasks["task_runs"].size() == 3);
  for (const auto& t : tasks["task_runs"]) CHECK(t["state"]["type"] == "COMPLETED");

  // Each completed run executed once, in its own process.
  std::set<std::string> seen;
  for (const auto& e : Executions(s.Out("every2s"))) CHECK(seen.insert(e.run_id).second);
  for (const auto& c : completed) CHECK(seen.count(c) == 1);

  // The agent shows up in `weft agent ls` for the queue.
  json agents = WeftJson(s.env, {"agent", "ls", "--queue", "etl"});
  REQUIRE(agents["agents"].size() == 1);
  CHECK(agents["agents"][0]["name"] == "agent");
  CHECK(agent->Stop() == 0);
}

TEST_CASE("agent: the taxi pipeline runs through an agent and writes its model", "[e2e][agent]") {
  Setup s("agent_taxi");
  fs::copy_file(TAXI_TRAINING_BIN, s.project / "taxi_training");
  WeftOk(s.env, {"deployment", "create", "./taxi_training"}, s.project.string());
  WeftOk(s.env, {"work-queue", "create", "ml"});
  std::string model = s.out_dir + "/model.txt";
  std::string id = s.RunNow("taxi_training/weekly", {"model_path=" + model});
  auto agent = s.Agent({"ml"});
  json final_state = s.WaitFinal(id, 120);
  INFO("agent log:\n" << agent->Log());
  REQUIRE(final_state["name"] == "Completed");
  CHECK(fs::exists(model));
  json tasks = WeftJson(s.env, {"task-run", "ls", "--flow-run", id});
  CHECK(tasks["task_runs"].size() >= 4);
}

TEST_CASE("agent: 4 agents on one queue run each of 200 runs exactly once", "[e2e][agent]") {
  Setup s("agent_race");
  s.Deploy("burst", "burst");
  WeftOk(s.env, {"work-queue", "create", "burst"});
  std::vector<std::unique_ptr<Background>> agents;
  for (int i = 0; i < 4; ++i) {
    agents.push_back(s.Agent({"burst"}, {"--limit", "4"}, "racer" + std::to_string(i)));
  }
  constexpr int kRuns = 200;
  std::set<std::string> ids;
  for (int i = 0; i < kRuns; ++i) ids.insert(s.RunNow("count/burst"));
  REQUIRE(ids.size() == kRuns);

  json runs;
  bool done = Eventually(
      [&] {
        runs = s.Runs("count/burst");
        int final_count = 0;
        for (const auto& r : runs) {
          std::string t = r["state"]["type"];
          final_count += t == "COMPLETED" || t == "FAILED" || t == "CRASHED" || t == "CANCELLED";
        }
        return final_count == kRuns;
      },
      240, 0.5);
  REQUIRE(done);
  std::map<std::string, int> by_agent;
  for (const auto& r : runs) {
    INFO("run " << r["id"] << " ended " << r["state"].dump());
    CHECK(r["state"]["name"] == "Completed");
    by_agent[r["agent_name"]]++;
  }
  std::map<std::string, int> executions;
  for (const auto& e : Executions(s.Out("burst"))) executions[e.run_id]++;
  CHECK(executions.size() == kRuns);
  for (const auto& [id, n] : executions) {
    INFO("run " << id);
    CHECK(ids.count(id) == 1);
    CHECK(n == 1);
  }
  // The work was shared (not asserted per agent: scheduling decides the split).
  std::string split;
  for (const auto& [name, n] : by_agent) split += name + "=" + std::to_string(n) + " ";
  WARN("runs per agent: " << split);
  for (auto& a : agents) CHECK(a->Stop() == 0);
}

TEST_CASE("agent: tag filters, a paused queue and a concurrency limit of 1", "[e2e][agent]") {
  Setup s("agent_filters");
  s.Deploy("gpu", "shared", "    tags: [gpu]\n");
  s.Deploy("cpu", "shared");
  s.Deploy("held", "held");
  s.Deploy("single", "single", "", s.Out("single"));
  WeftOk(s.env, {"work-queue", "create", "shared", "--tag", "gpu"});
  WeftOk(s.env, {"work-queue", "create", "held"});
  WeftOk(s.env, {"work-queue", "pause", "held"});
  WeftOk(s.env, {"work-queue", "create", "single", "--concurrency-limit", "1"});

  std::string gpu = s.RunNow("count/gpu");
  std::string cpu = s.RunNow("count/cpu");
  std::string held = s.RunNow("count/held");
  std::vector<std::string> single;
  for (int i = 0; i < 6; ++i) single.push_back(s.RunNow("count/single", {"sleep_ms=300"}));

  auto a1 = s.Agent({"shared", "held", "single"}, {"--limit", "4"}, "filter1");
  auto a2 = s.Agent({"shared", "held", "single"}, {"--limit", "4"}, "filter2");

  CHECK(s.WaitFinal(gpu)["name"] == "Completed");
  for (const auto& id : single) CHECK(s.WaitFinal(id)["name"] == "Completed");
  // Neither the untagged run nor the paused queue's run was handed out.
  CHECK(s.Get(cpu)["flow_run"]["state"]["type"] == "SCHEDULED");
  CHECK(s.Get(held)["flow_run"]["state"]["type"] == "SCHEDULED");
  CHECK(Executions(s.Out("cpu")).empty());
  CHECK(Executions(s.Out("held")).empty());

  // Limit 1: no two executions of the queue overlapped.
  auto execs = Executions(s.Out("single"));
  REQUIRE(execs.size() == single.size());
  std::sort(execs.begin(), execs.end(),
            [](const Execution& x, const Execution& y) { return x.start_us < y.start_us; });
  for (size_t i = 1; i < execs.size(); ++i) {
    INFO("execution " << i << " started before the previous one ended");
    CHECK(execs[i].start_us >= execs[i - 1].end_us);
  }

  // Resuming the queue hands its run out.
  WeftOk(s.env, {"work-queue", "resume", "held"});
  CHECK(s.WaitFinal(held)["name"] == "Completed");
}

TEST_CASE("agent: liveness, crashes, cancel and timeouts", "[e2e][agent]") {
  Setup s("agent_liveness", {"--heartbeat-timeout", "3s", "--heartbeat-interval", "0.5s"});
  WeftOk(s.env, {"work-queue", "create", "live"});

  SECTION("kill -9 of the agent mid-run: the run becomes Crashed") {
    // A non-SDK entrypoint: only the agent heartbeats for it.
    std::string pid_file = s.out_dir + "/sleeper.pid";
    WriteFile(s.project / "sleeper.sh", "#!/bin/sh\necho $$ > " + pid_file + "\nexec sleep 60\n",
              true);
    WriteFile(s.project / "sleeper.yaml",
              "name: sleeper\nflow_name: shell\nentrypoint: ./sleeper.sh\ninclude: [sleeper.sh]\n"
              "work_queue: live\n");
    WeftOk(s.env, {"deployment", "create", "sleeper.yaml"}, s.project.string());
    std::string id = s.RunNow("shell/sleeper");
    auto agent = s.Agent({"live"}, {}, "doomed");
    REQUIRE(Eventually([&] { return s.StateName(id) == "Running"; }, 30, 0.1));
    agent->Kill();
    json final_state = s.WaitFinal(id, 30);
    INFO("final state " << final_state.dump());
    CHECK(final_state["type"] == "CRASHED");
    CHECK(Has(final_state["message"], "heartbeat"));
    if (fs::exists(pid_file)) ::kill(static_cast<pid_t>(std::stol(ReadFile(pid_file))), SIGKILL);
  }

  SECTION("a flow that segfaults is Crashed with the signal") {
    s.Deploy("crasher", "live");
    std::string id = s.RunNow("count/crasher", {"crash=true"});
    auto agent = s.Agent({"live"});
    json final_state = s.WaitFinal(id);
    INFO("final state " << final_state.dump() << "\nagent log:\n" << agent->Log());
    CHECK(final_state["type"] == "CRASHED");
    CHECK(Has(final_state["message"], "SIGSEGV"));
  }

  SECTION("cancel of a running flow: Cancelled and the process is gone") {
    s.Deploy("long", "live");
    std::string id = s.RunNow("count/long", {"sleep_ms=60000"});
    auto agent = s.Agent({"live"});
    REQUIRE(Eventually([&] { return StartedPids(s.Out("long")).count(id) == 1; }, 30, 0.1));
    long pid = StartedPids(s.Out("long"))[id];
    CHECK(s.StateName(id) == "Running");
    RunResult cancel = WeftOk(s.env, {"flow-run", "cancel", id});
    json final_state = s.WaitFinal(id, 30);
    INFO("final state " << final_state.dump() << "\nagent log:\n" << agent->Log());
    CHECK(final_state["type"] == "CANCELLED");
    CHECK(Eventually([&] { return ProcessGone(pid); }, 15));
    CHECK(Executions(s.Out("long")).empty());
    RunResult waited = Weft(s.env, {"flow-run", "wait", id});
    CHECK(waited.exit_code == 1);
    CHECK(Has(waited.out, "Cancelled"));
    // A finished run cannot be cancelled.
    RunResult again = Weft(s.env, {"flow-run", "cancel", id});
    CHECK(again.exit_code == 1);
    CHECK(Has(again.err, "error: "));
  }

  SECTION("a flow over its timeout is stopped: TimedOut") {
    s.Deploy("slow", "live", "    timeout: 2s\n");
    std::string id = s.RunNow("count/slow", {"sleep_ms=60000"});
    auto agent = s.Agent({"live"}, {"--kill-grace", "2s"});
    json final_state = s.WaitFinal(id, 40);
    INFO("final state " << final_state.dump() << "\nagent log:\n" << agent->Log());
    CHECK(final_state["type"] == "FAILED");
    CHECK(final_state["name"] == "TimedOut");
    auto pids = StartedPids(s.Out("slow"));
    REQUIRE(pids.count(id) == 1);
    CHECK(Eventually([&] { return ProcessGone(pids[id]); }, 15));
  }
}

TEST_CASE("agent: a server killed and restarted while agents run flows", "[e2e][agent]") {
  Setup s("agent_restart");
  s.Deploy("steady", "steady");
  WeftOk(s.env, {"work-queue", "create", "steady"});
  auto a1 = s.Agent({"steady"}, {"--limit", "3"}, "steady1");
  auto a2 = s.Agent({"steady"}, {"--limit", "3"}, "steady2");
  constexpr int kRuns = 24;
  std::vector<std::string> ids;
  for (int i = 0; i < kRuns; ++i) ids.push_back(s.RunNow("count/steady", {"sleep_ms=1500"}));
  REQUIRE(Eventually([&] { return !Executions(s.Out("steady")).empty(); }, 60, 0.1));

  // kill -9 the server mid-flight, leave it down for 3 s, start it again on the same port.
  std::string address = s.server->address();
  int port = std::stoi(address.substr(address.rfind(':') + 1));
  s.server->Kill();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  s.server = std::make_unique<Server>(s.database, "", port);

  for (const auto& id : ids) {
    json final_state = s.WaitFinal(id, 180);
    INFO("run " << id << " ended " << final_state.dump() << "\nagent1 log:\n"
                << a1->Log() << "\nagent2 log:\n"
                << a2->Log());
    CHECK(final_state["name"] == "Completed");
  }
  std::map<std::string, int> executions;
  for (const auto& e : Executions(s.Out("steady"))) executions[e.run_id]++;
  CHECK(executions.size() == kRuns);
  for (const auto& [id, n] : executions) {
    INFO("run " << id);
    CHECK(n == 1);
  }
  CHECK(a1->Stop() == 0);
  CHECK(a2->Stop() == 0);
}

TEST_CASE("agent: hostile and tampered bundles are refused", "[e2e][agent]") {
  Setup s("agent_bundles");
  WeftOk(s.env, {"work-queue", "create", "bad"});
  auto agent = s.Agent({"bad"});

  SECTION("a bundle holding ../x or an absolute path") {
    for (std::string kind : {"dotdot", "absolute"}) {
      std::string file = s.out_dir + "/" + kind + ".tar.gz";
      REQUIRE(Run({BUNDLE_TOOL_BIN, "evil", file, kind}).exit_code == 0);
      RunResult deployed =
          Run({BUNDLE_TOOL_BIN, "deploy", "flows", file, "evil", kind, "bad"}, s.env);
      INFO(deployed.err);
      REQUIRE(deployed.exit_code == 0);
      std::string id = s.RunNow("evil/" + kind);
      json final_state = s.WaitFinal(id);
      INFO(kind << ": final state " << final_state.dump() << "\nagent log:\n" << agent->Log());
      CHECK(final_state["type"] == "CRASHED");
      CHECK(Has(final_state["message"], "bundle"));
    }
    CHECK_FALSE(fs::exists("/tmp/weft-evil-x"));
  }

  SECTION("a bundle whose bytes do not match its digest") {
    s.Deploy("tampered", "bad");
    json d = WeftJson(s.env, {"deployment", "inspect", "count/tampered"});
    std::string digest = d["spec"]["bundle"]["digest"];
    fs::path stored = fs::path(s.store) / "bundles" / (digest.substr(7) + ".tar.gz");
    REQUIRE(fs::exists(stored));
    fs::permissions(stored, fs::perms::owner_write, fs::perm_options::add);
    WriteFile(stored, "not the bundle that was stored");
    std::string id = s.RunNow("count/tampered");
    json final_state = s.WaitFinal(id);
    INFO("final state " << final_state.dump() << "\nagent log:\n" << agent->Log());
    CHECK(final_state["type"] == "CRASHED");
    CHECK(Has(final_state["message"], "sha256"));
    CHECK(Executions(s.Out("tampered")).empty());
  }
  CHECK(agent->Running());
}
