#pragma once
// Calling the `weft` CLI from e2e tests. The including target defines WEFT_CLI_BIN.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/support.hpp"

namespace weft::e2e {

inline bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline RunResult Weft(const Env& env, std::vector<std::string> args, const std::string& cwd = "") {
  args.insert(args.begin(), WEFT_CLI_BIN);
  return Run(args, env, 120, cwd);
}

// Runs `weft ARGS` and REQUIREs exit code 0 (the failure shows the command and its output).
inline RunResult WeftOk(const Env& env, const std::vector<std::string>& args,
                        const std::string& cwd = "") {
  RunResult r = Weft(env, args, cwd);
  std::string cmd = "weft";
  for (const auto& a : args) cmd += " " + a;
  INFO(cmd << "\nexit " << r.exit_code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

inline nlohmann::json WeftJson(const Env& env, std::vector<std::string> args,
                               const std::string& cwd = "") {
  args.push_back("--output");
  args.push_back("json");
  return nlohmann::json::parse(WeftOk(env, args, cwd).out);
}

inline void WriteFile(const std::filesystem::path& p, const std::string& data,
                      bool executable = false) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
  if (executable) ::chmod(p.c_str(), 0755);
}

}  // namespace weft::e2e
