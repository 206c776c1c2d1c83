#pragma once
// Server-side bounds on every gRPC call, whatever deadline the client set (or none): a unary
// call (long polls included) is cancelled after `rpc_timeout_seconds`; a stream after
// `transfer_timeout_seconds`, or when no message moved in either direction for
// `stream_idle_timeout_seconds`. A watchdog thread cancels the call (the client sees
// CANCELLED; the server logs which limit it hit); a handler blocked on its stream wakes up.
// Registered by the app as the FIRST interceptor on its ServerBuilder.
#include <memory>

#include "sdk/core/connection_limits.hpp"

namespace grpc::experimental {
class ServerInterceptorFactoryInterface;
}  // namespace grpc::experimental
namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::api {

struct CallLimits {
  double rpc_timeout_seconds = core::limits::kRpcTimeoutSeconds;
  double stream_idle_timeout_seconds = core::limits::kStreamIdleTimeoutSeconds;
  double transfer_timeout_seconds = core::limits::kTransferTimeoutSeconds;
};

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeCallLimitsFactory(
    CallLimits limits, std::shared_ptr<spdlog::logger> logger);

}  // namespace weft::server::api
