#pragma once
// JSON results for tasks: include this (after or instead of weft.hpp) where a task's result
// is cached or persisted, or its arguments feed a cache key. Every type nlohmann::json
// converts works: numbers, strings, bools, vectors, maps, optionals, and your own types once
// they have to_json/from_json (NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE is the short way).
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "sdk/flow/result_codec.hpp"
#include "sdk/flow/weft.hpp"

namespace weft {
namespace detail {

template <typename T, typename = void>
struct JsonConvertible : std::false_type {};
template <typename T>
struct JsonConvertible<T, std::void_t<decltype(nlohmann::json(std::declval<const T&>())),
                                      decltype(std::declval<const nlohmann::json&>().get<T>())>>
    : std::true_type {};

}  // namespace detail

template <typename T>
struct ResultCodec<T, std::enable_if_t<detail::JsonConvertible<T>::value>> {
  static constexpr bool kAvailable = true;
  static std::string Encode(const T& value) { return nlohmann::json(value).dump(); }
  static T Decode(std::string_view text) { return nlohmann::json::parse(text).get<T>(); }
};

}  // namespace weft
