#pragma once
// What every command shares: global options, error printing, formatting helpers.
#include <string>
#include <vector>

#include "sdk/client/client.hpp"
#include "sdk/core/error.hpp"

namespace weft::cli {

enum class Format { kTable, kJson };

struct Globals {
  client::ClientOptions api;
  Format format = Format::kTable;
};

// Prints "error: <message>" to stderr; returns the exit code (1).
int Fail(const core::Error& error);
int Fail(const std::string& message);

// "2026-11-26 04:52:01" (UTC) or "" for an unset timestamp.
std::string ShortTime(const google::protobuf::Timestamp& t);
// "Completed", "AwaitingRetry (in 3s)".
std::string StateLabel(const v1::State& s);
std::string Join(const std::vector<std::string>& parts, const std::string& sep);

// Commands. Each returns the process exit code.
int FlowLs(const Globals& g, int limit);
struct FlowRunLsOptions {
  std::string flow;
  std::vector<std::string> states;  // types or names
  int limit = 20;
};
int FlowRunLs(const Globals& g, const FlowRunLsOptions& o);
int FlowRunInspect(const Globals& g, const std::string& id);
int TaskRunLs(const Globals& g, const std::string& flow_run_id, int limit);
int TaskRunInspect(const Globals& g, const std::string& id);
int OrchestrationRules(const Globals& g);
int ConfigView(const Globals& g);
int Version(const Globals& g);
// Replaces this process with weft-server (found beside weft, then on PATH).
int ServerStart(const std::vector<std::string>& server_args);

}  // namespace weft::cli
