#include "server/store/flow_run_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/run_sql.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

constexpr const char* kPrefix = "flow_run";

std::string SelectColumns() {
  return run_sql::FactColumns("fr") +
         ", fr.flow_id, f.name AS flow_name, fr.name, fr.parameters, fr.tags,"
         " fr.idempotency_key, fr.created, fr.updated, fr.deployment_id, fr.auto_scheduled,"
         " fr.work_queue, CASE WHEN d.id IS NULL THEN '' ELSE f.name || '/' || d.name END"
         " AS deployment_name, fr.agent_id, COALESCE(a.name, '') AS agent_name,"
         " fr.last_heartbeat, fr.parent_task_run_id, fr.parent_flow_run_id";
}

FlowRunRecord ReadFlowRun(const pqxx::row& r) {
  FlowRunRecord f;
  f.run = ReadRunFacts(r);
  f.flow_id = r["flow_id"].c_str();
  f.flow_name = ReadText(r["flow_name"]);
  f.name = r["name"].c_str();
  f.parameters_json = ReadText(r["parameters"]);
  f.tags = ReadTextArray(r["tags"]);
  f.idempotency_key = ReadText(r["idempotency_key"]);
  f.created = ReadTimeOr(r["created"]);
  f.updated = ReadTimeOr(r["updated"]);
  f.deployment_id = ReadText(r["deployment_id"]);
  f.deployment_name = ReadText(r["deployment_name"]);
  f.auto_scheduled = r["auto_scheduled"].as<bool>();
  f.work_queue = ReadText(r["work_queue"]);
  f.agent_id = ReadText(r["agent_id"]);
  f.agent_name = ReadText(r["agent_name"]);
  f.last_heartbeat = ReadTime(r["last_heartbeat"]);
  f.parent_task_run_id = ReadText(r["parent_task_run_id"]);
  f.parent_flow_run_id = ReadText(r["parent_flow_run_id"]);
  return f;
}

}  // namespace

std::vector<Statement> FlowRunRepoStatements() {
  std::vector<Statement> v =
      run_sql::Statements(kPrefix, "flow_runs", "flow_run_states", "flow_run_id");
  std::string from =
      " FROM flow_runs fr JOIN flows f ON f.id = fr.flow_id"
      " LEFT JOIN deployments d ON d.id = fr.deployment_id"
      " LEFT JOIN agents a ON a.id = fr.agent_id";
  v.push_back(
      {"flow_run.insert",
       "INSERT INTO flow_runs (flow_id, name, state_id, state_type, state_name, state_timestamp,"
       " state_message, state_details, state_scheduled_time, state_idempotency_key, parameters,"
       " tags, run_count, retry_policy, idempotency_key, expected_start_time, start_time,"
       " end_time, total_run_time, deployment_id, auto_scheduled, work_queue,"
       " parent_task_run_id, parent_flow_run_id)"
       " VALUES ($1::uuid, $2, NULL, $3, $4, $5::timestamptz, $6, $7::jsonb, $8::timestamptz,"
       " $9, $10::jsonb, $11::text[], $12, $13::jsonb, $14, $15::timestamptz,"
       " $16::timestamptz, $17::timestamptz, $18, $19::uuid, $20, $21, $22::uuid,"
       " (SELECT t.flow_run_id FROM task_runs t WHERE t.id = $22::uuid))"
       " ON CONFLICT (flow_id, idempotency_key) DO NOTHING RETURNING id, created, updated"});
  v.push_back({"flow_run.by_idempotency_key",
               "SELECT " + SelectColumns() + from +
                   " WHERE fr.flow_id = $1::uuid AND fr.idempotency_key = $2"});
  v.push_back(
      {"flow_run.get", "SELECT " + SelectColumns() +
                           ", (SELECT count(*) FROM task_runs t WHERE t.flow_run_id = fr.id)"
                           " AS task_run_count" +
                           from + " WHERE fr.id = $1::uuid"});
  v.push_back(
      {"flow_run.list",
       "SELECT " + SelectColumns() + from +
           " WHERE ($1::text IS NULL OR f.name = $1)"
           " AND ($2::text[] IS NULL OR fr.state_type = ANY($2::text[]))"
           " AND ($3::text[] IS NULL OR fr.state_name = ANY($3::text[]))"
           " AND ($4::timestamptz IS NULL OR (fr.created, fr.id) < ($4::timestamptz, $5::uuid))"
           " AND ($7::uuid IS NULL OR fr.deployment_id = $7::uuid)"
           " AND ($8::text IS NULL OR $8::text = ANY(fr.tags))"
           " AND ($9::timestamptz IS NULL OR fr.created >= $9::timestamptz)"
           " AND ($10::timestamptz IS NULL OR fr.created < $10::timestamptz)"
           " AND ($11::uuid IS NULL OR fr.parent_flow_run_id = $11::uuid)"
           " ORDER BY fr.created DESC, fr.id DESC LIMIT $6"});
  // Oldest first: by expected start time (runs without one: by creation), ascending.
  v.push_back({"flow_run.list_oldest",
               "SELECT " + SelectColumns() + from +
                   " WHERE ($1::text IS NULL OR f.name = $1)"
                   " AND ($2::text[] IS NULL OR fr.state_type = ANY($2::text[]))"
                   " AND ($3::text[] IS NULL OR fr.state_name = ANY($3::text[]))"
                   " AND ($4::timestamptz IS NULL OR (COALESCE(fr.expected_start_time, fr.created),"
                   " fr.id) > ($4::timestamptz, $5::uuid))"
                   " AND ($7::uuid IS NULL OR fr.deployment_id = $7::uuid)"
                   " AND ($8::text IS NULL OR $8::text = ANY(fr.tags))"
                   " AND ($9::timestamptz IS NULL OR fr.created >= $9::timestamptz)"
                   " AND ($10::timestamptz IS NULL OR fr.created < $10::timestamptz)"
                   " AND ($11::uuid IS NULL OR fr.parent_flow_run_id = $11::uuid)"
                   " ORDER BY COALESCE(fr.expected_start_time, fr.created), fr.id LIMIT $6"});
  v.push_back({"flow_run.lock_active_children",
               "SELECT id FROM flow_runs WHERE parent_flow_run_id = $1::uuid AND state_type IN"
               " ('SCHEDULED', 'PENDING', 'RUNNING', 'PAUSED', 'CANCELLING')"
               " ORDER BY created, id FOR UPDATE"});
  v.push_back({"flow_run.lock_expired_pauses",
               "SELECT " + run_sql::FactColumns() +
                   " FROM flow_runs WHERE state_type = 'PAUSED'"
                   " AND state_scheduled_time < $1::timestamptz"
                   " ORDER BY state_scheduled_time LIMIT $2 FOR UPDATE SKIP LOCKED"});
  v.push_back({"flow_run.existing_ids", "SELECT id FROM flow_runs WHERE id = ANY($1::uuid[])"});
  // Access checks (auth::RunScope): a run and its ancestors, nearest first, depth-capped.
  v.push_back({"flow_run.lineage",
               "WITH RECURSIVE up (id, parent, work_queue, depth) AS ("
               " SELECT id, parent_flow_run_id, work_queue, 0 FROM flow_runs WHERE id = $1::uuid"
               " UNION ALL"
               " SELECT fr.id, fr.parent_flow_run_id, fr.work_queue, up.depth + 1"
               " FROM up JOIN flow_runs fr ON fr.id = up.parent WHERE up.depth < $2::int)"
               " SELECT id::text AS id, work_queue FROM up ORDER BY depth"});
  return v;
}

std::optional<FlowRunRecord> FlowRunRepo::Insert(Tx& tx, const FlowRunRecord& rec) {
  const RunFacts& f = rec.run;
  std::optional<std::string> type, name, ts, details, sched;
  std::string message, ikey;
  if (f.state) {
    type = core::StateTypeName(f.state->type);
    name = f.state->name;
    ts = core::FormatTime(f.state->timestamp);
    message = f.state->message;
    details = NullIfEmpty(f.state->details_json);
    sched = TimeParam(f.state->scheduled_time);
    ikey = f.state->idempotency_key;
  }
  auto r = tx.raw().exec_prepared(
      "flow_run.insert", rec.flow_id, rec.name, type, name, ts, message, details, sched, ikey,
      rec.parameters_json.empty() ? std::string("{}") : rec.parameters_json, ArrayLiteral(rec.tags),
      f.run_count, RetryPolicyToJson(f.retry_policy), NullIfEmpty(rec.idempotency_key),
      TimeParam(f.expected_start_time), TimeParam(f.start_time), TimeParam(f.end_time),
      f.total_run_time, NullIfEmpty(rec.deployment_id), rec.auto_scheduled, rec.work_queue,
      NullIfEmpty(rec.parent_task_run_id));
  if (r.empty()) return std::nullopt;
  FlowRunRecord out = rec;
  out.run.id = r[0]["id"].c_str();
  out.created = ReadTimeOr(r[0]["created"]);
  out.updated = ReadTimeOr(r[0]["updated"]);
  if (!rec.parent_task_run_id.empty()) {
    if (auto stored = Get(tx, out.run.id)) out.parent_flow_run_id = stored->parent_flow_run_id;
  }
  return out;
}

std::optional<FlowRunRecord> FlowRunRepo::FindByIdempotencyKey(Tx& tx, const std::string& flow_id,
                                                               const std::string& key) {
  auto r = tx.raw().exec_prepared("flow_run.by_idempotency_key", flow_id, key);
  if (r.empty()) return std::nullopt;
  return ReadFlowRun(r[0]);
}

std::optional<FlowRunRecord> FlowRunRepo::Get(Tx& tx, const std::string& id) {
  auto r = tx.raw().exec_prepared("flow_run.get", id);
  if (r.empty()) return std::nullopt;
  FlowRunRecord rec = ReadFlowRun(r[0]);
  rec.task_run_count = r[0]["task_run_count"].as<int>();
  return rec;
}

std::vector<FlowRunRecord> FlowRunRepo::List(Tx& tx, const FlowRunFilter& filter) {
  std::optional<std::string> types, names, after_time, after_id;
  if (!filter.state_types.empty()) {
    std::vector<std::string> t;
    for (auto st : filter.state_types) t.push_back(core::StateTypeName(st));
    types = ArrayLiteral(t);
  }
  if (!filter.state_names.empty()) names = ArrayLiteral(filter.state_names);
  std::optional<std::string> since, until;
  if (filter.since) since = core::FormatTime(*filter.since);
  if (filter.until) until = core::FormatTime(*filter.until);
  if (filter.after) {
    after_time = core::FormatTime(filter.after->created);
    after_id = filter.after->id;
  }
  auto r = tx.raw().exec_prepared(filter.oldest_first ? "flow_run.list_oldest" : "flow_run.list",
                                  NullIfEmpty(filter.flow_name), types, names, after_time, after_id,
                                  filter.limit, NullIfEmpty(filter.deployment_id),
                                  NullIfEmpty(filter.tag), since, until,
                                  NullIfEmpty(filter.parent_flow_run_id));
  std::vector<FlowRunRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadFlowRun(row));
  return out;
}

std::optional<RunFacts> FlowRunRepo::Lock(Tx& tx, const std::string& id) {
  auto v = run_sql::LockMany(tx, kPrefix, {id});
  if (v.empty()) return std::nullopt;
  return std::move(v.front());
}

void FlowRunRepo::Update(Tx& tx, const RunFacts& facts) {
  run_sql::UpdateMany(tx, kPrefix, {facts});
}

std::vector<std::int64_t> FlowRunRepo::InsertStates(Tx& tx, const std::string& id,
                                                    const std::vector<core::State>& states) {
  std::vector<std::pair<std::string, const core::State*>> rows;
  rows.reserve(states.size());
  for (const auto& s : states) rows.emplace_back(id, &s);
  return run_sql::InsertStates(tx, kPrefix, rows);
}

std::vector<StateRecord> FlowRunRepo::ListStates(Tx& tx, const std::string& id,
                                            const StatePage& page) {
  return run_sql::ListStates(tx, kPrefix, id, page);
}

std::vector<std::string> FlowRunRepo::LockActiveChildren(Tx& tx, const std::string& parent_id) {
  std::vector<std::string> out;
  for (const auto& row : tx.raw().exec_prepared("flow_run.lock_active_children", parent_id)) {
    out.push_back(row[0].c_str());
  }
  return out;
}

std::vector<RunFacts> FlowRunRepo::LockExpiredPauses(Tx& tx, core::TimePoint before, int limit) {
  std::vector<RunFacts> out;
  for (const auto& row :
       tx.raw().exec_prepared("flow_run.lock_expired_pauses", TimeParam(before), limit)) {
    out.push_back(ReadRunFacts(row));
  }
  return out;
}

std::vector<LineageRow> FlowRunRepo::Lineage(Tx& tx, const std::string& id, int max_ancestors) {
  std::vector<LineageRow> out;
  for (const auto& row : tx.raw().exec_prepared("flow_run.lineage", id, max_ancestors)) {
    out.push_back({row["id"].c_str(), ReadText(row["work_queue"])});
  }
  return out;
}

std::vector<std::string> FlowRunRepo::ExistingIds(Tx& tx, const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  if (ids.empty()) return out;
  auto r = tx.raw().exec_prepared("flow_run.existing_ids", ArrayLiteral(ids));
  for (const auto& row : r) out.push_back(row[0].c_str());
  return out;
}

}  // namespace weft::server::store
