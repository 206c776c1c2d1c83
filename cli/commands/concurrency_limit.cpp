// weft concurrency-limit create|ls|inspect|reset|delete
#include "cli/commands/concurrency_limit.hpp"

#include <charconv>
#include <iostream>

#include "cli/output/json.hpp"
#include "cli/output/table.hpp"

namespace weft::cli {

namespace {

std::string Holders(const v1::ConcurrencyLimit& l) {
  return std::to_string(l.active_slots()) + "/" + std::to_string(l.limit());
}

}  // namespace

int ConcurrencyLimitCreate(const Globals& g, const std::string& tag, const std::string& limit) {
  int n = 0;
  auto [end, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), n);
  if (ec != std::errc() || end != limit.data() + limit.size()) {
    return Fail("limit: \"" + limit + "\" is not a whole number");
  }
  if (n < 0) return Fail("limit: must be >= 0, got " + limit);
  v1::CreateConcurrencyLimitRequest req;
  req.set_tag(tag);
  req.set_limit(n);
  client::Client c(g.api);
  auto resp = c.CreateConcurrencyLimit(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, resp->limit());
    return 0;
  }
  std::cout << (resp->created() ? "Created" : "Updated") << " concurrency limit on tag \"" << tag
            << "\": " << resp->limit().limit() << " slot" << (n == 1 ? "" : "s") << " ("
            << resp->limit().active_slots() << " in use)\n";
  return 0;
}

int ConcurrencyLimitLs(const Globals& g) {
  client::Client c(g.api);
  auto resp = c.ListConcurrencyLimits({});
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"TAG", "LIMIT", "IN USE", "UPDATED"});
  for (const auto& l : resp->limits()) {
    t.AddRow({l.tag(), std::to_string(l.limit()), std::to_string(l.active_slots()),
              ShortTime(l.updated())});
  }
  t.Print(std::cout);
  return 0;
}

int ConcurrencyLimitInspect(const Globals& g, const std::string& tag) {
  v1::GetConcurrencyLimitRequest req;
  req.set_tag(tag);
  client::Client c(g.api);
  auto resp = c.GetConcurrencyLimit(req);
  if (!resp) return Fail(resp.error());
  const auto& l = resp->limit();
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, l);
    return 0;
  }
  std::cout << "Tag:      " << l.tag() << "\n"
            << "Limit:    " << l.limit() << "\n"
            << "In use:   " << Holders(l) << "\n"
            << "Created:  " << ShortTime(l.created()) << "\n"
            << "Updated:  " << ShortTime(l.updated()) << "\n";
  if (l.holders_size() == 0) {
    std::cout << "\nNo task run holds a slot.\n";
    return 0;
  }
  std::cout << "\nHeld by:\n";
  output::Table t({"TASK RUN", "NAME", "FLOW RUN", "FLOW RUN NAME", "SINCE"});
  for (const auto& h : l.holders()) {
    t.AddRow({h.task_run_id(), h.task_run_name(), h.flow_run_id(), h.flow_run_name(),
              ShortTime(h.since())});
  }
  t.Print(std::cout);
  return 0;
}

int ConcurrencyLimitReset(const Globals& g, const std::string& tag) {
  v1::ResetConcurrencyLimitRequest req;
  req.set_tag(tag);
  client::Client c(g.api);
  auto resp = c.ResetConcurrencyLimit(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  std::cout << "Reset concurrency limit on tag \"" << tag << "\": freed " << resp->freed()
            << " slot" << (resp->freed() == 1 ? "" : "s") << "\n";
  return 0;
}

int ConcurrencyLimitDelete(const Globals& g, const std::string& tag) {
  v1::DeleteConcurrencyLimitRequest req;
  req.set_tag(tag);
  client::Client c(g.api);
  auto resp = c.DeleteConcurrencyLimit(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  std::cout << "Deleted concurrency limit on tag \"" << tag << "\"\n";
  return 0;
}

}  // namespace weft::cli
