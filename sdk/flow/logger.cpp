// Console logging for runs (spdlog): "04:12:01.123 | INFO    | Task run 'flaky-0' - message".
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>

#include "sdk/client/log_shipper.hpp"
#include "sdk/flow/internal.hpp"

namespace weft {

namespace {

LogLevel LevelFromEnv() {
  const char* env = std::getenv("WEFT_LOG_LEVEL");
  if (!env || !*env) return LogLevel::kInfo;
  std::string v = env;
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "debug" || v == "trace") return LogLevel::kDebug;
  if (v == "warning" || v == "warn") return LogLevel::kWarning;
  if (v == "error" || v == "critical") return LogLevel::kError;
  if (v == "off" || v == "none") return LogLevel::kOff;
  return LogLevel::kInfo;
}

std::atomic<int>& Level() {
  static std::atomic<int> level{static_cast<int>(LevelFromEnv())};
  return level;
}

spdlog::logger& Console() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    auto l = std::make_shared<spdlog::logger>("weft.run", sink);
    l->set_pattern("%H:%M:%S.%e | %^%v%$");
    l->set_level(spdlog::level::trace);  // filtering is ours (LogEnabled)
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

const char* LevelText(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG  ";
    case LogLevel::kInfo:
      return "INFO   ";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR  ";
    case LogLevel::kOff:
      break;
  }
  return "";
}

spdlog::level::level_enum SpdLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarning:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      break;
  }
  return spdlog::level::off;
}

}  // namespace

void SetLogLevel(LogLevel level) { Level().store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(Level().load(std::memory_order_relaxed)); }
bool LogEnabled(LogLevel level) {
  return level != LogLevel::kOff &&
         static_cast<int>(level) >= Level().load(std::memory_order_relaxed);
}

namespace {

std::mutex& ShipperMutex() {
  static std::mutex mu;
  return mu;
}
std::unordered_map<std::string, std::shared_ptr<client::LogShipper>>& Shippers() {
  static std::unordered_map<std::string, std::shared_ptr<client::LogShipper>> shippers;
  return shippers;
}

client::LogLevel ShippedLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return client::LogLevel::kDebug;
    case LogLevel::kWarning:
      return client::LogLevel::kWarning;
    case LogLevel::kError:
      return client::LogLevel::kError;
    default:
      return client::LogLevel::kInfo;
  }
}

}  // namespace

void Logger::Write(LogLevel level, std::string_view message) const {
  if (!LogEnabled(level)) return;
  Console().log(SpdLevel(level), "{} | {} - {}", LevelText(level), prefix_, message);
  if (flow_run_id_.empty()) return;
  std::shared_ptr<client::LogShipper> shipper;
  {
    std::lock_guard lock(ShipperMutex());
    auto& all = Shippers();
    if (auto it = all.find(flow_run_id_); it != all.end()) shipper = it->second;
  }
  if (shipper) {
    shipper->Add(flow_run_id_, task_run_id_, task_run_name_, ShippedLevel(level),
                 std::string(message));
  }
}

namespace detail {
void SetLogShipper(const std::string& flow_run_id, std::shared_ptr<client::LogShipper> shipper) {
  std::lock_guard lock(ShipperMutex());
  if (shipper) {
    Shippers()[flow_run_id] = std::move(shipper);
  } else {
    Shippers().erase(flow_run_id);
  }
}

void WriteConsoleLine(std::string_view line) {
  std::fflush(stdout);
  std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(stderr);
}
}  // namespace detail

}  // namespace weft
