#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace weft::core {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

// "2026-11-26T04:49:50.123456Z"
std::string FormatTime(TimePoint t);
// Accepts RFC 3339 / ISO 8601 with 'Z' or +hh:mm offsets, and PostgreSQL's
// "2026-11-26 04:49:50.123456+00" form.
std::optional<TimePoint> ParseTime(std::string_view text);
// "1h 2m 3.4s" style, for people.
std::string FormatDuration(double seconds);
// "10s", "5m", "1h30m", "250ms", "2d", or a bare number of seconds.
std::optional<double> ParseDurationSeconds(std::string_view text);
// True for a negative duration ("-5", "-10m", " -1h30m"): what ParseDurationSeconds refuses
// and a message should call "must not be negative" rather than "not a duration".
bool IsNegativeDuration(std::string_view text);
double ToSeconds(Duration d);
Duration FromSeconds(double seconds);

// Time is injected: services and the run engine ask a Clock, tests use FakeClock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override { return now_; }
  void Advance(Duration d) { now_ += d; }
  void Set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

}  // namespace weft::core
