#pragma once
// Small pure checks shared by the API and the domain functions.
#include <string>
#include <string_view>

namespace weft::server::orchestration {

// 8-4-4-4-12 hexadecimal digits.
bool IsUuid(std::string_view s);
// Lower case (PostgreSQL prints uuids in lower case).
std::string NormalizeUuid(std::string_view s);
// "" when `text` is empty or a JSON object; else the problem ("not valid JSON: ...",
// "must be a JSON object, got array").
std::string CheckJsonObject(const std::string& text);
// "" when `text` is empty or any valid JSON value; else the problem.
std::string CheckJson(const std::string& text);
// adjective-noun-NN, e.g. "amber-otter-42".
std::string GenerateRunName();

}  // namespace weft::server::orchestration
