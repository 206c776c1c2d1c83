#pragma once
// weft work-queue create|ls|inspect|preview|pause|resume|set-concurrency-limit|
// clear-concurrency-limit|delete
#include <optional>
#include <string>
#include <vector>

#include "cli/commands/common.hpp"

namespace weft::cli {

struct WorkQueueCreateOptions {
  std::string name;
  std::vector<std::string> tags;
  std::vector<std::string> deployments;   // FLOW/NAME
  std::vector<std::string> runner_types;  // process | docker | kubernetes
  std::optional<int> concurrency_limit;
  int priority = 0;
  std::string description;
};
int WorkQueueCreate(const Globals& g, const WorkQueueCreateOptions& o);
int WorkQueueLs(const Globals& g);
int WorkQueueInspect(const Globals& g, const std::string& name);
// hours <= 0 -> the server's default (24).
int WorkQueuePreview(const Globals& g, const std::string& name, double hours, int limit);
int WorkQueueSetPaused(const Globals& g, const std::string& name, bool paused);
// nullopt clears the limit.
int WorkQueueSetConcurrencyLimit(const Globals& g, const std::string& name,
                                 std::optional<int> limit);
int WorkQueueDelete(const Globals& g, const std::string& name);

}  // namespace weft::cli
