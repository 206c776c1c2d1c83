#pragma once
// weft agent start|ls and weft flow-run cancel.
#include <string>
#include <vector>

#include "cli/commands/common.hpp"

namespace weft::cli {

// Agents seen in the last hour, most recent first; `queue` "" = any.
int AgentLs(const Globals& g, const std::string& queue);
// Replaces this process with weft-agent (beside weft, then the build tree's
// ../agent/weft-agent, then PATH), passing `agent_args` unchanged.
int AgentStart(const std::vector<std::string>& agent_args);
// A scheduled run is Cancelled at once; a running one becomes Cancelling and its agent
// stops it.
int FlowRunCancel(const Globals& g, const std::string& id, const std::string& message);
// weft flow-run resume ID: a Paused run -> Running (its pause_flow_run call returns).
int FlowRunResume(const Globals& g, const std::string& id);
// Waits until the run is terminal (prints each state it passes); exit 0 when Completed, 1
// otherwise or on timeout.
int FlowRunWait(const Globals& g, const std::string& id, double timeout_seconds);

}  // namespace weft::cli
