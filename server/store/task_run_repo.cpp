#include "server/store/task_run_repo.hpp"

#include <map>
#include <tuple>

#include "server/store/pg_util.hpp"
#include "server/store/run_sql.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

constexpr const char* kPrefix = "task_run";

std::string SelectColumns() {
  return run_sql::FactColumns() +
         ", flow_run_id, task_key, dynamic_key, name, tags, cache_key, created, updated"
         ", task_inputs::text AS task_inputs"  // migrations/0011
         // Results and the cache (migrations/0009): a stored result and its expiry.
         ", (SELECT r.expires FROM task_run_results r WHERE r.task_run_id = task_runs.id)"
         " AS cache_expiration,"
         " EXISTS (SELECT 1 FROM task_run_results r WHERE r.task_run_id = task_runs.id)"
         " AS has_result";
}

TaskRunRecord ReadTaskRun(const pqxx::row& r) {
  TaskRunRecord t;
  t.run = ReadRunFacts(r);
  t.flow_run_id = r["flow_run_id"].c_str();
  t.task_key = r["task_key"].c_str();
  t.dynamic_key = r["dynamic_key"].c_str();
  t.name = r["name"].c_str();
  t.tags = ReadTextArray(r["tags"]);
  t.cache_key = ReadText(r["cache_key"]);
  t.created = ReadTimeOr(r["created"]);
  t.updated = ReadTimeOr(r["updated"]);
  t.cache_expiration = ReadTime(r["cache_expiration"]);
  t.has_result = r["has_result"].as<bool>();
  t.task_inputs_json = ReadText(r["task_inputs"]);
  return t;
}

}  // namespace

std::vector<Statement> TaskRunRepoStatements() {
  std::vector<Statement> v = run_sql::Statements(kPrefix, "task_runs", "task_run_states",
                                                 "task_run_id");
  v.push_back(
      {"task_run.insert_many",
       "WITH input AS ("
       " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],"
       " $6::jsonb[], $7::text[], $8::text[], $9::timestamptz[], $10::jsonb[]) WITH ORDINALITY"
       " AS u(id, flow_run_id, task_key, dynamic_key, name, retry_policy, tags, cache_key,"
       " created, task_inputs, ord))"
       " INSERT INTO task_runs (id, flow_run_id, task_key, dynamic_key, name, retry_policy,"
       " tags, cache_key, created, task_inputs)"
       // `created` is the creator's own time of the first state when it sent one: task runs
       // of a flow run come from one process, possibly over several concurrent batches, and
       // list in the order that process created them. Otherwise clock_timestamp(), which is
       // volatile and so evaluated after the sort, row by row, in report order.
       " SELECT COALESCE(id, gen_random_uuid()), flow_run_id, task_key, dynamic_key, name,"
       " retry_policy, tags::text[], cache_key, COALESCE(created, clock_timestamp()),"
       " task_inputs"
       " FROM input ORDER BY ord"
       " ON CONFLICT DO NOTHING RETURNING id, flow_run_id, task_key, dynamic_key"});
  v.push_back({"task_run.ids_by_key",
               "SELECT u.ord, t.id FROM unnest($1::uuid[], $2::text[], $3::text[])"
               " WITH ORDINALITY AS u(flow_run_id, task_key, dynamic_key, ord)"
               " JOIN task_runs t ON t.flow_run_id = u.flow_run_id AND t.task_key = u.task_key"
               " AND t.dynamic_key = u.dynamic_key"});
  v.push_back({"task_run.flow_runs_of",
               "SELECT id::text AS id, flow_run_id::text AS flow_run_id FROM task_runs"
               " WHERE id = ANY($1::uuid[])"});
  v.push_back({"task_run.get", "SELECT " + SelectColumns() + " FROM task_runs WHERE id = $1::uuid"});
  v.push_back({"task_run.list",
               "SELECT " + SelectColumns() +
                   " FROM task_runs WHERE flow_run_id = $1::uuid"
                   " AND ($2::timestamptz IS NULL OR (created, id) > ($2::timestamptz, $3::uuid))"
                   " ORDER BY created, id LIMIT $4"});
  return v;
}

std::vector<InsertedTaskRun> TaskRunRepo::InsertMany(Tx& tx,
                                                     const std::vector<TaskRunRecord>& runs) {
  std::vector<InsertedTaskRun> out(runs.size());
  if (runs.empty()) return out;
  using Opt = std::optional<std::string>;
  std::vector<Opt> id, flow_run, task_key, dyn, name, retry, tags, cache, created, inputs;
  for (const auto& t : runs) {
    created.push_back(t.created == core::TimePoint{} ? Opt{} : Opt{core::FormatTime(t.created)});
    id.push_back(NullIfEmpty(t.run.id));
    flow_run.push_back(t.flow_run_id);
    task_key.push_back(t.task_key);
    dyn.push_back(t.dynamic_key);
    name.push_back(t.name);
    retry.push_back(RetryPolicyToJson(t.run.retry_policy));
    tags.push_back(ArrayLiteral(t.tags));
    cache.push_back(t.cache_key);
    inputs.push_back(NullIfEmpty(t.task_inputs_json));
  }
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, size_t> first_index;  // key -> first input with it
  for (size_t i = 0; i < runs.size(); ++i) {
    first_index.emplace(Key{runs[i].flow_run_id, runs[i].task_key, runs[i].dynamic_key}, i);
  }
  auto r = tx.raw().exec_prepared("task_run.insert_many", ArrayLiteral(id), ArrayLiteral(flow_run),
                                  ArrayLiteral(task_key), ArrayLiteral(dyn), ArrayLiteral(name),
                                  ArrayLiteral(retry), ArrayLiteral(tags), ArrayLiteral(cache),
                                  ArrayLiteral(created), ArrayLiteral(inputs));
  for (const auto& row : r) {
    Key k{row["flow_run_id"].c_str(), row["task_key"].c_str(), row["dynamic_key"].c_str()};
    auto it = first_index.find(k);
    if (it != first_index.end()) out[it->second] = {row["id"].c_str(), true};
  }
  // The rest conflicted: look their keys up in a new statement (whose snapshot sees rows
  // committed by concurrent creators we waited for).
  std::vector<Opt> lf, lt, ld;
  std::vector<size_t> lookup;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!out[i].id.empty()) continue;
    lookup.push_back(i);
    lf.push_back(runs[i].flow_run_id);
    lt.push_back(runs[i].task_key);
    ld.push_back(runs[i].dynamic_key);
  }
  if (!lookup.empty()) {
    auto found = tx.raw().exec_prepared("task_run.ids_by_key", ArrayLiteral(lf), ArrayLiteral(lt),
                                        ArrayLiteral(ld));
    for (const auto& row : found) {
      size_t ord = row["ord"].as<size_t>();
      if (ord >= 1 && ord <= lookup.size()) out[lookup[ord - 1]].id = row["id"].c_str();
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> TaskRunRepo::FlowRunsOf(
    Tx& tx, const std::vector<std::string>& ids) {
  std::vector<std::pair<std::string, std::string>> out;
  if (ids.empty()) return out;
  for (const auto& row : tx.raw().exec_prepared("task_run.flow_runs_of", ArrayLiteral(ids))) {
    out.emplace_back(row["id"].c_str(), row["flow_run_id"].c_str());
  }
  return out;
}

std::optional<TaskRunRecord> TaskRunRepo::Get(Tx& tx, const std::string& id) {
  auto r = tx.raw().exec_prepared("task_run.get", id);
  if (r.empty()) return std::nullopt;
  return ReadTaskRun(r[0]);
}

std::vector<TaskRunRecord> TaskRunRepo::List(Tx& tx, const std::string& flow_run_id,
                                             const std::optional<Cursor>& after, int limit) {
  std::optional<std::string> t, i;
  if (after) {
    t = core::FormatTime(after->created);
    i = after->id;
  }
  auto r = tx.raw().exec_prepared("task_run.list", flow_run_id, t, i, limit);
  std::vector<TaskRunRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadTaskRun(row));
  return out;
}

std::vector<RunFacts> TaskRunRepo::LockMany(Tx& tx, const std::vector<std::string>& ids) {
  return run_sql::LockMany(tx, kPrefix, ids);
}

std::optional<RunFacts> TaskRunRepo::Lock(Tx& tx, const std::string& id) {
  auto v = run_sql::LockMany(tx, kPrefix, {id});
  if (v.empty()) return std::nullopt;
  return std::move(v.front());
}

void TaskRunRepo::UpdateMany(Tx& tx, const std::vector<RunFacts>& runs) {
  run_sql::UpdateMany(tx, kPrefix, runs);
}

std::vector<std::int64_t> TaskRunRepo::InsertStates(
    Tx& tx, const std::vector<std::pair<std::string, const core::State*>>& rows) {
  return run_sql::InsertStates(tx, kPrefix, rows);
}

std::vector<StateRecord> TaskRunRepo::ListStates(Tx& tx, const std::string& id,
                                            const StatePage& page) {
  return run_sql::ListStates(tx, kPrefix, id, page);
}

}  // namespace weft::server::store
