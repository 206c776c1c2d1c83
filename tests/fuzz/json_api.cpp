// The JSON bodies the HTTP API and the gRPC string fields carry. Input: a request body.
// Runs what the server does with it: the shared checks of server/orchestration/validate.cpp
// (CheckJson, CheckJsonObject: parameters_json, results, state details), and for a body of
// POST /api/deployments/ID/run (server/http/json_api.cpp) its parameters object written back
// (dump, as the handler stores it), compared as SameJson compares stored parameters, then
// resolved against a flow's schema as CheckAgainstSchema does.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "sdk/core/field_limits.hpp"
#include "sdk/core/params.hpp"
#include "server/orchestration/validate.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace {

constexpr const char* kSchema =
    R"([{"name":"months","type":"int","default":2},{"name":"rate","type":"double","default":0.5},)"
    R"({"name":"csv","type":"string","required":false}])";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft;
  using nlohmann::json;
  namespace orch = server::orchestration;
  const std::string body(reinterpret_cast<const char*>(data), size);

  const std::string any = orch::CheckJson(body);
  const std::string object = orch::CheckJsonObject(body);
  if (any.empty() && !object.empty() && object.rfind("must be a JSON object", 0) != 0) {
    weft::fuzz::Fail("CheckJson accepts what CheckJsonObject calls invalid", object);
  }
  if (!any.empty() && object.empty()) {
    weft::fuzz::Fail("CheckJsonObject accepts what CheckJson refuses", any);
  }

  // As json_api.cpp's ParseBody reads a body: size and nesting checked before anything
  // recurses over it (a body nested 20,000 deep is refused, not dumped).
  auto parsed = core::ParseJsonObjectBody(body, "body",
                                          {core::kMaxHttpBodyBytes, core::kMaxJsonDepth});
  if (!parsed.ok()) return 0;
  const json j = std::move(*parsed);
  if (j.contains("parameters") && j["parameters"].is_object()) {
    const std::string stored = j["parameters"].dump();
    if (!orch::CheckJsonObject(stored).empty()) weft::fuzz::Fail("dump() does not re-read", stored);
    if (json::parse(stored) != j["parameters"]) weft::fuzz::Fail("dump() changed the value", stored);
    static const auto specs = core::SpecsFromJson(kSchema);
    (void)core::ResolveParams(*specs, stored, {});
  }
  if (j.contains("tags") && j["tags"].is_array()) {
    for (const auto& t : j["tags"]) {
      if (t.is_string()) (void)t.get<std::string>();
    }
  }
  if (j.contains("message") && j["message"].is_string()) (void)j.value("message", std::string());
  return 0;
}
