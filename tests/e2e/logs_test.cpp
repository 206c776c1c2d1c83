// Logs end to end: flow programs ship their run logs to a real weft-server, and the weft CLI
// shows them (`weft flow-run logs`, `--task`, `--level`, `--output json`, `--follow`,
// `weft task-run logs`).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/support.hpp"

using namespace weft::e2e;
using nlohmann::json;

namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// Index of the first line containing `needle` at or after `from`; -1 when none.
int Find(const std::vector<std::string>& lines, const std::string& needle, int from = 0) {
  for (int i = from; i < static_cast<int>(lines.size()); ++i) {
    if (Contains(lines[static_cast<size_t>(i)], needle)) return i;
  }
  return -1;
}

RunResult Cli(const Env& env, std::vector<std::string> args) {
  args.insert(args.begin(), WEFT_CLI_BIN);
  return Run(args, env);
}

std::string OnlyFlowRunId(const Env& env) {
  RunResult r = Cli(env, {"flow-run", "ls", "--output", "json"});
  REQUIRE(r.exit_code == 0);
  json runs = json::parse(r.out)["flow_runs"];
  REQUIRE(runs.size() == 1);
  return runs[0]["id"];
}

}  // namespace

TEST_CASE("logs: hello_flow's lines through the CLI, in order, with their task runs", "[e2e]") {
  Server server(FreshDatabase("logs"));
  Env env = server.ClientEnv();
  RunResult run = Run({HELLO_FLOW_BIN, "--param", "name=logs"}, env);
  INFO("hello_flow stderr:\n" << run.err);
  REQUIRE(run.exit_code == 0);
  std::string id = OnlyFlowRunId(env);

  RunResult logs = Cli(env, {"flow-run", "logs", id});
  INFO("weft flow-run logs:\n" << logs.out << logs.err);
  REQUIRE(logs.exit_code == 0);
  auto lines = Lines(logs.out);
  // "TIME | LEVEL | NAME | message", in the order they were logged; the final line was
  // logged after the final state and shipped before the process ended.
  int created = Find(lines, "Created flow run");
  int hello = Find(lines, "| say_hello-0 | Hello, logs!");
  int failed = Find(lines, "| flaky-0 | Entered state Failed(");
  int worked = Find(lines, "| flaky-0 | worked on attempt 2");
  int answer = Find(lines, "Hello, logs! The answer is 42.");
  int finished = Find(lines, "Finished in state Completed()", answer);
  CHECK(created == 0);
  CHECK(hello > created);
  CHECK(failed > hello);
  CHECK(worked > failed);
  CHECK(answer > worked);
  CHECK(finished == static_cast<int>(lines.size()) - 1);
  CHECK(Contains(lines.at(0), " | INFO     | "));

  // Only the flaky task's lines.
  RunResult flaky = Cli(env, {"flow-run", "logs", id, "--task", "flaky"});
  REQUIRE(flaky.exit_code == 0);
  auto flaky_lines = Lines(flaky.out);
  REQUIRE_FALSE(flaky_lines.empty());
  for (const auto& l : flaky_lines) CHECK(Contains(l, "| flaky-0 |"));
  CHECK(Find(flaky_lines, "worked on attempt 2") >= 0);

  // JSON: one object per line, ids increasing.
  RunResult js = Cli(env, {"flow-run", "logs", id, "--output", "json", "--limit", "3"});
  REQUIRE(js.exit_code == 0);
  auto json_lines = Lines(js.out);
  REQUIRE(json_lines.size() == 3);
  long previous = 0;
  for (const auto& l : json_lines) {
    json j = json::parse(l);
    CHECK(j["flow_run_id"] == id);
    long line_id = std::stol(j["id"].get<std::string>());
    CHECK(line_id > previous);
    previous = line_id;
  }

  // One task run's lines by its id.
  RunResult tasks = Cli(env, {"task-run", "ls", "--flow-run", id, "--output", "json"});
  REQUIRE(tasks.exit_code == 0);
  std::string flaky_id;
  json task_runs = json::parse(tasks.out)["task_runs"];
  for (const auto& t : task_runs) {
    if (t["name"] == "flaky-0") flaky_id = t["id"];
  }
  REQUIRE_FALSE(flaky_id.empty());
  RunResult task_logs = Cli(env, {"task-run", "logs", flaky_id});
  REQUIRE(task_logs.exit_code == 0);
  CHECK(Contains(task_logs.out, "worked on attempt 2"));
  CHECK_FALSE(Contains(task_logs.out, "Hello, logs!"));

  // Errors name the problem.
  RunResult bad_level = Cli(env, {"flow-run", "logs", id, "--level", "loud"});
  CHECK(bad_level.exit_code != 0);
  CHECK(Contains(bad_level.err, "--level"));
  RunResult unknown = Cli(env, {"flow-run", "logs", "00000000-0000-4000-8000-000000000001"});
  CHECK(unknown.exit_code != 0);
  CHECK(Contains(unknown.err, "not found"));
}

TEST_CASE("logs: --follow prints a running flow's lines as they arrive and exits when it ends",
          "[e2e]") {
  Server server(FreshDatabase("logs_follow"));
  Env env = server.ClientEnv();
  std::string dir = TempDir("weft-logs-follow");
  Background flow({SLOW_LOG_FLOW_BIN, "--param", "ticks=12", "--param", "interval_ms=400"}, env,
                  dir + "/flow.log");
  std::string id;
  REQUIRE(Eventually(
      [&] {
        RunResult r = Cli(env, {"flow-run", "ls", "--output", "json"});
        if (r.exit_code != 0) return false;
        json runs = json::parse(r.out)["flow_runs"];
        if (runs.empty()) return false;
        id = runs[0]["id"];
        return true;
      },
      60));

  std::vector<std::string> follow_argv = {WEFT_CLI_BIN, "flow-run", "logs", id, "--follow"};
  Background follow(follow_argv, env, dir + "/follow.log");
  // Lines show while the flow still runs: the first ticks are printed before it ends.
  REQUIRE(follow.WaitForLog("| tick-0 | tick 2", 60));
  CHECK(flow.Running());
  CHECK_FALSE(Contains(follow.Log(), "all ticks done"));

  // It ends by itself once the run is over and its lines are drained.
  REQUIRE(Eventually([&] { return !follow.Running(); }, 60));
  CHECK(follow.Stop() == 0);
  CHECK(flow.Stop() == 0);
  auto lines = Lines(follow.Log());
  INFO("follow output:\n" << follow.Log());
  int previous = -1;
  for (int i = 1; i <= 12; ++i) {
    int at = Find(lines, "| tick-0 | tick " + std::to_string(i));
    CHECK(at > previous);
    previous = at;
  }
  int done = Find(lines, "| WARNING  | ");
  CHECK(done > previous);
  CHECK(Contains(lines.at(static_cast<size_t>(done)), "all ticks done"));
  CHECK(Contains(lines.back(), "Finished in state Completed()"));
}
