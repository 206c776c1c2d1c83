#pragma once
// Logs (domain): validation, size limits, batched inserts and paging. No gRPC or pqxx types.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/core/error.hpp"
#include "sdk/core/time.hpp"
#include "server/store/database.hpp"
#include "server/store/log_repo.hpp"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::orchestration {

struct LogLimits {
  std::size_t max_line_bytes = 16 * 1024;          // longer messages are cut (with a marker)
  std::size_t max_batch_lines = 1000;              // a bigger batch is refused
  std::size_t max_batch_bytes = 1024 * 1024;       // sum of the messages; a bigger batch is refused
  std::size_t max_answer_bytes = 2 * 1024 * 1024;  // a ListLogs answer stops here (more=true)
  int default_list_limit = 1000;
  int max_list_limit = 5000;
};

struct LogWriteResult {
  int written = 0;
  int cut = 0;
};

struct LogPage {
  std::vector<store::LogRecord> lines;
  std::int64_t next_after_id = 0;
  bool more = false;
};

// Replaces invalid UTF-8 sequences by U+FFFD and NUL bytes by U+2400 (PostgreSQL text
// holds neither).
std::string SanitizeLogText(std::string_view text);
// Cuts `message` to `max_bytes` (at a character boundary) and appends " …[cut N bytes]";
// true when it did.
bool CutLogMessage(std::string& message, std::size_t max_bytes);
// 10/20/30/40/50 -> "DEBUG".."CRITICAL"; "" for anything else.
std::string LogLevelName(int level);

class LogService {
 public:
  LogService(store::Database& db, const core::Clock& clock, std::shared_ptr<spdlog::logger> logger,
             LogLimits limits = {});

  const LogLimits& limits() const { return limits_; }

  // All lines or none. INVALID_ARGUMENT naming the field or the limit; NOT_FOUND naming an
  // unknown flow run. Level 0 is stored as 20 (INFO), source "" as "sdk", an unset timestamp
  // as now.
  core::Result<LogWriteResult> Write(std::vector<store::LogRecord> lines);
  // flow_run_id or task_run_id is required (NOT_FOUND when unknown); limit 0 = the default.
  core::Result<LogPage> List(store::LogQuery query);

 private:
  store::Database& db_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> logger_;
  LogLimits limits_;
};

}  // namespace weft::server::orchestration
