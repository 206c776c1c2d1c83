#pragma once
// Work queues (domain): validation, CRUD and preview. No gRPC or pqxx types.
// Matching rule: a run belongs to the queue named by its work_queue (from its deployment);
// the queue's filters (tags: all required; deployments; runner types) narrow further.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/error.hpp"
#include "sdk/core/time.hpp"
#include "server/store/database.hpp"
#include "server/store/records.hpp"
#include "server/store/work_queue_repo.hpp"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace weft::server::orchestration {

struct WorkQueueUpdate {
  std::optional<std::string> description;
  std::optional<bool> paused;
  std::optional<int> concurrency_limit;
  bool clear_concurrency_limit = false;
  std::optional<int> priority;
  bool set_filter = false;
  std::vector<std::string> tags, deployments, runner_types;
};

struct WorkQueuePreview {
  store::WorkQueueRecord queue;
  std::vector<store::FlowRunRecord> runs;
  int total = 0;
  int active_runs = 0;
  int held_back = 0;
};

class WorkQueueManager {
 public:
  static constexpr double kDefaultPreviewHours = 24;

  WorkQueueManager(store::Database& db, const core::Clock& clock,
                   std::shared_ptr<spdlog::logger> logger);

  // INVALID_ARGUMENT naming the field; ALREADY_EXISTS for a taken name.
  core::Result<store::WorkQueueRecord> Create(store::WorkQueueRecord q);
  core::Result<store::WorkQueueRecord> Get(const std::string& name);
  core::Result<std::vector<store::WorkQueueRecord>> List(const std::string& cursor, int limit);
  core::Result<store::WorkQueueRecord> Update(const std::string& name, const WorkQueueUpdate& u);
  // FAILED_PRECONDITION for "default".
  core::Status Delete(const std::string& name);
  // hours <= 0 -> 24.
  core::Result<WorkQueuePreview> Preview(const std::string& name, double hours, int limit);

 private:
  store::Database& db_;
  const core::Clock& clock_;
  std::shared_ptr<spdlog::logger> logger_;
};

// "" when valid; else the problem naming the field (name, filter.tags[i], ...).
std::string CheckWorkQueue(const store::WorkQueueRecord& q);
// "<priority>|<name>" of the last row of a page.
std::string WorkQueueCursor(const store::WorkQueueRecord& q);

}  // namespace weft::server::orchestration
