#pragma once
// Notification policies (domain): create, list, pause/resume, delete, and the deliveries
// they produced. Which transitions match is decided in the database, in the transaction
// that writes the state (migration 0007's trigger on flow_run_states): a policy matches a
// flow run's new state when the state's NAME is one of its states and, when it has tags,
// the run carries at least one of them. The webhook payloads are built by
// BuildNotificationPayload (pure) and sent by services::Notifier.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/error.hpp"
#include "sdk/core/net_policy.hpp"
#include "server/store/database.hpp"
#include "server/store/notification_repo.hpp"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::orchestration {

struct NotificationSpec {
  std::vector<std::string> states;  // state names, any case ("failed" -> "Failed")
  std::vector<std::string> tags;
  std::string webhook_url;  // http:// or https://
  std::string format;       // json (default) | slack
};

class NotificationManager {
 public:
  static constexpr int kMaxDeliveries = 1000;
  // The most notification policies a server keeps (each matching transition is a delivery
  // per policy, so this also bounds the webhooks one transition sends).
  static constexpr std::size_t kMaxPolicies = 100;

  // `webhook_allow`: internal networks a webhook_url may name anyway
  // (--webhook-allow-network).
  NotificationManager(store::Database& db, std::shared_ptr<spdlog::logger> logger,
                      std::vector<core::IpNetwork> webhook_allow = {});

  // INVALID_ARGUMENT naming the field (states[1], tags[0], webhook_url, format);
  // RESOURCE_EXHAUSTED when kMaxPolicies exist already.
  core::Result<store::NotificationPolicyRecord> Create(NotificationSpec spec);
  core::Result<std::vector<store::NotificationPolicyRecord>> List();
  // At most `limit` policies after the policy `after_id` ("" = from the first), in SQL.
  core::Result<std::vector<store::NotificationPolicyRecord>> ListPage(const std::string& after_id,
                                                                      int limit);
  // Unknown id -> NOT_FOUND naming it.
  core::Result<store::NotificationPolicyRecord> SetPaused(const std::string& id, bool paused);
  core::Status Delete(const std::string& id);
  // Newest first. policy_id "" = all; limit 0 -> 50, at most kMaxDeliveries.
  core::Result<std::vector<store::DeliveryRecord>> ListDeliveries(const std::string& policy_id,
                                                                  int limit);

  const std::vector<core::IpNetwork>& webhook_allow() const { return webhook_allow_; }

  // The canonical state name for `name` in any case, or nullopt when no state has it.
  static std::optional<std::string> CanonicalStateName(const std::string& name);
  // "" or the problem with the spec (normalises states and format in place). A webhook_url
  // whose host is a literal internal address outside `webhook_allow` is refused here (host
  // names are checked on the socket the notifier opens, after resolution).
  static std::string Check(NotificationSpec& spec,
                           const std::vector<core::IpNetwork>& webhook_allow = {});

 private:
  store::Database& db_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<core::IpNetwork> webhook_allow_;
};

// Why a webhook may not go to `address` (an internal one) and how an operator allows it:
// "target address 127.0.0.1 is not allowed (loopback); an operator can allow it with ...".
std::string WebhookRefusal(const core::IpAddress& address);

// The webhook body for one delivery. format "slack": {"text": "..."}; "json": the run,
// flow, deployment, state and a dashboard link. dashboard_url "" leaves the link out
// (e.g. "http://127.0.0.1:4200" gives "http://127.0.0.1:4200/#/runs/<id>").
std::string BuildNotificationPayload(const store::DeliveryRecord& d, const std::string& format,
                                     const std::string& dashboard_url);

}  // namespace weft::server::orchestration
