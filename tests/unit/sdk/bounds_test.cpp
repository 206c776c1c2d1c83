// Bounded conversions (docs/limits.md, "Bounded resources"): times from outside never
// overflow a TimePoint; state names become metric labels from a closed set.
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

#include "sdk/client/convert.hpp"
#include "sdk/client/timestamp_check.hpp"
#include "sdk/core/bounds.hpp"
#include "sdk/core/time.hpp"

using namespace weft;

namespace {
google::protobuf::Timestamp Ts(std::int64_t seconds, std::int32_t nanos = 0) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}
}  // namespace

TEST_CASE("bounds: FromUnix refuses what a TimePoint cannot hold", "[bounds][time]") {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  CHECK_FALSE(core::FromUnix(kMax, 0));
  CHECK_FALSE(core::FromUnix(kMin, 0));
  CHECK_FALSE(core::FromUnix(core::kMaxUnixSeconds + 1, 0));
  CHECK_FALSE(core::FromUnix(core::kMinUnixSeconds - 1, 0));
  CHECK_FALSE(core::FromUnix(0, -1));
  CHECK_FALSE(core::FromUnix(0, 1'000'000'000));
  auto top = core::FromUnix(core::kMaxUnixSeconds, 999'999'999);
  REQUIRE(top);
  CHECK(*top > core::TimePoint{});
  auto bottom = core::FromUnix(core::kMinUnixSeconds, 0);
  REQUIRE(bottom);
  CHECK(*bottom < core::TimePoint{});
  auto t = core::FromUnix(1'700'000'000, 5);
  REQUIRE(t);
  CHECK(t->time_since_epoch().count() == 1'700'000'000'000'000'005LL);
}

TEST_CASE("bounds: proto Timestamps at the int64 extremes saturate and are refused by the check",
          "[bounds][time]") {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  // Saturating, in order, never wrapping around.
  auto hi = client::FromProto(Ts(kMax));
  auto lo = client::FromProto(Ts(kMin));
  CHECK(hi > client::FromProto(Ts(4'000'000'000)));
  CHECK(lo < client::FromProto(Ts(-4'000'000'000)));
  CHECK(client::FromProto(Ts(10, -5)) == client::FromProto(Ts(10, 0)));
  // Round trip of an ordinary time.
  auto now = *core::FromUnix(1'765'000'000, 123'456'000);
  CHECK(client::FromProto(client::ToProto(now)) == now);

  CHECK(client::CheckTimestamp(Ts(1'765'000'000, 5), "state.timestamp").empty());
  CHECK_THAT(client::CheckTimestamp(Ts(kMax), "state.timestamp"),
             Catch::StartsWith("state.timestamp.seconds: must be between"));
  CHECK_THAT(client::CheckTimestamp(Ts(kMin), "start_time"),
             Catch::StartsWith("start_time.seconds"));
  CHECK_THAT(client::CheckTimestamp(Ts(0, -1), "from"), Catch::StartsWith("from.nanos"));
}

TEST_CASE("bounds: ParseTime of years a TimePoint cannot hold is refused, not wrapped",
          "[bounds][time]") {
  CHECK_FALSE(core::ParseTime("9999-12-31T23:59:59Z"));
  CHECK_FALSE(core::ParseTime("2263-01-01T00:00:00Z"));
  CHECK_FALSE(core::ParseTime("1600-01-01T00:00:00Z"));
  auto t = core::ParseTime("2261-06-01T00:00:00.25Z");
  REQUIRE(t);
  CHECK(core::FormatTime(*t) == "2261-06-01T00:00:00.250000Z");
  auto u = core::ParseTime("2026-11-26T04:49:50.1234567+01:00");
  REQUIRE(u);
  CHECK(core::FormatTime(*u) == "2026-11-26T03:49:50.123457Z");
}

TEST_CASE("bounds: state names become metric labels from a closed set", "[bounds][metrics]") {
  CHECK(core::StateNameLabel("Late") == "Late");
  CHECK(core::StateNameLabel("TimedOut") == "TimedOut");
  CHECK(core::StateNameLabel("AwaitingRetry") == "AwaitingRetry");
  CHECK(core::StateNameLabel("late") == "other");
  CHECK(core::StateNameLabel("bogus-state-17") == "other");
  CHECK(core::StateNameLabel("") == "other");
}
