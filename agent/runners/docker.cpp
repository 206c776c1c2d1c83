#include "agent/runners/docker.hpp"

#include <fmt/format.h>
#include <signal.h>

#include "agent/runners/flow_env.hpp"
#include "agent/runners/process.hpp"
#include "sdk/core/image_ref.hpp"

namespace weft::agent {

std::string DockerContainerName(const RunSpec& spec) { return "weft-" + spec.flow_run_id; }

core::Result<std::vector<std::string>> DockerArgv(const RunSpec& spec, const std::string& run_dir) {
  if (spec.image.empty()) {
    return core::InvalidArgument(
        fmt::format("runner docker: deployment \"{}\" has no runner.image", spec.deployment_name));
  }
  if (std::string problem = core::ImageReferenceProblem(spec.image); !problem.empty()) {
    return core::InvalidArgument(
        fmt::format("runner docker: deployment \"{}\": runner.image \"{}\" is not a valid image "
                    "reference: {}",
                    spec.deployment_name, spec.image, problem));
  }
  std::vector<std::string> argv = {"docker", "run", "--rm", "--name", DockerContainerName(spec)};
  if (!spec.network.empty()) {
    argv.push_back("--network");
    argv.push_back(spec.network);
  }
  argv.push_back("--label");
  argv.push_back("weft.flow-run-id=" + spec.flow_run_id);
  argv.push_back("-v");
  argv.push_back(run_dir + ":" + kDockerMount);
  argv.push_back("-w");
  argv.push_back(kDockerMount);
  for (const auto& [k, v] : FlowContainerEnvironment(spec)) {
    argv.push_back("-e");
    argv.push_back(k);  // the value comes from the docker CLI's environment
  }
  // "--" ends the options: whatever follows is the image and the command, never a flag.
  argv.push_back("--");
  argv.push_back(spec.image);
  for (const auto& a : spec.entrypoint) argv.push_back(a);
  return argv;
}

namespace {

// Waits for the docker CLI; on SIGKILL also removes the container (the CLI cannot forward
// a SIGKILL it receives itself).
class DockerHandle final : public RunHandle {
 public:
  DockerHandle(std::unique_ptr<RunHandle> cli, std::string container)
      : cli_(std::move(cli)), container_(std::move(container)) {}
  std::optional<ExitStatus> Wait(double seconds) override { return cli_->Wait(seconds); }
  void Signal(int sig) override {
    if (sig == SIGKILL) {
      SpawnRequest rm;
      rm.argv = {"docker", "rm", "-f", container_};
      rm.env = CurrentEnvironment();
      if (auto h = Spawn(rm); h) (*h)->Wait(30);
    }
    cli_->Signal(sig);
  }
  int pid() const override { return cli_->pid(); }

 private:
  std::unique_ptr<RunHandle> cli_;
  std::string container_;
};

}  // namespace

core::Result<std::unique_ptr<RunHandle>> DockerRunner::Start(const RunSpec& spec,
                                                             const std::string& run_dir,
                                                             LineSink sink) {
  auto argv = DockerArgv(spec, run_dir);
  if (!argv) return argv.error();
  std::string docker = FindOnPath("docker");
  if (docker.empty()) return core::FailedPrecondition("runner docker: docker not found on PATH");
  SpawnRequest req;
  req.argv = std::move(*argv);
  req.argv[0] = docker;
  // The docker CLI itself runs with the agent's environment (DOCKER_HOST, its config); only
  // the names given with -e (FlowContainerEnvironment) reach the container.
  req.env = MergeEnv(CurrentEnvironment(), FlowContainerEnvironment(spec));
  req.cwd = run_dir;
  req.log_path = run_dir + "/output.log";
  req.sink = std::move(sink);
  auto h = Spawn(req);
  if (!h) return core::Error{h.error().code, "runner docker: " + h.error().message};
  return std::unique_ptr<RunHandle>(
      std::make_unique<DockerHandle>(std::move(*h), DockerContainerName(spec)));
}

std::string DockerRunner::Describe(const RunSpec& spec, const std::string& run_dir) const {
  auto argv = DockerArgv(spec, run_dir);
  if (!argv) return "runner: docker\nerror: " + argv.error().message + "\n";
  std::string names;
  for (const auto& [k, v] : FlowContainerEnvironment(spec)) {
    names += (names.empty() ? "" : ", ") + k;
  }
  return fmt::format("runner: docker\nargv: {}\nenv (values from the agent): {}\n",
                     ShellJoin(*argv), names);
}

}  // namespace weft::agent
