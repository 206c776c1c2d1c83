// RRULE (RFC 5545 subset): frequencies, BY* parts, positions, COUNT, UNTIL, INTERVAL, WKST,
// defaults taken from DTSTART, DTSTART forms, DST, Describe and each error message.
#include "tests/unit/schedule/schedule_fixtures.hpp"

using weft::core::RRuleSchedule;
using namespace weft::test;
using Times = std::vector<std::string>;

namespace {
weft::core::Schedule RRule(const std::string& text, const std::string& tz = "") {
  return Must(RRuleSchedule{text, tz});
}
std::string Err(const std::string& text, const std::string& tz = "") {
  return CompileError(RRuleSchedule{text, tz});
}
}  // namespace

TEST_CASE("rrule: weekly BYDAY in a zone", "[schedule][rrule]") {
  // Mon/Wed/Fri 09:00 New York; 2026-03-04 is a Wednesday (already past at 15:00Z); DST
  // starts on 03-08, so 09:00 moves from 14:00Z to 13:00Z.
  CHECK(NextZ(RRule("FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=9;BYMINUTE=0", "America/New_York"),
              "2026-03-04T15:00:00Z", 5) == Times{"2026-03-06T14:00:00Z", "2026-03-09T13:00:00Z",
                                                  "2026-03-11T13:00:00Z", "2026-03-13T13:00:00Z",
                                                  "2026-03-16T13:00:00Z"});
}

TEST_CASE("rrule: INTERVAL on weeks, and WKST decides which days share a week",
          "[schedule][rrule]") {
  // Every other week, Monday and Thursday, from Monday 2026-01-05 09:00 Berlin (08:00Z).
  CHECK(NextZ(RRule("DTSTART:20260105T090000\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
                    "Europe/Berlin"),
              "2026-01-01T00:00:00Z", 5) == Times{"2026-01-05T08:00:00Z", "2026-01-08T08:00:00Z",
                                                  "2026-01-19T08:00:00Z", "2026-01-22T08:00:00Z",
                                                  "2026-02-02T08:00:00Z"});
  // Weeks starting Sunday: the Sunday before the Monday is in the same week (and before
  // DTSTART), so the next Sunday is two weeks on.
  CHECK(NextZ(RRule("DTSTART:20260105T090000 RRULE:FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=MO,SU"),
              "2026-01-01T00:00:00Z", 4) == Times{"2026-01-05T09:00:00Z", "2026-01-18T09:00:00Z",
                                                  "2026-01-19T09:00:00Z", "2026-02-01T09:00:00Z"});
  CHECK(NextZ(RRule("DTSTART:20260105T090000 RRULE:FREQ=WEEKLY;INTERVAL=2;WKST=MO;BYDAY=MO,SU"),
              "2026-01-01T00:00:00Z", 4) == Times{"2026-01-05T09:00:00Z", "2026-01-11T09:00:00Z",
                                                  "2026-01-19T09:00:00Z", "2026-01-25T09:00:00Z"});
}

TEST_CASE("rrule: monthly BYMONTHDAY, including days from the month's end", "[schedule][rrule]") {
  CHECK(NextZ(RRule("FREQ=MONTHLY;BYMONTHDAY=1,15,-1;BYHOUR=6;BYMINUTE=0"), "2026-01-20T00:00:00Z",
              5) == Times{"2026-01-31T06:00:00Z", "2026-02-01T06:00:00Z", "2026-02-15T06:00:00Z",
                          "2026-02-28T06:00:00Z", "2026-03-01T06:00:00Z"});
  // Feb 29 through MONTHLY + BYMONTH: leap years only.
  CHECK(NextZ(RRule("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=0;BYMINUTE=0"),
              "2026-01-01T00:00:00Z", 2) == Times{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"});
}

TEST_CASE("rrule: BYDAY with a position, in the month and in the year", "[schedule][rrule]") {
  CHECK(NextZ(RRule("FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=17;BYMINUTE=0"), "2026-01-01T00:00:00Z", 4) ==
        Times{"2026-01-30T17:00:00Z", "2026-02-27T17:00:00Z", "2026-03-27T17:00:00Z",
              "2026-04-24T17:00:00Z"});
  CHECK(NextZ(RRule("FREQ=MONTHLY;BYDAY=2TU;BYHOUR=10;BYMINUTE=0", "America/New_York"),
              "2026-01-01T00:00:00Z", 4) == Times{"2026-01-13T15:00:00Z", "2026-02-10T15:00:00Z",
                                                  "2026-03-10T14:00:00Z", "2026-04-14T14:00:00Z"});
  // YEARLY with BYMONTH: the position counts in the month (US Thanksgiving, 12:00 New York).
  CHECK(NextZ(RRule("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;BYHOUR=12;BYMINUTE=0", "America/New_York"),
              "2026-01-01T00:00:00Z",
              3) == Times{"2026-11-26T17:00:00Z", "2027-11-25T17:00:00Z", "2028-11-23T17:00:00Z"});
  // YEARLY without BYMONTH: the position counts in the year.
  CHECK(NextZ(RRule("FREQ=YEARLY;BYDAY=1MO;BYHOUR=8;BYMINUTE=0"), "2026-01-01T00:00:00Z", 3) ==
        Times{"2026-01-05T08:00:00Z", "2027-01-04T08:00:00Z", "2028-01-03T08:00:00Z"});
  CHECK(NextZ(RRule("FREQ=YEARLY;BYDAY=-1SU;BYHOUR=8;BYMINUTE=0"), "2026-01-01T00:00:00Z", 3) ==
        Times{"2026-12-27T08:00:00Z", "2027-12-26T08:00:00Z", "2028-12-31T08:00:00Z"});
}

TEST_CASE("rrule: COUNT counts from DTSTART, whatever `after` is", "[schedule][rrule]") {
  auto s = RRule("DTSTART:20260101T090000\nRRULE:FREQ=DAILY;COUNT=3");
  CHECK(NextZ(s, "2025-01-01T00:00:00Z", 10) ==
        Times{"2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z", "2026-01-03T09:00:00Z"});
  CHECK(NextZ(s, "2026-01-02T09:00:00Z", 10) == Times{"2026-01-03T09:00:00Z"});
  CHECK(NextZ(s, "2026-01-03T09:00:00Z", 10).empty());
}

TEST_CASE("rrule: UNTIL is inclusive, as a date-time, a date, or in UTC", "[schedule][rrule]") {
  const Times every_third{"2026-01-01T09:00:00Z", "2026-01-04T09:00:00Z", "2026-01-07T09:00:00Z",
                          "2026-01-10T09:00:00Z"};
  CHECK(NextZ(RRule("DTSTART:20260101T090000 RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=20260110T090000"),
              "2025-01-01T00:00:00Z", 10) == every_third);
  CHECK(NextZ(RRule("DTSTART:20260101T090000 RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=20260110"),
              "2025-01-01T00:00:00Z", 10) == every_third);
  CHECK(NextZ(RRule("DTSTART:20260101T090000 RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=20260110T085959"),
              "2025-01-01T00:00:00Z",
              10) == Times{"2026-01-01T09:00:00Z", "2026-01-04T09:00:00Z", "2026-01-07T09:00:00Z"});
  // 09:00 Berlin is 08:00Z; UNTIL in UTC is compared with the instants.
  CHECK(NextZ(RRule("DTSTART:20260101T090000 RRULE:FREQ=DAILY;UNTIL=20260103T080000Z",
                    "Europe/Berlin"),
              "2025-01-01T00:00:00Z",
              10) == Times{"2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z", "2026-01-03T08:00:00Z"});
}

TEST_CASE("rrule: HOURLY and MINUTELY with INTERVAL and limits", "[schedule][rrule]") {
  CHECK(NextZ(RRule("DTSTART:20260101T000000 RRULE:FREQ=HOURLY;INTERVAL=6;BYMINUTE=30"),
              "2026-01-01T00:00:00Z", 5) == Times{"2026-01-01T00:30:00Z", "2026-01-01T06:30:00Z",
                                                  "2026-01-01T12:30:00Z", "2026-01-01T18:30:00Z",
                                                  "2026-01-02T00:30:00Z"});
  CHECK(NextZ(RRule("FREQ=MINUTELY;INTERVAL=15;BYHOUR=9"), "2026-01-01T10:00:00Z", 5) ==
        Times{"2026-01-02T09:00:00Z", "2026-01-02T09:15:00Z", "2026-01-02T09:30:00Z",
              "2026-01-02T09:45:00Z", "2026-01-03T09:00:00Z"});
  CHECK(NextZ(RRule("FREQ=DAILY;BYDAY=SA,SU;BYMONTH=12;BYHOUR=10;BYMINUTE=0;BYSECOND=0,30"),
              "2026-01-01T00:00:00Z",
              3) == Times{"2026-12-05T10:00:00Z", "2026-12-05T10:00:30Z", "2026-12-06T10:00:00Z"});
}

TEST_CASE("rrule: missing parts come from DTSTART (default 2020-01-01 00:00)",
          "[schedule][rrule]") {
  // DAILY at DTSTART's time of day (07:15 Berlin: 06:15Z in winter, 05:15Z in summer).
  CHECK(NextZ(RRule("DTSTART:20260107T071500 RRULE:FREQ=DAILY", "Europe/Berlin"),
              "2026-03-28T00:00:00Z",
              3) == Times{"2026-03-28T06:15:00Z", "2026-03-29T05:15:00Z", "2026-03-30T05:15:00Z"});
  // WEEKLY on DTSTART's weekday (2026-01-07 is a Wednesday).
  CHECK(NextZ(RRule("DTSTART:20260107T071500 RRULE:FREQ=WEEKLY"), "2026-03-28T00:00:00Z", 3) ==
        Times{"2026-04-01T07:15:00Z", "2026-04-08T07:15:00Z", "2026-04-15T07:15:00Z"});
  // No DTSTART: 2020-01-01 00:00 was a Wednesday.
  CHECK(NextZ(RRule("FREQ=WEEKLY"), "2026-03-28T00:00:00Z", 2) ==
        Times{"2026-04-01T00:00:00Z", "2026-04-08T00:00:00Z"});
  // MONTHLY on DTSTART's day; YEARLY on its month and day (Feb 29: leap years only).
  CHECK(NextZ(RRule("DTSTART:20260115T120000 RRULE:FREQ=MONTHLY"), "2026-03-28T00:00:00Z", 2) ==
        Times{"2026-04-15T12:00:00Z", "2026-05-15T12:00:00Z"});
  CHECK(NextZ(RRule("DTSTART:20240229T120000 RRULE:FREQ=YEARLY"), "2024-03-01T00:00:00Z", 2) ==
        Times{"2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"});
  // DTSTART itself is a time only when it matches the rule (it is a Sunday here).
  CHECK(NextZ(RRule("DTSTART:20260301T090000 RRULE:FREQ=WEEKLY;BYDAY=MO"), "2026-01-01T00:00:00Z",
              2) == Times{"2026-03-02T09:00:00Z", "2026-03-09T09:00:00Z"});
}

TEST_CASE("rrule: DTSTART forms", "[schedule][rrule]") {
  const Times berlin{"2026-03-01T08:30:00Z", "2026-03-02T08:30:00Z"};
  CHECK(
      NextZ(RRule("DTSTART;TZID=Europe/Berlin:20260301T093000\nRRULE:FREQ=DAILY", "Europe/Berlin"),
            "2026-01-01T00:00:00Z", 2) == berlin);
  CHECK(NextZ(RRule("DTSTART:20260301T083000Z\nRRULE:FREQ=DAILY", "Europe/Berlin"),
              "2026-01-01T00:00:00Z", 2) == berlin);
  CHECK(NextZ(RRule("FREQ=DAILY;BYHOUR=9;DTSTART=20260301T000000"), "2026-01-01T00:00:00Z", 2) ==
        Times{"2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z"});
  CHECK(NextZ(RRule("DTSTART:20260301\r\nRRULE:FREQ=DAILY"), "2026-01-01T00:00:00Z", 2) ==
        Times{"2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"});
  // Names are case-insensitive.
  CHECK(NextZ(RRule("dtstart:20260301T093000 rrule:freq=weekly;byday=mo,fr"),
              "2026-01-01T00:00:00Z", 2) == Times{"2026-03-02T09:30:00Z", "2026-03-06T09:30:00Z"});
}

TEST_CASE("rrule: DST in New York follows the same rules as cron", "[schedule][rrule][dst]") {
  CHECK(NextZ(RRule("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "America/New_York"), "2026-03-07T00:00:00Z",
              3) == Times{"2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"});
  CHECK(NextZ(RRule("FREQ=DAILY;BYHOUR=1;BYMINUTE=30", "America/New_York"), "2026-10-31T00:00:00Z",
              3) == Times{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
}

TEST_CASE("rrule: Between limits", "[schedule][rrule]") {
  auto s = RRule("DTSTART:20260101T090000 RRULE:FREQ=DAILY");
  CHECK(Z(s.Between(T("2026-01-02T09:00:00Z"), T("2026-01-04T09:00:00Z"), 10)) ==
        Times{"2026-01-02T09:00:00Z", "2026-01-03T09:00:00Z", "2026-01-04T09:00:00Z"});
  CHECK(s.Between(T("2026-01-02T09:00:00Z"), T("2026-02-04T09:00:00Z"), 7).size() == 7);
}

TEST_CASE("rrule: Describe", "[schedule][rrule]") {
  CHECK(RRule("FREQ=WEEKLY;BYDAY=MO", "America/New_York").Describe() ==
        "rrule FREQ=WEEKLY;BYDAY=MO (America/New_York)");
  CHECK(RRule("DTSTART:20260101T090000\nRRULE:FREQ=DAILY").Describe() ==
        "rrule DTSTART:20260101T090000 RRULE:FREQ=DAILY (UTC)");
}

TEST_CASE("rrule: each compile error names the part and the problem", "[schedule][rrule]") {
  CHECK(Err("FREQ=FORTNIGHTLY") == "rrule: unknown FREQ \"FORTNIGHTLY\"");
  CHECK(Err("FREQ=SECONDLY") == "rrule: FREQ=SECONDLY is not supported (use an interval schedule)");
  CHECK(Err("BYDAY=MO") == "rrule: FREQ is required");
  CHECK(Err("") == "rrule: is empty");
  CHECK(Err("FREQ=DAILY;FOO=1") == "rrule: unknown part \"FOO\"");
  CHECK(Err("FREQ=DAILY;BYSETPOS=1") == "rrule: BYSETPOS is not supported");
  CHECK(Err("FREQ=DAILY;BYYEARDAY=100") == "rrule: BYYEARDAY is not supported");
  CHECK(Err("FREQ=DAILY;BYWEEKNO=1") == "rrule: BYWEEKNO is not supported");
  CHECK(Err("FREQ=DAILY;INTERVAL=0") ==
        "rrule: INTERVAL must be a whole number from 1 to 1000000, got \"0\"");
  CHECK(Err("FREQ=DAILY;COUNT=0") ==
        "rrule: COUNT must be a whole number from 1 to 10000, got \"0\"");
  CHECK(Err("FREQ=DAILY;COUNT=20000") ==
        "rrule: COUNT must be a whole number from 1 to 10000, got \"20000\"");
  CHECK(Err("FREQ=DAILY;COUNT=3;UNTIL=20270101") == "rrule: COUNT and UNTIL cannot both be given");
  CHECK(Err("FREQ=DAILY;UNTIL=tomorrow") ==
        "rrule: UNTIL \"tomorrow\" is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS[Z])");
  CHECK(Err("FREQ=DAILY;UNTIL=20260230") ==
        "rrule: UNTIL \"20260230\" is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS[Z])");
  CHECK(Err("FREQ=YEARLY;BYMONTH=13") == "rrule: BYMONTH \"13\" is out of range 1-12");
  CHECK(Err("FREQ=MONTHLY;BYMONTHDAY=0") ==
        "rrule: BYMONTHDAY \"0\" is out of range 1-31 or -31 to -1");
  CHECK(Err("FREQ=MONTHLY;BYMONTHDAY=32") ==
        "rrule: BYMONTHDAY \"32\" is out of range 1-31 or -31 to -1");
  CHECK(Err("FREQ=MONTHLY;BYMONTHDAY=x") == "rrule: BYMONTHDAY \"x\" is not a whole number");
  CHECK(Err("FREQ=WEEKLY;BYDAY=MO,XX") ==
        "rrule: BYDAY \"XX\" is not a weekday (MO, TU, WE, TH, FR, SA, SU) with an optional "
        "position like 2MO or -1FR");
  CHECK(Err("FREQ=WEEKLY;BYDAY=2MO") ==
        "rrule: BYDAY \"2MO\" has a position, which only FREQ=MONTHLY or FREQ=YEARLY allow");
  CHECK(Err("FREQ=MONTHLY;BYDAY=0MO") ==
        "rrule: BYDAY \"0MO\": position must be 1 to 53 or -53 to -1");
  CHECK(Err("FREQ=YEARLY;BYDAY=60MO") ==
        "rrule: BYDAY \"60MO\": position must be 1 to 53 or -53 to -1");
  CHECK(Err("FREQ=WEEKLY;BYMONTHDAY=1") == "rrule: BYMONTHDAY cannot be used with FREQ=WEEKLY");
  CHECK(Err("FREQ=DAILY;BYHOUR=24") == "rrule: BYHOUR \"24\" is out of range 0-23");
  CHECK(Err("FREQ=DAILY;BYMINUTE=60") == "rrule: BYMINUTE \"60\" is out of range 0-59");
  CHECK(Err("FREQ=DAILY;BYSECOND=60") == "rrule: BYSECOND \"60\" is out of range 0-59");
  CHECK(Err("FREQ=DAILY;WKST=XX") ==
        "rrule: WKST \"XX\" is not a weekday (MO, TU, WE, TH, FR, SA, SU)");
  CHECK(Err("FREQ=DAILY;FREQ=WEEKLY") == "rrule: FREQ is given twice");
  CHECK(Err("FREQ=DAILY;BYHOUR=") == "rrule: BYHOUR is empty");
  CHECK(Err("FREQ=DAILY;BYHOUR") == "rrule: part \"BYHOUR\" is not KEY=VALUE");
  CHECK(Err("DTSTART:2026 RRULE:FREQ=DAILY") ==
        "rrule: DTSTART \"2026\" is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSS[Z])");
  CHECK(Err("DTSTART;TZID=Asia/Tokyo:20260101T090000 RRULE:FREQ=DAILY", "Europe/Berlin") ==
        "rrule: DTSTART has TZID \"Asia/Tokyo\" but the schedule's timezone is \"Europe/Berlin\"; "
        "set timezone to \"Asia/Tokyo\" instead");
  CHECK(Err("DTSTART;FOO=1:20260101T090000 RRULE:FREQ=DAILY") ==
        "rrule: DTSTART parameter \"FOO=1\" is not supported");
  CHECK(Err("DTSTART:20260101T090000 DTSTART:20260101T090000 RRULE:FREQ=DAILY") ==
        "rrule: DTSTART is given twice");
  CHECK(Err("RRULE:FREQ=DAILY EXDATE:20260102T090000") == "rrule: EXDATE is not supported");
  CHECK(Err("RRULE:FREQ=DAILY RRULE:FREQ=WEEKLY") == "rrule: more than one RRULE");
  CHECK(Err("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30") ==
        "rrule: \"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\" produces no times");
  CHECK(Err("DTSTART:20260101T090000 RRULE:FREQ=DAILY;UNTIL=20251231") ==
        "rrule: \"FREQ=DAILY;UNTIL=20251231\" produces no times");
  CHECK(Err("FREQ=DAILY", "Mars/Olympus") == "timezone: unknown time zone \"Mars/Olympus\"");
}
