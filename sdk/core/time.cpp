#include "sdk/core/time.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <type_traits>

#include "sdk/core/bounds.hpp"

namespace weft::core {

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

std::string FormatTime(TimePoint t) {
  using namespace std::chrono;
  auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(us / 1000000);
  long frac = static_cast<long>(us % 1000000);
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

namespace {

// The whole years a TimePoint (64-bit nanoseconds since 1970) holds: 1677-09-21 to 2262-04-11.
constexpr int kMinYear = 1678;
constexpr int kMaxYear = 2261;

}  // namespace

std::optional<TimePoint> ParseTime(std::string_view s) {
  int y, mo, d, h = 0, mi = 0;
  double sec = 0;
  std::string text(s);
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3) return std::nullopt;
  size_t pos = static_cast<size_t>(consumed);
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ' || text[pos] == 't')) {
    int c2 = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d%n", &h, &mi, &c2) != 2) return std::nullopt;
    pos += 1 + static_cast<size_t>(c2);
    if (pos < text.size() && text[pos] == ':') {
      size_t start = ++pos;
      while (pos < text.size() && (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.')) ++pos;
      sec = std::strtod(text.substr(start, pos - start).c_str(), nullptr);
    }
  }
  int offset_minutes = 0;
  if (pos < text.size()) {
    char c = text[pos];
    if (c == 'Z' || c == 'z') {
      ++pos;
    } else if (c == '+' || c == '-') {
      int oh = 0, om = 0;
      std::string rest = text.substr(pos + 1);
      auto digits = [&rest](size_t from, size_t n) {
        if (rest.size() < from + n) return false;
        for (size_t k = from; k < from + n; ++k) {
          if (!std::isdigit(static_cast<unsigned char>(rest[k]))) return false;
        }
        return true;
      };
      if (!digits(0, 2)) return std::nullopt;
      if (rest.size() >= 5 && rest[2] == ':') {
        if (!digits(3, 2)) return std::nullopt;
        oh = std::stoi(rest.substr(0, 2));
        om = std::stoi(rest.substr(3, 2));
        pos += 6;
      } else if (digits(2, 2)) {
        oh = std::stoi(rest.substr(0, 2));
        om = std::stoi(rest.substr(2, 2));
        pos += 5;
      } else if (rest.size() >= 2) {
        oh = std::stoi(rest.substr(0, 2));
        pos += 3;
      } else {
        return std::nullopt;
      }
      if (oh > 23 || om > 59) return std::nullopt;
      offset_minutes = (c == '+' ? 1 : -1) * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec >= 61) {
    return std::nullopt;
  }
  // Outside these years the conversion below would overflow.
  if (y < kMinYear || y > kMaxYear) return std::nullopt;
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDaysInMonth[mo - 1] || (mo == 2 && d == 29 && !leap)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  std::time_t base = timegm(&tm);
  // Whole seconds, then the fraction (to the microsecond): a year such as 9999 fits a time_t
  // but not a TimePoint.
  long long whole = static_cast<long long>(base) - static_cast<long long>(offset_minutes) * 60 +
                    static_cast<long long>(std::floor(sec));
  long long micros = std::llround((sec - std::floor(sec)) * 1e6);
  if (micros >= 1'000'000) {
    micros -= 1'000'000;
    ++whole;
  }
  const long long nanos = micros * 1000;
  return FromUnix(whole, nanos);
}

std::string FormatDuration(double seconds) {
  char buf[64];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1000);
  } else if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%dm %ds", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  } else if (seconds < 1e15) {  // hours as a double: no int conversion can overflow
    std::snprintf(buf, sizeof buf, "%.0fh %dm", std::floor(seconds / 3600),
                  static_cast<int>(std::fmod(seconds, 3600) / 60));
  } else {  // also inf and nan
    std::snprintf(buf, sizeof buf, "%gs", seconds);
  }
  return buf;
}

std::optional<double> ParseDurationSeconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (start == i) return std::nullopt;
    std::string number(text.substr(start, i - start));
    char* end = nullptr;
    double v = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return std::nullopt;  // "." or "1.2.3"
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    double mult;
    if (unit.empty() || unit == "s") mult = 1;
    else if (unit == "ms") mult = 0.001;
    else if (unit == "m") mult = 60;
    else if (unit == "h") mult = 3600;
    else if (unit == "d") mult = 86400;
    else return std::nullopt;
    if (unit.empty() && any) return std::nullopt;
    total += v * mult;
    any = true;
  }
  return total;
}

bool IsNegativeDuration(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (text.size() < 2 || text.front() != '-') return false;
  auto rest = ParseDurationSeconds(text.substr(1));
  return rest && *rest > 0;
}

std::optional<TimePoint> FromUnix(std::int64_t seconds, std::int64_t nanos) {
  static_assert(std::is_same_v<Duration::period, std::nano> && sizeof(Duration::rep) == 8);
  if (nanos < 0 || nanos > 999'999'999) return std::nullopt;
  if (seconds < kMinUnixSeconds || seconds > kMaxUnixSeconds) return std::nullopt;
  return TimePoint(Duration(seconds * 1'000'000'000 + nanos));
}

double ToSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }

Duration FromSeconds(double seconds) {
  // Saturate: converting a double beyond the duration's range is undefined behaviour.
  static_assert(sizeof(Duration::rep) == 8);
  if (std::isnan(seconds)) return Duration::zero();
  double ticks = seconds * Duration::period::den / Duration::period::num;
  if (ticks >= 0x1p63) return Duration::max();
  if (ticks < -0x1p63) return Duration::min();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

}  // namespace weft::core
