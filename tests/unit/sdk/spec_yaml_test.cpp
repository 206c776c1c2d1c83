// cli/commands/spec_yaml: deploy.yaml -> the spec's JSON form, as `weft deployment create`
// reads a file.
#include <catch2/catch.hpp>
#include <string>

#include "cli/commands/spec_yaml.hpp"
#include "sdk/core/deployment_spec.hpp"

using weft::cli::DeploymentYamlToJson;

TEST_CASE("deploy.yaml reads as the spec's JSON form", "[spec_yaml]") {
  auto json = DeploymentYamlToJson(
      "name: weekly\nflow_name: etl\nentrypoint: [./etl]\nparameters: {n: 3, s: \"007\"}\n",
      "deploy.yaml");
  REQUIRE(json.ok());
  auto specs = weft::core::DeploymentSpecsFromJson(*json, "deploy.yaml");
  REQUIRE(specs.ok());
  REQUIRE(specs->size() == 1);
  CHECK((*specs)[0].FullName() == "etl/weekly");
  CHECK((*specs)[0].parameters_json == R"({"n":3,"s":"007"})");
}

TEST_CASE("a YAML syntax error names the file, line and column", "[spec_yaml]") {
  auto json = DeploymentYamlToJson("name: [x\n", "deploy.yaml");
  REQUIRE_FALSE(json.ok());
  CHECK_THAT(json.error().message, Catch::StartsWith("deploy.yaml: line "));
}

// Found by tests/fuzz (deployment_spec_yaml): yaml-cpp passes bytes that are not UTF-8
// through, and writing them as JSON threw (the CLI died).
TEST_CASE("a value that is not UTF-8 is a clear error", "[spec_yaml]") {
  auto json = DeploymentYamlToJson("name: caf\xe9\nflow_name: etl\nentrypoint: [./etl]\n",
                                   "deploy.yaml");
  REQUIRE_FALSE(json.ok());
  CHECK(json.error().message == "deploy.yaml: not valid UTF-8 text");
}
