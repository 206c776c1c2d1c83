#pragma once
// Typed gRPC client for the Weft API: deadlines, the API key as metadata, status -> Error.
// gRPC headers stay in client.cpp; users see only the protobuf messages.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sdk/core/error.hpp"
#include "weft/v1/admin.pb.h"
#include "weft/v1/agents.pb.h"
#include "weft/v1/api_keys.pb.h"
#include "weft/v1/concurrency_limits.pb.h"
#include "weft/v1/deployments.pb.h"
#include "weft/v1/flow_runs.pb.h"
#include "weft/v1/flows.pb.h"
#include "weft/v1/logs.pb.h"
#include "weft/v1/notifications.pb.h"
#include "weft/v1/storage.pb.h"
#include "weft/v1/task_runs.pb.h"
#include "weft/v1/work_queues.pb.h"

namespace weft::client {

struct ClientOptions {
  std::string address = "127.0.0.1:4201";  // host:port or unix:/path
  std::string api_key;                     // sent as "authorization: Bearer <key>"
  double timeout_seconds = 10;             // per call
  // TLS: on for https:// and grpcs:// URLs. The server is checked against `tls_ca_file` (PEM;
  // "" = the system's roots); `tls_cert_file` + `tls_key_file` present a client certificate
  // (mutual TLS).
  bool tls = false;
  std::string tls_ca_file;    // WEFT_TLS_CA
  std::string tls_cert_file;  // WEFT_TLS_CERT
  std::string tls_key_file;   // WEFT_TLS_KEY
  // Plaintext to a host that is not loopback is refused (the key would cross the network in
  // clear) unless this is set (WEFT_INSECURE=1, --insecure).
  bool insecure = false;
};

// The URL a child process should be given for these options: https://host:port under TLS.
std::string ApiUrl(const ClientOptions& o);
// Why these options may not be used ("" when they may): plaintext off loopback, unreadable
// TLS files.
std::string ConnectionProblem(const ClientOptions& o);

// WEFT_API_URL (host:port, http://host:port, https://host:port (TLS) or unix:/path),
// WEFT_API_KEY, WEFT_TLS_CA / WEFT_TLS_CERT / WEFT_TLS_KEY and WEFT_INSECURE, else defaults.
// With no WEFT_API_KEY, the local server's admin key is used when this user can read it
// (LocalAdminKeyFile()): clients on the server's machine need no configuration.
ClientOptions OptionsFromEnv();

// WEFT_HOME; else /var/lib/weft for root; else ~/.weft (the server's default too).
std::string DefaultHome();
// <DefaultHome()>/admin.key: where a local weft-server writes its admin key.
std::string LocalAdminKeyFile();
// The first line of `path` when it is readable and holds a token; "" otherwise.
std::string ReadKeyFile(const std::string& path);

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
  core::Result<v1::ResumeFlowRunResponse> ResumeFlowRun(const v1::ResumeFlowRunRequest& req);

  core::Result<v1::CreateTaskRunResponse> CreateTaskRun(const v1::CreateTaskRunRequest& req);
  core::Result<v1::GetTaskRunResponse> GetTaskRun(const v1::GetTaskRunRequest& req);
  core::Result<v1::ListTaskRunsResponse> ListTaskRuns(const v1::ListTaskRunsRequest& req);
  core::Result<v1::SetTaskRunStateResponse> SetTaskRunState(const v1::SetTaskRunStateRequest& req);
  core::Result<v1::ReportTaskRunsResponse> ReportTaskRuns(const v1::ReportTaskRunsRequest& req);
  core::Result<v1::ListTaskRunStatesResponse> ListTaskRunStates(
      const v1::ListTaskRunStatesRequest& req);
  core::Result<v1::GetTaskRunResultResponse> GetTaskRunResult(
      const v1::GetTaskRunResultRequest& req);

  core::Result<v1::CreateStorageResponse> CreateStorage(const v1::CreateStorageRequest& req);
  core::Result<v1::GetStorageResponse> GetStorage(const v1::GetStorageRequest& req);
  core::Result<v1::ListStoragesResponse> ListStorages(const v1::ListStoragesRequest& req);
  core::Result<v1::SetDefaultStorageResponse> SetDefaultStorage(
      const v1::SetDefaultStorageRequest& req);
  core::Result<v1::DeleteStorageResponse> DeleteStorage(const v1::DeleteStorageRequest& req);
  core::Result<v1::StatBundleResponse> StatBundle(const v1::StatBundleRequest& req);
  // Streams a bundle to "server" storage. `read` fills `buf` with up to `max` bytes and
  // returns how many (0 = end). No per-call deadline: the stream takes as long as it takes.
  core::Result<v1::UploadBundleResponse> UploadBundle(
      const std::string& digest, std::int64_t size,
      const std::function<std::size_t(char* buf, std::size_t max)>& read);
  // Streams a bundle from "server" storage; `write` gets each chunk in order.
  core::Status DownloadBundle(const std::string& digest,
                              const std::function<void(const std::string& data)>& write);

  core::Result<v1::CreateDeploymentResponse> CreateDeployment(
      const v1::CreateDeploymentRequest& req);
  core::Result<v1::GetDeploymentResponse> GetDeployment(const v1::GetDeploymentRequest& req);
  core::Result<v1::ListDeploymentsResponse> ListDeployments(
      const v1::ListDeploymentsRequest& req);
  core::Result<v1::DeleteDeploymentResponse> DeleteDeployment(
      const v1::DeleteDeploymentRequest& req);
  core::Result<v1::SetDeploymentPausedResponse> SetDeploymentPaused(
      const v1::SetDeploymentPausedRequest& req);
  core::Result<v1::RunDeploymentResponse> RunDeployment(const v1::RunDeploymentRequest& req);
  core::Result<v1::ListUpcomingRunsResponse> ListUpcomingRuns(
      const v1::ListUpcomingRunsRequest& req);
  core::Result<v1::BackfillResponse> Backfill(const v1::BackfillRequest& req);

  core::Result<v1::CreateWorkQueueResponse> CreateWorkQueue(const v1::CreateWorkQueueRequest& req);
  core::Result<v1::GetWorkQueueResponse> GetWorkQueue(const v1::GetWorkQueueRequest& req);
  core::Result<v1::ListWorkQueuesResponse> ListWorkQueues(const v1::ListWorkQueuesRequest& req);
  core::Result<v1::UpdateWorkQueueResponse> UpdateWorkQueue(const v1::UpdateWorkQueueRequest& req);
  core::Result<v1::DeleteWorkQueueResponse> DeleteWorkQueue(const v1::DeleteWorkQueueRequest& req);
  core::Result<v1::PreviewWorkQueueResponse> PreviewWorkQueue(
      const v1::PreviewWorkQueueRequest& req);

  // Long poll: the deadline is req.wait_seconds() plus the per-call timeout.
  core::Result<v1::PollWorkQueuesResponse> PollWorkQueues(const v1::PollWorkQueuesRequest& req);
  // Cancels the PollWorkQueues calls in flight on this client (they fail with CANCELLED);
  // later polls are not affected. For an agent that stops claiming.
  void CancelPolls();
  core::Result<v1::AgentHeartbeatResponse> AgentHeartbeat(const v1::AgentHeartbeatRequest& req);
  core::Result<v1::FlowRunHeartbeatResponse> FlowRunHeartbeat(
      const v1::FlowRunHeartbeatRequest& req);
  core::Result<v1::ListAgentsResponse> ListAgents(const v1::ListAgentsRequest& req);
  core::Result<v1::CancelFlowRunResponse> CancelFlowRun(const v1::CancelFlowRunRequest& req);

  core::Result<v1::WriteLogsResponse> WriteLogs(const v1::WriteLogsRequest& req);
  core::Result<v1::ListLogsResponse> ListLogs(const v1::ListLogsRequest& req);

  core::Result<v1::CreateNotificationResponse> CreateNotification(
      const v1::CreateNotificationRequest& req);
  core::Result<v1::ListNotificationsResponse> ListNotifications(
      const v1::ListNotificationsRequest& req);
  core::Result<v1::SetNotificationPausedResponse> SetNotificationPaused(
      const v1::SetNotificationPausedRequest& req);
  core::Result<v1::DeleteNotificationResponse> DeleteNotification(
      const v1::DeleteNotificationRequest& req);
  core::Result<v1::ListNotificationDeliveriesResponse> ListNotificationDeliveries(
      const v1::ListNotificationDeliveriesRequest& req);
  core::Result<v1::CreateConcurrencyLimitResponse> CreateConcurrencyLimit(
      const v1::CreateConcurrencyLimitRequest& req);
  core::Result<v1::GetConcurrencyLimitResponse> GetConcurrencyLimit(
      const v1::GetConcurrencyLimitRequest& req);
  core::Result<v1::ListConcurrencyLimitsResponse> ListConcurrencyLimits(
      const v1::ListConcurrencyLimitsRequest& req);
  core::Result<v1::ResetConcurrencyLimitResponse> ResetConcurrencyLimit(
      const v1::ResetConcurrencyLimitRequest& req);
  core::Result<v1::DeleteConcurrencyLimitResponse> DeleteConcurrencyLimit(
      const v1::DeleteConcurrencyLimitRequest& req);

  core::Result<v1::CreateApiKeyResponse> CreateApiKey(const v1::CreateApiKeyRequest& req);
  core::Result<v1::ListApiKeysResponse> ListApiKeys(const v1::ListApiKeysRequest& req);
  core::Result<v1::RevokeApiKeyResponse> RevokeApiKey(const v1::RevokeApiKeyRequest& req);
  core::Result<v1::WhoAmIResponse> WhoAmI(const v1::WhoAmIRequest& req);
  // Long poll: the deadline is req.timeout_seconds() (0 = 30) plus the per-call timeout.
  core::Result<v1::WaitForConcurrencySlotResponse> WaitForConcurrencySlot(
      const v1::WaitForConcurrencySlotRequest& req);
  core::Result<v1::ListRulesResponse> ListRules(const v1::ListRulesRequest& req);
  core::Result<v1::GetVersionResponse> GetVersion(const v1::GetVersionRequest& req);

 private:
  struct Impl;
  ClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::client
