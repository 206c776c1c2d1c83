// LogService: WriteLogs / ListLogs (thin: convert, delegate to orchestration::LogService).
#include <spdlog/spdlog.h>

#include "sdk/client/convert.hpp"
#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/logs.grpc.pb.h"

namespace weft::server::api {

namespace {

v1::LogLine ToProto(const store::LogRecord& l) {
  v1::LogLine p;
  p.set_id(l.id);
  p.set_flow_run_id(l.flow_run_id);
  p.set_task_run_id(l.task_run_id);
  p.set_task_run_name(l.task_run_name);
  p.set_level(static_cast<v1::LogLevel>(l.level));
  p.set_message(l.message);
  *p.mutable_timestamp() = client::ToProto(l.timestamp);
  p.set_source(l.source);
  return p;
}

class LogServiceImpl final : public v1::LogService::Service {
 public:
  LogServiceImpl(orchestration::LogService& logs, ScopeGuard scope,
                 std::shared_ptr<spdlog::logger> logger)
      : logs_(logs), scope_(scope), logger_(std::move(logger)) {}

  grpc::Status WriteLogs(grpc::ServerContext* ctx, const v1::WriteLogsRequest* req,
                         v1::WriteLogsResponse* resp) override {
    // Refuse oversized batches before copying them.
    if (static_cast<std::size_t>(req->lines_size()) > logs_.limits().max_batch_lines) {
      return Invalid(
          "lines: " + std::to_string(req->lines_size()) + " lines in one batch; the limit is " +
          std::to_string(logs_.limits().max_batch_lines) + " per batch (split the batch)");
    }
    // Every line's flow run must be the caller's. (A line's task_run_id only labels it: it is
    // listed under its own flow run, so it needs no check.)
    if (auto denied = scope_.Allow(*ctx, [&](auth::RunScope& s, const auth::Identity& who) {
          std::vector<auth::RunRef> runs;
          runs.reserve(static_cast<std::size_t>(req->lines_size()));
          for (int i = 0; i < req->lines_size(); ++i) {
            runs.push_back({"lines[" + std::to_string(i) + "].flow_run_id",
                            req->lines(i).flow_run_id()});
          }
          return s.CheckFlowRuns(who, runs);
        })) {
      return *denied;
    }
    std::vector<store::LogRecord> lines;
    lines.reserve(static_cast<std::size_t>(req->lines_size()));
    for (const auto& p : req->lines()) {
      store::LogRecord l;
      l.flow_run_id = p.flow_run_id();
      l.task_run_id = p.task_run_id();
      l.task_run_name = p.task_run_name();
      l.level = static_cast<int>(p.level());
      l.message = p.message();
      if (p.has_timestamp()) l.timestamp = client::FromProto(p.timestamp());
      l.source = p.source();
      lines.push_back(std::move(l));
    }
    auto r = logs_.Write(std::move(lines));
    if (!r.ok()) return ToGrpc(r.error());
    resp->set_written(r->written);
    resp->set_cut(r->cut);
    return grpc::Status::OK;
  }

  grpc::Status ListLogs(grpc::ServerContext* ctx, const v1::ListLogsRequest* req,
                        v1::ListLogsResponse* resp) override {
    if (auto denied = scope_.Allow(*ctx, [&](auth::RunScope& s, const auth::Identity& who) {
          if (auto st = s.CheckFlowRun(who, "flow_run_id", req->flow_run_id()); !st.ok()) return st;
          return s.CheckTaskRun(who, "task_run_id", req->task_run_id());
        })) {
      return *denied;
    }
    store::LogQuery q;
    q.flow_run_id = req->flow_run_id();
    q.task_run_id = req->task_run_id();
    q.task_name = req->task_name();
    q.min_level = static_cast<int>(req->min_level());
    q.after_id = req->after_id();
    q.limit = req->limit();
    auto r = logs_.List(std::move(q));
    if (!r.ok()) return ToGrpc(r.error());
    for (const auto& l : r->lines) *resp->add_lines() = ToProto(l);
    resp->set_next_after_id(r->next_after_id);
    resp->set_more(r->more);
    return grpc::Status::OK;
  }

 private:
  orchestration::LogService& logs_;
  ScopeGuard scope_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeLogService(orchestration::LogService& logs, ScopeGuard scope,
                                              std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<LogServiceImpl>(logs, scope, std::move(logger));
}

}  // namespace weft::server::api
