#pragma once
// Cheap aggregate reads behind the server's /metrics gauges.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sdk/core/time.hpp"
#include "server/store/database.hpp"
#include "server/store/work_queue_repo.hpp"

namespace weft::server::store {

struct StateCountRow {
  std::string state_type;
  std::string state_name;
  std::int64_t count = 0;
};

struct DueRow {
  std::int64_t count = 0;
  std::optional<core::TimePoint> oldest;  // earliest due time among them
};

// Methods throw database exceptions; Database::WithTransaction translates them.
class MetricsRepo {
 public:
  // Flow runs grouped by current state (runs without a state are left out).
  static std::vector<StateCountRow> FlowRunsByState(Tx& tx);
  // Unowned SCHEDULED runs the queue matches that are due by `now` (the claim's rule).
  static DueRow QueueDue(Tx& tx, const WorkQueueRecord& q, core::TimePoint now);
  // Webhook deliveries not yet delivered or given up.
  static std::int64_t PendingDeliveries(Tx& tx);
};

}  // namespace weft::server::store
