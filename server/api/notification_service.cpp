#include "server/api/notification_service.hpp"

#include <spdlog/spdlog.h>

#include "sdk/client/convert.hpp"
#include "server/api/status.hpp"
#include "weft/v1/notifications.grpc.pb.h"

namespace weft::server::api {

namespace {

v1::NotificationPolicy ToProto(const store::NotificationPolicyRecord& p) {
  v1::NotificationPolicy out;
  out.set_id(p.id);
  for (const auto& s : p.states) out.add_states(s);
  for (const auto& t : p.tags) out.add_tags(t);
  out.set_webhook_url(p.webhook_url);
  out.set_format(p.format);
  out.set_paused(p.paused);
  *out.mutable_created() = client::ToProto(p.created);
  *out.mutable_updated() = client::ToProto(p.updated);
  return out;
}

v1::NotificationDelivery ToProto(const store::DeliveryRecord& d) {
  v1::NotificationDelivery out;
  out.set_id(d.id);
  out.set_policy_id(d.policy_id);
  out.set_flow_run_id(d.flow_run_id);
  out.set_flow_run_name(d.flow_run_name);
  out.set_flow_name(d.flow_name);
  out.set_deployment_name(d.deployment_name);
  out.set_state_type(d.state_type);
  out.set_state_name(d.state_name);
  out.set_state_message(d.state_message);
  *out.mutable_state_timestamp() = client::ToProto(d.state_timestamp);
  out.set_status(d.status);
  out.set_attempts(d.attempts);
  if (d.status == "pending") *out.mutable_next_attempt() = client::ToProto(d.next_attempt);
  out.set_last_error(d.last_error);
  out.set_last_status_code(d.last_status.value_or(0));
  *out.mutable_created() = client::ToProto(d.created);
  if (d.delivered) *out.mutable_delivered() = client::ToProto(*d.delivered);
  return out;
}

class NotificationServiceImpl final : public v1::NotificationService::Service {
 public:
  NotificationServiceImpl(orchestration::NotificationManager& n,
                          std::shared_ptr<spdlog::logger> logger)
      : n_(n), logger_(std::move(logger)) {}

  grpc::Status CreateNotification(grpc::ServerContext*, const v1::CreateNotificationRequest* req,
                                  v1::CreateNotificationResponse* resp) override {
    orchestration::NotificationSpec spec;
    spec.states.assign(req->states().begin(), req->states().end());
    spec.tags.assign(req->tags().begin(), req->tags().end());
    spec.webhook_url = req->webhook_url();
    spec.format = req->format();
    auto r = n_.Create(std::move(spec));
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_policy() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status ListNotifications(grpc::ServerContext*, const v1::ListNotificationsRequest*,
                                 v1::ListNotificationsResponse* resp) override {
    auto r = n_.List();
    if (!r.ok()) return ToGrpc(r.error());
    for (const auto& p : *r) *resp->add_policies() = ToProto(p);
    return grpc::Status::OK;
  }

  grpc::Status SetNotificationPaused(grpc::ServerContext*,
                                     const v1::SetNotificationPausedRequest* req,
                                     v1::SetNotificationPausedResponse* resp) override {
    if (req->id().empty()) return Invalid("id: must not be empty");
    auto r = n_.SetPaused(req->id(), req->paused());
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_policy() = ToProto(*r);
    return grpc::Status::OK;
  }

  grpc::Status DeleteNotification(grpc::ServerContext*, const v1::DeleteNotificationRequest* req,
                                  v1::DeleteNotificationResponse*) override {
    if (req->id().empty()) return Invalid("id: must not be empty");
    auto st = n_.Delete(req->id());
    if (!st.ok()) return ToGrpc(st.error());
    return grpc::Status::OK;
  }

  grpc::Status ListNotificationDeliveries(grpc::ServerContext*,
                                          const v1::ListNotificationDeliveriesRequest* req,
                                          v1::ListNotificationDeliveriesResponse* resp) override {
    auto r = n_.ListDeliveries(req->policy_id(), req->limit());
    if (!r.ok()) return ToGrpc(r.error());
    for (const auto& d : *r) *resp->add_deliveries() = ToProto(d);
    return grpc::Status::OK;
  }

 private:
  orchestration::NotificationManager& n_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeNotificationService(
    orchestration::NotificationManager& notifications, std::shared_ptr<spdlog::logger> logger) {
  if (!logger) logger = spdlog::default_logger();
  return std::make_unique<NotificationServiceImpl>(notifications, std::move(logger));
}

}  // namespace weft::server::api
