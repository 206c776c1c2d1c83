// sdk/core/field_limits: the non-recursive JSON scan, the bounded parse and the text limits.
#include "sdk/core/field_limits.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

using namespace weft::core;

namespace {

std::string Nested(char open, char close, int depth, const std::string& inner = "") {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open == '{' ? std::string("{\"k\":") : std::string(1, open);
  s += inner.empty() ? (open == '{' ? "1" : "") : inner;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

}  // namespace

TEST_CASE("ScanJson counts the nesting of arrays and objects", "[field_limits]") {
  CHECK(ScanJson("").depth == 0);
  CHECK(ScanJson("42").depth == 0);
  CHECK(ScanJson(R"("text")").depth == 0);
  CHECK(ScanJson("[]").depth == 1);
  CHECK(ScanJson(R"({"a": [1, {"b": []}], "c": {}})").depth == 4);
  CHECK(ScanJson(Nested('[', ']', 64)).depth == 64);
  CHECK(ScanJson(Nested('{', '}', 65)).depth == 65);
  CHECK(ScanJson("[[1],[2],[3]]").depth == 2);  // siblings do not add up
  CHECK(ScanJson(R"({"a": 1})").bytes == 8);
}

TEST_CASE("ScanJson ignores brackets inside strings, escaped quotes included", "[field_limits]") {
  CHECK(ScanJson(R"(["[[[[{{{{"])").depth == 1);
  CHECK(ScanJson(R"({"k": "a \" [[[ \" {{{"})").depth == 1);
  CHECK(ScanJson(R"(["\\", [[]]])").depth == 3);         // an escaped backslash ends the escape
  CHECK(ScanJson(R"(["\\\"[[[", []])").depth == 2);      // \\ then \" : still inside the string
  CHECK(ScanJson(R"({"\u005b\u005b": [1]})").depth == 2);
}

TEST_CASE("ScanJson stops early on a deep text", "[field_limits]") {
  std::string deep(600 * 1024, '[');
  auto shape = ScanJson(deep, kMaxJsonDepth);
  CHECK(shape.depth == kMaxJsonDepth + 1);
  CHECK(shape.bytes == deep.size());
}

TEST_CASE("CheckJsonText names the field and the limit", "[field_limits]") {
  CHECK(CheckJsonText(Nested('[', ']', 64), "parameters").ok());
  CHECK(CheckJsonText(Nested('{', '}', 64), "parameters").ok());

  auto deep = CheckJsonText(Nested('[', ']', 65), "parameters");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().code == Code::kInvalidArgument);
  CHECK(deep.error().message == "parameters: nested deeper than 64 levels");

  auto objects = CheckJsonText(Nested('{', '}', 100), "state.details_json");
  REQUIRE_FALSE(objects.ok());
  CHECK(objects.error().message == "state.details_json: nested deeper than 64 levels");

  // Unclosed brackets count too: the text is refused before any parser sees it.
  CHECK_FALSE(CheckJsonText(std::string(600 * 1024, '['), "parameters").ok());

  std::string big = "\"" + std::string(kMaxParametersBytes, 'x') + "\"";
  auto large = CheckJsonText(big, "parameters");
  REQUIRE_FALSE(large.ok());
  CHECK(large.error().message ==
        "parameters: larger than 1 MiB (" + std::to_string(big.size()) + " bytes)");

  CHECK(CheckJsonText("[[1]]", "x", {.max_bytes = 5, .max_depth = 2}).ok());
  CHECK_FALSE(CheckJsonText("[[[1]]]", "x", {.max_bytes = 100, .max_depth = 2}).ok());
  CHECK_FALSE(CheckJsonText("[[1]] ", "x", {.max_bytes = 5, .max_depth = 2}).ok());
}

TEST_CASE("ParseJson parses within the limits and says why not otherwise", "[field_limits]") {
  auto ok = ParseJson(R"({"a": [1, 2]})", "parameters");
  REQUIRE(ok.ok());
  CHECK((*ok)["a"][1] == 2);

  auto bad = ParseJson("{x", "parameters");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.rfind("parameters: not valid JSON: ", 0) == 0);

  auto deep = ParseJson(Nested('[', ']', 65), "parameters");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().message == "parameters: nested deeper than 64 levels");

  auto edge = ParseJson(Nested('[', ']', 64, "1"), "parameters");
  REQUIRE(edge.ok());
  CHECK(edge->dump().size() == 64 * 2 + 1);
}

TEST_CASE("Text limits name the field, the length and the limit", "[field_limits]") {
  CHECK(CheckTextLength(std::string(kMaxDescriptionBytes, 'd'), "description",
                        kMaxDescriptionBytes)
            .ok());
  auto long_text =
      CheckTextLength(std::string(5000, 'd'), "spec.description", kMaxDescriptionBytes);
  REQUIRE_FALSE(long_text.ok());
  CHECK(long_text.error().message ==
        "spec.description: 5000 bytes, longer than the limit of 4 KiB");
  CHECK(DescribeBytes(200) == "200 bytes");
  CHECK(DescribeBytes(16 * 1024) == "16 KiB");
  CHECK(DescribeBytes(2 * 1024 * 1024) == "2 MiB");
}

TEST_CASE("CheckTags bounds the count and each tag", "[field_limits]") {
  CHECK(CheckTags({"a", "b"}, "tags").ok());
  CHECK(CheckTags(std::vector<std::string>(kMaxTags, "t"), "tags").ok());
  auto many = CheckTags(std::vector<std::string>(kMaxTags + 1, "t"), "tags");
  REQUIRE_FALSE(many.ok());
  CHECK(many.error().message == "tags: 65 tags, more than the limit of 64");
  auto empty = CheckTags({"a", ""}, "spec.tags");
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().message == "spec.tags[1]: must not be empty");
  auto long_tag = CheckTags({std::string(201, 't')}, "tags");
  REQUIRE_FALSE(long_tag.ok());
  CHECK(long_tag.error().message == "tags[0]: 201 bytes, longer than the limit of 200 bytes");
}

TEST_CASE("ParseJsonObjectBody names the member nested too deep", "[field_limits]") {
  JsonLimits limits{.max_bytes = kMaxHttpBodyBytes, .max_depth = kMaxJsonDepth};
  auto ok = ParseJsonObjectBody(R"({"parameters": {"a": [1]}, "tags": ["x"]})", "body", limits);
  REQUIRE(ok.ok());
  CHECK((*ok)["tags"][0] == "x");
  CHECK(ParseJsonObjectBody("", "body", limits)->empty());
  CHECK(ParseJsonObjectBody(" \n", "body", limits)->is_object());

  // A member's value may be as deep as the limit, counted as if it had been sent alone.
  auto edge = ParseJsonObjectBody(R"({"parameters": {"x": )" + Nested('[', ']', 63, "1") + "}}",
                                  "body", limits);
  CHECK(edge.ok());

  auto deep = ParseJsonObjectBody(R"({"tags": [], "parameters": {"x": )" +
                                      Nested('[', ']', 64, "1") + "}}",
                                  "body", limits);
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().message == "parameters: nested deeper than 64 levels");

  // 600 KB of '[' inside "parameters", never closed.
  auto crash = ParseJsonObjectBody(R"({"parameters": )" + std::string(600 * 1024, '['), "body",
                                   limits);
  REQUIRE_FALSE(crash.ok());
  CHECK(crash.error().message == "parameters: nested deeper than 64 levels");

  auto bare = ParseJsonObjectBody(std::string(600 * 1024, '['), "body", limits);
  REQUIRE_FALSE(bare.ok());
  CHECK(bare.error().message == "body: nested deeper than 64 levels");

  auto not_object = ParseJsonObjectBody("[1]", "body", limits);
  REQUIRE_FALSE(not_object.ok());
  CHECK(not_object.error().message == "body: must be a JSON object, got array");

  auto invalid = ParseJsonObjectBody("{", "body", limits);
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().message.rfind("body: not valid JSON: ", 0) == 0);

  auto large = ParseJsonObjectBody(std::string(100, ' '), "body", {.max_bytes = 10});
  REQUIRE_FALSE(large.ok());
  CHECK(large.error().message == "body: larger than 10 bytes (100 bytes)");
}

TEST_CASE("CutText keeps a text within a limit, never splitting a character", "[field_limits]") {
  CHECK(CutText("short", 100) == "short");
  std::string cut = CutText(std::string(1000, 'x'), 100);
  CHECK(cut.size() <= 100);
  CHECK_THAT(cut, Catch::EndsWith(" ...[cut 1000 bytes]"));
  // "é" is two bytes: the cut backs up to a character boundary.
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xC3\xA9";
  std::string cut_accents = CutText(accents, 51);
  CHECK(cut_accents.size() <= 51);
  std::string kept = cut_accents.substr(0, cut_accents.find(" ...[cut"));
  CHECK(kept.size() % 2 == 0);
}
