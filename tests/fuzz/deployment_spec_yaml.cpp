// deploy.yaml as `weft deployment create` reads it: YAML -> the spec's JSON form -> specs,
// each validated.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/commands/spec_yaml.hpp"
#include "sdk/core/deployment_spec.hpp"
#include "tests/fuzz/fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto json = cli::DeploymentYamlToJson(text, "deploy.yaml");
  if (!json) {
    if (json.error().message.empty()) fuzz::Fail("error without a message", text);
    return 0;
  }
  auto specs = core::DeploymentSpecsFromJson(*json, "deploy.yaml");
  if (!specs) return 0;
  for (const auto& s : *specs) (void)core::ValidateDeploymentSpec(s, "deploy.yaml");
  return 0;
}
