#pragma once
// weft notification create|ls|pause|resume|delete|deliveries
#include <string>
#include <vector>

#include "cli/commands/common.hpp"

namespace weft::cli {

struct NotificationCreateOptions {
  std::vector<std::string> states;  // state names: Failed, Crashed, ...
  std::vector<std::string> tags;
  std::string webhook;
  std::string format = "json";  // json | slack
};
int NotificationCreate(const Globals& g, const NotificationCreateOptions& o);
int NotificationLs(const Globals& g);
int NotificationSetPaused(const Globals& g, const std::string& id, bool paused);
int NotificationDelete(const Globals& g, const std::string& id);
// policy_id "" = every policy.
int NotificationDeliveries(const Globals& g, const std::string& policy_id, int limit);

}  // namespace weft::cli
