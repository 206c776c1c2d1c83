#include <spdlog/spdlog.h>

#include "sdk/client/convert.hpp"
#include "server/api/convert.hpp"
#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/work_queues.grpc.pb.h"

namespace weft::server::api {

namespace {

std::vector<std::string> ToVector(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return {items.begin(), items.end()};
}

v1::WorkQueue ToProto(const store::WorkQueueRecord& q) {
  v1::WorkQueue p;
  p.set_id(q.id);
  p.set_name(q.name);
  p.set_description(q.description);
  auto* f = p.mutable_filter();
  for (const auto& t : q.tags) f->add_tags(t);
  for (const auto& d : q.deployments) f->add_deployments(d);
  for (const auto& r : q.runner_types) f->add_runner_types(r);
  if (q.concurrency_limit) p.set_concurrency_limit(*q.concurrency_limit);
  p.set_priority(q.priority);
  p.set_paused(q.paused);
  *p.mutable_created() = client::ToProto(q.created);
  *p.mutable_updated() = client::ToProto(q.updated);
  return p;
}

class WorkQueueServiceImpl final : public v1::WorkQueueService::Service {
 public:
  WorkQueueServiceImpl(orchestration::WorkQueueManager& queues, ScopeGuard scope,
                       std::shared_ptr<spdlog::logger> logger)
      : queues_(queues), scope_(scope), logger_(std::move(logger)) {}

  grpc::Status CreateWorkQueue(grpc::ServerContext*, const v1::CreateWorkQueueRequest* req,
                               v1::CreateWorkQueueResponse* resp) override {
    store::WorkQueueRecord q;
    q.name = req->name();
    q.description = req->description();
    q.tags = ToVector(req->filter().tags());
    q.deployments = ToVector(req->filter().deployments());
    q.runner_types = ToVector(req->filter().runner_types());
    if (req->has_concurrency_limit()) q.concurrency_limit = req->concurrency_limit();
    q.priority = req->priority();
    q.paused = req->paused();
    auto r = queues_.Create(std::move(q));
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_work_queue() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status GetWorkQueue(grpc::ServerContext* ctx, const v1::GetWorkQueueRequest* req,
                            v1::GetWorkQueueResponse* resp) override {
    if (req->name().empty()) return Invalid("name: must not be empty");
    // An agent key limited to work queues reads only those (a misconfigured agent fails at
    // start, when it checks its queues).
    if (auto denied = scope_.WorkQueue(*ctx, "name", req->name())) return *denied;
    auto r = queues_.Get(req->name());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_work_queue() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ListWorkQueues(grpc::ServerContext*, const v1::ListWorkQueuesRequest* req,
                              v1::ListWorkQueuesResponse* resp) override {
    auto limit = PageLimit(req->page());
    if (!limit) return Invalid("page.limit: must be >= 0");
    auto r = queues_.List(req->page().cursor(), *limit + 1);
    if (!r.ok()) return ToGrpc(r.error());
    bool more = static_cast<int>(r->size()) > *limit;
    if (more) r->resize(*limit);
    for (const auto& q : *r) *resp->add_work_queues() = ToProto(q);
    if (more && !r->empty()) {
      resp->mutable_page()->set_next_cursor(orchestration::WorkQueueCursor(r->back()));
    }
    return grpc::Status::OK;
  }

  grpc::Status UpdateWorkQueue(grpc::ServerContext*, const v1::UpdateWorkQueueRequest* req,
                               v1::UpdateWorkQueueResponse* resp) override {
    if (req->name().empty()) return Invalid("name: must not be empty");
    orchestration::WorkQueueUpdate u;
    if (req->has_description()) u.description = req->description();
    if (req->has_paused()) u.paused = req->paused();
    if (req->has_concurrency_limit()) u.concurrency_limit = req->concurrency_limit();
    u.clear_concurrency_limit = req->clear_concurrency_limit();
    if (req->has_priority()) u.priority = req->priority();
    u.set_filter = req->set_filter();
    u.tags = ToVector(req->filter().tags());
    u.deployments = ToVector(req->filter().deployments());
    u.runner_types = ToVector(req->filter().runner_types());
    auto r = queues_.Update(req->name(), u);
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_work_queue() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status DeleteWorkQueue(grpc::ServerContext*, const v1::DeleteWorkQueueRequest* req,
                               v1::DeleteWorkQueueResponse*) override {
    if (req->name().empty()) return Invalid("name: must not be empty");
    auto r = queues_.Delete(req->name());
    if (!r.ok()) return ToGrpc(r.error());
    return grpc::Status::OK;
  }

  grpc::Status PreviewWorkQueue(grpc::ServerContext*, const v1::PreviewWorkQueueRequest* req,
                                v1::PreviewWorkQueueResponse* resp) override {
    if (req->name().empty()) return Invalid("name: must not be empty");
    if (req->limit() < 0) return Invalid("limit: must be >= 0");
    int limit = req->limit() == 0 ? 100 : std::min(req->limit(), 1000);
    auto r = queues_.Preview(req->name(), req->hours(), limit);
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_work_queue() = ToProto(r->queue);
    for (const auto& run : r->runs) *resp->add_runs() = api::ToProto(run);
    resp->set_total(r->total);
    resp->set_active_runs(r->active_runs);
    resp->set_held_back(r->held_back);
    return grpc::Status::OK;
  }

 private:
  orchestration::WorkQueueManager& queues_;
  ScopeGuard scope_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeWorkQueueService(orchestration::WorkQueueManager& queues,
                                                    ScopeGuard scope,
                                                    std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<WorkQueueServiceImpl>(queues, scope, std::move(logger));
}

}  // namespace weft::server::api
