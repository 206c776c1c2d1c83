#include "server/store/deployment_repo.hpp"

#include <cstdio>
#include <unordered_map>

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

const char* const kSelect =
    "SELECT d.id, d.flow_id, f.name AS flow_name, d.name, d.description, d.version,"
    " d.entrypoint, d.storage_id, s.name AS storage_name, d.bundle_digest, d.bundle_size,"
    " d.schedule, d.schedule_description, d.parameters, d.tags, d.work_queue, d.runner,"
    " d.catchup_policy, d.max_lateness_seconds, d.paused, d.last_scheduled_time, d.revision,"
    " d.created, d.updated, d.timeout_seconds"
    " FROM deployments d JOIN flows f ON f.id = d.flow_id JOIN storages s ON s.id = d.storage_id";

const char* const kRunColumns =
    "fr.id, fr.deployment_id, fr.expected_start_time, fr.state_name, fr.parameters, fr.tags,"
    " fr.work_queue, fr.auto_scheduled";

DeploymentRecord ReadDeployment(const pqxx::row& r) {
  DeploymentRecord d;
  d.id = r["id"].c_str();
  d.flow_id = r["flow_id"].c_str();
  d.flow_name = r["flow_name"].c_str();
  d.name = r["name"].c_str();
  d.description = ReadText(r["description"]);
  d.version = ReadText(r["version"]);
  d.entrypoint = ReadTextArray(r["entrypoint"]);
  d.storage_id = r["storage_id"].c_str();
  d.storage_name = ReadText(r["storage_name"]);
  d.bundle_digest = ReadText(r["bundle_digest"]);
  d.bundle_size = r["bundle_size"].as<std::int64_t>();
  d.schedule_json = ReadText(r["schedule"]);
  d.schedule_description = ReadText(r["schedule_description"]);
  d.parameters_json = ReadText(r["parameters"]);
  d.tags = ReadTextArray(r["tags"]);
  d.work_queue = ReadText(r["work_queue"]);
  d.runner_json = ReadText(r["runner"]);
  d.catchup_policy = ReadText(r["catchup_policy"]);
  d.max_lateness_seconds = r["max_lateness_seconds"].as<double>();
  d.timeout_seconds = r["timeout_seconds"].as<double>();
  d.paused = r["paused"].as<bool>();
  d.last_scheduled_time = ReadTime(r["last_scheduled_time"]);
  d.revision = r["revision"].as<std::int64_t>();
  d.created = ReadTimeOr(r["created"]);
  d.updated = ReadTimeOr(r["updated"]);
  return d;
}

ScheduledRunRow ReadRun(const pqxx::row& r) {
  ScheduledRunRow s;
  s.id = r["id"].c_str();
  s.deployment_id = ReadText(r["deployment_id"]);
  s.expected_start_time = ReadTimeOr(r["expected_start_time"]);
  s.state_name = ReadText(r["state_name"]);
  s.parameters_json = ReadText(r["parameters"]);
  s.tags = ReadTextArray(r["tags"]);
  s.work_queue = ReadText(r["work_queue"]);
  s.auto_scheduled = r["auto_scheduled"].as<bool>();
  return s;
}

}  // namespace

std::vector<Statement> DeploymentRepoStatements() {
  std::string sel = kSelect;
  std::string runs = kRunColumns;
  return {
      {"deployment.upsert",
       "INSERT INTO deployments (flow_id, name, description, version, entrypoint, storage_id,"
       " bundle_digest, bundle_size, schedule, schedule_description, parameters, tags,"
       " work_queue, runner, catchup_policy, max_lateness_seconds, paused,"
       " last_scheduled_time, created, updated, timeout_seconds)"
       " VALUES ($1::uuid, $2, $3, $4, $5::text[], $6::uuid, $7, $8, $9::jsonb, $10, $11::jsonb,"
       " $12::text[], $13, $14::jsonb, $15, $16, $17, $18::timestamptz, $18::timestamptz,"
       " $18::timestamptz, $19)"
       " ON CONFLICT (flow_id, name) DO UPDATE SET description = EXCLUDED.description,"
       " version = EXCLUDED.version, entrypoint = EXCLUDED.entrypoint,"
       " storage_id = EXCLUDED.storage_id, bundle_digest = EXCLUDED.bundle_digest,"
       " bundle_size = EXCLUDED.bundle_size, schedule = EXCLUDED.schedule,"
       " schedule_description = EXCLUDED.schedule_description,"
       " parameters = EXCLUDED.parameters, tags = EXCLUDED.tags,"
       " work_queue = EXCLUDED.work_queue, runner = EXCLUDED.runner,"
       " catchup_policy = EXCLUDED.catchup_policy,"
       " max_lateness_seconds = EXCLUDED.max_lateness_seconds, paused = EXCLUDED.paused,"
       " timeout_seconds = EXCLUDED.timeout_seconds,"
       " last_scheduled_time = CASE WHEN deployments.paused AND NOT EXCLUDED.paused"
       "   THEN EXCLUDED.last_scheduled_time"
       "   ELSE LEAST(COALESCE(deployments.last_scheduled_time, EXCLUDED.last_scheduled_time),"
       "              EXCLUDED.last_scheduled_time) END,"
       " revision = deployments.revision + 1, updated = EXCLUDED.updated"
       " RETURNING id, (xmax = 0) AS inserted"},
      {"deployment.get_by_id", sel + " WHERE d.id = $1::uuid"},
      {"deployment.get_by_name", sel + " WHERE f.name = $1 AND d.name = $2"},
      {"deployment.lock", "SELECT id FROM deployments WHERE id = $1::uuid FOR UPDATE"},
      {"deployment.list",
       sel + " WHERE ($1::text IS NULL OR f.name = $1) AND (f.name, d.name) > ($2, $3)"
             " ORDER BY f.name, d.name LIMIT $4"},
      {"deployment.delete", "DELETE FROM deployments WHERE id = $1::uuid"},
      {"deployment.set_paused",
       "UPDATE deployments SET paused = $2, revision = revision + 1, updated = $3::timestamptz,"
       " last_scheduled_time = CASE WHEN paused AND NOT $2 THEN $3::timestamptz"
       " ELSE last_scheduled_time END WHERE id = $1::uuid"},
      // The scheduler's view: only what it needs, no joins.
      {"deployment.list_active",
       "SELECT d.id, d.flow_id, d.name, d.schedule, d.catchup_policy, d.max_lateness_seconds,"
       " d.last_scheduled_time, d.revision, d.created FROM deployments d"
       " WHERE NOT d.paused AND d.schedule IS NOT NULL ORDER BY d.id"},
      {"deployment.lock_many",
       "SELECT id FROM deployments WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE"},
      {"deployment.advance",
       "UPDATE deployments d SET last_scheduled_time = GREATEST(d.last_scheduled_time, u.t)"
       " FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[]) AS u(id, rev, t)"
       " WHERE d.id = u.id AND d.revision = u.rev AND NOT d.paused RETURNING d.id"},
      {"deployment.future_runs",
       "SELECT " + runs +
           " FROM flow_runs fr WHERE fr.deployment_id = $1::uuid AND fr.state_type = 'SCHEDULED'"
           " AND fr.expected_start_time > $2::timestamptz ORDER BY fr.expected_start_time, fr.id"},
      {"deployment.count_auto_runs",
       "SELECT u.ord, count(fr.id) FROM unnest($1::uuid[], $2::timestamptz[])"
       " WITH ORDINALITY AS u(id, upto, ord)"
       " LEFT JOIN flow_runs fr ON fr.deployment_id = u.id AND fr.auto_scheduled"
       " AND fr.expected_start_time > $3::timestamptz AND fr.expected_start_time <= u.upto"
       " GROUP BY u.ord"},
      {"deployment.missed_auto_runs",
       "SELECT " + runs +
           " FROM flow_runs fr JOIN deployments d ON d.id = fr.deployment_id"
           " WHERE fr.auto_scheduled AND fr.state_type = 'SCHEDULED'"
           " AND fr.expected_start_time < $1::timestamptz AND fr.state_message <> 'backfill'"
           " AND NOT d.paused AND d.schedule IS NOT NULL"
           " AND (d.catchup_policy <> 'all' OR d.max_lateness_seconds > 0)"
           " ORDER BY fr.deployment_id, fr.expected_start_time"},
      {"deployment.delete_runs", "DELETE FROM flow_runs WHERE id = ANY($1::uuid[])"},
      {"deployment.delete_scheduled_runs",
       "DELETE FROM flow_runs WHERE deployment_id = $1::uuid AND state_type = 'SCHEDULED'"},
      {"deployment.delete_future_auto_runs",
       "DELETE FROM flow_runs WHERE deployment_id = $1::uuid AND auto_scheduled"
       " AND state_type = 'SCHEDULED' AND state_name = 'Scheduled'"
       " AND expected_start_time > $2::timestamptz"},
      {"deployment.insert_auto_runs",
       "WITH input AS ("
       " SELECT u.*, nextval('flow_run_states_id_seq') AS state_id"
       " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
       " $6::timestamptz[], $7::text[], $8::timestamptz[])"
       " AS u(deployment_id, name, ikey, state_type, state_name, state_ts, message, sched)),"
       " ins AS (INSERT INTO flow_runs (flow_id, deployment_id, auto_scheduled, name,"
       " idempotency_key, parameters, tags, work_queue, state_id, state_type, state_name,"
       " state_timestamp, state_message, state_scheduled_time, expected_start_time, run_count)"
       " SELECT d.flow_id, i.deployment_id, true, i.name, i.ikey, d.parameters, d.tags,"
       " d.work_queue, i.state_id, i.state_type, i.state_name, i.state_ts, i.message, i.sched,"
       " i.sched, 0 FROM input i JOIN deployments d ON d.id = i.deployment_id"
       " ON CONFLICT (flow_id, idempotency_key) DO NOTHING"
       " RETURNING id, state_id, state_type, state_name, state_timestamp, state_message,"
       " state_scheduled_time)"
       " INSERT INTO flow_run_states (id, flow_run_id, type, name, timestamp, message,"
       " scheduled_time)"
       " SELECT state_id, id, state_type, state_name, state_timestamp, state_message,"
       " state_scheduled_time FROM ins RETURNING flow_run_id"},
      {"deployment.run_ids_by_keys",
       "SELECT id, idempotency_key FROM flow_runs WHERE flow_id = $1::uuid"
       " AND idempotency_key = ANY($2::text[])"},
      {"deployment.notify", "SELECT pg_notify('weft_deployments', $1)"},
      {"lease.acquire",
       "INSERT INTO service_leases AS l (name, holder, expires_at, acquired)"
       " VALUES ($1, $2, $3::timestamptz + make_interval(secs => $4), $3::timestamptz)"
       " ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder,"
       " expires_at = EXCLUDED.expires_at,"
       " acquired = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired ELSE EXCLUDED.acquired END"
       " WHERE l.holder = EXCLUDED.holder OR l.expires_at < $3::timestamptz"
       " RETURNING holder"},
      {"lease.release", "DELETE FROM service_leases WHERE name = $1 AND holder = $2"},
  };
}

std::pair<DeploymentRecord, bool> DeploymentRepo::Upsert(Tx& tx, const DeploymentRecord& d,
                                                         core::TimePoint now) {
  auto r = tx.raw().exec_prepared1(
      "deployment.upsert", d.flow_id, d.name, d.description, d.version, ArrayLiteral(d.entrypoint),
      d.storage_id, d.bundle_digest, d.bundle_size, NullIfEmpty(d.schedule_json),
      d.schedule_description, d.parameters_json.empty() ? std::string("{}") : d.parameters_json,
      ArrayLiteral(d.tags), d.work_queue, d.runner_json.empty() ? std::string("{}") : d.runner_json,
      d.catchup_policy, d.max_lateness_seconds, d.paused, TimeParam(now), d.timeout_seconds);
  std::string id = r["id"].c_str();
  bool inserted = r["inserted"].as<bool>();
  auto stored = GetById(tx, id);
  if (!stored) throw pqxx::internal_error("deployment vanished after upsert");
  return {std::move(*stored), inserted};
}

std::optional<DeploymentRecord> DeploymentRepo::GetById(Tx& tx, const std::string& id) {
  auto r = tx.raw().exec_prepared("deployment.get_by_id", id);
  if (r.empty()) return std::nullopt;
  return ReadDeployment(r[0]);
}

std::optional<DeploymentRecord> DeploymentRepo::GetByName(Tx& tx, const std::string& flow_name,
                                                          const std::string& name) {
  auto r = tx.raw().exec_prepared("deployment.get_by_name", flow_name, name);
  if (r.empty()) return std::nullopt;
  return ReadDeployment(r[0]);
}

std::optional<DeploymentRecord> DeploymentRepo::LockById(Tx& tx, const std::string& id) {
  if (tx.raw().exec_prepared("deployment.lock", id).empty()) return std::nullopt;
  return GetById(tx, id);
}

std::vector<DeploymentRecord> DeploymentRepo::List(Tx& tx, const std::string& flow_name,
                                                   const std::string& after_flow,
                                                   const std::string& after_name, int limit) {
  auto r = tx.raw().exec_prepared("deployment.list", NullIfEmpty(flow_name), after_flow, after_name,
                                  limit);
  std::vector<DeploymentRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadDeployment(row));
  return out;
}

void DeploymentRepo::Delete(Tx& tx, const std::string& id) {
  tx.raw().exec_prepared("deployment.delete", id);
}

void DeploymentRepo::SetPaused(Tx& tx, const std::string& id, bool paused, core::TimePoint now) {
  tx.raw().exec_prepared("deployment.set_paused", id, paused, TimeParam(now));
}

std::vector<DeploymentRecord> DeploymentRepo::ListActive(Tx& tx) {
  auto r = tx.raw().exec_prepared("deployment.list_active");
  std::vector<DeploymentRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) {
    DeploymentRecord d;
    d.id = row[0].c_str();
    d.flow_id = row[1].c_str();
    d.name = row[2].c_str();
    d.schedule_json = ReadText(row[3]);
    d.catchup_policy = row[4].c_str();
    d.max_lateness_seconds = row[5].as<double>();
    d.last_scheduled_time = ReadTime(row[6]);
    d.revision = row[7].as<std::int64_t>();
    d.created = ReadTimeOr(row[8]);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<std::string> DeploymentRepo::AdvanceScheduled(Tx& tx,
                                                          const std::vector<Advance>& rows) {
  std::vector<std::string> out;
  if (rows.empty()) return out;
  std::vector<std::string> ids, revs, times;
  ids.reserve(rows.size());
  for (const auto& a : rows) {
    ids.push_back(a.id);
    revs.push_back(std::to_string(a.revision));
    times.push_back(TimeParam(a.last_scheduled_time));
  }
  // Lock in id order first: concurrent passes (other replicas) queue instead of deadlocking.
  tx.raw().exec_prepared("deployment.lock_many", ArrayLiteral(ids));
  auto r = tx.raw().exec_prepared("deployment.advance", ArrayLiteral(ids), ArrayLiteral(revs),
                                  ArrayLiteral(times));
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(row[0].c_str());
  return out;
}

std::vector<ScheduledRunRow> DeploymentRepo::FutureScheduledRuns(Tx& tx,
                                                                 const std::string& deployment_id,
                                                                 core::TimePoint after) {
  auto r = tx.raw().exec_prepared("deployment.future_runs", deployment_id, TimeParam(after));
  std::vector<ScheduledRunRow> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadRun(row));
  return out;
}

std::vector<int> DeploymentRepo::CountAutoRuns(Tx& tx, const std::vector<std::string>& ids,
                                               const std::vector<core::TimePoint>& upto,
                                               core::TimePoint after) {
  std::vector<int> out(ids.size(), 0);
  if (ids.empty()) return out;
  std::vector<std::string> times;
  times.reserve(upto.size());
  for (auto t : upto) times.push_back(TimeParam(t));
  auto r = tx.raw().exec_prepared("deployment.count_auto_runs", ArrayLiteral(ids),
                                  ArrayLiteral(times), TimeParam(after));
  for (const auto& row : r) {
    auto i = row[0].as<std::size_t>();
    if (i >= 1 && i <= out.size()) out[i - 1] = row[1].as<int>();
  }
  return out;
}

std::vector<ScheduledRunRow> DeploymentRepo::MissedAutoRuns(Tx& tx, core::TimePoint before) {
  auto r = tx.raw().exec_prepared("deployment.missed_auto_runs", TimeParam(before));
  std::vector<ScheduledRunRow> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadRun(row));
  return out;
}

int DeploymentRepo::DeleteRuns(Tx& tx, const std::vector<std::string>& ids) {
  if (ids.empty()) return 0;
  return static_cast<int>(
      tx.raw().exec_prepared("deployment.delete_runs", ArrayLiteral(ids)).affected_rows());
}

int DeploymentRepo::DeleteScheduledRuns(Tx& tx, const std::string& deployment_id) {
  return static_cast<int>(
      tx.raw().exec_prepared("deployment.delete_scheduled_runs", deployment_id).affected_rows());
}

int DeploymentRepo::DeleteFutureAutoRuns(Tx& tx, const std::string& deployment_id,
                                         core::TimePoint after) {
  return static_cast<int>(
      tx.raw()
          .exec_prepared("deployment.delete_future_auto_runs", deployment_id, TimeParam(after))
          .affected_rows());
}

std::vector<std::string> DeploymentRepo::InsertAutoRuns(Tx& tx,
                                                        const std::vector<AutoRunRow>& rows) {
  std::vector<std::string> out;
  if (rows.empty()) return out;
  const size_t n = rows.size();
  std::vector<std::string> dep, name, key, type, sname, ts, msg, sched;
  for (auto* v : {&dep, &name, &key, &type, &sname, &ts, &msg, &sched}) v->reserve(n);
  for (const auto& r : rows) {
    dep.push_back(r.deployment_id);
    name.push_back(r.name);
    key.push_back(r.idempotency_key);
    type.push_back(core::StateTypeName(r.state.type));
    sname.push_back(r.state.name.empty() ? std::string(core::DefaultStateName(r.state.type))
                                         : r.state.name);
    ts.push_back(TimeParam(r.state.timestamp));
    msg.push_back(r.state.message);
    sched.push_back(TimeParam(r.state.scheduled_time.value_or(r.time)));
  }
  auto res =
      tx.raw().exec_prepared("deployment.insert_auto_runs", ArrayLiteral(dep), ArrayLiteral(name),
                             ArrayLiteral(key), ArrayLiteral(type), ArrayLiteral(sname),
                             ArrayLiteral(ts), ArrayLiteral(msg), ArrayLiteral(sched));
  out.reserve(res.size());
  for (const auto& row : res) out.push_back(row[0].c_str());
  return out;
}

std::vector<std::string> DeploymentRepo::RunIdsByKeys(Tx& tx, const std::string& flow_id,
                                                      const std::vector<std::string>& keys) {
  std::vector<std::string> out(keys.size());
  if (keys.empty()) return out;
  auto r = tx.raw().exec_prepared("deployment.run_ids_by_keys", flow_id, ArrayLiteral(keys));
  std::unordered_map<std::string, std::string> by_key;
  for (const auto& row : r) by_key.emplace(row[1].c_str(), row[0].c_str());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (auto it = by_key.find(keys[i]); it != by_key.end()) out[i] = it->second;
  }
  return out;
}

void DeploymentRepo::NotifyChanged(Tx& tx, const std::string& id) {
  tx.raw().exec_prepared("deployment.notify", id);
}

bool LeaseRepo::Acquire(Tx& tx, const std::string& name, const std::string& holder,
                        core::TimePoint now, double ttl_seconds) {
  return !tx.raw()
              .exec_prepared("lease.acquire", name, holder, TimeParam(now), ttl_seconds)
              .empty();
}

void LeaseRepo::Release(Tx& tx, const std::string& name, const std::string& holder) {
  tx.raw().exec_prepared("lease.release", name, holder);
}

}  // namespace weft::server::store
