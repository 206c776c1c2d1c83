#pragma once
// The one place gRPC calls are authenticated and authorized: an AuthMetadataProcessor on the
// server's credentials reads "authorization: Bearer <token>", asks the Authenticator who it
// is, checks the access table (auth/access.hpp) against the call's method and answers
// UNAUTHENTICATED / PERMISSION_DENIED before any handler runs. Handlers that scope by
// resource (an agent key's queues, a run token's run) ask CallerOf, which reads the same
// token again (a cache hit). The identity is deliberately not stored on the AuthContext: gRPC
// hands the processor the *connection's* context, so properties added there would pile up
// and leak into every later call on that connection.
#include <memory>
#include <string>

#include "server/auth/access.hpp"
#include "server/auth/authenticator.hpp"

namespace grpc {
class AuthMetadataProcessor;
class ServerContextBase;
class ServerCredentials;
}  // namespace grpc

namespace weft::server::api {

std::shared_ptr<grpc::AuthMetadataProcessor> MakeAuthProcessor(auth::Authenticator& authenticator);

// Plaintext credentials that still run `processor` on every call, for `--insecure-no-tls`
// off loopback (gRPC's C++ insecure credentials refuse a processor; its core's accept one).
// The processor runs inline on gRPC's threads here, so a token's first check (a database
// read) holds one of them for about a millisecond.
std::shared_ptr<grpc::ServerCredentials> PlaintextCredentialsWithAuth(
    std::shared_ptr<grpc::AuthMetadataProcessor> processor);

// The caller of a call the processor let through (its bearer token, authenticated again
// from the cache). Without a valid token: scope viewer and an empty name.
auth::Identity CallerOf(const grpc::ServerContextBase& ctx, auth::Authenticator& authenticator);

}  // namespace weft::server::api
