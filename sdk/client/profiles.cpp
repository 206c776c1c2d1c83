#include "sdk/client/profiles.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sdk/client/client.hpp"
#include "sdk/core/names.hpp"

namespace weft::client {

const std::vector<SettingInfo>& ClientSettingInfos() {
  static const std::vector<SettingInfo> infos = {
      {"api_url", "WEFT_API_URL", false,
       "server address: host:port, https://host:port (TLS) or unix:/path"},
      {"api_key", "WEFT_API_KEY", true, "API key (weft api-key create)"},
      {"tls_ca", "WEFT_TLS_CA", false, "PEM CA that signed the server's certificate"},
      {"tls_cert", "WEFT_TLS_CERT", false, "client certificate for mutual TLS (PEM)"},
      {"tls_key", "WEFT_TLS_KEY", false, "its private key (PEM)"},
      {"insecure", "WEFT_INSECURE", false, "true: allow plaintext to a non-loopback host"},
  };
  return infos;
}

std::string ProfilesPath() { return DefaultHome() + "/config.yaml"; }

std::string CheckProfileName(const std::string& name) {
  return core::NameProblem(name, core::kMaxProfileNameLength);
}

std::string CheckSettingKey(const std::string& key) {
  std::string known;
  for (const auto& i : ClientSettingInfos()) {
    if (key == i.key) return "";
    known += (known.empty() ? "" : ", ") + std::string(i.key);
  }
  return "unknown setting \"" + key + "\" (known: " + known + ")";
}

core::Result<ProfileFile> LoadProfiles(const std::string& path) {
  ProfileFile out;
  if (::access(path.c_str(), F_OK) != 0) return out;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1 << 20)) return core::InvalidArgument(path + ": larger than 1 MiB");
  try {
    YAML::Node root = YAML::Load(text.str());
    if (!root || root.IsNull()) return out;
    if (!root.IsMap()) return core::InvalidArgument(path + ": expected a mapping at the top");
    if (root["active"]) out.active = root["active"].as<std::string>();
    if (auto profiles = root["profiles"]) {
      if (!profiles.IsMap()) return core::InvalidArgument(path + ": profiles: expected a mapping");
      for (const auto& p : profiles) {
        std::string name = p.first.as<std::string>();
        auto& settings = out.profiles[name];
        if (p.second.IsNull()) continue;
        if (!p.second.IsMap()) {
          return core::InvalidArgument(path + ": profiles." + name + ": expected a mapping");
        }
        for (const auto& kv : p.second) {
          std::string key = kv.first.as<std::string>();
          if (auto problem = CheckSettingKey(key); !problem.empty()) {
            return core::InvalidArgument(path + ": profiles." + name + ": " + problem);
          }
          settings[key] = kv.second.as<std::string>();
        }
      }
    }
  } catch (const YAML::Exception& e) {
    return core::InvalidArgument(path + ": not valid YAML: " + e.what());
  }
  return out;
}

core::Status SaveProfiles(const std::string& path, const ProfileFile& file) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "active" << YAML::Value << (file.active.empty() ? "default" : file.active);
  y << YAML::Key << "profiles" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, settings] : file.profiles) {
    y << YAML::Key << name << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : settings) y << YAML::Key << k << YAML::Value << v;
    y << YAML::EndMap;
  }
  y << YAML::EndMap << YAML::EndMap;
  std::string text = std::string(y.c_str()) + "\n";
  std::error_code ec;
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return core::FailedPrecondition("cannot write " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return core::FailedPrecondition("cannot write " + path + ": " + why);
  }
  return {};
}

ClientSettings ResolveClientSettings() {
  ClientSettings out;
  auto loaded = LoadProfiles(ProfilesPath());
  ProfileFile file;
  if (loaded.ok()) {
    file = std::move(*loaded);
  } else {
    out.problem = loaded.error().message;
  }
  if (const char* p = std::getenv("WEFT_PROFILE"); p && *p) {
    out.profile = p;
    out.profile_source = "env WEFT_PROFILE";
  } else if (!file.active.empty()) {
    out.profile = file.active;
    out.profile_source = "config.yaml";
  } else {
    out.profile = "default";
    out.profile_source = "default";
  }
  const auto* profile =
      file.profiles.count(out.profile) ? &file.profiles.at(out.profile) : nullptr;
  for (const auto& info : ClientSettingInfos()) {
    if (const char* v = std::getenv(info.env); v && *v) {
      out.values[info.key] = {v, "env"};
    } else if (profile && profile->count(info.key)) {
      out.values[info.key] = {profile->at(info.key), "profile " + out.profile};
    }
  }
  if (!out.values.count("api_key")) {
    std::string key = ReadKeyFile(LocalAdminKeyFile());
    if (!key.empty()) out.values["api_key"] = {key, "admin key file " + LocalAdminKeyFile()};
  }
  return out;
}

}  // namespace weft::client
