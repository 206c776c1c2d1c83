#include "agent/runners/flow_env.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "agent/runners/process.hpp"

namespace weft::agent {

bool IsBasicEnvName(std::string_view name) {
  static constexpr std::array<std::string_view, 13> kBasics = {
      "PATH", "HOME",   "USER",         "LOGNAME",       "SHELL",        "LANG",        "LANGUAGE",
      "TZ",   "TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS"};
  if (std::find(kBasics.begin(), kBasics.end(), name) != kBasics.end()) return true;
  return name.size() > 3 && name.substr(0, 3) == "LC_";
}

EnvList BasicEnvironment(const EnvList& agent_env) {
  EnvList out;
  for (const auto& [k, v] : agent_env) {
    if (IsBasicEnvName(k)) out.emplace_back(k, v);
  }
  return out;
}

EnvList PassedEnvironment(const EnvList& agent_env, const std::vector<std::string>& names) {
  EnvList out;
  for (const auto& name : names) {
    bool seen = std::any_of(out.begin(), out.end(), [&](const auto& e) { return e.first == name; });
    if (seen) continue;
    for (const auto& [k, v] : agent_env) {
      if (k == name) {
        out.emplace_back(k, v);
        break;
      }
    }
  }
  return out;
}

EnvList FlowProcessEnvironment(const EnvList& agent_env, const RunSpec& spec) {
  return MergeEnv(MergeEnv(BasicEnvironment(agent_env), spec.passed_env), spec.env);
}

EnvList FlowContainerEnvironment(const RunSpec& spec) {
  return MergeEnv(MergeEnv({}, spec.passed_env), spec.env);
}

bool ValidPassEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

}  // namespace weft::agent
