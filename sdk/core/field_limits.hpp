#pragma once
// Limits on the JSON and text fields that cross a boundary into Weft (gRPC string fields,
// HTTP bodies, deployment spec files), in one place; docs/limits.md "JSON and text fields"
// lists them. The checks never recurse: a deeply nested text is refused before anything
// that recurses (dump, copy, ==) sees it.
#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sdk/core/error.hpp"

namespace weft::core {

inline constexpr std::size_t kKiB = 1024;
inline constexpr std::size_t kMiB = 1024 * kKiB;

// ---- JSON ----
// Nesting: arrays and objects inside each other, counted from 1 for the outermost.
inline constexpr int kMaxJsonDepth = 64;
// Run and deployment parameters (parameters_json, an HTTP run's "parameters").
inline constexpr std::size_t kMaxParametersBytes = 1 * kMiB;
// A state's details_json.
inline constexpr std::size_t kMaxStateDetailsBytes = 64 * kKiB;
// A flow's declared parameters (parameters_schema_json).
inline constexpr std::size_t kMaxParametersSchemaBytes = 256 * kKiB;
// A task run's task_inputs_json (upstream task runs: ~70 bytes each).
inline constexpr std::size_t kMaxTaskInputsBytes = 1 * kMiB;
// A deployment spec document (a deploy.yaml as JSON, a program's --weft-describe output).
inline constexpr std::size_t kMaxSpecDocumentBytes = 8 * kMiB;
// Values (scalars, lists, maps) in a deploy.yaml, an alias counting each time it is used.
inline constexpr std::size_t kMaxSpecValues = 1000000;
// Any HTTP request body the server reads (the JSON API, /api/login): 413 beyond.
inline constexpr std::size_t kMaxHttpBodyBytes = 2 * kMiB;
// The body of POST /api/login (unauthenticated: {"api_key": "..."}): 400 beyond.
inline constexpr std::size_t kMaxLoginBodyBytes = 4 * kKiB;

// ---- text ----
inline constexpr std::size_t kMaxDescriptionBytes = 4 * kKiB;     // deployment, work queue
inline constexpr std::size_t kMaxStateMessageBytes = 16 * kKiB;   // State.message
inline constexpr std::size_t kMaxStateNameBytes = 100;            // State.name ("AwaitingRetry")
inline constexpr std::size_t kMaxIdempotencyKeyBytes = 1 * kKiB;  // runs and states
inline constexpr std::size_t kMaxEntrypointArgs = 256;            // command + arguments
inline constexpr std::size_t kMaxEntrypointArgBytes = 4 * kKiB;   // each of them
inline constexpr std::size_t kMaxTags = 64;                       // per run or deployment
inline constexpr std::size_t kMaxTagBytes = 200;                  // each tag
inline constexpr std::size_t kMaxCacheKeyBytes = 1 * kKiB;        // a task run's cache_key
inline constexpr std::size_t kMaxTaskKeyBytes = 1 * kKiB;          // task_key, dynamic_key
inline constexpr std::size_t kMaxTaskRunNameBytes = 1 * kKiB;      // a task run's name
inline constexpr std::size_t kMaxVersionBytes = 200;              // a deployment's version
inline constexpr std::size_t kMaxConfigKeyBytes = 64;             // a storage's config keys
inline constexpr std::size_t kMaxConfigValueBytes = 4 * kKiB;     // and values

struct JsonLimits {
  std::size_t max_bytes = kMaxParametersBytes;
  int max_depth = kMaxJsonDepth;
};

// What a linear scan of a JSON text found: its size and the deepest nesting of [ and {
// (brackets inside strings, escaped quotes included, do not count).
struct JsonShape {
  std::size_t bytes = 0;
  int depth = 0;
};
// Stops counting once the depth passes `stop_at` (the text is refused anyway).
JsonShape ScanJson(std::string_view text, int stop_at = 1 << 30);

// "" when `text` is within the limits; else the problem without a field name
// ("nested deeper than 64 levels").
std::string JsonTextProblem(std::string_view text, JsonLimits limits = {});
// OK when `text` is within the limits (it may still be invalid JSON: the parser says so).
// Else InvalidArgument naming the field: `parameters: larger than 1 MiB (1048577 bytes)`,
// `parameters: nested deeper than 64 levels`.
Status CheckJsonText(std::string_view text, std::string_view field, JsonLimits limits = {});

// The bounded parse: CheckJsonText, then nlohmann's (iterative) parser. InvalidArgument
// `parameters: not valid JSON: ...` when it does not parse. An empty text is an error too.
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view field,
                                 JsonLimits limits = {});

// A request body: a JSON object of at most limits.max_bytes whose members' values are each
// nested at most limits.max_depth deep (a member's value counts from 1, as if it had been
// sent alone). Errors name the member (`parameters: nested deeper than 64 levels`) or, for
// the body as a whole, `field` (`body: not valid JSON: ...`, `body: must be a JSON object`).
// An empty text is {}.
Result<nlohmann::json> ParseJsonObjectBody(std::string_view text, std::string_view field,
                                           JsonLimits limits);

// OK when `text` has at most `max_bytes`; else InvalidArgument
// `description: 5000 bytes, longer than the limit of 4096 bytes`.
Status CheckTextLength(std::string_view text, std::string_view field, std::size_t max_bytes);

// Tags: at most kMaxTags, each non-empty and at most kMaxTagBytes. `field` is "tags".
Status CheckTags(const std::vector<std::string>& tags, std::string_view field);

// `text` when it has at most `max_bytes`; else its first bytes (never half a UTF-8
// character) and " ...[cut N bytes]", at most `max_bytes` in all. For what a client sends
// on its own behalf (an exception's message), so it stays within a limit.
std::string CutText(std::string_view text, std::size_t max_bytes);

// "1 MiB", "64 KiB", "200 bytes": how messages state a limit.
std::string DescribeBytes(std::size_t bytes);

}  // namespace weft::core
