#pragma once
// Records <-> protobuf messages for the API (state conversion lives in sdk/client/convert).
#include <optional>
#include <string>

#include "server/orchestration/deployment_manager.hpp"
#include "server/orchestration/run_service.hpp"
#include "server/store/records.hpp"
#include "weft/v1/deployments.pb.h"
#include "weft/v1/flow_runs.pb.h"
#include "weft/v1/flows.pb.h"
#include "weft/v1/task_runs.pb.h"

namespace weft::server::api {

v1::Flow ToProto(const store::FlowRecord& f);
v1::FlowRun ToProto(const store::FlowRunRecord& r);
v1::Deployment ToProto(const orchestration::DeploymentView& v);
v1::TaskRun ToProto(const store::TaskRunRecord& t);
v1::State ToProto(const store::StateRecord& s);
v1::OrchestrationResult ToProto(const orchestration::SetStateResult& r);

// Keyset cursors: "<created RFC 3339>|<uuid>". nullopt when malformed.
std::string EncodeCursor(const store::Cursor& c);
std::optional<store::Cursor> DecodeCursor(const std::string& text);

}  // namespace weft::server::api
