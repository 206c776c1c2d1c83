#include "server/orchestration/log_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "server/orchestration/validate.hpp"
#include "sdk/core/text.hpp"

namespace weft::server::orchestration {

namespace {

bool ValidLevel(int level) {
  return level == 10 || level == 20 || level == 30 || level == 40 || level == 50;
}

std::string RunNotFound(const std::string& id) { return "flow run " + id + " not found"; }

}  // namespace

std::string SanitizeLogText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0') {
      out += "\xE2\x90\x80";  // U+2400 SYMBOL FOR NULL
      ++i;
      continue;
    }
    std::size_t n = core::Utf8SequenceLength(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

bool CutLogMessage(std::string& message, std::size_t max_bytes) {
  if (message.size() <= max_bytes) return false;
  std::size_t keep = max_bytes;
  // Back up to a character boundary (never inside a multi-byte sequence).
  while (keep > 0 && (static_cast<unsigned char>(message[keep]) & 0xC0) == 0x80) --keep;
  std::size_t cut = message.size() - keep;
  message.resize(keep);
  message += fmt::format(" \xE2\x80\xA6[cut {} bytes]", cut);
  return true;
}

std::string LogLevelName(int level) {
  switch (level) {
    case 10:
      return "DEBUG";
    case 20:
      return "INFO";
    case 30:
      return "WARNING";
    case 40:
      return "ERROR";
    case 50:
      return "CRITICAL";
    default:
      return "";
  }
}

LogService::LogService(store::Database& db, const core::Clock& clock,
                       std::shared_ptr<spdlog::logger> logger, LogLimits limits)
    : db_(db), clock_(clock), logger_(std::move(logger)), limits_(limits) {
  if (!logger_) logger_ = spdlog::default_logger();
}

core::Result<LogWriteResult> LogService::Write(std::vector<store::LogRecord> lines) {
  LogWriteResult result;
  if (lines.empty()) return result;
  if (lines.size() > limits_.max_batch_lines) {
    return core::InvalidArgument(
        fmt::format("lines: {} lines in one batch; the limit is {} per batch (split the batch)",
                    lines.size(), limits_.max_batch_lines));
  }
  std::size_t bytes = 0;
  for (const auto& l : lines) bytes += l.message.size();
  if (bytes > limits_.max_batch_bytes) {
    return core::InvalidArgument(fmt::format(
        "lines: {} bytes of messages in one batch; the limit is {} bytes (1 MiB) per batch "
        "(split the batch)",
        bytes, limits_.max_batch_bytes));
  }
  core::TimePoint now = clock_.Now();
  std::set<std::string> flow_runs;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto& l = lines[i];
    std::string field = fmt::format("lines[{}]", i);
    if (l.flow_run_id.empty()) return core::InvalidArgument(field + ".flow_run_id: required");
    if (!IsUuid(l.flow_run_id)) return core::NotFound(RunNotFound(l.flow_run_id));
    l.flow_run_id = NormalizeUuid(l.flow_run_id);
    if (!l.task_run_id.empty()) {
      if (!IsUuid(l.task_run_id)) {
        return core::InvalidArgument(field + ".task_run_id: \"" + l.task_run_id +
                                     "\" is not a UUID");
      }
      l.task_run_id = NormalizeUuid(l.task_run_id);
    }
    if (l.level == 0) l.level = 20;
    if (!ValidLevel(l.level)) {
      return core::InvalidArgument(fmt::format(
          "{}.level: {} is not a level (DEBUG, INFO, WARNING, ERROR, CRITICAL)", field, l.level));
    }
    if (l.source.empty()) l.source = "sdk";
    if (l.source != "sdk" && l.source != "stdout" && l.source != "stderr") {
      return core::InvalidArgument(field + ".source: must be sdk, stdout or stderr, got \"" +
                                   l.source + "\"");
    }
    if (l.timestamp == core::TimePoint{}) l.timestamp = now;
    l.message = SanitizeLogText(l.message);
    l.task_run_name = SanitizeLogText(l.task_run_name);
    if (l.task_run_name.size() > 200) CutLogMessage(l.task_run_name, 200);
    if (CutLogMessage(l.message, limits_.max_line_bytes)) ++result.cut;
    flow_runs.insert(l.flow_run_id);
  }
  std::vector<std::string> ids(flow_runs.begin(), flow_runs.end());  // sorted: lock order
  auto st = db_.WithRetry([&](store::Tx& tx) -> core::Status {
    auto existing = store::LogRepo::ExistingFlowRuns(tx, ids);
    if (existing.size() != ids.size()) {
      std::set<std::string> found(existing.begin(), existing.end());
      for (const auto& id : ids) {
        if (!found.count(id)) return core::NotFound(RunNotFound(id));
      }
    }
    store::LogRepo::LockFlowRuns(tx, ids);
    store::LogRepo::Insert(tx, lines);
    return {};
  });
  if (!st.ok()) return st.error();
  result.written = static_cast<int>(lines.size());
  return result;
}

core::Result<LogPage> LogService::List(store::LogQuery q) {
  if (q.flow_run_id.empty() && q.task_run_id.empty()) {
    return core::InvalidArgument("flow_run_id: required (or task_run_id)");
  }
  if (!q.flow_run_id.empty()) {
    if (!IsUuid(q.flow_run_id)) return core::NotFound(RunNotFound(q.flow_run_id));
    q.flow_run_id = NormalizeUuid(q.flow_run_id);
  }
  if (!q.task_run_id.empty()) {
    if (!IsUuid(q.task_run_id)) {
      return core::NotFound("task run " + q.task_run_id + " not found");
    }
    q.task_run_id = NormalizeUuid(q.task_run_id);
  }
  if (q.limit < 0) return core::InvalidArgument("limit: must be >= 0");
  if (q.after_id < 0) return core::InvalidArgument("after_id: must be >= 0");
  if (q.min_level != 0 && !ValidLevel(q.min_level)) {
    return core::InvalidArgument(fmt::format(
        "min_level: {} is not a level (DEBUG, INFO, WARNING, ERROR, CRITICAL)", q.min_level));
  }
  int limit = q.limit == 0 ? limits_.default_list_limit : std::min(q.limit, limits_.max_list_limit);
  q.limit = limit + 1;
  return db_.WithTransaction([&](store::Tx& tx) -> core::Result<LogPage> {
    if (!q.flow_run_id.empty()) {
      if (store::LogRepo::ExistingFlowRuns(tx, {q.flow_run_id}).empty()) {
        return core::NotFound(RunNotFound(q.flow_run_id));
      }
    } else {
      auto fr = store::LogRepo::FlowRunOfTask(tx, q.task_run_id);
      if (!fr) return core::NotFound("task run " + q.task_run_id + " not found");
      q.flow_run_id = *fr;  // serves the query from the flow run's index
    }
    LogPage page;
    page.lines = store::LogRepo::List(tx, q);
    page.more = static_cast<int>(page.lines.size()) > limit;
    if (page.more) page.lines.resize(static_cast<std::size_t>(limit));
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < page.lines.size(); ++i) {
      bytes += page.lines[i].message.size() + 128;
      if (bytes > limits_.max_answer_bytes && i > 0) {
        page.lines.resize(i);
        page.more = true;
        break;
      }
    }
    page.next_after_id = page.lines.empty() ? q.after_id : page.lines.back().id;
    return page;
  });
}

}  // namespace weft::server::orchestration
