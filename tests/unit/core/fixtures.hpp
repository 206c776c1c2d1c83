#pragma once
// Small helpers shared by the sdk/core unit tests: fixed instants and a context builder.
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "sdk/core/orchestration/rule.hpp"
#include "sdk/core/state.hpp"
#include "sdk/core/time.hpp"

// Failed checks print time points as RFC 3339 instead of "{?}".
namespace Catch {
template <>
struct StringMaker<weft::core::TimePoint> {
  static std::string convert(const weft::core::TimePoint& t) { return weft::core::FormatTime(t); }
};
}  // namespace Catch

namespace weft::test {

// An instant written as RFC 3339; throws on a typo so a broken fixture is loud.
inline core::TimePoint At(const std::string& text) {
  auto t = core::ParseTime(text);
  if (!t) throw std::invalid_argument("bad fixture time: " + text);
  return *t;
}

// The fixed "now" of every rule test.
inline core::TimePoint Now() { return At("2026-11-26T04:49:50Z"); }

inline core::orchestration::TransitionContext Context(std::optional<core::State> initial,
                                                      core::State proposed,
                                                      core::TimePoint now = Now()) {
  core::orchestration::TransitionContext ctx;
  ctx.kind = core::orchestration::RunKind::kTaskRun;
  ctx.initial = std::move(initial);
  ctx.proposed = std::move(proposed);
  ctx.now = now;
  return ctx;
}

}  // namespace weft::test
