#include "server/store/log_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

namespace {

// The first key of the two-key advisory locks taken by log writers ("WL").
constexpr int kLogLockSpace = 0x574C;

}  // namespace

std::vector<Statement> LogRepoStatements() {
  return {
      {"log.existing_flow_runs", "SELECT id::text FROM flow_runs WHERE id = ANY($1::uuid[])"},
      {"log.flow_run_of_task", "SELECT flow_run_id::text FROM task_runs WHERE id = $1::uuid"},
      {"log.lock_flow_runs",
       "SELECT pg_advisory_xact_lock(" + std::to_string(kLogLockSpace) +
           ", hashtext(f)) FROM unnest($1::text[]) WITH ORDINALITY AS t (f, n) ORDER BY n"},
      {"log.insert",
       "INSERT INTO logs (flow_run_id, task_run_id, task_run_name, level, message, timestamp,"
       " source)"
       " SELECT f, t, tn, l, m, ts, s FROM unnest($1::uuid[], $2::uuid[], $3::text[],"
       " $4::smallint[], $5::text[], $6::timestamptz[], $7::text[])"
       " WITH ORDINALITY AS u (f, t, tn, l, m, ts, s, n) ORDER BY n"},
      {"log.list",
       "SELECT id, flow_run_id::text AS flow_run_id, task_run_id::text AS task_run_id,"
       " task_run_name, level, message, timestamp, source FROM logs"
       " WHERE ($1::text = '' OR flow_run_id = NULLIF($1::text, '')::uuid)"
       " AND ($2::text = '' OR task_run_id = NULLIF($2::text, '')::uuid)"
       " AND ($3::text = '' OR task_run_name = $3::text"
       "      OR (left(task_run_name, length($3::text) + 1) = $3::text || '-'"
       "          AND substr(task_run_name, length($3::text) + 2) ~ '^[0-9]+$'))"
       " AND level >= $4::int AND id > $5::bigint"
       " ORDER BY id LIMIT $6::int"},
  };
}

std::vector<std::string> LogRepo::ExistingFlowRuns(Tx& tx,
                                                   const std::vector<std::string>& flow_run_ids) {
  std::vector<std::string> out;
  auto rows = tx.raw().exec_prepared("log.existing_flow_runs", ArrayLiteral(flow_run_ids));
  for (const auto& r : rows) out.emplace_back(r[0].c_str());
  return out;
}

std::optional<std::string> LogRepo::FlowRunOfTask(Tx& tx, const std::string& task_run_id) {
  auto rows = tx.raw().exec_prepared("log.flow_run_of_task", task_run_id);
  if (rows.empty()) return std::nullopt;
  return std::string(rows[0][0].c_str());
}

void LogRepo::LockFlowRuns(Tx& tx, const std::vector<std::string>& flow_run_ids) {
  if (flow_run_ids.empty()) return;
  tx.raw().exec_prepared("log.lock_flow_runs", ArrayLiteral(flow_run_ids));
}

void LogRepo::Insert(Tx& tx, const std::vector<LogRecord>& lines) {
  if (lines.empty()) return;
  std::vector<std::string> flow_runs, names, levels, messages, times, sources;
  std::vector<std::optional<std::string>> tasks;
  for (const auto& l : lines) {
    flow_runs.push_back(l.flow_run_id);
    tasks.push_back(l.task_run_id.empty() ? std::nullopt : std::optional(l.task_run_id));
    names.push_back(l.task_run_name);
    levels.push_back(std::to_string(l.level));
    messages.push_back(l.message);
    times.push_back(TimeParam(l.timestamp));
    sources.push_back(l.source);
  }
  tx.raw().exec_prepared("log.insert", ArrayLiteral(flow_runs), ArrayLiteral(tasks),
                         ArrayLiteral(names), ArrayLiteral(levels), ArrayLiteral(messages),
                         ArrayLiteral(times), ArrayLiteral(sources));
}

std::vector<LogRecord> LogRepo::List(Tx& tx, const LogQuery& q) {
  std::vector<LogRecord> out;
  auto rows = tx.raw().exec_prepared("log.list", q.flow_run_id, q.task_run_id, q.task_name,
                                     q.min_level, q.after_id, q.limit);
  out.reserve(rows.size());
  for (const auto& r : rows) {
    LogRecord l;
    l.id = r["id"].as<std::int64_t>();
    l.flow_run_id = r["flow_run_id"].c_str();
    l.task_run_id = ReadText(r["task_run_id"]);
    l.task_run_name = ReadText(r["task_run_name"]);
    l.level = r["level"].as<int>();
    l.message = ReadText(r["message"]);
    l.timestamp = ReadTimeOr(r["timestamp"]);
    l.source = ReadText(r["source"]);
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace weft::server::store
