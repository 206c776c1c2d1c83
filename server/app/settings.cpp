#include "server/app/settings.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace weft::server::app {

namespace {

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

std::string Settings::DefaultHome() {
  if (const char* h = Env("WEFT_HOME")) return h;
  if (geteuid() == 0) return "/var/lib/weft";
  if (const char* h = Env("HOME")) return std::string(h) + "/.weft";
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_dir) {
    return std::string(pw->pw_dir) + "/.weft";
  }
  return "/tmp/weft";
}

Settings Settings::FromEnvironment() {
  Settings s;
  if (const char* v = Env("WEFT_SERVER_GRPC_ADDRESS")) s.grpc_address = v;
  if (const char* v = Env("WEFT_DATABASE_URL")) s.database_url = v;
  s.home = DefaultHome();
  if (const char* v = Env("WEFT_SERVER_POOL_SIZE")) {
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (end && *end == '\0') {
      s.pool_size = static_cast<int>(n);
    } else {
      s.env_problems.push_back(std::string("WEFT_SERVER_POOL_SIZE: \"") + v +
                               "\" is not a whole number");
    }
  }
  if (const char* v = Env("WEFT_LOG_LEVEL")) s.log_level = v;
  return s;
}

std::vector<std::string> Settings::Validate() const {
  std::vector<std::string> problems = env_problems;
  if (grpc_address.empty()) {
    problems.push_back("grpc-address: must not be empty");
  } else if (grpc_address.rfind("unix:", 0) != 0) {
    auto colon = grpc_address.rfind(':');
    std::string port = colon == std::string::npos ? "" : grpc_address.substr(colon + 1);
    bool digits = !port.empty() && port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stol(port) > 65535) {
      problems.push_back("grpc-address: \"" + grpc_address +
                         "\" must be host:port (port 0-65535) or unix:/path");
    }
  }
  if (!database_url.empty() && database_url.rfind("postgresql://", 0) != 0 &&
      database_url.rfind("postgres://", 0) != 0) {
    problems.push_back("database-url: must start with postgresql:// (or be empty for the "
                       "embedded PostgreSQL)");
  }
  if (database_url.empty() && home.empty()) problems.push_back("home: must not be empty");
  if (pool_size < 1 || pool_size > 256) {
    problems.push_back("pool-size: must be between 1 and 256, got " + std::to_string(pool_size));
  }
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "warning", "error", "critical",
                                  "off"};
  bool level_ok = false;
  for (const char* l : kLevels) level_ok = level_ok || log_level == l;
  if (!level_ok) {
    problems.push_back("log-level: \"" + log_level +
                       "\" is not one of trace, debug, info, warn, error, critical, off");
  }
  return problems;
}

}  // namespace weft::server::app
