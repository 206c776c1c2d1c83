#pragma once
// Runners: how an agent starts a flow run (process, docker, kubernetes). A runner turns a
// RunSpec into a running thing and hands back a RunHandle to watch and stop it.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sdk/core/error.hpp"

namespace weft::agent {

// How a run's process ended.
struct ExitStatus {
  bool signaled = false;  // killed by `signal`
  int code = 0;           // exit code when !signaled
  int signal = 0;
};

using EnvList = std::vector<std::pair<std::string, std::string>>;

// What a runner needs to start one flow run.
struct RunSpec {
  std::string flow_run_id;
  std::string run_name;         // "amber-otter-42", for logs
  std::string deployment_name;  // "flow/name"
  std::vector<std::string> entrypoint;
  std::string image;          // docker, kubernetes
  std::string k8s_namespace;  // kubernetes ("" = default)
  std::string network;        // docker: `--network` ("" = not passed: the engine's default)
  // The agent's own variables named by --pass-env (values from its environment; names it
  // does not have are left out). Redacted wherever a runner shows values (--dry-run).
  EnvList passed_env;
  // The run's environment: runner.env, then WEFT_API_URL, WEFT_API_KEY, WEFT_FLOW_RUN_ID,
  // WEFT_FLOW_RUN_PARAMETERS (later entries win). Together with passed_env (and, for the
  // process runner, the basics of runners/flow_env.hpp) this is all a flow gets: never
  // the agent's whole environment.
  EnvList env;
};

// Each line the run prints (stdout and stderr), without the newline.
using LineSink = std::function<void(std::string_view line)>;

class RunHandle {
 public:
  virtual ~RunHandle() = default;
  // Waits up to `seconds` for the run to end; nullopt while it still runs.
  virtual std::optional<ExitStatus> Wait(double seconds) = 0;
  // Asks the run to stop: SIGTERM (graceful) or SIGKILL (now). Process runners signal the
  // whole process group. Harmless after the run ended.
  virtual void Signal(int sig) = 0;
  // The local process id (-1 when the run is not a local process).
  virtual int pid() const = 0;
};

class Runner {
 public:
  virtual ~Runner() = default;
  virtual std::string type() const = 0;
  // Starts the run in `run_dir` (the unpacked bundle). Errors name the runner and the
  // problem ("runner docker: docker not found on PATH").
  virtual core::Result<std::unique_ptr<RunHandle>> Start(const RunSpec& spec,
                                                         const std::string& run_dir,
                                                         LineSink sink) = 0;
  // What Start would do, for --dry-run (argv, env names, manifest). Secrets are redacted.
  virtual std::string Describe(const RunSpec& spec, const std::string& run_dir) const = 0;
};

// "SIGSEGV" for 11, "SIG42" for unknown numbers.
std::string SignalName(int sig);

}  // namespace weft::agent
