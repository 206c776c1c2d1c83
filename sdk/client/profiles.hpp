#pragma once
// Client settings from one loader: flag > environment > profile > default. Profiles live in
// $WEFT_HOME/config.yaml (mode 0600), like Prefect's:
//
//   active: prod
//   profiles:
//     local: {}
//     prod:
//       api_url: https://weft.example.com:4201
//       api_key: weft_...
//       tls_ca: /etc/weft/ca.pem
//
// WEFT_PROFILE picks a profile for one command; `weft profile use` sets `active`.
#include <map>
#include <string>
#include <vector>

#include "sdk/core/error.hpp"

namespace weft::client {

// The settings a profile may hold, each with its environment variable.
struct SettingInfo {
  const char* key;   // api_url
  const char* env;   // WEFT_API_URL
  bool secret;       // shown masked
  const char* help;
};
const std::vector<SettingInfo>& ClientSettingInfos();

struct ProfileFile {
  std::string active;  // "" = "default"
  std::map<std::string, std::map<std::string, std::string>> profiles;
};

// <DefaultHome()>/config.yaml.
std::string ProfilesPath();
// A missing file is an empty ProfileFile; a malformed one is INVALID_ARGUMENT naming it.
core::Result<ProfileFile> LoadProfiles(const std::string& path);
// Writes through a temporary file and a rename; mode 0600.
core::Status SaveProfiles(const std::string& path, const ProfileFile& file);
// "" when `name` is a valid profile name ([A-Za-z0-9_.-], 1-64), else the problem.
std::string CheckProfileName(const std::string& name);
// "" when `key` may be set (api_url, api_key, tls_ca, tls_cert, tls_key, insecure).
std::string CheckSettingKey(const std::string& key);

struct ResolvedSetting {
  std::string value;
  std::string source;  // "env", "profile <name>", "default", "admin key file"
};
struct ClientSettings {
  std::string profile;  // the profile in use
  std::string profile_source;  // "env WEFT_PROFILE", "config.yaml", "default"
  std::map<std::string, ResolvedSetting> values;  // by key
  std::string problem;  // a malformed config.yaml ("" = fine)
};
// Environment > the profile in use > defaults (the API key's default is the local server's
// admin key when this user can read it).
ClientSettings ResolveClientSettings();

}  // namespace weft::client
