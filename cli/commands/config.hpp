#pragma once
// weft config view|set|unset, weft profile create|use|ls|delete, weft login.
#include <string>

#include "cli/commands/common.hpp"

namespace weft::cli {

int ConfigSet(const std::string& key, const std::string& value, bool unset);
int ProfileCreate(const std::string& name, bool use);
int ProfileUse(const std::string& name);
int ProfileLs(const Globals& g);
int ProfileDelete(const std::string& name);

struct LoginOptions {
  std::string api_url;
  std::string api_key;
  std::string tls_ca;
  std::string profile;  // "" = the active one
};
int Login(const Globals& g, const LoginOptions& o);

}  // namespace weft::cli
