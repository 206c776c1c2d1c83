#pragma once
// Small pure checks shared by the API and the domain functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sdk/core/field_limits.hpp"

namespace weft::server::orchestration {

// 8-4-4-4-12 hexadecimal digits.
bool IsUuid(std::string_view s);
// Lower case (PostgreSQL prints uuids in lower case).
std::string NormalizeUuid(std::string_view s);
// "" when `text` is empty or a JSON object within `limits` (checked before parsing: see
// sdk/core/field_limits.hpp); else the problem ("not valid JSON: ...", "must be a JSON
// object, got array", "nested deeper than 64 levels", "larger than 1 MiB (...)").
std::string CheckJsonObject(const std::string& text, core::JsonLimits limits = {});
// "" when `text` is empty or any valid JSON value within `limits`; else the problem.
std::string CheckJson(const std::string& text, core::JsonLimits limits = {});
// A state history page's cursor: the last history id of the previous page, in decimal.
// nullopt when malformed.
std::optional<std::int64_t> DecodeHistoryCursor(std::string_view text);
// adjective-noun-NN, e.g. "amber-otter-42".
std::string GenerateRunName();

}  // namespace weft::server::orchestration
