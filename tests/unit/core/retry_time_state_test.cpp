// Pure values of sdk/core: retry policies, time parsing and formatting, clocks, state types.
#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <string>

#include "sdk/core/retry.hpp"
#include "sdk/core/state.hpp"
#include "sdk/core/text.hpp"
#include "sdk/core/time.hpp"
#include "tests/unit/core/fixtures.hpp"

using namespace std::chrono_literals;
using Catch::Matchers::StartsWith;
using weft::core::FakeClock;
using weft::core::ParseDurationSeconds;
using weft::core::ParseTime;
using weft::core::RetryPolicy;
using weft::core::StateType;
using weft::test::At;
namespace core = weft::core;

// ---------------------------------------------------------------------------------------------
// RetryPolicy

TEST_CASE("RetryPolicy::Fixed waits the same delay before every retry", "[retry]") {
  auto p = RetryPolicy::Fixed(3, 10);
  CHECK(p.max_retries == 3);
  for (int retry = 1; retry <= 5; ++retry) {
    CHECK(p.BaseDelay(retry) == 10);
    CHECK(p.DelayBeforeRetry(retry, 0.0) == 10);
    CHECK(p.DelayBeforeRetry(retry, 0.99) == 10);
  }
  CHECK(RetryPolicy::Fixed(3, 0).DelayBeforeRetry(1, 0.5) == 0);
}

TEST_CASE("RetryPolicy::List takes one delay per retry and repeats the last", "[retry]") {
  auto p = RetryPolicy::List(6, {1, 5, 30});
  CHECK(p.DelayBeforeRetry(1, 0.5) == 1);
  CHECK(p.DelayBeforeRetry(2, 0.5) == 5);
  CHECK(p.DelayBeforeRetry(3, 0.5) == 30);
  CHECK(p.DelayBeforeRetry(4, 0.5) == 30);
  CHECK(p.DelayBeforeRetry(6, 0.5) == 30);
  CHECK(RetryPolicy::List(2, {}).DelayBeforeRetry(1, 0.5) == 0);
}

TEST_CASE("RetryPolicy::Exponential doubles the delay up to max_delay_seconds", "[retry]") {
  SECTION("uncapped") {
    auto p = RetryPolicy::Exponential(6, 2, 0);
    CHECK(p.DelayBeforeRetry(1, 0.5) == 2);
    CHECK(p.DelayBeforeRetry(2, 0.5) == 4);
    CHECK(p.DelayBeforeRetry(3, 0.5) == 8);
    CHECK(p.DelayBeforeRetry(4, 0.5) == 16);
    CHECK(p.DelayBeforeRetry(5, 0.5) == 32);
  }
  SECTION("capped") {
    auto p = RetryPolicy::Exponential(6, 2, 0, 10);
    CHECK(p.DelayBeforeRetry(1, 0.5) == 2);
    CHECK(p.DelayBeforeRetry(3, 0.5) == 8);
    CHECK(p.DelayBeforeRetry(4, 0.5) == 10);
    CHECK(p.DelayBeforeRetry(6, 0.5) == 10);
  }
  SECTION("default jitter") {
    CHECK(RetryPolicy::Exponential(3, 1).jitter_factor == Approx(0.2));
  }
}

TEST_CASE("jitter spreads every delay over d(1-j)..d(1+j) and reaches both ends", "[retry]") {
  auto [policy, retry, centre] = GENERATE(table<RetryPolicy, int, double>({
      {RetryPolicy::Exponential(10, 1, 0.2), 1, 1.0},
      {RetryPolicy::Exponential(10, 1, 0.2), 4, 8.0},
      {RetryPolicy::Exponential(10, 1, 0.5, 8), 6, 8.0},  // capped before the jitter
      {RetryPolicy::Exponential(10, 3, 1.0), 2, 6.0},
      {[] {
         auto p = RetryPolicy::List(3, {5, 60});
         p.jitter_factor = 0.1;
         return p;
       }(),
       3, 60.0},
  }));
  const double j = policy.jitter_factor;
  const double low = centre * (1 - j);
  const double high = centre * (1 + j);
  CHECK(policy.BaseDelay(retry) == Approx(centre));

  std::mt19937_64 rng(20261126);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double seen_min = high;
  double seen_max = low;
  for (int i = 0; i < 10000; ++i) {
    double d = policy.DelayBeforeRetry(retry, unit(rng));
    REQUIRE(d >= low);
    REQUIRE(d <= high);
    seen_min = std::min(seen_min, d);
    seen_max = std::max(seen_max, d);
  }
  // The draws actually spread over the band rather than sitting in one place.
  CHECK(seen_min < centre * (1 - j / 2));
  CHECK(seen_max > centre * (1 + j / 2));

  CHECK(policy.DelayBeforeRetry(retry, 0.0) == Approx(low));
  CHECK(policy.DelayBeforeRetry(retry, 0.5) == Approx(centre));
  const double almost_one = std::nextafter(1.0, 0.0);
  CHECK(policy.DelayBeforeRetry(retry, almost_one) == Approx(high));
  CHECK(policy.DelayBeforeRetry(retry, almost_one) <= high);
}

TEST_CASE("a draw outside 0..1 is clamped to the jitter band", "[retry]") {
  auto p = RetryPolicy::Exponential(3, 10, 0.5);
  CHECK(p.DelayBeforeRetry(1, -3.0) == Approx(5));
  CHECK(p.DelayBeforeRetry(1, 7.0) == Approx(15));
}

TEST_CASE("RetryPolicy::Validate accepts sensible policies", "[retry]") {
  CHECK(RetryPolicy{}.Validate().empty());
  CHECK(RetryPolicy::Fixed(3, 10).Validate().empty());
  CHECK(RetryPolicy::List(1000, {0, 1.5}).Validate().empty());
  CHECK(RetryPolicy::Exponential(5, 1, 1.0, 60).Validate().empty());
}

TEST_CASE("RetryPolicy::Validate names the field at fault", "[retry]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  SECTION("retries") {
    CHECK(RetryPolicy::Fixed(-1, 1).Validate() == "retries: must be >= 0, got -1");
    CHECK(RetryPolicy::Fixed(1001, 1).Validate() == "retries: at most 1000, got 1001");
  }
  SECTION("delays") {
    auto delay = GENERATE_COPY(-1.0, nan, inf);
    CHECK_THAT(RetryPolicy::List(3, {1, delay}).Validate(), StartsWith("retry_delays:"));
  }
  SECTION("backoff base") {
    auto p = RetryPolicy::Fixed(3, 1);
    p.exponential_base = -2;
    CHECK_THAT(p.Validate(), StartsWith("retry_backoff:"));
  }
  SECTION("jitter") {
    auto jitter = GENERATE_COPY(-0.1, 1.5, nan);
    CHECK_THAT(RetryPolicy::Exponential(3, 1, jitter).Validate(), StartsWith("retry_jitter:"));
  }
}

// ---------------------------------------------------------------------------------------------
// time.hpp

TEST_CASE("FormatTime writes UTC with microseconds and a Z", "[time]") {
  core::TimePoint t = core::TimePoint{} + 1795668590s + 123456us;
  CHECK(core::FormatTime(t) == "2026-11-26T04:49:50.123456Z");
  CHECK(core::FormatTime(core::TimePoint{}) == "1970-01-01T00:00:00.000000Z");
  CHECK(core::FormatTime(core::TimePoint{} - 750ms) == "1969-12-31T23:59:59.250000Z");
}

TEST_CASE("FormatTime and ParseTime round-trip", "[time]") {
  auto text = GENERATE(as<std::string>{}, "2026-11-26T04:49:50.123456Z",
                       "2026-11-26T04:49:50.000000Z", "2028-02-29T23:59:59.999999Z",
                       "1969-12-31T23:59:59.250000Z", "2000-01-01T00:00:00.000001Z",
                       "2099-12-31T12:00:00.500000Z");
  auto t = ParseTime(text);
  REQUIRE(t);
  CHECK(core::FormatTime(*t) == text);
  CHECK(ParseTime(core::FormatTime(*t)) == t);
}

TEST_CASE("ParseTime reads offsets and PostgreSQL's form", "[time]") {
  const auto utc = At("2026-11-26T04:49:50Z");
  CHECK(ParseTime("2026-11-26T06:49:50+02:00") == utc);
  CHECK(ParseTime("2026-11-25T23:19:50-05:30") == utc);
  CHECK(ParseTime("2026-11-26T06:49:50+0200") == utc);
  CHECK(ParseTime("2026-11-26T04:49:50+00:00") == utc);
  CHECK(ParseTime("2026-11-26t04:49:50z") == utc);
  CHECK(ParseTime("2026-11-26 04:49:50+00") == utc);
  CHECK(ParseTime("2026-11-26 04:49:50.5+00") == utc + 500ms);
  CHECK(ParseTime("2026-11-26 05:49:50.123456+01") == utc + 123456us);
  CHECK(core::FormatTime(*ParseTime("2026-11-26 04:49:50.5+00")) ==
        "2026-11-26T04:49:50.500000Z");
  CHECK(ParseTime("2026-11-26") == At("2026-11-26T00:00:00Z"));
}

TEST_CASE("ParseTime refuses what is not a time", "[time]") {
  auto text = GENERATE(as<std::string>{}, "", "yesterday", "2026", "2026-11",
                       "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-11-32T00:00:00Z",
                       "2026-02-30T00:00:00Z", "2027-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
                       "2026-11-26T24:00:00Z", "2026-11-26T04:60:00Z", "2026-11-26T04:49:61Z",
                       "2026-11-26T04Z", "2026-11-26T04:49:50Q", "2026-11-26T04:49:50Zjunk",
                       "2026-11-26T04:49:50+2", "2026-11-26T04:49:50+ab:cd",
                       "2026-11-26T04:49:50+0x", "2026-11-26T04:49:50+05x0",
                       "2026-11-26T04:49:50+25:00", "2026-11-26T04:49:50+02:75",
                       "2026-11-26T04:49:50+02:00 extra",
                       "2026-11-26 04:49:50.5+");
  CAPTURE(text);
  CHECK_FALSE(ParseTime(text));
}

// Found by tests/fuzz (time): a year a TimePoint cannot hold overflowed the conversion
// (undefined behaviour); negative hours and minutes were read as times.
TEST_CASE("ParseTime refuses years outside 1678-2261 and negative fields", "[time]") {
  auto text = GENERATE(as<std::string>{}, "026-11-26T06:49:50+0200", "0001-01-01T00:00:00Z",
                       "1677-12-31T23:59:59Z", "2262-01-01T00:00:00Z", "9999-12-31",
                       "2026-11-26T-1:00:00Z", "2026-11-26T04:-5:00Z");
  CAPTURE(text);
  CHECK_FALSE(ParseTime(text));
  CHECK(ParseTime("1678-01-01T00:00:00Z"));
  CHECK(ParseTime("2261-12-31T23:59:59.999999Z"));
}

TEST_CASE("ParseDurationSeconds reads people's durations", "[time]") {
  CHECK(ParseDurationSeconds("10s") == 10.0);
  CHECK(ParseDurationSeconds("5m") == 300.0);
  CHECK(ParseDurationSeconds("1h30m") == 5400.0);
  CHECK(ParseDurationSeconds("250ms") == Approx(0.25));
  CHECK(ParseDurationSeconds("2d") == 172800.0);
  CHECK(ParseDurationSeconds("7") == 7.0);
  CHECK(ParseDurationSeconds("1.5h") == 5400.0);
  CHECK(ParseDurationSeconds("0") == 0.0);
  CHECK(ParseDurationSeconds("1d2h3m4s") == 93784.0);
}

TEST_CASE("ParseDurationSeconds refuses what is not a duration", "[time]") {
  auto text = GENERATE(as<std::string>{}, "", "abc", "10x", "s", "-5s", "1h30", "10 s", " 10s",
                       "10s ", "1.2.3s", ".", "1h-5m", "5 minutes");
  CAPTURE(text);
  CHECK_FALSE(ParseDurationSeconds(text));
}

TEST_CASE("FormatDuration writes durations for people", "[time]") {
  CHECK(core::FormatDuration(0.25) == "250ms");
  CHECK(core::FormatDuration(5) == "5.0s");
  CHECK(core::FormatDuration(125) == "2m 5s");
  CHECK(core::FormatDuration(5400) == "1h 30m");
  // Found by tests/fuzz (time): hours past INT_MAX seconds overflowed an int conversion.
  CHECK(core::FormatDuration(2.0554e10) == "5709444h 26m");
  CHECK(core::FormatDuration(1e300) == "1e+300s");
}

TEST_CASE("seconds convert to durations and back", "[time]") {
  CHECK(core::FromSeconds(1.5) == 1500ms);
  CHECK(core::ToSeconds(250ms) == Approx(0.25));
  CHECK(core::ToSeconds(core::FromSeconds(86400.000001)) == Approx(86400.000001));
  // Beyond what a duration can hold: saturate instead of wrapping around.
  CHECK(core::FromSeconds(1e300) == core::Duration::max());
  CHECK(core::FromSeconds(std::numeric_limits<double>::infinity()) == core::Duration::max());
  CHECK(core::FromSeconds(-1e300) == core::Duration::min());
}

TEST_CASE("FakeClock stands still until told to move", "[time]") {
  const auto start = At("2026-11-26T04:49:50Z");
  FakeClock fake(start);
  const core::Clock& clock = fake;
  CHECK(clock.Now() == start);
  CHECK(clock.Now() == start);
  fake.Advance(90s);
  CHECK(clock.Now() == start + 90s);
  fake.Set(At("2030-01-01T00:00:00Z"));
  CHECK(core::FormatTime(clock.Now()) == "2030-01-01T00:00:00.000000Z");
  CHECK(&core::SystemClock::Instance() == &core::SystemClock::Instance());
}

// ---------------------------------------------------------------------------------------------
// state.hpp

TEST_CASE("ParseStateType accepts type names in any case", "[state]") {
  for (int i = 1; i <= 9; ++i) {
    auto type = static_cast<StateType>(i);
    std::string name = core::StateTypeName(type);
    CHECK(core::ParseStateType(name) == type);
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(core::ParseStateType(lower) == type);
    CHECK(core::ParseStateType(core::DefaultStateName(type)) == type);
  }
}

TEST_CASE("ParseStateType accepts the named states in any case", "[state]") {
  auto [text, type] = GENERATE(table<std::string, StateType>({
      {"Late", StateType::kScheduled},
      {"late", StateType::kScheduled},
      {"AwaitingRetry", StateType::kScheduled},
      {"AWAITINGRETRY", StateType::kScheduled},
      {"Retrying", StateType::kRunning},
      {"Cached", StateType::kCompleted},
      {"TimedOut", StateType::kFailed},
      {"timedout", StateType::kFailed},
  }));
  CHECK(core::ParseStateType(text) == type);
}

TEST_CASE("ParseStateType refuses unknown names", "[state]") {
  auto text = GENERATE(as<std::string>{}, "", "done", "UNKNOWN", "RUNNING ", "Complete");
  CAPTURE(text);
  CHECK_FALSE(core::ParseStateType(text));
}

TEST_CASE("COMPLETED, FAILED, CANCELLED and CRASHED are terminal", "[state]") {
  CHECK(core::IsTerminal(StateType::kCompleted));
  CHECK(core::IsTerminal(StateType::kFailed));
  CHECK(core::IsTerminal(StateType::kCancelled));
  CHECK(core::IsTerminal(StateType::kCrashed));
  CHECK_FALSE(core::IsTerminal(StateType::kScheduled));
  CHECK_FALSE(core::IsTerminal(StateType::kPending));
  CHECK_FALSE(core::IsTerminal(StateType::kRunning));
  CHECK_FALSE(core::IsTerminal(StateType::kCancelling));
  CHECK_FALSE(core::IsTerminal(StateType::kPaused));
  const auto now = At("2026-11-26T04:49:50Z");
  CHECK(core::Cached(now).IsTerminal());
  CHECK(core::TimedOut(now, "slow").IsTerminal());
  CHECK_FALSE(core::AwaitingRetry(now, now).IsTerminal());
}

TEST_CASE("named state builders set type, name, time and message", "[state]") {
  const auto now = At("2026-11-26T04:49:50Z");
  auto late = core::Late(now, now - 5min);
  CHECK(late.type == StateType::kScheduled);
  CHECK(late.name == "Late");
  CHECK(late.timestamp == now);
  CHECK(late.scheduled_time == now - 5min);

  auto retrying = core::Retrying(now);
  CHECK(retrying.type == StateType::kRunning);
  CHECK(retrying.name == "Retrying");

  auto failed = core::Failed(now, "boom", R"({"type":"std::runtime_error"})");
  CHECK(failed.type == StateType::kFailed);
  CHECK(failed.details_json == R"({"type":"std::runtime_error"})");
  CHECK(failed.Describe() == "Failed: boom");
  CHECK(core::Running(now).Describe() == "Running");
  CHECK(core::MakeState(StateType::kPaused, now).name == "Paused");
}

TEST_CASE("Utf8SequenceLength accepts valid sequences and refuses broken ones", "[text]") {
  using weft::core::Utf8SequenceLength;
  CHECK(Utf8SequenceLength("a", 0) == 1);
  CHECK(Utf8SequenceLength("\xC3\xA9", 0) == 2);          // é
  CHECK(Utf8SequenceLength("\xE2\x80\xA6", 0) == 3);      // …
  CHECK(Utf8SequenceLength("\xF0\x9F\x99\x82", 0) == 4);  // 🙂
  CHECK(Utf8SequenceLength("\x80", 0) == 0);              // stray continuation byte
  CHECK(Utf8SequenceLength("\xC0\xAF", 0) == 0);          // overlong '/'
  CHECK(Utf8SequenceLength("\xE0\x80\xAF", 0) == 0);      // overlong
  CHECK(Utf8SequenceLength("\xED\xA0\x80", 0) == 0);      // surrogate
  CHECK(Utf8SequenceLength("\xF4\x90\x80\x80", 0) == 0);  // above U+10FFFF
  CHECK(Utf8SequenceLength("\xE2\x80", 0) == 0);          // cut by the end
}

TEST_CASE("ParseByteSize reads the sizes settings accept", "[text]") {
  using weft::core::ParseByteSize;
  CHECK(ParseByteSize("104857600") == 104857600);
  CHECK(ParseByteSize("100MiB") == 100LL << 20);
  CHECK(ParseByteSize("100mb") == 100000000);
  CHECK(ParseByteSize(" 1.5 GiB ") == 3LL << 29);
  CHECK(ParseByteSize("64k") == 65536);
  CHECK(ParseByteSize("1TB") == 1000000000000LL);
  CHECK_FALSE(ParseByteSize("-1KiB"));
  CHECK_FALSE(ParseByteSize("MiB"));
  CHECK_FALSE(ParseByteSize("10 parsecs"));
  CHECK_FALSE(ParseByteSize("1e30"));
}
