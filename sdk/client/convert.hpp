#pragma once
// proto <-> core conversions shared by the server, the CLI and the flow runtime.
#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/retry.hpp"
#include "sdk/core/state.hpp"
#include "weft/v1/common.pb.h"

namespace weft::client {

google::protobuf::Timestamp ToProto(core::TimePoint t);
core::TimePoint FromProto(const google::protobuf::Timestamp& t);

v1::State ToProto(const core::State& s);
// An unspecified type is reported as nullopt.
std::optional<core::State> FromProto(const v1::State& s);

v1::RetryPolicy ToProto(const core::RetryPolicy& p);
core::RetryPolicy FromProto(const v1::RetryPolicy& p);

v1::Decision ToProto(core::orchestration::Decision d);
core::orchestration::Decision FromProto(v1::Decision d);

}  // namespace weft::client
