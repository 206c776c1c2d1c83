// Small helpers of the runtime: ids, run names, exception and state descriptions.
#include <cxxabi.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <typeinfo>
#include <utility>

#include "sdk/core/field_limits.hpp"
#include "sdk/flow/internal.hpp"
#include "sdk/flow/result_codec.hpp"

namespace weft::detail {

namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return rng;
}

}  // namespace

std::string NewUuid() {
  auto& rng = Rng();
  std::uint64_t hi = rng();
  std::uint64_t lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  auto put = [&](std::uint64_t v, int nibbles) {
    for (int i = nibbles - 1; i >= 0; --i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      out[static_cast<size_t>(pos++)] = kHex[(v >> (i * 4)) & 0xF];
    }
  };
  put(hi, 16);
  put(lo, 16);
  return out;
}

std::string NewRunName() {
  static constexpr std::array<const char*, 24> kAdjectives = {
      "amber", "brave", "calm",   "daring", "eager",  "fancy",  "gentle", "happy",
      "icy",   "jolly", "keen",   "lively", "mellow", "nimble", "olive",  "proud",
      "quiet", "rapid", "silver", "tidy",   "upbeat", "vivid",  "witty",  "zesty"};
  static constexpr std::array<const char*, 24> kAnimals = {
      "otter",  "heron", "lynx",   "badger", "falcon", "gecko", "ibis",  "jackal",
      "koala",  "lemur", "marten", "newt",   "ocelot", "panda", "quail", "raven",
      "salmon", "tapir", "urchin", "vole",   "walrus", "yak",   "zebra", "beaver"};
  auto& rng = Rng();
  return std::string(kAdjectives[rng() % kAdjectives.size()]) + "-" +
         kAnimals[rng() % kAnimals.size()] + "-" + std::to_string(rng() % 100);
}

double UnitRandom() { return std::uniform_real_distribution<double>(0.0, 1.0)(Rng()); }

std::string Demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(mangled);
}

// Both within the server's limits on a state's message and details (sdk/core/field_limits):
// a long exception text is cut, never refused with the run's final state.
std::string ExceptionInfo::Text() const {
  return core::CutText(message.empty() ? type : type + ": " + message,
                       core::kMaxStateMessageBytes);
}

std::string ExceptionInfo::DetailsJson() const {
  return nlohmann::json{{"exception_type", core::CutText(type, 1024)},
                        {"message", core::CutText(message, core::kMaxStateMessageBytes / 2)}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ExceptionInfo DescribeException(std::exception_ptr error) {
  ExceptionInfo info;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    info.type = Demangle(typeid(e).name());
    info.message = e.what();
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    info.type = t ? Demangle(t->name()) : "unknown";
    info.message = "exception not derived from std::exception";
  }
  return info;
}

std::string DescribeState(const core::State& state) {
  std::string name = state.name.empty() ? core::DefaultStateName(state.type) : state.name;
  if (state.message.empty()) return name + "()";
  return name + "('" + state.message + "')";
}

}  // namespace weft::detail

namespace weft {

namespace {
thread_local detail::CallCache* tls_next_call_cache = nullptr;
}  // namespace

void detail::SetNextCallCache(CallCache* cache) { tls_next_call_cache = cache; }
detail::CallCache* detail::TakeNextCallCache() { return std::exchange(tls_next_call_cache, nullptr); }

std::string task_input_hash(const CacheKeyInputs& inputs) {
  // Two 64-bit FNV-1a hashes with different offsets over "name\0inputs": 128 bits, stable
  // across builds and machines (std::hash is neither).
  auto fnv = [&](std::uint64_t h) {
    auto mix = [&](std::string_view text) {
      for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ULL;
      }
    };
    mix(inputs.task_name);
    mix(std::string_view("\0", 1));
    mix(inputs.inputs_json);
    return h;
  };
  return fmt::format("{}-{:016x}{:016x}", inputs.task_name, fnv(0xcbf29ce484222325ULL),
                     fnv(0x84222325cbf29ce4ULL));
}

}  // namespace weft
