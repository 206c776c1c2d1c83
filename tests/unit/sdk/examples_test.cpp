// examples/taxi_training: deploy.yaml and the program's declared deployment are the same
// deployment, and both are valid specs. The YAML is turned into the spec's JSON form the way a
// schema-less YAML reader does (plain scalars that look like numbers or booleans become
// them; quoted scalars stay strings).
#include <yaml-cpp/yaml.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sdk/core/deployment_spec.hpp"

namespace {

using json = nlohmann::json;
using weft::core::DeploymentSpec;

json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = ToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() == "!") return text;  // quoted
      json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_discarded() && (parsed.is_number() || parsed.is_boolean())) return parsed;
      return text;
    }
    default:
      return nullptr;
  }
}

DeploymentSpec FromYaml(const std::string& path) {
  auto specs = weft::core::DeploymentSpecsFromJson(ToJson(YAML::LoadFile(path)).dump(), path);
  INFO((specs.ok() ? "" : specs.error().message));
  REQUIRE(specs.ok());
  REQUIRE(specs->size() == 1);
  auto valid = weft::core::ValidateDeploymentSpec(specs->at(0), path);
  INFO((valid.ok() ? "" : valid.error().message));
  REQUIRE(valid.ok());
  return specs->at(0);
}

DeploymentSpec FromProgram() {
  std::string out;
  {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(
        popen("'" TAXI_TRAINING_BIN "' --weft-describe", "r"), pclose);
    REQUIRE(pipe);
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), pipe.get())) > 0) out.append(buf.data(), n);
  }
  auto specs = weft::core::DeploymentSpecsFromJson(out, "program ./taxi_training");
  INFO(out);
  REQUIRE(specs.ok());
  REQUIRE(specs->size() == 1);
  REQUIRE(weft::core::ValidateDeploymentSpec(specs->at(0), "program").ok());
  return specs->at(0);
}

void RequireSameDeployment(const DeploymentSpec& a, const DeploymentSpec& b) {
  // Everything but `include` (paths relative to where each spec lives) and the flow's
  // parameter schema (only a program reports it) is the same text.
  DeploymentSpec x = a, y = b;
  x.include.clear();
  y.include.clear();
  x.parameters_schema_json.clear();
  y.parameters_schema_json.clear();
  CHECK(weft::core::DeploymentSpecsToJson({x}) == weft::core::DeploymentSpecsToJson({y}));
}

}  // namespace

TEST_CASE("taxi_training's deploy.yaml and its program declare the same deployment",
          "[examples]") {
  DeploymentSpec program = FromProgram();
  CHECK(program.FullName() == "taxi_training/weekly");
  CHECK(program.entrypoint == std::vector<std::string>{"./taxi_training"});
  CHECK(program.include == std::vector<std::string>{"taxi_training"});
  CHECK(program.storage == "server");
  CHECK(program.work_queue == "ml");
  CHECK(program.tags == std::vector<std::string>{"ml"});
  REQUIRE(program.schedule.has_value());
  CHECK(std::get<weft::core::CronSchedule>(*program.schedule).expression == "0 6 * * 1");

  CHECK(program.parameters_schema_json.find("\"months\"") != std::string::npos);

  DeploymentSpec source = FromYaml(TAXI_DEPLOY_YAML);
  RequireSameDeployment(source, program);
  // The source yaml names the release build's binary; it lands at the bundle root as
  // "taxi_training", the entrypoint.
  CHECK(source.include ==
        std::vector<std::string>{"../../build/release/examples/taxi_training/taxi_training"});

  DeploymentSpec built = FromYaml(TAXI_DEPLOY_YAML_BUILT);
  RequireSameDeployment(built, program);
  CHECK(built.include == std::vector<std::string>{"taxi_training"});
}
