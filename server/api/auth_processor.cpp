#include "server/api/auth_processor.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_metadata_processor.h>

#include <optional>

namespace weft::server::api {

namespace {

std::string ToString(const grpc::string_ref& s) { return std::string(s.data(), s.size()); }

// The token of "authorization: Bearer <token>"; nullopt when the header is there but not a
// bearer token, "" when there is none.
std::optional<std::string> BearerToken(const std::string& value) {
  constexpr std::string_view kBearer = "bearer ";
  if (value.size() <= kBearer.size()) return std::nullopt;
  std::string head = value.substr(0, kBearer.size());
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (head != kBearer) return std::nullopt;
  return value.substr(kBearer.size());
}

class ApiKeyProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit ApiKeyProcessor(auth::Authenticator& authenticator) : auth_(authenticator) {}

  // Cache misses read the database: run on gRPC's processor threads, not its I/O threads.
  bool IsBlocking() const override { return true; }

  grpc::Status Process(const InputMetadata& md, grpc::AuthContext*, OutputMetadata*,
                       OutputMetadata*) override {
    std::string method;
    if (auto p = md.find(":path"); p != md.end()) method = ToString(p->second);
    std::string token;
    if (auto a = md.find("authorization"); a != md.end()) {
      auto t = BearerToken(ToString(a->second));
      if (!t) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                            "authorization: expected \"Bearer <API key>\"");
      }
      token = *t;
    }
    auto who = auth_.Authenticate(token);
    if (!who.ok()) {
      return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(who.error().code)),
                          who.error().message);
    }
    if (auto denied = auth::Authorize(*who, method)) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, denied->message);
    }
    return grpc::Status::OK;
  }

 private:
  auth::Authenticator& auth_;
};

}  // namespace

std::shared_ptr<grpc::AuthMetadataProcessor> MakeAuthProcessor(auth::Authenticator& authenticator) {
  return std::make_shared<ApiKeyProcessor>(authenticator);
}

auth::Identity CallerOf(const grpc::ServerContextBase& ctx, auth::Authenticator& authenticator) {
  const auto& md = ctx.client_metadata();
  auto a = md.find("authorization");
  if (a == md.end()) return {};
  auto token = BearerToken(ToString(a->second));
  if (!token) return {};
  auto who = authenticator.Authenticate(*token);
  return who.ok() ? *who : auth::Identity{};
}

}  // namespace weft::server::api
