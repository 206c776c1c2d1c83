#include "server/store/concurrency_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

// A holder is live when its task run is RUNNING and its flow run is neither final nor
// silent past the heartbeat timeout (belt and braces: the triggers release such slots).
std::string LiveHolder(const char* live_after_param) {
  return std::string(
             " t.state_type = 'RUNNING'"
             " AND fr.state_type NOT IN ('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED')"
             " AND (fr.last_heartbeat IS NULL OR fr.last_heartbeat > ") +
         live_after_param + "::timestamptz)";
}

ConcurrencyLimitRecord ReadLimit(const pqxx::row& r) {
  ConcurrencyLimitRecord l;
  l.tag = r["tag"].c_str();
  l.limit = r["slot_limit"].as<int>();
  l.created = ReadTimeOr(r["created"]);
  l.updated = ReadTimeOr(r["updated"]);
  return l;
}

}  // namespace

std::vector<Statement> ConcurrencyRepoStatements() {
  std::string live = LiveHolder("$2");
  return {
      {"concurrency.upsert",
       "INSERT INTO concurrency_limits (tag, slot_limit) VALUES ($1, $2)"
       " ON CONFLICT (tag) DO UPDATE SET slot_limit = EXCLUDED.slot_limit, updated = now()"
       " RETURNING tag, slot_limit, created, updated, (xmax = 0) AS inserted"},
      {"concurrency.get",
       "SELECT tag, slot_limit, created, updated FROM concurrency_limits WHERE tag = $1"},
      {"concurrency.get_locked",
       "SELECT tag, slot_limit, created, updated FROM concurrency_limits WHERE tag = $1"
       " FOR UPDATE"},
      {"concurrency.list",
       "SELECT l.tag, l.slot_limit, l.created, l.updated,"
       " (SELECT count(*) FROM concurrency_slots s JOIN task_runs t ON t.id = s.task_run_id"
       "  JOIN flow_runs fr ON fr.id = s.flow_run_id WHERE s.tag = l.tag AND" +
           LiveHolder("$1") + ") AS active FROM concurrency_limits l ORDER BY l.tag"},
      {"concurrency.list_page",
       "SELECT l.tag, l.slot_limit, l.created, l.updated,"
       " (SELECT count(*) FROM concurrency_slots s JOIN task_runs t ON t.id = s.task_run_id"
       "  JOIN flow_runs fr ON fr.id = s.flow_run_id WHERE s.tag = l.tag AND" +
           LiveHolder("$1") +
           ") AS active FROM concurrency_limits l WHERE l.tag > $2::text ORDER BY l.tag"
           " LIMIT $3"},
      {"concurrency.delete", "DELETE FROM concurrency_limits WHERE tag = $1 RETURNING tag"},
      {"concurrency.reset",
       "WITH d AS (DELETE FROM concurrency_slots WHERE tag = $1 RETURNING 1),"
       " n AS (SELECT pg_notify('weft_concurrency', $1))"
       " SELECT (SELECT count(*) FROM d) AS freed, (SELECT count(*) FROM n) AS notified"},
      {"concurrency.lock_limits_of_runs",
       "SELECT t.id::text AS task_run_id, l.tag, l.slot_limit"
       " FROM task_runs t JOIN concurrency_limits l ON l.tag = ANY(t.tags)"
       " WHERE t.id = ANY($1::uuid[]) AND t.tags <> '{}'"
       " ORDER BY l.tag, t.id FOR UPDATE OF l"},
      {"concurrency.holders",
       "SELECT s.tag, s.task_run_id::text AS task_run_id, t.name AS task_run_name,"
       " s.flow_run_id::text AS flow_run_id, fr.name AS flow_run_name, s.acquired"
       " FROM concurrency_slots s JOIN task_runs t ON t.id = s.task_run_id"
       " JOIN flow_runs fr ON fr.id = s.flow_run_id"
       " WHERE s.tag = ANY($1::text[]) AND" +
           live + " ORDER BY s.tag, s.acquired, s.task_run_id"},
      {"concurrency.acquire",
       "INSERT INTO concurrency_slots (tag, task_run_id, flow_run_id, acquired)"
       " SELECT u.tag, u.id, t.flow_run_id, $3::timestamptz"
       " FROM unnest($1::text[], $2::uuid[]) AS u(tag, id) JOIN task_runs t ON t.id = u.id"
       " ON CONFLICT (tag, task_run_id) DO NOTHING"},
      {"concurrency.full_tags",
       "SELECT l.tag FROM concurrency_limits l WHERE l.tag = ANY($1::text[]) AND l.slot_limit <="
       " (SELECT count(*) FROM concurrency_slots s JOIN task_runs t ON t.id = s.task_run_id"
       "  JOIN flow_runs fr ON fr.id = s.flow_run_id WHERE s.tag = l.tag AND" +
           live + ") ORDER BY l.tag"},
  };
}

ConcurrencyLimitRecord ConcurrencyRepo::Upsert(Tx& tx, const std::string& tag, int limit,
                                               bool& created) {
  auto r = tx.raw().exec_prepared1("concurrency.upsert", tag, limit);
  created = r["inserted"].as<bool>();
  return ReadLimit(r);
}

std::optional<ConcurrencyLimitRecord> ConcurrencyRepo::Get(Tx& tx, const std::string& tag,
                                                           bool lock) {
  auto r = tx.raw().exec_prepared(lock ? "concurrency.get_locked" : "concurrency.get", tag);
  if (r.empty()) return std::nullopt;
  return ReadLimit(r[0]);
}

std::vector<ConcurrencyLimitRecord> ConcurrencyRepo::List(Tx& tx, core::TimePoint live_after) {
  std::vector<ConcurrencyLimitRecord> out;
  for (const auto& r : tx.raw().exec_prepared("concurrency.list", TimeParam(live_after))) {
    auto l = ReadLimit(r);
    l.active_slots = r["active"].as<int>();
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<ConcurrencyLimitRecord> ConcurrencyRepo::ListPage(Tx& tx, core::TimePoint live_after,
                                                              const std::string& after,
                                                              int limit) {
  std::vector<ConcurrencyLimitRecord> out;
  for (const auto& r :
       tx.raw().exec_prepared("concurrency.list_page", TimeParam(live_after), after, limit)) {
    auto l = ReadLimit(r);
    l.active_slots = r["active"].as<int>();
    out.push_back(std::move(l));
  }
  return out;
}

bool ConcurrencyRepo::Delete(Tx& tx, const std::string& tag) {
  return !tx.raw().exec_prepared("concurrency.delete", tag).empty();
}

int ConcurrencyRepo::Reset(Tx& tx, const std::string& tag) {
  return tx.raw().exec_prepared1("concurrency.reset", tag)["freed"].as<int>();
}

std::map<std::string, std::vector<core::orchestration::TagLimit>>
ConcurrencyRepo::LockLimitsOfRuns(Tx& tx, const std::vector<std::string>& task_run_ids) {
  std::map<std::string, std::vector<core::orchestration::TagLimit>> out;
  if (task_run_ids.empty()) return out;
  for (const auto& r :
       tx.raw().exec_prepared("concurrency.lock_limits_of_runs", ArrayLiteral(task_run_ids))) {
    core::orchestration::TagLimit l;
    l.tag = r["tag"].c_str();
    l.limit = r["slot_limit"].as<int>();
    out[r["task_run_id"].c_str()].push_back(std::move(l));
  }
  return out;
}

std::map<std::string, std::vector<core::orchestration::SlotHolder>> ConcurrencyRepo::Holders(
    Tx& tx, const std::vector<std::string>& tags, core::TimePoint live_after,
    std::map<std::string, std::string>* flow_run_names) {
  std::map<std::string, std::vector<core::orchestration::SlotHolder>> out;
  if (tags.empty()) return out;
  for (const auto& r :
       tx.raw().exec_prepared("concurrency.holders", ArrayLiteral(tags), TimeParam(live_after))) {
    core::orchestration::SlotHolder h;
    h.task_run_id = r["task_run_id"].c_str();
    h.task_run_name = r["task_run_name"].c_str();
    h.flow_run_id = r["flow_run_id"].c_str();
    h.since = ReadTimeOr(r["acquired"]);
    if (flow_run_names) (*flow_run_names)[h.flow_run_id] = r["flow_run_name"].c_str();
    out[r["tag"].c_str()].push_back(std::move(h));
  }
  return out;
}

void ConcurrencyRepo::Acquire(Tx& tx, const std::vector<std::string>& tags,
                              const std::vector<std::string>& task_run_ids, core::TimePoint now) {
  if (tags.empty()) return;
  tx.raw().exec_prepared0("concurrency.acquire", ArrayLiteral(tags), ArrayLiteral(task_run_ids),
                          TimeParam(now));
}

std::vector<std::string> ConcurrencyRepo::FullTags(Tx& tx, const std::vector<std::string>& tags,
                                                   core::TimePoint live_after) {
  std::vector<std::string> out;
  if (tags.empty()) return out;
  for (const auto& r :
       tx.raw().exec_prepared("concurrency.full_tags", ArrayLiteral(tags), TimeParam(live_after))) {
    out.push_back(r["tag"].c_str());
  }
  return out;
}

}  // namespace weft::server::store
