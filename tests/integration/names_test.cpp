// One name rule at every entry point of the real server (issue 12, item 6): a name the
// server accepts anywhere is one a deployment spec accepts, and a bad one is INVALID_ARGUMENT
// naming the field, the characters and the maximum, never INTERNAL from the database.
#include <catch2/catch.hpp>
#include <string>

#include "tests/integration/server_fixture.hpp"

using namespace weft;

namespace {

const std::string kDigest = "sha256:" + std::string(64, 'c');
const std::string kAgentId = "6b1f9a52-0c4e-4c61-9d1f-3a0f6f3b2a10";

template <typename R>
void ExpectInvalid(const core::Result<R>& r, const std::string& message) {
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message.substr(0, 300));
  CHECK(r.error().code == core::Code::kInvalidArgument);
  CHECK(r.error().message == message);
}

v1::CreateDeploymentRequest Deployment(const std::string& flow, const std::string& name) {
  v1::CreateDeploymentRequest req;
  auto* s = req.mutable_spec();
  s->set_name(name);
  s->set_flow_name(flow);
  s->add_entrypoint("./" + std::string("run"));
  s->mutable_bundle()->set_storage("flows");
  s->mutable_bundle()->set_digest(kDigest);
  s->mutable_bundle()->set_size(10);
  s->mutable_runner()->set_type("process");
  return req;
}

std::size_t FlowCount(client::Client& c) {
  v1::ListFlowsRequest req;
  req.mutable_page()->set_limit(100);
  auto r = c.ListFlows(req);
  REQUIRE(r.ok());
  return static_cast<std::size_t>(r->flows_size());
}

}  // namespace

TEST_CASE("names: a 2.7 KB flow name is INVALID_ARGUMENT naming the field, not INTERNAL",
          "[names]") {
  test::ApiServer s;
  auto& c = *s.client;
  v1::CreateFlowRequest req;
  req.set_name(std::string(2700, 'f'));
  ExpectInvalid(c.CreateFlow(req), "name: is 2700 bytes long; at most 200");

  v1::CreateFlowRunRequest run;
  run.set_flow_name(std::string(2700, 'f'));
  ExpectInvalid(c.CreateFlowRun(run), "flow_name: is 2700 bytes long; at most 200");

  req.set_name("line\nbreak");
  ExpectInvalid(c.CreateFlow(req), "name: \"line\\x0abreak\" contains a control character");
  req.set_name("etl/nightly");
  ExpectInvalid(c.CreateFlow(req),
                "name: \"etl/nightly\" must not contain '/' (FLOW/NAME names a deployment)");
  CHECK(FlowCount(c) == 0);

  // What programs name their flows keeps working: text up to 200 bytes.
  req.set_name("Daily report (EU)");
  CHECK(c.CreateFlow(req).ok());
  req.set_name(std::string(200, 'f'));
  CHECK(c.CreateFlow(req).ok());
  CHECK(FlowCount(c) == 2);

  // A run's own name is a display name too.
  run.set_flow_name("etl");
  run.set_name(std::string(5000, 'r'));
  ExpectInvalid(c.CreateFlowRun(run), "name: is 5000 bytes long; at most 200");
}

TEST_CASE("names: a 2,000-character work queue name is refused like a deployment spec refuses it",
          "[names]") {
  test::ApiServer s;
  auto& c = *s.client;
  v1::CreateWorkQueueRequest req;
  req.set_name(std::string(2000, 'q'));
  ExpectInvalid(c.CreateWorkQueue(req),
                "name: is 2000 characters long; at most 200 (letters, digits, '_', '.' and '-')");
  req.set_name(std::string(100000, 'q'));
  ExpectInvalid(c.CreateWorkQueue(req),
                "name: is 100000 characters long; at most 200 (letters, digits, '_', '.' and '-')");
  v1::ListWorkQueuesRequest list;
  auto queues = c.ListWorkQueues(list);
  REQUIRE(queues.ok());
  REQUIRE(queues->work_queues_size() == 1);  // only "default"
  CHECK(queues->work_queues(0).name() == "default");

  // The longest name the rule allows is a queue and a deployment may use it.
  req.set_name(std::string(200, 'q'));
  REQUIRE(c.CreateWorkQueue(req).ok());
  auto filter = v1::CreateWorkQueueRequest();
  filter.set_name("filtered");
  filter.mutable_filter()->add_deployments("etl/" + std::string(300, 'd'));
  ExpectInvalid(
      c.CreateWorkQueue(filter),
      "filter.deployments[0]: must be a deployment's full name \"flow/name\", got \"etl/" +
          std::string(76, 'd') + "\"...");
}

TEST_CASE("names: deployments, storages, API keys and agents use the same rule", "[names]") {
  test::ApiServerWithStorage s;
  auto& c = *s.client;

  auto queue = Deployment("etl", "nightly");
  queue.mutable_spec()->set_work_queue(std::string(2000, 'q'));
  ExpectInvalid(c.CreateDeployment(queue),
                "spec.work_queue: is 2000 characters long; at most 200 (letters, digits, '_', '.' "
                "and '-')");
  ExpectInvalid(c.CreateDeployment(Deployment("daily report", "nightly")),
                "spec.flow_name: \"daily report\" may contain only letters, digits, '_', '.' and "
                "'-' (at most 200)");
  ExpectInvalid(c.CreateDeployment(Deployment("etl", std::string(201, 'n'))),
                "spec.name: is 201 characters long; at most 200 (letters, digits, '_', '.' and "
                "'-')");
  auto queue200 = Deployment("etl", "nightly");
  queue200.mutable_spec()->set_work_queue(std::string(200, 'q'));
  CHECK(c.CreateDeployment(queue200).ok());

  v1::CreateStorageRequest st;
  st.set_name(std::string(201, 's'));
  st.set_kind("local");
  (*st.mutable_config())["path"] = "/srv/more";
  ExpectInvalid(c.CreateStorage(st),
                "name: is 201 characters long; at most 200 (letters, digits, '_', '.' and '-')");

  // API keys: names with '@' up to 64; the queues an agent key is limited to are queue names.
  v1::CreateApiKeyRequest key;
  key.set_name("ci@example.com");
  key.set_scope("agent");
  key.add_work_queues(std::string(150, 'q'));
  CHECK(c.CreateApiKey(key).ok());
  key.set_name("ci2");
  key.clear_work_queues();
  key.add_work_queues(std::string(2000, 'q'));
  ExpectInvalid(c.CreateApiKey(key),
                "work_queues[0]: is 2000 characters long; at most 200 (letters, digits, '_', '.' "
                "and '-')");
  key.clear_work_queues();
  key.set_name(std::string(65, 'k'));
  ExpectInvalid(c.CreateApiKey(key),
                "name: is 65 characters long; at most 64 (letters, digits, '_', '.', '-' and "
                "'@')");

  // Agents: the display name and hostname are text without control characters.
  v1::AgentHeartbeatRequest hb;
  hb.mutable_agent()->set_id(kAgentId);
  hb.mutable_agent()->set_name(std::string(2000, 'a'));
  ExpectInvalid(c.AgentHeartbeat(hb), "agent.name: is 2000 bytes long; at most 200");
  hb.mutable_agent()->set_name("build box #3");
  hb.mutable_agent()->set_hostname("host\x1b[2J");
  ExpectInvalid(c.AgentHeartbeat(hb),
                "agent.hostname: \"host\\x1b[2J\" contains a control character");
  v1::PollWorkQueuesRequest poll;
  poll.mutable_agent()->set_id(kAgentId);
  poll.mutable_agent()->set_name(std::string(300, 'a'));
  poll.add_work_queues("default");
  poll.set_max_runs(1);
  ExpectInvalid(c.PollWorkQueues(poll), "agent.name: is 300 bytes long; at most 200");
  v1::ListAgentsRequest agents;
  auto listed = c.ListAgents(agents);
  REQUIRE(listed.ok());
  CHECK(listed->agents_size() == 0);
}
