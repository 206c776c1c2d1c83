#include "server/orchestration/work_queue_manager.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "sdk/core/field_limits.hpp"
#include "sdk/core/names.hpp"
#include "sdk/core/bounds.hpp"
#include "server/orchestration/storage_catalog.hpp"
#include "server/store/flow_run_repo.hpp"

namespace weft::server::orchestration {

namespace {

core::Error QueueNotFound(const std::string& name) {
  return core::NotFound("work queue \"" + name + "\" not found (run `weft work-queue ls`)");
}

std::string CheckList(const std::vector<std::string>& items, const std::string& field,
                      bool (*ok)(const std::string&), const std::string& expected) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!ok(items[i])) {
      return field + "[" + std::to_string(i) + "]: " + expected + ", got " +
             core::QuoteName(items[i]);
    }
  }
  return {};
}

bool NonEmpty(const std::string& s) { return !s.empty(); }
bool IsFullName(const std::string& s) {
  auto slash = s.find('/');
  return slash != std::string::npos && core::IsValidName(std::string_view(s).substr(0, slash)) &&
         core::IsValidName(std::string_view(s).substr(slash + 1));
}
bool IsRunnerType(const std::string& s) {
  return s == "process" || s == "docker" || s == "kubernetes";
}

void Dedup(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

std::string CheckWorkQueue(const store::WorkQueueRecord& q) {
  if (auto p = core::NameProblem(q.name); !p.empty()) return "name: " + p;
  if (auto p = CheckList(q.tags, "filter.tags", NonEmpty, "must not be empty"); !p.empty()) {
    return p;
  }
  if (auto p = CheckList(q.deployments, "filter.deployments", IsFullName,
                         "must be a deployment's full name \"flow/name\"");
      !p.empty()) {
    return p;
  }
  if (auto p = CheckList(q.runner_types, "filter.runner_types", IsRunnerType,
                         "must be process, docker or kubernetes");
      !p.empty()) {
    return p;
  }
  if (q.concurrency_limit && *q.concurrency_limit < 0) {
    return "concurrency_limit: must be >= 0, got " + std::to_string(*q.concurrency_limit);
  }
  if (auto st = core::CheckTextLength(q.description, "description", core::kMaxDescriptionBytes);
      !st.ok()) {
    return st.error().message;
  }
  if (auto st = core::CheckTags(q.tags, "filter.tags"); !st.ok()) return st.error().message;
  if (q.deployments.size() > core::kMaxTags) {
    return "filter.deployments: " + std::to_string(q.deployments.size()) +
           " deployments, more than the limit of " + std::to_string(core::kMaxTags);
  }
  return {};
}

std::string WorkQueueCursor(const store::WorkQueueRecord& q) {
  return std::to_string(q.priority) + "|" + q.name;
}

WorkQueueManager::WorkQueueManager(store::Database& db, const core::Clock& clock,
                                   std::shared_ptr<spdlog::logger> logger)
    : db_(db), clock_(clock), logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
}

core::Result<store::WorkQueueRecord> WorkQueueManager::Create(store::WorkQueueRecord q) {
  if (auto p = CheckWorkQueue(q); !p.empty()) return core::InvalidArgument(p);
  Dedup(q.tags);
  Dedup(q.deployments);
  Dedup(q.runner_types);
  auto r = db_.WithRetry([&](store::Tx& tx) -> core::Result<store::WorkQueueRecord> {
    auto rec = store::WorkQueueRepo::Insert(tx, q);
    if (!rec) return core::AlreadyExists("work queue \"" + q.name + "\" already exists");
    return std::move(*rec);
  });
  if (r.ok()) logger_->info("work queue created name={}", r->name);
  return r;
}

core::Result<store::WorkQueueRecord> WorkQueueManager::Get(const std::string& name) {
  return db_.WithTransaction([&](store::Tx& tx) -> core::Result<store::WorkQueueRecord> {
    auto rec = store::WorkQueueRepo::GetByName(tx, name);
    if (!rec) return QueueNotFound(name);
    return std::move(*rec);
  });
}

core::Result<std::vector<store::WorkQueueRecord>> WorkQueueManager::List(const std::string& cursor,
                                                                         int limit) {
  int after_priority = 0;
  std::string after_name;
  if (!cursor.empty()) {
    auto bar = cursor.find('|');
    if (bar == std::string::npos || bar + 1 >= cursor.size()) {
      return core::InvalidArgument("page.cursor: malformed (use a next_cursor as given)");
    }
    try {
      after_priority = std::stoi(cursor.substr(0, bar));
    } catch (...) {
      return core::InvalidArgument("page.cursor: malformed (use a next_cursor as given)");
    }
    after_name = cursor.substr(bar + 1);
  }
  return db_.WithTransaction(
      [&](store::Tx& tx) -> core::Result<std::vector<store::WorkQueueRecord>> {
        return store::WorkQueueRepo::List(tx, after_priority, after_name, limit);
      });
}

core::Result<store::WorkQueueRecord> WorkQueueManager::Update(const std::string& name,
                                                              const WorkQueueUpdate& u) {
  if (u.clear_concurrency_limit && u.concurrency_limit) {
    return core::InvalidArgument(
        "clear_concurrency_limit: cannot be combined with concurrency_limit");
  }
  auto r = db_.WithRetry([&](store::Tx& tx) -> core::Result<store::WorkQueueRecord> {
    auto rec = store::WorkQueueRepo::LockByName(tx, name);
    if (!rec) return QueueNotFound(name);
    store::WorkQueueRecord q = *rec;
    if (u.description) q.description = *u.description;
    if (u.paused) q.paused = *u.paused;
    if (u.concurrency_limit) q.concurrency_limit = *u.concurrency_limit;
    if (u.clear_concurrency_limit) q.concurrency_limit.reset();
    if (u.priority) q.priority = *u.priority;
    if (u.set_filter) {
      q.tags = u.tags;
      q.deployments = u.deployments;
      q.runner_types = u.runner_types;
    }
    if (auto p = CheckWorkQueue(q); !p.empty()) return core::InvalidArgument(p);
    Dedup(q.tags);
    Dedup(q.deployments);
    Dedup(q.runner_types);
    return store::WorkQueueRepo::Update(tx, q);
  });
  if (r.ok()) {
    logger_->info("work queue updated name={} paused={} limit={} priority={}", r->name, r->paused,
                  r->concurrency_limit ? std::to_string(*r->concurrency_limit) : "none",
                  r->priority);
  }
  return r;
}

core::Status WorkQueueManager::Delete(const std::string& name) {
  if (name == "default") {
    return core::FailedPrecondition("work queue \"default\" cannot be deleted");
  }
  auto r = db_.WithRetry([&](store::Tx& tx) -> core::Status {
    if (!store::WorkQueueRepo::Delete(tx, name)) return QueueNotFound(name);
    return {};
  });
  if (r.ok()) logger_->info("work queue deleted name={}", name);
  return r;
}

core::Result<WorkQueuePreview> WorkQueueManager::Preview(const std::string& name, double hours,
                                                         int limit) {
  if (!std::isfinite(hours) || hours < 0) {
    return core::InvalidArgument("hours: must be > 0, got " + std::to_string(hours));
  }
  if (hours > core::bounds::kMaxPreviewHours) {
    return core::InvalidArgument(
        "hours: must be at most " +
        std::to_string(static_cast<int>(core::bounds::kMaxPreviewHours)) + " (one week), got " +
        fmt::format("{:g}", hours));
  }
  if (hours == 0) hours = kDefaultPreviewHours;
  const core::TimePoint until =
      clock_.Now() + std::chrono::duration_cast<core::TimePoint::duration>(
                         std::chrono::duration<double>(hours * 3600.0));
  return db_.WithTransaction([&](store::Tx& tx) -> core::Result<WorkQueuePreview> {
    auto rec = store::WorkQueueRepo::GetByName(tx, name);
    if (!rec) return QueueNotFound(name);
    WorkQueuePreview out;
    out.queue = *rec;
    for (const auto& id : store::WorkQueueRepo::DueRunIds(tx, *rec, until, limit)) {
      if (auto run = store::FlowRunRepo::Get(tx, id)) out.runs.push_back(std::move(*run));
    }
    out.total = store::WorkQueueRepo::CountDue(tx, *rec, until);
    out.active_runs = store::WorkQueueRepo::CountActive(tx, *rec);
    if (rec->paused) {
      out.held_back = out.total;
    } else if (rec->concurrency_limit) {
      int open = std::max(0, *rec->concurrency_limit - out.active_runs);
      out.held_back = std::max(0, out.total - open);
    }
    return out;
  });
}

}  // namespace weft::server::orchestration
