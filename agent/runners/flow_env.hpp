#pragma once
// The environment a flow run gets is an allowlist, never the agent's whole environment (its
// API key, cloud credentials, its own WEFT_AGENT_* settings stay with the agent):
//
//   process runner:   the basics below (values from the agent) + RunSpec::passed_env
//                     (--pass-env) + RunSpec::env (runner.env, then what Weft sets)
//   docker, kubernetes: RunSpec::passed_env + RunSpec::env (the image brings its own PATH,
//                     HOME, locale)
//
// Later entries win for the same name.
#include <string>
#include <string_view>
#include <vector>

#include "agent/runners/runner.hpp"

namespace weft::agent {

// The agent's variables every flow process inherits: PATH, HOME, USER, LOGNAME, SHELL,
// LANG, LANGUAGE, LC_*, TZ, TMPDIR, and the sanitizers' ASAN_/UBSAN_/TSAN_/LSAN_OPTIONS
// (diagnostics knobs of sanitizer builds). Nothing secret.
bool IsBasicEnvName(std::string_view name);

// The entries of `agent_env` with a basic name, in their order.
EnvList BasicEnvironment(const EnvList& agent_env);

// The entries of `agent_env` named in `names` (--pass-env), in the order of `names`; names
// not set in `agent_env` are skipped.
EnvList PassedEnvironment(const EnvList& agent_env, const std::vector<std::string>& names);

// The process runner's whole environment for `spec`: BasicEnvironment(agent_env), then
// spec.passed_env, then spec.env.
EnvList FlowProcessEnvironment(const EnvList& agent_env, const RunSpec& spec);

// What a container gets (docker `-e NAME`, the Kubernetes Job's env): spec.passed_env, then
// spec.env, one entry per name.
EnvList FlowContainerEnvironment(const RunSpec& spec);

// A --pass-env name is a valid environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool ValidPassEnvName(std::string_view name);

}  // namespace weft::agent
