#pragma once
// The gRPC services of the Weft API, registered on a grpc::ServerBuilder by the app.
// grpcpp stays out of this header.
#include <memory>
#include <vector>

#include "server/api/scope_guard.hpp"
#include "server/auth/authenticator.hpp"
#include "server/auth/run_scope.hpp"
#include "server/orchestration/agent_manager.hpp"
#include "server/orchestration/deployment_manager.hpp"
#include "server/orchestration/log_service.hpp"
#include "server/orchestration/run_service.hpp"
#include "server/orchestration/storage_catalog.hpp"
#include "server/orchestration/work_queue_manager.hpp"

namespace grpc {
class ServerBuilder;
class Service;
}  // namespace grpc

namespace weft::server::api {

// The domain objects behind the API (owned by the app).
struct ApiDomain {
  orchestration::RunService& runs;
  orchestration::StorageCatalog& storage;
  orchestration::DeploymentManager& deployments;
  orchestration::WorkQueueManager& work_queues;
  orchestration::AgentManager& agents;
  orchestration::LogService& logs;
  auth::Authenticator& auth;
  auth::RunScope& run_scope;  // what a run token or a queue-limited agent key may touch
};

class ApiServices {
 public:
  ApiServices(ApiDomain domain, std::shared_ptr<spdlog::logger> logger);
  ~ApiServices();
  ApiServices(const ApiServices&) = delete;
  ApiServices& operator=(const ApiServices&) = delete;

  // Registers FlowService, FlowRunService, TaskRunService, AdminService, StorageService,
  // DeploymentService, WorkQueueService, AgentService, LogService.
  void RegisterWith(grpc::ServerBuilder& builder);

 private:
  std::vector<std::unique_ptr<grpc::Service>> services_;
};

// Factories, one per proto service (defined in <name>_service.cpp). Services whose methods
// name runs or work queues get a ScopeGuard and call it before acting.
std::unique_ptr<grpc::Service> MakeFlowService(orchestration::RunService& runs,
                                               std::shared_ptr<spdlog::logger> logger);
std::unique_ptr<grpc::Service> MakeFlowRunService(orchestration::RunService& runs,
                                                  orchestration::DeploymentManager& deployments,
                                                  ScopeGuard scope,
                                                  std::shared_ptr<spdlog::logger> logger);
std::unique_ptr<grpc::Service> MakeTaskRunService(orchestration::RunService& runs,
                                                  ScopeGuard scope,
                                                  std::shared_ptr<spdlog::logger> logger);
std::unique_ptr<grpc::Service> MakeAdminService(orchestration::RunService& runs,
                                                std::shared_ptr<spdlog::logger> logger);
std::unique_ptr<grpc::Service> MakeDeploymentService(orchestration::DeploymentManager& deployments,
                                                     std::shared_ptr<spdlog::logger> logger);
std::unique_ptr<grpc::Service> MakeStorageService(orchestration::StorageCatalog& catalog,
                                                  std::shared_ptr<spdlog::logger> logger);
std::unique_ptr<grpc::Service> MakeWorkQueueService(orchestration::WorkQueueManager& queues,
                                                    ScopeGuard scope,
                                                    std::shared_ptr<spdlog::logger> logger);
std::unique_ptr<grpc::Service> MakeAgentService(orchestration::AgentManager& agents,
                                                auth::Authenticator& auth, ScopeGuard scope,
                                                std::shared_ptr<spdlog::logger> logger);
std::unique_ptr<grpc::Service> MakeApiKeyService(auth::Authenticator& auth,
                                                 std::shared_ptr<spdlog::logger> logger);
std::unique_ptr<grpc::Service> MakeLogService(orchestration::LogService& logs, ScopeGuard scope,
                                              std::shared_ptr<spdlog::logger> logger);

}  // namespace weft::server::api
