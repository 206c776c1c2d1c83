#include "sdk/core/params.hpp"
#include "sdk/core/field_limits.hpp"
#include "sdk/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

namespace weft::core {

namespace {

using json = nlohmann::json;

Error ParamError(std::string_view name, std::string_view problem) {
  return InvalidArgument("parameter " + Quote(name) + ": " + std::string(problem));
}

const char* Expected(ParamType type) {
  switch (type) {
    case ParamType::kInt:
      return "an integer";
    case ParamType::kDouble:
      return "a number";
    case ParamType::kBool:
      return "a boolean (true/false)";
    case ParamType::kString:
      return "a string";
  }
  return "a value";
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  if (!std::isalpha(static_cast<unsigned char>(name[0])) && name[0] != '_') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

json ToJson(const ParamValue& v) {
  return std::visit([](const auto& x) { return json(x); }, v);
}

Result<ParamValue> CheckRange(const ParamSpec& spec, ParamValue v);

// A JSON value as the spec's type; JSON strings are parsed like command-line text.
Result<ParamValue> FromJson(const ParamSpec& spec, const json& v) {
  if (v.is_string()) return ParseParamText(spec, v.get<std::string>());
  switch (spec.type) {
    case ParamType::kInt:
      if (v.is_number_integer()) {
        if (v.is_number_unsigned() &&
            v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
          break;
        }
        return CheckRange(spec, ParamValue{v.get<std::int64_t>()});
      }
      if (v.is_number_float()) {
        double d = v.get<double>();
        if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.0e15) {
          return CheckRange(spec, ParamValue{static_cast<std::int64_t>(d)});
        }
      }
      break;
    case ParamType::kDouble:
      if (v.is_number()) return CheckRange(spec, ParamValue{v.get<double>()});
      break;
    case ParamType::kBool:
      if (v.is_boolean()) return ParamValue{v.get<bool>()};
      break;
    case ParamType::kString:
      break;  // strings were handled above
  }
  return ParamError(spec.name,
                    std::string("expected ") + Expected(spec.type) + ", got " + v.dump());
}

// Bounds of int/double parameters, checked after parsing.
Result<ParamValue> CheckRange(const ParamSpec& spec, ParamValue v) {
  if (!spec.minimum && !spec.maximum) return v;
  double x;
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    x = static_cast<double>(*i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    x = *d;
  } else {
    return v;
  }
  if ((spec.minimum && x < *spec.minimum) || (spec.maximum && x > *spec.maximum)) {
    auto bound = [](double b) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.15g", b);
      return std::string(buf);
    };
    std::string want;
    if (spec.minimum && spec.maximum) {
      want = "must be between " + bound(*spec.minimum) + " and " + bound(*spec.maximum);
    } else if (spec.minimum) {
      want = "must be >= " + bound(*spec.minimum);
    } else {
      want = "must be <= " + bound(*spec.maximum);
    }
    return ParamError(spec.name, want + ", got " + DescribeParamValue(v));
  }
  return v;
}

std::string KnownNames(const std::vector<ParamSpec>& specs) {
  if (specs.empty()) return "the flow declares no parameters";
  std::string out = "known: ";
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i) out += ", ";
    out += specs[i].name;
  }
  return out;
}

}  // namespace

const char* ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kInt:
      return "int";
    case ParamType::kDouble:
      return "double";
    case ParamType::kBool:
      return "bool";
    case ParamType::kString:
      return "string";
  }
  return "unknown";
}

std::optional<ParamType> ParseParamType(std::string_view text) {
  std::string t = Lower(text);
  if (t == "int" || t == "integer") return ParamType::kInt;
  if (t == "double" || t == "float" || t == "number") return ParamType::kDouble;
  if (t == "bool" || t == "boolean") return ParamType::kBool;
  if (t == "string" || t == "str") return ParamType::kString;
  return std::nullopt;
}

// ---------------------------------------------------------------- ParamValues

bool ParamValues::Has(std::string_view name) const { return values_.find(name) != values_.end(); }

const ParamValue* ParamValues::Find(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

namespace {
const ParamValue& Need(const ParamValues& p, std::string_view name) {
  const ParamValue* v = p.Find(name);
  if (!v) throw std::out_of_range("parameter \"" + std::string(name) + "\" has no value");
  return *v;
}
[[noreturn]] void WrongType(std::string_view name, const char* wanted) {
  throw std::logic_error("parameter \"" + std::string(name) + "\" is not " + wanted);
}
}  // namespace

std::int64_t ParamValues::Int(std::string_view name) const {
  const ParamValue& v = Need(*this, name);
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  WrongType(name, "an int");
}

double ParamValues::Double(std::string_view name) const {
  const ParamValue& v = Need(*this, name);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  WrongType(name, "a double");
}

bool ParamValues::Bool(std::string_view name) const {
  const ParamValue& v = Need(*this, name);
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  WrongType(name, "a bool");
}

const std::string& ParamValues::String(std::string_view name) const {
  const ParamValue& v = Need(*this, name);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  WrongType(name, "a string");
}

std::string ParamValues::StringOr(std::string_view name, std::string fallback) const {
  return Has(name) ? String(name) : fallback;
}

void ParamValues::Set(std::string name, ParamValue value) {
  values_.insert_or_assign(std::move(name), std::move(value));
}

std::string DescribeParamValue(const ParamValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return Quote(*s);
  return ToJson(value).dump();
}

// ---------------------------------------------------------------- specs

Result<std::vector<ParamSpec>> NormalizeSpecs(std::vector<ParamSpec> specs) {
  std::set<std::string, std::less<>> seen;
  for (auto& spec : specs) {
    if (!ValidName(spec.name)) {
      return InvalidArgument("parameter " + Quote(spec.name) +
                             ": invalid name (letters, digits, '_', '-', '.'; starts with a "
                             "letter or '_')");
    }
    if (!seen.insert(spec.name).second) return ParamError(spec.name, "declared twice");
    if (spec.minimum && spec.maximum && *spec.minimum > *spec.maximum) {
      return ParamError(spec.name, "minimum is greater than maximum");
    }
    if (!spec.default_value) continue;
    ParamValue& d = *spec.default_value;
    bool ok = false;
    switch (spec.type) {
      case ParamType::kInt:
        ok = std::holds_alternative<std::int64_t>(d);
        break;
      case ParamType::kDouble:
        if (const auto* i = std::get_if<std::int64_t>(&d)) d = static_cast<double>(*i);
        ok = std::holds_alternative<double>(d);
        break;
      case ParamType::kBool:
        ok = std::holds_alternative<bool>(d);
        break;
      case ParamType::kString:
        ok = std::holds_alternative<std::string>(d);
        break;
    }
    if (!ok) {
      return ParamError(spec.name, std::string("default ") + DescribeParamValue(d) + " is not " +
                                       Expected(spec.type));
    }
    if (auto in_range = CheckRange(spec, d); !in_range) {
      return Error{in_range.error().code, "default: " + in_range.error().message};
    }
    spec.required = false;
  }
  return specs;
}

Result<ParamValue> ParseParamText(const ParamSpec& spec, std::string_view text) {
  auto bad = [&] {
    return ParamError(spec.name,
                      std::string("expected ") + Expected(spec.type) + ", got " + Quote(text));
  };
  switch (spec.type) {
    case ParamType::kString:
      // A run's parameters travel as JSON, which holds UTF-8 text only.
      for (std::size_t i = 0; i < text.size();) {
        std::size_t n = Utf8SequenceLength(text, i);
        if (n == 0) return ParamError(spec.name, "not valid UTF-8 text");
        i += n;
      }
      return ParamValue{std::string(text)};
    case ParamType::kInt: {
      std::string s(text);
      if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return bad();
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (end != s.c_str() + s.size()) return bad();
      if (errno == ERANGE) {
        return ParamError(spec.name, "integer out of range: " + Quote(text));
      }
      return CheckRange(spec, ParamValue{static_cast<std::int64_t>(v)});
    }
    case ParamType::kDouble: {
      std::string s(text);
      if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return bad();
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size() || !std::isfinite(v)) return bad();
      return CheckRange(spec, ParamValue{v});
    }
    case ParamType::kBool: {
      std::string t = Lower(text);
      if (t == "true" || t == "1" || t == "yes" || t == "on") return ParamValue{true};
      if (t == "false" || t == "0" || t == "no" || t == "off") return ParamValue{false};
      return bad();
    }
  }
  return bad();
}

Result<std::pair<std::string, std::string>> SplitAssignment(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return InvalidArgument("--param " + Quote(text) + ": expected NAME=VALUE");
  }
  return std::pair<std::string, std::string>{std::string(text.substr(0, eq)),
                                             std::string(text.substr(eq + 1))};
}

Result<ParamValues> ResolveParams(
    const std::vector<ParamSpec>& specs, std::string_view base_json,
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  auto find = [&](std::string_view name) -> const ParamSpec* {
    for (const auto& s : specs) {
      if (s.name == name) return &s;
    }
    return nullptr;
  };
  auto unknown = [&](std::string_view name) {
    return ParamError(name, "unknown parameter (" + KnownNames(specs) + ")");
  };

  ParamValues out;
  std::string_view trimmed = base_json;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
    trimmed.remove_prefix(1);
  }
  if (!trimmed.empty()) {
    if (auto st = CheckJsonText(trimmed, "parameters_json"); !st.ok()) return st.error();
    json doc = json::parse(trimmed.begin(), trimmed.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return InvalidArgument("parameters_json: not valid JSON");
    if (!doc.is_object()) return InvalidArgument("parameters_json: expected a JSON object");
    for (const auto& [name, value] : doc.items()) {
      const ParamSpec* spec = find(name);
      if (!spec) return unknown(name);
      if (value.is_null()) continue;  // null = not given
      auto parsed = FromJson(*spec, value);
      if (!parsed) return parsed.error();
      out.Set(name, std::move(parsed.value()));
    }
  }
  for (const auto& [name, text] : overrides) {
    const ParamSpec* spec = find(name);
    if (!spec) return unknown(name);
    auto parsed = ParseParamText(*spec, text);
    if (!parsed) return parsed.error();
    out.Set(name, std::move(parsed.value()));
  }
  for (const auto& spec : specs) {
    if (out.Has(spec.name)) continue;
    if (spec.default_value) {
      out.Set(spec.name, *spec.default_value);
    } else if (spec.required) {
      return ParamError(spec.name, std::string("required (") + ParamTypeName(spec.type) +
                                       ") but not given; pass --param " + spec.name + "=VALUE");
    }
  }
  return out;
}

std::string ParamsToJson(const ParamValues& values) {
  json doc = json::object();
  for (const auto& [name, value] : values.values()) doc[name] = ToJson(value);
  return doc.dump();
}

std::string SpecsToJson(const std::vector<ParamSpec>& specs) {
  json doc = json::array();
  for (const auto& s : specs) {
    json item = {{"name", s.name},
                 {"type", ParamTypeName(s.type)},
                 {"required", !s.default_value && s.required}};
    if (s.default_value) item["default"] = ToJson(*s.default_value);
    if (!s.description.empty()) item["description"] = s.description;
    if (s.minimum) item["minimum"] = *s.minimum;
    if (s.maximum) item["maximum"] = *s.maximum;
    doc.push_back(std::move(item));
  }
  return doc.dump();
}

Result<std::vector<ParamSpec>> SpecsFromJson(std::string_view text) {
  if (auto st = CheckJsonText(text, "parameters_schema_json",
                              {kMaxParametersSchemaBytes, kMaxJsonDepth});
      !st.ok()) {
    return st.error();
  }
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("parameters_schema_json: not valid JSON");
  if (!doc.is_array()) return InvalidArgument("parameters_schema_json: expected a JSON array");
  std::vector<ParamSpec> specs;
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& item = doc[i];
    std::string where = "parameters_schema_json[" + std::to_string(i) + "]";
    if (!item.is_object()) return InvalidArgument(where + ": expected an object");
    ParamSpec spec;
    if (!item.contains("name") || !item["name"].is_string()) {
      return InvalidArgument(where + ".name: expected a string");
    }
    spec.name = item["name"].get<std::string>();
    if (!item.contains("type") || !item["type"].is_string()) {
      return InvalidArgument(where + ".type: expected a string");
    }
    auto type = ParseParamType(item["type"].get<std::string>());
    if (!type) {
      return InvalidArgument(where + ".type: unknown type " + item["type"].dump() +
                             " (int, double, bool, string)");
    }
    spec.type = *type;
    if (item.contains("required") && item["required"].is_boolean()) {
      spec.required = item["required"].get<bool>();
    }
    if (item.contains("description") && item["description"].is_string()) {
      spec.description = item["description"].get<std::string>();
    }
    for (const char* key : {"minimum", "maximum"}) {
      if (!item.contains(key) || item[key].is_null()) continue;
      if (!item[key].is_number()) return InvalidArgument(where + "." + key + ": expected a number");
      (std::string(key) == "minimum" ? spec.minimum : spec.maximum) = item[key].get<double>();
    }
    if (item.contains("default") && !item["default"].is_null()) {
      auto d = FromJson(spec, item["default"]);
      if (!d) return InvalidArgument(where + ".default: " + d.error().message);
      spec.default_value = std::move(d.value());
    }
    specs.push_back(std::move(spec));
  }
  return NormalizeSpecs(std::move(specs));
}

}  // namespace weft::core
