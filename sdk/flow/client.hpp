#pragma once
// weft::Client: create deployments, run them and follow their runs from C++.
//
//   #include "sdk/flow/client.hpp"
//
//   weft::Client client;                                   // WEFT_API_URL / WEFT_API_KEY
//   weft::FlowRunHandle run = client.RunDeployment(
//       "taxi_training/weekly", {{"months", 3}}, {.start_in = std::chrono::minutes(10)});
//   std::cout << run.id() << " " << run.State().name << "\n";
//   core::State last = run.Wait(std::chrono::minutes(5));  // terminal, or the state at timeout
//
// Errors are exceptions, like the rest of the user-facing SDK: a call the server refuses or
// cannot answer throws weft::ApiError (code() = the gRPC code, what() = the server's message,
// e.g. `deployment "taxi_training/nope" not found`); bad arguments caught before any call
// (an unknown time, a malformed name) throw ApiError with code kInvalidArgument. Waiting
// that runs out of time is not an error: Wait returns the state that holds.
//
// No gRPC or protobuf in this header. A Client is cheap to keep and safe to share between
// threads; handles keep their client's connection alive.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sdk/core/deployment_spec.hpp"
#include "sdk/core/error.hpp"
#include "sdk/core/state.hpp"
#include "sdk/flow/weft.hpp"

namespace weft {

class ApiError : public std::runtime_error {
 public:
  explicit ApiError(core::Error error)
      : std::runtime_error(error.message), code_(error.code) {}
  core::Code code() const { return code_; }

 private:
  core::Code code_;
};

struct ClientOptions {
  std::string api_url;  // "" = WEFT_API_URL, else 127.0.0.1:4201 (host:port, http://, unix:)
  std::string api_key;  // "" = WEFT_API_KEY
  double timeout_seconds = 10;  // per call
};

// Where a deployment's code bundle is: already uploaded to a storage (the CLI's
// `weft deployment create` packs and uploads; this client does not).
struct BundleRef {
  std::string storage;  // "" = the server's default storage
  std::string digest;   // "sha256:<hex>"
  std::int64_t size = 0;
};

struct DeploymentInfo {
  std::string id;
  std::string full_name;  // "flow/name"
  core::DeploymentSpec spec;
  BundleRef bundle;
  bool paused = false;
  std::string schedule_description;  // "cron 0 6 * * 1 (Europe/Berlin)"
  std::optional<core::TimePoint> created;
  std::optional<core::TimePoint> updated;
};

struct CreateDeploymentResult {
  DeploymentInfo deployment;
  bool created = false;   // false: an existing deployment (same flow/name) was updated
  int replaced_runs = 0;  // future auto-scheduled runs the update removed
};

struct FlowRunInfo {
  std::string id;
  std::string name;  // "amber-otter-42"
  std::string flow_name;
  std::string deployment_id;    // "" when not made from a deployment
  std::string deployment_name;  // "flow/name"
  bool auto_scheduled = false;  // created by the scheduler or a backfill
  std::string work_queue;
  core::State state;
  std::string parameters_json;  // JSON object
  std::vector<std::string> tags;
  int run_count = 0;
  std::optional<core::TimePoint> expected_start_time;
  std::optional<core::TimePoint> start_time;
  std::optional<core::TimePoint> end_time;
  std::optional<core::TimePoint> created;
};

// Options of RunDeployment (designated initializers in this order). start_in and start_at
// are exclusive; neither = now.
struct RunDeploymentOptions {
  std::chrono::duration<double> start_in{0};
  std::optional<core::TimePoint> start_at{};
  std::vector<std::string> tags{};    // added to the deployment's tags
  std::string idempotency_key{};      // the same key returns the same run
};

struct FlowRunFilter {
  std::string deployment{};                  // "flow/name" or a deployment id
  std::string flow_name{};
  std::vector<core::StateType> state_types{};  // any of these
  std::vector<std::string> state_names{};      // any of these ("Late", "Scheduled")
  int limit = 100;                              // at most 1000
  bool oldest_first = false;                    // by expected start time, ascending
};

namespace detail {
struct ClientImpl;
}

// A flow run created through the client: its id and fresh looks at it.
class FlowRunHandle {
 public:
  const std::string& id() const { return id_; }
  // True when RunDeployment made a new run (false: the idempotency key matched one).
  bool created() const { return created_; }
  // The run as the server has it now.
  FlowRunInfo Get() const;
  // The run's current state, fresh from the server.
  core::State State() const;
  // Polls (0.2 s, growing by half each time up to 5 s) until the run is in a terminal state
  // or `timeout` has passed; returns the last state seen. Until an agent serves the run's
  // work queue, the run simply stays Scheduled.
  core::State Wait(std::chrono::duration<double> timeout) const;

 private:
  friend class Client;
  FlowRunHandle(std::shared_ptr<detail::ClientImpl> impl, std::string id, bool created)
      : impl_(std::move(impl)), id_(std::move(id)), created_(created) {}
  std::shared_ptr<detail::ClientImpl> impl_;
  std::string id_;
  bool created_ = false;
};

class Client {
 public:
  Client();  // from the environment
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = default;
  Client& operator=(const Client&) = default;

  const std::string& address() const;

  // Creates or updates (same flow/name) a deployment. The spec is checked first
  // (core::ValidateDeploymentSpec, errors name "deployment flow/name" and the field).
  CreateDeploymentResult CreateDeployment(const core::DeploymentSpec& spec,
                                          const BundleRef& bundle = {});
  DeploymentInfo GetDeployment(const std::string& full_name_or_id);
  std::vector<DeploymentInfo> ListDeployments(const std::string& flow_name = "");

  // A manual run of deployment "flow/name" with these parameters on top of the
  // deployment's; the server checks them against the flow's declared parameters.
  FlowRunHandle RunDeployment(const std::string& full_name, const ParamMap& params = {},
                              const RunDeploymentOptions& options = {});
  // The next scheduled runs of a deployment, soonest first.
  std::vector<FlowRunInfo> UpcomingRuns(const std::string& full_name, int limit = 10);

  FlowRunInfo GetFlowRun(const std::string& id);
  FlowRunHandle FlowRun(const std::string& id);  // a handle to an existing run (checked)
  std::vector<FlowRunInfo> ListFlowRuns(const FlowRunFilter& filter = {});

 private:
  std::shared_ptr<detail::ClientImpl> impl_;
};

}  // namespace weft
