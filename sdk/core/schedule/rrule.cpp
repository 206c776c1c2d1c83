// RFC 5545 recurrence rules, the subset Weft supports:
//   FREQ=YEARLY|MONTHLY|WEEKLY|DAILY|HOURLY|MINUTELY, INTERVAL, COUNT, UNTIL, BYMONTH,
//   BYMONTHDAY (1..31 or -31..-1 from the month's end), BYDAY (MO..SU; with a position such
//   as 2MO or -1FR for MONTHLY, and YEARLY where it counts in the month when BYMONTH is
//   given, else in the year), BYHOUR, BYMINUTE, BYSECOND, WKST, and DTSTART, given as a
//   "DTSTART:20260101T090000" line (optionally ;TZID=<the schedule's zone>) before the rule,
//   or as a ";DTSTART=..." part. A "Z" suffix means UTC; otherwise wall time in the zone.
//
// Meaning (as in RFC 5545 and python-dateutil):
//   - Periods of FREQ * INTERVAL start at DTSTART's period (its year, month, week starting
//     on WKST (default MO), day, hour or minute). BY* parts expand or limit the times in a
//     period; missing parts are taken from DTSTART: FREQ=DAILY runs at DTSTART's time of
//     day, WEEKLY on DTSTART's weekday, MONTHLY on its day of month, YEARLY on its month
//     and day.
//   - The first time is the first one at or after DTSTART (DTSTART itself only when it
//     matches the rule). COUNT counts times from there; UNTIL is inclusive (a date-only
//     UNTIL includes that whole day).
//   - Without DTSTART the start is 2020-01-01T00:00:00 in the schedule's zone.
// Unknown parts, and RFC parts outside the subset (BYSETPOS, BYYEARDAY, BYWEEKNO, EXDATE,
// RDATE, FREQ=SECONDLY), are errors that name them.
//
// Cost: a search walks candidate days (hours or minutes for HOURLY/MINUTELY) from its start
// and stops at the first match; the times within a day come from bit sets. Nothing lists a
// period's times, so every second of every day costs what one time a day costs. Each
// search looks at no more than kMaxRRuleSearchSteps candidates (schedule.hpp); a rule
// whose first time is further is refused, and past it later the rule has no next time.
#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/core/schedule.hpp"
#include "sdk/core/schedule/local_rule.hpp"

namespace weft::core::schedule_detail {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

enum class Freq { kYearly, kMonthly, kWeekly, kDaily, kHourly, kMinutely };

constexpr std::array<const char*, 7> kWeekdayNames = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
constexpr int kMaxCount = 10000;

struct WeekdayEntry {
  unsigned weekday = 0;  // 0 = Sunday ... 6 = Saturday
  int position = 0;      // 0 = every such weekday; 2 = second; -1 = last
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t next = s.find(sep, pos);
    out.push_back(
        s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

bool ParseInt(std::string_view text, int& out) {
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty() || text.size() > 7) return false;
  int v = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  out = negative ? -v : v;
  return true;
}

unsigned DaysInMonth(int y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned WeekdayOf(date::local_days d) { return date::weekday{d}.c_encoding(); }

// "20260101", "20260101T090000" or "20260101T090000Z".
struct DateTimeValue {
  LocalTime wall;  // as written
  bool utc = false;
  bool date_only = false;
};

std::optional<DateTimeValue> ParseDateTime(std::string_view text) {
  auto digits = [&](std::size_t from, std::size_t n, int& out) {
    if (text.size() < from + n) return false;
    out = 0;
    for (std::size_t i = from; i < from + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(0, 4, y) || !digits(4, 2, mo) || !digits(6, 2, d)) return std::nullopt;
  DateTimeValue v;
  if (text.size() == 8) {
    v.date_only = true;
  } else {
    if (text.size() < 15 || (text[8] != 'T' && text[8] != 't')) return std::nullopt;
    if (!digits(9, 2, h) || !digits(11, 2, mi) || !digits(13, 2, s)) return std::nullopt;
    if (text.size() == 16 && (text[15] == 'Z' || text[15] == 'z')) {
      v.utc = true;
    } else if (text.size() != 15) {
      return std::nullopt;
    }
  }
  if (y < 1900 || y > kLastYear || mo < 1 || mo > 12 || d < 1 ||
      d > static_cast<int>(DaysInMonth(y, static_cast<unsigned>(mo))) || h > 23 || mi > 59 ||
      s > 59) {
    return std::nullopt;
  }
  v.wall = LocalTime{LocalDay(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))} + hours{h} +
           minutes{mi} + seconds{s};
  return v;
}

struct Rule {
  Freq freq = Freq::kDaily;
  long long interval = 1;
  int count = 0;  // 0 = none
  std::optional<LocalTime> until;
  std::uint32_t months = 0;  // bits 1..12
  std::vector<int> month_days;
  std::vector<WeekdayEntry> weekdays;
  std::uint32_t hours_set = 0;
  std::uint64_t minutes_set = 0;
  std::uint64_t seconds_set = 0;
  unsigned week_start = 1;  // Monday
  LocalTime dtstart{LocalDay(2020, 1, 1)};
};

// What one search found: a time, nothing (the rule ended or passed the last year), or
// nothing because it looked at its whole budget of candidates first.
struct Found {
  std::optional<LocalTime> time;
  bool exhausted = false;
};

// Smallest set bit >= from, or -1.
int NextBit(std::uint64_t bits, long long from) {
  if (from < 0) from = 0;
  if (from >= 64) return -1;
  std::uint64_t masked = bits & (~std::uint64_t{0} << from);
  return masked == 0 ? -1 : std::countr_zero(masked);
}

// Whole seconds from a day's start up to `t`, rounded up (times are whole seconds).
long long CeilSeconds(Duration d) { return std::chrono::ceil<seconds>(d).count(); }

// The times of the rule are never listed: a search walks candidate days (or hours/minutes
// for HOURLY and MINUTELY) from its start and stops at the first match, and the times of
// a day come from the BYHOUR/BYMINUTE/BYSECOND bit sets in a few operations. So a rule
// with every second of every day costs the same as one with a single time a day. Each
// search looks at no more than a budget of candidates (kMaxRRuleSearchSteps).
class RRule final : public LocalRule {
 public:
  explicit RRule(Rule rule) : r_(std::move(rule)) {
    start_day_ = date::floor<date::days>(r_.dtstart);
    date::year_month_day ymd{start_day_};
    start_year_ = static_cast<int>(ymd.year());
    start_month_index_ = start_year_ * 12LL + static_cast<unsigned>(ymd.month()) - 1;
    start_week_ = start_day_ - date::days{(WeekdayOf(start_day_) + 7 - r_.week_start) % 7};
    start_hour_ = date::floor<hours>(r_.dtstart).time_since_epoch().count();
    start_minute_ = date::floor<minutes>(r_.dtstart).time_since_epoch().count();
    last_day_ = date::floor<date::days>(LatestLocal()).time_since_epoch().count();
    positions_in_year_ = r_.freq == Freq::kYearly && r_.months == 0;
    for (const auto& e : r_.weekdays) {
      if (e.position == 0) {
        plain_weekdays_ |= 1U << e.weekday;
      } else {
        has_positions_ = true;
      }
    }
    needs_calendar_ = r_.months != 0 || !r_.month_days.empty() || has_positions_;
    if (r_.count > 0) Materialize();
  }

  std::optional<LocalTime> NextAtOrAfter(LocalTime from) const override {
    if (from < r_.dtstart) from = r_.dtstart;
    if (r_.count > 0) {
      auto it = std::lower_bound(all_.begin(), all_.end(), from);
      if (it == all_.end()) return std::nullopt;
      return *it;
    }
    long long budget = kMaxRRuleSearchSteps;
    return Search(from, budget).time;
  }

  // The first time at or after DTSTART, saying whether the search ran out of budget.
  Found First() const {
    if (r_.count > 0) {
      if (count_exhausted_) return {std::nullopt, true};
      return {all_.empty() ? std::nullopt : std::optional<LocalTime>(all_.front()), false};
    }
    long long budget = kMaxRRuleSearchSteps;
    return Search(r_.dtstart, budget);
  }

 private:
  // All times of a COUNT rule, up front (COUNT is at most kMaxCount): each search within
  // kMaxRRuleSearchSteps, all of them within kMaxRRuleCountSteps.
  void Materialize() {
    long long total = kMaxRRuleCountSteps;
    LocalTime from = r_.dtstart;
    while (all_.size() < static_cast<std::size_t>(r_.count)) {
      long long budget = std::min(total, kMaxRRuleSearchSteps);
      const long long given = budget;
      Found f = Search(from, budget);
      total -= given - std::max(0LL, budget);
      if (f.exhausted) {
        count_exhausted_ = true;
        return;
      }
      if (!f.time) return;
      all_.push_back(*f.time);
      from = *f.time + seconds{1};
    }
  }

  // The earliest time >= from (from >= DTSTART), looking at no more than `budget`
  // candidates (each day, period or skipped stretch counts one).
  Found Search(LocalTime from, long long& budget) const {
    if (r_.until && from > *r_.until) return {};
    if (from > LatestLocal()) return {};
    Found f = r_.freq <= Freq::kDaily ? SearchDays(from, budget) : SearchUnits(from, budget);
    if (f.time && r_.until && *f.time > *r_.until) return {};
    return f;
  }

  // YEARLY, MONTHLY, WEEKLY, DAILY: period by period, day by day inside a period.
  Found SearchDays(LocalTime from, long long& budget) const {
    const date::local_days from_day = date::floor<date::days>(from);
    const long long from_second = CeilSeconds(from - from_day);
    for (long long k = PeriodOf(from);; ++k) {
      if (--budget < 0) return {std::nullopt, true};
      long long first = 0;
      long long end = 0;
      if (!PeriodDays(k, first, end)) return {};
      if (r_.until && LocalTime{date::local_days{date::days{first}}} > *r_.until) return {};
      long long d = std::max(first, static_cast<long long>(from_day.time_since_epoch().count()));
      while (d < end) {
        auto day = NextMatchingDay(d, end, budget);
        if (!day) break;
        const bool today = *day == from_day.time_since_epoch().count();
        if (auto tod = NextSecondOfDay(today ? from_second : 0)) {
          return {LocalTime{date::local_days{date::days{*day}}} + seconds{*tod}, false};
        }
        d = *day + 1;
      }
      if (budget < 0) return {std::nullopt, true};
    }
  }

  // HOURLY, MINUTELY: one period is one hour or minute; periods that cannot match (their
  // day, hour or minute is not in the rule) are skipped to the next one that can.
  Found SearchUnits(LocalTime from, long long& budget) const {
    const bool hourly = r_.freq == Freq::kHourly;
    const long long unit_seconds = hourly ? 3600 : 60;
    const long long per_day = hourly ? 24 : 1440;
    const long long base = hourly ? start_hour_ : start_minute_;
    // Seconds since 1970 on the local timeline (a period can start on a day before from's).
    const long long from_second = CeilSeconds(from.time_since_epoch());
    long long k = PeriodOf(from);
    while (true) {
      if (--budget < 0) return {std::nullopt, true};
      const long long index = base + k * r_.interval;
      const long long day = FloorDiv(index, per_day);
      if (day > last_day_) return {};
      const long long in_day = index - day * per_day;
      const LocalTime day_start{date::local_days{date::days{day}}};
      if (r_.until && day_start + seconds{in_day * unit_seconds} > *r_.until) return {};
      long long target = 0;  // the unit index of the next period that could match
      if (!DayMatches(date::local_days{date::days{day}})) {
        auto next = NextMatchingDay(day + 1, last_day_ + 1, budget);
        if (!next) return budget < 0 ? Found{std::nullopt, true} : Found{};
        target = *next * per_day;
      } else {
        const long long day_second = day * 86400;
        const long long period_start = in_day * unit_seconds;
        const long long period_end = period_start + unit_seconds;
        const long long s = std::max(period_start, from_second - day_second);
        if (s < period_end) {
          if (auto tod = NextSecondOfDay(s); tod && *tod < period_end) {
            return {day_start + seconds{*tod}, false};
          }
        }
        target = day * per_day + NextCandidateUnit(in_day + 1, hourly);
      }
      k = std::max(k + 1, CeilDiv(target - base, r_.interval));
    }
  }

  // The first unit (hour or minute of the day) >= from whose hour (and minute) the rule
  // has, or the number of units in a day when there is none.
  long long NextCandidateUnit(long long from, bool hourly) const {
    if (hourly) {
      int h = NextBit(r_.hours_set, from);
      return h >= 0 && h < 24 ? h : 24;
    }
    const long long from_hour = from / 60;
    for (int h = NextBit(r_.hours_set, from_hour); h >= 0 && h < 24;
         h = NextBit(r_.hours_set, h + 1)) {
      int m = NextBit(r_.minutes_set, h == from_hour ? from % 60 : 0);
      if (m >= 0 && m < 60) return h * 60LL + m;
    }
    return 1440;
  }

  // The first second of a day >= from (0..86400) that is a time of the rule.
  std::optional<long long> NextSecondOfDay(long long from) const {
    const long long h0 = from / 3600;
    const long long m0 = from / 60 % 60;
    const long long s0 = from % 60;
    for (int h = NextBit(r_.hours_set, h0); h >= 0 && h < 24; h = NextBit(r_.hours_set, h + 1)) {
      for (int m = NextBit(r_.minutes_set, h == h0 ? m0 : 0); m >= 0 && m < 60;
           m = NextBit(r_.minutes_set, m + 1)) {
        int s = NextBit(r_.seconds_set, h == h0 && m == m0 ? s0 : 0);
        if (s >= 0 && s < 60) return h * 3600LL + m * 60LL + s;
      }
    }
    return std::nullopt;
  }

  // The first day number in [d, end) that the rule's calendar parts allow, or nullopt
  // (also when the budget runs out: the caller checks it). Months outside BYMONTH and
  // BYMONTHDAY-only rules cost one step per month, other days one step each.
  std::optional<long long> NextMatchingDay(long long d, long long end, long long& budget) const {
    while (d < end) {
      if (--budget < 0) return std::nullopt;
      const date::local_days day{date::days{d}};
      if (!needs_calendar_) {
        if (DayMatches(day)) return d;
        ++d;
        continue;
      }
      const DayParts p = Parts(day);
      const long long month_end = d + (p.month_len - p.mday) + 1;
      if (r_.months != 0 && !((r_.months >> p.month) & 1U)) {
        d = month_end;
        continue;
      }
      if (r_.weekdays.empty() && !r_.month_days.empty()) {
        int best = p.month_len + 1;
        for (int v : r_.month_days) {
          int md = v > 0 ? v : p.month_len + v + 1;
          if (md >= p.mday && md < best) best = md;
        }
        if (best <= p.month_len) {
          const long long found = d + (best - p.mday);
          return found < end ? std::optional<long long>(found) : std::nullopt;
        }
        d = month_end;
        continue;
      }
      if (DayMatches(p)) return d;
      ++d;
    }
    return std::nullopt;
  }

  // The days [first, end) of day-based period k; false past the last year.
  bool PeriodDays(long long k, long long& first, long long& end) const {
    const long long step = k * r_.interval;
    switch (r_.freq) {
      case Freq::kYearly: {
        const long long y = start_year_ + step;
        if (y > kLastYear) return false;
        first = LocalDay(static_cast<int>(y), 1, 1).time_since_epoch().count();
        end = LocalDay(static_cast<int>(y) + 1, 1, 1).time_since_epoch().count();
        return true;
      }
      case Freq::kMonthly: {
        const long long index = start_month_index_ + step;
        const long long y = FloorDiv(index, 12);
        if (y > kLastYear) return false;
        const auto m = static_cast<unsigned>(index - y * 12 + 1);
        first = LocalDay(static_cast<int>(y), m, 1).time_since_epoch().count();
        end = first + DaysInMonth(static_cast<int>(y), m);
        return true;
      }
      case Freq::kWeekly:
        first = start_week_.time_since_epoch().count() + 7 * step;
        end = first + 7;
        break;
      case Freq::kDaily:
        first = start_day_.time_since_epoch().count() + step;
        end = first + 1;
        break;
      default:
        return false;
    }
    return first <= last_day_;
  }

  // Index (in units of INTERVAL periods since DTSTART's period) of the period holding `t`.
  long long PeriodOf(LocalTime t) const {
    auto day = date::floor<date::days>(t);
    long long raw = 0;
    switch (r_.freq) {
      case Freq::kYearly:
        raw = static_cast<int>(date::year_month_day{day}.year()) - start_year_;
        break;
      case Freq::kMonthly: {
        date::year_month_day ymd{day};
        raw = static_cast<int>(ymd.year()) * 12LL + static_cast<unsigned>(ymd.month()) - 1 -
              start_month_index_;
        break;
      }
      case Freq::kWeekly:
        raw = FloorDiv((day - start_week_).count(), 7);
        break;
      case Freq::kDaily:
        raw = (day - start_day_).count();
        break;
      case Freq::kHourly:
        raw = date::floor<hours>(t).time_since_epoch().count() - start_hour_;
        break;
      case Freq::kMinutely:
        raw = date::floor<minutes>(t).time_since_epoch().count() - start_minute_;
        break;
    }
    return std::max(0LL, FloorDiv(raw, r_.interval));
  }

  // The calendar parts of a day, for DayMatches.
  struct DayParts {
    date::local_days day;
    int year = 0;
    unsigned month = 0;
    int mday = 0;
    int month_len = 0;
    unsigned weekday = 0;
  };

  static DayParts Parts(date::local_days day) {
    date::year_month_day ymd{day};
    DayParts p;
    p.day = day;
    p.year = static_cast<int>(ymd.year());
    p.month = static_cast<unsigned>(ymd.month());
    p.mday = static_cast<int>(static_cast<unsigned>(ymd.day()));
    p.month_len = static_cast<int>(DaysInMonth(p.year, p.month));
    p.weekday = WeekdayOf(day);
    return p;
  }

  bool DayMatches(date::local_days day) const {
    if (!needs_calendar_) {
      return r_.weekdays.empty() || ((plain_weekdays_ >> WeekdayOf(day)) & 1U);
    }
    return DayMatches(Parts(day));
  }

  bool DayMatches(const DayParts& p) const {
    if (r_.months != 0 && !((r_.months >> p.month) & 1U)) return false;
    if (!r_.month_days.empty()) {
      bool ok = false;
      for (int v : r_.month_days) ok = ok || (v > 0 ? p.mday == v : p.mday == p.month_len + v + 1);
      if (!ok) return false;
    }
    if (!r_.weekdays.empty()) {
      if ((plain_weekdays_ >> p.weekday) & 1U) return true;
      if (!has_positions_) return false;
      int pos = 0;
      int neg = 0;
      if (positions_in_year_) {
        int doy =
            static_cast<int>((p.day - date::local_days{date::year{p.year} / 1 / 1}).count()) + 1;
        int len = IsLeap(p.year) ? 366 : 365;
        pos = (doy - 1) / 7 + 1;
        neg = -((len - doy) / 7 + 1);
      } else {
        pos = (p.mday - 1) / 7 + 1;
        neg = -((p.month_len - p.mday) / 7 + 1);
      }
      for (const auto& e : r_.weekdays) {
        if (e.position != 0 && e.weekday == p.weekday && (e.position == pos || e.position == neg)) {
          return true;
        }
      }
      return false;
    }
    return true;
  }

  Rule r_;
  date::local_days start_day_;
  int start_year_ = 0;
  long long start_month_index_ = 0;
  date::local_days start_week_;
  long long start_hour_ = 0;
  long long start_minute_ = 0;
  long long last_day_ = 0;  // day number of kLastYear-12-31
  bool positions_in_year_ = false;
  bool has_positions_ = false;
  bool needs_calendar_ = false;       // months, month days or positions: DayParts needed
  std::uint32_t plain_weekdays_ = 0;  // BYDAY entries without a position
  std::vector<LocalTime> all_;        // COUNT rules
  bool count_exhausted_ = false;      // expanding COUNT ran out of kMaxRRuleCountSteps
};

Error Bad(const std::string& message) { return InvalidArgument("rrule: " + message); }

// A comma list of integers within [lo, hi] (and, with allow_negative, [-hi, -lo]).
Result<std::vector<int>> ParseIntList(const std::string& key, std::string_view value, int lo,
                                      int hi, bool allow_negative) {
  std::vector<int> out;
  for (auto item : Split(value, ',')) {
    int v = 0;
    if (!ParseInt(item, v)) {
      return Bad(key + " \"" + std::string(item) + "\" is not a whole number");
    }
    bool ok = (v >= lo && v <= hi) || (allow_negative && v <= -lo && v >= -hi);
    if (!ok) {
      std::string range = std::to_string(lo) + "-" + std::to_string(hi);
      if (allow_negative) range += " or -" + std::to_string(hi) + " to -" + std::to_string(lo);
      return Bad(key + " \"" + std::string(item) + "\" is out of range " + range);
    }
    out.push_back(v);
  }
  return out;
}

Result<WeekdayEntry> ParseWeekday(std::string_view item, bool allow_position,
                                  const std::string& key) {
  std::string up = Upper(item);
  if (up.size() >= 2) {
    std::string name = up.substr(up.size() - 2);
    std::string prefix = up.substr(0, up.size() - 2);
    for (unsigned i = 0; i < kWeekdayNames.size(); ++i) {
      if (name != kWeekdayNames[i]) continue;
      WeekdayEntry e;
      e.weekday = i;
      if (prefix.empty()) return e;
      if (!allow_position) break;
      int n = 0;
      if (!ParseInt(prefix, n)) break;
      if (n == 0 || n > 53 || n < -53) {
        return Bad(key + " \"" + std::string(item) + "\": position must be 1 to 53 or -53 to -1");
      }
      e.position = n;
      return e;
    }
  }
  return Bad(key + " \"" + std::string(item) + "\" is not a weekday (MO, TU, WE, TH, FR, SA, SU)" +
             (allow_position ? " with an optional position like 2MO or -1FR" : ""));
}

std::uint64_t Bits(const std::vector<int>& values) {
  std::uint64_t bits = 0;
  for (int v : values) bits |= std::uint64_t{1} << v;
  return bits;
}

TimePoint AsInstant(LocalTime utc_wall) { return TimePoint{utc_wall.time_since_epoch()}; }

}  // namespace

Result<CompiledRRule> CompileRRule(const std::string& text, const std::string& zone_name,
                                   const Zone& zone) {
  const std::string effective_zone = zone_name.empty() ? "UTC" : zone_name;
  std::string_view body = Trim(text);
  if (body.empty()) return Bad("is empty");

  // Split into properties: lines or whitespace-separated words.
  std::vector<std::string_view> words;
  {
    std::size_t pos = 0;
    while (pos < body.size()) {
      while (pos < body.size() && std::isspace(static_cast<unsigned char>(body[pos]))) ++pos;
      std::size_t start = pos;
      while (pos < body.size() && !std::isspace(static_cast<unsigned char>(body[pos]))) ++pos;
      if (pos > start) words.push_back(body.substr(start, pos - start));
    }
  }

  Rule rule;
  std::optional<DateTimeValue> dtstart;
  std::optional<std::string_view> rule_text;
  for (auto word : words) {
    std::string up = Upper(word.substr(0, std::min<std::size_t>(word.size(), 8)));
    if (up.rfind("DTSTART", 0) == 0 && word.size() > 7 && (word[7] == ':' || word[7] == ';')) {
      if (dtstart) return Bad("DTSTART is given twice");
      auto colon = word.find(':');
      if (colon == std::string_view::npos)
        return Bad("DTSTART \"" + std::string(word) + "\" has no value");
      std::string_view params = word.substr(7, colon - 7);
      for (auto param : Split(params, ';')) {
        if (param.empty()) continue;
        std::string key = Upper(param.substr(0, param.find('=')));
        std::string_view value = param.find('=') == std::string_view::npos
                                     ? std::string_view{}
                                     : param.substr(param.find('=') + 1);
        const bool is_value =
            key == "VALUE" && (Upper(value) == "DATE" || Upper(value) == "DATE-TIME");
        if (key == "TZID") {
          if (value != effective_zone) {
            return Bad("DTSTART has TZID \"" + std::string(value) +
                       "\" but the schedule's timezone is \"" + effective_zone +
                       "\"; set timezone to \"" + std::string(value) + "\" instead");
          }
        } else if (!is_value) {
          return Bad("DTSTART parameter \"" + std::string(param) + "\" is not supported");
        }
      }
      std::string_view value = word.substr(colon + 1);
      dtstart = ParseDateTime(value);
      if (!dtstart) {
        return Bad("DTSTART \"" + std::string(value) +
                   "\" is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS[Z])");
      }
      continue;
    }
    if (up.rfind("RRULE:", 0) == 0)
      word.remove_prefix(6);
    else if (up.rfind("EXDATE", 0) == 0 || up.rfind("RDATE", 0) == 0 ||
             up.rfind("EXRULE", 0) == 0) {
      return Bad(std::string(word.substr(0, word.find_first_of(":;"))) + " is not supported");
    }
    if (rule_text) return Bad("more than one RRULE");
    rule_text = word;
  }
  if (!rule_text) return Bad("FREQ is required");

  // Parts.
  std::optional<std::string> freq_text;
  bool have_count = false;
  bool have_until = false;
  std::vector<std::string> seen;
  std::optional<std::vector<int>> by_month, by_month_day, by_hour, by_minute, by_second;
  std::vector<std::string_view> by_day_items;
  bool have_by_day = false;
  std::optional<DateTimeValue> until;
  for (auto part : Split(*rule_text, ';')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string_view::npos)
      return Bad("part \"" + std::string(part) + "\" is not KEY=VALUE");
    std::string key = Upper(part.substr(0, eq));
    std::string_view value = part.substr(eq + 1);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return Bad(key + " is given twice");
    seen.push_back(key);
    if (value.empty()) return Bad(key + " is empty");
    if (key == "FREQ") {
      freq_text = Upper(value);
    } else if (key == "INTERVAL") {
      int v = 0;
      if (!ParseInt(value, v) || v < 1 || v > 1000000) {
        return Bad("INTERVAL must be a whole number from 1 to 1000000, got \"" +
                   std::string(value) + "\"");
      }
      rule.interval = v;
    } else if (key == "COUNT") {
      int v = 0;
      if (!ParseInt(value, v) || v < 1 || v > kMaxCount) {
        return Bad("COUNT must be a whole number from 1 to " + std::to_string(kMaxCount) +
                   ", got \"" + std::string(value) + "\"");
      }
      rule.count = v;
      have_count = true;
    } else if (key == "UNTIL") {
      until = ParseDateTime(value);
      if (!until) {
        return Bad("UNTIL \"" + std::string(value) +
                   "\" is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS[Z])");
      }
      have_until = true;
    } else if (key == "DTSTART") {
      if (dtstart) return Bad("DTSTART is given twice");
      dtstart = ParseDateTime(value);
      if (!dtstart) {
        return Bad("DTSTART \"" + std::string(value) +
                   "\" is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS[Z])");
      }
    } else if (key == "BYMONTH") {
      auto v = ParseIntList(key, value, 1, 12, false);
      if (!v) return v.error();
      by_month = *v;
    } else if (key == "BYMONTHDAY") {
      auto v = ParseIntList(key, value, 1, 31, true);
      if (!v) return v.error();
      by_month_day = *v;
    } else if (key == "BYDAY") {
      by_day_items = Split(value, ',');
      have_by_day = true;
    } else if (key == "BYHOUR") {
      auto v = ParseIntList(key, value, 0, 23, false);
      if (!v) return v.error();
      by_hour = *v;
    } else if (key == "BYMINUTE") {
      auto v = ParseIntList(key, value, 0, 59, false);
      if (!v) return v.error();
      by_minute = *v;
    } else if (key == "BYSECOND") {
      auto v = ParseIntList(key, value, 0, 59, false);
      if (!v) return v.error();
      by_second = *v;
    } else if (key == "WKST") {
      auto e = ParseWeekday(value, false, key);
      if (!e) return e.error();
      rule.week_start = e->weekday;
    } else if (key == "BYSETPOS" || key == "BYYEARDAY" || key == "BYWEEKNO") {
      return Bad(key + " is not supported");
    } else {
      return Bad("unknown part \"" + std::string(part.substr(0, eq)) + "\"");
    }
  }
  if (!freq_text) return Bad("FREQ is required");
  if (*freq_text == "YEARLY")
    rule.freq = Freq::kYearly;
  else if (*freq_text == "MONTHLY")
    rule.freq = Freq::kMonthly;
  else if (*freq_text == "WEEKLY")
    rule.freq = Freq::kWeekly;
  else if (*freq_text == "DAILY")
    rule.freq = Freq::kDaily;
  else if (*freq_text == "HOURLY")
    rule.freq = Freq::kHourly;
  else if (*freq_text == "MINUTELY")
    rule.freq = Freq::kMinutely;
  else if (*freq_text == "SECONDLY")
    return Bad("FREQ=SECONDLY is not supported (use an interval schedule)");
  else
    return Bad("unknown FREQ \"" + *freq_text + "\"");
  if (have_count && have_until) return Bad("COUNT and UNTIL cannot both be given");
  if (by_month_day && rule.freq == Freq::kWeekly)
    return Bad("BYMONTHDAY cannot be used with FREQ=WEEKLY");

  const bool positions = rule.freq == Freq::kMonthly || rule.freq == Freq::kYearly;
  for (auto item : by_day_items) {
    auto e = ParseWeekday(item, true, "BYDAY");
    if (!e) return e.error();
    if (e->position != 0 && !positions) {
      return Bad("BYDAY \"" + std::string(item) +
                 "\" has a position, which only FREQ=MONTHLY or FREQ=YEARLY allow");
    }
    // Repeats are dropped, so a day is checked against each distinct entry once.
    bool seen_entry = false;
    for (const auto& w : rule.weekdays) {
      seen_entry = seen_entry || (w.weekday == e->weekday && w.position == e->position);
    }
    if (!seen_entry) rule.weekdays.push_back(*e);
  }

  // DTSTART: wall time in the zone, or UTC converted to it.
  if (dtstart) {
    rule.dtstart = dtstart->utc ? ToLocal(zone, AsInstant(dtstart->wall)) : dtstart->wall;
  }
  CompiledRRule out;
  if (until) {
    if (until->utc) {
      out.until_utc = AsInstant(until->wall);
      // Exact in instants (Schedule applies until_utc); a day of slack in wall time.
      rule.until = ToLocal(zone, *out.until_utc) + hours{26};
    } else if (until->date_only) {
      rule.until = until->wall + hours{24} - Duration{1};
    } else {
      rule.until = until->wall;
    }
  }

  // Missing parts come from DTSTART.
  auto start_day = date::floor<date::days>(rule.dtstart);
  date::year_month_day start_ymd{start_day};
  date::hh_mm_ss<Duration> start_tod{rule.dtstart - start_day};
  if (by_month) rule.months = static_cast<std::uint32_t>(Bits(*by_month));
  if (by_month_day) {
    rule.month_days = *by_month_day;
    std::sort(rule.month_days.begin(), rule.month_days.end());
    rule.month_days.erase(std::unique(rule.month_days.begin(), rule.month_days.end()),
                          rule.month_days.end());
  }
  if (!by_month_day && !have_by_day) {
    if (rule.freq == Freq::kYearly) {
      if (!by_month) rule.months = 1U << static_cast<unsigned>(start_ymd.month());
      rule.month_days = {static_cast<int>(static_cast<unsigned>(start_ymd.day()))};
    } else if (rule.freq == Freq::kMonthly) {
      rule.month_days = {static_cast<int>(static_cast<unsigned>(start_ymd.day()))};
    } else if (rule.freq == Freq::kWeekly) {
      rule.weekdays = {WeekdayEntry{WeekdayOf(start_day), 0}};
    }
  }
  const bool day_based = rule.freq <= Freq::kDaily;
  rule.hours_set = by_hour     ? static_cast<std::uint32_t>(Bits(*by_hour))
                   : day_based ? (1U << start_tod.hours().count())
                               : 0xFFFFFFU;
  rule.minutes_set = by_minute ? Bits(*by_minute)
                     : rule.freq != Freq::kMinutely
                         ? (std::uint64_t{1} << start_tod.minutes().count())
                         : ~std::uint64_t{0} >> 4;
  rule.seconds_set = by_second ? Bits(*by_second) : std::uint64_t{1} << start_tod.seconds().count();

  const int count = rule.count;
  auto compiled = std::make_unique<RRule>(std::move(rule));
  const Found first = compiled->First();
  if (first.exhausted) {
    if (count > 0) {
      return Bad("\"" + std::string(Trim(*rule_text)) +
                 "\": expanding COUNT=" + std::to_string(count) + " looks at more than " +
                 std::to_string(kMaxRRuleCountSteps) +
                 " candidate days or periods; use a smaller COUNT or UNTIL");
    }
    return Bad("\"" + std::string(Trim(*rule_text)) + "\" has no time within " +
               std::to_string(kMaxRRuleSearchSteps) +
               " candidate days or periods of its start (the search limit)");
  }
  if (!first.time) {
    return Bad("\"" + std::string(Trim(*rule_text)) + "\" produces no times");
  }
  out.rule = std::move(compiled);
  return out;
}

}  // namespace weft::core::schedule_detail
