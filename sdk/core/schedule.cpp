// Schedules: compile a ScheduleSpec once, then ask for the next times cheaply.
//
// Semantics (also in docs/schedules.md):
//
// Interval: the times are anchor + k * interval for every integer k (negative k too, so an
//   anchor in the future works), strictly after `after`. Intervals and anchors are kept to
//   the microsecond (PostgreSQL's precision). The default anchor is 2020-01-01T00:00:00 in
//   the schedule's zone. When the interval is a whole number of days and the zone is not
//   UTC, the steps are local calendar days at the anchor's local wall time: a daily job
//   anchored at 09:00 stays at 09:00 local across DST changes (the DST rules below apply).
//   Other intervals are exact elapsed time and ignore the zone (after the default anchor).
//
// Cron and rrule: the rule picks wall-clock times in the schedule's zone (cron at minute
//   resolution, rrule at second resolution); each is then mapped to an instant.
//
// DST, in the schedule's zone:
//   - a wall time that does not exist (spring-forward gap) runs shifted forward by the gap:
//     02:30 on a day that jumps 02:00 -> 03:00 runs at 03:30;
//   - a wall time that exists twice (fall-back) runs once, at its first occurrence;
//   - two wall times that land on the same instant run once.
//   So a daily 02:30 job runs exactly once on both transition days. An hourly cron
//   `0 * * * *` runs once per real hour on the spring-forward day (23 runs; the skipped
//   02:00 becomes 03:00, which is also the 03:00 run), and 24 times on the fall-back day
//   (25 real hours): the repeated hour's 01:00 runs once, at the first 01:00.
//   These are also the rules of RFC 5545 for recurrences.
//
// Next(after, n, until) walks instant by instant: from `after` it finds the earliest
// instant > after, considering (a) the next wall time at or after after's local time,
// skipping already-past first occurrences of repeated times, (b) wall times in a gap just
// before after's local time that were shifted past it, and (c) when the next wall time is
// in a gap, the first wall time after the gap (which can come earlier). The time zone
// period of the current instant is cached, so a step usually costs no tz lookup at all.
//
// Offsets come from the system tz database through date-tz, extended past its last explicit
// transition (2037 in "fat" files) by the zone file's POSIX rule (schedule/zone.cpp).
#include "sdk/core/schedule.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "sdk/core/schedule/local_rule.hpp"
#include "sdk/core/schedule/zone.hpp"

namespace weft::core {

namespace sd = schedule_detail;
using sd::LocalTime;

namespace {

using std::chrono::seconds;
using Seconds = date::sys_seconds;

// Gaps and repeated hours are far shorter than this (the longest known gap is one day).
constexpr seconds kNearTransition = std::chrono::hours{26};
// Transitions before this are historical curiosities; and it keeps second -> nanosecond
// conversions of period bounds in range.
const Seconds kEarliestTransition = date::sys_days{date::year{1800} / 1 / 1};
constexpr Duration kOneTick{1};

Seconds Floor(TimePoint t) { return date::floor<seconds>(t); }

LocalTime Local(TimePoint t, seconds offset) { return LocalTime{t.time_since_epoch() + offset}; }
LocalTime Local(Seconds t, seconds offset) {
  return LocalTime{std::chrono::duration_cast<Duration>((t + offset).time_since_epoch())};
}
TimePoint Instant(LocalTime l, seconds offset) { return TimePoint{l.time_since_epoch() - offset}; }

// The DST rule: a missing wall time uses the offset before the gap (so it is shifted
// forward by the gap); a repeated one uses the first (earlier) offset.
TimePoint ToInstant(const sd::Zone& zone, LocalTime l) {
  if (zone.is_utc()) return TimePoint{l.time_since_epoch()};
  return Instant(l, zone.AtLocal(date::floor<seconds>(l)).first.offset);
}

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

// "1 second", "0.5 seconds".
std::string SecondsText(double v) { return FormatNumber(v) + (v == 1 ? " second" : " seconds"); }

// "1h", "7d", "1h30m", "1.5s", "1d2h".
std::string FormatEvery(Duration step) {
  using std::chrono::microseconds;
  long long us = std::chrono::duration_cast<microseconds>(step).count();
  constexpr long long kSec = 1000000;
  std::string out;
  auto part = [&](long long unit, const char* suffix) {
    if (us >= unit) {
      out += std::to_string(us / unit) + suffix;
      us %= unit;
    }
  };
  part(86400 * kSec, "d");
  part(3600 * kSec, "h");
  part(60 * kSec, "m");
  if (us > 0) {
    if (us % kSec == 0) {
      out += std::to_string(us / kSec) + "s";
    } else {
      out += FormatNumber(static_cast<double>(us) / 1e6) + "s";
    }
  }
  return out;
}

std::string FormatClock(LocalTime l) {
  auto day = date::floor<date::days>(l);
  long long tod = date::floor<seconds>(l - day).count();
  char buf[32];
  if (tod % 60 == 0) {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", tod / 3600, tod / 60 % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", tod / 3600, tod / 60 % 60, tod % 60);
  }
  return buf;
}

std::string CollapseSpaces(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      out += c;
      space = false;
    }
  }
  return out;
}

// Whole-day intervals in a zone: local calendar days at the anchor's wall time.
class DayStepRule final : public sd::LocalRule {
 public:
  DayStepRule(LocalTime base, Duration step) : base_(base), step_(step) {}
  std::optional<LocalTime> NextAtOrAfter(LocalTime from) const override {
    using std::chrono::microseconds;
    const LocalTime latest = sd::LatestLocal();
    if (from > latest) return std::nullopt;
    // In microseconds (base and step are whole ones): from an anchor centuries back the
    // difference overflows nanoseconds, not microseconds; the result is within a step of from.
    const long long from_us = date::ceil<microseconds>(from.time_since_epoch()).count();
    const long long base_us = date::floor<microseconds>(base_.time_since_epoch()).count();
    const long long step_us = std::chrono::duration_cast<microseconds>(step_).count();
    const long long next_us = base_us + sd::CeilDiv(from_us - base_us, step_us) * step_us;
    if (next_us > date::floor<microseconds>(latest.time_since_epoch()).count()) {
      return std::nullopt;
    }
    return LocalTime{microseconds{next_us}};
  }

 private:
  LocalTime base_;
  Duration step_;
};

}  // namespace

struct Schedule::Impl {
  ScheduleSpec spec;
  sd::Zone zone;
  std::string describe;

  // Fixed intervals: anchor + k * step.
  bool fixed = false;
  TimePoint anchor{};
  Duration step{};

  // Calendar schedules: wall times of `rule`, mapped to instants.
  std::unique_ptr<sd::LocalRule> rule;
  std::optional<TimePoint> until;  // rrule UNTIL given in UTC

  // The zone period around the instant being stepped from; refreshed when left.
  struct Cursor {
    sd::ZonePeriod info;
    bool valid = false;
  };

  std::optional<TimePoint> Step(TimePoint t, Cursor& cursor) const;
  std::vector<TimePoint> Next(TimePoint after, std::size_t n, TimePoint until_time) const;
};

std::optional<TimePoint> Schedule::Impl::Step(TimePoint t, Cursor& cursor) const {
  if (zone.is_utc()) {
    auto l = rule->NextAtOrAfter(LocalTime{t.time_since_epoch()} + kOneTick);
    if (!l) return std::nullopt;
    return TimePoint{l->time_since_epoch()};
  }
  const Seconds ts = Floor(t);
  if (!cursor.valid || ts < cursor.info.begin || ts >= cursor.info.end) {
    cursor.info = zone.At(ts);
    cursor.valid = true;
  }
  const sd::ZonePeriod& info = cursor.info;
  std::optional<TimePoint> best;
  auto consider = [&](TimePoint s) {
    if (s > t && (!best || s < *best)) best = s;
  };

  // (b) Just after a spring-forward transition: wall times in the gap map to instants
  // in [transition, transition + gap), possibly after t although their wall time is earlier.
  if (info.begin > kEarliestTransition && ts - info.begin < kNearTransition) {
    auto prev = zone.At(info.begin - seconds{1});
    seconds gap = info.offset - prev.offset;
    if (gap > seconds{0} && ts < info.begin + gap) {
      LocalTime gap_end = Local(info.begin, info.offset);
      auto l = rule->NextAtOrAfter(Local(t, prev.offset) + kOneTick);
      if (l && *l < gap_end) consider(Instant(*l, prev.offset));
    }
  }

  // (a) The next wall time after t's own wall time.
  auto l = rule->NextAtOrAfter(Local(t, info.offset) + kOneTick);
  for (int guard = 0; l && guard < 4; ++guard) {
    TimePoint s = Instant(*l, info.offset);
    Seconds ss = Floor(s);
    if (ss >= info.begin + kNearTransition && ss < info.end) {  // plainly inside this period
      consider(s);
      break;
    }
    auto li = zone.AtLocal(date::floor<seconds>(*l));
    if (li.kind == sd::LocalLookup::kUnique) {
      consider(Instant(*l, li.first.offset));
      break;
    }
    if (li.kind == sd::LocalLookup::kAmbiguous) {
      s = Instant(*l, li.first.offset);
      if (s > t) {
        consider(s);
        break;
      }
      // Its first occurrence is past: skip the rest of the repeated wall times.
      l = rule->NextAtOrAfter(Local(li.first.end, li.first.offset));
      continue;
    }
    // (c) In a gap: shifted forward; a wall time right after the gap may come earlier.
    consider(Instant(*l, li.first.offset));
    if (auto after_gap = rule->NextAtOrAfter(Local(li.second.begin, li.second.offset))) {
      consider(ToInstant(zone, *after_gap));
    }
    break;
  }
  return best;
}

std::vector<TimePoint> Schedule::Impl::Next(TimePoint after, std::size_t n,
                                            TimePoint until_time) const {
  std::vector<TimePoint> out;
  if (n == 0 || after >= until_time) return out;
  if (fixed) {
    // The first step in microseconds (anchor and step are whole ones): from an anchor
    // centuries back the difference overflows nanoseconds, not microseconds.
    using std::chrono::microseconds;
    const long long step_ns = step.count();
    const long long step_us = std::chrono::duration_cast<microseconds>(step).count();
    const long long after_us = date::floor<microseconds>(after.time_since_epoch()).count();
    const long long anchor_us = date::floor<microseconds>(anchor.time_since_epoch()).count();
    const long long t_us = anchor_us + (sd::FloorDiv(after_us - anchor_us, step_us) + 1) * step_us;
    long long t_ns = 0;
    if (__builtin_mul_overflow(t_us, 1000LL, &t_ns)) return out;
    while (out.size() < n) {
      TimePoint t{Duration{t_ns}};
      if (t > until_time) break;
      out.push_back(t);
      if (__builtin_add_overflow(t_ns, step_ns, &t_ns)) break;
    }
    return out;
  }
  Cursor cursor;
  TimePoint t = after;
  while (out.size() < n) {
    auto s = Step(t, cursor);
    if (!s || *s > until_time || (until && *s > *until)) break;
    out.push_back(*s);
    t = *s;
  }
  return out;
}

Result<Schedule> Schedule::Compile(const ScheduleSpec& spec) {
  auto impl = std::make_shared<Impl>();
  impl->spec = spec;
  if (const auto* interval = std::get_if<IntervalSchedule>(&spec)) {
    const double secs = interval->interval_seconds;
    if (!std::isfinite(secs) || secs < kMinIntervalSeconds) {
      return InvalidArgument("interval: must be at least " + SecondsText(kMinIntervalSeconds) +
                             ", got " + SecondsText(secs));
    }
    constexpr double kMaxSeconds = 36500.0 * 86400;
    if (secs > kMaxSeconds) {
      return InvalidArgument("interval: must be at most 36500 days, got " + FormatNumber(secs) +
                             " seconds");
    }
    const long long us = std::llround(secs * 1e6);
    auto zone = sd::Zone::Find(interval->timezone);
    if (!zone) return zone.error();
    impl->zone = *zone;
    impl->step = std::chrono::microseconds{us};
    TimePoint anchor;
    if (interval->anchor) {
      anchor = date::floor<std::chrono::microseconds>(*interval->anchor);
    } else {
      anchor = ToInstant(impl->zone, LocalTime{sd::LocalDay(2020, 1, 1)});
    }
    constexpr long long kDayUs = 86400LL * 1000000;
    const std::string zone_name = interval->timezone.empty() ? "UTC" : interval->timezone;
    if (us % kDayUs == 0) {
      LocalTime base = sd::ToLocal(impl->zone, anchor);
      impl->describe =
          "every " + FormatEvery(impl->step) + " at " + FormatClock(base) + " (" + zone_name + ")";
      if (!impl->zone.is_utc()) {
        impl->rule = std::make_unique<DayStepRule>(base, impl->step);
      }
    } else {
      impl->describe = "every " + FormatEvery(impl->step);
      if (!impl->zone.is_utc()) impl->describe += " (" + zone_name + ")";
    }
    if (!impl->rule) {
      impl->fixed = true;
      impl->anchor = anchor;
    }
  } else if (const auto* cron = std::get_if<CronSchedule>(&spec)) {
    auto zone = sd::Zone::Find(cron->timezone);
    if (!zone) return zone.error();
    impl->zone = *zone;
    if (cron->expression.size() > kMaxScheduleTextLength) {
      return InvalidArgument("cron: must be at most " + std::to_string(kMaxScheduleTextLength) +
                             " characters, got " + std::to_string(cron->expression.size()));
    }
    auto rule = sd::CompileCron(cron->expression);
    if (!rule) return rule.error();
    impl->rule = std::move(*rule);
    impl->describe = "cron " + CollapseSpaces(cron->expression) + " (" +
                     (cron->timezone.empty() ? "UTC" : cron->timezone) + ")";
  } else {
    const auto& rr = std::get<RRuleSchedule>(spec);
    auto zone = sd::Zone::Find(rr.timezone);
    if (!zone) return zone.error();
    impl->zone = *zone;
    if (rr.rrule.size() > kMaxScheduleTextLength) {
      return InvalidArgument("rrule: must be at most " + std::to_string(kMaxScheduleTextLength) +
                             " characters, got " + std::to_string(rr.rrule.size()));
    }
    auto compiled = sd::CompileRRule(rr.rrule, rr.timezone, impl->zone);
    if (!compiled) return compiled.error();
    impl->rule = std::move(compiled->rule);
    impl->until = compiled->until_utc;
    impl->describe = "rrule " + CollapseSpaces(rr.rrule) + " (" +
                     (rr.timezone.empty() ? "UTC" : rr.timezone) + ")";
  }
  return Schedule(std::shared_ptr<const Impl>(std::move(impl)));
}

std::vector<TimePoint> Schedule::Next(TimePoint after, std::size_t n, TimePoint until) const {
  return impl_->Next(after, n, until);
}

std::vector<TimePoint> Schedule::Between(TimePoint from, TimePoint to, std::size_t limit) const {
  if (from > to || from == TimePoint::min()) return {};
  return impl_->Next(from - kOneTick, limit, to);
}

std::string Schedule::Describe() const { return impl_->describe; }
const ScheduleSpec& Schedule::spec() const { return impl_->spec; }

Schedule::Schedule(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Schedule::Schedule(const Schedule&) = default;
Schedule& Schedule::operator=(const Schedule&) = default;
Schedule::Schedule(Schedule&&) noexcept = default;
Schedule& Schedule::operator=(Schedule&&) noexcept = default;
Schedule::~Schedule() = default;

bool IsKnownTimeZone(const std::string& name) { return sd::Zone::Find(name).ok(); }

}  // namespace weft::core
