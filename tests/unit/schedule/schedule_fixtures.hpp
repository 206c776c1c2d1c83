#pragma once
// Helpers for the schedule tests: instants from RFC 3339 text, results as text, and
// compile errors as text.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sdk/core/schedule.hpp"
#include "sdk/core/time.hpp"

namespace weft::test {

inline core::TimePoint T(const std::string& text) {
  auto t = core::ParseTime(text);
  INFO("bad time in test: " << text);
  REQUIRE(t.has_value());
  return *t;
}

// "2026-03-08T07:30:00Z", with a fraction only when there is one.
inline std::string Z(core::TimePoint t) {
  std::string s = core::FormatTime(t);
  auto dot = s.find(".000000Z");
  if (dot != std::string::npos) s = s.substr(0, dot) + "Z";
  return s;
}

inline std::vector<std::string> Z(const std::vector<core::TimePoint>& ts) {
  std::vector<std::string> out;
  for (auto t : ts) out.push_back(Z(t));
  return out;
}

inline core::Schedule Must(const core::ScheduleSpec& spec) {
  auto s = core::Schedule::Compile(spec);
  if (!s) FAIL("compile failed: " << s.error().message);
  return *s;
}

inline std::string CompileError(const core::ScheduleSpec& spec) {
  auto s = core::Schedule::Compile(spec);
  if (s) return "<compiled: " + s->Describe() + ">";
  CHECK(s.error().code == core::Code::kInvalidArgument);
  return s.error().message;
}

inline const core::TimePoint kForever = core::TimePoint::max();

// The next `n` times after `after`, as text.
inline std::vector<std::string> NextZ(const core::Schedule& s, const std::string& after,
                                      std::size_t n) {
  return Z(s.Next(T(after), n, kForever));
}

inline core::Schedule Cron(const std::string& expr, const std::string& tz = "") {
  return Must(core::CronSchedule{expr, tz});
}

}  // namespace weft::test
