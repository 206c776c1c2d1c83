// weft::Client from C++ (examples/submit_run): submit a run of a deployment, honour an
// idempotency key, and wait for the run to finish while a flow process runs it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/e2e/support.hpp"

using namespace weft::e2e;
using nlohmann::json;

namespace {

RunResult Must(const std::vector<std::string>& argv, const Env& env) {
  RunResult r = Run(argv, env, 180);
  INFO(argv[0] << " " << (argv.size() > 1 ? argv[1] : "") << "\nexit " << r.exit_code
               << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

std::string RunId(const std::string& out) {
  std::smatch m;
  std::regex id_re("flow run ([0-9a-f-]{36})");
  if (!std::regex_search(out, m, id_re)) return "";
  return m[1];
}

}  // namespace

TEST_CASE("submit_run submits a deployment run through weft::Client and waits for it",
          "[e2e][deployment]") {
  Server server(FreshDatabase("submit"));
  Env env = server.ClientEnv();
  Must({WEFT_CLI_BIN, "deployment", "create", TAXI_TRAINING_BIN}, env);

  // A run with parameters and a tag, twice with one idempotency key: one run.
  RunResult first = Must({SUBMIT_RUN_BIN, "--param", "months=1", "--param",
                          "trips_per_month=2000", "--tag", "adhoc", "--idempotency-key", "k1"},
                         env);
  std::string id = RunId(first.out);
  REQUIRE_FALSE(id.empty());
  CHECK(first.out.find("submitted flow run " + id) != std::string::npos);
  CHECK(first.out.find("state:      Scheduled") != std::string::npos);
  RunResult again = Must({SUBMIT_RUN_BIN, "--param", "months=1", "--param",
                          "trips_per_month=2000", "--idempotency-key", "k1"},
                         env);
  CHECK(RunId(again.out) == id);
  CHECK(again.out.find("already submitted") != std::string::npos);

  json runs = json::parse(Must({WEFT_CLI_BIN, "flow-run", "ls", "--deployment",
                                "taxi_training/weekly", "--state", "Scheduled", "--output", "json"},
                               env)
                              .out);
  bool found = false;
  for (const auto& r : runs["flow_runs"]) {
    if (r["id"] != id) continue;
    found = true;
    CHECK(r["auto_scheduled"] == false);
    CHECK(r["deployment_name"] == "taxi_training/weekly");
    json params = json::parse(r["parameters_json"].get<std::string>());
    CHECK(params["months"] == 1);
    CHECK(params["trips_per_month"] == 2000);
    std::vector<std::string> tags = r["tags"];
    CHECK(std::find(tags.begin(), tags.end(), "adhoc") != tags.end());
  }
  CHECK(found);

  // An unknown deployment is a plain error.
  RunResult unknown = Run({SUBMIT_RUN_BIN, "--deployment", "taxi_training/nope"}, env);
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("error: ") != std::string::npos);
  CHECK(unknown.err.find("taxi_training/nope") != std::string::npos);

  // --wait follows the run to its end while a flow process (as an agent will) adopts it.
  std::string dir = TempDir("submit");
  Background waiter({SUBMIT_RUN_BIN, "--param", "months=1", "--param", "trips_per_month=2000",
                     "--param", "model_path=" + dir + "/model.txt", "--wait", "120"},
                    env, dir + "/submit.log");
  REQUIRE(waiter.WaitForLog("waiting up to", 60));
  std::string waited_id = RunId(waiter.Log());
  REQUIRE_FALSE(waited_id.empty());
  Env adopt = env;
  adopt["WEFT_FLOW_RUN_ID"] = waited_id;
  Must({TAXI_TRAINING_BIN}, adopt);
  REQUIRE(waiter.WaitForLog("finished in state Completed", 60));
  CHECK(waiter.Stop() == 0);
}
