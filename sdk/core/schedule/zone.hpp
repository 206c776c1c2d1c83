#pragma once
// Private to sdk/core/schedule*.cpp: a time zone's offsets, for the schedule code.
//
// Offsets come from the system tz database through date-tz. Its reader only knows the
// explicit transitions in the TZif file, which end in 2037 ("fat" files) or much earlier
// ("slim" files); after the last one it would keep the last offset for ever. The file's
// footer holds the rule for later years as a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3"),
// so Zone reads it once per zone and applies it after the last explicit transition.
#include <date/tz.h>

#include <chrono>
#include <memory>
#include <string>

#include "sdk/core/error.hpp"

namespace weft::core::schedule_detail {

// One stretch of constant UTC offset: [begin, end).
struct ZonePeriod {
  date::sys_seconds begin;
  date::sys_seconds end;
  std::chrono::seconds offset{0};
};

// Where a wall time falls: in one period, in a gap between two (first = before the gap),
// or in two (an overlap; first = the earlier).
struct LocalLookup {
  enum Kind { kUnique, kNonexistent, kAmbiguous } kind = kUnique;
  ZonePeriod first;
  ZonePeriod second;
};

struct PosixTz;  // the footer rule, parsed

class Zone {
 public:
  Zone() = default;  // UTC
  // "" and "UTC" are UTC. Errors: `timezone: unknown time zone "Mars/Olympus"`.
  static Result<Zone> Find(const std::string& name);

  bool is_utc() const { return tz_ == nullptr; }
  ZonePeriod At(date::sys_seconds t) const;
  LocalLookup AtLocal(date::local_seconds l) const;

 private:
  const date::time_zone* tz_ = nullptr;
  std::shared_ptr<const PosixTz> tail_;  // null: no DST rule after the last transition
};

}  // namespace weft::core::schedule_detail
