#include "server/store/run_sql.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store::run_sql {

namespace {

const char* const kFactColumns[] = {
    "id",         "state_id",           "state_type",          "state_name",
    "state_timestamp", "state_message", "state_details",       "state_scheduled_time",
    "state_idempotency_key", "run_count", "retry_policy",      "expected_start_time",
    "start_time", "end_time",           "total_run_time"};

}  // namespace

std::string FactColumns(const std::string& alias) {
  std::string out;
  for (const char* c : kFactColumns) {
    if (!out.empty()) out += ", ";
    if (!alias.empty()) out += alias + ".";
    out += c;
  }
  return out;
}

std::vector<Statement> Statements(const std::string& prefix, const std::string& table,
                                  const std::string& states_table, const std::string& fk) {
  std::vector<Statement> v;
  // FOR NO KEY UPDATE: serializes state changes of a run without blocking the inserts of
  // rows that reference it (task runs of a flow run take FOR KEY SHARE through their FK).
  v.push_back({prefix + ".lock_many", "SELECT " + FactColumns() + " FROM " + table +
                                          " WHERE id = ANY($1::uuid[]) ORDER BY id"
                                          " FOR NO KEY UPDATE"});
  v.push_back(
      {prefix + ".update_many",
       "UPDATE " + table +
           " AS r SET state_id = u.state_id, state_type = u.state_type, state_name = u.state_name,"
           " state_timestamp = u.state_timestamp, state_message = u.state_message,"
           " state_details = u.state_details, state_scheduled_time = u.state_scheduled_time,"
           " state_idempotency_key = u.state_idempotency_key, run_count = u.run_count,"
           " expected_start_time = u.expected_start_time, start_time = u.start_time,"
           " end_time = u.end_time, total_run_time = u.total_run_time, updated = now()"
           " FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[],"
           " $6::text[], $7::jsonb[], $8::timestamptz[], $9::text[], $10::int[],"
           " $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::float8[])"
           " AS u(id, state_id, state_type, state_name, state_timestamp, state_message,"
           " state_details, state_scheduled_time, state_idempotency_key, run_count,"
           " expected_start_time, start_time, end_time, total_run_time)"
           " WHERE r.id = u.id"});
  v.push_back({prefix + ".insert_states",
               "INSERT INTO " + states_table + " (" + fk +
                   ", type, name, timestamp, message, details, scheduled_time, idempotency_key)"
                   " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[],"
                   " $4::timestamptz[], $5::text[], $6::jsonb[], $7::timestamptz[], $8::text[])"
                   " RETURNING id"});
  const std::string state_columns =
      "SELECT id, type, name, timestamp, message, details, scheduled_time, idempotency_key FROM ";
  v.push_back({prefix + ".list_states",
               state_columns + states_table + " WHERE " + fk +
                   " = $1::uuid AND id > $2::bigint ORDER BY id LIMIT $3::int"});
  v.push_back({prefix + ".list_states_newest",
               state_columns + states_table + " WHERE " + fk +
                   " = $1::uuid AND ($2::bigint = 0 OR id < $2::bigint) ORDER BY id DESC"
                   " LIMIT $3::int"});
  return v;
}

std::vector<RunFacts> LockMany(Tx& tx, const std::string& prefix,
                               const std::vector<std::string>& ids) {
  std::vector<RunFacts> out;
  if (ids.empty()) return out;
  auto r = tx.raw().exec_prepared(prefix + ".lock_many", ArrayLiteral(ids));
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadRunFacts(row));
  return out;
}

void UpdateMany(Tx& tx, const std::string& prefix, const std::vector<RunFacts>& runs) {
  if (runs.empty()) return;
  using Opt = std::optional<std::string>;
  std::vector<Opt> id, state_id, type, name, ts, msg, details, sched, ikey, run_count, expected,
      start, end, total;
  for (const RunFacts& f : runs) {
    id.push_back(f.id);
    state_id.push_back(f.state_id ? Opt(std::to_string(f.state_id)) : std::nullopt);
    if (f.state) {
      type.push_back(core::StateTypeName(f.state->type));
      name.push_back(f.state->name);
      ts.push_back(core::FormatTime(f.state->timestamp));
      msg.push_back(f.state->message);
      details.push_back(NullIfEmpty(f.state->details_json));
      sched.push_back(TimeParam(f.state->scheduled_time));
      ikey.push_back(f.state->idempotency_key);
    } else {
      type.push_back(std::nullopt);
      name.push_back(std::nullopt);
      ts.push_back(std::nullopt);
      msg.push_back(std::string());
      details.push_back(std::nullopt);
      sched.push_back(std::nullopt);
      ikey.push_back(std::string());
    }
    run_count.push_back(std::to_string(f.run_count));
    expected.push_back(TimeParam(f.expected_start_time));
    start.push_back(TimeParam(f.start_time));
    end.push_back(TimeParam(f.end_time));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", f.total_run_time);
    total.push_back(std::string(buf));
  }
  tx.raw().exec_prepared(prefix + ".update_many", ArrayLiteral(id), ArrayLiteral(state_id),
                         ArrayLiteral(type), ArrayLiteral(name), ArrayLiteral(ts),
                         ArrayLiteral(msg), ArrayLiteral(details), ArrayLiteral(sched),
                         ArrayLiteral(ikey), ArrayLiteral(run_count), ArrayLiteral(expected),
                         ArrayLiteral(start), ArrayLiteral(end), ArrayLiteral(total));
}

std::vector<std::int64_t> InsertStates(
    Tx& tx, const std::string& prefix,
    const std::vector<std::pair<std::string, const core::State*>>& rows) {
  std::vector<std::int64_t> ids;
  if (rows.empty()) return ids;
  using Opt = std::optional<std::string>;
  std::vector<Opt> run, type, name, ts, msg, details, sched, ikey;
  for (const auto& [run_id, s] : rows) {
    run.push_back(run_id);
    type.push_back(core::StateTypeName(s->type));
    name.push_back(s->name.empty() ? std::string(core::DefaultStateName(s->type)) : s->name);
    ts.push_back(core::FormatTime(s->timestamp));
    msg.push_back(s->message);
    details.push_back(NullIfEmpty(s->details_json));
    sched.push_back(TimeParam(s->scheduled_time));
    ikey.push_back(s->idempotency_key);
  }
  auto r = tx.raw().exec_prepared(prefix + ".insert_states", ArrayLiteral(run),
                                  ArrayLiteral(type), ArrayLiteral(name), ArrayLiteral(ts),
                                  ArrayLiteral(msg), ArrayLiteral(details), ArrayLiteral(sched),
                                  ArrayLiteral(ikey));
  ids.reserve(r.size());
  for (const auto& row : r) ids.push_back(row[0].as<std::int64_t>());
  return ids;
}

std::vector<StateRecord> ListStates(Tx& tx, const std::string& prefix, const std::string& id,
                                   const StatePage& page) {
  std::vector<StateRecord> out;
  std::optional<int> limit;
  if (page.limit > 0) limit = page.limit;
  auto r = tx.raw().exec_prepared(
      prefix + (page.newest_first ? ".list_states_newest" : ".list_states"), id, page.cursor,
      limit);
  out.reserve(r.size());
  for (const auto& row : r) out.push_back({row["id"].as<std::int64_t>(), ReadHistoryState(row)});
  return out;
}

}  // namespace weft::server::store::run_sql
