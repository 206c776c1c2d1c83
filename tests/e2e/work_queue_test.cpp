// Work queues with real processes (the seed's step): a deployment with an interval schedule
// on queue "etl" -> `weft work-queue create etl --tag etl` -> `weft work-queue preview etl`
// lists its scheduled runs in order. Also the other work-queue commands and their errors.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/e2e/cli_support.hpp"

using namespace weft::e2e;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_CASE("work queue: preview lists a scheduled deployment's runs in order", "[e2e][work_queue]") {
  Server server(FreshDatabase("work_queue"));
  Env env = server.ClientEnv();
  fs::path project = TempDir("wq_project");
  WriteFile(project / "flow.sh", "#!/bin/sh\necho \"running with $*\"\n", true);
  WeftOk(env, {"storage", "create", "local", "--name", "flows", "--path",
               TempDir("wq_flows") + "/store", "--default"});
  WriteFile(project / "deploy.yaml", R"(deployments:
  - name: nightly
    flow_name: etl
    entrypoint: ./flow.sh
    include: [flow.sh]
    schedule: {interval: 10m}
    tags: [etl]
    work_queue: etl
  - name: untagged
    flow_name: etl
    entrypoint: ./flow.sh
    include: [flow.sh]
    schedule: {interval: 10m}
    work_queue: etl
)");
  WeftOk(env, {"deployment", "create", "deploy.yaml"}, project.string());

  RunResult created = WeftOk(env, {"work-queue", "create", "etl", "--tag", "etl",
                                   "--concurrency-limit", "2", "--description", "ETL jobs"});
  CHECK(Has(created.out, "Created work queue etl"));
  CHECK(Has(created.out, "concurrency limit 2"));
  CHECK(Has(created.out, "tags=etl"));

  json preview;
  REQUIRE(Eventually(
      [&] {
        preview = WeftJson(env, {"work-queue", "preview", "etl"});
        return preview.contains("runs") && preview["runs"].size() >= 3;
      },
      30));
  INFO(preview.dump(2));
  std::string previous;
  for (const auto& r : preview["runs"]) {
    CHECK(r["deployment_name"] == "etl/nightly");  // the untagged deployment is filtered out
    CHECK(r["work_queue"] == "etl");
    std::string t = r["expected_start_time"].get<std::string>();
    CHECK(previous <= t);
    previous = t;
  }
  CHECK(preview["work_queue"]["name"] == "etl");

  RunResult table = WeftOk(env, {"work-queue", "preview", "etl", "--hours", "1"});
  CHECK(Has(table.out, "etl/nightly"));
  CHECK(Has(table.out, "Scheduled"));
  CHECK_FALSE(Has(table.out, "etl/untagged"));
  CHECK(Has(table.out, "Concurrency limit 2: 0 Pending/Running now"));

  // The untagged deployment's runs show once the tag filter is gone... through a new queue
  // that only narrows by deployment.
  WeftOk(env, {"work-queue", "delete", "etl"});
  WeftOk(env,
         {"work-queue", "create", "etl", "--deployment", "etl/untagged", "--runner", "process"});
  json only = WeftJson(env, {"work-queue", "preview", "etl"});
  REQUIRE_FALSE(only["runs"].empty());
  for (const auto& r : only["runs"]) CHECK(r["deployment_name"] == "etl/untagged");
}

TEST_CASE("work queue: ls, inspect, pause, resume, limits, delete and errors",
          "[e2e][work_queue]") {
  Server server(FreshDatabase("work_queue_cmds"));
  Env env = server.ClientEnv();

  json ls = WeftJson(env, {"work-queue", "ls"});
  REQUIRE(ls["work_queues"].size() == 1);
  CHECK(ls["work_queues"][0]["name"] == "default");

  WeftOk(env, {"work-queue", "create", "ml", "--priority", "2", "--runner", "docker"});
  RunResult paused = WeftOk(env, {"work-queue", "pause", "ml"});
  CHECK(Has(paused.out, "Paused work queue ml"));
  CHECK(WeftJson(env, {"work-queue", "inspect", "ml"})["paused"] == true);
  RunResult inspect = WeftOk(env, {"work-queue", "inspect", "ml"});
  CHECK(Has(inspect.out, "paused"));
  CHECK(Has(inspect.out, "docker"));
  WeftOk(env, {"work-queue", "resume", "ml"});
  WeftOk(env, {"work-queue", "set-concurrency-limit", "ml", "4"});
  json q = WeftJson(env, {"work-queue", "inspect", "ml"});
  CHECK(q.value("paused", false) == false);
  CHECK(q["concurrency_limit"] == 4);
  WeftOk(env, {"work-queue", "clear-concurrency-limit", "ml"});
  CHECK_FALSE(WeftJson(env, {"work-queue", "inspect", "ml"}).contains("concurrency_limit"));
  RunResult table = WeftOk(env, {"work-queue", "ls"});
  CHECK(Has(table.out, "default"));
  CHECK(Has(table.out, "ml"));
  RunResult empty = WeftOk(env, {"work-queue", "preview", "ml"});
  CHECK(Has(empty.out, "No scheduled runs for work queue ml"));

  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"work-queue", "inspect", "x"}, 1, "error: work queue \"x\" not found"},
      {{"work-queue", "preview", "x"}, 1, "error: work queue \"x\" not found"},
      {{"work-queue", "pause", "x"}, 1, "error: work queue \"x\" not found"},
      {{"work-queue", "delete", "x"}, 1, "error: work queue \"x\" not found"},
      {{"work-queue", "delete", "default"}, 1, "error: work queue \"default\" cannot be deleted"},
      {{"work-queue", "create", "ml"}, 1, "error: work queue \"ml\" already exists"},
      {{"work-queue", "create", "q", "--concurrency-limit", "-1"},
       1,
       "error: --concurrency-limit: must be >= 0, got -1"},
      {{"work-queue", "create", "q", "--runner", "lambda"},
       1,
       "error: --runner: must be process, docker or kubernetes, got \"lambda\""},
      {{"work-queue", "create", "bad name"},
       1,
       "error: name: \"bad name\" may contain only letters"},
      {{"work-queue", "set-concurrency-limit", "ml", "lots"}, 2, "error: "},
      {{"work-queue", "create"}, 2, "error: "},
  };
  for (const auto& c : cases) {
    RunResult r = Weft(env, c.args);
    std::string cmd;
    for (const auto& a : c.args) cmd += a + " ";
    INFO(cmd << "\nexit " << r.exit_code << "\nstderr:\n" << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(r.err.rfind(c.message, 0) == 0);
  }
  WeftOk(env, {"work-queue", "delete", "ml"});
  CHECK(WeftJson(env, {"work-queue", "ls"})["work_queues"].size() == 1);
}
