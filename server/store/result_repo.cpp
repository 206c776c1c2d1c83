#include "server/store/result_repo.hpp"

#include <fmt/format.h>

#include "server/store/pg_util.hpp"

namespace weft::server::store {

std::optional<CacheFacts> ResultRepo::Facts(Tx& tx, const std::string& task_run_id) {
  auto r = tx.raw().exec_params(
      "SELECT cache_key, cache_expiration_seconds FROM task_runs WHERE id = $1::uuid",
      task_run_id);
  if (r.empty()) return std::nullopt;
  CacheFacts f;
  f.cache_key = ReadText(r[0][0]);
  f.cache_expiration_seconds = r[0][1].as<double>();
  return f;
}

std::optional<core::orchestration::CachedResult> ResultRepo::FindValid(
    Tx& tx, const std::string& cache_key, const std::string& exclude_task_run_id,
    core::TimePoint now) {
  if (cache_key.empty()) return std::nullopt;
  auto r = tx.raw().exec_params(
      "SELECT task_run_id, result_json, expires FROM task_run_results"
      " WHERE cache_key = $1 AND cache_key <> '' AND source_task_run_id IS NULL"
      " AND result_json IS NOT NULL AND task_run_id <> $2::uuid"
      " AND (expires IS NULL OR expires > $3::timestamptz)"
      " ORDER BY created DESC LIMIT 1",
      cache_key, exclude_task_run_id, TimeParam(now));
  if (r.empty()) return std::nullopt;
  core::orchestration::CachedResult c;
  c.task_run_id = r[0][0].c_str();
  c.result_json = r[0][1].c_str();
  c.expiration = ReadTime(r[0][2]);
  return c;
}

void ResultRepo::Store(Tx& tx, const std::string& task_run_id, const std::string& cache_key,
                       const std::string& result_json, std::optional<core::TimePoint> expiration,
                       core::TimePoint now) {
  tx.raw().exec_params(
      "INSERT INTO task_run_results (task_run_id, cache_key, result_json, size_bytes, expires,"
      " created) VALUES ($1::uuid, $2, $3, $4, $5::timestamptz, $6::timestamptz)"
      " ON CONFLICT (task_run_id) DO UPDATE SET cache_key = EXCLUDED.cache_key,"
      " result_json = EXCLUDED.result_json, size_bytes = EXCLUDED.size_bytes,"
      " source_task_run_id = NULL, expires = EXCLUDED.expires, created = EXCLUDED.created",
      task_run_id, cache_key, result_json, static_cast<std::int64_t>(result_json.size()),
      TimeParam(expiration), TimeParam(now));
}

void ResultRepo::StoreCachedFrom(Tx& tx, const std::string& task_run_id,
                                 const std::string& cache_key,
                                 const core::orchestration::CachedResult& source,
                                 core::TimePoint now) {
  tx.raw().exec_params(
      "INSERT INTO task_run_results (task_run_id, cache_key, result_json, size_bytes,"
      " source_task_run_id, expires, created)"
      " VALUES ($1::uuid, $2, NULL, $3, $4::uuid, $5::timestamptz, $6::timestamptz)"
      " ON CONFLICT (task_run_id) DO NOTHING",
      task_run_id, cache_key, static_cast<std::int64_t>(source.result_json.size()),
      source.task_run_id, TimeParam(source.expiration), TimeParam(now));
}

std::optional<StoredResult> ResultRepo::Get(Tx& tx, const std::string& task_run_id) {
  auto r = tx.raw().exec_params(
      "SELECT COALESCE(r.result_json, s.result_json) AS result_json,"
      " COALESCE(s.size_bytes, r.size_bytes) AS size_bytes, r.created,"
      " r.source_task_run_id FROM task_run_results r"
      " LEFT JOIN task_run_results s ON s.task_run_id = r.source_task_run_id"
      " WHERE r.task_run_id = $1::uuid",
      task_run_id);
  if (r.empty() || r[0]["result_json"].is_null()) return std::nullopt;
  StoredResult out;
  out.result_json = r[0]["result_json"].c_str();
  out.size_bytes = r[0]["size_bytes"].as<std::int64_t>();
  out.created = ReadTimeOr(r[0]["created"]);
  out.source_task_run_id = ReadText(r[0]["source_task_run_id"]);
  return out;
}

void ResultRepo::SetExpirationSeconds(Tx& tx, const std::vector<std::string>& task_run_ids,
                                      const std::vector<double>& seconds) {
  if (task_run_ids.empty()) return;
  std::vector<std::string> secs;
  secs.reserve(seconds.size());
  for (double s : seconds) secs.push_back(fmt::format("{}", s));
  tx.raw().exec_params(
      "UPDATE task_runs t SET cache_expiration_seconds = u.seconds"
      " FROM unnest($1::uuid[], $2::float8[]) AS u(id, seconds) WHERE t.id = u.id",
      ArrayLiteral(task_run_ids), ArrayLiteral(secs));
}

}  // namespace weft::server::store
