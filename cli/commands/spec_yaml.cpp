#include "cli/commands/spec_yaml.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "sdk/core/field_limits.hpp"

namespace weft::cli {

using json = nlohmann::json;

namespace {

// Walks the document without recursion before it is converted (which recurses): nested at
// most kMaxJsonDepth deep, at most kMaxSpecValues values (aliases expanded, as they will be).
core::Status CheckYamlShape(const YAML::Node& root, const std::string& path) {
  std::vector<std::pair<YAML::Node, int>> stack{{root, 1}};
  std::size_t values = 0;
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (++values > core::kMaxSpecValues) {
      return core::InvalidArgument(path + ": more than " + std::to_string(core::kMaxSpecValues) +
                                   " values (aliases count each time they are used)");
    }
    if (!node.IsSequence() && !node.IsMap()) continue;
    if (depth > core::kMaxJsonDepth) {
      return core::InvalidArgument(path + ": nested deeper than " +
                                   std::to_string(core::kMaxJsonDepth) + " levels");
    }
    if (node.IsSequence()) {
      for (const auto& item : node) stack.emplace_back(item, depth + 1);
    } else {
      for (const auto& kv : node) stack.emplace_back(kv.second, depth + 1);
    }
  }
  return {};
}


bool IsNullScalar(const YAML::Node& n) {
  if (n.Tag() == "!") return false;  // quoted: a string
  const std::string& s = n.Scalar();
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// A plain YAML scalar as the JSON value it reads as (used for parameter values, where the
// type matters): true/false, integers, decimals, else a string. Quoted scalars are strings.
json TypedScalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (!s.empty()) {
    json parsed = json::parse(s, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_number()) return parsed;
  }
  return s;
}

// YAML -> JSON. Scalars stay text (the spec parser accepts text for numbers and booleans),
// except under `parameters`, where numbers and booleans keep their type.
json ToJson(const YAML::Node& n, bool typed) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      if (IsNullScalar(n)) return nullptr;
      return typed ? TypedScalar(n) : json(n.Scalar());
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : n) out.push_back(ToJson(item, typed));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n) out[kv.first.Scalar()] = ToJson(kv.second, typed);
      return out;
    }
  }
  return nullptr;
}

json SpecToJson(const YAML::Node& n) {
  if (!n.IsMap()) return ToJson(n, false);
  json out = json::object();
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    out[key] = ToJson(kv.second, key == "parameters");
  }
  return out;
}

}  // namespace

core::Result<std::string> DeploymentYamlToJson(const std::string& text, const std::string& where) {
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return core::InvalidArgument(
        fmt::format("{}: line {}, column {}: {}", where, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (auto st = CheckYamlShape(doc, where); !st.ok()) return st.error();
  json out;
  if (doc.IsMap() && doc["deployments"] && doc.size() == 1) {
    const YAML::Node list = doc["deployments"];
    if (!list.IsSequence()) {
      return core::InvalidArgument(where + ": deployments: expected a list of deployments");
    }
    out = json::array();
    for (const auto& item : list) out.push_back(SpecToJson(item));
  } else if (doc.IsSequence()) {
    out = json::array();
    for (const auto& item : doc) out.push_back(SpecToJson(item));
  } else if (doc.IsMap()) {
    out = SpecToJson(doc);
  } else {
    return core::InvalidArgument(where +
                                 ": expected a deployment (name, flow_name, entrypoint, "
                                 "...) or `deployments: [...]`");
  }
  try {
    return out.dump();
  } catch (const json::type_error&) {  // a string that is not UTF-8 (yaml-cpp does not check)
    return core::InvalidArgument(where + ": not valid UTF-8 text");
  }
}

}  // namespace weft::cli
