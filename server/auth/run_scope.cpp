#include "server/auth/run_scope.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "server/store/flow_run_repo.hpp"
#include "server/store/task_run_repo.hpp"

namespace weft::server::auth {

namespace {

// 8-4-4-4-12 hexadecimal digits: anything else names no run (the handler answers for it).
bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// PostgreSQL prints uuids in lower case.
std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

core::Error Denied(std::string message) {
  return core::Error{core::Code::kPermissionDenied, std::move(message)};
}

// "a run token of flow run X" / "key "g" (limited to the work queues etl, ml)".
std::string Describe(const Identity& who) {
  if (who.scope == Scope::kRun) return "a run token of flow run " + Lower(who.flow_run_id);
  std::string queues;
  for (const auto& q : who.work_queues) queues += (queues.empty() ? "" : ", ") + q;
  return "key \"" + who.name + "\" (limited to the work queues " + queues + ")";
}

// A bounded map of facts that never change. Two generations: new entries go to the young
// one; when it is full (half the capacity) it becomes the old one and the previous old one
// is dropped; a hit in the old generation moves the entry back to the young one. So the
// entries in use stay and the cache never holds more than `capacity`.
template <typename V>
class FactCache {
 public:
  explicit FactCache(std::size_t capacity) : half_(std::max<std::size_t>(capacity / 2, 1)) {}

  std::optional<V> Find(const std::string& key) {
    if (auto it = young_.find(key); it != young_.end()) return it->second;
    auto it = old_.find(key);
    if (it == old_.end()) return std::nullopt;
    V value = std::move(it->second);
    old_.erase(it);
    Put(key, value);
    return value;
  }

  void Put(const std::string& key, V value) {
    if (young_.size() >= half_ && !young_.count(key)) {
      old_ = std::move(young_);
      young_ = {};
    }
    young_.insert_or_assign(key, std::move(value));
  }

 private:
  std::size_t half_;
  std::unordered_map<std::string, V> young_;
  std::unordered_map<std::string, V> old_;
};

// A flow run and its ancestors, nearest first, with the run's work queue.
struct Lineage {
  std::vector<std::string> chain;
  std::string work_queue;
};

}  // namespace

struct RunScope::Impl {
  Impl(store::Database& d, RunScopeOptions o)
      : db(d), options(o), lineages(o.cache_entries), flow_run_of_task(o.cache_entries) {}

  // The lineage of an existing run (`id` normalized); nullptr when the run does not exist.
  core::Result<std::shared_ptr<const Lineage>> LineageOf(const std::string& id) {
    {
      std::lock_guard lock(mu);
      if (auto hit = lineages.Find(id)) {
        ++stats.lineage_hits;
        return *hit;
      }
      ++stats.lineage_misses;
    }
    auto rows = db.WithTransaction(
        [&](store::Tx& tx) -> core::Result<std::vector<store::LineageRow>> {
          return store::FlowRunRepo::Lineage(tx, id, options.max_depth);
        });
    if (!rows.ok()) return rows.error();
    if (rows->empty()) return std::shared_ptr<const Lineage>();
    auto lineage = std::make_shared<Lineage>();
    lineage->work_queue = rows->front().work_queue;
    for (auto& r : *rows) lineage->chain.push_back(std::move(r.id));
    std::shared_ptr<const Lineage> out = std::move(lineage);
    std::lock_guard lock(mu);
    lineages.Put(id, out);
    return out;
  }

  // The flow run of each existing task run among `ids` (normalized).
  core::Result<std::unordered_map<std::string, std::string>> FlowRunsOf(
      const std::vector<std::string>& ids) {
    std::unordered_map<std::string, std::string> out;
    std::vector<std::string> misses;
    {
      std::lock_guard lock(mu);
      for (const auto& id : ids) {
        if (out.count(id)) continue;
        if (auto hit = flow_run_of_task.Find(id)) {
          ++stats.task_hits;
          out.emplace(id, std::move(*hit));
        } else if (std::find(misses.begin(), misses.end(), id) == misses.end()) {
          ++stats.task_misses;
          misses.push_back(id);
        }
      }
    }
    if (misses.empty()) return out;
    auto found = db.WithTransaction(
        [&](store::Tx& tx) -> core::Result<std::vector<std::pair<std::string, std::string>>> {
          return store::TaskRunRepo::FlowRunsOf(tx, misses);
        });
    if (!found.ok()) return found.error();
    std::lock_guard lock(mu);
    for (auto& [task, flow] : *found) {
      flow_run_of_task.Put(task, flow);
      out.emplace(std::move(task), std::move(flow));
    }
    return out;
  }

  // Whether `who` may act on the run with this lineage; `what` names it in the message.
  static core::Status Judge(const Identity& who, std::string_view field, const std::string& what,
                            const Lineage& lineage) {
    if (who.scope == Scope::kRun) {
      std::string own = Lower(who.flow_run_id);
      if (std::find(lineage.chain.begin(), lineage.chain.end(), own) != lineage.chain.end()) {
        return {};
      }
      return Denied(std::string(field) + ": " + Describe(who) + " may not touch " + what);
    }
    if (who.MayServeQueue(lineage.work_queue)) return {};
    return Denied(std::string(field) + ": " + Describe(who) + " may not touch " + what +
                  " of work queue \"" + lineage.work_queue + "\"");
  }

  // A flow run named directly (`id` normalized).
  core::Status CheckFlowRun(const Identity& who, std::string_view field, const std::string& id,
                            const std::string& what) {
    if (who.scope == Scope::kRun && id == Lower(who.flow_run_id)) return {};
    auto lineage = LineageOf(id);
    if (!lineage.ok()) return lineage.error();
    if (!*lineage) return {};  // no such run: the handler answers NOT_FOUND
    return Judge(who, field, what, **lineage);
  }

  store::Database& db;
  RunScopeOptions options;
  std::mutex mu;
  FactCache<std::shared_ptr<const Lineage>> lineages;
  FactCache<std::string> flow_run_of_task;
  Stats stats;
};

RunScope::RunScope(store::Database& db, RunScopeOptions options)
    : impl_(std::make_unique<Impl>(db, options)) {}

RunScope::~RunScope() = default;

bool RunScope::Limits(const Identity& who) {
  if (who.scope == Scope::kRun) return true;
  return who.scope == Scope::kAgent && !who.work_queues.empty();
}

core::Status RunScope::CheckFlowRun(const Identity& who, std::string_view field,
                                    const std::string& id) {
  if (!Limits(who) || !IsUuid(id)) return {};
  std::string run = Lower(id);
  return impl_->CheckFlowRun(who, field, run, "flow run " + run);
}

core::Status RunScope::CheckFlowRuns(const Identity& who, const std::vector<RunRef>& runs) {
  if (!Limits(who)) return {};
  std::map<std::string, bool> checked;  // one check per distinct run
  for (const auto& ref : runs) {
    if (!IsUuid(ref.id)) continue;
    std::string run = Lower(ref.id);
    if (checked.count(run)) continue;
    if (auto st = impl_->CheckFlowRun(who, ref.field, run, "flow run " + run); !st.ok()) return st;
    checked.emplace(run, true);
  }
  return {};
}

core::Status RunScope::CheckTaskRun(const Identity& who, std::string_view field,
                                    const std::string& id) {
  return CheckTaskRuns(who, {RunRef{std::string(field), id}});
}

core::Status RunScope::CheckTaskRuns(const Identity& who, const std::vector<RunRef>& runs) {
  if (!Limits(who)) return {};
  std::vector<std::string> ids;
  ids.reserve(runs.size());
  for (const auto& ref : runs) {
    if (IsUuid(ref.id)) ids.push_back(Lower(ref.id));
  }
  if (ids.empty()) return {};
  auto flow_runs = impl_->FlowRunsOf(ids);
  if (!flow_runs.ok()) return flow_runs.error();
  std::map<std::string, bool> checked;  // flow runs already allowed
  for (const auto& ref : runs) {
    if (!IsUuid(ref.id)) continue;
    std::string task = Lower(ref.id);
    auto it = flow_runs->find(task);
    if (it == flow_runs->end()) continue;  // no such task run: the handler answers
    if (checked.count(it->second)) continue;
    if (auto st = impl_->CheckFlowRun(who, ref.field, it->second, "task run " + task); !st.ok()) {
      return st;
    }
    checked.emplace(it->second, true);
  }
  return {};
}

core::Status RunScope::CheckNewFlowRun(const Identity& who,
                                       const std::string& parent_task_run_id) {
  if (!Limits(who)) return {};
  if (parent_task_run_id.empty()) {
    return Denied("parent_task_run_id: " + Describe(who) +
                  " may create only subflow runs (under a task run of its own), not top-level "
                  "runs");
  }
  return CheckTaskRun(who, "parent_task_run_id", parent_task_run_id);
}

core::Status RunScope::CheckFlowRunListing(const Identity& who,
                                           const std::string& parent_flow_run_id) {
  if (!Limits(who)) return {};
  if (parent_flow_run_id.empty()) {
    return Denied("parent_flow_run_id: " + Describe(who) +
                  " may list only the subflow runs of a flow run of its own (set "
                  "parent_flow_run_id)");
  }
  return CheckFlowRun(who, "parent_flow_run_id", parent_flow_run_id);
}

core::Status RunScope::CheckWorkQueue(const Identity& who, std::string_view field,
                                      const std::string& name) {
  if (who.scope == Scope::kRun) {
    return Denied(std::string(field) + ": " + Describe(who) + " may not touch work queue \"" +
                  name + "\"");
  }
  if (who.MayServeQueue(name)) return {};
  std::string queues;
  for (const auto& q : who.work_queues) queues += (queues.empty() ? "" : ", ") + q;
  return Denied(std::string(field) + ": key \"" + who.name + "\" may serve only the work queues " +
                queues + ", not \"" + name + "\"");
}

void RunScope::RememberTaskRuns(
    const std::vector<std::pair<std::string, std::string>>& task_runs) {
  if (task_runs.empty()) return;
  std::lock_guard lock(impl_->mu);
  for (const auto& [task, flow] : task_runs) {
    if (IsUuid(task) && IsUuid(flow)) impl_->flow_run_of_task.Put(Lower(task), Lower(flow));
  }
}

RunScope::Stats RunScope::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace weft::server::auth
