// weft api-key create|ls|revoke, and weft whoami
#include "cli/commands/api_key.hpp"

#include <iostream>

#include "cli/output/json.hpp"
#include "cli/output/table.hpp"
#include "sdk/core/time.hpp"

namespace weft::cli {

int ApiKeyCreate(const Globals& g, const ApiKeyCreateOptions& o) {
  v1::CreateApiKeyRequest req;
  req.set_name(o.name);
  req.set_scope(o.scope);
  for (const auto& q : o.work_queues) req.add_work_queues(q);
  if (!o.expires.empty()) {
    if (core::IsNegativeDuration(o.expires)) {
      return Fail("--expires: must not be negative, got \"" + o.expires + "\"");
    }
    auto secs = core::ParseDurationSeconds(o.expires);
    if (!secs || *secs <= 0) {
      return Fail("--expires: \"" + o.expires + "\" is not a duration (e.g. 90d, 12h, 30m)");
    }
    req.set_expires_in_seconds(static_cast<std::int64_t>(*secs));
  }
  client::Client c(g.api);
  auto resp = c.CreateApiKey(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  const auto& k = resp->key();
  std::cerr << "Created API key \"" << k.name() << "\" (scope " << k.scope();
  if (k.work_queues_size() > 0) {
    std::cerr << ", work queues "
              << Join(std::vector<std::string>(k.work_queues().begin(), k.work_queues().end()),
                      ", ");
  }
  if (k.has_expires()) std::cerr << ", expires " << ShortTime(k.expires()) << " UTC";
  std::cerr << "). This is the only time the token is shown:\n";
  std::cout << resp->token() << "\n";
  return 0;
}

int ApiKeyLs(const Globals& g) {
  client::Client c(g.api);
  auto resp = c.ListApiKeys({});
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  output::Table t({"NAME", "SCOPE", "WORK QUEUES", "CREATED", "EXPIRES", "LAST USED", "ID"});
  for (const auto& k : resp->keys()) {
    std::string queues =
        k.work_queues().empty()
            ? (k.scope() == "agent" ? "any" : "")
            : Join(std::vector<std::string>(k.work_queues().begin(), k.work_queues().end()), ",");
    t.AddRow({k.name(), k.scope(), queues, ShortTime(k.created()),
              k.has_expires() ? ShortTime(k.expires()) : "never",
              k.has_last_used() ? ShortTime(k.last_used()) : "never", k.id()});
  }
  t.Print(std::cout);
  return 0;
}

int ApiKeyRevoke(const Globals& g, const std::string& name) {
  v1::RevokeApiKeyRequest req;
  req.set_name(name);
  client::Client c(g.api);
  auto resp = c.RevokeApiKey(req);
  if (!resp) return Fail(resp.error());
  std::cout << "Revoked API key \"" << name << "\"\n";
  return 0;
}

int WhoAmI(const Globals& g) {
  client::Client c(g.api);
  auto resp = c.WhoAmI({});
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, *resp);
    return 0;
  }
  std::cout << resp->name() << " (scope " << resp->scope();
  if (resp->work_queues_size() > 0) {
    std::cout << ", work queues "
              << Join(std::vector<std::string>(resp->work_queues().begin(),
                                               resp->work_queues().end()),
                      ", ");
  }
  std::cout << ") at " << g.api.address << "\n";
  return 0;
}

}  // namespace weft::cli
