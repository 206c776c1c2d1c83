// ApiKeyService: create, list and revoke API keys (admin), and WhoAmI (any caller). The
// access check happened in the auth processor; handlers only validate and delegate.
#include <spdlog/spdlog.h>

#include "sdk/client/convert.hpp"
#include "server/api/auth_processor.hpp"
#include "server/api/services.hpp"
#include "server/api/status.hpp"
#include "weft/v1/api_keys.grpc.pb.h"

namespace weft::server::api {

namespace {

v1::ApiKey ToProto(const store::ApiKeyRecord& k) {
  v1::ApiKey out;
  out.set_id(k.id);
  out.set_name(k.name);
  out.set_scope(k.scope);
  for (const auto& q : k.work_queues) out.add_work_queues(q);
  *out.mutable_created() = client::ToProto(k.created);
  if (k.expires) *out.mutable_expires() = client::ToProto(*k.expires);
  if (k.last_used) *out.mutable_last_used() = client::ToProto(*k.last_used);
  return out;
}

class ApiKeyServiceImpl final : public v1::ApiKeyService::Service {
 public:
  ApiKeyServiceImpl(auth::Authenticator& auth, std::shared_ptr<spdlog::logger> logger)
      : auth_(auth), logger_(std::move(logger)) {}

  grpc::Status CreateApiKey(grpc::ServerContext*, const v1::CreateApiKeyRequest* req,
                            v1::CreateApiKeyResponse* resp) override {
    std::vector<std::string> queues(req->work_queues().begin(), req->work_queues().end());
    auto r = auth_.CreateKey(req->name(), req->scope(), queues,
                             static_cast<double>(req->expires_in_seconds()));
    if (!r.ok()) return ToGrpc(r.error());
    *resp->mutable_key() = ToProto(r->key);
    resp->set_token(r->token);
    return grpc::Status::OK;
  }

  grpc::Status ListApiKeys(grpc::ServerContext*, const v1::ListApiKeysRequest*,
                           v1::ListApiKeysResponse* resp) override {
    auto r = auth_.ListKeys();
    if (!r.ok()) return ToGrpc(r.error());
    for (const auto& k : *r) *resp->add_keys() = ToProto(k);
    return grpc::Status::OK;
  }

  grpc::Status RevokeApiKey(grpc::ServerContext*, const v1::RevokeApiKeyRequest* req,
                            v1::RevokeApiKeyResponse*) override {
    if (req->name().empty()) return Invalid("name: must not be empty");
    auto st = auth_.RevokeKey(req->name());
    if (!st.ok()) return ToGrpc(st.error());
    return grpc::Status::OK;
  }

  grpc::Status WhoAmI(grpc::ServerContext* ctx, const v1::WhoAmIRequest*,
                      v1::WhoAmIResponse* resp) override {
    auto who = CallerOf(*ctx, auth_);
    resp->set_name(who.name);
    resp->set_scope(auth::ScopeName(who.scope));
    for (const auto& q : who.work_queues) resp->add_work_queues(q);
    resp->set_flow_run_id(who.flow_run_id);
    return grpc::Status::OK;
  }

 private:
  auth::Authenticator& auth_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeApiKeyService(auth::Authenticator& auth,
                                                 std::shared_ptr<spdlog::logger> logger) {
  return std::make_unique<ApiKeyServiceImpl>(auth, std::move(logger));
}

}  // namespace weft::server::api
