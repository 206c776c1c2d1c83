#pragma once
// Names: the one rule for what users name and later refer to (deployments, work queues,
// storages, API keys, profiles), and the looser rule for display names that programs choose
// (flows, flow runs, agents). Every entry point checks with these, the server always (the
// CLI's and the SDK's checks are a convenience), so a name one command accepts is a name
// every other command and spec accepts. docs/limits.md "Names" lists them.
#include <cstddef>
#include <string>
#include <string_view>

#include "sdk/core/error.hpp"

namespace weft::core {

// Names: letters, digits, '_', '.' and '-', 1 to kMaxNameLength characters.
inline constexpr std::size_t kMaxNameLength = 200;
// API key names: the name characters and '@' (an e-mail address), at most 64.
inline constexpr std::size_t kMaxApiKeyNameLength = 64;
// Local profile names (~/.weft/config.yaml): at most 64.
inline constexpr std::size_t kMaxProfileNameLength = 64;
// Display names (flows, flow runs, agents): any UTF-8 text without control characters (C0,
// DEL, C1), at most kMaxDisplayNameLength bytes. A flow name may not hold '/' (FLOW/NAME
// names a deployment).
inline constexpr std::size_t kMaxDisplayNameLength = 200;

// A letter, a digit, '_', '.' or '-' (ASCII only).
bool IsNameChar(char c);
// Non-empty, at most `max_length`, only name characters (and those in `also`).
bool IsValidName(std::string_view name, std::size_t max_length = kMaxNameLength,
                 std::string_view also = {});

// What is wrong with `name`, "" when nothing:
//   "required"
//   "is 2000 characters long; at most 200 (letters, digits, '_', '.' and '-')"
//   "\"week ly\" may contain only letters, digits, '_', '.' and '-' (at most 200)"
std::string NameProblem(std::string_view name, std::size_t max_length = kMaxNameLength,
                        std::string_view also = {});
// InvalidArgument("<field>: <problem>") or ok.
Status CheckName(std::string_view name, std::string_view field,
                 std::size_t max_length = kMaxNameLength, std::string_view also = {});

// The display-name rule; `required` = an empty name is a problem. Problems: "required",
// "is 2700 bytes long; at most 200", "is not valid UTF-8", "\"a\\x0ab\" contains a control
// character".
std::string DisplayNameProblem(std::string_view name, bool required = true);
Status CheckDisplayName(std::string_view name, std::string_view field, bool required = true);
// A flow's name: a display name without '/'.
Status CheckFlowName(std::string_view name, std::string_view field);

// How a message shows a name: quoted, '"' and '\' escaped, control characters as \xNN (C1 as
// \u00NN), and cut
// (with "...") after 80 bytes so that a 100,000-character name never fills a terminal.
std::string QuoteName(std::string_view name);

}  // namespace weft::core
