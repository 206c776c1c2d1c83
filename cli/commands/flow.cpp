#include <iostream>

#include "cli/commands/common.hpp"
#include "cli/output/json.hpp"
#include "cli/output/table.hpp"

namespace weft::cli {

int FlowLs(const Globals& g, int limit) {
  client::Client c(g.api);
  v1::ListFlowsRequest req;
  req.mutable_page()->set_limit(limit);
  auto resp = c.ListFlows(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"ID", "NAME", "CREATED"});
  for (const auto& f : resp->flows()) t.AddRow({f.id(), f.name(), ShortTime(f.created())});
  t.Print(std::cout);
  return 0;
}

}  // namespace weft::cli
