// Long polls: a waiting poll is answered with a run created while it waits, returns empty
// when its wait ends, is woken by the due-time timer for a run scheduled a little later,
// learns of a cancel at once, and is answered at once at server shutdown. Durations are
// printed (measured), never asserted.
#include <grpcpp/grpcpp.h>

#include <future>
#include <iostream>

#include "tests/integration/agent_test_support.hpp"
#include "weft/v1/agents.grpc.pb.h"

using namespace weft;
using namespace std::chrono_literals;
using test::AgentFixture;
using test::kAgentA;
using test::RunIds;

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::future<core::Result<v1::PollWorkQueuesResponse>> PollAsync(AgentFixture& f,
                                                                v1::PollWorkQueuesRequest req) {
  client::ClientOptions options = f.server.client->options();
  return std::async(std::launch::async, [options, req] {
    client::ClientOptions o = options;
    client::Client c(o);
    return c.PollWorkQueues(req);
  });
}

// Until the server holds the poll as waiting (so the test does not race its first claim).
void AwaitWaiting(AgentFixture& f) {
  // A poll that claimed nothing has recorded its agent: wait for it to appear.
  REQUIRE(test::Eventually([&] {
    v1::ListAgentsRequest req;
    auto r = f.api.ListAgents(req);
    return r.ok() && r->agents_size() > 0 && r->agents(0).has_last_polled();
  }));
  std::this_thread::sleep_for(100ms);  // its first (empty) claim has committed by now
}

}  // namespace

TEST_CASE("long poll: a waiting poll returns the run created by RunDeployment", "[agents]") {
  AgentFixture f;
  f.Deploy("etl", "default");
  auto start = Clock::now();
  auto poll = PollAsync(f, AgentFixture::PollRequest(kAgentA, {"default"}, 1, 10));
  AwaitWaiting(f);
  auto created_at = Clock::now();
  std::string id = f.Run("etl");
  auto returned_at = Clock::now();
  auto r = poll.get();
  auto answered_at = Clock::now();
  REQUIRE(r.ok());
  REQUIRE(RunIds(*r) == std::vector<std::string>{id});
  CHECK(r->runs(0).flow_run().state().name() == "Pending");
  std::cout << "long poll: answered " << Ms(answered_at - created_at)
            << " ms after RunDeployment was called (RunDeployment itself took "
            << Ms(returned_at - created_at) << " ms; the poll started " << Ms(created_at - start)
            << " ms before)\n";
}

TEST_CASE("long poll: with nothing to claim the poll answers empty when its wait ends",
          "[agents]") {
  AgentFixture f;
  auto start = Clock::now();
  auto r = f.api.PollWorkQueues(AgentFixture::PollRequest(kAgentA, {"default"}, 1, 1.0));
  REQUIRE(r.ok());
  CHECK(r->runs_size() == 0);
  std::cout << "long poll: empty answer after " << Ms(Clock::now() - start)
            << " ms (wait_seconds=1)\n";
}

TEST_CASE("long poll: a run scheduled 1 s ahead is handed out by the due-time timer", "[agents]") {
  AgentFixture f;
  f.Deploy("later", "default");
  std::string id = f.Run("later", 1s);
  auto start = Clock::now();
  auto r = f.api.PollWorkQueues(AgentFixture::PollRequest(kAgentA, {"default"}, 1, 10));
  REQUIRE(r.ok());
  REQUIRE(RunIds(*r) == std::vector<std::string>{id});
  std::cout << "long poll: run due in 1 s handed out after " << Ms(Clock::now() - start) << " ms\n";
}

TEST_CASE("long poll: a queue slot freed by a finished run wakes a waiting poll", "[agents]") {
  AgentFixture f;
  f.CreateQueue("one", {}, 1);
  f.Deploy("serial", "one");
  std::string a = f.Run("serial", -2s);
  std::string b = f.Run("serial", -1s);
  REQUIRE(RunIds(f.Poll(kAgentA, {"one"})) == std::vector<std::string>{a});
  auto poll = PollAsync(f, AgentFixture::PollRequest(test::kAgentB, {"one"}, 1, 10));
  std::this_thread::sleep_for(300ms);
  f.Propose(a, core::Running(std::chrono::system_clock::now()));
  f.Propose(a, core::Completed(std::chrono::system_clock::now()));
  auto r = poll.get();
  REQUIRE(r.ok());
  CHECK(RunIds(*r) == std::vector<std::string>{b});
}

TEST_CASE("long poll: cancelling a run wakes its agent's waiting poll with the cancel",
          "[agents]") {
  AgentFixture f;
  f.Deploy("etl", "default");
  std::string id = f.Run("etl");
  REQUIRE(RunIds(f.Poll(kAgentA, {"default"})) == std::vector<std::string>{id});
  auto poll = PollAsync(f, AgentFixture::PollRequest(kAgentA, {"default"}, 1, 10));
  std::this_thread::sleep_for(300ms);
  auto start = Clock::now();
  v1::CancelFlowRunRequest c;
  c.set_flow_run_id(id);
  REQUIRE(f.api.CancelFlowRun(c).ok());
  auto r = poll.get();
  REQUIRE(r.ok());
  CHECK(r->runs_size() == 0);
  CHECK(std::vector<std::string>(r->cancel_flow_run_ids().begin(),
                                 r->cancel_flow_run_ids().end()) == std::vector<std::string>{id});
  std::cout << "long poll: cancel delivered " << Ms(Clock::now() - start) << " ms after the call\n";
}

TEST_CASE("long poll: server shutdown answers waiting polls at once", "[agents]") {
  AgentFixture f;
  auto poll = PollAsync(f, AgentFixture::PollRequest(kAgentA, {"default"}, 1, 30));
  AwaitWaiting(f);
  auto start = Clock::now();
  f.server.app->Shutdown();
  auto r = poll.get();
  REQUIRE(r.ok());
  CHECK(r->runs_size() == 0);
  std::cout << "long poll: shutdown with a waiting poll took " << Ms(Clock::now() - start)
            << " ms\n";
}

TEST_CASE("long poll: a poll whose caller went away is dropped without claiming", "[agents]") {
  AgentFixture f;
  f.Deploy("etl", "default");
  auto channel =
      grpc::CreateChannel(f.server.app->grpc_address(), grpc::InsecureChannelCredentials());
  auto stub = v1::AgentService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + f.server.app->admin_key());
  ctx.set_deadline(std::chrono::system_clock::now() + 500ms);  // shorter than its wait
  v1::PollWorkQueuesResponse resp;
  auto st =
      stub->PollWorkQueues(&ctx, AgentFixture::PollRequest(kAgentA, {"default"}, 1, 30), &resp);
  CHECK(st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);

  std::string id = f.Run("etl");
  std::this_thread::sleep_for(500ms);  // a poll still waiting would have claimed it by now
  CHECK(f.Get(id).state().name() == "Scheduled");
  CHECK(RunIds(f.Poll(test::kAgentB, {"default"})) == std::vector<std::string>{id});
}

TEST_CASE("long poll: resuming a paused queue wakes a waiting poll", "[agents]") {
  AgentFixture f;
  f.CreateQueue("held", {}, std::nullopt, true);
  f.Deploy("report", "held");
  std::string id = f.Run("report");
  auto poll = PollAsync(f, AgentFixture::PollRequest(kAgentA, {"held"}, 1, 10));
  AwaitWaiting(f);
  auto start = Clock::now();
  v1::UpdateWorkQueueRequest u;
  u.set_name("held");
  u.set_paused(false);
  REQUIRE(f.api.UpdateWorkQueue(u).ok());
  auto r = poll.get();
  REQUIRE(r.ok());
  CHECK(RunIds(*r) == std::vector<std::string>{id});
  std::cout << "long poll: run of a resumed queue handed out " << Ms(Clock::now() - start)
            << " ms after the resume call\n";
}
