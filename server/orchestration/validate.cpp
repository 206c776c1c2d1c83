#include "server/orchestration/validate.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cctype>
#include <random>

namespace weft::server::orchestration {

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::string NormalizeUuid(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

std::string TypeName(const nlohmann::json& j) { return j.type_name(); }

}  // namespace

std::string CheckJsonObject(const std::string& text, core::JsonLimits limits) {
  if (text.empty()) return {};
  if (std::string problem = core::JsonTextProblem(text, limits); !problem.empty()) return problem;
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) return "must be a JSON object, got " + TypeName(j);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for 1e999
    return std::string("not valid JSON: ") + e.what();
  }
  return {};
}

std::string CheckJson(const std::string& text, core::JsonLimits limits) {
  if (text.empty()) return {};
  if (std::string problem = core::JsonTextProblem(text, limits); !problem.empty()) return problem;
  try {
    if (!nlohmann::json::accept(text)) (void)nlohmann::json::parse(text).is_null();
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for 1e999
    return std::string("not valid JSON: ") + e.what();
  }
  return {};
}

std::optional<std::int64_t> DecodeHistoryCursor(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n <= 0) return std::nullopt;
  return n;
}

std::string GenerateRunName() {
  static constexpr std::array<const char*, 32> kAdjectives = {
      "amber",  "bold",   "brisk",  "calm",   "clever", "cosmic", "crimson", "daring",
      "eager",  "fierce", "gentle", "golden", "hidden", "humble", "jolly",   "keen",
      "lively", "lucky",  "mellow", "misty",  "nimble", "polite", "quick",   "quiet",
      "rapid",  "silver", "steady", "sunny",  "swift",  "tidy",   "vivid",   "witty"};
  static constexpr std::array<const char*, 32> kNouns = {
      "otter",  "falcon", "badger", "heron",  "lynx",    "marten", "osprey", "panda",
      "raven",  "salmon", "tiger",  "walrus", "beaver",  "condor", "dingo",  "ferret",
      "gecko",  "ibis",   "jackal", "koala",  "lemur",   "magpie", "newt",   "ocelot",
      "puffin", "quail",  "robin",  "stoat",  "toucan",  "urchin", "vole",   "wombat"};
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> word(0, 31);
  std::uniform_int_distribution<int> num(0, 99);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%s-%02d", kAdjectives[word(rng)], kNouns[word(rng)], num(rng));
  return buf;
}

}  // namespace weft::server::orchestration
