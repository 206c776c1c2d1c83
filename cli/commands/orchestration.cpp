#include <iostream>

#include "cli/commands/common.hpp"
#include "cli/output/json.hpp"
#include "cli/output/table.hpp"

namespace weft::cli {

int OrchestrationRules(const Globals& g) {
  client::Client c(g.api);
  auto resp = c.ListRules(v1::ListRulesRequest{});
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"#", "RULE", "APPLIES TO", "TRANSITIONS", "WHAT IT DOES"});
  int i = 0;
  for (const auto& r : resp->rules()) {
    t.AddRow({std::to_string(++i), r.name(), r.applies_to(), r.transitions(), r.description()});
  }
  t.Print(std::cout);
  return 0;
}

}  // namespace weft::cli
