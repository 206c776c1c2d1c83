#pragma once
// Flow parameters: declared, typed, validated. Pure code, no I/O: the flow runtime uses it to
// read `--param name=value` and a run's parameters_json; the server can reuse it to validate
// parameters against a flow's registered schema.
//
// Errors name the parameter: `parameter "months": expected an integer, got "abc"`.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sdk/core/error.hpp"

namespace weft::core {

enum class ParamType { kInt, kDouble, kBool, kString };

// "int", "double", "bool", "string" (the names used in the JSON schema).
const char* ParamTypeName(ParamType type);
std::optional<ParamType> ParseParamType(std::string_view text);

using ParamValue = std::variant<std::int64_t, double, bool, std::string>;

// A declared parameter. Without a default it is required unless `required` is false, in which
// case it is optional and simply absent when not given.
struct ParamSpec {
  std::string name{};
  ParamType type = ParamType::kString;
  std::optional<ParamValue> default_value{};
  bool required = true;  // only meaningful without a default
  std::string description{};
  std::optional<double> minimum{};  // int and double parameters: inclusive bounds
  std::optional<double> maximum{};
};

// The resolved values of a run's parameters.
class ParamValues {
 public:
  bool Has(std::string_view name) const;
  // Typed access; throws std::out_of_range when absent and std::logic_error on a type mismatch
  // (both are bugs in the flow, not bad input: input was validated against the specs).
  std::int64_t Int(std::string_view name) const;
  double Double(std::string_view name) const;  // an int parameter converts
  bool Bool(std::string_view name) const;
  const std::string& String(std::string_view name) const;
  std::string StringOr(std::string_view name, std::string fallback) const;
  const ParamValue* Find(std::string_view name) const;

  void Set(std::string name, ParamValue value);
  const std::map<std::string, ParamValue, std::less<>>& values() const { return values_; }
  std::size_t size() const { return values_.size(); }

 private:
  std::map<std::string, ParamValue, std::less<>> values_;
};

// Human text of a value: 3, 2.5, true, "abc" (strings quoted, for messages and --help).
std::string DescribeParamValue(const ParamValue& value);

// Checks the declarations themselves (names, duplicates, defaults of the declared type; an int
// default of a double parameter converts). Names the first problem.
Result<std::vector<ParamSpec>> NormalizeSpecs(std::vector<ParamSpec> specs);

// Parses the text of one value ("--param name=TEXT") as the spec's type.
//   int: a decimal integer in int64 range; double: a finite number; bool: true/false/1/0/yes/no/
//   on/off (any case); string: as is.
Result<ParamValue> ParseParamText(const ParamSpec& spec, std::string_view text);

// Splits "name=value" (the value may contain '=' and may be empty).
Result<std::pair<std::string, std::string>> SplitAssignment(std::string_view text);

// Resolves a run's parameters: start from `base_json` (a JSON object, "" = {}), apply the
// text overrides in order, fill defaults, and check that every required parameter is given.
// Unknown names are errors. In the JSON, a value must have the parameter's type; a JSON string
// is also accepted and parsed like command-line text.
Result<ParamValues> ResolveParams(
    const std::vector<ParamSpec>& specs, std::string_view base_json,
    const std::vector<std::pair<std::string, std::string>>& overrides);

// {"months":2,"csv":"a.csv"}
std::string ParamsToJson(const ParamValues& values);
// [{"name":"months","type":"int","default":2,"required":false,"description":"..."}]
std::string SpecsToJson(const std::vector<ParamSpec>& specs);
Result<std::vector<ParamSpec>> SpecsFromJson(std::string_view json);

}  // namespace weft::core
