#pragma once
// Task run results (one row per task run, migrations/0009) and the cache lookup.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/time.hpp"
#include "server/store/database.hpp"

namespace weft::server::store {

struct StoredResult {
  std::string result_json;
  std::int64_t size_bytes = 0;
  core::TimePoint created{};
  std::string source_task_run_id;  // a Cached run: whose result this is ("" = its own)
};

// What the cache needs to know about a task run.
struct CacheFacts {
  std::string cache_key;                    // "" = not cached
  double cache_expiration_seconds = 0;      // 0 = a stored result never expires
};

// Methods throw database exceptions; Database::WithTransaction translates them.
class ResultRepo {
 public:
  // The run's cache key and expiration setting (none: unknown run).
  static std::optional<CacheFacts> Facts(Tx& tx, const std::string& task_run_id);
  // The newest result stored under `cache_key` by a non-Cached run other than
  // `exclude_task_run_id` whose expiration is after `now`.
  static std::optional<core::orchestration::CachedResult> FindValid(
      Tx& tx, const std::string& cache_key, const std::string& exclude_task_run_id,
      core::TimePoint now);
  // Stores (or replaces) a run's own result.
  static void Store(Tx& tx, const std::string& task_run_id, const std::string& cache_key,
                    const std::string& result_json, std::optional<core::TimePoint> expiration,
                    core::TimePoint now);
  // Records that a run was answered Cached with `source_task_run_id`'s result.
  static void StoreCachedFrom(Tx& tx, const std::string& task_run_id, const std::string& cache_key,
                              const core::orchestration::CachedResult& source,
                              core::TimePoint now);
  // The run's result (a Cached run's is its source's); none when nothing is stored.
  static std::optional<StoredResult> Get(Tx& tx, const std::string& task_run_id);
  // Sets cache_expiration_seconds on newly created runs.
  static void SetExpirationSeconds(Tx& tx, const std::vector<std::string>& task_run_ids,
                                   const std::vector<double>& seconds);
};

}  // namespace weft::server::store
