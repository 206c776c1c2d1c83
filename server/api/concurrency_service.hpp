#pragma once
// ConcurrencyLimitService (proto/weft/v1/concurrency_limits.proto): tag concurrency limits
// and the long poll WaitForConcurrencySlot (callback API). Registered by the app beside
// ApiServices. grpcpp stays out of this header.
#include <memory>

#include "server/orchestration/concurrency_manager.hpp"

namespace grpc {
class Service;
}  // namespace grpc

namespace weft::server::api {

std::unique_ptr<grpc::Service> MakeConcurrencyLimitService(
    orchestration::ConcurrencyManager& concurrency, std::shared_ptr<spdlog::logger> logger);

}  // namespace weft::server::api
