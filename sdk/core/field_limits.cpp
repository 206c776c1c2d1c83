#include "sdk/core/field_limits.hpp"

#include <nlohmann/json.hpp>

namespace weft::core {

JsonShape ScanJson(std::string_view text, int stop_at) {
  JsonShape shape;
  shape.bytes = text.size();
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > shape.depth) {
          shape.depth = depth;
          if (depth > stop_at) return shape;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return shape;
}

std::string CutText(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::string marker = " ...[cut " + std::to_string(text.size()) + " bytes]";
  std::size_t keep = max_bytes > marker.size() ? max_bytes - marker.size() : 0;
  // Back up to a character boundary (never inside a multi-byte sequence).
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  return std::string(text.substr(0, keep)) + marker;
}

std::string DescribeBytes(std::size_t bytes) {
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

std::string JsonTextProblem(std::string_view text, JsonLimits limits) {
  if (text.size() > limits.max_bytes) {
    return "larger than " + DescribeBytes(limits.max_bytes) + " (" + std::to_string(text.size()) +
           " bytes)";
  }
  if (ScanJson(text, limits.max_depth).depth > limits.max_depth) {
    return "nested deeper than " + std::to_string(limits.max_depth) + " levels";
  }
  return {};
}

Status CheckJsonText(std::string_view text, std::string_view field, JsonLimits limits) {
  std::string problem = JsonTextProblem(text, limits);
  if (problem.empty()) return {};
  return InvalidArgument(std::string(field) + ": " + problem);
}

Result<nlohmann::json> ParseJson(std::string_view text, std::string_view field,
                                 JsonLimits limits) {
  if (auto st = CheckJsonText(text, field, limits); !st.ok()) return st.error();
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string(field) + ": not valid JSON: " + e.what());
  }
}

namespace {

struct TooDeep {
  std::string member;
};

}  // namespace

Result<nlohmann::json> ParseJsonObjectBody(std::string_view text, std::string_view field,
                                           JsonLimits limits) {
  using nlohmann::json;
  if (text.size() > limits.max_bytes) {
    return InvalidArgument(std::string(field) + ": larger than " +
                           DescribeBytes(limits.max_bytes) + " (" + std::to_string(text.size()) +
                           " bytes)");
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
  json out;
  try {
    if (ScanJson(text, limits.max_depth + 1).depth <= limits.max_depth + 1) {
      out = json::parse(text);
    } else {
      // Some member is too deep: parse again, stopping at the first container past the
      // limit, to name it. `depth` counts the containers around the event (0 = the body).
      std::string member;
      json::parser_callback_t stop = [&](int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
          member = parsed.get<std::string>();
          if (member.size() > 100) member = member.substr(0, 100) + "...";
        } else if ((event == json::parse_event_t::object_start ||
                    event == json::parse_event_t::array_start) &&
                   depth > limits.max_depth) {
          throw TooDeep{member};
        }
        return true;
      };
      out = json::parse(text, stop);
    }
  } catch (const TooDeep& e) {
    return InvalidArgument((e.member.empty() ? std::string(field) : e.member) +
                           ": nested deeper than " + std::to_string(limits.max_depth) +
                           " levels");
  } catch (const json::exception& e) {
    return InvalidArgument(std::string(field) + ": not valid JSON: " + e.what());
  }
  if (!out.is_object()) {
    return InvalidArgument(std::string(field) + ": must be a JSON object, got " +
                           out.type_name());
  }
  return out;
}

Status CheckTextLength(std::string_view text, std::string_view field, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return {};
  return InvalidArgument(std::string(field) + ": " + std::to_string(text.size()) +
                         " bytes, longer than the limit of " + DescribeBytes(max_bytes));
}

Status CheckTags(const std::vector<std::string>& tags, std::string_view field) {
  if (tags.size() > kMaxTags) {
    return InvalidArgument(std::string(field) + ": " + std::to_string(tags.size()) +
                           " tags, more than the limit of " + std::to_string(kMaxTags));
  }
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    if (tags[i].empty()) return InvalidArgument(name + ": must not be empty");
    if (auto st = CheckTextLength(tags[i], name, kMaxTagBytes); !st.ok()) return st;
  }
  return {};
}

}  // namespace weft::core
