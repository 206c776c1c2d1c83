#pragma once
// The docker runner: `docker run` with the run directory mounted at /opt/weft/run, the
// engine's default network unless the run names one (RunSpec::network, from the agent's
// --docker-network), and the flow's environment (runners/flow_env.hpp) passed by name
// (values travel in the docker CLI's environment, never in its argv). The image is checked
// against the image-reference grammar and follows "--", so it can never be read as an option.
// Used when `docker` is on PATH; stopping signals the docker CLI's process group (it forwards
// the signal to the container) and, on SIGKILL, removes the container.
#include <string>
#include <vector>

#include "agent/runners/runner.hpp"

namespace weft::agent {

inline constexpr const char* kDockerMount = "/opt/weft/run";

// "weft-<flow run id>"
std::string DockerContainerName(const RunSpec& spec);
// The docker argv (argv[0] = "docker"). Errors: no image, or one that is not a valid image
// reference (naming runner.image and the value).
core::Result<std::vector<std::string>> DockerArgv(const RunSpec& spec, const std::string& run_dir);

class DockerRunner final : public Runner {
 public:
  std::string type() const override { return "docker"; }
  core::Result<std::unique_ptr<RunHandle>> Start(const RunSpec& spec, const std::string& run_dir,
                                                 LineSink sink) override;
  std::string Describe(const RunSpec& spec, const std::string& run_dir) const override;
};

}  // namespace weft::agent
