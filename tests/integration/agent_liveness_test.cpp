// Liveness and control: the zombie reaper (heartbeats stop -> Crashed; a heartbeating run is
// left alone), the late-runs service (overdue Scheduled -> Late, once, still claimable),
// cancellation, and the heartbeats' answers.
#include <algorithm>

#include "tests/integration/agent_test_support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using test::AgentFixture;
using test::Eventually;
using test::kAgentA;
using test::kAgentB;
using test::RunIds;

namespace {

void ShortHeartbeats(server::app::Settings& s) {
  test::QuietScheduler(s);
  s.heartbeat_interval = 0.5;
  s.heartbeat_timeout = 2;
}

void FastLate(server::app::Settings& s) {
  test::QuietScheduler(s);
  s.late_after = 0.5;
}

}  // namespace

TEST_CASE("liveness: a claimed run whose agent stops heartbeating becomes Crashed", "[agents]") {
  AgentFixture f(ShortHeartbeats);
  f.Deploy("etl", "default");
  std::string silent = f.Run("etl", -1s);
  std::string alive = f.Run("etl");
  REQUIRE(RunIds(f.Poll(kAgentA, {"default"}, 1)).size() == 1);  // the older one: silent
  REQUIRE(RunIds(f.Poll(kAgentB, {"default"}, 1)) == std::vector<std::string>{alive});
  f.Propose(alive, core::Running(std::chrono::system_clock::now()));

  bool crashed = Eventually([&] {
    auto hb = f.Heartbeat(kAgentB, {alive});  // agent B keeps its run alive
    CHECK(hb.unknown_flow_run_ids_size() == 0);
    CHECK(hb.heartbeat_interval_seconds() == 0.5);
    return f.Get(silent).state().type() == v1::CRASHED;
  });
  REQUIRE(crashed);
  auto run = f.Get(silent);
  CHECK(run.state().name() == "Crashed");
  CHECK_THAT(run.state().message(), Catch::Contains("no heartbeat for 2 s from agent agent-a"));
  CHECK(f.Get(alive).state().name() == "Running");

  // The crashed run is now unknown to its agent's heartbeat.
  auto hb = f.Heartbeat(kAgentA, {silent});
  REQUIRE(hb.unknown_flow_run_ids_size() == 1);
  CHECK(hb.unknown_flow_run_ids(0) == silent);
}

TEST_CASE("liveness: a flow program's heartbeat keeps its run alive and reports its state",
          "[agents]") {
  AgentFixture f(ShortHeartbeats);
  f.Deploy("etl", "default");
  std::string id = f.Run("etl");
  REQUIRE(f.Poll(kAgentA, {"default"}).runs_size() == 1);
  f.Propose(id, core::Running(std::chrono::system_clock::now()));
  auto until = std::chrono::steady_clock::now() + 3s;  // longer than the 2 s timeout
  while (std::chrono::steady_clock::now() < until) {
    v1::FlowRunHeartbeatRequest req;
    req.set_flow_run_id(id);
    auto r = f.api.FlowRunHeartbeat(req);
    REQUIRE(r.ok());
    CHECK(r->state().name() == "Running");
    std::this_thread::sleep_for(300ms);
  }
  CHECK(f.Get(id).state().name() == "Running");

  v1::FlowRunHeartbeatRequest unknown;
  unknown.set_flow_run_id("33333333-3333-4333-8333-333333333333");
  auto r = f.api.FlowRunHeartbeat(unknown);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kNotFound);
}

TEST_CASE("liveness: an overdue Scheduled run becomes Late once and can still be claimed",
          "[agents]") {
  AgentFixture f(FastLate);
  f.Deploy("etl", "default");
  std::string id = f.Run("etl", -2s);
  REQUIRE(Eventually([&] { return f.Get(id).state().name() == "Late"; }));
  auto run = f.Get(id);
  CHECK(run.state().type() == v1::SCHEDULED);
  std::this_thread::sleep_for(1500ms);  // more passes of the service
  auto history = f.History(id);
  CHECK(std::count(history.begin(), history.end(), "Late") == 1);

  auto r = f.Poll(kAgentA, {"default"});
  REQUIRE(RunIds(r) == std::vector<std::string>{id});
  CHECK(f.History(id) == std::vector<std::string>{"Scheduled", "Late", "Pending"});
}

TEST_CASE("cancel: scheduled, claimed and finished runs", "[agents]") {
  AgentFixture f;
  f.Deploy("etl", "default");
  auto cancel = [&](const std::string& id) {
    v1::CancelFlowRunRequest req;
    req.set_flow_run_id(id);
    return f.api.CancelFlowRun(req);
  };

  SECTION("a scheduled run is Cancelled at once") {
    std::string id = f.Run("etl", 1h);
    auto r = cancel(id);
    REQUIRE(r.ok());
    CHECK(r->result().decision() == v1::ACCEPT);
    CHECK(f.Get(id).state().name() == "Cancelled");
    CHECK(f.Get(id).state().message() == "cancelled by user");
  }
  SECTION("a claimed run becomes Cancelling and its agent's next heartbeat says so") {
    std::string id = f.Run("etl");
    REQUIRE(f.Poll(kAgentA, {"default"}).runs_size() == 1);
    f.Propose(id, core::Running(std::chrono::system_clock::now()));
    v1::CancelFlowRunRequest req;
    req.set_flow_run_id(id);
    req.set_message("stop it");
    auto r = f.api.CancelFlowRun(req);
    REQUIRE(r.ok());
    CHECK(f.Get(id).state().name() == "Cancelling");
    CHECK(f.Get(id).state().message() == "stop it");
    auto hb = f.Heartbeat(kAgentA, {id});
    REQUIRE(hb.cancel_flow_run_ids_size() == 1);
    CHECK(hb.cancel_flow_run_ids(0) == id);
    // The agent stops the process and reports Cancelled.
    CHECK(f.Propose(id, core::Cancelled(std::chrono::system_clock::now())).decision() ==
          v1::ACCEPT);
    CHECK(f.Heartbeat(kAgentA, {id}).unknown_flow_run_ids_size() == 1);
  }
  SECTION("a finished run is FAILED_PRECONDITION naming its state") {
    std::string id = f.Run("etl");
    REQUIRE(f.Poll(kAgentA, {"default"}).runs_size() == 1);
    f.Propose(id, core::Running(std::chrono::system_clock::now()));
    f.Propose(id, core::Completed(std::chrono::system_clock::now()));
    auto r = cancel(id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kFailedPrecondition);
    CHECK(r.error().message == "flow run " + id + " is already Completed");
  }
  SECTION("an unknown run is NOT_FOUND") {
    auto r = cancel("44444444-4444-4444-8444-444444444444");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kNotFound);
  }
}
