#include "server/store/notification_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

// pg_advisory_xact_lock key serialising policy creation (checking the cap).
constexpr long long kPolicyLockKey = 0x77656674'6e6f7469LL;

const char* const kPolicyColumns = "id, states, tags, webhook_url, format, paused, created, updated";

const char* const kDeliveryColumns =
    "d.id, d.policy_id, d.flow_run_id, d.state_id, d.flow_run_name, d.flow_name,"
    " d.deployment_name, d.tags, d.state_type, d.state_name, d.state_message,"
    " d.state_timestamp, d.status, d.attempts, d.next_attempt, d.last_error, d.last_status,"
    " d.created, d.updated, d.delivered, p.webhook_url, p.format";

NotificationPolicyRecord ReadPolicy(const pqxx::row& r) {
  NotificationPolicyRecord p;
  p.id = r["id"].c_str();
  p.states = ReadTextArray(r["states"]);
  p.tags = ReadTextArray(r["tags"]);
  p.webhook_url = r["webhook_url"].c_str();
  p.format = r["format"].c_str();
  p.paused = r["paused"].as<bool>();
  p.created = ReadTimeOr(r["created"]);
  p.updated = ReadTimeOr(r["updated"]);
  return p;
}

DeliveryRecord ReadDelivery(const pqxx::row& r) {
  DeliveryRecord d;
  d.id = r["id"].as<std::int64_t>();
  d.policy_id = r["policy_id"].c_str();
  d.flow_run_id = r["flow_run_id"].c_str();
  d.state_id = r["state_id"].as<std::int64_t>();
  d.flow_run_name = r["flow_run_name"].c_str();
  d.flow_name = r["flow_name"].c_str();
  d.deployment_name = ReadText(r["deployment_name"]);
  d.tags = ReadTextArray(r["tags"]);
  d.state_type = r["state_type"].c_str();
  d.state_name = r["state_name"].c_str();
  d.state_message = ReadText(r["state_message"]);
  d.state_timestamp = ReadTimeOr(r["state_timestamp"]);
  d.status = r["status"].c_str();
  d.attempts = r["attempts"].as<int>();
  d.next_attempt = ReadTimeOr(r["next_attempt"]);
  d.last_error = ReadText(r["last_error"]);
  if (!r["last_status"].is_null()) d.last_status = r["last_status"].as<int>();
  d.created = ReadTimeOr(r["created"]);
  d.updated = ReadTimeOr(r["updated"]);
  d.delivered = ReadTime(r["delivered"]);
  d.webhook_url = r["webhook_url"].c_str();
  d.format = r["format"].c_str();
  return d;
}

}  // namespace

std::vector<Statement> NotificationRepoStatements() {
  std::string pc = kPolicyColumns;
  std::string dc = kDeliveryColumns;
  return {
      {"notification.insert",
       "INSERT INTO notification_policies (states, tags, webhook_url, format, paused)"
       " VALUES ($1::text[], $2::text[], $3, $4, $5) RETURNING " +
           pc},
      {"notification.lock", "SELECT pg_advisory_xact_lock($1)"},
      {"notification.count", "SELECT count(*) FROM notification_policies"},
      {"notification.list",
       "SELECT " + pc + " FROM notification_policies ORDER BY created, id"},
      {"notification.list_page",
       "SELECT " + pc +
           " FROM notification_policies WHERE $1::text = '' OR (created, id) >"
           " (SELECT created, id FROM notification_policies WHERE id = NULLIF($1::text, '')::uuid)"
           " ORDER BY created, id LIMIT $2"},
      {"notification.set_paused",
       "UPDATE notification_policies SET paused = $2, updated = now() WHERE id = $1::uuid"
       " RETURNING " +
           pc},
      {"notification.delete",
       "DELETE FROM notification_policies WHERE id = $1::uuid RETURNING id"},
      {"notification.list_deliveries",
       "SELECT " + dc +
           " FROM notification_deliveries d JOIN notification_policies p ON p.id = d.policy_id"
           " WHERE $1::text = '' OR d.policy_id = NULLIF($1::text, '')::uuid"
           " ORDER BY d.id DESC LIMIT $2"},
      {"notification.lock_due",
       "SELECT " + dc +
           " FROM notification_deliveries d JOIN notification_policies p ON p.id = d.policy_id"
           " WHERE d.status = 'pending' AND d.next_attempt <= $1::timestamptz AND NOT p.paused"
           " ORDER BY d.next_attempt, d.id LIMIT $2 FOR UPDATE OF d SKIP LOCKED"},
      {"notification.record_attempt",
       "UPDATE notification_deliveries SET attempts = attempts + 1, status = $2,"
       " next_attempt = $3::timestamptz, last_error = $4, last_status = $5,"
       " updated = $6::timestamptz,"
       " delivered = CASE WHEN $2 = 'delivered' THEN $6::timestamptz ELSE delivered END"
       " WHERE id = $1"},
  };
}

NotificationPolicyRecord NotificationRepo::Insert(Tx& tx, const NotificationPolicyRecord& p) {
  return ReadPolicy(tx.raw().exec_prepared1("notification.insert", ArrayLiteral(p.states),
                                            ArrayLiteral(p.tags), p.webhook_url, p.format,
                                            p.paused));
}

std::size_t NotificationRepo::LockAndCount(Tx& tx) {
  tx.raw().exec_prepared("notification.lock", kPolicyLockKey);
  return tx.raw().exec_prepared1("notification.count")[0].as<std::size_t>();
}

std::vector<NotificationPolicyRecord> NotificationRepo::List(Tx& tx) {
  std::vector<NotificationPolicyRecord> out;
  for (const auto& r : tx.raw().exec_prepared("notification.list")) out.push_back(ReadPolicy(r));
  return out;
}

std::vector<NotificationPolicyRecord> NotificationRepo::ListPage(Tx& tx, const std::string& after_id,
                                                                 int limit) {
  std::vector<NotificationPolicyRecord> out;
  for (const auto& r : tx.raw().exec_prepared("notification.list_page", after_id, limit)) {
    out.push_back(ReadPolicy(r));
  }
  return out;
}

std::optional<NotificationPolicyRecord> NotificationRepo::SetPaused(Tx& tx, const std::string& id,
                                                                    bool paused) {
  auto r = tx.raw().exec_prepared("notification.set_paused", id, paused);
  if (r.empty()) return std::nullopt;
  return ReadPolicy(r[0]);
}

bool NotificationRepo::Delete(Tx& tx, const std::string& id) {
  return !tx.raw().exec_prepared("notification.delete", id).empty();
}

std::vector<DeliveryRecord> NotificationRepo::ListDeliveries(Tx& tx, const std::string& policy_id,
                                                             int limit) {
  std::vector<DeliveryRecord> out;
  for (const auto& r : tx.raw().exec_prepared("notification.list_deliveries", policy_id, limit)) {
    out.push_back(ReadDelivery(r));
  }
  return out;
}

std::vector<DeliveryRecord> NotificationRepo::LockDue(Tx& tx, core::TimePoint now, int limit) {
  std::vector<DeliveryRecord> out;
  for (const auto& r : tx.raw().exec_prepared("notification.lock_due", TimeParam(now), limit)) {
    out.push_back(ReadDelivery(r));
  }
  return out;
}

void NotificationRepo::RecordAttempt(Tx& tx, std::int64_t id, const std::string& status,
                                     core::TimePoint next_attempt, const std::string& last_error,
                                     std::optional<int> last_status, core::TimePoint now) {
  tx.raw().exec_prepared0("notification.record_attempt", id, status, TimeParam(next_attempt),
                          last_error, last_status, TimeParam(now));
}

}  // namespace weft::server::store
