// AgentService: PollWorkQueues on the gRPC callback API (a waiting poll holds no thread:
// the reactor is finished later by AgentManager's worker or timer thread); the other
// methods are plain synchronous handlers.
#include <spdlog/spdlog.h>

#include <mutex>

#include "sdk/client/convert.hpp"
#include "server/api/auth_processor.hpp"
#include "server/api/convert.hpp"
#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/agents.grpc.pb.h"

namespace weft::server::api {

namespace {

using orchestration::AgentManager;

orchestration::AgentIdentity FromProto(const v1::AgentIdentity& p) {
  orchestration::AgentIdentity a;
  a.id = p.id();
  a.name = p.name();
  a.hostname = p.hostname();
  a.limit = p.limit();
  a.version = p.version();
  return a;
}

v1::Agent ToProto(const store::AgentRecord& a) {
  v1::Agent p;
  p.set_id(a.id);
  p.set_name(a.name);
  p.set_hostname(a.hostname);
  for (const auto& q : a.work_queues) p.add_work_queues(q);
  p.set_limit(a.limit);
  p.set_running(a.running);
  p.set_version(a.version);
  *p.mutable_started() = client::ToProto(a.started);
  *p.mutable_last_seen() = client::ToProto(a.last_seen);
  if (a.last_polled) *p.mutable_last_polled() = client::ToProto(*a.last_polled);
  return p;
}

void Fill(const orchestration::PollResult& r, const auth::Authenticator& auth,
          v1::PollWorkQueuesResponse* resp) {
  for (const auto& c : r.runs) {
    auto* out = resp->add_runs();
    *out->mutable_flow_run() = api::ToProto(c.run);
    out->set_run_token(auth.MintRunToken(c.run.run.id));
    if (c.deployment) *out->mutable_deployment() = api::ToProto(*c.deployment);
  }
  for (const auto& id : r.cancel_ids) resp->add_cancel_flow_run_ids(id);
}

// One PollWorkQueues call. Finished exactly once through AgentManager's `done` callback;
// deletes itself in OnDone.
class PollReactor final : public grpc::ServerUnaryReactor {
 public:
  PollReactor(AgentManager& agents, const auth::Authenticator& auth,
              v1::PollWorkQueuesResponse* resp, std::shared_ptr<spdlog::logger> logger)
      : agents_(agents), auth_(auth), resp_(resp), logger_(std::move(logger)) {}

  void Start(orchestration::PollRequest req) {
    if (auto st = AgentManager::CheckPoll(req); !st.ok()) {
      Finish(ToGrpc(st.error()));
      return;
    }
    AgentManager& agents = agents_;  // `this` may be gone once the lock below is released
    std::uint64_t id = 0;
    bool cancel = false;
    {
      // `done` may run on a worker before StartPoll returns: it waits for this block.
      std::lock_guard lock(mu_);
      id_ = agents_.StartPoll(std::move(req), [this](core::Result<orchestration::PollResult> r) {
        { std::lock_guard wait_for_start(mu_); }
        if (!r.ok()) {
          Finish(ToGrpc(r.error()));
          return;
        }
        Fill(*r, auth_, resp_);
        Finish(grpc::Status::OK);
      });
      id = id_;
      started_ = true;
      cancel = cancel_seen_;
    }
    if (cancel) agents.CancelPoll(id);  // harmless when already answered
  }

  void OnCancel() override {
    AgentManager& agents = agents_;
    std::uint64_t id = 0;
    {
      std::lock_guard lock(mu_);
      cancel_seen_ = true;
      if (!started_) return;
      id = id_;
    }
    agents.CancelPoll(id);  // may answer the call; touch no member afterwards
  }

  void OnDone() override { delete this; }

 private:
  AgentManager& agents_;
  const auth::Authenticator& auth_;
  v1::PollWorkQueuesResponse* resp_;
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mu_;
  std::uint64_t id_ = 0;
  bool started_ = false;
  bool cancel_seen_ = false;
};

class AgentServiceImpl final
    : public v1::AgentService::WithCallbackMethod_PollWorkQueues<v1::AgentService::Service> {
 public:
  AgentServiceImpl(AgentManager& agents, auth::Authenticator& auth, ScopeGuard scope,
                   std::shared_ptr<spdlog::logger> logger)
      : agents_(agents), auth_(auth), scope_(scope), logger_(std::move(logger)) {}

  grpc::ServerUnaryReactor* PollWorkQueues(grpc::CallbackServerContext* ctx,
                                           const v1::PollWorkQueuesRequest* req,
                                           v1::PollWorkQueuesResponse* resp) override {
    if (auto denied = CheckQueues(*ctx, req->work_queues())) {
      auto* reactor = ctx->DefaultReactor();
      reactor->Finish(*denied);
      return reactor;
    }
    orchestration::PollRequest p;
    p.agent = FromProto(req->agent());
    p.work_queues.assign(req->work_queues().begin(), req->work_queues().end());
    p.max_runs = req->max_runs();
    p.wait_seconds = req->wait_seconds();
    p.prefetch_seconds = req->prefetch_seconds();
    p.runner_types.assign(req->runner_types().begin(), req->runner_types().end());
    auto* reactor = new PollReactor(agents_, auth_, resp, logger_);
    reactor->Start(std::move(p));
    return reactor;
  }

  grpc::Status AgentHeartbeat(grpc::ServerContext* ctx, const v1::AgentHeartbeatRequest* req,
                              v1::AgentHeartbeatResponse* resp) override {
    if (auto denied = CheckQueues(*ctx, req->work_queues())) return *denied;
    std::vector<std::string> queues(req->work_queues().begin(), req->work_queues().end());
    std::vector<std::string> ids(req->flow_run_ids().begin(), req->flow_run_ids().end());
    auto r = agents_.Heartbeat(FromProto(req->agent()), queues, ids);
    if (!r.ok()) return ToGrpc(r.error());
    for (const auto& id : r->cancel_ids) resp->add_cancel_flow_run_ids(id);
    for (const auto& id : r->unknown_ids) resp->add_unknown_flow_run_ids(id);
    resp->set_heartbeat_interval_seconds(r->interval_seconds);
    return grpc::Status::OK;
  }

  grpc::Status FlowRunHeartbeat(grpc::ServerContext* ctx, const v1::FlowRunHeartbeatRequest* req,
                                v1::FlowRunHeartbeatResponse* resp) override {
    if (req->flow_run_id().empty()) return Invalid("flow_run_id: must not be empty");
    if (auto denied = scope_.FlowRun(*ctx, "flow_run_id", req->flow_run_id())) return *denied;
    auto r = agents_.FlowRunHeartbeat(req->flow_run_id());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_state() = client::ToProto(*r);
    resp->set_heartbeat_interval_seconds(agents_.options().heartbeat_interval_seconds);
    return grpc::Status::OK;
  }

  grpc::Status ListAgents(grpc::ServerContext*, const v1::ListAgentsRequest* req,
                          v1::ListAgentsResponse* resp) override {
    auto r = agents_.List(req->seen_within_seconds(), req->work_queue());
    if (!r.ok()) return ToGrpc(r.error());
    for (const auto& a : *r) *resp->add_agents() = ToProto(a);
    return grpc::Status::OK;
  }

  grpc::Status CancelFlowRun(grpc::ServerContext*, const v1::CancelFlowRunRequest* req,
                             v1::CancelFlowRunResponse* resp) override {
    if (req->flow_run_id().empty()) return Invalid("flow_run_id: must not be empty");
    auto r = agents_.Cancel(req->flow_run_id(), req->message());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_result() = api::ToProto(*r);
    return grpc::Status::OK;
  }

 private:
  // An agent key limited to some work queues serves only those.
  std::optional<grpc::Status> CheckQueues(
      const grpc::ServerContextBase& ctx,
      const google::protobuf::RepeatedPtrField<std::string>& queues) const {
    auth::Identity who = CallerOf(ctx, auth_);
    for (int i = 0; i < queues.size(); ++i) {
      if (!who.MayServeQueue(queues[i])) {
        std::string allowed;
        for (const auto& q : who.work_queues) allowed += (allowed.empty() ? "" : ", ") + q;
        return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                            "work_queues[" + std::to_string(i) + "]: key \"" + who.name +
                                "\" may serve only the work queues " + allowed + ", not \"" +
                                queues[i] + "\"");
      }
    }
    return std::nullopt;
  }

  AgentManager& agents_;
  auth::Authenticator& auth_;
  ScopeGuard scope_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAgentService(orchestration::AgentManager& agents,
                                                auth::Authenticator& auth, ScopeGuard scope,
                                                std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<AgentServiceImpl>(agents, auth, scope, std::move(logger));
}

}  // namespace weft::server::api
