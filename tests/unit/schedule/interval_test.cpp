// Interval schedules: anchor + k * interval, strictly after `after`; whole days in a zone
// keep the anchor's wall time across DST.
#include "tests/unit/schedule/schedule_fixtures.hpp"

using weft::core::IntervalSchedule;
using weft::core::Schedule;
using namespace weft::test;

namespace {
Schedule Every(double seconds, std::optional<std::string> anchor = std::nullopt,
               std::string tz = "") {
  IntervalSchedule spec;
  spec.interval_seconds = seconds;
  if (anchor) spec.anchor = T(*anchor);
  spec.timezone = std::move(tz);
  return Must(spec);
}
}  // namespace

TEST_CASE("interval: times are anchor + k * interval, strictly after `after`",
          "[schedule][interval]") {
  auto s = Every(3600, "2026-01-01T00:30:00Z");
  CHECK(NextZ(s, "2026-03-01T10:00:00Z", 3) == std::vector<std::string>{"2026-03-01T10:30:00Z",
                                                                        "2026-03-01T11:30:00Z",
                                                                        "2026-03-01T12:30:00Z"});
  // Exactly on a schedule time: that time is not "after".
  CHECK(NextZ(s, "2026-03-01T10:30:00Z", 1) == std::vector<std::string>{"2026-03-01T11:30:00Z"});
  // Before the anchor (negative k) the grid extends backwards.
  CHECK(NextZ(s, "2025-12-31T22:59:59Z", 2) ==
        std::vector<std::string>{"2025-12-31T23:30:00Z", "2026-01-01T00:30:00Z"});
}

TEST_CASE("interval: an anchor in the future still yields times now (negative k)",
          "[schedule][interval]") {
  auto s = Every(900, "2030-01-01T00:05:00Z");
  CHECK(NextZ(s, "2026-05-05T12:07:00Z", 3) == std::vector<std::string>{"2026-05-05T12:20:00Z",
                                                                        "2026-05-05T12:35:00Z",
                                                                        "2026-05-05T12:50:00Z"});
}

TEST_CASE("interval: sub-second intervals and anchors keep their precision",
          "[schedule][interval]") {
  auto s = Every(1.5, "2026-01-01T00:00:00.250Z");
  CHECK(NextZ(s, "2026-01-01T00:00:01Z", 3) ==
        std::vector<std::string>{"2026-01-01T00:00:01.750000Z", "2026-01-01T00:00:03.250000Z",
                                 "2026-01-01T00:00:04.750000Z"});
  auto odd = Every(90.000001, "2026-01-01T00:00:00Z");
  CHECK(NextZ(odd, "2026-01-01T00:00:00Z", 2) ==
        std::vector<std::string>{"2026-01-01T00:01:30.000001Z", "2026-01-01T00:03:00.000002Z"});
}

TEST_CASE("interval: the default anchor is 2020-01-01 00:00 in the schedule's zone",
          "[schedule][interval]") {
  CHECK(NextZ(Every(7200), "2026-06-01T09:10:00Z", 2) ==
        std::vector<std::string>{"2026-06-01T10:00:00Z", "2026-06-01T12:00:00Z"});
  // Berlin midnight of 2020-01-01 is 2019-12-31T23:00Z; a 5h grid from there, in elapsed time.
  auto berlin = Every(5 * 3600, std::nullopt, "Europe/Berlin");
  CHECK(NextZ(berlin, "2019-12-31T23:00:00Z", 2) ==
        std::vector<std::string>{"2020-01-01T04:00:00Z", "2020-01-01T09:00:00Z"});
  // Non-day intervals are elapsed time: an hourly grid does not move with DST.
  auto hourly = Every(3600, std::nullopt, "Europe/Berlin");
  CHECK(NextZ(hourly, "2026-03-29T00:30:00Z", 3) ==
        std::vector<std::string>{"2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z",
                                 "2026-03-29T03:00:00Z"});
}

TEST_CASE("interval: whole days in Europe/Berlin keep the local wall time across DST",
          "[schedule][interval][dst]") {
  // 09:00 Berlin daily; CET (+01) until 2026-03-29, CEST (+02) until 2026-10-25.
  auto daily = Every(86400, "2026-03-27T09:00:00+01:00", "Europe/Berlin");
  CHECK(NextZ(daily, "2026-03-27T08:00:00Z", 4) ==
        std::vector<std::string>{"2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z",
                                 "2026-03-30T07:00:00Z", "2026-03-31T07:00:00Z"});
  CHECK(NextZ(daily, "2026-10-23T12:00:00Z", 3) ==
        std::vector<std::string>{"2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z",
                                 "2026-10-26T08:00:00Z"});
  // The same anchor in UTC is exact 24h steps.
  auto utc = Every(86400, "2026-03-27T09:00:00+01:00");
  CHECK(NextZ(utc, "2026-03-28T12:00:00Z", 1) == std::vector<std::string>{"2026-03-29T08:00:00Z"});
  // Anchored years later: still 09:00 local on the transition days (negative k).
  auto future = Every(86400, "2031-01-01T09:00:00+01:00", "Europe/Berlin");
  CHECK(NextZ(future, "2026-03-28T12:00:00Z", 1) ==
        std::vector<std::string>{"2026-03-29T07:00:00Z"});
}

// Found by tests/fuzz (time): whole days in a zone from an anchor ~300 years back overflowed
// the nanosecond difference (UBSan); the steps are counted in microseconds.
TEST_CASE("interval: whole days from an anchor centuries back", "[schedule][interval]") {
  auto zoned = Every(2 * 86400, "1729-11-26T09:00:00+01:00", "Etc/GMT-1");
  CHECK(NextZ(zoned, "2026-03-28T12:00:00Z", 2) ==
        std::vector<std::string>{"2026-03-30T08:00:00Z", "2026-04-01T08:00:00Z"});
  auto utc = Every(2 * 86400, "1729-11-26T09:00:00+01:00");
  CHECK(NextZ(utc, "2026-03-28T12:00:00Z", 2) ==
        std::vector<std::string>{"2026-03-30T08:00:00Z", "2026-04-01T08:00:00Z"});
}

TEST_CASE("interval: whole days in America/New_York, including a wall time in the gap",
          "[schedule][interval][dst]") {
  // Spring forward 2026-03-08 02:00 EST -> 03:00 EDT; fall back 2026-11-01 02:00 EDT -> 01:00 EST.
  auto daily = Every(86400, "2026-03-06T09:00:00-05:00", "America/New_York");
  CHECK(NextZ(daily, "2026-03-07T00:00:00Z", 3) ==
        std::vector<std::string>{"2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z",
                                 "2026-03-09T13:00:00Z"});
  CHECK(NextZ(daily, "2026-10-31T00:00:00Z", 3) ==
        std::vector<std::string>{"2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z",
                                 "2026-11-02T14:00:00Z"});
  // Weekly at 02:30: on the spring-forward Sunday 02:30 does not exist and runs at 03:30 EDT.
  auto weekly = Every(7 * 86400, "2026-03-01T02:30:00-05:00", "America/New_York");
  CHECK(NextZ(weekly, "2026-03-01T07:30:00Z", 2) ==
        std::vector<std::string>{"2026-03-08T07:30:00Z", "2026-03-15T06:30:00Z"});
  // Daily at 01:30 (repeated on the fall-back day): once, at the first 01:30 (EDT).
  auto early = Every(86400, "2026-10-30T01:30:00-04:00", "America/New_York");
  CHECK(NextZ(early, "2026-10-31T12:00:00Z", 2) ==
        std::vector<std::string>{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
}

TEST_CASE("interval: Next stops at `until` and after `n`; Between is inclusive with a limit",
          "[schedule][interval]") {
  auto s = Every(3600, "2026-01-01T00:00:00Z");
  CHECK(Z(s.Next(T("2026-01-01T10:00:00Z"), 10, T("2026-01-01T12:00:00Z"))) ==
        std::vector<std::string>{"2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z"});
  CHECK(s.Next(T("2026-01-01T10:00:00Z"), 0, kForever).empty());
  CHECK(Z(s.Between(T("2026-01-01T10:00:00Z"), T("2026-01-01T13:00:00Z"), 100)) ==
        std::vector<std::string>{"2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z",
                                 "2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z"});
  CHECK(Z(s.Between(T("2026-01-01T10:00:00Z"), T("2026-01-01T13:00:00Z"), 2)) ==
        std::vector<std::string>{"2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z"});
  CHECK(s.Between(T("2026-01-01T10:30:00Z"), T("2026-01-01T10:45:00Z"), 10).empty());
  CHECK(s.Between(T("2026-01-01T13:00:00Z"), T("2026-01-01T10:00:00Z"), 10).empty());
  // The day path (zone set) honours the same limits.
  auto daily = Every(86400, "2026-01-01T09:00:00+01:00", "Europe/Berlin");
  CHECK(Z(daily.Between(T("2026-03-28T08:00:00Z"), T("2026-03-30T07:00:00Z"), 10)) ==
        std::vector<std::string>{"2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z",
                                 "2026-03-30T07:00:00Z"});
}

TEST_CASE("interval: compile errors name the field and the problem", "[schedule][interval]") {
  CHECK(CompileError(IntervalSchedule{0, std::nullopt, ""}) ==
        "interval: must be at least 1 second, got 0 seconds");
  CHECK(CompileError(IntervalSchedule{-5, std::nullopt, ""}) ==
        "interval: must be at least 1 second, got -5 seconds");
  CHECK(CompileError(IntervalSchedule{std::nan(""), std::nullopt, ""}) ==
        "interval: must be at least 1 second, got nan seconds");
  CHECK(CompileError(IntervalSchedule{1e-9, std::nullopt, ""}) ==
        "interval: must be at least 1 second, got 1e-09 seconds");
  CHECK(CompileError(IntervalSchedule{1e12, std::nullopt, ""}) ==
        "interval: must be at most 36500 days, got 1000000000000 seconds");
  CHECK(CompileError(IntervalSchedule{60, std::nullopt, "Mars/Olympus"}) ==
        "timezone: unknown time zone \"Mars/Olympus\"");
}

TEST_CASE("interval: Describe", "[schedule][interval]") {
  CHECK(Every(3600).Describe() == "every 1h");
  CHECK(Every(5400).Describe() == "every 1h30m");
  CHECK(Every(1.5).Describe() == "every 1.5s");
  CHECK(Every(90061).Describe() == "every 1d1h1m1s");
  CHECK(Every(3600, std::nullopt, "Europe/Berlin").Describe() == "every 1h (Europe/Berlin)");
  CHECK(Every(7 * 86400, "2026-01-05T09:00:00+01:00", "Europe/Berlin").Describe() ==
        "every 7d at 09:00 (Europe/Berlin)");
  CHECK(Every(86400).Describe() == "every 1d at 00:00 (UTC)");
  CHECK(Every(86400, "2026-01-05T06:15:30Z", "UTC").Describe() == "every 1d at 06:15:30 (UTC)");
}

TEST_CASE("IsKnownTimeZone", "[schedule]") {
  CHECK(weft::core::IsKnownTimeZone(""));
  CHECK(weft::core::IsKnownTimeZone("UTC"));
  CHECK(weft::core::IsKnownTimeZone("Europe/Berlin"));
  CHECK(weft::core::IsKnownTimeZone("America/New_York"));
  CHECK_FALSE(weft::core::IsKnownTimeZone("Mars/Olympus"));
  CHECK_FALSE(weft::core::IsKnownTimeZone("../../etc/passwd"));
  CHECK_FALSE(weft::core::IsKnownTimeZone("europe/berlin"));
}
