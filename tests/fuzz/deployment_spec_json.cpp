// The deployment spec in its JSON form (a flow program's --weft-describe output): parse,
// validate (which compiles the schedule), and write back: what we write must read back.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sdk/core/deployment_spec.hpp"
#include "tests/fuzz/fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto specs = core::DeploymentSpecsFromJson(text, "program ./fuzz");
  if (!specs) {
    if (specs.error().message.empty()) fuzz::Fail("error without a message", text);
    return 0;
  }
  for (const auto& s : *specs) {
    auto st = core::ValidateDeploymentSpec(s, "program ./fuzz");
    if (!st.ok() && st.error().message.empty()) fuzz::Fail("error without a message", text);
    (void)s.FullName();
  }
  const std::string again = core::DeploymentSpecsToJson(*specs);
  auto back = core::DeploymentSpecsFromJson(again, "round trip");
  if (!back) fuzz::Fail("written spec does not read back", back.error().message + " in " + again);
  if (back->size() != specs->size()) fuzz::Fail("round trip changed the count", again);
  return 0;
}
