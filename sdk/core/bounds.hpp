#pragma once
// Caps that keep one caller from growing the server's (or an agent's, or the CLI's) memory,
// time or metric series without bound (docs/limits.md, "Bounded resources"). Each is the one
// place its value lives; a flag overrides the ones an operator may need to move.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sdk/core/time.hpp"

namespace weft::core::bounds {

// `weft work-queue preview --hours` / PreviewWorkQueue.hours: one week ahead at most.
inline constexpr double kMaxPreviewHours = 168;
// PollWorkQueues.prefetch_seconds (the agent's --prefetch): one hour at most.
inline constexpr double kMaxPrefetchSeconds = 3600;
// ReportTaskRuns: reports in one call, and states across all of them (the SDK sends at most
// 2,000 of each per call).
inline constexpr int kMaxReportsPerCall = 5000;
inline constexpr int kMaxStatesPerCall = 10000;
// WaitForConcurrencySlot calls waiting at once on one server (--max-slot-waiters).
inline constexpr int kDefaultMaxSlotWaiters = 10000;
// Entries (files, directories, links) one bundle may unpack to.
inline constexpr int kMaxBundleEntries = 100000;
// One s3 bundle download, from connecting to the last byte (the size cap is the bundle size
// limit, WEFT_MAX_BUNDLE_SIZE).
inline constexpr double kS3GetTimeoutSeconds = 1800;

}  // namespace weft::core::bounds

namespace weft::core {

// The instants a TimePoint holds (int64 nanoseconds around 1970: 1677-09-21 to 2262-04-11),
// in whole seconds since the epoch. Times from outside (a proto Timestamp, a parsed text)
// beyond them are refused rather than wrapped around.
inline constexpr std::int64_t kMinUnixSeconds = -9'223'372'036;
inline constexpr std::int64_t kMaxUnixSeconds = 9'223'372'035;
// seconds since the epoch + nanos (0 to 999,999,999) as a TimePoint; nullopt when either is
// out of range. Never overflows. (sdk/core/time.cpp)
std::optional<TimePoint> FromUnix(std::int64_t seconds, std::int64_t nanos);

// A state name as a metric label: one of the names Weft itself gives states ("Late",
// "TimedOut", ...) or "other" for anything a client made up, so that labels come from a
// closed set (free text would become a new series per name, forever). (sdk/core/state.cpp)
std::string_view StateNameLabel(std::string_view name);

}  // namespace weft::core
