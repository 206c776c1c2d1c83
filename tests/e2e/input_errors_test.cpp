// Errors that tell the truth (issue 12, item 6), with a real weft-server and the `weft` CLI:
// one name rule for work queues, an entrypoint that is not in the bundle, a negative duration,
// and a --param that starts like JSON but is not. Each is `error: ...` and exit 1, and
// nothing is created.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/e2e/cli_support.hpp"

using namespace weft::e2e;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Runs `weft ARGS`, REQUIREs exit 1 and returns stderr.
std::string WeftError(const Env& env, const std::vector<std::string>& args,
                      const std::string& cwd = "") {
  RunResult r = Weft(env, args, cwd);
  std::string cmd = "weft";
  for (const auto& a : args) cmd += " " + a.substr(0, 80);
  INFO(cmd << "\nexit " << r.exit_code << "\nstdout:\n"
           << r.out.substr(0, 2000) << "\nstderr:\n"
           << r.err.substr(0, 2000));
  REQUIRE(r.exit_code == 1);
  return r.err;
}

std::size_t FilesUnder(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file()) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("input errors: a 2,000-character work queue name is refused by name rule",
          "[e2e][input_errors]") {
  Server server(FreshDatabase("names_queue"));
  Env env = server.ClientEnv();
  std::string err = WeftError(env, {"work-queue", "create", std::string(2000, 'q')});
  CHECK(err ==
        "error: name: is 2000 characters long; at most 200 (letters, digits, '_', '.' and "
        "'-')\n");
  err = WeftError(env, {"work-queue", "create", std::string(100000, 'q')});
  CHECK(err.size() < 200);
  err = WeftError(env, {"work-queue", "create", "etl\x1b[2J"});
  CHECK(err ==
        "error: name: \"etl\\x1b[2J\" may contain only letters, digits, '_', '.' and '-' (at "
        "most 200)\n");
  json ls = WeftJson(env, {"work-queue", "ls"});
  REQUIRE(ls["work_queues"].size() == 1);
  CHECK(ls["work_queues"][0]["name"] == "default");
  // The longest name the rule allows works, and `storage create` follows the same rule.
  WeftOk(env, {"work-queue", "create", std::string(200, 'q')});
  err = WeftError(env, {"storage", "create", "local", "--name", std::string(201, 's'), "--path",
                        TempDir("names_storage")});
  CHECK(Has(err, "error: name: is 201 characters long; at most 200"));
}

TEST_CASE("input errors: an entrypoint that is not in the bundle is refused when packing",
          "[e2e][input_errors]") {
  Server server(FreshDatabase("names_entrypoint"));
  Env env = server.ClientEnv();
  fs::path store = fs::path(TempDir("names_ep_store")) / "store";
  WeftOk(env,
         {"storage", "create", "local", "--name", "flows", "--path", store.string(), "--default"});
  fs::path project = TempDir("names_ep_project");
  WriteFile(project / "flow.sh", "#!/bin/sh\necho hi\n", true);
  WriteFile(project / "deploy.yaml", R"(name: nightly
flow_name: etl
entrypoint: ./flwo.sh
include: [flow.sh]
)");
  std::string err = WeftError(env, {"deployment", "create", "deploy.yaml"}, project.string());
  CHECK(err ==
        "error: deploy.yaml: entrypoint: \"./flwo.sh\" is not in the bundle (it holds flow.sh; "
        "add it to include)\n");
  CHECK(WeftJson(env, {"deployment", "ls"})["deployments"].empty());
  CHECK(FilesUnder(store) == 0);  // nothing uploaded either

  // A path under a directory is checked too; a bare command may be on the agent's PATH.
  WriteFile(project / "deploy.yaml", R"(name: nightly
flow_name: etl
entrypoint: bin/run
include: [flow.sh]
)");
  err = WeftError(env, {"deployment", "create", "deploy.yaml"}, project.string());
  CHECK(Has(err, "entrypoint: \"bin/run\" is not in the bundle"));
  WriteFile(project / "deploy.yaml", R"(name: nightly
flow_name: etl
entrypoint: ./flow.sh
include: [flow.sh]
)");
  WeftOk(env, {"deployment", "create", "deploy.yaml"}, project.string());
  CHECK(WeftJson(env, {"deployment", "ls"})["deployments"].size() == 1);
}

TEST_CASE("input errors: a negative duration says it must not be negative", "[e2e][input_errors]") {
  Server server(FreshDatabase("names_duration"));
  Env env = server.ClientEnv();
  fs::path project = TempDir("names_duration_project");
  WriteFile(project / "deploy.yaml", R"(name: nightly
flow_name: etl
entrypoint: ./flow.sh
timeout: -5
)");
  std::string err = WeftError(env, {"deployment", "create", "deploy.yaml"}, project.string());
  CHECK(err == "error: deploy.yaml: timeout: must not be negative, got \"-5\"\n");
  WriteFile(project / "deploy.yaml", R"(name: nightly
flow_name: etl
entrypoint: ./flow.sh
schedule: {interval: -10m}
)");
  err = WeftError(env, {"deployment", "create", "deploy.yaml"}, project.string());
  CHECK(err == "error: deploy.yaml: schedule.interval: must not be negative, got \"-10m\"\n");
  CHECK(WeftJson(env, {"deployment", "ls"})["deployments"].empty());
  err = WeftError(env,
                  {"flow-run", "wait", "6b1f9a52-0c4e-4c61-9d1f-3a0f6f3b2a10", "--timeout", "-5s"});
  CHECK(err == "error: --timeout: must not be negative, got \"-5s\"\n");
}

TEST_CASE("input errors: --param that starts like an object or a list must be valid JSON",
          "[e2e][input_errors]") {
  Server server(FreshDatabase("names_param"));
  Env env = server.ClientEnv();
  WeftOk(env, {"storage", "create", "local", "--name", "flows", "--path",
               TempDir("names_param_store") + "/store", "--default"});
  fs::path project = TempDir("names_param_project");
  WriteFile(project / "flow.sh", "#!/bin/sh\necho hi\n", true);
  WriteFile(project / "deploy.yaml", R"(name: nightly
flow_name: etl
entrypoint: ./flow.sh
include: [flow.sh]
)");
  WeftOk(env, {"deployment", "create", "deploy.yaml"}, project.string());

  std::string err = WeftError(env, {"deployment", "run", "etl/nightly", "--param", "x={bad"});
  CHECK(Has(err, "error: --param x: not valid JSON for an object: "));
  CHECK(Has(err, "(to pass it as text, quote it: x='\"...\"')"));
  err = WeftError(env, {"deployment", "run", "etl/nightly", "--param", "ids=[1, 2"});
  CHECK(Has(err, "error: --param ids: not valid JSON for a list: "));
  err = WeftError(env, {"deployment", "run", "etl/nightly", "--start-in", "-5m"});
  CHECK(err == "error: --start-in: must not be negative, got \"-5m\"\n");
  CHECK(WeftJson(env, {"flow-run", "ls"})["flow_runs"].empty());

  // Valid JSON objects and lists, and quoted text, are stored as given.
  json run = WeftJson(env, {"deployment", "run", "etl/nightly", "--param", "x={\"a\": 1}",
                            "--param", "ids=[1,2]", "--param", "label=\"{bad\""});
  json params = json::parse(run["flow_run"]["parameters_json"].get<std::string>());
  CHECK(params["x"] == json{{"a", 1}});
  CHECK(params["ids"] == json::array({1, 2}));
  CHECK(params["label"] == "{bad");
}
