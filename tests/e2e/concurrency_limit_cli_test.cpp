// weft concurrency-limit create/ls/inspect/reset/delete against a live weft-server. A task
// run is put into RUNNING through the API (as a flow program would) so that inspect has a
// holder to show.
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "sdk/client/client.hpp"
#include "sdk/client/convert.hpp"
#include "tests/e2e/cli_support.hpp"

using namespace weft::e2e;
using nlohmann::json;

namespace {

// A flow run "cli-run" with task run "load-0" tagged `tag`, proposed RUNNING.
weft::v1::OrchestrationResult StartTask(weft::client::Client& api, const std::string& tag,
                                        const std::string& key, std::string* flow_run_id) {
  auto now = std::chrono::system_clock::now();
  if (flow_run_id->empty()) {
    weft::v1::CreateFlowRunRequest fr;
    fr.set_flow_name("limited");
    fr.set_name("cli-run");
    *fr.mutable_initial_state() = weft::client::ToProto(weft::core::Running(now));
    auto created = api.CreateFlowRun(fr);
    REQUIRE(created.ok());
    *flow_run_id = created->flow_run().id();
  }
  weft::v1::CreateTaskRunRequest tr;
  tr.set_flow_run_id(*flow_run_id);
  tr.set_task_key(key);
  tr.set_dynamic_key("0");
  tr.add_tags(tag);
  auto task = api.CreateTaskRun(tr);
  REQUIRE(task.ok());
  weft::v1::SetTaskRunStateRequest run;
  run.set_task_run_id(task->task_run().id());
  *run.mutable_state() = weft::client::ToProto(weft::core::Running(now));
  auto r = api.SetTaskRunState(run);
  REQUIRE(r.ok());
  return r->result();
}

}  // namespace

TEST_CASE("weft concurrency-limit create/ls/inspect/reset/delete", "[concurrency]") {
  Server server(FreshDatabase("concurrency_cli"));
  Env env = server.ClientEnv();
  weft::client::ClientOptions o;
  o.address = server.address();
  o.api_key = server.admin_key();
  weft::client::Client api(o);

  // Bad input: our message and exit 1; a missing argument is a usage error (exit 2).
  RunResult neg = Weft(env, {"concurrency-limit", "create", "db", "-1"});
  CHECK(neg.exit_code == 1);
  CHECK(Has(neg.err, "error: limit: must be >= 0, got -1"));
  RunResult word = Weft(env, {"concurrency-limit", "create", "db", "two"});
  CHECK(word.exit_code == 1);
  CHECK(Has(word.err, "error: limit: \"two\" is not a whole number"));
  CHECK(Weft(env, {"concurrency-limit", "create", "db"}).exit_code == 2);
  RunResult missing = Weft(env, {"concurrency-limit", "inspect", "nope"});
  CHECK(missing.exit_code == 1);
  CHECK(Has(missing.err, "error: concurrency limit on tag \"nope\" not found"));

  RunResult created = WeftOk(env, {"concurrency-limit", "create", "db", "1"});
  CHECK(Has(created.out, "Created concurrency limit on tag \"db\": 1 slot (0 in use)"));
  RunResult updated = WeftOk(env, {"concurrency-limit", "create", "db", "2"});
  CHECK(Has(updated.out, "Updated concurrency limit on tag \"db\": 2 slots"));

  std::string flow_run;
  CHECK(StartTask(api, "db", "load", &flow_run).decision() == weft::v1::ACCEPT);
  CHECK(StartTask(api, "db", "save", &flow_run).decision() == weft::v1::ACCEPT);
  auto waiting = StartTask(api, "db", "copy", &flow_run);
  CHECK(waiting.decision() == weft::v1::WAIT);
  CHECK(Has(waiting.reason(), "concurrency limit on tag \"db\" is full (2/2 slots)"));

  RunResult ls = WeftOk(env, {"concurrency-limit", "ls"});
  CHECK(Has(ls.out, "TAG"));
  CHECK(Has(ls.out, "db"));
  json listed = WeftJson(env, {"concurrency-limit", "ls"});
  REQUIRE(listed["limits"].size() == 1);
  CHECK(listed["limits"][0]["tag"] == "db");
  CHECK(listed["limits"][0]["limit"] == 2);
  CHECK(listed["limits"][0]["active_slots"] == 2);

  RunResult inspect = WeftOk(env, {"concurrency-limit", "inspect", "db"});
  CHECK(Has(inspect.out, "In use:   2/2"));
  CHECK(Has(inspect.out, "load-0"));
  CHECK(Has(inspect.out, "save-0"));
  CHECK(Has(inspect.out, "cli-run"));
  CHECK(Has(inspect.out, flow_run));
  json inspected = WeftJson(env, {"concurrency-limit", "inspect", "db"});
  REQUIRE(inspected["holders"].size() == 2);
  CHECK(inspected["holders"][0]["task_run_name"] == "load-0");
  CHECK(inspected["holders"][0]["flow_run_id"] == flow_run);

  RunResult reset = WeftOk(env, {"concurrency-limit", "reset", "db"});
  CHECK(Has(reset.out, "Reset concurrency limit on tag \"db\": freed 2 slots"));
  CHECK(Has(WeftOk(env, {"concurrency-limit", "inspect", "db"}).out, "No task run holds a slot."));

  WeftOk(env, {"concurrency-limit", "delete", "db"});
  CHECK_FALSE(Has(WeftOk(env, {"concurrency-limit", "ls"}).out, "db"));
  RunResult gone = Weft(env, {"concurrency-limit", "delete", "db"});
  CHECK(gone.exit_code == 1);
  CHECK(Has(gone.err, "error: concurrency limit on tag \"db\" not found"));
}
