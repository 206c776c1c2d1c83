#pragma once
// The process runner (default): the entrypoint as a child process in its own session and
// process group, cwd = the run directory, stdout+stderr into <run dir>/output.log and, line
// by line, to the agent's sink. Spawn is shared with the docker runner (which starts the
// docker CLI the same way).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/runners/runner.hpp"

namespace weft::agent {

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0]: a path, or a bare name looked up on PATH
  EnvList env;                    // the whole environment of the child
  std::string cwd;
  std::string log_path;  // "" = no log file
  LineSink sink;         // may be empty
};

// fork + setsid + exec. An exec failure (missing file, not executable) is an error naming
// argv[0], reported before this returns.
core::Result<std::unique_ptr<RunHandle>> Spawn(const SpawnRequest& req);

// This process's environment.
EnvList CurrentEnvironment();
// `base` with every entry of `over` set (replacing the same name).
EnvList MergeEnv(EnvList base, const EnvList& over);

// The argv the process runner execs: entrypoint[0] resolved against the run dir (a file
// there wins; a bare name not in the bundle is looked up on PATH), then the arguments.
// An empty entrypoint, or a path with '/' that is missing from the bundle, is an error.
core::Result<std::vector<std::string>> ProcessArgv(const RunSpec& spec, const std::string& run_dir);

// A word quoted for a POSIX shell when it needs it: abc -> abc, a b -> 'a b'.
std::string ShellQuote(std::string_view word);
std::string ShellJoin(const std::vector<std::string>& argv);

// Looks `name` up on PATH; "" when not found.
std::string FindOnPath(const std::string& name);

class ProcessRunner final : public Runner {
 public:
  std::string type() const override { return "process"; }
  core::Result<std::unique_ptr<RunHandle>> Start(const RunSpec& spec, const std::string& run_dir,
                                                 LineSink sink) override;
  std::string Describe(const RunSpec& spec, const std::string& run_dir) const override;
};

}  // namespace weft::agent
