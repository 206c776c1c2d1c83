// weft task-run result / inspect and weft flow-run inspect against a live weft-server: a
// task run's stored result, and a second run with the same cache key answered Cached.
// The task runs are driven through the API, as a flow program would.
#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "sdk/client/client.hpp"
#include "sdk/client/convert.hpp"
#include "tests/e2e/cli_support.hpp"

using namespace weft::e2e;
using nlohmann::json;

namespace {

std::string NewTaskRun(weft::client::Client& api, const std::string& flow_run,
                       const std::string& dyn) {
  weft::v1::CreateTaskRunRequest tr;
  tr.set_flow_run_id(flow_run);
  tr.set_task_key("load");
  tr.set_dynamic_key(dyn);
  tr.set_cache_key("load:2026-11-26");
  tr.set_cache_expiration_seconds(3600);
  auto task = api.CreateTaskRun(tr);
  REQUIRE(task.ok());
  return task->task_run().id();
}

weft::v1::OrchestrationResult Propose(weft::client::Client& api, const std::string& id,
                                      weft::core::State s) {
  weft::v1::SetTaskRunStateRequest req;
  req.set_task_run_id(id);
  *req.mutable_state() = weft::client::ToProto(s);
  auto r = api.SetTaskRunState(req);
  REQUIRE(r.ok());
  return r->result();
}

}  // namespace

TEST_CASE("weft task-run result prints a stored and a cached result", "[cache]") {
  Server server(FreshDatabase("result_cli"));
  Env env = server.ClientEnv();
  weft::client::ClientOptions o;
  o.address = server.address();
  o.api_key = server.admin_key();
  weft::client::Client api(o);
  auto now = std::chrono::system_clock::now();

  weft::v1::CreateFlowRunRequest fr;
  fr.set_flow_name("cached");
  fr.set_name("cli-cache-run");
  *fr.mutable_initial_state() = weft::client::ToProto(weft::core::Running(now));
  auto flow_run = api.CreateFlowRun(fr);
  REQUIRE(flow_run.ok());
  const std::string flow_run_id = flow_run->flow_run().id();

  const std::string first = NewTaskRun(api, flow_run_id, "0");
  RunResult none = Weft(env, {"task-run", "result", first});
  CHECK(none.exit_code == 1);
  CHECK(Has(none.err, "error: task run " + first + " has no stored result"));
  RunResult unknown = Weft(env, {"task-run", "result", "not-a-run"});
  CHECK(unknown.exit_code == 1);
  CHECK(Has(unknown.err, "error: task run \"not-a-run\" not found"));

  REQUIRE(Propose(api, first, weft::core::Running(now)).decision() == weft::v1::ACCEPT);
  weft::core::State done = weft::core::Completed(now);
  done.result_json = R"({"rows":1200,"files":["a.parquet","b.parquet"]})";
  REQUIRE(Propose(api, first, done).decision() == weft::v1::ACCEPT);

  RunResult stored = WeftOk(env, {"task-run", "result", first});
  CHECK(json::parse(stored.out) == json::parse(done.result_json));
  RunResult inspected = WeftOk(env, {"task-run", "inspect", first});
  CHECK(Has(inspected.out, "cache key:   load:2026-11-26"));
  CHECK(Has(inspected.out, "result:      stored, cached until "));

  const std::string second = NewTaskRun(api, flow_run_id, "1");
  auto cached = Propose(api, second, weft::core::Running(now));
  CHECK(cached.decision() == weft::v1::REJECT);
  CHECK(cached.state().name() == "Cached");
  RunResult reused = WeftOk(env, {"task-run", "result", second});
  CHECK(json::parse(reused.out) == json::parse(done.result_json));
  RunResult second_inspected = WeftOk(env, {"task-run", "inspect", second});
  CHECK(Has(second_inspected.out, "Cached"));
  CHECK(Has(second_inspected.out, "result of task run " + first));

  // flow-run inspect: the Cached run's state, history and message name its source.
  RunResult flow = WeftOk(env, {"flow-run", "inspect", flow_run_id});
  CHECK(Has(flow.out, "Pending -> Cached"));
  CHECK(Has(flow.out, "result of task run " + first));
  json j = WeftJson(env, {"task-run", "inspect", second});
  CHECK(j["task_run"]["state"]["name"] == "Cached");
  CHECK(j["task_run"]["has_result"] == true);
}
