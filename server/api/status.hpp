#pragma once
// API-internal: core::Error -> grpc::Status, and shared request checks. Included only by
// server/api/*.cpp (it pulls in grpcpp).
#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>

#include "sdk/core/error.hpp"
#include "sdk/core/state.hpp"
#include "server/store/records.hpp"
#include "server/orchestration/validate.hpp"
#include "weft/v1/common.pb.h"

namespace weft::server::api {

inline grpc::Status ToGrpc(const core::Error& e) {
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(e.code)), e.message);
}

inline grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// "" when the state is acceptable as a proposal; else the problem, naming `field`.
std::string CheckState(const v1::State& s, const std::string& field);
// "" when the retry policy is valid; else the problem, naming `field`.
std::string CheckRetryPolicy(const v1::RetryPolicy& p, const std::string& field);
// The page limit: 0 -> 100, capped at 1000. nullopt when negative.
std::optional<int> PageLimit(const v1::PageRequest& page);
// A state history page from a request (limit one more than asked, to tell whether more
// follow); INVALID_ARGUMENT naming page.limit or page.cursor.
core::Result<store::StatePage> HistoryPage(const v1::PageRequest& page, bool newest_first);

}  // namespace weft::server::api
