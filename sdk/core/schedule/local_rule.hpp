#pragma once
// Private to sdk/core/schedule*.cpp: the pieces a Schedule is compiled into.
//
// Every calendar schedule (cron, rrule, whole-day intervals in a zone) is a LocalRule: a
// set of wall-clock times on the zone's local timeline, which has no DST. schedule.cpp
// maps those wall times to instants (see the DST notes there). Fixed intervals are plain
// instant arithmetic and need no LocalRule.
#include <date/date.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "sdk/core/error.hpp"
#include "sdk/core/schedule/zone.hpp"
#include "sdk/core/time.hpp"

namespace weft::core::schedule_detail {

// A wall-clock time in the schedule's zone (date::local_t: no zone attached).
using LocalTime = date::local_time<Duration>;

class LocalRule {
 public:
  virtual ~LocalRule() = default;
  // The earliest wall time of the rule that is >= `from`, or nullopt when there is none
  // (the rule ended, or nothing matches within the search horizon).
  virtual std::optional<LocalTime> NextAtOrAfter(LocalTime from) const = 0;
};

// "min hour dom month dow" or a macro. Errors start with "cron: ".
Result<std::unique_ptr<LocalRule>> CompileCron(const std::string& expression);

// The compiled rrule also reports its UNTIL when it was given in UTC ("...Z"), which
// schedule.cpp applies to instants.
struct CompiledRRule {
  std::unique_ptr<LocalRule> rule;
  std::optional<TimePoint> until_utc;
};
// `zone` is the schedule's zone, used for DTSTART/UNTIL given in UTC; `zone_name`
// ("" = UTC) is checked against DTSTART;TZID=. Errors start with "rrule: ".
Result<CompiledRRule> CompileRRule(const std::string& text, const std::string& zone_name,
                                   const Zone& zone);

// The zone's wall time at instant t.
inline LocalTime ToLocal(const Zone& zone, TimePoint t) {
  if (zone.is_utc()) return LocalTime{t.time_since_epoch()};
  return LocalTime{t.time_since_epoch() + zone.At(date::floor<std::chrono::seconds>(t)).offset};
}

// Instants are nanoseconds since 1970 in 64 bits (up to 2262-04-11); rules produce no time
// after the end of this year, so nothing overflows.
inline constexpr int kLastYear = 2261;
inline LocalTime LatestLocal() {
  return LocalTime{date::local_days{date::year{kLastYear} / 12 / 31}} + std::chrono::hours{24} -
         Duration{1};
}

inline date::local_days LocalDay(int y, unsigned m, unsigned d) {
  return date::local_days{date::year{y} / date::month{m} / date::day{d}};
}

inline long long FloorDiv(long long a, long long b) {
  long long q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

inline long long CeilDiv(long long a, long long b) { return -FloorDiv(-a, b); }

}  // namespace weft::core::schedule_detail
