#pragma once
// Notification policies and the deliveries outbox (migration 0007). Deliveries are inserted
// by the flow_run_states trigger, in the transaction that writes the state.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/time.hpp"
#include "server/store/database.hpp"

namespace weft::server::store {

struct NotificationPolicyRecord {
  std::string id;
  std::vector<std::string> states;  // state names
  std::vector<std::string> tags;    // any of them; empty = any run
  std::string webhook_url;
  std::string format;  // json | slack
  bool paused = false;
  core::TimePoint created{};
  core::TimePoint updated{};
};

struct DeliveryRecord {
  std::int64_t id = 0;
  std::string policy_id;
  std::string flow_run_id;
  std::int64_t state_id = 0;
  std::string flow_run_name;
  std::string flow_name;
  std::string deployment_name;  // "" = none
  std::vector<std::string> tags;
  std::string state_type;
  std::string state_name;
  std::string state_message;
  core::TimePoint state_timestamp{};
  std::string status;  // pending | delivered | failed
  int attempts = 0;
  core::TimePoint next_attempt{};
  std::string last_error;
  std::optional<int> last_status;
  core::TimePoint created{};
  core::TimePoint updated{};
  std::optional<core::TimePoint> delivered;
  // From the policy (Due only).
  std::string webhook_url;
  std::string format;
};

// Methods throw database exceptions; Database::WithTransaction translates them.
class NotificationRepo {
 public:
  static NotificationPolicyRecord Insert(Tx& tx, const NotificationPolicyRecord& p);
  // Takes the transaction-scoped policy-creation lock, then counts the policies.
  static std::size_t LockAndCount(Tx& tx);
  // Oldest first.
  static std::vector<NotificationPolicyRecord> List(Tx& tx);
  // At most `limit` of them, oldest first, after the policy `after_id` ("" = from the first).
  static std::vector<NotificationPolicyRecord> ListPage(Tx& tx, const std::string& after_id,
                                                        int limit);
  static std::optional<NotificationPolicyRecord> SetPaused(Tx& tx, const std::string& id,
                                                           bool paused);
  static bool Delete(Tx& tx, const std::string& id);
  // Newest first; policy_id "" = every policy.
  static std::vector<DeliveryRecord> ListDeliveries(Tx& tx, const std::string& policy_id,
                                                    int limit);
  // Pending deliveries of active (not paused) policies due by `now`, oldest first, locked
  // (FOR UPDATE SKIP LOCKED) for this transaction.
  static std::vector<DeliveryRecord> LockDue(Tx& tx, core::TimePoint now, int limit);
  // The outcome of one attempt: attempts + 1, status, next attempt, last error / status.
  static void RecordAttempt(Tx& tx, std::int64_t id, const std::string& status,
                            core::TimePoint next_attempt, const std::string& last_error,
                            std::optional<int> last_status, core::TimePoint now);
};

}  // namespace weft::server::store
