#include "server/api/auth_processor.hpp"

#include <grpcpp/grpcpp.h>
#include <grpc/grpc_security.h>
#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/security/server_credentials.h>

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
      return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(denied->code)),
                          denied->message);
    }
    return grpc::Status::OK;
  }

 private:
  auth::Authenticator& auth_;
};

}  // namespace

namespace {

class PlaintextWithAuth final : public grpc::ServerCredentials {
 public:
  explicit PlaintextWithAuth(std::shared_ptr<grpc::AuthMetadataProcessor> p)
      : processor_(std::move(p)) {}
  void SetAuthMetadataProcessor(
      const std::shared_ptr<grpc::AuthMetadataProcessor>& processor) override {
    processor_ = processor;
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    grpc_server_credentials* creds = grpc_insecure_server_credentials_create();
    // The core keeps its own reference (released by Destroy): the server outlives this object.
    grpc_auth_metadata_processor p{&Process, &Destroy,
                                   new std::shared_ptr<grpc::AuthMetadataProcessor>(processor_)};
    grpc_server_credentials_set_auth_metadata_processor(creds, p);
    int port = grpc_server_add_http2_port(server, addr.c_str(), creds);
    grpc_server_credentials_release(creds);
    return port;
  }

  static void Process(void* state, grpc_auth_context*, const grpc_metadata* md, size_t n,
                      grpc_process_auth_metadata_done_cb done, void* user_data) {
    auto& processor = *static_cast<std::shared_ptr<grpc::AuthMetadataProcessor>*>(state);
    grpc::AuthMetadataProcessor::InputMetadata in;
    for (size_t i = 0; i < n; ++i) {
      in.insert({grpc::string_ref(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(md[i].key)),
                                  GRPC_SLICE_LENGTH(md[i].key)),
                 grpc::string_ref(reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(md[i].value)),
                                  GRPC_SLICE_LENGTH(md[i].value))});
    }
    grpc::AuthMetadataProcessor::OutputMetadata consumed, response;
    grpc::Status st = processor->Process(in, nullptr, &consumed, &response);
    std::string details = st.error_message();
    done(user_data, nullptr, 0, nullptr, 0, static_cast<grpc_status_code>(st.error_code()),
         st.ok() ? nullptr : details.c_str());
  }

  static void Destroy(void* state) {
    delete static_cast<std::shared_ptr<grpc::AuthMetadataProcessor>*>(state);
  }

  std::shared_ptr<grpc::AuthMetadataProcessor> processor_;
};

}  // namespace

std::shared_ptr<grpc::ServerCredentials> PlaintextCredentialsWithAuth(
    std::shared_ptr<grpc::AuthMetadataProcessor> processor) {
  return std::make_shared<PlaintextWithAuth>(std::move(processor));
}

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
