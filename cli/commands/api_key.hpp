#pragma once
// weft api-key create|ls|revoke, and weft whoami
#include <string>
#include <vector>

#include "cli/commands/common.hpp"

namespace weft::cli {

struct ApiKeyCreateOptions {
  std::string name;
  std::string scope;                     // admin | operator | viewer | agent
  std::vector<std::string> work_queues;  // agent keys only
  std::string expires;                   // "90d", "12h"; "" = never
};
int ApiKeyCreate(const Globals& g, const ApiKeyCreateOptions& o);
int ApiKeyLs(const Globals& g);
int ApiKeyRevoke(const Globals& g, const std::string& name);
int WhoAmI(const Globals& g);

}  // namespace weft::cli
