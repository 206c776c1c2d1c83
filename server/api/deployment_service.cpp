#include <spdlog/spdlog.h>

#include "sdk/client/convert.hpp"
#include "sdk/client/timestamp_check.hpp"
#include "server/api/convert.hpp"
#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/deployments.grpc.pb.h"

namespace weft::server::api {

namespace {

using orchestration::DeploymentKey;

core::Result<orchestration::DeploymentInput> FromProto(const v1::DeploymentSpec& p) {
  auto spec = client::FromProto(p);
  if (!spec.ok()) return spec.error();
  orchestration::DeploymentInput in;
  in.spec = std::move(*spec);
  in.bundle_digest = p.bundle().digest();
  in.bundle_size = p.bundle().size();
  return in;
}

core::Result<DeploymentKey> KeyOf(const v1::DeploymentRef& ref) {
  DeploymentKey k;
  switch (ref.key_case()) {
    case v1::DeploymentRef::kId:
      if (ref.id().empty()) return core::InvalidArgument("ref.id: must not be empty");
      k.id = ref.id();
      return k;
    case v1::DeploymentRef::kFullName:
      if (ref.full_name().empty()) return core::InvalidArgument("ref.full_name: must not be empty");
      k.full_name = ref.full_name();
      return k;
    default:
      return core::InvalidArgument("ref: must be set (id or full_name \"flow/name\")");
  }
}

class DeploymentServiceImpl final : public v1::DeploymentService::Service {
 public:
  DeploymentServiceImpl(orchestration::DeploymentManager& deployments,
                        std::shared_ptr<spdlog::logger> logger)
      : deployments_(deployments), logger_(std::move(logger)) {}

  grpc::Status CreateDeployment(grpc::ServerContext*, const v1::CreateDeploymentRequest* req,
                                v1::CreateDeploymentResponse* resp) override {
    if (!req->has_spec()) return Invalid("spec: must be set");
    auto in = FromProto(req->spec());
    if (!in.ok()) return ToGrpc(in.error());
    auto r = deployments_.Upsert(*in);
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_deployment() = ToProto(r->deployment);
    resp->set_created(r->created);
    resp->set_replaced_runs(r->replaced_runs);
    return grpc::Status::OK;
  }

  grpc::Status GetDeployment(grpc::ServerContext*, const v1::GetDeploymentRequest* req,
                             v1::GetDeploymentResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    auto r = deployments_.Get(*key);
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_deployment() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ListDeployments(grpc::ServerContext*, const v1::ListDeploymentsRequest* req,
                               v1::ListDeploymentsResponse* resp) override {
    auto limit = PageLimit(req->page());
    if (!limit) return Invalid("page.limit: must be >= 0");
    auto r = deployments_.List(req->flow_name(), req->page().cursor(), *limit + 1);
    if (!r.ok()) return ToGrpc(r.error());
    bool more = static_cast<int>(r->size()) > *limit;
    if (more) r->resize(*limit);
    for (const auto& d : *r) *resp->add_deployments() = ToProto(d);
    if (more && !r->empty()) resp->mutable_page()->set_next_cursor(r->back().record.FullName());
    return grpc::Status::OK;
  }

  grpc::Status DeleteDeployment(grpc::ServerContext*, const v1::DeleteDeploymentRequest* req,
                                v1::DeleteDeploymentResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    auto r = deployments_.Delete(*key);
    if (!r.ok()) return ToGrpc(r.error());
    resp->set_deleted_runs(*r);
    return grpc::Status::OK;
  }

  grpc::Status SetDeploymentPaused(grpc::ServerContext*, const v1::SetDeploymentPausedRequest* req,
                                   v1::SetDeploymentPausedResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    auto r = deployments_.SetPaused(*key, req->paused());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_deployment() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status RunDeployment(grpc::ServerContext*, const v1::RunDeploymentRequest* req,
                             v1::RunDeploymentResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    orchestration::ManualRun run;
    run.parameters_json = req->parameters_json();
    if (req->has_start_time()) {
      auto p = client::CheckTimestamp(req->start_time(), "start_time");
      if (!p.empty()) return Invalid(p);
      run.start_time = client::FromProto(req->start_time());
    }
    run.tags.assign(req->tags().begin(), req->tags().end());
    run.idempotency_key = req->idempotency_key();
    auto r = deployments_.Run(*key, run);
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_flow_run() = api::ToProto(r->record);
    resp->set_created(r->created);
    return grpc::Status::OK;
  }

  grpc::Status ListUpcomingRuns(grpc::ServerContext*, const v1::ListUpcomingRunsRequest* req,
                                v1::ListUpcomingRunsResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    if (req->limit() < 0) return Invalid("limit: must be >= 0");
    int limit = req->limit() == 0 ? 10 : std::min(req->limit(), 1000);
    auto r = deployments_.Upcoming(*key, limit);
    if (!r.ok()) return ToGrpc(r.error());
    for (const auto& run : *r) *resp->add_flow_runs() = api::ToProto(run);
    return grpc::Status::OK;
  }

  grpc::Status Backfill(grpc::ServerContext*, const v1::BackfillRequest* req,
                        v1::BackfillResponse* resp) override {
    auto key = KeyOf(req->ref());
    if (!key.ok()) return ToGrpc(key.error());
    if (!req->has_from()) return Invalid("from: must be set");
    if (!req->has_to()) return Invalid("to: must be set");
    for (auto p : {client::CheckTimestamp(req->from(), "from"),
                   client::CheckTimestamp(req->to(), "to")}) {
      if (!p.empty()) return Invalid(p);
    }
    auto r =
        deployments_.Backfill(*key, client::FromProto(req->from()), client::FromProto(req->to()));
    if (!r.ok()) return ToGrpc(r.error());
    resp->set_created(r->created);
    resp->set_existing(r->existing);
    for (const auto& run : r->runs) *resp->add_flow_runs() = api::ToProto(run);
    return grpc::Status::OK;
  }

 private:
  orchestration::DeploymentManager& deployments_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeDeploymentService(orchestration::DeploymentManager& deployments,
                                                     std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<DeploymentServiceImpl>(deployments, std::move(logger));
}

}  // namespace weft::server::api
