#pragma once
// Schedules: interval, cron and rrule, in an IANA time zone. Pure code (no I/O besides the
// system tz database read through date-tz). Both the server's scheduler and the CLI's
// spec validation use it.
//
// DST: times are computed in local wall-clock time of the schedule's zone, then mapped to
// UTC. A local time that does not exist (the spring-forward gap) runs at the same wall
// time shifted by the gap (02:30 -> 03:30); a local time that occurs twice (fall-back)
// runs once, at its first occurrence. So a daily 02:30 job runs exactly once each day.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sdk/core/error.hpp"
#include "sdk/core/time.hpp"

namespace weft::core {

// Limits (docs/limits.md, "Schedules").
//
// The shortest interval a schedule may have. Cron and rrule cannot fire more often either:
// cron has minutes, rrule seconds, and FREQ=SECONDLY is refused.
inline constexpr double kMinIntervalSeconds = 1;
// The most candidates (days; hours or minutes for FREQ=HOURLY/MINUTELY; a skipped month or
// period counts one) one rrule search for its next time looks at. A rule with no time
// within them has no next time (a rule whose first time is not within them is refused).
inline constexpr long long kMaxRRuleSearchSteps = 200000;
// The same for expanding all the times of a COUNT rule, in total, when it is compiled.
inline constexpr long long kMaxRRuleCountSteps = 1000000;
// The longest cron expression or rrule text (an rrule with every hour, minute and second
// listed is about 450 characters).
inline constexpr std::size_t kMaxScheduleTextLength = 2000;
// The longest time zone name (IANA names are at most about 32 characters).
inline constexpr std::size_t kMaxTimeZoneNameLength = 64;

struct IntervalSchedule {
  double interval_seconds = 0;     // >= kMinIntervalSeconds
  std::optional<TimePoint> anchor; // none = 2020-01-01T00:00:00 local time in `timezone`
  std::string timezone;            // "" = UTC. Intervals that are whole days keep the local
                                   // wall time of the anchor across DST changes.
};

struct CronSchedule {
  std::string expression;  // 5 fields "min hour dom month dow", names (JAN, MON), ranges,
                           // steps, lists; or @hourly @daily @weekly @monthly @yearly
                           // (@annually, @midnight). Day-of-month and day-of-week both
                           // restricted: either matches (classic cron).
  std::string timezone;    // "" = UTC
};

struct RRuleSchedule {
  std::string rrule;     // RFC 5545 subset: FREQ (YEARLY..MINUTELY), INTERVAL, COUNT, UNTIL,
                         // BYMONTH, BYMONTHDAY, BYDAY (MO..SU), BYHOUR, BYMINUTE, BYSECOND,
                         // DTSTART (as "DTSTART:20260101T090000" line or ;DTSTART= part)
  std::string timezone;  // "" = UTC
};

using ScheduleSpec = std::variant<IntervalSchedule, CronSchedule, RRuleSchedule>;

class Schedule {
 public:
  // Validates and compiles. Errors are InvalidArgument and name the field and the problem:
  //   cron: field 5 (day of week) "8" is out of range 0-7
  //   timezone: unknown time zone "Mars/Olympus"
  //   interval: must be at least 1 second, got 0.5 seconds
  //   rrule: unknown FREQ "FORTNIGHTLY"
  static Result<Schedule> Compile(const ScheduleSpec& spec);

  // Up to `n` schedule times strictly after `after` and not after `until`, ascending.
  std::vector<TimePoint> Next(TimePoint after, std::size_t n, TimePoint until) const;
  // All times in [from, to], at most `limit`.
  std::vector<TimePoint> Between(TimePoint from, TimePoint to, std::size_t limit) const;

  // For people: "every 1h", "every 7d at 09:00 (Europe/Berlin)", "cron 0 9 * * 1 (UTC)",
  // "rrule FREQ=WEEKLY;BYDAY=MO (America/New_York)".
  std::string Describe() const;
  const ScheduleSpec& spec() const;

  Schedule(const Schedule&);
  Schedule& operator=(const Schedule&);
  Schedule(Schedule&&) noexcept;
  Schedule& operator=(Schedule&&) noexcept;
  ~Schedule();

  struct Impl;

 private:
  explicit Schedule(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// True when `name` is a time zone of the system tz database (or "" / "UTC").
bool IsKnownTimeZone(const std::string& name);

}  // namespace weft::core
