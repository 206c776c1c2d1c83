// An RFC 5545 RRULE schedule: "<rrule>\n<time zone>" (no newline: UTC). The rule itself may
// hold a DTSTART line, so the zone is the part after the last newline only when there are two
// or more lines; the first lines are the rule.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/schedule_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft;
  const std::string text(reinterpret_cast<const char*>(data), size);
  core::RRuleSchedule rule{text, ""};
  if (auto at = text.rfind('\n'); at != std::string::npos) {
    rule.rrule = text.substr(0, at);
    rule.timezone = text.substr(at + 1);
  }
  fuzz::ExerciseSchedule(core::ScheduleSpec{rule}, text);
  return 0;
}
