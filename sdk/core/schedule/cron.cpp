// Cron expressions: parsing and the field-by-field search for the next wall time.
//
// Five fields "minute hour day-of-month month day-of-week". Each field is a comma list of
// items; an item is `*`, `N`, `N-M`, optionally followed by `/STEP` (`*/15`, `1-5/2`; `N/S`
// means N..max every S). Month and day-of-week accept names (JAN-DEC, SUN-SAT, any case);
// day-of-week 7 is Sunday like 0. Macros: @yearly @annually @monthly @weekly @daily
// @midnight @hourly.
//
// Day-of-month and day-of-week (Vixie cron): when both fields are restricted, a day matches
// if EITHER matches ("0 0 13 * FRI" = every 13th and every Friday). A field that starts
// with `*` (including `*/2`) counts as unrestricted, and then only the other one decides.
//
// The search moves field by field (month, then day, then hour, then minute) over bit sets,
// so finding the next time costs a few dozen operations however sparse the expression.
#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/core/schedule/local_rule.hpp"

namespace weft::core::schedule_detail {
namespace {

struct FieldDef {
  const char* name;
  int min;
  int max;
  const char* const* names;  // names for min..., or null
  int names_first;           // value of names[0]
  int names_count;
  const char* names_hint;
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr std::array<FieldDef, 5> kFields = {{
    {"minute", 0, 59, nullptr, 0, 0, ""},
    {"hour", 0, 23, nullptr, 0, 0, ""},
    {"day of month", 1, 31, nullptr, 0, 0, ""},
    {"month", 1, 12, kMonthNames, 1, 12, " or month name (JAN-DEC)"},
    {"day of week", 0, 7, kDayNames, 0, 7, " or day name (SUN-SAT)"},
}};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string FieldPrefix(std::size_t index) {
  return "cron: field " + std::to_string(index + 1) + " (" + kFields[index].name + ") ";
}

// Parses a number or a name of the field. Returns an error message on failure.
Result<int> ParseValue(std::size_t index, std::string_view text) {
  const FieldDef& f = kFields[index];
  bool digits = !text.empty() && text.size() <= 9;
  for (char c : text) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) {
    int v = std::stoi(std::string(text));
    if (v < f.min || v > f.max) {
      return InvalidArgument(FieldPrefix(index) + "\"" + std::string(text) + "\" is out of range " +
                             std::to_string(f.min) + "-" + std::to_string(f.max));
    }
    return v;
  }
  if (f.names != nullptr) {
    std::string up = Upper(text);
    for (int k = 0; k < f.names_count; ++k) {
      if (up == f.names[k]) return f.names_first + k;
    }
  }
  if (text.empty()) {
    return InvalidArgument(FieldPrefix(index) + "has an empty value");
  }
  return InvalidArgument(FieldPrefix(index) + "\"" + std::string(text) + "\" is not a number" +
                         f.names_hint);
}

struct Field {
  std::uint64_t bits = 0;
  bool star = false;  // starts with '*': unrestricted for the day-of-month/day-of-week rule
};

Result<Field> ParseField(std::size_t index, std::string_view text) {
  const FieldDef& f = kFields[index];
  Field field;
  field.star = !text.empty() && text.front() == '*';
  std::size_t pos = 0;
  while (true) {
    std::size_t comma = text.find(',', pos);
    std::string_view item =
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (item.empty()) return InvalidArgument(FieldPrefix(index) + "has an empty list item");
    std::string_view range = item;
    int step = 1;
    bool has_step = false;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      std::string_view step_text = item.substr(slash + 1);
      bool ok = !step_text.empty() && step_text.size() <= 6;
      for (char c : step_text) ok = ok && std::isdigit(static_cast<unsigned char>(c));
      if (!ok) {
        return InvalidArgument(FieldPrefix(index) + "\"" + std::string(item) +
                               "\": step must be a whole number");
      }
      step = std::stoi(std::string(step_text));
      if (step < 1) {
        return InvalidArgument(FieldPrefix(index) + "\"" + std::string(item) +
                               "\": step must be at least 1");
      }
      has_step = true;
    }
    int lo = 0;
    int hi = 0;
    if (range == "*") {
      lo = f.min;
      hi = index == 4 ? 6 : f.max;  // day of week: 0-6 (7 is Sunday again)
    } else if (auto dash = range.find('-'); dash != std::string_view::npos) {
      if (dash == 0 || dash + 1 == range.size()) {
        return InvalidArgument(FieldPrefix(index) + "\"" + std::string(item) +
                               "\" is not a valid range (N-M)");
      }
      auto a = ParseValue(index, range.substr(0, dash));
      if (!a) return a.error();
      auto b = ParseValue(index, range.substr(dash + 1));
      if (!b) return b.error();
      lo = *a;
      hi = *b;
      if (lo > hi) {
        return InvalidArgument(FieldPrefix(index) + "\"" + std::string(item) +
                               "\": range start is after its end");
      }
    } else {
      auto a = ParseValue(index, range);
      if (!a) return a.error();
      lo = *a;
      hi = has_step ? f.max : *a;  // "5/15" = 5-max/15
    }
    for (int v = lo; v <= hi; v += step) {
      int bit = (index == 4 && v == 7) ? 0 : v;
      field.bits |= std::uint64_t{1} << bit;
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return field;
}

// Smallest set bit >= from, or -1.
int NextBit(std::uint64_t bits, int from) {
  if (from >= 64) return -1;
  std::uint64_t masked = bits & (~std::uint64_t{0} << from);
  return masked == 0 ? -1 : std::countr_zero(masked);
}

unsigned DaysInMonth(int y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

class CronRule final : public LocalRule {
 public:
  CronRule(const std::array<Field, 5>& f)
      : minutes_(f[0].bits),
        hours_(f[1].bits),
        dom_(f[2].bits),
        months_(f[3].bits),
        dow_(f[4].bits),
        either_day_(!f[2].star && !f[4].star) {}

  std::optional<LocalTime> NextAtOrAfter(LocalTime from) const override {
    using std::chrono::minutes;
    auto start = date::ceil<minutes>(from);
    auto day = date::floor<date::days>(start);
    date::year_month_day ymd{day};
    long long minute_of_day = (start - day).count();
    int y = static_cast<int>(ymd.year());
    int mo = static_cast<int>(static_cast<unsigned>(ymd.month()));
    int d = static_cast<int>(static_cast<unsigned>(ymd.day()));
    int h = static_cast<int>(minute_of_day / 60);
    int mi = static_cast<int>(minute_of_day % 60);
    // Compile() guarantees a matching day exists within 8 years (Feb 29 across 2100).
    const int last_year = std::min(y + 9, kLastYear);
    while (y <= last_year) {
      int next_month = NextBit(months_, mo);
      if (next_month < 0 || next_month > 12) {
        ++y;
        mo = NextBit(months_, 1);
        d = 1, h = 0, mi = 0;
        continue;
      }
      if (next_month != mo) {
        mo = next_month;
        d = 1, h = 0, mi = 0;
      }
      int dim = static_cast<int>(DaysInMonth(y, static_cast<unsigned>(mo)));
      unsigned wd1 = date::weekday{LocalDay(y, static_cast<unsigned>(mo), 1)}.c_encoding();
      int found = -1;
      for (int dd = d; dd <= dim; ++dd) {
        if (DayMatches(dd, (wd1 + static_cast<unsigned>(dd) - 1) % 7)) {
          found = dd;
          break;
        }
      }
      if (found < 0) {
        NextMonth(y, mo);
        d = 1, h = 0, mi = 0;
        continue;
      }
      if (found != d) {
        d = found;
        h = 0, mi = 0;
      }
      int next_hour = NextBit(hours_, h);
      if (next_hour < 0) {
        ++d;
        h = 0, mi = 0;
        continue;
      }
      if (next_hour != h) {
        h = next_hour;
        mi = 0;
      }
      int next_minute = NextBit(minutes_, mi);
      if (next_minute < 0) {
        ++h;
        mi = 0;
        continue;
      }
      mi = next_minute;
      return LocalTime{LocalDay(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))} +
             std::chrono::hours{h} + std::chrono::minutes{mi};
    }
    return std::nullopt;
  }

 private:
  bool DayMatches(int dom, unsigned dow) const {
    bool a = (dom_ >> dom) & 1U;
    bool b = (dow_ >> dow) & 1U;
    return either_day_ ? (a || b) : (a && b);
  }

  static void NextMonth(int& y, int& mo) {
    if (++mo > 12) {
      mo = 1;
      ++y;
    }
  }

  std::uint64_t minutes_, hours_, dom_, months_, dow_;
  bool either_day_;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::unique_ptr<LocalRule>> CompileCron(const std::string& expression) {
  std::string_view text = Trim(expression);
  if (text.empty()) return InvalidArgument("cron: expression is empty");
  std::string expanded;
  if (text.front() == '@') {
    std::string macro = Upper(text);
    if (macro == "@YEARLY" || macro == "@ANNUALLY") {
      expanded = "0 0 1 1 *";
    } else if (macro == "@MONTHLY") {
      expanded = "0 0 1 * *";
    } else if (macro == "@WEEKLY") {
      expanded = "0 0 * * 0";
    } else if (macro == "@DAILY" || macro == "@MIDNIGHT") {
      expanded = "0 0 * * *";
    } else if (macro == "@HOURLY") {
      expanded = "0 * * * *";
    } else {
      return InvalidArgument("cron: unknown macro \"" + std::string(text) +
                             "\" (known: @yearly @annually @monthly @weekly @daily @midnight "
                             "@hourly)");
    }
    text = expanded;
  }
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    std::size_t start = pos;
    while (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos > start) parts.push_back(text.substr(start, pos - start));
  }
  if (parts.size() != 5) {
    return InvalidArgument("cron: expected 5 fields, got " + std::to_string(parts.size()));
  }
  std::array<Field, 5> fields;
  for (std::size_t i = 0; i < 5; ++i) {
    auto f = ParseField(i, parts[i]);
    if (!f) return f.error();
    fields[i] = *f;
  }
  // A day-of-month restriction alone that no selected month can hold never fires.
  bool dom_only = fields[4].star;
  if (dom_only) {
    bool possible = false;
    for (int m = 1; m <= 12 && !possible; ++m) {
      if (!((fields[3].bits >> m) & 1U)) continue;
      unsigned max_day = DaysInMonth(2000, static_cast<unsigned>(m));  // leap year: Feb 29
      for (unsigned d = 1; d <= max_day; ++d) {
        if ((fields[2].bits >> d) & 1U) {
          possible = true;
          break;
        }
      }
    }
    if (!possible) {
      return InvalidArgument("cron: \"" + std::string(Trim(expression)) +
                             "\" never runs: no month in field 4 has a day from field 3");
    }
  }
  return std::unique_ptr<LocalRule>(new CronRule(fields));
}

}  // namespace weft::core::schedule_detail
