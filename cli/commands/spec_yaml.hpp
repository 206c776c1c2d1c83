#pragma once
// deploy.yaml -> the deployment spec's JSON form (core::DeploymentSpecsFromJson reads it).
// Split from deployment.cpp so the fuzz target (tests/fuzz) can reach it without gRPC.
#include <string>

#include "sdk/core/error.hpp"

namespace weft::cli {

// `text` is a YAML document: one deployment, a list of them, or `deployments: [...]`.
// Errors are InvalidArgument and start with `where` (the file's path).
core::Result<std::string> DeploymentYamlToJson(const std::string& text, const std::string& where);

}  // namespace weft::cli
