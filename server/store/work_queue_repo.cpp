#include "server/store/work_queue_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

const char* const kColumns =
    "id, name, description, tags, deployments, runner_types, concurrency_limit, priority,"
    " paused, created, updated";

WorkQueueRecord ReadQueue(const pqxx::row& r) {
  WorkQueueRecord q;
  q.id = r["id"].c_str();
  q.name = r["name"].c_str();
  q.description = ReadText(r["description"]);
  q.tags = ReadTextArray(r["tags"]);
  q.deployments = ReadTextArray(r["deployments"]);
  q.runner_types = ReadTextArray(r["runner_types"]);
  if (!r["concurrency_limit"].is_null()) q.concurrency_limit = r["concurrency_limit"].as<int>();
  q.priority = r["priority"].as<int>();
  q.paused = r["paused"].as<bool>();
  q.created = ReadTimeOr(r["created"]);
  q.updated = ReadTimeOr(r["updated"]);
  return q;
}

std::optional<WorkQueueRecord> One(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return ReadQueue(r[0]);
}

}  // namespace

// The matching rule, on flow_runs fr (+ flows f, deployments d) for the queue in $1..$4:
// $1 name, $2 tags (all required), $3 deployments (empty = any), $4 runner types (empty = any).
// Shared by the preview and the agents' claim (agent_repo.cpp) so that both agree.
std::string QueueMatchSql() {
  return " FROM flow_runs fr JOIN flows f ON f.id = fr.flow_id"
         " LEFT JOIN deployments d ON d.id = fr.deployment_id"
         " WHERE fr.work_queue = $1 AND fr.tags @> $2::text[]"
         " AND (cardinality($3::text[]) = 0"
         "      OR (d.id IS NOT NULL AND f.name || '/' || d.name = ANY($3::text[])))"
         " AND (cardinality($4::text[]) = 0"
         "      OR COALESCE(NULLIF(d.runner->>'type', ''), 'process') = ANY($4::text[]))";
}

std::string QueueDueSql() { return " AND fr.state_type = 'SCHEDULED' AND fr.agent_id IS NULL"; }

std::vector<Statement> WorkQueueRepoStatements() {
  std::string cols = kColumns;
  std::string match = QueueMatchSql();
  return {
      {"work_queue.insert",
       "INSERT INTO work_queues (name, description, tags, deployments, runner_types,"
       " concurrency_limit, priority, paused) VALUES ($1, $2, $3::text[], $4::text[],"
       " $5::text[], $6, $7, $8) ON CONFLICT (name) DO NOTHING RETURNING " +
           cols},
      {"work_queue.get", "SELECT " + cols + " FROM work_queues WHERE name = $1"},
      {"work_queue.lock", "SELECT " + cols + " FROM work_queues WHERE name = $1 FOR UPDATE"},
      {"work_queue.list", "SELECT " + cols +
                              " FROM work_queues WHERE $3::text = '' OR (priority, name) > ($2, $3)"
                              " ORDER BY priority, name LIMIT $1"},
      {"work_queue.update",
       "UPDATE work_queues SET description = $2, tags = $3::text[], deployments = $4::text[],"
       " runner_types = $5::text[], concurrency_limit = $6, priority = $7, paused = $8,"
       " updated = now() WHERE id = $1::uuid RETURNING " +
           cols},
      {"work_queue.delete", "DELETE FROM work_queues WHERE name = $1 RETURNING id"},
      {"work_queue.due_ids", "SELECT fr.id" + match + QueueDueSql() +
                                 " AND fr.state_scheduled_time <= $5::timestamptz"
                                 " ORDER BY fr.state_scheduled_time, fr.id LIMIT $6"},
      {"work_queue.count_due", "SELECT count(*)" + match + QueueDueSql() +
                                   " AND fr.state_scheduled_time <= $5::timestamptz"},
      {"work_queue.count_active",
       "SELECT count(*)" + match + " AND fr.state_type IN ('PENDING', 'RUNNING')"},
  };
}

std::optional<WorkQueueRecord> WorkQueueRepo::Insert(Tx& tx, const WorkQueueRecord& q) {
  return One(tx.raw().exec_prepared(
      "work_queue.insert", q.name, q.description, ArrayLiteral(q.tags), ArrayLiteral(q.deployments),
      ArrayLiteral(q.runner_types), q.concurrency_limit, q.priority, q.paused));
}

std::optional<WorkQueueRecord> WorkQueueRepo::GetByName(Tx& tx, const std::string& name) {
  return One(tx.raw().exec_prepared("work_queue.get", name));
}

std::optional<WorkQueueRecord> WorkQueueRepo::LockByName(Tx& tx, const std::string& name) {
  return One(tx.raw().exec_prepared("work_queue.lock", name));
}

std::vector<WorkQueueRecord> WorkQueueRepo::List(Tx& tx, int after_priority,
                                                 const std::string& after_name, int limit) {
  auto r = tx.raw().exec_prepared("work_queue.list", limit, after_priority, after_name);
  std::vector<WorkQueueRecord> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(ReadQueue(row));
  return out;
}

WorkQueueRecord WorkQueueRepo::Update(Tx& tx, const WorkQueueRecord& q) {
  auto r = tx.raw().exec_prepared("work_queue.update", q.id, q.description, ArrayLiteral(q.tags),
                                  ArrayLiteral(q.deployments), ArrayLiteral(q.runner_types),
                                  q.concurrency_limit, q.priority, q.paused);
  return ReadQueue(r.at(0));
}

bool WorkQueueRepo::Delete(Tx& tx, const std::string& name) {
  return !tx.raw().exec_prepared("work_queue.delete", name).empty();
}

std::vector<std::string> WorkQueueRepo::DueRunIds(Tx& tx, const WorkQueueRecord& q,
                                                  core::TimePoint until, int limit) {
  auto r = tx.raw().exec_prepared("work_queue.due_ids", q.name, ArrayLiteral(q.tags),
                                  ArrayLiteral(q.deployments), ArrayLiteral(q.runner_types),
                                  TimeParam(until), limit);
  std::vector<std::string> out;
  out.reserve(r.size());
  for (const auto& row : r) out.emplace_back(row[0].c_str());
  return out;
}

int WorkQueueRepo::CountDue(Tx& tx, const WorkQueueRecord& q, core::TimePoint until) {
  return tx.raw()
      .exec_prepared1("work_queue.count_due", q.name, ArrayLiteral(q.tags),
                      ArrayLiteral(q.deployments), ArrayLiteral(q.runner_types),
                      TimeParam(until))[0]
      .as<int>();
}

int WorkQueueRepo::CountActive(Tx& tx, const WorkQueueRecord& q) {
  return tx.raw()
      .exec_prepared1("work_queue.count_active", q.name, ArrayLiteral(q.tags),
                      ArrayLiteral(q.deployments), ArrayLiteral(q.runner_types))[0]
      .as<int>();
}

}  // namespace weft::server::store
