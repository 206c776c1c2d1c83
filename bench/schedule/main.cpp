// bench_schedule: time for Schedule::Compile and Schedule::Next(after, n) on ordinary rules
// and on the hostile ones of issue 12 (every second of every day as BY* lists, rules that
// match rarely or never). Pure code: no database. Each line prints the compile time, the
// time of one Next(n) from 2026-06-01T00:00:00Z, and how many times it returned.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "sdk/core/schedule.hpp"

namespace {

using SteadyClock = std::chrono::steady_clock;
namespace core = weft::core;

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string Range(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += (i == from ? "" : ",") + std::to_string(i);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"bench_schedule: Compile and Next(n) on ordinary and hostile schedules"};
  std::size_t n = 100;
  std::string only;
  cli.add_option("-n", n, "times asked of each Next call")->capture_default_str();
  cli.add_option("--only", only, "run only the rules whose label contains this");
  CLI11_PARSE(cli, argc, argv);

  const std::string every_second =
      "BYHOUR=" + Range(0, 23) + ";BYMINUTE=" + Range(0, 59) + ";BYSECOND=" + Range(0, 59);
  std::string odd_minutes;
  for (int m = 1; m < 60; m += 2) odd_minutes += (m == 1 ? "" : ",") + std::to_string(m);
  struct Case {
    std::string label;
    core::ScheduleSpec spec;
  };
  std::vector<Case> cases = {
      {"interval 1h", core::IntervalSchedule{3600, std::nullopt, ""}},
      {"cron weekdays 09:00 Berlin", core::CronSchedule{"0 9 * * 1-5", "Europe/Berlin"}},
      {"cron Feb 29 (leap years)", core::CronSchedule{"0 0 29 2 *", ""}},
      {"rrule weekly MO,WE,FR 09:00 New York",
       core::RRuleSchedule{"FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=9;BYMINUTE=0", "America/New_York"}},
      {"rrule daily every second (BY* lists)",
       core::RRuleSchedule{"FREQ=DAILY;" + every_second, ""}},
      {"rrule yearly every day, every second",
       core::RRuleSchedule{"FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;" + every_second, ""}},
      {"rrule yearly every day, every second, Berlin",
       core::RRuleSchedule{"FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;" + every_second,
                           "Europe/Berlin"}},
      {"rrule yearly every second, COUNT=10000",
       core::RRuleSchedule{
           "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;" + every_second + ";COUNT=10000", ""}},
      {"rrule daily Feb 29 on a Monday",
       core::RRuleSchedule{"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=0", ""}},
      {"rrule minutely, odd minutes on an even grid",
       core::RRuleSchedule{"FREQ=MINUTELY;INTERVAL=2;BYMINUTE=" + odd_minutes, ""}},
      {"rrule minutely 03:07 only, COUNT=10000",
       core::RRuleSchedule{"FREQ=MINUTELY;BYHOUR=3;BYMINUTE=7;COUNT=10000", ""}},
  };
  const core::TimePoint after = core::ParseTime("2026-06-01T00:00:00Z").value();
  const core::TimePoint until = core::TimePoint::max();
  std::printf("%-46s %12s %14s %8s\n", "schedule", "compile ms", "Next(n) ms", "times");
  for (const auto& c : cases) {
    if (!only.empty() && c.label.find(only) == std::string::npos) continue;
    auto t0 = SteadyClock::now();
    auto s = core::Schedule::Compile(c.spec);
    double compile_ms = Ms(SteadyClock::now() - t0);
    if (!s.ok()) {
      std::printf("%-46s %12.3f  refused: %s\n", c.label.c_str(), compile_ms,
                  s.error().message.c_str());
      continue;
    }
    t0 = SteadyClock::now();
    auto times = s->Next(after, n, until);
    double next_ms = Ms(SteadyClock::now() - t0);
    std::printf("%-46s %12.3f %14.3f %8zu\n", c.label.c_str(), compile_ms, next_ms, times.size());
    std::fflush(stdout);
  }
  return 0;
}
