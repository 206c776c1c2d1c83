#pragma once
// Typed gRPC client for the Weft API: deadlines, the API key as metadata, status -> Error.
// gRPC headers stay in client.cpp; users see only the protobuf messages.
#include <memory>
#include <string>

#include "sdk/core/error.hpp"
#include "weft/v1/admin.pb.h"
#include "weft/v1/flow_runs.pb.h"
#include "weft/v1/flows.pb.h"
#include "weft/v1/task_runs.pb.h"

namespace weft::client {

struct ClientOptions {
  std::string address = "127.0.0.1:4201";  // host:port or unix:/path
  std::string api_key;                     // sent as "authorization: Bearer <key>"
  double timeout_seconds = 10;             // per call
};

// WEFT_API_URL (host:port, http://host:port or unix:/path) and WEFT_API_KEY, else defaults.
ClientOptions OptionsFromEnv();

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }
  // Waits until the channel connects; false when it did not within `seconds`.
  bool WaitForReady(double seconds);

  core::Result<v1::CreateFlowResponse> CreateFlow(const v1::CreateFlowRequest& req);
  core::Result<v1::GetFlowResponse> GetFlow(const v1::GetFlowRequest& req);
  core::Result<v1::ListFlowsResponse> ListFlows(const v1::ListFlowsRequest& req);

  core::Result<v1::CreateFlowRunResponse> CreateFlowRun(const v1::CreateFlowRunRequest& req);
  core::Result<v1::GetFlowRunResponse> GetFlowRun(const v1::GetFlowRunRequest& req);
  core::Result<v1::ListFlowRunsResponse> ListFlowRuns(const v1::ListFlowRunsRequest& req);
  core::Result<v1::SetFlowRunStateResponse> SetFlowRunState(const v1::SetFlowRunStateRequest& req);
  core::Result<v1::ListFlowRunStatesResponse> ListFlowRunStates(
      const v1::ListFlowRunStatesRequest& req);

  core::Result<v1::CreateTaskRunResponse> CreateTaskRun(const v1::CreateTaskRunRequest& req);
  core::Result<v1::GetTaskRunResponse> GetTaskRun(const v1::GetTaskRunRequest& req);
  core::Result<v1::ListTaskRunsResponse> ListTaskRuns(const v1::ListTaskRunsRequest& req);
  core::Result<v1::SetTaskRunStateResponse> SetTaskRunState(const v1::SetTaskRunStateRequest& req);
  core::Result<v1::ReportTaskRunsResponse> ReportTaskRuns(const v1::ReportTaskRunsRequest& req);
  core::Result<v1::ListTaskRunStatesResponse> ListTaskRunStates(
      const v1::ListTaskRunStatesRequest& req);

  core::Result<v1::ListRulesResponse> ListRules(const v1::ListRulesRequest& req);
  core::Result<v1::GetVersionResponse> GetVersion(const v1::GetVersionRequest& req);

 private:
  struct Impl;
  ClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::client
