// Schedule limits (docs/limits.md, "Schedules"): hostile rules answer at once or are
// refused. Rules that listed every second of every day used to build ~31 million times on
// each NextAtOrAfter (minutes for Next(100)); the rrule search is lazy now, and each
// search looks at no more than kMaxRRuleSearchSteps candidates. No test here times
// anything: each case would take minutes (or hours) on the old code and must simply end.
#include "tests/unit/schedule/schedule_fixtures.hpp"

using weft::core::CronSchedule;
using weft::core::IntervalSchedule;
using weft::core::RRuleSchedule;
using namespace weft::test;
using Times = std::vector<std::string>;

namespace {

std::string List(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += (i == from ? "" : ",") + std::to_string(i);
  return out;
}

// Every second of the day, as BY* lists (24 * 60 * 60 combinations).
const std::string kEverySecond =
    "BYHOUR=" + List(0, 23) + ";BYMINUTE=" + List(0, 59) + ";BYSECOND=" + List(0, 59);
const std::string kEveryDay = "BYDAY=MO,TU,WE,TH,FR,SA,SU";

weft::core::Schedule RRule(const std::string& text, const std::string& tz = "") {
  return Must(RRuleSchedule{text, tz});
}

}  // namespace

TEST_CASE("limits: an rrule with every BYHOUR x BYMINUTE x BYSECOND answers Next at once",
          "[schedule][rrule][limits]") {
  auto yearly = RRule("FREQ=YEARLY;" + kEveryDay + ";" + kEverySecond);
  auto times = yearly.Next(T("2026-06-01T10:00:00Z"), 100, kForever);
  REQUIRE(times.size() == 100);
  CHECK(Z(times.front()) == "2026-06-01T10:00:01Z");
  CHECK(Z(times.back()) == "2026-06-01T10:01:40Z");
  // Across a year's end, and in a zone across a DST change (the gap's wall times collapse
  // onto 03:00 CEST, which runs once).
  CHECK(NextZ(yearly, "2026-12-31T23:59:58Z", 3) ==
        Times{"2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z", "2027-01-01T00:00:01Z"});
  auto berlin = RRule("FREQ=YEARLY;" + kEveryDay + ";" + kEverySecond, "Europe/Berlin");
  CHECK(NextZ(berlin, "2026-03-29T00:59:58Z", 3) ==
        Times{"2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z", "2026-03-29T01:00:01Z"});
  // MONTHLY, WEEKLY and DAILY forms of the same rule.
  for (const std::string freq : {"MONTHLY", "WEEKLY", "DAILY"}) {
    INFO(freq);
    CHECK(NextZ(RRule("FREQ=" + freq + ";" + kEveryDay + ";" + kEverySecond),
                "2026-02-28T23:59:59Z",
                2) == Times{"2026-03-01T00:00:00Z", "2026-03-01T00:00:01Z"});
  }
}

TEST_CASE("limits: a day of an every-second rrule is 86,400 times (Between, backfill)",
          "[schedule][rrule][limits]") {
  auto yearly = RRule("FREQ=YEARLY;" + kEveryDay + ";" + kEverySecond);
  auto day = yearly.Between(T("2026-06-01T00:00:00Z"), T("2026-06-01T23:59:59Z"), 100000);
  REQUIRE(day.size() == 86400);
  CHECK(Z(day.back()) == "2026-06-01T23:59:59Z");
  // A limit stops it: what a backfill over a long range sees.
  CHECK(yearly.Between(T("2026-01-01T00:00:00Z"), T("2027-01-01T00:00:00Z"), 1001).size() == 1001);
}

TEST_CASE("limits: COUNT on an every-second rrule expands at once", "[schedule][rrule][limits]") {
  auto counted = RRule("DTSTART:20260101T000000 RRULE:FREQ=YEARLY;" + kEveryDay + ";" +
                       kEverySecond + ";COUNT=10000");
  CHECK(NextZ(counted, "2025-12-31T00:00:00Z", 2) ==
        Times{"2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"});
  // The 10,000th time is 9,999 s after the first; none after it.
  CHECK(NextZ(counted, "2026-01-01T02:46:38Z", 3) == Times{"2026-01-01T02:46:39Z"});
}

TEST_CASE("limits: a rule that needs more than the search limit is refused, naming it",
          "[schedule][rrule][limits]") {
  // Odd minutes on an even grid never meet: the search gives up at its limit.
  const std::string odd =
      "FREQ=MINUTELY;INTERVAL=2;BYMINUTE=1,3,5,7,9,11,13,15,17,19,21,23,25,"
      "27,29,31,33,35,37,39,41,43,45,47,49,51,53,55,57,59";
  CHECK(CompileError(RRuleSchedule{odd, ""}) ==
        "rrule: \"" + odd + "\" has no time within " +
            std::to_string(weft::core::kMaxRRuleSearchSteps) +
            " candidate days or periods of its start (the search limit)");
  CHECK(CompileError(RRuleSchedule{odd + ";COUNT=5", ""}) ==
        "rrule: \"" + odd + ";COUNT=5\": expanding COUNT=5 looks at more than " +
            std::to_string(weft::core::kMaxRRuleCountSteps) +
            " candidate days or periods; use a smaller COUNT or UNTIL");
  // A rule with no time at all (no February has a 30th) is refused as before.
  CHECK(CompileError(RRuleSchedule{"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", ""}) ==
        "rrule: \"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30\" produces no times");
}

TEST_CASE("limits: rare and far rrule times are found, and nothing past the last year",
          "[schedule][rrule][limits]") {
  // Feb 29 on a Monday: 2044, then 2072 (28 years, ~10,000 daily periods apart).
  auto rare = RRule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=6");
  CHECK(NextZ(rare, "2026-01-01T00:00:00Z", 2) ==
        Times{"2044-02-29T06:00:00Z", "2072-02-29T06:00:00Z"});
  // Huge INTERVAL values: one time, or times years apart, never past 2261.
  CHECK(NextZ(RRule("DTSTART:20260101T000000 RRULE:FREQ=YEARLY;INTERVAL=1000000"),
              "2020-01-01T00:00:00Z", 3) == Times{"2026-01-01T00:00:00Z"});
  CHECK(NextZ(RRule("DTSTART:20260101T000000 RRULE:FREQ=MINUTELY;INTERVAL=1000000"),
              "2026-01-01T00:00:00Z", 2) == Times{"2027-11-26T10:40:00Z", "2029-10-20T21:20:00Z"});
  CHECK(NextZ(RRule("DTSTART:22611230T000000 RRULE:FREQ=DAILY"), "2261-12-01T00:00:00Z", 5) ==
        Times{"2261-12-30T00:00:00Z", "2261-12-31T00:00:00Z"});
  // An UNTIL far away costs nothing more than one without.
  CHECK(NextZ(RRule("FREQ=HOURLY;UNTIL=22611231T235959Z"), "2100-01-01T00:30:00Z", 1) ==
        Times{"2100-01-01T01:00:00Z"});
}

TEST_CASE("limits: periods years apart with COUNT give the times dateutil gives",
          "[schedule][rrule][limits]") {
  // The old evaluation walked empty periods past 2262 and overflowed into wrong times
  // (2064-10-30T01:00:21 here). python-dateutil 2.9: 2048-01-17 00:09:29, 11:09:29,
  // 15:09:29, 2075-08-16 00:09:29, ...
  auto far = RRule(
      "DTSTART:20200619T210929 RRULE:FREQ=WEEKLY;INTERVAL=1439;BYHOUR=11,0,15;"
      "COUNT=97");
  CHECK(NextZ(far, "2020-01-01T00:00:00Z", 5) ==
        Times{"2048-01-17T00:09:29Z", "2048-01-17T11:09:29Z", "2048-01-17T15:09:29Z",
              "2075-08-16T00:09:29Z", "2075-08-16T11:09:29Z"});
}

TEST_CASE("limits: repeated BY* entries are checked once; long rule texts are refused",
          "[schedule][rrule][cron][limits]") {
  // Hundreds of copies of one day of the month (or weekday): as cheap as one. (Each day
  // used to be checked against every copy: 100,000 copies made every search crawl.)
  std::string days = "1";
  for (int i = 0; i < 400; ++i) days += ",1";
  auto repeated = RRule("FREQ=MONTHLY;BYMONTHDAY=" + days + ";BYHOUR=6");
  CHECK(NextZ(repeated, "2026-01-15T00:00:00Z", 2) ==
        Times{"2026-02-01T06:00:00Z", "2026-03-01T06:00:00Z"});
  std::string weekdays = "1MO";
  for (int i = 0; i < 400; ++i) weekdays += ",1MO";
  CHECK(NextZ(RRule("FREQ=MONTHLY;BYDAY=" + weekdays + ";BYHOUR=6"), "2026-01-15T00:00:00Z", 1) ==
        Times{"2026-02-02T06:00:00Z"});
  const std::string long_rule = "FREQ=MONTHLY;BYMONTHDAY=" + days + days + days;
  CHECK(CompileError(RRuleSchedule{long_rule, ""}) ==
        "rrule: must be at most 2000 characters, got " + std::to_string(long_rule.size()));
  CHECK(CompileError(CronSchedule{"0 0 * * " + std::string(2000, '1'), ""}) ==
        "cron: must be at most 2000 characters, got 2008");
  CHECK(CompileError(CronSchedule{"0 9 * * 1", std::string(65, 'A')}) ==
        "timezone: must be at most 64 characters, got 65");
}

TEST_CASE("limits: cron that never runs is refused; rare cron finds its next time",
          "[schedule][cron][limits]") {
  CHECK(CompileError(CronSchedule{"0 0 30 2 *", ""}) ==
        "cron: \"0 0 30 2 *\" never runs: no month in field 4 has a day from field 3");
  // Feb 29 from 2096: 2100 is not a leap year, so the next is 2104 (8 years on).
  CHECK(NextZ(Cron("0 0 29 2 *"), "2096-03-01T00:00:00Z", 1) == Times{"2104-02-29T00:00:00Z"});
  // Every minute, far ahead and near the last year.
  CHECK(NextZ(Cron("* * * * *"), "2261-12-31T23:58:30Z", 3) == Times{"2261-12-31T23:59:00Z"});
}

TEST_CASE("limits: the minimum interval is 1 second", "[schedule][interval][limits]") {
  CHECK(weft::core::kMinIntervalSeconds == 1);
  CHECK(CompileError(IntervalSchedule{0.5, std::nullopt, ""}) ==
        "interval: must be at least 1 second, got 0.5 seconds");
  CHECK(CompileError(IntervalSchedule{0.000001, std::nullopt, ""}) ==
        "interval: must be at least 1 second, got 1e-06 seconds");
  CHECK(CompileError(IntervalSchedule{0.999999, std::nullopt, ""}) ==
        "interval: must be at least 1 second, got 0.999999 seconds");
  auto every_second = Must(IntervalSchedule{1, std::nullopt, ""});
  CHECK(NextZ(every_second, "2026-01-01T00:00:00Z", 2) ==
        Times{"2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"});
  // An rrule cannot fire more often: it has whole seconds, and FREQ=SECONDLY is refused.
  CHECK(CompileError(RRuleSchedule{"FREQ=SECONDLY", ""}) ==
        "rrule: FREQ=SECONDLY is not supported (use an interval schedule)");
}
