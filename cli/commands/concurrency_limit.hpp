#pragma once
// weft concurrency-limit create|ls|inspect|reset|delete
#include <string>

#include "cli/commands/common.hpp"

namespace weft::cli {

// `limit` as typed (parsed here so that a bad value gets our message).
int ConcurrencyLimitCreate(const Globals& g, const std::string& tag, const std::string& limit);
int ConcurrencyLimitLs(const Globals& g);
int ConcurrencyLimitInspect(const Globals& g, const std::string& tag);
int ConcurrencyLimitReset(const Globals& g, const std::string& tag);
int ConcurrencyLimitDelete(const Globals& g, const std::string& tag);

}  // namespace weft::cli
