#pragma once
// How a task's result (and, for cache keys, its arguments) becomes JSON text and back.
// Nothing is convertible here: sdk/flow/json.hpp specialises ResultCodec for every type
// nlohmann::json converts (numbers, strings, containers, and user types with
// to_json/from_json). Include it in each file that declares or calls a task whose result is
// cached or persisted; weft.hpp itself stays free of the JSON library.
#include <functional>
#include <string>
#include <string_view>

namespace weft {

template <typename T, typename = void>
struct ResultCodec {
  static constexpr bool kAvailable = false;
};

// What a cache key function sees for one call of a task.
struct CacheKeyInputs {
  std::string task_name;
  std::string inputs_json;  // the call's arguments as a JSON array
};

// The default cache key: a hash of the task's name and its inputs (not cryptographic).
std::string task_input_hash(const CacheKeyInputs& inputs);

namespace detail {

// One call's caching, handed by the task's call to the engine: set right before
// RunTaskCall, which takes it (thread-local; the next RunTaskCall on this thread).
struct CallCache {
  std::string key;  // "" = not cached
  double expiration_seconds = 0;
  bool persist = false;                            // store the result even without a key
  std::function<std::string(int attempt)> encode;  // the successful attempt's result, as JSON
  bool cached = false;                             // out: the server answered Cached
  std::string cached_json;                         // out: the stored result it answered with
};
void SetNextCallCache(CallCache* cache);
CallCache* TakeNextCallCache();

}  // namespace detail

}  // namespace weft
