// Time parsing: "<duration>\n<timestamp>\n<time zone>". Each line is parsed on its own
// (ParseDurationSeconds, ParseTime, IsKnownTimeZone), printed back, and the three together
// make an interval schedule (interval, anchor, zone) that is compiled and asked for times.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "sdk/core/time.hpp"
#include "tests/fuzz/schedule_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parts = fuzz::Split(text, '\n', 3);
  parts.resize(3);

  auto seconds = core::ParseDurationSeconds(parts[0]);
  if (seconds) {
    if (!std::isfinite(*seconds)) fuzz::Fail("ParseDurationSeconds gave a non-finite value", text);
    (void)core::FormatDuration(*seconds);
  }
  auto when = core::ParseTime(parts[1]);
  if (when) {
    const std::string printed = core::FormatTime(*when);
    auto again = core::ParseTime(printed);
    if (!again) fuzz::Fail("FormatTime output does not parse", printed);
    if (*again != *when) fuzz::Fail("ParseTime(FormatTime(t)) != t", printed);
  }
  (void)core::IsKnownTimeZone(parts[2]);

  if (seconds) {
    core::IntervalSchedule interval{*seconds, when, parts[2]};
    fuzz::ExerciseSchedule(core::ScheduleSpec{interval}, text);
  }
  return 0;
}
