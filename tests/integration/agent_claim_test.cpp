// Claims through AgentService.PollWorkQueues: one claim per run (also with 4 concurrent
// pollers), Pending with the agent recorded, queue filters, pause, concurrency limit,
// prefetch, errors, and ListAgents.
#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "tests/integration/agent_test_support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using test::AgentFixture;
using test::kAgentA;
using test::kAgentB;
using test::RunIds;

TEST_CASE("agents: a due run is claimed once and becomes Pending for its agent", "[agents]") {
  AgentFixture f;
  f.Deploy("etl", "default", "process", 90);
  std::string id = f.Run("etl");

  auto first = f.Poll(kAgentA, {"default"});
  REQUIRE(first.runs_size() == 1);
  const auto& claimed = first.runs(0);
  CHECK(claimed.flow_run().id() == id);
  CHECK(claimed.flow_run().state().type() == v1::PENDING);
  CHECK(claimed.flow_run().agent_id() == kAgentA);
  CHECK(claimed.flow_run().agent_name() == "agent-a");
  CHECK(claimed.flow_run().has_last_heartbeat());
  CHECK(claimed.deployment().spec().entrypoint(0) == "./etl");
  CHECK(claimed.deployment().spec().timeout_seconds() == 90);

  CHECK(f.Poll(kAgentB, {"default"}).runs_size() == 0);
  CHECK(f.Poll(kAgentA, {"default"}).runs_size() == 0);

  auto run = f.Get(id);
  CHECK(run.state().name() == "Pending");
  CHECK(run.agent_id() == kAgentA);
  CHECK(f.History(id) == std::vector<std::string>{"Scheduled", "Pending"});

  // The deployment's timeout round-trips.
  v1::GetDeploymentRequest gd;
  gd.mutable_ref()->set_full_name("etl/main");
  auto dep = f.api.GetDeployment(gd);
  REQUIRE(dep.ok());
  CHECK(dep->deployment().spec().timeout_seconds() == 90);
}

TEST_CASE("agents: 4 concurrent pollers claim each of 200 due runs exactly once", "[agents]") {
  AgentFixture f;
  f.Deploy("many", "default");
  std::set<std::string> created;
  for (int i = 0; i < 200; ++i) created.insert(f.Run("many"));
  REQUIRE(created.size() == 200);

  std::mutex mu;
  std::vector<std::string> claimed;
  std::vector<std::string> errors;
  const std::string agents[] = {
      "a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002",
      "a0000000-0000-4000-8000-000000000003", "a0000000-0000-4000-8000-000000000004"};
  std::vector<std::thread> pollers;
  for (const auto& agent : agents) {
    pollers.emplace_back([&, agent] {
      client::ClientOptions o = f.server.client->options();
      client::Client c(o);
      int empty = 0;
      while (empty < 2) {
        auto r = c.PollWorkQueues(AgentFixture::PollRequest(agent, {"default"}, 7));
        std::lock_guard lock(mu);
        if (!r.ok()) {
          errors.push_back(r.error().message);
          return;
        }
        if (r->runs_size() == 0) ++empty;
        for (const auto& run : r->runs()) {
          claimed.push_back(run.flow_run().id());
          if (run.flow_run().agent_id() != agent) errors.push_back("wrong agent on a claim");
        }
      }
    });
  }
  for (auto& t : pollers) t.join();
  CHECK(errors.empty());
  std::set<std::string> unique(claimed.begin(), claimed.end());
  CHECK(claimed.size() == 200);
  CHECK(unique == created);
}

TEST_CASE("agents: queue filters, pause and unknown queues", "[agents]") {
  AgentFixture f;
  f.CreateQueue("gpu", {"gpu"});
  f.CreateQueue("held", {}, std::nullopt, true);
  f.Deploy("train", "gpu");
  f.Deploy("report", "held");
  std::string plain = f.Run("train");
  std::string tagged = f.Run("train", {}, {"gpu"});
  std::string held = f.Run("report");

  SECTION("a tag-filtered queue hands out only runs carrying its tags") {
    auto r = f.Poll(kAgentA, {"gpu"});
    CHECK(RunIds(r) == std::vector<std::string>{tagged});
    CHECK(f.Get(plain).state().name() == "Scheduled");
  }
  SECTION("a paused queue hands out nothing until resumed") {
    CHECK(f.Poll(kAgentA, {"held"}).runs_size() == 0);
    v1::UpdateWorkQueueRequest u;
    u.set_name("held");
    u.set_paused(false);
    REQUIRE(f.api.UpdateWorkQueue(u).ok());
    CHECK(RunIds(f.Poll(kAgentA, {"held"})) == std::vector<std::string>{held});
  }
  SECTION("runner types the agent cannot start are left for others") {
    auto req = AgentFixture::PollRequest(kAgentA, {"gpu"});
    req.add_runner_types("docker");
    auto r = f.api.PollWorkQueues(req);
    REQUIRE(r.ok());
    CHECK(r->runs_size() == 0);
    CHECK(f.Poll(kAgentB, {"gpu"}).runs_size() == 1);
  }
  SECTION("an unknown queue is NOT_FOUND naming it; bad requests name the field") {
    auto r = f.api.PollWorkQueues(AgentFixture::PollRequest(kAgentA, {"default", "nope"}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kNotFound);
    CHECK_THAT(r.error().message, Catch::Contains("\"nope\""));
    auto bad_id = f.api.PollWorkQueues(AgentFixture::PollRequest("not-a-uuid", {"default"}));
    REQUIRE_FALSE(bad_id.ok());
    CHECK(bad_id.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(bad_id.error().message, Catch::StartsWith("agent.id"));
    auto no_runs = f.api.PollWorkQueues(AgentFixture::PollRequest(kAgentA, {"default"}, 0));
    REQUIRE_FALSE(no_runs.ok());
    CHECK_THAT(no_runs.error().message, Catch::StartsWith("max_runs"));
    auto no_queue = f.api.PollWorkQueues(AgentFixture::PollRequest(kAgentA, {}));
    REQUIRE_FALSE(no_queue.ok());
    CHECK_THAT(no_queue.error().message, Catch::StartsWith("work_queues"));
  }
}

TEST_CASE("agents: a queue limit of 1 hands out a second run only after the first ends",
          "[agents]") {
  AgentFixture f;
  f.CreateQueue("one", {}, 1);
  f.Deploy("serial", "one");
  std::string a = f.Run("serial", -2s);
  std::string b = f.Run("serial", -1s);

  auto first = f.Poll(kAgentA, {"one"});
  REQUIRE(RunIds(first) == std::vector<std::string>{a});
  CHECK(f.Poll(kAgentB, {"one"}).runs_size() == 0);
  f.Propose(a, core::Running(std::chrono::system_clock::now()));
  CHECK(f.Poll(kAgentB, {"one"}).runs_size() == 0);
  f.Propose(a, core::Completed(std::chrono::system_clock::now()));
  CHECK(RunIds(f.Poll(kAgentB, {"one"})) == std::vector<std::string>{b});
}

TEST_CASE("agents: prefetch hands out runs due within the window, not later ones", "[agents]") {
  AgentFixture f;
  f.Deploy("soon", "default");
  std::string in5 = f.Run("soon", 5s);
  std::string in60 = f.Run("soon", 60s);
  CHECK(f.Poll(kAgentA, {"default"}).runs_size() == 0);
  auto req = AgentFixture::PollRequest(kAgentA, {"default"});
  req.set_prefetch_seconds(20);
  auto r = f.api.PollWorkQueues(req);
  REQUIRE(r.ok());
  CHECK(RunIds(*r) == std::vector<std::string>{in5});
  CHECK(f.Get(in5).state().name() == "Pending");
  CHECK(f.Get(in60).state().name() == "Scheduled");
}

TEST_CASE("agents: ListAgents shows a polling agent with its queues and last poll", "[agents]") {
  AgentFixture f;
  f.CreateQueue("etl");
  f.Poll(kAgentA, {"etl", "default"});
  f.Heartbeat(kAgentB, {});

  v1::ListAgentsRequest req;
  auto all = f.api.ListAgents(req);
  REQUIRE(all.ok());
  REQUIRE(all->agents_size() == 2);
  const v1::Agent* a = nullptr;
  for (const auto& x : all->agents()) {
    if (x.id() == kAgentA) a = &x;
  }
  REQUIRE(a != nullptr);
  CHECK(a->name() == "agent-a");
  CHECK(a->hostname() == "worker-1");
  CHECK(a->has_last_polled());
  CHECK(a->has_last_seen());
  CHECK(std::vector<std::string>(a->work_queues().begin(), a->work_queues().end()) ==
        std::vector<std::string>{"default", "etl"});

  req.set_work_queue("etl");
  auto etl = f.api.ListAgents(req);
  REQUIRE(etl.ok());
  REQUIRE(etl->agents_size() == 1);
  CHECK(etl->agents(0).id() == kAgentA);
}
