#include "server/api/scope_guard.hpp"

#include "server/api/auth_processor.hpp"
#include "server/api/status.hpp"

namespace weft::server::api {

std::optional<grpc::Status> ScopeGuard::Allow(const grpc::ServerContextBase& ctx,
                                              const Check& check) const {
  auth::Identity who = CallerOf(ctx, authenticator_);
  // CallerOf answers a nameless viewer when the token no longer authenticates (a run token
  // whose run just became final, a key revoked a moment ago): refuse rather than not limit.
  if (who.name.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the API key no longer authenticates (revoked, expired, or its run is "
                        "final)");
  }
  if (!auth::RunScope::Limits(who)) return std::nullopt;
  core::Status st = check(scope_, who);
  if (st.ok()) return std::nullopt;
  return ToGrpc(st.error());
}

std::optional<grpc::Status> ScopeGuard::FlowRun(const grpc::ServerContextBase& ctx,
                                                std::string_view field,
                                                const std::string& id) const {
  return Allow(ctx, [&](auth::RunScope& s, const auth::Identity& who) {
    return s.CheckFlowRun(who, field, id);
  });
}

std::optional<grpc::Status> ScopeGuard::TaskRun(const grpc::ServerContextBase& ctx,
                                                std::string_view field,
                                                const std::string& id) const {
  return Allow(ctx, [&](auth::RunScope& s, const auth::Identity& who) {
    return s.CheckTaskRun(who, field, id);
  });
}

std::optional<grpc::Status> ScopeGuard::WorkQueue(const grpc::ServerContextBase& ctx,
                                                  std::string_view field,
                                                  const std::string& name) const {
  return Allow(ctx, [&](auth::RunScope&, const auth::Identity& who) {
    return auth::RunScope::CheckWorkQueue(who, field, name);
  });
}

}  // namespace weft::server::api
