#pragma once
// NotificationService (proto/weft/v1/notifications.proto): policies and their deliveries.
// Registered by the app beside ApiServices. grpcpp stays out of this header.
#include <memory>

#include "server/orchestration/notification_manager.hpp"

namespace grpc {
class Service;
}  // namespace grpc

namespace weft::server::api {

std::unique_ptr<grpc::Service> MakeNotificationService(
    orchestration::NotificationManager& notifications, std::shared_ptr<spdlog::logger> logger);

}  // namespace weft::server::api
