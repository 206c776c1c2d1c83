#pragma once
// proto <-> core conversions shared by the server, the CLI and the flow runtime.
#include "sdk/core/deployment_spec.hpp"
#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/retry.hpp"
#include "sdk/core/state.hpp"
#include "weft/v1/common.pb.h"
#include "weft/v1/deployments.pb.h"

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

v1::Schedule ToProto(const core::ScheduleSpec& spec);
// A schedule with no kind set is an error naming `spec.schedule`.
core::Result<core::ScheduleSpec> FromProto(const v1::Schedule& schedule);

// The spec's fields; bundle.storage is spec.storage (digest and size are the caller's).
v1::DeploymentSpec ToProto(const core::DeploymentSpec& spec);
// Empty fields get the spec's defaults (work queue "default", runner "process", catch-up
// "latest"); an unknown catch-up policy is an error naming `spec.catchup.policy`.
core::Result<core::DeploymentSpec> FromProto(const v1::DeploymentSpec& spec);

}  // namespace weft::client
