#include <spdlog/spdlog.h>

#include "server/api/convert.hpp"
#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/flows.grpc.pb.h"

namespace weft::server::api {

namespace {

class FlowServiceImpl final : public v1::FlowService::Service {
 public:
  FlowServiceImpl(orchestration::RunService& runs, std::shared_ptr<spdlog::logger> logger)
      : runs_(runs), logger_(std::move(logger)) {}

  grpc::Status CreateFlow(grpc::ServerContext*, const v1::CreateFlowRequest* req,
                          v1::CreateFlowResponse* resp) override {
    if (req->name().empty()) return Invalid("name: must not be empty");
    if (!req->parameters_schema_json().empty()) {
      std::string p = orchestration::CheckJson(
          req->parameters_schema_json(), {core::kMaxParametersSchemaBytes, core::kMaxJsonDepth});
      if (!p.empty()) return Invalid("parameters_schema_json: " + p);
    }
    std::vector<std::string> tags(req->tags().begin(), req->tags().end());
    if (auto st = core::CheckTags(tags, "tags"); !st.ok()) return ToGrpc(st.error());
    auto r = runs_.CreateFlow(req->name(), tags, req->parameters_schema_json());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_flow() = ToProto(r->record);
    resp->set_created(r->created);
    if (r->created) logger_->info("flow created name={} id={}", r->record.name, r->record.id);
    return grpc::Status::OK;
  }

  grpc::Status GetFlow(grpc::ServerContext*, const v1::GetFlowRequest* req,
                       v1::GetFlowResponse* resp) override {
    core::Result<store::FlowRecord> r = core::Error{};
    if (req->key_case() == v1::GetFlowRequest::kId) {
      r = runs_.GetFlowById(req->id());
    } else if (req->key_case() == v1::GetFlowRequest::kName) {
      r = runs_.GetFlowByName(req->name());
    } else {
      return Invalid("key: set id or name");
    }
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_flow() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ListFlows(grpc::ServerContext*, const v1::ListFlowsRequest* req,
                         v1::ListFlowsResponse* resp) override {
    auto limit = PageLimit(req->page());
    if (!limit) return Invalid("page.limit: must be >= 0");
    auto r = runs_.ListFlows(req->name_prefix(), req->page().cursor(), *limit + 1);
    if (!r.ok()) return ToGrpc(r.error());
    auto& flows = *r;
    bool more = static_cast<int>(flows.size()) > *limit;
    if (more) flows.resize(*limit);
    for (const auto& f : flows) *resp->add_flows() = ToProto(f);
    if (more && !flows.empty()) resp->mutable_page()->set_next_cursor(flows.back().name);
    return grpc::Status::OK;
  }

 private:
  orchestration::RunService& runs_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeFlowService(orchestration::RunService& runs,
                                               std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<FlowServiceImpl>(runs, std::move(logger));
}

}  // namespace weft::server::api
