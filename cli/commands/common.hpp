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
// A run's whole state history, oldest first, read a page at a time.
core::Result<v1::ListFlowRunStatesResponse> FlowRunHistory(client::Client& c,
                                                           const std::string& flow_run_id);
core::Result<v1::ListTaskRunStatesResponse> TaskRunHistory(client::Client& c,
                                                           const std::string& task_run_id);

// Commands. Each returns the process exit code.
int FlowLs(const Globals& g, int limit);
struct FlowRunLsOptions {
  std::string flow;
  std::string deployment;           // "flow/name" or an id
  std::vector<std::string> states;  // types or names
  int limit = 20;
  std::string parent;  // only the subflow runs of this flow run
};
int FlowRunLs(const Globals& g, const FlowRunLsOptions& o);
int FlowRunInspect(const Globals& g, const std::string& id);
int TaskRunLs(const Globals& g, const std::string& flow_run_id, int limit);
int TaskRunInspect(const Globals& g, const std::string& id);
int TaskRunResult(const Globals& g, const std::string& id);
int OrchestrationRules(const Globals& g);
int ConfigView(const Globals& g);
int Version(const Globals& g);

struct StorageCreateOptions {
  std::string kind;  // local | server | s3
  std::string name;
  std::string path;                              // local
  std::string endpoint, bucket, region, prefix;  // s3
  bool make_default = false;
};
int StorageCreate(const Globals& g, const StorageCreateOptions& o);
int StorageLs(const Globals& g);
int StorageInspect(const Globals& g, const std::string& name);
int StorageSetDefault(const Globals& g, const std::string& name);
int StorageDelete(const Globals& g, const std::string& name);

// FILE is a deploy.yaml (one spec, a list, or `deployments: [...]`) or a flow program that
// prints its specs with --weft-describe.
int DeploymentCreate(const Globals& g, const std::string& file, bool dry_run);
int DeploymentLs(const Globals& g, const std::string& flow);
int DeploymentInspect(const Globals& g, const std::string& name);
struct DeploymentRunOptions {
  std::string name;                 // FLOW/NAME
  std::vector<std::string> params;  // NAME=VALUE
  std::string start_in;             // "10m"
  std::string start_at;             // RFC 3339
  std::vector<std::string> tags;
};
int DeploymentRun(const Globals& g, const DeploymentRunOptions& o);
int DeploymentSetPaused(const Globals& g, const std::string& name, bool paused);
int DeploymentDelete(const Globals& g, const std::string& name);
int DeploymentUpcoming(const Globals& g, const std::string& name, int limit);
int DeploymentBackfill(const Globals& g, const std::string& name, const std::string& from,
                       const std::string& to);

// Replaces this process with weft-server (found beside weft, then on PATH).
int ServerStart(const std::vector<std::string>& server_args);

}  // namespace weft::cli
