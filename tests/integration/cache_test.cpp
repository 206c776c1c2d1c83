// Results and caching over gRPC: a COMPLETED state's result_json is stored, GetTaskRunResult
// returns it, and a later task run with the same cache key proposing RUNNING is answered
// Cached with it until the result expires.
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "sdk/client/convert.hpp"
#include "tests/integration/server_fixture.hpp"

using namespace weft;

namespace {

std::string NewFlowRun(client::Client& c) {
  v1::CreateFlowRunRequest req;
  req.set_flow_name("cached-etl");
  auto r = c.CreateFlowRun(req);
  REQUIRE(r.ok());
  return r->flow_run().id();
}

v1::TaskRun NewTaskRun(client::Client& c, const std::string& flow_run, const std::string& dyn,
                       const std::string& cache_key, double expiration_seconds = 0) {
  v1::CreateTaskRunRequest req;
  req.set_flow_run_id(flow_run);
  req.set_task_key("load");
  req.set_dynamic_key(dyn);
  req.set_cache_key(cache_key);
  req.set_cache_expiration_seconds(expiration_seconds);
  auto r = c.CreateTaskRun(req);
  REQUIRE(r.ok());
  return r->task_run();
}

v1::OrchestrationResult Propose(client::Client& c, const std::string& task_run, v1::StateType type,
                                const std::string& result_json = "") {
  v1::SetTaskRunStateRequest req;
  req.set_task_run_id(task_run);
  req.mutable_state()->set_type(type);
  req.mutable_state()->set_result_json(result_json);
  auto r = c.SetTaskRunState(req);
  REQUIRE(r.ok());
  return r->result();
}

core::Error ProposeError(client::Client& c, const std::string& task_run, v1::StateType type,
                         const std::string& result_json) {
  v1::SetTaskRunStateRequest req;
  req.set_task_run_id(task_run);
  req.mutable_state()->set_type(type);
  req.mutable_state()->set_result_json(result_json);
  auto r = c.SetTaskRunState(req);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

// Runs a task run to COMPLETED with `result_json`.
void RunToCompletion(client::Client& c, const std::string& task_run, const std::string& result) {
  auto running = Propose(c, task_run, v1::RUNNING);
  REQUIRE(running.decision() == v1::ACCEPT);
  auto done = Propose(c, task_run, v1::COMPLETED, result);
  REQUIRE(done.decision() == v1::ACCEPT);
  CHECK(done.state().result_json().empty());  // not echoed back
}

std::vector<std::string> History(client::Client& c, const std::string& task_run) {
  v1::ListTaskRunStatesRequest req;
  req.set_task_run_id(task_run);
  auto r = c.ListTaskRunStates(req);
  REQUIRE(r.ok());
  std::vector<std::string> names;
  for (const auto& s : r->states()) {
    CHECK(s.result_json().empty());  // never in history listings
    names.push_back(s.name());
  }
  return names;
}

core::Result<v1::GetTaskRunResultResponse> GetResult(client::Client& c, const std::string& task_run) {
  v1::GetTaskRunResultRequest req;
  req.set_task_run_id(task_run);
  return c.GetTaskRunResult(req);
}

v1::TaskRun Get(client::Client& c, const std::string& id) {
  v1::GetTaskRunRequest req;
  req.set_id(id);
  auto r = c.GetTaskRun(req);
  REQUIRE(r.ok());
  return r->task_run();
}

void SmallResults(server::app::Settings& s) { s.max_result_size = 64; }

}  // namespace

TEST_CASE("cache: a completed result is stored and a second run with the key is Cached",
          "[cache]") {
  test::ApiServer s;
  auto& c = *s.client;
  std::string flow_run = NewFlowRun(c);
  const std::string result = R"({"rows":1200,"path":"s3://b/part-0.parquet"})";

  v1::TaskRun first = NewTaskRun(c, flow_run, "0", "load:2026-11-26");
  CHECK_FALSE(first.has_result());
  auto missing = GetResult(c, first.id());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == core::Code::kNotFound);
  CHECK(missing.error().message == "task run " + first.id() + " has no stored result");

  RunToCompletion(c, first.id(), result);
  auto stored = GetResult(c, first.id());
  REQUIRE(stored.ok());
  CHECK(stored->result_json() == result);
  CHECK(stored->size_bytes() == static_cast<std::int64_t>(result.size()));
  CHECK(stored->has_created());
  v1::TaskRun first_now = Get(c, first.id());
  CHECK(first_now.has_result());
  CHECK_FALSE(first_now.has_cache_expiration());  // 0 = never expires

  // Same key: RUNNING is refused and the run is written Cached with the stored result.
  v1::TaskRun second = NewTaskRun(c, flow_run, "1", "load:2026-11-26");
  auto answer = Propose(c, second.id(), v1::RUNNING);
  CHECK(answer.decision() == v1::REJECT);
  CHECK(answer.rule() == "UseCachedResult");
  CHECK(answer.state().type() == v1::COMPLETED);
  CHECK(answer.state().name() == "Cached");
  CHECK(answer.state().result_json() == result);
  CHECK_THAT(answer.state().message(), Catch::Contains(first.id()));
  CHECK_THAT(answer.state().message(), Catch::Contains("without expiration"));
  CHECK(History(c, second.id()) == std::vector<std::string>{"Pending", "Cached"});
  v1::TaskRun second_now = Get(c, second.id());
  CHECK(second_now.state().name() == "Cached");
  CHECK(second_now.run_count() == 0);
  CHECK(second_now.has_result());
  auto reused = GetResult(c, second.id());
  REQUIRE(reused.ok());
  CHECK(reused->result_json() == result);

  // A third run with the same key is served by the original run, not by the Cached one.
  v1::TaskRun third = NewTaskRun(c, flow_run, "2", "load:2026-11-26");
  auto again = Propose(c, third.id(), v1::RUNNING);
  CHECK(again.state().name() == "Cached");
  CHECK_THAT(again.state().message(), Catch::Contains(first.id()));

  // A different key runs.
  v1::TaskRun other = NewTaskRun(c, flow_run, "3", "load:2026-11-27");
  auto runs = Propose(c, other.id(), v1::RUNNING);
  CHECK(runs.decision() == v1::ACCEPT);
  CHECK(runs.state().name() == "Running");
  CHECK(runs.state().result_json().empty());

  // Without a key a task run always runs (its result is still stored when it sends one).
  v1::TaskRun plain = NewTaskRun(c, flow_run, "4", "");
  RunToCompletion(c, plain.id(), "[1,2,3]");
  auto plain_result = GetResult(c, plain.id());
  REQUIRE(plain_result.ok());
  CHECK(plain_result->result_json() == "[1,2,3]");
}

TEST_CASE("cache: an expired result is not used and the task runs again", "[cache]") {
  test::ApiServer s;
  auto& c = *s.client;
  std::string flow_run = NewFlowRun(c);
  v1::TaskRun first = NewTaskRun(c, flow_run, "0", "daily", 1.0);
  RunToCompletion(c, first.id(), R"("v1")");
  v1::TaskRun stored = Get(c, first.id());
  REQUIRE(stored.has_cache_expiration());
  core::TimePoint expires = client::FromProto(stored.cache_expiration());

  v1::TaskRun before = NewTaskRun(c, flow_run, "1", "daily", 1.0);
  auto cached = Propose(c, before.id(), v1::RUNNING);
  // The second proposal may land after the expiry on a slow machine; only then does it run.
  if (core::SystemClock::Instance().Now() < expires) {
    CHECK(cached.state().name() == "Cached");
    CHECK_THAT(cached.state().message(), Catch::Contains("cached until"));
    CHECK(client::FromProto(Get(c, before.id()).cache_expiration()) == expires);
  }

  while (core::SystemClock::Instance().Now() <= expires + std::chrono::milliseconds(50)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  v1::TaskRun after = NewTaskRun(c, flow_run, "2", "daily", 1.0);
  auto runs = Propose(c, after.id(), v1::RUNNING);
  CHECK(runs.decision() == v1::ACCEPT);
  CHECK(runs.state().name() == "Running");
  // Its new result serves the key again.
  REQUIRE(Propose(c, after.id(), v1::COMPLETED, R"("v2")").decision() == v1::ACCEPT);
  v1::TaskRun next = NewTaskRun(c, flow_run, "3", "daily", 1.0);
  auto fresh = Propose(c, next.id(), v1::RUNNING);
  if (fresh.state().name() == "Cached") CHECK(fresh.state().result_json() == R"("v2")");
}

TEST_CASE("cache: a result over --max-result-size is refused and nothing is stored",
          "[cache]") {
  test::ApiServer s(SmallResults);
  auto& c = *s.client;
  std::string flow_run = NewFlowRun(c);
  v1::TaskRun run = NewTaskRun(c, flow_run, "0", "big");
  REQUIRE(Propose(c, run.id(), v1::RUNNING).decision() == v1::ACCEPT);
  const std::string big = "\"" + std::string(100, 'x') + "\"";  // 102 bytes
  core::Error e = ProposeError(c, run.id(), v1::COMPLETED, big);
  CHECK(e.code == core::Code::kInvalidArgument);
  CHECK_THAT(e.message, Catch::Contains("state.result_json"));
  CHECK_THAT(e.message, Catch::Contains(run.id()));
  CHECK_THAT(e.message, Catch::Contains("102 bytes"));
  CHECK_THAT(e.message, Catch::Contains("limit of 64 bytes"));
  CHECK(History(c, run.id()) == std::vector<std::string>{"Pending", "Running"});
  CHECK_FALSE(Get(c, run.id()).has_result());
  CHECK_FALSE(GetResult(c, run.id()).ok());

  // The batched path refuses it the same way, before writing anything.
  v1::ReportTaskRunsRequest batch;
  auto* rep = batch.add_reports();
  const std::string id = "5f0c7d3e-1b2a-4c3d-8e9f-0a1b2c3d4e5f";
  rep->mutable_create()->set_id(id);
  rep->mutable_create()->set_flow_run_id(flow_run);
  rep->mutable_create()->set_task_key("load");
  rep->mutable_create()->set_dynamic_key("1");
  rep->set_task_run_id(id);
  rep->add_states()->set_type(v1::RUNNING);
  auto* done = rep->add_states();
  done->set_type(v1::COMPLETED);
  done->set_result_json(big);
  auto r = c.ReportTaskRuns(batch);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(r.error().message, Catch::Contains("reports[0].states[1].result_json"));
  CHECK_THAT(r.error().message, Catch::Contains(id));
  CHECK_THAT(r.error().message, Catch::Contains("limit of 64 bytes"));
  v1::GetTaskRunRequest get;
  get.set_id(id);
  CHECK(c.GetTaskRun(get).error().code == core::Code::kNotFound);

  // A result within the limit is fine.
  REQUIRE(Propose(c, run.id(), v1::COMPLETED, R"({"ok":true})").decision() == v1::ACCEPT);
  CHECK(GetResult(c, run.id())->result_json() == R"({"ok":true})");
}

TEST_CASE("cache: failed runs never feed the cache; results must be JSON on COMPLETED",
          "[cache]") {
  test::ApiServer s;
  auto& c = *s.client;
  std::string flow_run = NewFlowRun(c);
  v1::TaskRun failed = NewTaskRun(c, flow_run, "0", "k");
  REQUIRE(Propose(c, failed.id(), v1::RUNNING).decision() == v1::ACCEPT);
  core::Error e = ProposeError(c, failed.id(), v1::FAILED, "42");
  CHECK(e.code == core::Code::kInvalidArgument);
  CHECK_THAT(e.message, Catch::Contains("only a COMPLETED state carries a result"));
  REQUIRE(Propose(c, failed.id(), v1::FAILED).decision() == v1::ACCEPT);
  CHECK_FALSE(Get(c, failed.id()).has_result());

  v1::TaskRun next = NewTaskRun(c, flow_run, "1", "k");
  auto runs = Propose(c, next.id(), v1::RUNNING);
  CHECK(runs.decision() == v1::ACCEPT);
  CHECK(runs.state().name() == "Running");

  core::Error bad = ProposeError(c, next.id(), v1::COMPLETED, "{not json");
  CHECK(bad.code == core::Code::kInvalidArgument);
  CHECK_THAT(bad.message, Catch::Contains("is not valid JSON"));

  v1::CreateTaskRunRequest neg;
  neg.set_flow_run_id(flow_run);
  neg.set_task_key("load");
  neg.set_dynamic_key("9");
  neg.set_cache_expiration_seconds(-1);
  auto r = c.CreateTaskRun(neg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(r.error().message, Catch::Contains("cache_expiration_seconds"));
}

TEST_CASE("cache: results reported in a batch are stored and feed the cache", "[cache]") {
  test::ApiServer s;
  auto& c = *s.client;
  std::string flow_run = NewFlowRun(c);
  v1::ReportTaskRunsRequest batch;
  auto* rep = batch.add_reports();
  const std::string id = "0d6b3f8a-2c1e-4f5a-9b7c-1e2d3c4b5a69";
  rep->mutable_create()->set_id(id);
  rep->mutable_create()->set_flow_run_id(flow_run);
  rep->mutable_create()->set_task_key("load");
  rep->mutable_create()->set_dynamic_key("0");
  rep->mutable_create()->set_cache_key("batched");
  rep->mutable_create()->set_cache_expiration_seconds(3600);
  rep->set_task_run_id(id);
  rep->add_states()->set_type(v1::RUNNING);
  auto* done = rep->add_states();
  done->set_type(v1::COMPLETED);
  done->set_result_json(R"({"n":7})");
  auto r = c.ReportTaskRuns(batch);
  REQUIRE(r.ok());
  REQUIRE(r->results_size() == 1);
  CHECK(r->results(0).accepted() == 2);
  v1::TaskRun stored = Get(c, id);
  CHECK(stored.has_result());
  CHECK(stored.has_cache_expiration());
  CHECK(GetResult(c, id)->result_json() == R"({"n":7})");

  v1::TaskRun next = NewTaskRun(c, flow_run, "1", "batched");
  auto answer = Propose(c, next.id(), v1::RUNNING);
  CHECK(answer.state().name() == "Cached");
  CHECK(answer.state().result_json() == R"({"n":7})");
}
