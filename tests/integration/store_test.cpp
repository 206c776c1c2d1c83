// Every repository method against the latest schema, through the domain functions
// where they exist (the way the API calls them).
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "server/store/flow_repo.hpp"
#include "server/store/flow_run_repo.hpp"
#include "tests/integration/test_database.hpp"

using namespace weft;
using server::orchestration::FlowRunSpec;
using server::orchestration::TaskRunSpec;

TEST_CASE("flows: create is idempotent on name, get by id and name, list by prefix", "[store]") {
  test::TestDatabase t;
  auto& runs = t.runs();
  auto a = runs.CreateFlow("etl", {"nightly"}, R"([{"name":"day","type":"string"}])");
  REQUIRE(a.ok());
  CHECK(a->created);
  auto again = runs.CreateFlow("etl", {}, "");
  REQUIRE(again.ok());
  CHECK_FALSE(again->created);
  CHECK(again->record.id == a->record.id);
  CHECK(again->record.tags == std::vector<std::string>{"nightly"});
  CHECK_THAT(again->record.parameters_schema_json, Catch::Contains("day"));
  REQUIRE(runs.CreateFlow("etl-2", {}, "").ok());
  REQUIRE(runs.CreateFlow("other", {}, "").ok());

  auto by_id = runs.GetFlowById(a->record.id);
  REQUIRE(by_id.ok());
  CHECK(by_id->name == "etl");
  auto by_name = runs.GetFlowByName("etl");
  REQUIRE(by_name.ok());
  CHECK(by_name->id == a->record.id);
  auto missing = runs.GetFlowByName("nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == core::Code::kNotFound);
  CHECK_THAT(missing.error().message, Catch::Contains("nope"));

  auto page1 = runs.ListFlows("etl", "", 1);
  REQUIRE(page1.ok());
  REQUIRE(page1->size() == 1);
  CHECK((*page1)[0].name == "etl");
  auto page2 = runs.ListFlows("etl", (*page1)[0].name, 10);
  REQUIRE(page2.ok());
  REQUIRE(page2->size() == 1);
  CHECK((*page2)[0].name == "etl-2");
}

TEST_CASE("flow runs: create with defaults, get, list newest first with filters and cursor",
          "[store]") {
  test::TestDatabase t;
  auto& runs = t.runs();
  FlowRunSpec spec;
  spec.flow_name = "etl";
  spec.parameters_json = R"({"day":"2026-11-26"})";
  spec.tags = {"a", "b \"quoted\""};
  spec.retry_policy = core::RetryPolicy::Fixed(2, 5);
  auto created = runs.CreateFlowRun(spec);
  REQUIRE(created.ok());
  CHECK(created->created);
  const auto& run = created->record;
  CHECK_FALSE(run.name.empty());
  REQUIRE(run.run.state);
  CHECK(run.run.state->type == core::StateType::kPending);

  auto got = runs.GetFlowRun(run.run.id);
  REQUIRE(got.ok());
  CHECK(got->flow_name == "etl");
  CHECK(got->tags == spec.tags);
  CHECK(got->run.retry_policy.max_retries == 2);
  CHECK_THAT(got->parameters_json, Catch::Contains("2026-11-26"));
  REQUIRE(got->run.state);
  CHECK(got->run.state->name == "Pending");
  CHECK(got->run.state_id > 0);
  CHECK(got->task_run_count == 0);

  // More runs: one scheduled in another flow.
  FlowRunSpec other;
  other.flow_name = "reports";
  other.initial_state = core::Scheduled(t.clock().Now(), t.clock().Now() + std::chrono::hours(1));
  auto scheduled = runs.CreateFlowRun(other);
  REQUIRE(scheduled.ok());
  CHECK(scheduled->record.run.expected_start_time.has_value());
  for (int i = 0; i < 3; ++i) REQUIRE(runs.CreateFlowRun(spec).ok());

  server::store::FlowRunFilter all;
  auto listed = runs.ListFlowRuns(all);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 5);
  for (size_t i = 1; i < listed->size(); ++i) {
    CHECK((*listed)[i - 1].created >= (*listed)[i].created);
  }
  server::store::FlowRunFilter by_flow;
  by_flow.flow_name = "reports";
  auto reports = runs.ListFlowRuns(by_flow);
  REQUIRE(reports.ok());
  REQUIRE(reports->size() == 1);
  CHECK((*reports)[0].run.id == scheduled->record.run.id);

  server::store::FlowRunFilter by_type;
  by_type.state_types = {core::StateType::kScheduled};
  REQUIRE(runs.ListFlowRuns(by_type)->size() == 1);
  server::store::FlowRunFilter by_name;
  by_name.state_names = {"Pending"};
  REQUIRE(runs.ListFlowRuns(by_name)->size() == 4);

  // Keyset paging: 2 + 2 + 1, no duplicates.
  std::set<std::string> seen;
  server::store::FlowRunFilter page;
  page.limit = 2;
  for (int p = 0; p < 3; ++p) {
    auto r = runs.ListFlowRuns(page);
    REQUIRE(r.ok());
    for (const auto& fr : *r) seen.insert(fr.run.id);
    if (r->empty()) break;
    page.after = server::store::Cursor{r->back().created, r->back().run.id};
  }
  CHECK(seen.size() == 5);

  auto states = runs.ListFlowRunStates(run.run.id);
  REQUIRE(states.ok());
  REQUIRE(states->size() == 1);
  CHECK(states->front().state.name == "Pending");
}

TEST_CASE("flow runs: the idempotency key returns the same run", "[store]") {
  test::TestDatabase t;
  FlowRunSpec spec;
  spec.flow_name = "etl";
  spec.idempotency_key = "deployment-1/2026-11-26T00:00:00Z";
  auto a = t.runs().CreateFlowRun(spec);
  REQUIRE(a.ok());
  CHECK(a->created);
  auto b = t.runs().CreateFlowRun(spec);
  REQUIRE(b.ok());
  CHECK_FALSE(b->created);
  CHECK(b->record.run.id == a->record.run.id);
  // The same key in another flow is another run.
  spec.flow_name = "other";
  auto c = t.runs().CreateFlowRun(spec);
  REQUIRE(c.ok());
  CHECK(c->created);
  CHECK(c->record.run.id != a->record.run.id);

  // Concurrent creations with one key: one run.
  spec.idempotency_key = "concurrent";
  std::vector<std::string> ids(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = t.runs().CreateFlowRun(spec);
      if (r.ok()) ids[i] = r->record.run.id;
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& id : ids) CHECK(id == ids[0]);
  CHECK_FALSE(ids[0].empty());
}

TEST_CASE("unknown and malformed ids are NOT_FOUND naming the id", "[store]") {
  test::TestDatabase t;
  for (std::string id : {"00000000-0000-0000-0000-000000000000", "not-a-uuid"}) {
    auto r = t.runs().GetFlowRun(id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kNotFound);
    CHECK_THAT(r.error().message, Catch::Contains(id));
    auto tr = t.runs().GetTaskRun(id);
    REQUIRE_FALSE(tr.ok());
    CHECK(tr.error().code == core::Code::kNotFound);
    auto s = t.runs().ListFlowRunStates(id);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == core::Code::kNotFound);
  }
}
