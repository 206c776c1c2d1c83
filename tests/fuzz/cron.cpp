// A cron schedule: "<expression>\n<time zone>" (no newline: UTC).
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/fuzz/schedule_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parts = fuzz::Split(text, '\n', 2);
  core::CronSchedule cron{parts[0], parts.size() > 1 ? parts[1] : ""};
  fuzz::ExerciseSchedule(core::ScheduleSpec{cron}, text);
  return 0;
}
