// weft config view|set|unset, weft profile create|use|ls|delete, weft login: the client
// settings of docs/configuration.md (flag > environment > profile > default).
#include "cli/commands/config.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/output/table.hpp"
#include "sdk/client/profiles.hpp"

namespace weft::cli {

namespace {

// postgresql://user:secret@host/db -> postgresql://user:***@host/db
std::string MaskUrl(std::string url) {
  auto scheme = url.find("://");
  auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon != std::string::npos && colon < at) url.replace(colon + 1, at - colon - 1, "***");
  return url;
}

// A key shows its public id prefix only: weft_3fa2c1d9e0ab_…
std::string MaskSecret(const std::string& v) {
  if (v.rfind("weft_", 0) == 0 && v.size() > 17) return v.substr(0, 17) + "_***";
  if (v.rfind("weftrun_", 0) == 0) return "weftrun_***";
  return v.empty() ? "" : "***";
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

client::ProfileFile LoadOrEmpty(int* rc) {
  auto loaded = client::LoadProfiles(client::ProfilesPath());
  if (!loaded.ok()) {
    *rc = Fail(loaded.error());
    return {};
  }
  *rc = 0;
  return *loaded;
}

std::string Active(const client::ProfileFile& f) {
  return f.active.empty() ? "default" : f.active;
}

}  // namespace

int ConfigView(const Globals& g) {
  client::ClientSettings s = client::ResolveClientSettings();
  if (!s.problem.empty()) return Fail(s.problem);
  struct Row {
    std::string name, value, source;
  };
  std::vector<Row> rows;
  rows.push_back({"profile", s.profile, s.profile_source});
  for (const auto& info : client::ClientSettingInfos()) {
    auto it = s.values.find(info.key);
    std::string value, source = "default";
    if (it != s.values.end()) {
      value = info.secret ? MaskSecret(it->second.value) : MaskUrl(it->second.value);
      source = it->second.source;
    } else if (std::string(info.key) == "api_url") {
      value = "127.0.0.1:4201";
    } else {
      value = "(none)";
    }
    rows.push_back({info.key, value, source});
  }
  // What this command actually uses after its flags.
  rows.push_back({"effective server", client::ApiUrl(g.api), ""});
  const char* home = std::getenv("WEFT_HOME");
  rows.push_back({"home", client::DefaultHome(), home && *home ? "env" : "default"});
  rows.push_back({"config file", client::ProfilesPath(), ""});
  if (g.format == Format::kJson) {
    std::cout << "{\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      std::cout << "  \"" << rows[i].name << "\": {\"value\": \"" << JsonEscape(rows[i].value)
                << "\", \"source\": \"" << rows[i].source << "\"}"
                << (i + 1 < rows.size() ? "," : "") << "\n";
    }
    std::cout << "}\n";
    return 0;
  }
  output::Table t({"SETTING", "VALUE", "SOURCE"});
  for (const auto& r : rows) t.AddRow({r.name, r.value, r.source});
  t.Print(std::cout);
  return 0;
}

int ConfigSet(const std::string& key, const std::string& value, bool unset) {
  if (auto p = client::CheckSettingKey(key); !p.empty()) return Fail(p);
  int rc = 0;
  auto file = LoadOrEmpty(&rc);
  if (rc) return rc;
  std::string profile = Active(file);
  if (const char* p = std::getenv("WEFT_PROFILE"); p && *p) profile = p;
  auto& settings = file.profiles[profile];
  if (unset) {
    settings.erase(key);
  } else {
    if (value.empty()) return Fail(key + ": a value is required (use `weft config unset` to clear)");
    settings[key] = value;
  }
  if (auto st = client::SaveProfiles(client::ProfilesPath(), file); !st.ok()) return Fail(st.error());
  std::cout << (unset ? "Unset " : "Set ") << key << " in profile \"" << profile << "\"\n";
  return 0;
}

int ProfileCreate(const std::string& name, bool use) {
  if (auto p = client::CheckProfileName(name); !p.empty()) return Fail("profile name: " + p);
  int rc = 0;
  auto file = LoadOrEmpty(&rc);
  if (rc) return rc;
  if (file.profiles.count(name)) return Fail("profile \"" + name + "\" already exists");
  file.profiles[name];
  if (use) file.active = name;
  if (auto st = client::SaveProfiles(client::ProfilesPath(), file); !st.ok()) return Fail(st.error());
  std::cout << "Created profile \"" << name << "\"" << (use ? " and made it active" : "") << "\n";
  return 0;
}

int ProfileUse(const std::string& name) {
  int rc = 0;
  auto file = LoadOrEmpty(&rc);
  if (rc) return rc;
  if (!file.profiles.count(name) && name != "default") {
    return Fail("profile \"" + name + "\" not found (weft profile ls; weft profile create " + name +
                ")");
  }
  file.active = name;
  if (auto st = client::SaveProfiles(client::ProfilesPath(), file); !st.ok()) return Fail(st.error());
  std::cout << "Now using profile \"" << name << "\"\n";
  return 0;
}

int ProfileLs(const Globals& g) {
  int rc = 0;
  auto file = LoadOrEmpty(&rc);
  if (rc) return rc;
  if (!file.profiles.count("default")) file.profiles["default"];
  std::string active = Active(file);
  if (g.format == Format::kJson) {
    std::cout << "{\"active\": \"" << JsonEscape(active) << "\", \"profiles\": [";
    bool first = true;
    for (const auto& [name, settings] : file.profiles) {
      std::cout << (first ? "" : ", ") << "\"" << JsonEscape(name) << "\"";
      first = false;
    }
    std::cout << "]}\n";
    return 0;
  }
  output::Table t({"", "PROFILE", "API URL", "API KEY"});
  for (const auto& [name, settings] : file.profiles) {
    auto url = settings.count("api_url") ? settings.at("api_url") : "";
    auto key = settings.count("api_key") ? MaskSecret(settings.at("api_key")) : "";
    t.AddRow({name == active ? "*" : "", name, url, key});
  }
  t.Print(std::cout);
  return 0;
}

int ProfileDelete(const std::string& name) {
  int rc = 0;
  auto file = LoadOrEmpty(&rc);
  if (rc) return rc;
  if (!file.profiles.erase(name)) return Fail("profile \"" + name + "\" not found");
  bool was_active = Active(file) == name;
  if (was_active) file.active = "default";
  if (auto st = client::SaveProfiles(client::ProfilesPath(), file); !st.ok()) return Fail(st.error());
  std::cout << "Deleted profile \"" << name << "\""
            << (was_active ? "; now using \"default\"" : "") << "\n";
  return 0;
}

int Login(const Globals& g, const LoginOptions& o) {
  if (o.api_url.empty()) return Fail("--api-url: required (e.g. https://weft.example.com:4201)");
  if (o.api_key.empty()) return Fail("--api-key: required (weft api-key create prints one)");
  // Check the key against the server before saving anything.
  setenv("WEFT_API_URL", o.api_url.c_str(), 1);
  client::ClientOptions co = client::OptionsFromEnv();
  co.api_key = o.api_key;
  if (!o.tls_ca.empty()) co.tls_ca_file = o.tls_ca;
  co.insecure = co.insecure || g.api.insecure;
  client::Client c(co);
  auto me = c.WhoAmI({});
  if (!me) return Fail(me.error());
  int rc = 0;
  auto file = LoadOrEmpty(&rc);
  if (rc) return rc;
  std::string profile = o.profile.empty() ? Active(file) : o.profile;
  if (auto p = client::CheckProfileName(profile); !p.empty()) return Fail("--profile: " + p);
  auto& settings = file.profiles[profile];
  settings["api_url"] = o.api_url;
  settings["api_key"] = o.api_key;
  if (!o.tls_ca.empty()) settings["tls_ca"] = o.tls_ca;
  if (!o.profile.empty()) file.active = profile;
  if (auto st = client::SaveProfiles(client::ProfilesPath(), file); !st.ok()) return Fail(st.error());
  std::cout << "Logged in to " << o.api_url << " as " << me->name() << " (scope " << me->scope()
            << "); saved in profile \"" << profile << "\" (" << client::ProfilesPath() << ")\n";
  return 0;
}

}  // namespace weft::cli
