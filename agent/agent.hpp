#pragma once
// The agent: a poll thread claims runs from work queues (long poll by default), a thread per
// claimed run fetches the bundle, starts it through a runner, watches it (timeout, cancel)
// and proposes its final state; a heartbeat thread renews the runs it watches and learns of
// cancellations. RPC failures are retried with exponential backoff and full jitter; the
// agent outlives server outages. Logs go to spdlog loggers agent.* on stderr.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "agent/runners/runner.hpp"
#include "agent/settings.hpp"
#include "sdk/client/client.hpp"
#include "sdk/core/state.hpp"

namespace weft::agent {

class AgentMetrics;

// Why the agent stopped a run's process (kNone: it ended by itself).
enum class StopReason { kNone, kTimeout, kCancel, kShutdown };

// The state to propose when a run's process ended and the run is not terminal yet:
// exit 0 -> Completed, exit N -> Failed, a signal -> Crashed, and the agent's own stops:
// timeout -> TimedOut, cancel -> Cancelled, shutdown -> Crashed. `timeout_seconds` is named
// in the TimedOut message. details_json carries exit_code or signal + signal_name.
core::State OutcomeFor(const ExitStatus& exit, StopReason reason, double timeout_seconds,
                       core::TimePoint now);

// Exponential backoff with full jitter: a delay drawn uniformly in
// [0, min(cap, base * 2^attempt)] using `random01` in [0, 1). Attempt 0 is the first retry.
double BackoffSeconds(int attempt, double random01, double base = 0.1, double cap = 30);

// spdlog on stderr for the agent.* loggers at `level`.
void ConfigureLogging(const std::string& level);

// A random (version 4) UUID.
std::string NewAgentId();

// Whether a claimed run's id is a UUID (8-4-4-4-12 hex digits): the agent names the run's
// directory after it, so anything else (a "/", "..") is refused before any path is built.
bool IsRunId(std::string_view id);

class Agent {
 public:
  Agent(Settings settings, client::ClientOptions options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  const std::string& id() const;
  const std::string& name() const;
  // Counters and gauges of this agent (served by MetricsServer with --metrics-port).
  AgentMetrics& metrics();

  // Checks every work queue exists (GetWorkQueue), retrying while the server is away.
  // Error message: `work queue "x" not found`.
  core::Status CheckQueues();
  // --dry-run: prints what each queue's due runs would start; claims nothing.
  core::Status DryRun(std::FILE* out);

  // Starts the poll and heartbeat threads.
  void Start();
  // First SIGTERM/SIGINT: stop claiming, cancel the waiting poll; running flows go on.
  void Drain();
  // Second signal: stop the running flows (SIGTERM to their groups, SIGKILL after the
  // grace period) and propose their final states.
  void StopRuns();
  // True when draining and every run has finished (its final state proposed).
  bool Finished() const;
  // Joins every thread (after Finished()).
  void Join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft::agent
