#include "sdk/core/params.hpp"

#include <catch2/catch.hpp>

using namespace weft::core;

namespace {

std::vector<ParamSpec> TaxiSpecs() {
  std::vector<ParamSpec> specs(5);
  specs[0] = {"months", ParamType::kInt, ParamValue{std::int64_t{2}}, false, "training months"};
  specs[1] = {"rate", ParamType::kDouble, ParamValue{0.5}, false, ""};
  specs[2] = {"verbose", ParamType::kBool, ParamValue{false}, false, ""};
  specs[3] = {"csv", ParamType::kString, std::nullopt, false, "optional path"};
  specs[4] = {"region", ParamType::kString, std::nullopt, true, "required"};
  auto n = NormalizeSpecs(specs);
  REQUIRE(n.ok());
  return n.value();
}

using Overrides = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("defaults fill what is not given; optional parameters stay absent", "[params]") {
  auto r = ResolveParams(TaxiSpecs(), "", {{"region", "nyc"}});
  REQUIRE(r.ok());
  CHECK(r->Int("months") == 2);
  CHECK(r->Double("rate") == 0.5);
  CHECK(r->Bool("verbose") == false);
  CHECK(r->String("region") == "nyc");
  CHECK_FALSE(r->Has("csv"));
  CHECK(r->StringOr("csv", "none") == "none");
}

TEST_CASE("command-line text is parsed by the declared type", "[params]") {
  auto r = ResolveParams(TaxiSpecs(), "",
                         {{"region", "nyc"},
                          {"months", "-3"},
                          {"rate", "1e-3"},
                          {"verbose", "YES"},
                          {"csv", "a=b.csv"}});
  REQUIRE(r.ok());
  CHECK(r->Int("months") == -3);
  CHECK(r->Double("rate") == Approx(0.001));
  CHECK(r->Bool("verbose"));
  CHECK(r->String("csv") == "a=b.csv");
}

TEST_CASE("a malformed int names the parameter and the value", "[params]") {
  auto r = ResolveParams(TaxiSpecs(), "", {{"region", "nyc"}, {"months", "abc"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kInvalidArgument);
  CHECK(r.error().message == "parameter \"months\": expected an integer, got \"abc\"");
  for (const char* bad : {"2.5", "", " 2", "2x", "99999999999999999999"}) {
    auto b = ResolveParams(TaxiSpecs(), "", {{"region", "nyc"}, {"months", bad}});
    INFO(bad);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message.rfind("parameter \"months\": ", 0) == 0);
  }
}

TEST_CASE("malformed double and bool values are errors naming the parameter", "[params]") {
  auto d = ResolveParams(TaxiSpecs(), "", {{"region", "x"}, {"rate", "fast"}});
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message == "parameter \"rate\": expected a number, got \"fast\"");
  auto inf = ResolveParams(TaxiSpecs(), "", {{"region", "x"}, {"rate", "inf"}});
  CHECK_FALSE(inf.ok());
  auto b = ResolveParams(TaxiSpecs(), "", {{"region", "x"}, {"verbose", "maybe"}});
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().message ==
        "parameter \"verbose\": expected a boolean (true/false), got \"maybe\"");
}

TEST_CASE("an unknown parameter is an error listing the known ones", "[params]") {
  auto r = ResolveParams(TaxiSpecs(), "", {{"region", "x"}, {"monthz", "3"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "parameter \"monthz\": unknown parameter (known: months, rate, verbose, csv, region)");
  auto j = ResolveParams(TaxiSpecs(), R"({"region":"x","nope":1})", {});
  REQUIRE_FALSE(j.ok());
  CHECK(j.error().message.rfind("parameter \"nope\": unknown parameter", 0) == 0);
}

TEST_CASE("a missing required parameter is an error naming it", "[params]") {
  auto r = ResolveParams(TaxiSpecs(), "", {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "parameter \"region\": required (string) but not given; pass --param region=VALUE");
}

TEST_CASE("parameters from JSON, overridden by the command line", "[params]") {
  auto r =
      ResolveParams(TaxiSpecs(), R"({"months": 6, "rate": 2, "verbose": true, "region": "sf"})",
                    {{"months", "7"}});
  REQUIRE(r.ok());
  CHECK(r->Int("months") == 7);
  CHECK(r->Double("rate") == 2.0);
  CHECK(r->Bool("verbose"));
  CHECK(r->String("region") == "sf");
  // A JSON string is read like command-line text; a wrong JSON type is an error.
  auto s = ResolveParams(TaxiSpecs(), R"({"months": "4", "region": "sf"})", {});
  REQUIRE(s.ok());
  CHECK(s->Int("months") == 4);
  auto bad = ResolveParams(TaxiSpecs(), R"({"months": 2.5, "region": "sf"})", {});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "parameter \"months\": expected an integer, got 2.5");
  auto not_object = ResolveParams(TaxiSpecs(), "[1,2]", {});
  REQUIRE_FALSE(not_object.ok());
  CHECK(not_object.error().message == "parameters_json: expected a JSON object");
  auto not_json = ResolveParams(TaxiSpecs(), "{months:", {});
  REQUIRE_FALSE(not_json.ok());
  CHECK(not_json.error().message == "parameters_json: not valid JSON");
}

TEST_CASE("values and schemas round-trip through JSON", "[params]") {
  auto r = ResolveParams(TaxiSpecs(), "",
                         {{"region", "say \"hi\""}, {"csv", "/tmp/x.csv"}, {"rate", "0.25"}});
  REQUIRE(r.ok());
  std::string json = ParamsToJson(r.value());
  auto again = ResolveParams(TaxiSpecs(), json, {});
  REQUIRE(again.ok());
  CHECK(again->values() == r->values());

  std::string schema = SpecsToJson(TaxiSpecs());
  CHECK(schema.find(R"("name":"months")") != std::string::npos);
  CHECK(schema.find(R"("type":"int")") != std::string::npos);
  auto specs = SpecsFromJson(schema);
  REQUIRE(specs.ok());
  REQUIRE(specs->size() == 5);
  CHECK(specs->at(0).name == "months");
  CHECK(specs->at(0).type == ParamType::kInt);
  CHECK(specs->at(0).default_value == std::optional<ParamValue>(ParamValue{std::int64_t{2}}));
  CHECK_FALSE(specs->at(3).required);
  CHECK(specs->at(4).required);
  CHECK(SpecsToJson(specs.value()) == schema);
}

TEST_CASE("bad declarations are reported", "[params]") {
  std::vector<ParamSpec> dup(2);
  dup[0].name = dup[1].name = "x";
  auto d = NormalizeSpecs(dup);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message == "parameter \"x\": declared twice");

  std::vector<ParamSpec> wrong(1);
  wrong[0] = {"n", ParamType::kInt, ParamValue{std::string("two")}, true, ""};
  auto w = NormalizeSpecs(wrong);
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().message == "parameter \"n\": default \"two\" is not an integer");

  std::vector<ParamSpec> widen(1);
  widen[0] = {"x", ParamType::kDouble, ParamValue{std::int64_t{3}}, true, ""};
  auto ok = NormalizeSpecs(widen);
  REQUIRE(ok.ok());
  CHECK(std::get<double>(*ok->at(0).default_value) == 3.0);

  std::vector<ParamSpec> bad_name(1);
  bad_name[0].name = "has space";
  CHECK_FALSE(NormalizeSpecs(bad_name).ok());
}

TEST_CASE("param assignments must be NAME=VALUE", "[params]") {
  auto kv = SplitAssignment("csv=a=b");
  REQUIRE(kv.ok());
  CHECK(kv->first == "csv");
  CHECK(kv->second == "a=b");
  auto empty_value = SplitAssignment("name=");
  REQUIRE(empty_value.ok());
  CHECK(empty_value->second.empty());
  auto bad = SplitAssignment("months");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "--param \"months\": expected NAME=VALUE");
  CHECK_FALSE(SplitAssignment("=3").ok());
}

TEST_CASE("int and double parameters may declare bounds", "[params]") {
  std::vector<ParamSpec> specs(2);
  specs[0] = {"val_month", ParamType::kInt, ParamValue{std::int64_t{3}}, false, "", 1.0, 12.0};
  specs[1] = {"ratio", ParamType::kDouble, std::nullopt, false, "", 0.0, std::nullopt};
  auto n = NormalizeSpecs(specs);
  REQUIRE(n.ok());
  auto bad = ResolveParams(n.value(), "", {{"val_month", "13"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "parameter \"val_month\": must be between 1 and 12, got 13");
  auto neg = ResolveParams(n.value(), R"({"ratio": -0.5})", {});
  REQUIRE_FALSE(neg.ok());
  CHECK(neg.error().message == "parameter \"ratio\": must be >= 0, got -0.5");
  CHECK(ResolveParams(n.value(), "", {{"val_month", "12"}}).ok());
  auto schema = SpecsFromJson(SpecsToJson(n.value()));
  REQUIRE(schema.ok());
  CHECK(schema->at(0).maximum == std::optional<double>(12.0));
  specs[0].default_value = ParamValue{std::int64_t{0}};
  auto d = NormalizeSpecs(specs);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message == "default: parameter \"val_month\": must be between 1 and 12, got 0");
}

// Found by tests/fuzz (params): a string parameter with bytes that are not UTF-8 was accepted,
// and writing the run's parameters as JSON threw (the flow program died).
TEST_CASE("a string parameter that is not UTF-8 is an error naming the parameter", "[params]") {
  auto r = ResolveParams(TaxiSpecs(), "", Overrides{{"region", "eu"}, {"csv", "a\xff.csv"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "parameter \"csv\": not valid UTF-8 text");
  auto ok = ResolveParams(TaxiSpecs(), "", Overrides{{"region", "Z\xc3\xbcrich"}});
  REQUIRE(ok.ok());
  CHECK(ParamsToJson(*ok).find("Z\xc3\xbcrich") != std::string::npos);
}
