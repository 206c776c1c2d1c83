#include "sdk/client/log_shipper.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "sdk/client/client.hpp"
#include "sdk/client/convert.hpp"
#include "sdk/core/text.hpp"
#include "weft/v1/logs.pb.h"

namespace weft::client {

namespace {

// Cuts so that the line, marker included, stays within max_bytes (the server then keeps it
// as it is).
void CutMessage(std::string& message, std::size_t max_bytes) {
  if (message.size() <= max_bytes) return;
  constexpr std::size_t kMarkerRoom = 32;  // " …[cut N bytes]"
  std::size_t keep = max_bytes > kMarkerRoom ? max_bytes - kMarkerRoom : 0;
  while (keep > 0 && (static_cast<unsigned char>(message[keep]) & 0xC0) == 0x80) --keep;
  std::size_t cut = message.size() - keep;
  message.resize(keep);
  message += fmt::format(" \xE2\x80\xA6[cut {} bytes]", cut);
}

bool Transient(core::Code code) {
  return code == core::Code::kUnavailable || code == core::Code::kDeadlineExceeded ||
         code == core::Code::kAborted || code == core::Code::kResourceExhausted;
}

struct Entry {
  std::uint64_t seq = 0;
  v1::LogLine line;
};

}  // namespace

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0') {
      out += "\xE2\x90\x80";
      ++i;
      continue;
    }
    std::size_t n = core::Utf8SequenceLength(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

void LineSplitter::Feed(std::string_view data, const std::function<void(std::string)>& emit) {
  std::size_t max = std::max<std::size_t>(max_, 4);
  while (!data.empty()) {
    auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(data);
      data = {};
    } else {
      partial_.append(data.substr(0, nl));
      data.remove_prefix(nl + 1);
      if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
      while (partial_.size() > max) {
        std::size_t keep = max;
        while (keep > 1 && (static_cast<unsigned char>(partial_[keep]) & 0xC0) == 0x80) --keep;
        emit(partial_.substr(0, keep));
        partial_.erase(0, keep);
      }
      emit(std::move(partial_));
      partial_.clear();
      continue;
    }
    // No newline yet: emit full pieces of an overlong line now, keep the rest.
    while (partial_.size() > max) {
      std::size_t keep = max;
      while (keep > 1 && (static_cast<unsigned char>(partial_[keep]) & 0xC0) == 0x80) --keep;
      emit(partial_.substr(0, keep));
      partial_.erase(0, keep);
    }
  }
}

void LineSplitter::Finish(const std::function<void(std::string)>& emit) {
  if (partial_.empty()) return;
  if (partial_.back() == '\r') partial_.pop_back();
  Feed("\n", emit);
}

bool IsSdkConsoleLine(std::string_view line) {
  // "HH:MM:SS.mmm | " then an optional colour escape, then a padded level and " | ".
  if (line.size() < 15) return false;
  static constexpr std::string_view kShape = "dd:dd:dd.ddd | ";
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    char want = kShape[i];
    char c = line[i];
    if (want == 'd' ? !(c >= '0' && c <= '9') : c != want) return false;
  }
  std::string_view rest = line.substr(kShape.size());
  if (!rest.empty() && rest[0] == '\x1b') {
    auto m = rest.find('m');
    if (m == std::string_view::npos) return false;
    rest = rest.substr(m + 1);
  }
  for (std::string_view level : {"DEBUG   | ", "INFO    | ", "WARNING | ", "ERROR   | "}) {
    if (rest.substr(0, level.size()) == level) return true;
  }
  return false;
}

struct LogShipper::Impl {
  Client& client;
  LogShipperOptions opt;
  mutable std::mutex mu;
  std::condition_variable cv;       // wakes the sender
  std::condition_variable done_cv;  // wakes flushers
  std::deque<Entry> queue;
  std::map<std::string, std::uint64_t> dropped_by_run;  // since the last marker
  std::uint64_t next_seq = 1;
  bool in_flight = false;
  std::uint64_t in_flight_first = 0;
  int flush_requests = 0;
  bool stop = false;
  bool disabled = false;  // the server has no LogService
  LogShipperStats stats;
  std::set<std::string> reported;
  std::thread thread;

  Impl(Client& c, LogShipperOptions o) : client(c), opt(std::move(o)) {
    if (opt.capacity == 0) opt.capacity = 1;
    if (opt.batch_lines == 0 || opt.batch_lines > 1000)
      opt.batch_lines = std::min<std::size_t>(std::max<std::size_t>(opt.batch_lines, 1), 1000);
    if (opt.batch_bytes == 0 || opt.batch_bytes > 1000 * 1024) opt.batch_bytes = 900 * 1024;
    if (opt.max_line_bytes == 0 || opt.max_line_bytes > 16 * 1024) opt.max_line_bytes = 16 * 1024;
  }

  void Report(const std::string& kind, const std::string& message) {
    {
      std::lock_guard lock(mu);
      if (!reported.insert(kind).second) return;
    }
    if (opt.on_error) {
      opt.on_error(message);
    } else {
      std::fprintf(stderr, "weft: log shipping: %s\n", message.c_str());
      std::fflush(stderr);
    }
  }

  bool Done(std::uint64_t target) const {
    return (!in_flight || in_flight_first > target) &&
           (queue.empty() || queue.front().seq > target);
  }

  // Sends one request; on a refusal of a batch that spans several flow runs, sends each
  // flow run's lines on their own so one deleted run does not take the others down.
  // Returns how many lines the server accepted. Called without the lock.
  std::uint64_t Send(const v1::WriteLogsRequest& req, bool split_on_refusal) {
    std::chrono::milliseconds delay(200);
    for (;;) {
      auto r = client.WriteLogs(req);
      if (r.ok()) return static_cast<std::uint64_t>(req.lines_size());
      const core::Error& e = r.error();
      if (e.code == core::Code::kUnimplemented) {
        Report("unimplemented", "the server has no LogService; logs are not shipped");
        std::lock_guard lock(mu);
        disabled = true;
        stats.dropped += queue.size();
        queue.clear();
        dropped_by_run.clear();
        return 0;
      }
      if (Transient(e.code)) {
        Report("transient", "server unavailable, retrying: " + e.message);
        std::unique_lock lock(mu);
        if (cv.wait_for(lock, delay, [&] { return stop; })) return 0;
        delay = std::min(delay * 2, std::chrono::milliseconds(5000));
        continue;
      }
      if (split_on_refusal) {
        std::map<std::string, v1::WriteLogsRequest> by_run;
        for (const auto& l : req.lines()) *by_run[l.flow_run_id()].add_lines() = l;
        if (by_run.size() > 1) {
          std::uint64_t ok = 0;
          for (const auto& [run, part] : by_run) ok += Send(part, false);
          return ok;
        }
      }
      Report("refused:" + e.message,
             fmt::format("{} log lines refused by the server: {}", req.lines_size(), e.message));
      return 0;
    }
  }

  void Loop() {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait_for(lock, opt.interval,
                  [&] { return stop || queue.size() >= opt.batch_lines || flush_requests > 0; });
      if (stop) return;
      if (queue.empty() && dropped_by_run.empty()) {
        flush_requests = 0;
        done_cv.notify_all();
        continue;
      }
      v1::WriteLogsRequest req;
      auto now = client::ToProto(core::TimePoint(std::chrono::system_clock::now()));
      for (const auto& [run, n] : dropped_by_run) {
        auto* m = req.add_lines();
        m->set_flow_run_id(run);
        m->set_level(v1::LOG_LEVEL_WARNING);
        m->set_message(
            fmt::format("\xE2\x80\xA6{} log lines dropped (the log buffer was full)", n));
        *m->mutable_timestamp() = now;
        m->set_source("sdk");
      }
      dropped_by_run.clear();
      std::size_t bytes = 0;
      std::size_t markers = static_cast<std::size_t>(req.lines_size());
      std::uint64_t taken = 0;
      while (!queue.empty() && static_cast<std::size_t>(req.lines_size()) < opt.batch_lines) {
        std::size_t b = queue.front().line.message().size();
        if (req.lines_size() > static_cast<int>(markers) && bytes + b > opt.batch_bytes) break;
        bytes += b;
        if (taken == 0) in_flight_first = queue.front().seq;
        *req.add_lines() = std::move(queue.front().line);
        queue.pop_front();
        ++taken;
      }
      if (taken == 0) in_flight_first = next_seq;  // markers only
      in_flight = true;
      lock.unlock();
      std::uint64_t ok = Send(req, true);
      lock.lock();
      in_flight = false;
      std::uint64_t total = static_cast<std::uint64_t>(req.lines_size());
      stats.sent += ok;
      stats.failed += total - std::min(ok, total);
      if (queue.empty()) flush_requests = 0;
      done_cv.notify_all();
    }
  }
};

LogShipper::LogShipper(Client& client, LogShipperOptions options)
    : impl_(std::make_unique<Impl>(client, std::move(options))) {
  impl_->thread = std::thread([this] { impl_->Loop(); });
}

LogShipper::~LogShipper() {
  Flush(impl_->opt.close_timeout);
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void LogShipper::Add(std::string flow_run_id, std::string task_run_id, std::string task_run_name,
                     LogLevel level, std::string message, std::string source,
                     core::TimePoint timestamp) {
  if (timestamp == core::TimePoint{}) timestamp = std::chrono::system_clock::now();
  Entry e;
  e.line.set_flow_run_id(std::move(flow_run_id));
  e.line.set_task_run_id(std::move(task_run_id));
  e.line.set_task_run_name(SanitizeUtf8(task_run_name));
  e.line.set_level(static_cast<v1::LogLevel>(static_cast<int>(level)));
  std::string text = SanitizeUtf8(message);
  CutMessage(text, impl_->opt.max_line_bytes);
  e.line.set_message(std::move(text));
  *e.line.mutable_timestamp() = client::ToProto(timestamp);
  e.line.set_source(std::move(source));
  auto& m = *impl_;
  bool wake = false;
  {
    std::lock_guard lock(m.mu);
    if (m.disabled || m.stop) return;
    e.seq = m.next_seq++;
    ++m.stats.added;
    if (m.queue.size() >= m.opt.capacity) {
      ++m.dropped_by_run[m.queue.front().line.flow_run_id()];
      ++m.stats.dropped;
      m.queue.pop_front();
    }
    m.queue.push_back(std::move(e));
    wake = m.queue.size() == m.opt.batch_lines;
  }
  if (wake) m.cv.notify_all();
}

bool LogShipper::Flush(std::chrono::milliseconds timeout) {
  auto& m = *impl_;
  std::unique_lock lock(m.mu);
  std::uint64_t target = m.next_seq - 1;
  if (m.Done(target) && m.dropped_by_run.empty()) return true;
  ++m.flush_requests;
  m.cv.notify_all();
  return m.done_cv.wait_for(lock, timeout, [&] { return m.Done(target); });
}

LogShipperStats LogShipper::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace weft::client
