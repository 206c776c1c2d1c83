// ConcurrencyLimitService: plain synchronous handlers, except WaitForConcurrencySlot on the
// gRPC callback API (a waiting call holds no thread: ConcurrencyManager's thread finishes it).
#include "server/api/concurrency_service.hpp"

#include <spdlog/spdlog.h>

#include <mutex>

#include "sdk/client/convert.hpp"
#include "server/api/status.hpp"
#include "weft/v1/concurrency_limits.grpc.pb.h"

namespace weft::server::api {

namespace {

using orchestration::ConcurrencyManager;

v1::ConcurrencyLimit ToProto(const store::ConcurrencyLimitRecord& l) {
  v1::ConcurrencyLimit out;
  out.set_tag(l.tag);
  out.set_limit(l.limit);
  out.set_active_slots(l.active_slots);
  for (std::size_t i = 0; i < l.holders.size(); ++i) {
    const auto& h = l.holders[i];
    auto* p = out.add_holders();
    p->set_task_run_id(h.task_run_id);
    p->set_task_run_name(h.task_run_name);
    p->set_flow_run_id(h.flow_run_id);
    if (i < l.holder_flow_run_names.size()) p->set_flow_run_name(l.holder_flow_run_names[i]);
    *p->mutable_since() = client::ToProto(h.since);
  }
  *out.mutable_created() = client::ToProto(l.created);
  *out.mutable_updated() = client::ToProto(l.updated);
  return out;
}

// One WaitForConcurrencySlot call, finished exactly once through the manager's callback;
// deletes itself in OnDone.
class WaitReactor final : public grpc::ServerUnaryReactor {
 public:
  WaitReactor(ConcurrencyManager& m, v1::WaitForConcurrencySlotResponse* resp)
      : m_(m), resp_(resp) {}

  void Start(std::vector<std::string> tags, double timeout) {
    ConcurrencyManager& m = m_;  // `this` may be gone once the lock below is released
    std::uint64_t id = 0;
    bool cancel = false;
    core::Result<std::uint64_t> started = std::uint64_t{0};
    {
      std::lock_guard lock(mu_);
      started = m_.StartWait(std::move(tags), timeout,
                             [this](core::Result<orchestration::SlotWaitResult> r) {
                               { std::lock_guard wait_for_start(mu_); }
                               if (!r.ok()) {
                                 Finish(ToGrpc(r.error()));
                                 return;
                               }
                               resp_->set_available(r->available);
                               resp_->set_tag(r->tag);
                               Finish(grpc::Status::OK);
                             });
      id_ = started.ok() ? *started : 0;
      id = id_;
      started_ = true;
      cancel = cancel_seen_;
    }
    if (!started.ok()) {
      Finish(ToGrpc(started.error()));  // too many waiting already
      return;
    }
    if (id == 0) {
      resp_->set_available(false);  // shutting down: answered as timed out
      Finish(grpc::Status::OK);
      return;
    }
    if (cancel) m.CancelWait(id);
  }

  void OnCancel() override {
    ConcurrencyManager& m = m_;
    std::uint64_t id = 0;
    {
      std::lock_guard lock(mu_);
      cancel_seen_ = true;
      if (!started_) return;
      id = id_;
    }
    if (id != 0) m.CancelWait(id);  // may answer the call; touch no member afterwards
  }

  void OnDone() override { delete this; }

 private:
  ConcurrencyManager& m_;
  v1::WaitForConcurrencySlotResponse* resp_;
  std::mutex mu_;
  std::uint64_t id_ = 0;
  bool started_ = false;
  bool cancel_seen_ = false;
};

class ConcurrencyServiceImpl final
    : public v1::ConcurrencyLimitService::WithCallbackMethod_WaitForConcurrencySlot<
          v1::ConcurrencyLimitService::Service> {
 public:
  ConcurrencyServiceImpl(ConcurrencyManager& m, std::shared_ptr<spdlog::logger> logger)
      : m_(m), logger_(std::move(logger)) {}

  grpc::Status CreateConcurrencyLimit(grpc::ServerContext*,
                                      const v1::CreateConcurrencyLimitRequest* req,
                                      v1::CreateConcurrencyLimitResponse* resp) override {
    auto r = m_.Create(req->tag(), req->limit());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_limit() = ToProto(r->record);
    resp->set_created(r->created);
    return grpc::Status::OK;
  }

  grpc::Status GetConcurrencyLimit(grpc::ServerContext*, const v1::GetConcurrencyLimitRequest* req,
                                   v1::GetConcurrencyLimitResponse* resp) override {
    auto r = m_.Get(req->tag());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_limit() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ListConcurrencyLimits(grpc::ServerContext*, const v1::ListConcurrencyLimitsRequest*,
                                     v1::ListConcurrencyLimitsResponse* resp) override {
    auto r = m_.List();
    if (!r.ok()) return ToGrpc(r.error());
    for (const auto& l : *r) *resp->add_limits() = ToProto(l);
    return grpc::Status::OK;
  }

  grpc::Status ResetConcurrencyLimit(grpc::ServerContext*,
                                     const v1::ResetConcurrencyLimitRequest* req,
                                     v1::ResetConcurrencyLimitResponse* resp) override {
    auto r = m_.Reset(req->tag());
    if (!r.ok()) return ToGrpc(r.error());
    resp->set_freed(*r);
    return grpc::Status::OK;
  }

  grpc::Status DeleteConcurrencyLimit(grpc::ServerContext*,
                                      const v1::DeleteConcurrencyLimitRequest* req,
                                      v1::DeleteConcurrencyLimitResponse*) override {
    auto st = m_.Delete(req->tag());
    if (!st.ok()) return ToGrpc(st.error());
    return grpc::Status::OK;
  }

  grpc::ServerUnaryReactor* WaitForConcurrencySlot(
      grpc::CallbackServerContext* ctx, const v1::WaitForConcurrencySlotRequest* req,
      v1::WaitForConcurrencySlotResponse* resp) override {
    std::vector<std::string> tags(req->tags().begin(), req->tags().end());
    if (auto st = ConcurrencyManager::CheckWait(tags, req->timeout_seconds()); !st.ok()) {
      auto* r = ctx->DefaultReactor();
      r->Finish(ToGrpc(st.error()));
      return r;
    }
    auto* reactor = new WaitReactor(m_, resp);
    reactor->Start(std::move(tags), req->timeout_seconds());
    return reactor;
  }

 private:
  ConcurrencyManager& m_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeConcurrencyLimitService(
    orchestration::ConcurrencyManager& concurrency, std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<ConcurrencyServiceImpl>(concurrency, std::move(logger));
}

}  // namespace weft::server::api
