#include "cli/commands/logs.hpp"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include "sdk/client/convert.hpp"
#include "sdk/core/state.hpp"

namespace weft::cli {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(250);
// After the run is over, keep reading until its final state is this old (lines shipped
// just after the final state: the last log line, a flow process's last output).
constexpr auto kDrainAfterEnd = std::chrono::seconds(2);

std::optional<v1::LogLevel> ParseLevel(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (text == "debug") return v1::LOG_LEVEL_DEBUG;
  if (text == "info") return v1::LOG_LEVEL_INFO;
  if (text == "warning" || text == "warn") return v1::LOG_LEVEL_WARNING;
  if (text == "error") return v1::LOG_LEVEL_ERROR;
  if (text == "critical") return v1::LOG_LEVEL_CRITICAL;
  return std::nullopt;
}

const char* LevelName(v1::LogLevel level) {
  switch (level) {
    case v1::LOG_LEVEL_DEBUG:
      return "DEBUG";
    case v1::LOG_LEVEL_WARNING:
      return "WARNING";
    case v1::LOG_LEVEL_ERROR:
      return "ERROR";
    case v1::LOG_LEVEL_CRITICAL:
      return "CRITICAL";
    default:
      return "INFO";
  }
}

// "2026-11-26 04:52:01.123" (UTC)
std::string LineTime(const google::protobuf::Timestamp& t) {
  std::time_t secs = static_cast<std::time_t>(t.seconds());
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:03}", buf, t.nanos() / 1000000);
}

void PrintLine(const Globals& g, const v1::LogLine& l, const std::string& flow_run_name) {
  if (g.format == Format::kJson) {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    options.always_print_primitive_fields = true;
    std::string text;
    if (google::protobuf::util::MessageToJsonString(l, &text, options).ok()) {
      std::cout << text << '\n';
    }
    return;
  }
  std::string name = l.task_run_name().empty() ? flow_run_name : l.task_run_name();
  if (!l.source().empty() && l.source() != "sdk") name += " [" + l.source() + "]";
  std::cout << LineTime(l.timestamp()) << " | " << fmt::format("{:<8}", LevelName(l.level()))
            << " | " << name << " | " << l.message() << '\n';
}

// The run's state when it is over; nullopt while it runs. An error ends the command.
using EndCheck = std::function<core::Result<std::optional<core::State>>()>;

int Stream(const Globals& g, client::Client& c, v1::ListLogsRequest req, const LogsOptions& o,
           const std::string& flow_run_name, const EndCheck& ended) {
  if (!o.level.empty()) {
    auto level = ParseLevel(o.level);
    if (!level) {
      return Fail("--level: expected debug, info, warning, error or critical, got \"" + o.level +
                  "\"");
    }
    req.set_min_level(*level);
  }
  if (o.limit < 0) return Fail("--limit: must be >= 0");
  long printed = 0;
  std::optional<std::chrono::steady_clock::time_point> drain_until;
  for (;;) {
    if (o.limit > 0) req.set_limit(static_cast<int>(std::min<long>(1000, o.limit - printed)));
    auto page = c.ListLogs(req);
    if (!page) return Fail(page.error());
    for (const auto& l : page->lines()) PrintLine(g, l, flow_run_name);
    std::cout << std::flush;
    printed += page->lines_size();
    req.set_after_id(page->next_after_id());
    if (o.limit > 0 && printed >= o.limit) return 0;
    if (page->more()) continue;
    if (!o.follow) return 0;
    auto now = std::chrono::steady_clock::now();
    if (drain_until) {
      if (page->lines_size() == 0 && now >= *drain_until) return 0;
    } else {
      auto end = ended();
      if (!end) return Fail(end.error());
      if (*end) {
        // Lines may still arrive shortly after the final state: read until it is a little
        // while old (at once for a run that ended long ago).
        auto age = std::chrono::system_clock::now() - (*end)->timestamp;
        auto left =
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(kDrainAfterEnd - age);
        drain_until = now + std::max(left, std::chrono::steady_clock::duration::zero());
        continue;  // one more read right away
      }
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

int FlowRunLogs(const Globals& g, const LogsOptions& o) {
  client::Client c(g.api);
  v1::GetFlowRunRequest gr;
  gr.set_id(o.id);
  auto run = c.GetFlowRun(gr);
  if (!run) return Fail(run.error());
  v1::ListLogsRequest req;
  req.set_flow_run_id(run->flow_run().id());
  req.set_task_name(o.task);
  std::string name = run->flow_run().name().empty() ? o.id : run->flow_run().name();
  EndCheck ended = [&]() -> core::Result<std::optional<core::State>> {
    auto r = c.GetFlowRun(gr);
    if (!r) return r.error();
    auto s = client::FromProto(r->flow_run().state());
    if (s && s->IsTerminal()) return std::optional<core::State>(*s);
    return std::optional<core::State>();
  };
  return Stream(g, c, req, o, name, ended);
}

int TaskRunLogs(const Globals& g, const LogsOptions& o) {
  client::Client c(g.api);
  v1::GetTaskRunRequest gr;
  gr.set_id(o.id);
  auto run = c.GetTaskRun(gr);
  if (!run) return Fail(run.error());
  v1::ListLogsRequest req;
  req.set_task_run_id(run->task_run().id());
  EndCheck ended = [&]() -> core::Result<std::optional<core::State>> {
    auto r = c.GetTaskRun(gr);
    if (!r) return r.error();
    auto s = client::FromProto(r->task_run().state());
    if (s && s->IsTerminal()) return std::optional<core::State>(*s);
    return std::optional<core::State>();
  };
  return Stream(g, c, req, o, run->task_run().name(), ended);
}

}  // namespace weft::cli
