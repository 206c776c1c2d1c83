#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "cli/commands/common.hpp"
#include "cli/output/table.hpp"

namespace weft::cli {

namespace {

struct Setting {
  std::string name;
  std::string value;
  std::string source;
};

// postgresql://user:secret@host/db -> postgresql://user:***@host/db
std::string MaskUrl(std::string url) {
  auto scheme = url.find("://");
  auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon != std::string::npos && colon < at) url.replace(colon + 1, at - colon - 1, "***");
  return url;
}

Setting FromEnv(const std::string& env, const std::string& def, bool secret = false) {
  const char* v = std::getenv(env.c_str());
  if (v && *v) {
    std::string value = secret ? "***" : MaskUrl(v);
    return {env, value, "env"};
  }
  return {env, def, "default"};
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

int ConfigView(const Globals& g) {
  const char* home_env = std::getenv("HOME");
  // As root the embedded PostgreSQL cannot live under /root (its user cannot enter it).
  std::string default_home =
      geteuid() == 0 ? "/var/lib/weft" : std::string(home_env ? home_env : "") + "/.weft";
  std::vector<Setting> settings = {
      {"WEFT_API_URL", g.api.address, std::getenv("WEFT_API_URL") ? "env" : "default"},
      FromEnv("WEFT_API_KEY", "(none)", true),
      FromEnv("WEFT_HOME", default_home),
      FromEnv("WEFT_DATABASE_URL", "(embedded PostgreSQL under WEFT_HOME)"),
      FromEnv("WEFT_SERVER_GRPC_ADDRESS", "127.0.0.1:4201"),
      FromEnv("WEFT_LOG_LEVEL", "info"),
  };
  if (g.format == Format::kJson) {
    std::cout << "{\n";
    for (size_t i = 0; i < settings.size(); ++i) {
      std::cout << "  \"" << settings[i].name << "\": {\"value\": \""
                << JsonEscape(settings[i].value) << "\", \"source\": \"" << settings[i].source
                << "\"}" << (i + 1 < settings.size() ? "," : "") << "\n";
    }
    std::cout << "}\n";
    return 0;
  }
  output::Table t({"SETTING", "VALUE", "SOURCE"});
  for (const auto& s : settings) t.AddRow({s.name, s.value, s.source});
  t.Print(std::cout);
  return 0;
}

}  // namespace weft::cli
