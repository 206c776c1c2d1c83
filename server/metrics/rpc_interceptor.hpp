#pragma once
// A gRPC server interceptor that times every call and reports it to ServerMetrics
// (weft_rpc_duration_seconds{method, code}). Registered by the app on its ServerBuilder.
#include <memory>

#include "server/metrics/metrics.hpp"

namespace grpc::experimental {
class ServerInterceptorFactoryInterface;
}  // namespace grpc::experimental

namespace weft::server::metrics {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcInterceptorFactory(
    ServerMetrics& metrics);

}  // namespace weft::server::metrics
