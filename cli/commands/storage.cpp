// weft storage create|ls|inspect|set-default|delete
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/commands/common.hpp"
#include "cli/output/json.hpp"
#include "cli/output/table.hpp"
#include "sdk/core/names.hpp"

namespace weft::cli {

namespace {

// Config keys that could hold a secret are never printed (the server stores none today;
// this keeps it so if one is ever added).
bool IsSecretKey(const std::string& key) {
  std::string k;
  for (char c : key) k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"secret", "token", "password", "credential", "access_key"}) {
    if (k.find(word) != std::string::npos) return true;
  }
  return false;
}

v1::Storage Redacted(const v1::Storage& s) {
  v1::Storage out = s;
  for (auto& [k, v] : *out.mutable_config()) {
    if (IsSecretKey(k)) v = "***";
  }
  return out;
}

std::string ConfigSummary(const v1::Storage& s) {
  std::vector<std::string> parts;
  // Stable order: the keys people look for first.
  for (const char* key : {"path", "endpoint", "bucket", "region", "prefix"}) {
    auto it = s.config().find(key);
    if (it != s.config().end() && !it->second.empty()) parts.push_back(key + ("=" + it->second));
  }
  for (const auto& [k, v] : s.config()) {
    if (k == "path" || k == "endpoint" || k == "bucket" || k == "region" || k == "prefix") continue;
    parts.push_back(k + "=" + (IsSecretKey(k) ? std::string("***") : v));
  }
  return Join(parts, " ");
}

}  // namespace

int StorageCreate(const Globals& g, const StorageCreateOptions& o) {
  if (auto s = core::CheckName(o.name, "name"); !s) return Fail(s.error());
  v1::CreateStorageRequest req;
  req.set_name(o.name);
  req.set_kind(o.kind);
  req.set_make_default(o.make_default);
  auto& config = *req.mutable_config();
  if (o.kind == "local") {
    if (o.path.empty()) return Fail("--path: required for local storage");
    std::error_code ec;
    auto abs = std::filesystem::absolute(o.path, ec).lexically_normal().string();
    if (abs.size() > 1 && abs.back() == '/') abs.pop_back();
    config["path"] = ec ? o.path : abs;
  } else if (o.kind == "s3") {
    if (o.endpoint.rfind("http://", 0) != 0 && o.endpoint.rfind("https://", 0) != 0) {
      return Fail("--endpoint: \"" + o.endpoint + "\" must start with http:// or https://");
    }
    if (o.bucket.empty()) return Fail("--bucket: required for s3 storage");
    config["endpoint"] = o.endpoint;
    config["bucket"] = o.bucket;
    config["region"] = o.region.empty() ? "us-east-1" : o.region;
    if (!o.prefix.empty()) {
      std::string prefix = o.prefix;
      while (!prefix.empty() && prefix.front() == '/') prefix.erase(prefix.begin());
      if (!prefix.empty() && prefix.back() != '/') prefix += '/';
      config["prefix"] = prefix;
    }
  }
  client::Client c(g.api);
  auto resp = c.CreateStorage(req);
  if (!resp) return Fail(resp.error());
  const auto& s = resp->storage();
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, Redacted(s));
    return 0;
  }
  std::cout << "Created storage " << s.name() << " (" << s.kind();
  std::string summary = ConfigSummary(s);
  if (!summary.empty()) std::cout << ", " << summary;
  std::cout << ")" << (s.is_default() ? ", the default storage" : "") << "\n";
  if (s.kind() == "s3") {
    std::cout << "Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
                 "environment of whoever reads or writes bundles.\n";
  }
  return 0;
}

int StorageLs(const Globals& g) {
  client::Client c(g.api);
  v1::ListStoragesRequest req;
  req.mutable_page()->set_limit(1000);
  auto resp = c.ListStorages(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    v1::ListStoragesResponse out = *resp;
    for (auto& s : *out.mutable_storages()) s = Redacted(s);
    output::PrintJson(std::cout, out);
    return 0;
  }
  output::Table t({"NAME", "KIND", "DEFAULT", "CONFIG", "USED BY"});
  for (const auto& s : resp->storages()) {
    std::vector<std::string> used(s.used_by().begin(), s.used_by().end());
    t.AddRow({s.name(), s.kind(), s.is_default() ? "yes" : "", ConfigSummary(s),
              used.empty()
                  ? ""
                  : std::to_string(used.size()) + " deployment" + (used.size() == 1 ? "" : "s")});
  }
  t.Print(std::cout);
  return 0;
}

int StorageInspect(const Globals& g, const std::string& name) {
  client::Client c(g.api);
  v1::GetStorageRequest req;
  req.set_name(name);
  auto resp = c.GetStorage(req);
  if (!resp) return Fail(resp.error());
  v1::Storage s = Redacted(resp->storage());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, s);
    return 0;
  }
  std::cout << "Storage " << s.name() << " (" << s.id() << ")\n"
            << "  kind:     " << s.kind() << "\n"
            << "  default:  " << (s.is_default() ? "yes" : "no") << "\n"
            << "  created:  " << ShortTime(s.created()) << "\n"
            << "  config:\n";
  std::map<std::string, std::string> config(s.config().begin(), s.config().end());
  for (const auto& [k, v] : config) std::cout << "    " << k << ": " << v << "\n";
  if (s.kind() == "s3") {
    std::cout << "  credentials: from the environment (AWS_ACCESS_KEY_ID, "
                 "AWS_SECRET_ACCESS_KEY)\n";
  }
  std::vector<std::string> used(s.used_by().begin(), s.used_by().end());
  std::cout << "  used by:  " << (used.empty() ? "(no deployments)" : Join(used, ", ")) << "\n";
  return 0;
}

int StorageSetDefault(const Globals& g, const std::string& name) {
  client::Client c(g.api);
  v1::SetDefaultStorageRequest req;
  req.set_name(name);
  auto resp = c.SetDefaultStorage(req);
  if (!resp) return Fail(resp.error());
  if (g.format == Format::kJson) {
    output::PrintJson(std::cout, Redacted(resp->storage()));
    return 0;
  }
  std::cout << "Storage " << resp->storage().name() << " is now the default storage\n";
  return 0;
}

int StorageDelete(const Globals& g, const std::string& name) {
  client::Client c(g.api);
  v1::DeleteStorageRequest req;
  req.set_name(name);
  auto resp = c.DeleteStorage(req);
  if (!resp) return Fail(resp.error());
  std::cout << "Deleted storage " << name << "\n";
  return 0;
}

}  // namespace weft::cli
