#include "server/api/services.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>
#include <spdlog/spdlog.h>

#include "sdk/client/convert.hpp"
#include "sdk/client/timestamp_check.hpp"
#include "server/api/status.hpp"

namespace weft::server::api {

ApiServices::ApiServices(ApiDomain domain, std::shared_ptr<spdlog::logger> logger) {
  if (!logger) logger = spdlog::default_logger();
  auto& runs = domain.runs;
  ScopeGuard scope(domain.auth, domain.run_scope);
  services_.push_back(MakeFlowService(runs, logger));
  services_.push_back(MakeFlowRunService(runs, domain.deployments, scope, logger));
  services_.push_back(MakeTaskRunService(runs, scope, logger));
  services_.push_back(MakeAdminService(runs, logger));
  services_.push_back(MakeStorageService(domain.storage, logger));
  services_.push_back(MakeDeploymentService(domain.deployments, logger));
  services_.push_back(MakeWorkQueueService(domain.work_queues, scope, logger));
  services_.push_back(MakeAgentService(domain.agents, domain.auth, scope, logger));
  services_.push_back(MakeLogService(domain.logs, scope, logger));
}

ApiServices::~ApiServices() = default;

void ApiServices::RegisterWith(grpc::ServerBuilder& builder) {
  for (auto& s : services_) builder.RegisterService(s.get());
}

std::string CheckState(const v1::State& s, const std::string& field) {
  int t = static_cast<int>(s.type());
  if (t < 1 || t > 9) return field + ".type: must be set (SCHEDULED, PENDING, RUNNING, ...)";
  if (s.has_timestamp()) {
    if (auto p = client::CheckTimestamp(s.timestamp(), field + ".timestamp"); !p.empty()) return p;
  }
  if (s.has_scheduled_time()) {
    auto p = client::CheckTimestamp(s.scheduled_time(), field + ".scheduled_time");
    if (!p.empty()) return p;
  }
  if (!s.name().empty()) {
    auto named = core::ParseStateType(s.name());
    if (named && static_cast<int>(*named) != t) {
      return field + ".name: \"" + s.name() + "\" is a " + core::StateTypeName(*named) +
             " state, not " + core::StateTypeName(static_cast<core::StateType>(t));
    }
  }
  if (auto st = core::CheckTextLength(s.name(), field + ".name", core::kMaxStateNameBytes);
      !st.ok()) {
    return st.error().message;
  }
  if (auto st = core::CheckTextLength(s.message(), field + ".message", core::kMaxStateMessageBytes);
      !st.ok()) {
    return st.error().message;
  }
  if (auto st = core::CheckTextLength(s.idempotency_key(), field + ".idempotency_key",
                                      core::kMaxIdempotencyKeyBytes);
      !st.ok()) {
    return st.error().message;
  }
  if (!s.details_json().empty()) {
    std::string problem = orchestration::CheckJson(
        s.details_json(), {core::kMaxStateDetailsBytes, core::kMaxJsonDepth});
    if (!problem.empty()) return field + ".details_json: " + problem;
  }
  return {};
}

std::string CheckRetryPolicy(const v1::RetryPolicy& p, const std::string& field) {
  std::string problem = client::FromProto(p).Validate();
  if (!problem.empty()) return field + ": " + problem;
  return {};
}

core::Result<store::StatePage> HistoryPage(const v1::PageRequest& page, bool newest_first) {
  auto limit = PageLimit(page);
  if (!limit) return core::InvalidArgument("page.limit: must be >= 0");
  store::StatePage out;
  out.newest_first = newest_first;
  out.limit = *limit + 1;
  if (!page.cursor().empty()) {
    auto cursor = orchestration::DecodeHistoryCursor(page.cursor());
    if (!cursor) return core::InvalidArgument("page.cursor: malformed (use a next_cursor as given)");
    out.cursor = *cursor;
  }
  return out;
}

std::optional<int> PageLimit(const v1::PageRequest& page) {
  if (page.limit() < 0) return std::nullopt;
  if (page.limit() == 0) return 100;
  return std::min(page.limit(), 1000);
}

}  // namespace weft::server::api
