#include "server/store/agent_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/run_sql.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

const char* const kAgentColumns =
    "id, name, hostname, work_queues, run_limit, running, version, started, last_seen,"
    " last_polled";

// Runs whose processes may still be alive (heartbeats renew them, the reaper crashes them).
const char* const kUnfinished = "('SCHEDULED', 'PENDING', 'RUNNING', 'CANCELLING', 'PAUSED')";

// The agent's runner types ($6): empty = any.
const char* const kRunnerFilter =
    " AND (cardinality($6::text[]) = 0"
    "      OR COALESCE(NULLIF(d.runner->>'type', ''), 'process') = ANY($6::text[]))";

AgentRecord ReadAgent(const pqxx::row& r) {
  AgentRecord a;
  a.id = r["id"].c_str();
  a.name = ReadText(r["name"]);
  a.hostname = ReadText(r["hostname"]);
  a.work_queues = ReadTextArray(r["work_queues"]);
  a.limit = r["run_limit"].as<int>();
  a.running = r["running"].as<int>();
  a.version = ReadText(r["version"]);
  a.started = ReadTimeOr(r["started"]);
  a.last_seen = ReadTimeOr(r["last_seen"]);
  a.last_polled = ReadTime(r["last_polled"]);
  return a;
}

std::optional<core::StateType> TypeOf(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return core::ParseStateType(f.c_str());
}

}  // namespace

std::vector<Statement> AgentRepoStatements() {
  const std::string match = QueueMatchSql() + QueueDueSql();
  const std::string facts = run_sql::FactColumns("fr");
  const std::string unfinished = kUnfinished;
  return {
      {"agent.upsert",
       "INSERT INTO agents (id, name, hostname, work_queues, run_limit, running, version,"
       " started, last_seen, last_polled)"
       " VALUES ($1::uuid, $2, $3, $4::text[], $5, COALESCE($6::int, 0), $7, $8::timestamptz,"
       " $8::timestamptz, CASE WHEN $9::boolean THEN $8::timestamptz END)"
       " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, hostname = EXCLUDED.hostname,"
       " work_queues = CASE WHEN cardinality(EXCLUDED.work_queues) = 0 THEN agents.work_queues"
       "   ELSE EXCLUDED.work_queues END,"
       " run_limit = EXCLUDED.run_limit, running = COALESCE($6::int, agents.running),"
       " version = EXCLUDED.version, last_seen = EXCLUDED.last_seen,"
       " last_polled = CASE WHEN $9::boolean THEN EXCLUDED.last_seen ELSE agents.last_polled END"},
      {"agent.list", std::string("SELECT ") + kAgentColumns +
                         " FROM agents WHERE last_seen >= $1::timestamptz"
                         " AND ($2::text = '' OR $2::text = ANY(work_queues))"
                         " ORDER BY last_seen DESC, id LIMIT 1000"},
      {"agent.list_first", std::string("SELECT ") + kAgentColumns +
                               " FROM agents WHERE last_seen >= $1::timestamptz"
                               " AND ($2::text = '' OR $2::text = ANY(work_queues))"
                               " ORDER BY last_seen DESC, id LIMIT $3"},
      {"agent.claimable", "SELECT " + facts + match +
                              " AND fr.state_scheduled_time <= $5::timestamptz" + kRunnerFilter +
                              " ORDER BY fr.state_scheduled_time, fr.id LIMIT $7"
                              " FOR UPDATE OF fr SKIP LOCKED"},
      {"agent.next_due", "SELECT min(fr.state_scheduled_time)" + match +
                             " AND fr.state_scheduled_time > $5::timestamptz" + kRunnerFilter},
      {"agent.set_owner",
       "UPDATE flow_runs SET agent_id = $2::uuid, last_heartbeat = $3::timestamptz"
       " WHERE id = ANY($1::uuid[])"},
      {"agent.cancelling",
       "SELECT id FROM flow_runs WHERE agent_id = $1::uuid AND state_type = 'CANCELLING'"
       " ORDER BY id"},
      {"agent.heartbeat",
       "UPDATE flow_runs SET last_heartbeat = $3::timestamptz"
       " WHERE id = ANY($2::uuid[]) AND agent_id = $1::uuid AND state_type IN " +
           unfinished + " RETURNING id, state_type"},
      {"agent.touch_run",
       "UPDATE flow_runs SET last_heartbeat = $2::timestamptz WHERE id = $1::uuid"
       " AND state_type IN " +
           unfinished +
           " AND (state_type <> 'SCHEDULED' OR agent_id IS NOT NULL)"
           " RETURNING state_type, state_name, state_timestamp, state_message, state_details,"
           " state_scheduled_time, state_idempotency_key"},
      {"agent.run_state",
       "SELECT state_type, state_name, state_timestamp, state_message, state_details,"
       " state_scheduled_time, state_idempotency_key FROM flow_runs WHERE id = $1::uuid"},
      {"agent.owner_of",
       "SELECT fr.agent_id, COALESCE(a.name, '') AS agent_name, fr.last_heartbeat"
       " FROM flow_runs fr LEFT JOIN agents a ON a.id = fr.agent_id WHERE fr.id = $1::uuid"},
      {"agent.lock_stale",
       "SELECT " + facts +
           ", fr.agent_id, COALESCE(a.name, '') AS agent_name, fr.last_heartbeat"
           " FROM flow_runs fr LEFT JOIN agents a ON a.id = fr.agent_id"
           " WHERE fr.last_heartbeat IS NOT NULL AND fr.last_heartbeat < $1::timestamptz"
           " AND fr.state_type IN " +
           unfinished +
           " AND (fr.state_type <> 'SCHEDULED' OR fr.agent_id IS NOT NULL)"
           " ORDER BY fr.last_heartbeat LIMIT $2 FOR UPDATE OF fr SKIP LOCKED"},
      {"agent.lock_late",
       "SELECT " + facts +
           " FROM flow_runs fr WHERE fr.state_type = 'SCHEDULED' AND fr.state_name = 'Scheduled'"
           " AND fr.state_scheduled_time < $1::timestamptz AND fr.agent_id IS NULL"
           " ORDER BY fr.state_scheduled_time LIMIT $2 FOR UPDATE OF fr SKIP LOCKED"},
      {"agent.notify", "SELECT pg_notify('weft_dispatch', 'a:' || $1::text)"},
  };
}

void AgentRepo::Upsert(Tx& tx, const AgentRecord& a, core::TimePoint now, bool polled,
                       std::optional<int> running) {
  tx.raw().exec_prepared("agent.upsert", a.id, a.name, a.hostname, ArrayLiteral(a.work_queues),
                         a.limit, running, a.version, TimeParam(now), polled);
}

std::vector<AgentRecord> AgentRepo::List(Tx& tx, core::TimePoint seen_after,
                                         const std::string& queue) {
  auto r = tx.raw().exec_prepared("agent.list", TimeParam(seen_after), queue);
  std::vector<AgentRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadAgent(row));
  return out;
}

std::vector<AgentRecord> AgentRepo::ListFirst(Tx& tx, core::TimePoint seen_after,
                                              const std::string& queue, int limit) {
  auto r = tx.raw().exec_prepared("agent.list_first", TimeParam(seen_after), queue, limit);
  std::vector<AgentRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadAgent(row));
  return out;
}

std::vector<RunFacts> AgentRepo::LockClaimable(Tx& tx, const WorkQueueRecord& q,
                                               core::TimePoint until,
                                               const std::vector<std::string>& runner_types,
                                               int limit) {
  auto r = tx.raw().exec_prepared("agent.claimable", q.name, ArrayLiteral(q.tags),
                                  ArrayLiteral(q.deployments), ArrayLiteral(q.runner_types),
                                  TimeParam(until), ArrayLiteral(runner_types), limit);
  std::vector<RunFacts> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadRunFacts(row));
  return out;
}

std::optional<core::TimePoint> AgentRepo::NextDue(Tx& tx, const WorkQueueRecord& q,
                                                  core::TimePoint after,
                                                  const std::vector<std::string>& runner_types) {
  auto r = tx.raw().exec_prepared1("agent.next_due", q.name, ArrayLiteral(q.tags),
                                   ArrayLiteral(q.deployments), ArrayLiteral(q.runner_types),
                                   TimeParam(after), ArrayLiteral(runner_types));
  return ReadTime(r[0]);
}

void AgentRepo::SetOwner(Tx& tx, const std::vector<std::string>& run_ids,
                         const std::optional<std::string>& agent_id,
                         std::optional<core::TimePoint> heartbeat) {
  if (run_ids.empty()) return;
  tx.raw().exec_prepared("agent.set_owner", ArrayLiteral(run_ids), agent_id, TimeParam(heartbeat));
}

std::vector<std::string> AgentRepo::CancellingRuns(Tx& tx, const std::string& agent_id) {
  auto r = tx.raw().exec_prepared("agent.cancelling", agent_id);
  std::vector<std::string> out;
  for (const auto& row : r) out.emplace_back(row[0].c_str());
  return out;
}

std::vector<std::pair<std::string, core::StateType>> AgentRepo::Heartbeat(
    Tx& tx, const std::string& agent_id, const std::vector<std::string>& run_ids,
    core::TimePoint now) {
  std::vector<std::pair<std::string, core::StateType>> out;
  if (run_ids.empty()) return out;
  auto r =
      tx.raw().exec_prepared("agent.heartbeat", agent_id, ArrayLiteral(run_ids), TimeParam(now));
  for (const auto& row : r) {
    out.emplace_back(row[0].c_str(), TypeOf(row[1]).value_or(core::StateType::kPending));
  }
  return out;
}

std::optional<std::optional<core::State>> AgentRepo::TouchRun(Tx& tx, const std::string& run_id,
                                                              core::TimePoint now) {
  auto r = tx.raw().exec_prepared("agent.touch_run", run_id, TimeParam(now));
  if (r.empty()) r = tx.raw().exec_prepared("agent.run_state", run_id);
  if (r.empty()) return std::nullopt;
  return ReadRunState(r[0]);
}

RunOwner AgentRepo::OwnerOf(Tx& tx, const std::string& run_id) {
  RunOwner o;
  auto r = tx.raw().exec_prepared("agent.owner_of", run_id);
  if (r.empty()) return o;
  o.agent_id = ReadText(r[0]["agent_id"]);
  o.agent_name = ReadText(r[0]["agent_name"]);
  o.last_heartbeat = ReadTime(r[0]["last_heartbeat"]);
  return o;
}

std::vector<OwnedRun> AgentRepo::LockStale(Tx& tx, core::TimePoint before, int limit) {
  auto r = tx.raw().exec_prepared("agent.lock_stale", TimeParam(before), limit);
  std::vector<OwnedRun> out;
  out.reserve(r.size());
  for (const auto& row : r) {
    OwnedRun o;
    o.facts = ReadRunFacts(row);
    o.owner.agent_id = ReadText(row["agent_id"]);
    o.owner.agent_name = ReadText(row["agent_name"]);
    o.owner.last_heartbeat = ReadTime(row["last_heartbeat"]);
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<RunFacts> AgentRepo::LockLate(Tx& tx, core::TimePoint before, int limit) {
  auto r = tx.raw().exec_prepared("agent.lock_late", TimeParam(before), limit);
  std::vector<RunFacts> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadRunFacts(row));
  return out;
}

void AgentRepo::NotifyAgent(Tx& tx, const std::string& agent_id) {
  tx.raw().exec_prepared("agent.notify", agent_id);
}

}  // namespace weft::server::store
