// Cron: every field form, names, macros, the day-of-month/day-of-week rule, rare dates,
// zones, Describe, and each error message.
#include "tests/unit/schedule/schedule_fixtures.hpp"

using weft::core::CronSchedule;
using weft::core::Schedule;
using namespace weft::test;

using Times = std::vector<std::string>;

TEST_CASE("cron: star, steps, lists, ranges and range steps", "[schedule][cron]") {
  CHECK(NextZ(Cron("*/15 * * * *"), "2026-04-01T10:07:00Z", 4) ==
        Times{"2026-04-01T10:15:00Z", "2026-04-01T10:30:00Z", "2026-04-01T10:45:00Z",
              "2026-04-01T11:00:00Z"});
  CHECK(NextZ(Cron("* * * * *"), "2026-04-01T10:07:30Z", 2) ==
        Times{"2026-04-01T10:08:00Z", "2026-04-01T10:09:00Z"});
  CHECK(NextZ(Cron("5,35 9-10 * * *"), "2026-04-01T09:05:00Z", 4) ==
        Times{"2026-04-01T09:35:00Z", "2026-04-01T10:05:00Z", "2026-04-01T10:35:00Z",
              "2026-04-02T09:05:00Z"});
  CHECK(NextZ(Cron("0 1-10/3 * * *"), "2026-04-01T00:00:00Z", 5) ==
        Times{"2026-04-01T01:00:00Z", "2026-04-01T04:00:00Z", "2026-04-01T07:00:00Z",
              "2026-04-01T10:00:00Z", "2026-04-02T01:00:00Z"});
  // "N/S" starts at N and runs to the field's end.
  CHECK(NextZ(Cron("10/20 * * * *"), "2026-04-01T00:00:00Z", 4) ==
        Times{"2026-04-01T00:10:00Z", "2026-04-01T00:30:00Z", "2026-04-01T00:50:00Z",
              "2026-04-01T01:10:00Z"});
  // Day of month and month ranges, with a list mixing ranges and single values.
  CHECK(NextZ(Cron("30 6 1-2,15 3,6-7 *"), "2026-03-02T07:00:00Z", 4) ==
        Times{"2026-03-15T06:30:00Z", "2026-06-01T06:30:00Z", "2026-06-02T06:30:00Z",
              "2026-06-15T06:30:00Z"});
  // Extra whitespace between fields is fine.
  CHECK(NextZ(Cron("  0   12 *\t* *  "), "2026-04-01T00:00:00Z", 1) ==
        Times{"2026-04-01T12:00:00Z"});
}

TEST_CASE("cron: month and weekday names in any case; 7 is Sunday", "[schedule][cron]") {
  // Weekdays of January and July at 09:00. 2026-01-30 is a Friday, 2026-07-01 a Wednesday.
  CHECK(NextZ(Cron("0 9 * JAN,jul mon-FRI"), "2026-01-29T10:00:00Z", 3) ==
        Times{"2026-01-30T09:00:00Z", "2026-07-01T09:00:00Z", "2026-07-02T09:00:00Z"});
  auto sunday = NextZ(Cron("0 0 * * 0"), "2026-04-01T00:00:00Z", 3);
  CHECK(sunday == Times{"2026-04-05T00:00:00Z", "2026-04-12T00:00:00Z", "2026-04-19T00:00:00Z"});
  CHECK(NextZ(Cron("0 0 * * 7"), "2026-04-01T00:00:00Z", 3) == sunday);
  CHECK(NextZ(Cron("0 0 * * Sun"), "2026-04-01T00:00:00Z", 3) == sunday);
  // A range ending at 7 includes Sunday: Friday to Sunday.
  CHECK(NextZ(Cron("0 0 * * 5-7"), "2026-04-01T00:00:00Z", 4) ==
        Times{"2026-04-03T00:00:00Z", "2026-04-04T00:00:00Z", "2026-04-05T00:00:00Z",
              "2026-04-10T00:00:00Z"});
  CHECK(NextZ(Cron("0 0 1 mar-may/2 *"), "2026-01-01T00:00:00Z", 3) ==
        Times{"2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z", "2027-03-01T00:00:00Z"});
}

TEST_CASE("cron: macros", "[schedule][cron]") {
  const std::string after = "2026-04-15T10:20:00Z";
  CHECK(NextZ(Cron("@hourly"), after, 2) == Times{"2026-04-15T11:00:00Z", "2026-04-15T12:00:00Z"});
  CHECK(NextZ(Cron("@daily"), after, 2) == Times{"2026-04-16T00:00:00Z", "2026-04-17T00:00:00Z"});
  CHECK(NextZ(Cron("@midnight"), after, 1) == Times{"2026-04-16T00:00:00Z"});
  CHECK(NextZ(Cron("@weekly"), after, 2) == Times{"2026-04-19T00:00:00Z", "2026-04-26T00:00:00Z"});
  CHECK(NextZ(Cron("@monthly"), after, 2) == Times{"2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z"});
  CHECK(NextZ(Cron("@yearly"), after, 2) == Times{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"});
  CHECK(NextZ(Cron("@ANNUALLY"), after, 1) == Times{"2027-01-01T00:00:00Z"});
  CHECK(Cron("@daily", "Europe/Berlin").Describe() == "cron @daily (Europe/Berlin)");
}

TEST_CASE("cron: day of month OR day of week when both are restricted", "[schedule][cron]") {
  // The 1st of the month, and every Monday. June 2026 starts on a Monday.
  CHECK(NextZ(Cron("0 0 1 * MON"), "2026-05-31T12:00:00Z", 7) ==
        Times{"2026-06-01T00:00:00Z", "2026-06-08T00:00:00Z", "2026-06-15T00:00:00Z",
              "2026-06-22T00:00:00Z", "2026-06-29T00:00:00Z", "2026-07-01T00:00:00Z",
              "2026-07-06T00:00:00Z"});
  // Friday the 13th is just a day that matches both: it runs once.
  CHECK(NextZ(Cron("0 0 13 * 5"), "2026-02-05T00:00:00Z", 3) ==
        Times{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"});
  // A day-of-month field starting with '*' counts as unrestricted (Vixie cron), so here both
  // must hold: odd days that are Mondays.
  CHECK(NextZ(Cron("0 0 */2 * 1"), "2026-01-01T00:00:00Z", 3) ==
        Times{"2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z", "2026-02-09T00:00:00Z"});
  // Only day of week restricted.
  CHECK(NextZ(Cron("0 0 * * 1"), "2026-05-31T12:00:00Z", 1) == Times{"2026-06-01T00:00:00Z"});
}

TEST_CASE("cron: Feb 29 runs only in leap years, and skips 2100", "[schedule][cron]") {
  CHECK(NextZ(Cron("0 0 29 2 *"), "2026-01-01T00:00:00Z", 3) ==
        Times{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"});
  // 31st only in months that have one.
  CHECK(NextZ(Cron("0 12 31 * *"), "2026-04-01T00:00:00Z", 3) ==
        Times{"2026-05-31T12:00:00Z", "2026-07-31T12:00:00Z", "2026-08-31T12:00:00Z"});
}

TEST_CASE("cron: in a time zone, wall times map to that zone's offset", "[schedule][cron]") {
  // Mondays 09:00 in New York: EST (-05) in February, EDT (-04) in April.
  auto s = Cron("0 9 * * 1", "America/New_York");
  CHECK(NextZ(s, "2026-02-01T00:00:00Z", 1) == Times{"2026-02-02T14:00:00Z"});
  CHECK(NextZ(s, "2026-04-01T00:00:00Z", 1) == Times{"2026-04-06T13:00:00Z"});
  auto tokyo = Cron("30 8 * * *", "Asia/Tokyo");
  CHECK(NextZ(tokyo, "2026-04-01T00:00:00Z", 2) ==
        Times{"2026-04-01T23:30:00Z", "2026-04-02T23:30:00Z"});
  auto utc = Cron("0 9 * * 1", "UTC");
  CHECK(NextZ(utc, "2026-02-01T00:00:00Z", 1) == Times{"2026-02-02T09:00:00Z"});
}

TEST_CASE("cron: Next until and Between limits", "[schedule][cron]") {
  auto s = Cron("0 * * * *");
  CHECK(Z(s.Next(T("2026-04-01T10:00:00Z"), 100, T("2026-04-01T12:30:00Z"))) ==
        Times{"2026-04-01T11:00:00Z", "2026-04-01T12:00:00Z"});
  CHECK(Z(s.Between(T("2026-04-01T10:00:00Z"), T("2026-04-01T12:00:00Z"), 100)) ==
        Times{"2026-04-01T10:00:00Z", "2026-04-01T11:00:00Z", "2026-04-01T12:00:00Z"});
  CHECK(s.Between(T("2026-04-01T10:00:00Z"), T("2026-04-03T10:00:00Z"), 5).size() == 5);
  CHECK(s.Between(T("2026-04-01T10:00:00Z"), T("2026-04-03T10:00:00Z"), 1000).size() == 49);
  // Far from the next match: one year ahead.
  CHECK(Z(Cron("0 0 1 1 *").Next(T("2026-01-01T00:00:00Z"), 1, T("2026-12-31T00:00:00Z"))).empty());
}

TEST_CASE("cron: Describe", "[schedule][cron]") {
  CHECK(Cron("0 9 * * 1").Describe() == "cron 0 9 * * 1 (UTC)");
  CHECK(Cron(" 0  9 * * 1 ", "America/New_York").Describe() == "cron 0 9 * * 1 (America/New_York)");
}

TEST_CASE("cron: each compile error names the field and the problem", "[schedule][cron]") {
  auto err = [](const std::string& expr, const std::string& tz = "") {
    return CompileError(CronSchedule{expr, tz});
  };
  CHECK(err("0 9 * * 8") == "cron: field 5 (day of week) \"8\" is out of range 0-7");
  CHECK(err("60 * * * *") == "cron: field 1 (minute) \"60\" is out of range 0-59");
  CHECK(err("0 24 * * *") == "cron: field 2 (hour) \"24\" is out of range 0-23");
  CHECK(err("0 0 0 * *") == "cron: field 3 (day of month) \"0\" is out of range 1-31");
  CHECK(err("0 0 32 * *") == "cron: field 3 (day of month) \"32\" is out of range 1-31");
  CHECK(err("0 0 * 13 *") == "cron: field 4 (month) \"13\" is out of range 1-12");
  CHECK(err("0 0 * 1-13 *") == "cron: field 4 (month) \"13\" is out of range 1-12");
  CHECK(err("0 0 * * 1 2") == "cron: expected 5 fields, got 6");
  CHECK(err("0 0 * *") == "cron: expected 5 fields, got 4");
  CHECK(err("") == "cron: expression is empty");
  CHECK(err("   ") == "cron: expression is empty");
  CHECK(err("*/0 * * * *") == "cron: field 1 (minute) \"*/0\": step must be at least 1");
  CHECK(err("*/x * * * *") == "cron: field 1 (minute) \"*/x\": step must be a whole number");
  CHECK(err("*/ * * * *") == "cron: field 1 (minute) \"*/\": step must be a whole number");
  CHECK(err("0 5-3 * * *") == "cron: field 2 (hour) \"5-3\": range start is after its end");
  CHECK(err("0 0 * * FRI-MON") ==
        "cron: field 5 (day of week) \"FRI-MON\": range start is after its end");
  CHECK(err("0 0 * FOO *") ==
        "cron: field 4 (month) \"FOO\" is not a number or month name (JAN-DEC)");
  CHECK(err("0 0 * * FUNDAY") ==
        "cron: field 5 (day of week) \"FUNDAY\" is not a number or day name (SUN-SAT)");
  CHECK(err("MON 0 * * *") == "cron: field 1 (minute) \"MON\" is not a number");
  CHECK(err("0 -1 * * *") == "cron: field 2 (hour) \"-1\" is not a valid range (N-M)");
  CHECK(err("0 1- * * *") == "cron: field 2 (hour) \"1-\" is not a valid range (N-M)");
  CHECK(err("0 1-2-3 * * *") == "cron: field 2 (hour) \"2-3\" is not a number");
  CHECK(err("1,,2 * * * *") == "cron: field 1 (minute) has an empty list item");
  CHECK(err("0 0 * * 1,") == "cron: field 5 (day of week) has an empty list item");
  CHECK(err("@reboot") ==
        "cron: unknown macro \"@reboot\" (known: @yearly @annually @monthly @weekly @daily "
        "@midnight @hourly)");
  CHECK(err("0 0 30 2 *") ==
        "cron: \"0 0 30 2 *\" never runs: no month in field 4 has a day "
        "from field 3");
  CHECK(err("0 0 31 4,6,9,11 *") ==
        "cron: \"0 0 31 4,6,9,11 *\" never runs: no month in field "
        "4 has a day from field 3");
  CHECK(err("0 9 * * 1", "Mars/Olympus") == "timezone: unknown time zone \"Mars/Olympus\"");
}
