// Authentication and scopes through the real gRPC API: keys created, listed, revoked and
// expired; each scope's calls; agent keys bound to their queues; run tokens minted at claim.
#include <catch2/catch.hpp>

#include "tests/integration/agent_test_support.hpp"

namespace weft::test {

namespace {

std::unique_ptr<client::Client> As(const ApiServer& s, const std::string& key) {
  client::ClientOptions o;
  o.address = s.app->grpc_address();
  o.api_key = key;
  return std::make_unique<client::Client>(o);
}

v1::CreateApiKeyResponse CreateKey(client::Client& admin, const std::string& name,
                                   const std::string& scope, std::vector<std::string> queues = {},
                                   std::int64_t expires_in = 0) {
  v1::CreateApiKeyRequest req;
  req.set_name(name);
  req.set_scope(scope);
  for (const auto& q : queues) req.add_work_queues(q);
  req.set_expires_in_seconds(expires_in);
  auto r = admin.CreateApiKey(req);
  if (!r.ok()) FAIL("creating key " << name << ": " << r.error().message);
  return *r;
}

core::Code CodeOf(const core::Status& s) { return s.ok() ? core::Code::kOk : s.error().code; }

template <typename T>
core::Status Ok(const core::Result<T>& r) {
  if (r.ok()) return {};
  return r.error();
}

}  // namespace

TEST_CASE("auth: no key, a malformed key or an unknown key is UNAUTHENTICATED", "[auth]") {
  ApiServer s;
  auto none = As(s, "")->ListFlows({});
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == core::Code::kUnauthenticated);
  CHECK(none.error().message.find("no API key") != std::string::npos);

  auto garbage = As(s, "hunter2")->ListFlows({});
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().code == core::Code::kUnauthenticated);
  CHECK(garbage.error().message.find("hunter2") == std::string::npos);  // never echoed

  // The right shape and id with the wrong secret.
  std::string admin = s.app->admin_key();
  std::string forged = admin.substr(0, admin.size() - 4) + "0000";
  if (forged == admin) forged = admin.substr(0, admin.size() - 4) + "1111";
  auto wrong = As(s, forged)->ListFlows({});
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == core::Code::kUnauthenticated);

  auto ok = As(s, admin)->ListFlows({});
  CHECK(ok.ok());
}

TEST_CASE("auth: api keys are created once, listed without secrets and revoked", "[auth]") {
  ApiServer s;
  auto& admin = *s.client;
  auto created = CreateKey(admin, "ci-viewer", "viewer");
  CHECK(created.token().rfind("weft_", 0) == 0);
  CHECK(created.key().scope() == "viewer");
  CHECK(created.key().id() == created.token().substr(5, 12));

  auto dup = admin.CreateApiKey([] {
    v1::CreateApiKeyRequest r;
    r.set_name("ci-viewer");
    r.set_scope("viewer");
    return r;
  }());
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == core::Code::kAlreadyExists);

  v1::CreateApiKeyRequest bad;
  bad.set_name("has space");
  bad.set_scope("viewer");
  auto bad_name = admin.CreateApiKey(bad);
  REQUIRE_FALSE(bad_name.ok());
  CHECK(bad_name.error().message.rfind("name:", 0) == 0);
  bad.set_name("x");
  bad.set_scope("root");
  auto bad_scope = admin.CreateApiKey(bad);
  REQUIRE_FALSE(bad_scope.ok());
  CHECK(bad_scope.error().message.find("scope: \"root\"") != std::string::npos);
  bad.set_scope("viewer");
  bad.add_work_queues("etl");
  auto queues_on_viewer = admin.CreateApiKey(bad);
  REQUIRE_FALSE(queues_on_viewer.ok());
  CHECK(queues_on_viewer.error().message.rfind("work_queues:", 0) == 0);

  // Listed (the local admin key too), never with anything secret.
  auto list = admin.ListApiKeys({});
  REQUIRE(list.ok());
  std::string secret = created.token().substr(5 + 12 + 1);
  CHECK(list->SerializeAsString().find(secret) == std::string::npos);
  CHECK(list->DebugString().find(secret) == std::string::npos);
  bool found = false;
  for (const auto& k : list->keys()) found = found || k.name() == "ci-viewer";
  CHECK(found);

  auto viewer = As(s, created.token());
  v1::WhoAmIResponse me = *viewer->WhoAmI({});
  CHECK(me.name() == "ci-viewer");
  CHECK(me.scope() == "viewer");
  // A viewer may not list keys.
  auto listed_by_viewer = viewer->ListApiKeys({});
  REQUIRE_FALSE(listed_by_viewer.ok());
  CHECK(listed_by_viewer.error().code == core::Code::kPermissionDenied);

  v1::RevokeApiKeyRequest revoke;
  revoke.set_name("ci-viewer");
  REQUIRE(admin.RevokeApiKey(revoke).ok());
  // This server forgets it at once.
  auto after = viewer->ListFlows({});
  REQUIRE_FALSE(after.ok());
  CHECK(after.error().code == core::Code::kUnauthenticated);
  auto again = admin.RevokeApiKey(revoke);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == core::Code::kNotFound);
}

TEST_CASE("auth: a key revoked through one replica is refused by another within a second",
          "[auth]") {
  ApiServer a;
  server::app::Settings sb;
  sb.grpc_address = "127.0.0.1:0";
  sb.database_url = a.database.url();
  sb.pool_size = 2;
  sb.log_level = "warn";
  sb.scheduler_enabled = false;
  sb.liveness_enabled = false;
  sb.notifier_enabled = false;
  server::app::App b(sb);
  REQUIRE(b.Start().ok());

  auto key = CreateKey(*a.client, "rotating", "operator");
  client::ClientOptions o;
  o.address = b.grpc_address();
  o.api_key = key.token();
  client::Client on_b(o);
  REQUIRE(on_b.ListFlows({}).ok());  // B has now checked (and cached) the key

  v1::RevokeApiKeyRequest revoke;
  revoke.set_name("rotating");
  REQUIRE(a.client->RevokeApiKey(revoke).ok());
  // B's cache trusts a checked key for at most 1 s (Settings::auth_cache_seconds).
  CHECK(Eventually([&] { return CodeOf(Ok(on_b.ListFlows({}))) == core::Code::kUnauthenticated; },
                   2.5));
}

TEST_CASE("auth: an expired key is refused, naming when it expired", "[auth]") {
  ApiServer s;
  auto key = CreateKey(*s.client, "short-lived", "viewer", {}, 1);
  REQUIRE(key.key().has_expires());
  auto c = As(s, key.token());
  core::Error last;
  CHECK(Eventually(
      [&] {
        auto r = c->ListFlows({});
        if (r.ok()) return false;
        last = r.error();
        return true;
      },
      4));
  CHECK(last.code == core::Code::kUnauthenticated);
  CHECK(last.message.find("\"short-lived\" expired at") != std::string::npos);
}

TEST_CASE("auth: each scope may do what it says and no more", "[auth]") {
  AgentFixture f;
  f.Deploy("etl", "etl");
  auto viewer = As(f.server, CreateKey(f.api, "v", "viewer").token());
  auto op = As(f.server, CreateKey(f.api, "o", "operator").token());
  auto agent = As(f.server, CreateKey(f.api, "g", "agent", {"etl"}).token());

  // viewer: reads, nothing else.
  CHECK(viewer->ListFlowRuns({}).ok());
  CHECK(viewer->ListDeployments({}).ok());
  v1::RunDeploymentRequest run;
  run.mutable_ref()->set_full_name("etl/main");
  auto denied = viewer->RunDeployment(run);
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().code == core::Code::kPermissionDenied);
  CHECK(denied.error().message ==
        "DeploymentService.RunDeployment needs scope operator or admin; key \"v\" (scope "
        "viewer) may not call it");

  // operator: runs deployments and creates queues; no key management.
  auto started = op->RunDeployment(run);
  REQUIRE(started.ok());
  v1::CreateWorkQueueRequest q;
  q.set_name("etl");
  CHECK(op->CreateWorkQueue(q).ok());
  auto op_keys = op->CreateApiKey([] {
    v1::CreateApiKeyRequest r;
    r.set_name("escalate");
    r.set_scope("admin");
    return r;
  }());
  REQUIRE_FALSE(op_keys.ok());
  CHECK(op_keys.error().code == core::Code::kPermissionDenied);

  // agent: polls its own queue (and gets a run token per claimed run), nothing else.
  auto polled = agent->PollWorkQueues(AgentFixture::PollRequest(kAgentA, {"etl"}));
  REQUIRE(polled.ok());
  REQUIRE(polled->runs_size() == 1);
  CHECK(polled->runs(0).run_token().rfind("weftrun_", 0) == 0);
  auto other_queue = agent->PollWorkQueues(AgentFixture::PollRequest(kAgentA, {"default"}));
  REQUIRE_FALSE(other_queue.ok());
  CHECK(other_queue.error().code == core::Code::kPermissionDenied);
  CHECK(other_queue.error().message.find("may serve only the work queues etl, not \"default\"") !=
        std::string::npos);
  v1::CreateDeploymentRequest dep;
  auto agent_deploys = agent->CreateDeployment(dep);
  REQUIRE_FALSE(agent_deploys.ok());
  CHECK(agent_deploys.error().code == core::Code::kPermissionDenied);
}

TEST_CASE("auth: a run token drives its run and dies when the run is final", "[auth]") {
  AgentFixture f;
  f.Deploy("etl", "default");
  std::string id = f.Run("etl");
  auto polled = f.Poll(kAgentA, {"default"});
  REQUIRE(polled.runs_size() == 1);
  std::string token = polled.runs(0).run_token();
  REQUIRE_FALSE(token.empty());
  auto flow = As(f.server, token);

  auto me = flow->WhoAmI({});
  REQUIRE(me.ok());
  CHECK(me->scope() == "run");
  CHECK(me->flow_run_id() == id);

  v1::SetFlowRunStateRequest running;
  running.set_flow_run_id(id);
  *running.mutable_state() = client::ToProto(core::Running(std::chrono::system_clock::now()));
  auto r = flow->SetFlowRunState(running);
  REQUIRE(r.ok());
  CHECK(r->result().decision() == v1::ACCEPT);
  // Not an operator: it cannot create deployments or queues.
  auto q = flow->CreateWorkQueue([] {
    v1::CreateWorkQueueRequest w;
    w.set_name("mine");
    return w;
  }());
  REQUIRE_FALSE(q.ok());
  CHECK(q.error().code == core::Code::kPermissionDenied);

  v1::SetFlowRunStateRequest done;
  done.set_flow_run_id(id);
  *done.mutable_state() = client::ToProto(core::Completed(std::chrono::system_clock::now()));
  REQUIRE(flow->SetFlowRunState(done).ok());
  core::Error last;
  CHECK(Eventually(
      [&] {
        auto again = flow->GetFlowRun([&] {
          v1::GetFlowRunRequest g;
          g.set_id(id);
          return g;
        }());
        if (again.ok()) return false;
        last = again.error();
        return true;
      },
      2.5));
  CHECK(last.code == core::Code::kUnauthenticated);
  CHECK(last.message.find("is final (Completed)") != std::string::npos);
}

}  // namespace weft::test
