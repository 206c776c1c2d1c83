// The dashboard in a real browser: a real weft-server (fresh database, free ports), a real
// flow run (examples/hello_flow, whose logs the SDK ships), a deployment and a paused work
// queue made with the CLI and an agent polling that queue; then tests/ui/dashboard.mjs
// logs in with the server's admin key through the login page, drives Debian's headless
// Chromium through the pages, tries a foreign Host and cross-origin form posts, logs out,
// and saves screenshots under
// build/<preset>/ui-screenshots/.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/e2e/support.hpp"

using namespace weft::e2e;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

RunResult WeftOk(const Env& env, std::vector<std::string> args, const std::string& cwd = "") {
  std::string cmd = "weft";
  for (const auto& a : args) cmd += " " + a;
  args.insert(args.begin(), WEFT_CLI_BIN);
  RunResult r = Run(args, env, 120, cwd);
  INFO(cmd << "\nexit " << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

json WeftJson(const Env& env, std::vector<std::string> args) {
  args.push_back("--output");
  args.push_back("json");
  return json::parse(WeftOk(env, args).out);
}

// The first value of `key` anywhere in `j` (CLI JSON nests records differently per command).
const json* Find(const json& j, const std::string& key) {
  if (j.is_object()) {
    if (auto it = j.find(key); it != j.end()) return &*it;
    for (const auto& [k, v] : j.items()) {
      if (const json* f = Find(v, key)) return f;
    }
  } else if (j.is_array()) {
    for (const auto& v : j) {
      if (const json* f = Find(v, key)) return f;
    }
  }
  return nullptr;
}

void Write(const fs::path& p, const std::string& data, bool executable = false) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
  if (executable) ::chmod(p.c_str(), 0755);
}

}  // namespace

TEST_CASE(
    "dashboard: log in, runs, a run's task runs, Run on a deployment, a paused queue, "
    "attacks from other origins refused, log out",
    "[ui]") {
  if (!fs::exists(WEFT_CHROMIUM_BIN))
    FAIL("chromium is missing: scripts/install_deps.sh installs it");
  if (!fs::exists(fs::path(UI_TEST_DIR) / "node_modules" / "playwright-core")) {
    FAIL("playwright-core is missing: npm ci --prefix tests/ui (scripts/test.sh does it)");
  }
  int http_port = FreePort();
  Server server(FreshDatabase("ui"), "", 0,
                {"--http-address", "127.0.0.1:" + std::to_string(http_port),
                 "--webhook-allow-network", "127.0.0.0/8"});
  REQUIRE(server.Log().find("http=127.0.0.1:" + std::to_string(http_port)) != std::string::npos);
  Env env = server.ClientEnv();

  // A notification policy whose receiver is down: its deliveries show on the page.
  WeftOk(env, {"notification", "create", "--state", "Completed", "--webhook",
               "http://127.0.0.1:9/hooks/secret-key"});
  // A tag concurrency limit: the Concurrency limits page lists it.
  WeftOk(env, {"concurrency-limit", "create", "ui-db", "3"});
  // A real flow run with task runs.
  RunResult flow = Run({HELLO_FLOW_BIN, "--param", "name=dashboard"}, env);
  INFO("hello_flow stdout:\n" << flow.out << "\nstderr:\n" << flow.err);
  REQUIRE(flow.exit_code == 0);
  json runs = WeftJson(env, {"flow-run", "ls"});
  REQUIRE(runs["flow_runs"].size() == 1);
  std::string run_id = runs["flow_runs"][0]["id"];
  std::string run_name = runs["flow_runs"][0]["name"];
  json tasks = WeftJson(env, {"task-run", "ls", "--flow-run", run_id});
  std::vector<std::string> task_names;
  for (const auto& t : *Find(tasks, "task_runs")) {
    std::string name = t["name"];
    task_names.push_back(name.substr(0, name.rfind('-')));
  }
  REQUIRE(!task_names.empty());

  // A deployment (shell entrypoint, local storage) and a paused work queue.
  fs::path project = TempDir("ui_project");
  Write(project / "flow.sh", "#!/bin/sh\necho \"hello $*\"\n", true);
  WeftOk(env, {"storage", "create", "local", "--name", "flows", "--path",
               TempDir("ui_flows") + "/store", "--default"});
  Write(project / "deploy.yaml", R"(deployments:
  - name: nightly
    flow_name: etl
    entrypoint: ./flow.sh
    include: [flow.sh]
    schedule: {interval: 1h}
    parameters: {who: world, size: 3}
    tags: [etl]
    work_queue: etl
)");
  WeftOk(env, {"deployment", "create", "deploy.yaml"}, project.string());
  json dep = WeftJson(env, {"deployment", "inspect", "etl/nightly"});
  const json* dep_id = Find(dep, "id");
  REQUIRE(dep_id);
  WeftOk(env, {"work-queue", "create", "etl", "--tag", "etl"});
  WeftOk(env, {"work-queue", "pause", "etl"});
  // An agent serving the paused queue: it polls (and gets nothing) and shows on the queue page.
  Background agent({WEFT_AGENT_BIN, "--name", "ui-agent", "--work-dir", TempDir("ui_agent_work"),
                    "--cache-dir", TempDir("ui_agent_cache"), "-q", "etl"},
                   env, TempDir("ui_agent_log") + "/agent.log");
  REQUIRE(agent.WaitForLog("weft-agent ready", 30));
  REQUIRE(Eventually(
      [&] {
        RunResult ls = Run({WEFT_CLI_BIN, "agent", "ls", "--output", "json"}, env);
        return ls.exit_code == 0 && ls.out.find("ui-agent") != std::string::npos;
      },
      30, 0.2));

  json before = WeftJson(env, {"flow-run", "ls", "--deployment", "etl/nightly", "--limit", "1000"});
  std::size_t runs_before = before["flow_runs"].size();

  fs::path shots = fs::path(SCREENSHOT_DIR);
  fs::create_directories(shots);
  json facts = {{"base", "http://127.0.0.1:" + std::to_string(http_port)},
                {"api_key", server.admin_key()},
                {"run_id", run_id},
                {"task_names", task_names},
                {"deployment_id", *dep_id},
                {"run_parameters", {{"who", "dashboard"}}},
                {"paused_queue", "etl"},
                {"expect_logs", true},
                {"agent_name", "ui-agent"},
                {"notified_run_name", run_name},
                {"concurrency_tag", "ui-db"}};
  fs::path facts_path = fs::path(TempDir("ui_facts")) / "facts.json";
  Write(facts_path, facts.dump());
  RunResult ui = Run(
      {NODE_BIN, std::string(UI_TEST_DIR) + "/dashboard.mjs", facts_path.string(), shots.string()},
      {{"WEFT_CHROMIUM", WEFT_CHROMIUM_BIN}}, 180);
  INFO("dashboard.mjs exit " << ui.exit_code << "\nstdout:\n"
                             << ui.out << "\nstderr:\n"
                             << ui.err << "\nserver log:\n"
                             << server.Log());
  REQUIRE(ui.exit_code == 0);
  json out = json::parse(ui.out);
  std::string created = out["created_run_id"];
  REQUIRE(!created.empty());
  // The forms posted from other origins were refused (403: the Origin is checked before the
  // credentials, so even the same-site page whose post carries the cookie is refused) and the
  // run they aimed at was not cancelled; the rebinding name got 421.
  INFO(out.dump());
  CHECK(out["attacks"]["same_site_other_port"] == 403);
  CHECK(out["attacks"]["cross_site"] == 403);
  CHECK(out["attacks"]["foreign_host"] == 421);
  json attacked = WeftJson(env, {"flow-run", "inspect", created});
  const json* state = Find(attacked, "state");
  REQUIRE(state);
  INFO(attacked.dump());
  CHECK(state->dump().find("Cancel") == std::string::npos);

  // The run made by the Run button, seen through the CLI: one more run of the deployment,
  // with the parameters typed into the form merged over the deployment's.
  json after = WeftJson(env, {"flow-run", "ls", "--deployment", "etl/nightly", "--limit", "1000"});
  CHECK(after["flow_runs"].size() == runs_before + 1);
  json inspected = WeftJson(env, {"flow-run", "inspect", created});
  const json* params = Find(inspected, "parameters");
  if (!params) params = Find(inspected, "parameters_json");
  REQUIRE(params);
  json p = params->is_string() ? json::parse(params->get<std::string>()) : *params;
  CHECK(p["who"] == "dashboard");
  CHECK(p["size"] == 3);
  CHECK(agent.Stop() == 0);
  for (const char* name :
       {"flow-runs", "flow-run", "deployment", "work-queue", "concurrency-limits"}) {
    CHECK(fs::exists(shots / (std::string(name) + ".png")));
  }
}
