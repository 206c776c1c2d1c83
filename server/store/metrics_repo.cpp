#include "server/store/metrics_repo.hpp"

#include "server/store/pg_util.hpp"
#include "server/store/statements.hpp"

namespace weft::server::store {

std::vector<Statement> MetricsRepoStatements() {
  return {
      {"metrics.flow_runs_by_state",
       "SELECT state_type, state_name, count(*) AS n FROM flow_runs"
       " WHERE state_type IS NOT NULL GROUP BY state_type, state_name"},
      {"metrics.queue_due", "SELECT count(*) AS n, min(fr.state_scheduled_time) AS oldest" +
                                QueueMatchSql() + QueueDueSql() +
                                " AND fr.state_scheduled_time <= $5::timestamptz"},
      {"metrics.pending_deliveries",
       "SELECT count(*) AS n FROM notification_deliveries WHERE status = 'pending'"},
  };
}

std::vector<StateCountRow> MetricsRepo::FlowRunsByState(Tx& tx) {
  std::vector<StateCountRow> out;
  for (const auto& r : tx.raw().exec_prepared("metrics.flow_runs_by_state")) {
    out.push_back({r["state_type"].c_str(), ReadText(r["state_name"]), r["n"].as<std::int64_t>()});
  }
  return out;
}

DueRow MetricsRepo::QueueDue(Tx& tx, const WorkQueueRecord& q, core::TimePoint now) {
  auto r = tx.raw().exec_prepared1("metrics.queue_due", q.name, ArrayLiteral(q.tags),
                                   ArrayLiteral(q.deployments), ArrayLiteral(q.runner_types),
                                   TimeParam(now));
  DueRow d;
  d.count = r["n"].as<std::int64_t>();
  d.oldest = ReadTime(r["oldest"]);
  return d;
}

std::int64_t MetricsRepo::PendingDeliveries(Tx& tx) {
  return tx.raw().exec_prepared1("metrics.pending_deliveries")["n"].as<std::int64_t>();
}

}  // namespace weft::server::store
