#pragma once
// Compiles a schedule and asks it what a scheduler and `weft deployment upcoming` ask.
#include <chrono>
#include <string>

#include "sdk/core/schedule.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace weft::fuzz {

inline void ExerciseSchedule(const core::ScheduleSpec& spec, const std::string& input) {
  auto compiled = core::Schedule::Compile(spec);
  if (!compiled) {
    if (compiled.error().message.empty()) Fail("error without a message", input);
    return;
  }
  (void)compiled->Describe();
  const auto now = FixedNow();
  const auto year = std::chrono::hours(24 * 366);
  auto next = compiled->Next(now, 8, now + 5 * year);
  for (std::size_t i = 1; i < next.size(); ++i) {
    if (!(next[i - 1] < next[i])) Fail("Next is not strictly ascending", input);
  }
  for (auto t : next) {
    if (t <= now || t > now + 5 * year) Fail("Next outside (after, until]", input);
  }
  auto between = compiled->Between(now - year, now + year, 16);
  if (between.size() > 16) Fail("Between over its limit", input);
}

}  // namespace weft::fuzz
