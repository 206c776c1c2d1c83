// Zone: date-tz offsets, extended past the TZif file's last transition by its POSIX TZ
// footer (RFC 8536 section 3.3). See zone.hpp.
#include "sdk/core/schedule/zone.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "sdk/core/schedule.hpp"

namespace weft::core::schedule_detail {

using std::chrono::seconds;

// "Mm.w.d/time", "Jn/time" or "n/time".
struct PosixDate {
  enum Kind { kMonthWeekDay, kJulianNoLeap, kZeroBased } kind = kMonthWeekDay;
  int month = 0, week = 0, weekday = 0;  // M form
  int day = 0;                           // J and n forms
  seconds time = std::chrono::hours{2};  // local time of the change, may be < 0 or > 24h
};

struct PosixTz {
  seconds std_offset{0};  // UTC offset (east positive, unlike the POSIX text)
  seconds dst_offset{0};
  PosixDate start;  // into DST, in standard local time
  PosixDate end;    // out of DST, in DST local time
};

namespace {

const date::sys_seconds kFarFuture = date::sys_days{date::year{30000} / 1 / 1};

class PosixParser {
 public:
  explicit PosixParser(std::string_view s) : s_(s) {}

  std::optional<PosixTz> Parse() {
    PosixTz tz;
    if (!Name()) return std::nullopt;
    auto std_off = Offset();
    if (!std_off) return std::nullopt;
    tz.std_offset = -*std_off;
    if (AtEnd()) return std::nullopt;  // no DST: nothing to add to date-tz
    if (!Name()) return std::nullopt;
    tz.dst_offset = tz.std_offset + std::chrono::hours{1};
    if (!AtEnd() && Peek() != ',') {
      auto dst_off = Offset();
      if (!dst_off) return std::nullopt;
      tz.dst_offset = -*dst_off;
    }
    if (!Eat(',')) return std::nullopt;
    auto start = Date();
    if (!start || !Eat(',')) return std::nullopt;
    auto end = Date();
    if (!end || !AtEnd()) return std::nullopt;
    tz.start = *start;
    tz.end = *end;
    return tz;
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }

  bool Name() {
    if (Eat('<')) {
      auto close = s_.find('>', pos_);
      if (close == std::string_view::npos) return false;
      pos_ = close + 1;
      return true;
    }
    std::size_t start = pos_;
    while (!AtEnd() && std::isalpha(static_cast<unsigned char>(Peek()))) ++pos_;
    return pos_ - start >= 3;
  }

  std::optional<int> Number(int max_digits) {
    std::size_t start = pos_;
    int v = 0;
    while (!AtEnd() && std::isdigit(static_cast<unsigned char>(Peek())) &&
           static_cast<int>(pos_ - start) < max_digits) {
      v = v * 10 + (Peek() - '0');
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    return v;
  }

  // [+-]h[hh][:mm[:ss]]
  std::optional<seconds> Offset() {
    int sign = 1;
    if (Eat('-')) {
      sign = -1;
    } else {
      Eat('+');
    }
    auto h = Number(3);
    if (!h) return std::nullopt;
    int m = 0, sec = 0;
    if (Eat(':')) {
      auto mm = Number(2);
      if (!mm) return std::nullopt;
      m = *mm;
      if (Eat(':')) {
        auto ss = Number(2);
        if (!ss) return std::nullopt;
        sec = *ss;
      }
    }
    return seconds{sign * (*h * 3600 + m * 60 + sec)};
  }

  std::optional<PosixDate> Date() {
    PosixDate d;
    if (Eat('M')) {
      auto m = Number(2);
      if (!m || !Eat('.')) return std::nullopt;
      auto w = Number(1);
      if (!w || !Eat('.')) return std::nullopt;
      auto wd = Number(1);
      if (!wd || *m < 1 || *m > 12 || *w < 1 || *w > 5 || *wd > 6) return std::nullopt;
      d.kind = PosixDate::kMonthWeekDay;
      d.month = *m;
      d.week = *w;
      d.weekday = *wd;
    } else if (Eat('J')) {
      auto n = Number(3);
      if (!n || *n < 1 || *n > 365) return std::nullopt;
      d.kind = PosixDate::kJulianNoLeap;
      d.day = *n;
    } else {
      auto n = Number(3);
      if (!n || *n > 365) return std::nullopt;
      d.kind = PosixDate::kZeroBased;
      d.day = *n;
    }
    if (Eat('/')) {
      auto t = Offset();
      if (!t) return std::nullopt;
      d.time = *t;
    }
    return d;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

date::local_days DayOf(const PosixDate& d, int y) {
  const date::year year{y};
  switch (d.kind) {
    case PosixDate::kMonthWeekDay: {
      const auto month = date::month{static_cast<unsigned>(d.month)};
      if (d.week == 5) {
        return date::local_days{year / month /
                                date::weekday{static_cast<unsigned>(d.weekday)}[date::last]};
      }
      return date::local_days{
          year / month /
          date::weekday{static_cast<unsigned>(d.weekday)}[static_cast<unsigned>(d.week)]};
    }
    case PosixDate::kJulianNoLeap: {
      int n = d.day;  // 1..365, February 29 is never counted
      if (year.is_leap() && n >= 60) ++n;
      return date::local_days{year / 1 / 1} + date::days{n - 1};
    }
    case PosixDate::kZeroBased:
      return date::local_days{year / 1 / 1} + date::days{d.day};
  }
  return date::local_days{year / 1 / 1};
}

struct Change {
  date::sys_seconds at;
  seconds offset;  // in effect from `at`
};

// The changes of years y-1..y+1, in order.
std::array<Change, 6> ChangesAround(const PosixTz& tz, int y) {
  std::array<Change, 6> out{};
  std::size_t i = 0;
  for (int year = y - 1; year <= y + 1; ++year) {
    auto start = date::sys_seconds{
        (DayOf(tz.start, year) + tz.start.time - tz.std_offset).time_since_epoch()};
    auto end =
        date::sys_seconds{(DayOf(tz.end, year) + tz.end.time - tz.dst_offset).time_since_epoch()};
    out[i++] = Change{start, tz.dst_offset};
    out[i++] = Change{end, tz.std_offset};
  }
  std::sort(out.begin(), out.end(), [](const Change& a, const Change& b) { return a.at < b.at; });
  return out;
}

// The footer of a TZif v2+ file: the text between the last two newlines.
std::shared_ptr<const PosixTz> ReadFooter(const std::string& name) {
  const char* dir = std::getenv("TZDIR");
  std::string path =
      std::string(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo") + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() < 6 || data.compare(0, 4, "TZif") != 0 || data[4] < '2' || data.back() != '\n') {
    return nullptr;
  }
  auto open = data.rfind('\n', data.size() - 2);
  if (open == std::string::npos) return nullptr;
  auto rule = PosixParser(std::string_view(data).substr(open + 1, data.size() - open - 2)).Parse();
  if (!rule) return nullptr;
  return std::make_shared<const PosixTz>(*rule);
}

std::shared_ptr<const PosixTz> CachedFooter(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const PosixTz>, std::less<>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  auto rule = ReadFooter(name);
  cache.emplace(name, rule);
  return rule;
}

ZonePeriod FromInfo(const date::sys_info& info) {
  return ZonePeriod{info.begin, info.end, info.offset};
}

}  // namespace

Result<Zone> Zone::Find(const std::string& name) {
  Zone zone;
  if (name.empty() || name == "UTC") return zone;
  if (name.size() > kMaxTimeZoneNameLength) {
    return InvalidArgument("timezone: must be at most " + std::to_string(kMaxTimeZoneNameLength) +
                           " characters, got " + std::to_string(name.size()));
  }
  try {
    zone.tz_ = date::locate_zone(name);
  } catch (const std::exception&) {
    return InvalidArgument("timezone: unknown time zone \"" + name + "\"");
  }
  zone.tail_ = CachedFooter(std::string(zone.tz_->name()));
  return zone;
}

ZonePeriod Zone::At(date::sys_seconds t) const {
  if (tz_ == nullptr) {
    return ZonePeriod{date::sys_days{date::year::min() / 1 / 1},
                      date::sys_days{date::year::max() / 12 / 31}, seconds{0}};
  }
  ZonePeriod p = FromInfo(tz_->get_info(t));
  if (tail_ == nullptr || p.end < kFarFuture) return p;
  // After the last explicit transition: the footer's rule.
  const int y = static_cast<int>(date::year_month_day{date::floor<date::days>(t)}.year());
  auto changes = ChangesAround(*tail_, y);
  for (std::size_t i = changes.size(); i-- > 0;) {
    if (changes[i].at > t) continue;
    if (changes[i].at >= p.begin) {
      p.begin = changes[i].at;
      p.offset = changes[i].offset;
    }
    break;
  }
  for (const auto& c : changes) {
    if (c.at > t && c.offset != p.offset) {
      p.end = c.at;
      break;
    }
  }
  return p;
}

LocalLookup Zone::AtLocal(date::local_seconds l) const {
  LocalLookup out;
  if (tz_ == nullptr) {
    out.first = out.second = At(date::sys_seconds{l.time_since_epoch()});
    return out;
  }
  // The period holding l read as UTC, and its neighbours, cover every offset l can have.
  const ZonePeriod mid = At(date::sys_seconds{l.time_since_epoch()});
  const std::array<ZonePeriod, 3> around = {At(mid.begin - seconds{1}), mid, At(mid.end)};
  auto holds = [&](const ZonePeriod& p) {
    auto s = date::sys_seconds{l.time_since_epoch()} - p.offset;
    return s >= p.begin && s < p.end;
  };
  int found = 0;
  for (const auto& p : around) {
    if (!holds(p)) continue;
    (found == 0 ? out.first : out.second) = p;
    ++found;
  }
  if (found == 2) {
    out.kind = LocalLookup::kAmbiguous;
    return out;
  }
  if (found == 1) {
    out.second = out.first;
    return out;
  }
  // In a gap: between the period whose end it passed and the next one.
  out.kind = LocalLookup::kNonexistent;
  out.first = around[0];
  out.second = around[1];
  for (std::size_t i = 0; i + 1 < around.size(); ++i) {
    auto s_before = date::sys_seconds{l.time_since_epoch()} - around[i].offset;
    auto s_after = date::sys_seconds{l.time_since_epoch()} - around[i + 1].offset;
    if (s_before >= around[i].end && s_after < around[i + 1].begin) {
      out.first = around[i];
      out.second = around[i + 1];
      break;
    }
  }
  return out;
}

}  // namespace weft::core::schedule_detail
