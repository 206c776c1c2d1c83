#pragma once
// Shared by the agent_*_test.cpp files: a server with a storage, deployments on queues,
// manual runs, polls and state helpers, all through the real gRPC API.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "sdk/client/convert.hpp"
#include "tests/integration/server_fixture.hpp"

namespace weft::test {

inline const std::string kAgentA = "11111111-1111-4111-8111-111111111111";
inline const std::string kAgentB = "22222222-2222-4222-8222-222222222222";

// Polls `cond` until it holds or `seconds` pass; never asserts a duration.
inline bool Eventually(const std::function<bool()>& cond, double seconds = 15) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

struct AgentFixture {
  ApiServer server;
  client::Client& api;

  explicit AgentFixture(void (*tune)(server::app::Settings&) = QuietScheduler)
      : server(tune), api(*server.client) {
    v1::CreateStorageRequest st;
    st.set_name("flows");
    st.set_kind("local");
    (*st.mutable_config())["path"] = "/srv/flows";
    auto r = api.CreateStorage(st);
    if (!r.ok()) FAIL("creating storage: " << r.error().message);
  }

  // An unscheduled deployment "<flow>/main" on `queue`.
  void Deploy(const std::string& flow, const std::string& queue,
              const std::string& runner = "process", double timeout_seconds = 0) {
    v1::CreateDeploymentRequest req;
    auto* s = req.mutable_spec();
    s->set_name("main");
    s->set_flow_name(flow);
    s->add_entrypoint("./" + flow);
    s->mutable_bundle()->set_storage("flows");
    s->mutable_bundle()->set_digest("sha256:" + std::string(64, 'a'));
    s->mutable_bundle()->set_size(10);
    s->set_work_queue(queue);
    s->mutable_runner()->set_type(runner);
    if (runner == "docker") s->mutable_runner()->set_image("alpine:3");
    s->set_timeout_seconds(timeout_seconds);
    auto r = api.CreateDeployment(req);
    REQUIRE(r.ok());
  }

  // A manual run of "<flow>/main" due `in` from now, with extra tags.
  std::string Run(const std::string& flow, std::chrono::milliseconds in = {},
                  std::vector<std::string> tags = {}) {
    v1::RunDeploymentRequest req;
    req.mutable_ref()->set_full_name(flow + "/main");
    *req.mutable_start_time() = client::ToProto(std::chrono::system_clock::now() + in);
    for (const auto& t : tags) req.add_tags(t);
    auto r = api.RunDeployment(req);
    REQUIRE(r.ok());
    return r->flow_run().id();
  }

  void CreateQueue(const std::string& name, std::vector<std::string> tags = {},
                   std::optional<int> limit = std::nullopt, bool paused = false) {
    v1::CreateWorkQueueRequest q;
    q.set_name(name);
    for (const auto& t : tags) q.mutable_filter()->add_tags(t);
    if (limit) q.set_concurrency_limit(*limit);
    q.set_paused(paused);
    auto r = api.CreateWorkQueue(q);
    REQUIRE(r.ok());
  }

  static v1::PollWorkQueuesRequest PollRequest(const std::string& agent,
                                               std::vector<std::string> queues, int max_runs = 10,
                                               double wait = 0) {
    v1::PollWorkQueuesRequest req;
    req.mutable_agent()->set_id(agent);
    req.mutable_agent()->set_name(agent == kAgentA ? "agent-a" : "agent-b");
    req.mutable_agent()->set_hostname("worker-1");
    req.mutable_agent()->set_limit(max_runs);
    for (const auto& q : queues) req.add_work_queues(q);
    req.set_max_runs(max_runs);
    req.set_wait_seconds(wait);
    return req;
  }

  v1::PollWorkQueuesResponse Poll(const std::string& agent, std::vector<std::string> queues,
                                  int max_runs = 10, double wait = 0) {
    auto r = api.PollWorkQueues(PollRequest(agent, std::move(queues), max_runs, wait));
    if (!r.ok()) FAIL("poll: " << r.error().message);
    return *r;
  }

  v1::FlowRun Get(const std::string& id) {
    v1::GetFlowRunRequest req;
    req.set_id(id);
    auto r = api.GetFlowRun(req);
    REQUIRE(r.ok());
    return r->flow_run();
  }

  std::vector<std::string> History(const std::string& id) {
    v1::ListFlowRunStatesRequest req;
    req.set_flow_run_id(id);
    auto r = api.ListFlowRunStates(req);
    REQUIRE(r.ok());
    std::vector<std::string> names;
    for (const auto& s : r->states()) names.push_back(s.name());
    return names;
  }

  v1::OrchestrationResult Propose(const std::string& id, const core::State& s) {
    v1::SetFlowRunStateRequest req;
    req.set_flow_run_id(id);
    *req.mutable_state() = client::ToProto(s);
    auto r = api.SetFlowRunState(req);
    REQUIRE(r.ok());
    return r->result();
  }

  v1::AgentHeartbeatResponse Heartbeat(const std::string& agent,
                                       const std::vector<std::string>& runs) {
    v1::AgentHeartbeatRequest req;
    req.mutable_agent()->set_id(agent);
    req.mutable_agent()->set_name(agent == kAgentA ? "agent-a" : "agent-b");
    for (const auto& id : runs) req.add_flow_run_ids(id);
    auto r = api.AgentHeartbeat(req);
    REQUIRE(r.ok());
    return *r;
  }
};

inline std::vector<std::string> RunIds(const v1::PollWorkQueuesResponse& p) {
  std::vector<std::string> ids;
  for (const auto& c : p.runs()) ids.push_back(c.flow_run().id());
  return ids;
}

}  // namespace weft::test
