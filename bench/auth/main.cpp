// bench_auth: what authentication adds to a gRPC call. Two in-process gRPC servers answer the
// same trivial unary call (an empty reply, no database): one plain (insecure credentials, no
// processor), one as weft-server runs (local credentials + the auth processor, a real
// Authenticator on PostgreSQL). A client calls each sequentially with a valid API key and
// prints p50/p99/mean per call; then the cost of a cache miss (a token the server has not
// seen for a second: one database lookup).
//
//   scripts/with_pg.sh build/release/bench/auth/bench_auth [--calls 20000]
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "sdk/core/time.hpp"
#include "server/api/auth_processor.hpp"
#include "server/auth/authenticator.hpp"
#include "server/store/database.hpp"
#include "server/store/migrator.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Answers every method with an empty message.
class Echo final : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    struct R final : grpc::ServerGenericBidiReactor {
      R() { StartRead(&req); }
      void OnReadDone(bool) override {
        grpc::Slice empty("");
        resp = grpc::ByteBuffer(&empty, 1);
        StartWriteAndFinish(&resp, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }
      grpc::ByteBuffer req, resp;
    };
    return new R;
  }
};

struct Figures {
  double p50 = 0, p99 = 0, mean = 0;
  int errors = 0;
};

Figures Measure(const std::string& address, const std::string& key, int calls) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  std::vector<double> us;
  us.reserve(calls);
  Figures f;
  for (int i = 0; i < calls; ++i) {
    grpc::ClientContext ctx;
    if (!key.empty()) ctx.AddMetadata("authorization", "Bearer " + key);
    grpc::Slice empty("");
    grpc::ByteBuffer req(&empty, 1), resp;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status st;
    auto t0 = Clock::now();
    stub.UnaryCall(&ctx, "/weft.v1.AdminService/ListRules", grpc::StubOptions(), &req, &resp,
                   [&](grpc::Status s) {
                     std::lock_guard lock(mu);
                     st = std::move(s);
                     done = true;
                     cv.notify_one();
                   });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    auto dt = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    if (!st.ok()) ++f.errors;
    if (i >= calls / 10) us.push_back(dt);  // the first tenth warms up
  }
  std::sort(us.begin(), us.end());
  f.p50 = us[us.size() / 2];
  f.p99 = us[us.size() * 99 / 100];
  double sum = 0;
  for (double v : us) sum += v;
  f.mean = sum / us.size();
  return f;
}

void Print(const char* what, const Figures& f) {
  std::printf("%-44s p50 %7.1f us  p99 %7.1f us  mean %7.1f us  errors %d\n", what, f.p50, f.p99,
              f.mean, f.errors);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"bench_auth: the cost of authenticating a gRPC call"};
  int calls = 20000;
  std::string url;
  if (const char* u = std::getenv("WEFT_TEST_DATABASE_URL")) url = u;
  cli.add_option("--calls", calls, "calls per server")->capture_default_str();
  cli.add_option("--database-url", url, "default: $WEFT_TEST_DATABASE_URL");
  CLI11_PARSE(cli, argc, argv);
  using namespace weft::server;
  store::DatabaseOptions dbo;
  dbo.url = url;
  dbo.pool_size = 2;
  auto db = store::Database::Open(dbo, nullptr);
  if (!db.ok()) {
    std::fprintf(stderr, "error: database: %s\n", db.error().message.c_str());
    return 1;
  }
  store::Migrator migrator(**db, nullptr);
  if (auto m = migrator.Migrate(); !m.ok()) {
    std::fprintf(stderr, "error: migrations: %s\n", m.error().message.c_str());
    return 1;
  }
  auth::Authenticator authenticator(**db, weft::core::SystemClock::Instance(), {}, nullptr);
  if (auto st = authenticator.Start(); !st.ok()) return 1;
  auto key = authenticator.EnsureLocalAdminKey("");
  if (!key.ok()) return 1;

  Echo plain_service, auth_service;
  int plain_port = 0, auth_port = 0;
  grpc::ServerBuilder pb;
  pb.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &plain_port);
  pb.RegisterCallbackGenericService(&plain_service);
  auto plain = pb.BuildAndStart();
  grpc::ServerBuilder ab;
  auto creds = grpc::experimental::LocalServerCredentials(LOCAL_TCP);
  creds->SetAuthMetadataProcessor(api::MakeAuthProcessor(authenticator));
  ab.AddListeningPort("127.0.0.1:0", creds, &auth_port);
  ab.RegisterCallbackGenericService(&auth_service);
  auto authed = ab.BuildAndStart();

  std::printf("bench_auth: %d sequential unary calls per row (empty reply, no database)\n", calls);
  Print("no authentication (insecure, no processor)",
        Measure("127.0.0.1:" + std::to_string(plain_port), "", calls));
  Print("API key, cached (local credentials + processor)",
        Measure("127.0.0.1:" + std::to_string(auth_port), *key, calls));
  // Cache misses: fresh keys, each used once (one database lookup each).
  std::vector<double> miss;
  for (int i = 0; i < 200; ++i) {
    auto k = authenticator.CreateKey("bench-" + std::to_string(i), "viewer", {}, 0);
    if (!k.ok()) break;
    auto f = Measure("127.0.0.1:" + std::to_string(auth_port), k->token, 1);
    miss.push_back(f.p50);
  }
  std::sort(miss.begin(), miss.end());
  if (!miss.empty()) {
    std::printf("%-44s p50 %7.1f us  (first call of a key: one lookup in PostgreSQL)\n",
                "API key, cache miss", miss[miss.size() / 2]);
  }
  plain->Shutdown();
  authed->Shutdown();
  return 0;
}
