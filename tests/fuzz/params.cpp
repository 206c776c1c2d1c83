// Run parameters against a flow's declared schema, as the flow runtime and the server resolve
// them. Input: "<schema JSON>\0<parameters JSON>\0<name=value overrides, one a line>". An empty
// schema part stands for a fixed schema with one parameter of each type and bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sdk/core/params.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

constexpr const char* kSchema =
    R"([{"name":"months","type":"int","default":2,"minimum":1,"maximum":24},)"
    R"({"name":"rate","type":"double","required":true,"minimum":0},)"
    R"({"name":"dry_run","type":"bool","default":false},)"
    R"({"name":"csv","type":"string","required":false}])";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parts = fuzz::Split(text, '\0', 3);
  parts.resize(3);

  auto specs = core::SpecsFromJson(parts[0].empty() ? kSchema : parts[0]);
  if (!specs) return 0;
  // The schema we write reads back the same.
  const std::string schema = core::SpecsToJson(*specs);
  auto again = core::SpecsFromJson(schema);
  if (!again) fuzz::Fail("SpecsToJson output does not read back", again.error().message);
  if (core::SpecsToJson(*again) != schema) fuzz::Fail("schema round trip changed it", schema);

  std::vector<std::pair<std::string, std::string>> overrides;
  for (const auto& line : fuzz::Split(parts[2], '\n', 64)) {
    if (line.empty()) continue;
    auto kv = core::SplitAssignment(line);
    if (!kv) continue;
    for (const auto& spec : *specs) {
      if (spec.name == kv->first) (void)core::ParseParamText(spec, kv->second);
    }
    overrides.push_back(std::move(*kv));
  }
  auto values = core::ResolveParams(*specs, parts[1], overrides);
  if (!values) {
    if (values.error().message.empty()) fuzz::Fail("error without a message", text);
    return 0;
  }
  for (const auto& [name, value] : values->values()) (void)core::DescribeParamValue(value);
  // Resolved values, written as the run's parameters_json, resolve again to the same.
  const std::string resolved = core::ParamsToJson(*values);
  auto re = core::ResolveParams(*specs, resolved, {});
  if (!re) fuzz::Fail("resolved parameters do not resolve again", re.error().message + " in " + resolved);
  if (core::ParamsToJson(*re) != resolved) fuzz::Fail("parameters round trip changed them", resolved);
  return 0;
}
