#include <spdlog/spdlog.h>

#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/admin.grpc.pb.h"

namespace weft::server::api {

namespace {

using core::orchestration::RunKind;

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  AdminServiceImpl(orchestration::RunService& runs, std::shared_ptr<spdlog::logger> logger)
      : runs_(runs), logger_(std::move(logger)) {}

  grpc::Status ListRules(grpc::ServerContext*, const v1::ListRulesRequest*,
                         v1::ListRulesResponse* resp) override {
    for (const auto& rule : core::orchestration::DefaultPolicy().rules()) {
      auto* r = resp->add_rules();
      r->set_name(rule->Name());
      std::string applies;
      if (rule->AppliesTo(RunKind::kFlowRun)) applies = "flow_run";
      if (rule->AppliesTo(RunKind::kTaskRun)) applies += applies.empty() ? "task_run" : ",task_run";
      r->set_applies_to(applies);
      r->set_transitions(rule->Transitions());
      r->set_description(rule->Description());
    }
    return grpc::Status::OK;
  }

  grpc::Status GetVersion(grpc::ServerContext*, const v1::GetVersionRequest*,
                          v1::GetVersionResponse* resp) override {
    resp->set_version(WEFT_VERSION);
    auto info = runs_.GetDatabaseInfo();
    if (!info.ok()) return ToGrpc(info.error());
    resp->set_database("postgresql " + info->server_version);
    resp->set_schema_version(info->schema_version);
    return grpc::Status::OK;
  }

 private:
  orchestration::RunService& runs_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAdminService(orchestration::RunService& runs,
                                                std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<AdminServiceImpl>(runs, std::move(logger));
}

}  // namespace weft::server::api
