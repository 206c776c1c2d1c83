// The main path with real processes on loopback: weft-server, flow programs and the weft CLI.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/e2e/support.hpp"

using namespace weft::e2e;
using nlohmann::json;

namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

json CliJson(const Env& env, std::vector<std::string> args) {
  args.insert(args.begin(), WEFT_CLI_BIN);
  args.push_back("--output");
  args.push_back("json");
  RunResult r = Run(args, env);
  INFO("weft " << args[1] << " stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

std::vector<std::string> Names(const json& states) {
  std::vector<std::string> names;
  for (const auto& s : states) names.push_back(s["name"].get<std::string>());
  return names;
}

}  // namespace

TEST_CASE("hello_flow against a server: runs, task runs and the retried task's history",
          "[e2e]") {
  Server server(FreshDatabase("hello"));
  Env env = server.ClientEnv();

  RunResult run = Run({HELLO_FLOW_BIN, "--param", "name=e2e"}, env);
  INFO("hello_flow stdout:\n" << run.out << "\nstderr:\n" << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_FALSE(Contains(run.out + run.err, "ephemeral"));

  json runs = CliJson(env, {"flow-run", "ls"});
  REQUIRE(runs["flow_runs"].size() == 1);
  const json& fr = runs["flow_runs"][0];
  CHECK(fr["flow_name"] == "hello");
  CHECK(fr["state"]["type"] == "COMPLETED");
  CHECK(fr["state"]["name"] == "Completed");
  CHECK(json::parse(fr["parameters_json"].get<std::string>())["name"] == "e2e");
  std::string id = fr["id"];

  RunResult table = Run({WEFT_CLI_BIN, "flow-run", "ls"}, env);
  CHECK(table.exit_code == 0);
  CHECK(Contains(table.out, "Completed"));
  CHECK(Contains(table.out, id));

  json tasks = CliJson(env, {"task-run", "ls", "--flow-run", id});
  REQUIRE(tasks["task_runs"].size() == 3);
  std::vector<std::string> order;
  for (const auto& t : tasks["task_runs"]) {
    CHECK(t["state"]["type"] == "COMPLETED");
    order.push_back(t["name"]);
  }
  CHECK(order == std::vector<std::string>{"say_hello-0", "flaky-0", "summarize-0"});

  json inspect = CliJson(env, {"flow-run", "inspect", id});
  CHECK(Names(inspect["history"]["states"]) ==
        std::vector<std::string>{"Pending", "Running", "Completed"});
  bool saw_flaky = false;
  for (size_t i = 0; i < inspect["task_runs"]["task_runs"].size(); ++i) {
    const json& t = inspect["task_runs"]["task_runs"][i];
    if (t["task_key"] != "flaky") continue;
    saw_flaky = true;
    CHECK(t["run_count"] == 2);
    CHECK(Names(inspect["task_run_histories"][i]["states"]) ==
          std::vector<std::string>{"Pending", "Running", "Failed", "AwaitingRetry", "Retrying",
                                   "Completed"});
  }
  CHECK(saw_flaky);

  RunResult text = Run({WEFT_CLI_BIN, "flow-run", "inspect", id}, env);
  CHECK(text.exit_code == 0);
  CHECK(Contains(text.out, "Failed -> AwaitingRetry -> Retrying -> Completed"));

  json flows = CliJson(env, {"flow", "ls"});
  REQUIRE(flows["flows"].size() == 1);
  CHECK(flows["flows"][0]["name"] == "hello");
}

TEST_CASE("taxi_training completes through the server and writes its model", "[e2e]") {
  Server server(FreshDatabase("taxi"));
  Env env = server.ClientEnv();
  std::string dir = TempDir("taxi");
  std::string model = dir + "/model.txt";
  RunResult run = Run({TAXI_TRAINING_BIN, "--param", "months=1", "--param",
                       "trips_per_month=3000", "--param", "model_path=" + model},
                      env, 300);
  INFO("taxi_training stdout:\n" << run.out << "\nstderr:\n" << run.err);
  REQUIRE(run.exit_code == 0);
  REQUIRE(std::filesystem::exists(model));
  CHECK(std::filesystem::file_size(model) > 0);
  CHECK(Contains(run.out + run.err, "RMSE"));

  json runs = CliJson(env, {"flow-run", "ls", "--flow", "taxi_training"});
  REQUIRE(runs["flow_runs"].size() == 1);
  CHECK(runs["flow_runs"][0]["state"]["type"] == "COMPLETED");
  json tasks = CliJson(env, {"task-run", "ls", "--flow-run", runs["flow_runs"][0]["id"]});
  CHECK(tasks["task_runs"].size() >= 5);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a malformed parameter is refused, naming it, and no run is created", "[e2e]") {
  Server server(FreshDatabase("params"));
  Env env = server.ClientEnv();
  RunResult run = Run({TAXI_TRAINING_BIN, "--param", "months=abc"}, env);
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.exit_code == 2);
  CHECK(Contains(run.err, "error:"));
  CHECK(Contains(run.err, "\"months\""));
  CHECK(Contains(run.err, "abc"));

  RunResult unknown = Run({TAXI_TRAINING_BIN, "--param", "monthz=1"}, env);
  CHECK(unknown.exit_code == 2);
  CHECK(Contains(unknown.err, "monthz"));

  json runs = CliJson(env, {"flow-run", "ls"});
  CHECK(runs["flow_runs"].empty());
}

TEST_CASE("the CLI reports errors plainly", "[e2e]") {
  Server server(FreshDatabase("cli"));
  Env env = server.ClientEnv();

  RunResult missing =
      Run({WEFT_CLI_BIN, "flow-run", "inspect", "7f1c0d5e-0000-4000-8000-000000000000"}, env);
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.rfind("error: ", 0) == 0);
  CHECK(Contains(missing.err, "7f1c0d5e-0000-4000-8000-000000000000"));

  RunResult malformed = Run({WEFT_CLI_BIN, "flow-run", "inspect", "not-a-uuid"}, env);
  CHECK(malformed.exit_code == 1);
  CHECK(malformed.err.rfind("error: ", 0) == 0);
  CHECK(Contains(malformed.err, "not-a-uuid"));

  RunResult usage = Run({WEFT_CLI_BIN, "flow-run", "ls", "--limit", "zero"}, env);
  CHECK(usage.exit_code == 2);
  CHECK(usage.err.rfind("error: ", 0) == 0);

  RunResult bad_state = Run({WEFT_CLI_BIN, "flow-run", "ls", "--state", "Sleepy"}, env);
  CHECK(bad_state.exit_code == 1);
  CHECK(Contains(bad_state.err, "Sleepy"));

  RunResult down = Run({WEFT_CLI_BIN, "flow-run", "ls"},
                       {{"WEFT_API_URL", "127.0.0.1:" + std::to_string(FreePort())}});
  CHECK(down.exit_code == 1);
  CHECK(Contains(down.err, "error: server unavailable"));

  RunResult rules = Run({WEFT_CLI_BIN, "orchestration", "rules"}, env);
  CHECK(rules.exit_code == 0);
  size_t claims = rules.out.find("PreventDuplicateClaims");
  size_t retry = rules.out.find("RetryFailedRuns");
  CHECK(claims != std::string::npos);
  CHECK(retry != std::string::npos);
  CHECK(claims < retry);
  CHECK(Contains(rules.out, "WaitForScheduledTime"));
  CHECK(Contains(rules.out, "KeepTerminalStatesTerminal"));

  RunResult version = Run({WEFT_CLI_BIN, "version"}, env);
  CHECK(version.exit_code == 0);
  CHECK(Contains(version.out, "server "));
  CHECK(Contains(version.out, "postgresql"));
}

TEST_CASE("with no server the flow runs in ephemeral mode and says so once", "[e2e]") {
  Env env = {{"WEFT_API_URL", "127.0.0.1:" + std::to_string(FreePort())}};
  RunResult run = Run({HELLO_FLOW_BIN}, env, 60);
  INFO("stdout:\n" << run.out << "\nstderr:\n" << run.err);
  CHECK(run.exit_code == 0);
  std::string all = run.out + run.err;
  size_t first = all.find("ephemeral mode");
  REQUIRE(first != std::string::npos);
  CHECK(all.find("ephemeral mode", first + 1) == std::string::npos);
  CHECK(Contains(all, "Completed"));
}

TEST_CASE("the embedded PostgreSQL keeps the runs across a server restart", "[e2e]") {
  std::string home = TempDir("home");
  std::string id;
  {
    Server first("", home);
    RunResult run = Run({HELLO_FLOW_BIN}, first.ClientEnv());
    INFO("hello_flow stdout:\n" << run.out << "\nstderr:\n" << run.err);
    REQUIRE(run.exit_code == 0);
    json runs = CliJson(first.ClientEnv(), {"flow-run", "ls"});
    REQUIRE(runs["flow_runs"].size() == 1);
    id = runs["flow_runs"][0]["id"];
    CHECK(first.Stop() == 0);
  }
  {
    Server second("", home);
    json runs = CliJson(second.ClientEnv(), {"flow-run", "ls"});
    REQUIRE(runs["flow_runs"].size() == 1);
    CHECK(runs["flow_runs"][0]["id"] == id);
    CHECK(runs["flow_runs"][0]["state"]["type"] == "COMPLETED");
    json tasks = CliJson(second.ClientEnv(), {"task-run", "ls", "--flow-run", id});
    CHECK(tasks["task_runs"].size() == 3);
    CHECK(second.Stop() == 0);
  }
  std::filesystem::remove_all(home);
}

TEST_CASE("weft server start runs weft-server with the given flags", "[e2e]") {
  std::string url = FreshDatabase("start");
  std::string address = "127.0.0.1:" + std::to_string(FreePort());
  // Nothing configured but WEFT_HOME: the CLI finds the server's admin key there by itself.
  std::string home = TempDir("start");
  Background server({WEFT_CLI_BIN, "server", "start", "--grpc-address", address, "--http-address",
                     "127.0.0.1:0", "--database-url", url},
                    {{"WEFT_HOME", home}, {"WEFT_API_KEY", "<unset>"}}, home + "/server.log");
  REQUIRE(server.WaitForLog("weft-server ready grpc=" + address, 60));
  RunResult version = Run({WEFT_CLI_BIN, "version"},
                          {{"WEFT_API_URL", address}, {"WEFT_HOME", home}, {"WEFT_API_KEY", "<unset>"}});
  CHECK(version.exit_code == 0);
  CHECK(Contains(version.out, "server 0.1.0 at " + address));
  CHECK(server.Stop() == 0);

  RunResult bad = Run({WEFT_CLI_BIN, "server", "start", "--pool-size", "0", "--grpc-address",
                       "nonsense"});
  CHECK(bad.exit_code == 2);
  CHECK(Contains(bad.out + bad.err, "pool"));
}
