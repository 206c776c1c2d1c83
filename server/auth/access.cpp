#include "server/auth/access.hpp"

#include <algorithm>
#include <unordered_map>

namespace weft::server::auth {

namespace {

enum : unsigned {
  V = 1u << static_cast<int>(Scope::kViewer),
  O = 1u << static_cast<int>(Scope::kOperator),
  G = 1u << static_cast<int>(Scope::kAgent),
  R = 1u << static_cast<int>(Scope::kRun),
};

// Every RPC and the scopes besides admin that may call it. viewer reads; operator creates,
// runs and changes; agent serves work queues (poll, claim, heartbeat, report, bundles);
// a run token drives one flow run (its states, task runs, logs, results, subflows and the
// deployments it starts). A method missing here is admin-only (tests check that every
// method of the API is listed). This table decides only whether a scope may call a method:
// the handler of a method open to scope run or agent that names a run or a work queue also
// checks that it is the caller's (auth/run_scope.hpp, through api::ScopeGuard).
const std::unordered_map<std::string_view, unsigned>& Table() {
  static const std::unordered_map<std::string_view, unsigned> table = {
      {"/weft.v1.AdminService/ListRules", V | O | G | R},
      {"/weft.v1.AdminService/GetVersion", V | O | G | R},
      {"/weft.v1.ApiKeyService/WhoAmI", V | O | G | R},
      // ApiKeyService Create/List/Revoke: admin only.
      {"/weft.v1.AgentService/PollWorkQueues", O | G},
      {"/weft.v1.AgentService/AgentHeartbeat", O | G},
      {"/weft.v1.AgentService/FlowRunHeartbeat", O | G | R},
      {"/weft.v1.AgentService/ListAgents", V | O},
      {"/weft.v1.AgentService/CancelFlowRun", O},
      {"/weft.v1.ConcurrencyLimitService/CreateConcurrencyLimit", O},
      {"/weft.v1.ConcurrencyLimitService/GetConcurrencyLimit", V | O},
      {"/weft.v1.ConcurrencyLimitService/ListConcurrencyLimits", V | O},
      {"/weft.v1.ConcurrencyLimitService/ResetConcurrencyLimit", O},
      {"/weft.v1.ConcurrencyLimitService/DeleteConcurrencyLimit", O},
      {"/weft.v1.ConcurrencyLimitService/WaitForConcurrencySlot", O | R},
      {"/weft.v1.DeploymentService/CreateDeployment", O},
      {"/weft.v1.DeploymentService/GetDeployment", V | O | R},
      {"/weft.v1.DeploymentService/ListDeployments", V | O},
      {"/weft.v1.DeploymentService/DeleteDeployment", O},
      {"/weft.v1.DeploymentService/SetDeploymentPaused", O},
      {"/weft.v1.DeploymentService/RunDeployment", O | R},
      {"/weft.v1.DeploymentService/ListUpcomingRuns", V | O},
      {"/weft.v1.DeploymentService/Backfill", O},
      {"/weft.v1.FlowRunService/CreateFlowRun", O | R},
      {"/weft.v1.FlowRunService/GetFlowRun", V | O | G | R},
      {"/weft.v1.FlowRunService/ListFlowRuns", V | O | R},
      {"/weft.v1.FlowRunService/SetFlowRunState", O | G | R},
      {"/weft.v1.FlowRunService/ListFlowRunStates", V | O | R},
      {"/weft.v1.FlowRunService/ResumeFlowRun", O},
      {"/weft.v1.FlowService/CreateFlow", O | R},
      {"/weft.v1.FlowService/GetFlow", V | O | R},
      {"/weft.v1.FlowService/ListFlows", V | O},
      {"/weft.v1.LogService/WriteLogs", O | G | R},
      {"/weft.v1.LogService/ListLogs", V | O | R},
      {"/weft.v1.NotificationService/CreateNotification", O},
      {"/weft.v1.NotificationService/ListNotifications", V | O},
      {"/weft.v1.NotificationService/SetNotificationPaused", O},
      {"/weft.v1.NotificationService/DeleteNotification", O},
      {"/weft.v1.NotificationService/ListNotificationDeliveries", V | O},
      {"/weft.v1.StorageService/CreateStorage", O},
      {"/weft.v1.StorageService/GetStorage", V | O | G},
      {"/weft.v1.StorageService/ListStorages", V | O},
      {"/weft.v1.StorageService/SetDefaultStorage", O},
      {"/weft.v1.StorageService/DeleteStorage", O},
      {"/weft.v1.StorageService/UploadBundle", O},
      {"/weft.v1.StorageService/StatBundle", V | O | G},
      {"/weft.v1.StorageService/DownloadBundle", O | G},
      {"/weft.v1.TaskRunService/CreateTaskRun", O | R},
      {"/weft.v1.TaskRunService/GetTaskRun", V | O | R},
      {"/weft.v1.TaskRunService/ListTaskRuns", V | O | R},
      {"/weft.v1.TaskRunService/SetTaskRunState", O | R},
      {"/weft.v1.TaskRunService/ReportTaskRuns", O | R},
      {"/weft.v1.TaskRunService/ListTaskRunStates", V | O | R},
      {"/weft.v1.TaskRunService/GetTaskRunResult", V | O | R},
      {"/weft.v1.WorkQueueService/CreateWorkQueue", O},
      {"/weft.v1.WorkQueueService/GetWorkQueue", V | O | G},
      {"/weft.v1.WorkQueueService/ListWorkQueues", V | O},
      {"/weft.v1.WorkQueueService/UpdateWorkQueue", O},
      {"/weft.v1.WorkQueueService/DeleteWorkQueue", O},
      {"/weft.v1.WorkQueueService/PreviewWorkQueue", V | O},
  };
  return table;
}

std::string ShortMethod(std::string_view method) {
  // "/weft.v1.FlowRunService/CreateFlowRun" -> "FlowRunService.CreateFlowRun"
  std::string m(method);
  if (!m.empty() && m[0] == '/') m.erase(0, 1);
  if (m.rfind("weft.v1.", 0) == 0) m.erase(0, 8);
  std::replace(m.begin(), m.end(), '/', '.');
  return m;
}

}  // namespace

const char* ScopeName(Scope s) {
  switch (s) {
    case Scope::kViewer: return "viewer";
    case Scope::kOperator: return "operator";
    case Scope::kAgent: return "agent";
    case Scope::kAdmin: return "admin";
    case Scope::kRun: return "run";
  }
  return "?";
}

std::optional<Scope> ParseScope(std::string_view name) {
  for (Scope s : {Scope::kViewer, Scope::kOperator, Scope::kAgent, Scope::kAdmin}) {
    if (name == ScopeName(s)) return s;
  }
  return std::nullopt;
}

bool Identity::MayServeQueue(std::string_view queue) const {
  if (scope != Scope::kAgent || work_queues.empty()) return true;
  return std::find(work_queues.begin(), work_queues.end(), queue) != work_queues.end();
}

std::vector<Scope> AllowedScopes(std::string_view method) {
  std::vector<Scope> out;
  auto it = Table().find(method);
  if (it == Table().end()) return out;
  for (Scope s : {Scope::kViewer, Scope::kOperator, Scope::kAgent, Scope::kRun}) {
    if (it->second & (1u << static_cast<int>(s))) out.push_back(s);
  }
  return out;
}

bool IsApiMethod(std::string_view method) {
  static constexpr std::string_view kAdminOnly[] = {"/weft.v1.ApiKeyService/CreateApiKey",
                                                    "/weft.v1.ApiKeyService/ListApiKeys",
                                                    "/weft.v1.ApiKeyService/RevokeApiKey"};
  if (Table().count(method)) return true;
  return std::find(std::begin(kAdminOnly), std::end(kAdminOnly), method) != std::end(kAdminOnly);
}

std::optional<core::Error> Authorize(const Identity& who, std::string_view method) {
  if (who.scope == Scope::kAdmin) return std::nullopt;
  if (!who.run_final.empty() && method != "/weft.v1.LogService/WriteLogs") {
    return core::Error{core::Code::kUnauthenticated, who.run_final};
  }
  auto it = Table().find(method);
  unsigned allowed = it == Table().end() ? 0u : it->second;
  if (allowed & (1u << static_cast<int>(who.scope))) return std::nullopt;
  std::string need;
  for (Scope s : AllowedScopes(method)) {
    if (s == Scope::kRun) continue;
    need += need.empty() ? "" : " or ";
    need += ScopeName(s);
  }
  need += need.empty() ? "admin" : " or admin";
  std::string who_desc = who.scope == Scope::kRun
                             ? "a run token"
                             : "key \"" + who.name + "\" (scope " + ScopeName(who.scope) + ")";
  return core::Error{core::Code::kPermissionDenied,
                     ShortMethod(method) + " needs scope " + need + "; " + who_desc +
                         " may not call it"};
}

}  // namespace weft::server::auth
