#pragma once
// LogShipper: ships log lines of flow runs to the server (LogService.WriteLogs) from a
// background thread. Add() never blocks on the network: lines go into a bounded buffer
// (default 10,000 lines; when full the oldest are dropped, counted per flow run, and one
// marker line "…N log lines dropped" is shipped in their place). A batch leaves every
// 200 ms or as soon as 500 lines wait, and never exceeds the server's limits (1000 lines,
// 1 MiB). Transient errors (server restarting) are retried with backoff; other errors drop
// the batch and are reported once through `on_error`.
// Used by the flow runtime (sdk/flow: the run logger) and by the agent (captured
// stdout/stderr of the flow processes it starts).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "sdk/core/time.hpp"

namespace weft::client {

class Client;

// The numbers of weft.v1.LogLevel (Python's).
enum class LogLevel { kDebug = 10, kInfo = 20, kWarning = 30, kError = 40, kCritical = 50 };

struct LogShipperOptions {
  std::size_t capacity = 10000;                   // lines buffered; beyond: drop the oldest
  std::size_t batch_lines = 500;                  // send at once when this many wait
  std::size_t batch_bytes = 900 * 1024;           // message bytes per WriteLogs call
  std::chrono::milliseconds interval{200};        // otherwise send this often
  std::size_t max_line_bytes = 16 * 1024;         // longer lines are cut to this, marker included
  std::chrono::milliseconds close_timeout{5000};  // the destructor's Flush bound
  // Called (from the shipper's thread) with a one-line description of a problem; default:
  // a line on stderr. The first failure of a kind is reported, not every retry.
  std::function<void(const std::string&)> on_error;
};

struct LogShipperStats {
  std::uint64_t added = 0;
  std::uint64_t sent = 0;     // accepted by the server
  std::uint64_t dropped = 0;  // buffer overflow
  std::uint64_t failed = 0;   // refused by the server or given up on
};

class LogShipper {
 public:
  // `client` must outlive the shipper.
  explicit LogShipper(Client& client, LogShipperOptions options = {});
  // Flushes (bounded by options.close_timeout), then stops the thread.
  ~LogShipper();
  LogShipper(const LogShipper&) = delete;
  LogShipper& operator=(const LogShipper&) = delete;

  // Queues one line. Thread-safe; never blocks on the network. `task_run_id` "" = the flow
  // run's own line; `source` "sdk", "stdout" or "stderr"; timestamp {} = now. Invalid
  // UTF-8 is replaced (U+FFFD) and lines longer than max_line_bytes are cut here.
  void Add(std::string flow_run_id, std::string task_run_id, std::string task_run_name,
           LogLevel level, std::string message, std::string source = "sdk",
           core::TimePoint timestamp = {});

  // Blocks until every line added before the call was sent (or dropped or given up on),
  // at most `timeout`. True when it got there.
  bool Flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  LogShipperStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits captured output (chunks as read from a pipe) into lines for LogShipper::Add: "\n"
// ends a line and a "\r" before it is dropped; a line longer than `max_bytes` is emitted in
// pieces of at most that size (cut at a UTF-8 character boundary), so nothing is lost.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_bytes = 16 * 1024 - 64) : max_(max_bytes) {}
  // Appends `data`; calls `emit` with each completed line (without its "\n").
  void Feed(std::string_view data, const std::function<void(std::string)>& emit);
  // Emits the rest (a last line without "\n"), if any.
  void Finish(const std::function<void(std::string)>& emit);

 private:
  std::string partial_;
  std::size_t max_;
};

// Replaces invalid UTF-8 by U+FFFD and NUL by U+2400 (protobuf strings and PostgreSQL
// text need valid UTF-8 without NUL).
std::string SanitizeUtf8(std::string_view text);

// True for a console line printed by the SDK's run logger ("12:00:01.123 | INFO    | ..."):
// an agent that captures a flow's stderr skips these, since the SDK ships them itself.
bool IsSdkConsoleLine(std::string_view line);

}  // namespace weft::client
