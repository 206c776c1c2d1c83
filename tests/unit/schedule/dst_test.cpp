// DST both ways, for cron in America/New_York and Europe/Berlin (interval days are in
// interval_test.cpp). Rules: a missing wall time runs shifted forward by the gap; a
// repeated one runs once, at its first occurrence; one run per instant.
//
// 2026 transitions:
//   America/New_York  spring 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z)
//                     fall   2026-11-01 02:00 EDT -> 01:00 EST (06:00Z); 01:00-01:59 twice
//   Europe/Berlin     spring 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z)
//                     fall   2026-10-25 03:00 CEST -> 02:00 CET (01:00Z); 02:00-02:59 twice
#include "tests/unit/schedule/schedule_fixtures.hpp"

using namespace weft::test;
using Times = std::vector<std::string>;

TEST_CASE("dst: daily 02:30 in America/New_York runs once on both transition days",
          "[schedule][cron][dst]") {
  auto s = Cron("30 2 * * *", "America/New_York");
  // Spring: 02:30 does not exist on 03-08 and runs at 03:30 EDT = 07:30Z.
  CHECK(Z(s.Between(T("2026-03-07T00:00:00Z"), T("2026-03-10T00:00:00Z"), 10)) ==
        Times{"2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"});
  // Fall: 02:30 exists once (EST) on 11-01.
  CHECK(Z(s.Between(T("2026-10-31T00:00:00Z"), T("2026-11-03T00:00:00Z"), 10)) ==
        Times{"2026-10-31T06:30:00Z", "2026-11-01T07:30:00Z", "2026-11-02T07:30:00Z"});
}

TEST_CASE("dst: daily 01:30 in America/New_York runs at the first of the two 01:30s",
          "[schedule][cron][dst]") {
  auto s = Cron("30 1 * * *", "America/New_York");
  CHECK(Z(s.Between(T("2026-10-31T00:00:00Z"), T("2026-11-03T00:00:00Z"), 10)) ==
        Times{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
  // Asking from inside the repeated hour (01:10 EST, the second pass): 01:30 already ran.
  CHECK(NextZ(s, "2026-11-01T06:10:00Z", 1) == Times{"2026-11-02T06:30:00Z"});
}

TEST_CASE("dst: daily 02:30 in Europe/Berlin runs once on both transition days",
          "[schedule][cron][dst]") {
  auto s = Cron("30 2 * * *", "Europe/Berlin");
  // Spring: 02:30 CET does not exist on 03-29: runs at 03:30 CEST = 01:30Z.
  CHECK(Z(s.Between(T("2026-03-28T00:00:00Z"), T("2026-03-31T00:00:00Z"), 10)) ==
        Times{"2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"});
  // Fall: 02:30 happens twice on 10-25 (CEST 00:30Z, then CET 01:30Z): runs at the first.
  CHECK(Z(s.Between(T("2026-10-24T00:00:00Z"), T("2026-10-27T00:00:00Z"), 10)) ==
        Times{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"});
  CHECK(NextZ(s, "2026-10-25T01:00:00Z", 1) == Times{"2026-10-26T01:30:00Z"});
}

TEST_CASE("dst: asking from just after the spring jump still finds the shifted gap time",
          "[schedule][cron][dst]") {
  // 03:10 EDT = 07:10Z on 03-08; the 02:30 run (shifted to 03:30 EDT) is still ahead.
  CHECK(NextZ(Cron("30 2 * * *", "America/New_York"), "2026-03-08T07:10:00Z", 2) ==
        Times{"2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"});
  // 03:05 CEST = 01:05Z on 03-29 in Berlin.
  CHECK(NextZ(Cron("30 2 * * *", "Europe/Berlin"), "2026-03-29T01:05:00Z", 1) ==
        Times{"2026-03-29T01:30:00Z"});
}

TEST_CASE("dst: wall times in the gap coincide with the real ones after it: one run each",
          "[schedule][cron][dst]") {
  // 02:05 and 02:30 are missing on 03-08 and shift to 03:05 and 03:30 EDT, which the cron
  // also names: two runs, not four.
  CHECK(NextZ(Cron("5,30 2-3 * * *", "America/New_York"), "2026-03-08T06:00:00Z", 6) ==
        Times{"2026-03-08T07:05:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:05:00Z",
              "2026-03-09T06:30:00Z", "2026-03-09T07:05:00Z", "2026-03-09T07:30:00Z"});
}

TEST_CASE("dst: hourly cron in New York, spring-forward day: once per real hour",
          "[schedule][cron][dst]") {
  // Local day 2026-03-08 = [05:00Z, 04:00Z next day): 23 real hours, 23 runs.
  auto s = Cron("0 * * * *", "America/New_York");
  auto runs = Z(s.Between(T("2026-03-08T05:00:00Z"), T("2026-03-09T03:59:59Z"), 100));
  REQUIRE(runs.size() == 23);
  CHECK(runs[0] == "2026-03-08T05:00:00Z");   // 00:00 EST
  CHECK(runs[1] == "2026-03-08T06:00:00Z");   // 01:00 EST
  CHECK(runs[2] == "2026-03-08T07:00:00Z");   // 02:00 missing -> 03:00 EDT, once
  CHECK(runs[3] == "2026-03-08T08:00:00Z");   // 04:00 EDT
  CHECK(runs[22] == "2026-03-09T03:00:00Z");  // 23:00 EDT
}

TEST_CASE("dst: hourly cron in New York, fall-back day: the repeated 01:00 runs once",
          "[schedule][cron][dst]") {
  // Local day 2026-11-01 = [04:00Z, 05:00Z next day): 25 real hours, 24 runs.
  auto s = Cron("0 * * * *", "America/New_York");
  auto runs = Z(s.Between(T("2026-11-01T04:00:00Z"), T("2026-11-02T04:59:59Z"), 100));
  REQUIRE(runs.size() == 24);
  CHECK(runs[0] == "2026-11-01T04:00:00Z");   // 00:00 EDT
  CHECK(runs[1] == "2026-11-01T05:00:00Z");   // 01:00 EDT (first 01:00)
  CHECK(runs[2] == "2026-11-01T07:00:00Z");   // 02:00 EST; no run at 06:00Z (second 01:00)
  CHECK(runs[23] == "2026-11-02T04:00:00Z");  // 23:00 EST
}

TEST_CASE("dst: half-hourly cron in Berlin stays continuous through both transitions",
          "[schedule][cron][dst]") {
  auto s = Cron("*/30 * * * *", "Europe/Berlin");
  // Spring: 01:30 CET (00:30Z), then 02:00/02:30 missing -> 03:00/03:30 CEST, which are
  // the real 03:00/03:30 as well: one run each.
  CHECK(Z(s.Between(T("2026-03-29T00:30:00Z"), T("2026-03-29T02:00:00Z"), 10)) ==
        Times{"2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z",
              "2026-03-29T02:00:00Z"});
  // Fall: 02:00 and 02:30 CEST run; their CET repeats do not; 03:00 CET follows.
  CHECK(Z(s.Between(T("2026-10-24T23:30:00Z"), T("2026-10-25T02:00:00Z"), 10)) ==
        Times{"2026-10-24T23:30:00Z", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z",
              "2026-10-25T02:00:00Z"});
}

TEST_CASE("dst: daily crons over a whole year run once per local day", "[schedule][cron][dst]") {
  for (const char* tz : {"America/New_York", "Europe/Berlin", "Australia/Sydney"}) {
    for (const char* expr : {"30 2 * * *", "0 1 * * *", "59 1 * * *", "0 3 * * *"}) {
      INFO(tz << " " << expr);
      auto s = Cron(expr, tz);
      auto times = s.Between(T("2026-01-01T00:00:00Z"), T("2026-12-31T23:59:59Z"), 1000);
      CHECK(times.size() >= 364);
      CHECK(times.size() <= 366);
      for (std::size_t i = 1; i < times.size(); ++i) {
        auto gap = times[i] - times[i - 1];
        CHECK(gap >= std::chrono::hours{22});
        CHECK(gap <= std::chrono::hours{26});
      }
    }
  }
}

TEST_CASE("dst: after 2037 (the tz files' last explicit transition) DST still applies",
          "[schedule][cron][dst]") {
  // The zone file's POSIX rule takes over: EDT in July 2040, EST in January.
  auto ny = Cron("0 9 * * *", "America/New_York");
  CHECK(NextZ(ny, "2040-07-01T14:00:00Z", 1) == Times{"2040-07-02T13:00:00Z"});
  CHECK(NextZ(ny, "2040-01-01T15:00:00Z", 1) == Times{"2040-01-02T14:00:00Z"});
  // Berlin springs forward on 2050-03-27: 02:30 runs once, at 03:30 CEST.
  CHECK(Z(Cron("30 2 * * *", "Europe/Berlin")
              .Between(T("2050-03-26T00:00:00Z"), T("2050-03-29T00:00:00Z"), 10)) ==
        Times{"2050-03-26T01:30:00Z", "2050-03-27T01:30:00Z", "2050-03-28T00:30:00Z"});
  // Southern hemisphere: Sydney is on daylight time in January, standard time in July.
  auto sydney = Cron("0 9 * * *", "Australia/Sydney");
  CHECK(NextZ(sydney, "2045-01-14T12:00:00Z", 1) == Times{"2045-01-14T22:00:00Z"});
  CHECK(NextZ(sydney, "2045-07-14T12:00:00Z", 1) == Times{"2045-07-14T23:00:00Z"});
}
