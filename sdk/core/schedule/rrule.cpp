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
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/core/schedule/local_rule.hpp"

namespace weft::core::schedule_detail {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

enum class Freq { kYearly, kMonthly, kWeekly, kDaily, kHourly, kMinutely };

constexpr std::array<const char*, 7> kWeekdayNames = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
constexpr int kMaxCount = 10000;
// A search gives up after this many empty periods (a rule that still matches somewhere
// is rejected at compile time if its first time cannot be found either).
constexpr int kMaxEmptyPeriods = 200000;

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
    positions_in_year_ = r_.freq == Freq::kYearly && r_.months == 0;
    for (const auto& e : r_.weekdays) {
      if (e.position == 0) {
        plain_weekdays_ |= 1U << e.weekday;
      } else {
        has_positions_ = true;
      }
    }
    needs_calendar_ = r_.months != 0 || !r_.month_days.empty() || has_positions_;
    // Times of day for the day-based frequencies; minute/second lists for the others.
    for (int h = 0; h < 24; ++h) {
      if (!((r_.hours_set >> h) & 1U)) continue;
      for (int m = 0; m < 60; ++m) {
        if (!((r_.minutes_set >> m) & 1U)) continue;
        for (int s = 0; s < 60; ++s) {
          if ((r_.seconds_set >> s) & 1U) day_times_.push_back(seconds{h * 3600 + m * 60 + s});
        }
      }
    }
    for (int m = 0; m < 60; ++m) {
      if (!((r_.minutes_set >> m) & 1U)) continue;
      for (int s = 0; s < 60; ++s) {
        if ((r_.seconds_set >> s) & 1U) hour_times_.push_back(seconds{m * 60 + s});
      }
    }
    for (int s = 0; s < 60; ++s) {
      if ((r_.seconds_set >> s) & 1U) minute_times_.push_back(seconds{s});
    }
    if (r_.count > 0) Materialize();
  }

  std::optional<LocalTime> NextAtOrAfter(LocalTime from) const override {
    if (from < r_.dtstart) from = r_.dtstart;
    if (r_.count > 0) {
      auto it = std::lower_bound(all_.begin(), all_.end(), from);
      if (it == all_.end()) return std::nullopt;
      return *it;
    }
    if (r_.until && from > *r_.until) return std::nullopt;
    if (from > LatestLocal()) return std::nullopt;
    std::vector<LocalTime> found;
    found.reserve(32);
    long long k = PeriodOf(from);
    for (int empty = 0; empty < kMaxEmptyPeriods; ++empty) {
      found.clear();
      if (!Occurrences(k, found)) return std::nullopt;
      for (LocalTime t : found) {
        if (t < from) continue;
        if (r_.until && t > *r_.until) return std::nullopt;
        return t;
      }
      k = NextPeriod(k);
    }
    return std::nullopt;
  }

 private:
  // All times of a COUNT rule, up front (COUNT is at most kMaxCount).
  void Materialize() {
    std::vector<LocalTime> found;
    long long k = 0;
    for (int empty = 0;
         empty < kMaxEmptyPeriods && all_.size() < static_cast<std::size_t>(r_.count);) {
      found.clear();
      if (!Occurrences(k, found)) break;
      bool any = false;
      for (LocalTime t : found) {
        if (t < r_.dtstart) continue;
        all_.push_back(t);
        any = true;
        if (all_.size() == static_cast<std::size_t>(r_.count)) break;
      }
      empty = any ? 0 : empty + 1;
      k = NextPeriod(k);
    }
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

  // The period after k, skipping whole days that cannot match for HOURLY and MINUTELY.
  long long NextPeriod(long long k) const {
    if (r_.freq != Freq::kHourly && r_.freq != Freq::kMinutely) return k + 1;
    const bool hourly = r_.freq == Freq::kHourly;
    const long long unit_per_day = hourly ? 24 : 1440;
    const long long base = hourly ? start_hour_ : start_minute_;
    long long index = base + k * r_.interval;
    date::local_days day{date::days{FloorDiv(index, unit_per_day)}};
    if (DayMatches(day)) return k + 1;
    long long next_day_index = (day.time_since_epoch().count() + 1) * unit_per_day;
    return std::max(k + 1, CeilDiv(next_day_index - base, r_.interval));
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

  void AddDay(date::local_days day, std::vector<LocalTime>& out) const {
    if (!DayMatches(day)) return;
    for (auto tod : day_times_) out.push_back(LocalTime{day} + tod);
  }

  // Appends the times of period k in order. False once the period is past the horizon.
  bool Occurrences(long long k, std::vector<LocalTime>& out) const {
    const long long step = k * r_.interval;
    switch (r_.freq) {
      case Freq::kYearly: {
        long long y = start_year_ + step;
        if (y > kLastYear) return false;
        const int year = static_cast<int>(y);
        for (unsigned m = 1; m <= 12; ++m) {
          if (r_.months != 0 && !((r_.months >> m) & 1U)) continue;
          AddMonth(year, m, out);
        }
        return true;
      }
      case Freq::kMonthly: {
        long long index = start_month_index_ + step;
        long long y = FloorDiv(index, 12);
        if (y > kLastYear) return false;
        AddMonth(static_cast<int>(y), static_cast<unsigned>(index - y * 12 + 1), out);
        return true;
      }
      case Freq::kWeekly: {
        auto week = start_week_ + date::days{7 * step};
        if (LocalTime{week} > LatestLocal()) return false;
        for (int i = 0; i < 7; ++i) AddDay(week + date::days{i}, out);
        return true;
      }
      case Freq::kDaily: {
        auto day = start_day_ + date::days{step};
        if (LocalTime{day} > LatestLocal()) return false;
        AddDay(day, out);
        return true;
      }
      case Freq::kHourly:
      case Freq::kMinutely: {
        const bool hourly = r_.freq == Freq::kHourly;
        const long long index = (hourly ? start_hour_ : start_minute_) + step;
        const long long per_day = hourly ? 24 : 1440;
        date::local_days day{date::days{FloorDiv(index, per_day)}};
        if (LocalTime{day} > LatestLocal()) return false;
        if (!DayMatches(day)) return true;
        const long long in_day = index - FloorDiv(index, per_day) * per_day;
        const int hour = static_cast<int>(hourly ? in_day : in_day / 60);
        if (!((r_.hours_set >> hour) & 1U)) return true;
        if (hourly) {
          for (auto tod : hour_times_) out.push_back(LocalTime{day} + hours{hour} + tod);
        } else {
          const int minute = static_cast<int>(in_day % 60);
          if (!((r_.minutes_set >> minute) & 1U)) return true;
          for (auto s : minute_times_) {
            out.push_back(LocalTime{day} + hours{hour} + minutes{minute} + s);
          }
        }
        return true;
      }
    }
    return false;
  }

  void AddMonth(int y, unsigned m, std::vector<LocalTime>& out) const {
    const unsigned dim = DaysInMonth(y, m);
    const auto first = LocalDay(y, m, 1);
    if (r_.weekdays.empty() && !r_.month_days.empty()) {
      // Only the listed days (in calendar order, whatever order they were written in).
      std::array<bool, 32> on{};
      for (int v : r_.month_days) {
        int d = v > 0 ? v : static_cast<int>(dim) + v + 1;
        if (d >= 1 && d <= static_cast<int>(dim)) on[static_cast<std::size_t>(d)] = true;
      }
      for (unsigned d = 1; d <= dim; ++d) {
        if (on[d]) AddDay(first + date::days{d - 1}, out);
      }
      return;
    }
    DayParts p;
    p.year = y;
    p.month = m;
    p.month_len = static_cast<int>(dim);
    const unsigned first_weekday = WeekdayOf(first);
    for (unsigned d = 0; d < dim; ++d) {
      p.day = first + date::days{d};
      p.mday = static_cast<int>(d) + 1;
      p.weekday = (first_weekday + d) % 7;
      if (!DayMatches(p)) continue;
      for (auto tod : day_times_) out.push_back(LocalTime{p.day} + tod);
    }
  }

  Rule r_;
  date::local_days start_day_;
  int start_year_ = 0;
  long long start_month_index_ = 0;
  date::local_days start_week_;
  long long start_hour_ = 0;
  long long start_minute_ = 0;
  bool positions_in_year_ = false;
  bool has_positions_ = false;
  bool needs_calendar_ = false;       // months, month days or positions: DayParts needed
  std::uint32_t plain_weekdays_ = 0;  // BYDAY entries without a position
  std::vector<seconds> day_times_;
  std::vector<seconds> hour_times_;
  std::vector<seconds> minute_times_;
  std::vector<LocalTime> all_;  // COUNT rules
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
    rule.weekdays.push_back(*e);
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
  if (by_month_day) rule.month_days = *by_month_day;
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

  auto compiled = std::make_unique<RRule>(std::move(rule));
  if (!compiled->NextAtOrAfter(LocalTime{LocalDay(1900, 1, 1)})) {
    return Bad("\"" + std::string(Trim(*rule_text)) + "\" produces no times");
  }
  out.rule = std::move(compiled);
  return out;
}

}  // namespace weft::core::schedule_detail
