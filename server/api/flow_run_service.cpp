#include <spdlog/spdlog.h>

#include "sdk/client/convert.hpp"
#include "server/api/convert.hpp"
#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/flow_runs.grpc.pb.h"

namespace weft::server::api {

namespace {

using core::orchestration::RunKind;

class FlowRunServiceImpl final : public v1::FlowRunService::Service {
 public:
  FlowRunServiceImpl(orchestration::RunService& runs, orchestration::DeploymentManager& deployments,
                     ScopeGuard scope, std::shared_ptr<spdlog::logger> logger)
      : runs_(runs), deployments_(deployments), scope_(scope), logger_(std::move(logger)) {}

  grpc::Status CreateFlowRun(grpc::ServerContext* ctx, const v1::CreateFlowRunRequest* req,
                             v1::CreateFlowRunResponse* resp) override {
    if (req->flow_name().empty()) return Invalid("flow_name: must not be empty");
    std::string p = orchestration::CheckJsonObject(req->parameters_json());
    if (!p.empty()) return Invalid("parameters_json: " + p);
    orchestration::FlowRunSpec spec;
    spec.flow_name = req->flow_name();
    spec.name = req->name();
    spec.parameters_json = req->parameters_json();
    spec.tags.assign(req->tags().begin(), req->tags().end());
    if (auto st = core::CheckTags(spec.tags, "tags"); !st.ok()) return ToGrpc(st.error());
    if (auto st = core::CheckTextLength(req->idempotency_key(), "idempotency_key",
                                        core::kMaxIdempotencyKeyBytes);
        !st.ok()) {
      return ToGrpc(st.error());
    }
    if (req->has_retry_policy()) {
      std::string rp = CheckRetryPolicy(req->retry_policy(), "retry_policy");
      if (!rp.empty()) return Invalid(rp);
      spec.retry_policy = client::FromProto(req->retry_policy());
    }
    if (req->has_initial_state()) {
      std::string s = CheckState(req->initial_state(), "initial_state");
      if (!s.empty()) return Invalid(s);
      spec.initial_state = client::FromProto(req->initial_state());
    }
    spec.idempotency_key = req->idempotency_key();
    spec.parent_task_run_id = req->parent_task_run_id();
    // A run token creates subflow runs only, under a task run of its tree.
    if (auto denied = scope_.Allow(*ctx, [&](auth::RunScope& s, const auth::Identity& who) {
          return s.CheckNewFlowRun(who, spec.parent_task_run_id);
        })) {
      return *denied;
    }
    auto r = runs_.CreateFlowRun(spec);
    if (!r.ok()) return ToGrpc(r.error());
    // The idempotency key matched an existing run: it must be the caller's too.
    if (!r->created) {
      if (auto denied = scope_.FlowRun(*ctx, "idempotency_key", r->record.run.id)) return *denied;
    }
    *resp->mutable_flow_run() = ToProto(r->record);
    resp->set_created(r->created);
    return grpc::Status::OK;
  }

  grpc::Status GetFlowRun(grpc::ServerContext* ctx, const v1::GetFlowRunRequest* req,
                          v1::GetFlowRunResponse* resp) override {
    if (req->id().empty()) return Invalid("id: must not be empty");
    if (auto denied = scope_.FlowRun(*ctx, "id", req->id())) return *denied;
    auto r = runs_.GetFlowRun(req->id());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_flow_run() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ListFlowRuns(grpc::ServerContext* ctx, const v1::ListFlowRunsRequest* req,
                            v1::ListFlowRunsResponse* resp) override {
    auto limit = PageLimit(req->page());
    if (!limit) return Invalid("page.limit: must be >= 0");
    // A run token lists only the subflow runs of a run of its tree.
    if (auto denied = scope_.Allow(*ctx, [&](auth::RunScope& s, const auth::Identity& who) {
          return s.CheckFlowRunListing(who, req->parent_flow_run_id());
        })) {
      return *denied;
    }
    store::FlowRunFilter filter;
    filter.flow_name = req->flow_name();
    for (int i = 0; i < req->state_types_size(); ++i) {
      int t = req->state_types(i);
      if (t < 1 || t > 9) return Invalid("state_types[" + std::to_string(i) + "]: unknown type");
      filter.state_types.push_back(static_cast<core::StateType>(t));
    }
    filter.state_names.assign(req->state_names().begin(), req->state_names().end());
    if (!req->page().cursor().empty()) {
      filter.after = DecodeCursor(req->page().cursor());
      if (!filter.after) return Invalid("page.cursor: malformed (use a next_cursor as given)");
    }
    filter.limit = *limit + 1;
    filter.oldest_first = req->oldest_first();
    if (!req->deployment().empty()) {
      auto id = deployments_.ResolveId(req->deployment());
      if (!id.ok()) return ToGrpc(id.error());
      filter.deployment_id = *id;
    }
    if (!req->parent_flow_run_id().empty()) {
      if (!orchestration::IsUuid(req->parent_flow_run_id())) {
        return Invalid("parent_flow_run_id: not a UUID: \"" + req->parent_flow_run_id() + "\"");
      }
      filter.parent_flow_run_id = orchestration::NormalizeUuid(req->parent_flow_run_id());
    }
    auto r = runs_.ListFlowRuns(filter);
    if (!r.ok()) return ToGrpc(r.error());
    auto& runs = *r;
    bool more = static_cast<int>(runs.size()) > *limit;
    if (more) runs.resize(*limit);
    for (const auto& run : runs) *resp->add_flow_runs() = ToProto(run);
    if (more && !runs.empty()) {
      const auto& last = runs.back();
      core::TimePoint key = last.created;
      if (filter.oldest_first && last.run.expected_start_time) key = *last.run.expected_start_time;
      resp->mutable_page()->set_next_cursor(EncodeCursor({key, last.run.id}));
    }
    return grpc::Status::OK;
  }

  grpc::Status SetFlowRunState(grpc::ServerContext* ctx, const v1::SetFlowRunStateRequest* req,
                               v1::SetFlowRunStateResponse* resp) override {
    if (req->flow_run_id().empty()) return Invalid("flow_run_id: must not be empty");
    if (auto denied = scope_.FlowRun(*ctx, "flow_run_id", req->flow_run_id())) return *denied;
    if (!req->has_state()) return Invalid("state: must be set");
    std::string s = CheckState(req->state(), "state");
    if (!s.empty()) return Invalid(s);
    auto r = runs_.SetState(RunKind::kFlowRun, req->flow_run_id(), *client::FromProto(req->state()),
                            req->force());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_result() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ResumeFlowRun(grpc::ServerContext*, const v1::ResumeFlowRunRequest* req,
                             v1::ResumeFlowRunResponse* resp) override {
    if (req->flow_run_id().empty()) return Invalid("flow_run_id: must not be empty");
    auto r = runs_.ResumeFlowRun(req->flow_run_id());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_result() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ListFlowRunStates(grpc::ServerContext* ctx, const v1::ListFlowRunStatesRequest* req,
                                 v1::ListFlowRunStatesResponse* resp) override {
    if (req->flow_run_id().empty()) return Invalid("flow_run_id: must not be empty");
    if (auto denied = scope_.FlowRun(*ctx, "flow_run_id", req->flow_run_id())) return *denied;
    auto page = HistoryPage(req->page(), req->newest_first());
    if (!page.ok()) return ToGrpc(page.error());
    auto r = runs_.ListFlowRunStates(req->flow_run_id(), *page);
    if (!r.ok()) return ToGrpc(r.error());
    auto& states = *r;
    bool more = static_cast<int>(states.size()) >= page->limit;
    if (more) states.resize(static_cast<std::size_t>(page->limit - 1));
    for (const auto& s : states) *resp->add_states() = ToProto(s);
    if (more) resp->mutable_page()->set_next_cursor(std::to_string(states.back().id));
    return grpc::Status::OK;
  }

 private:
  orchestration::RunService& runs_;
  orchestration::DeploymentManager& deployments_;
  ScopeGuard scope_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeFlowRunService(orchestration::RunService& runs,
                                                  orchestration::DeploymentManager& deployments,
                                                  ScopeGuard scope,
                                                  std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<FlowRunServiceImpl>(runs, deployments, scope, std::move(logger));
}

}  // namespace weft::server::api
