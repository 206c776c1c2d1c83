#pragma once
// weft flow-run logs ID / weft task-run logs ID [--follow] [--level LEVEL] [--task NAME]
// [--limit N]: "TIME | LEVEL | NAME | message" lines in order (--output json: one JSON
// object per line). --follow polls every 250 ms until the run is over and its lines drained.
#include <string>

#include "cli/commands/common.hpp"

namespace weft::cli {

struct LogsOptions {
  std::string id;  // flow run id (flow-run logs) or task run id (task-run logs)
  bool follow = false;
  std::string level;  // "" = all; debug|info|warning|error|critical
  std::string task;   // flow-run logs only: task runs named NAME or NAME-<n>
  int limit = 0;      // 0 = all
};

int FlowRunLogs(const Globals& g, const LogsOptions& o);
int TaskRunLogs(const Globals& g, const LogsOptions& o);

}  // namespace weft::cli
