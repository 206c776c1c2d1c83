// Connections, deadlines and uploads (docs/limits.md): a client that dawdles holds no
// database connection, uploads are spooled and capped, silent streams are cancelled, and the
// server's database sessions carry a statement timeout.
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "tests/integration/server_fixture.hpp"
#include "weft/v1/flow_runs.grpc.pb.h"
#include "weft/v1/storage.grpc.pb.h"

using namespace weft;
namespace fs = std::filesystem;

namespace {

std::string Sha256Digest(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// A fresh directory for the server's upload spool; removed with this object.
struct SpoolDir {
  std::string path;
  SpoolDir() {
    std::string t = (fs::temp_directory_path() / "weft-spool-test-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~SpoolDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::size_t files() const {
    std::size_t n = 0;
    for (auto it = fs::recursive_directory_iterator(path); it != fs::recursive_directory_iterator();
         ++it) {
      n += it->is_regular_file() ? 1 : 0;
    }
    return n;
  }
};

SpoolDir* g_spool = nullptr;  // read by the tune functions below (plain function pointers)

std::shared_ptr<grpc::Channel> Channel(test::ApiServer& s) {
  return grpc::CreateChannel(s.app->grpc_address(), grpc::InsecureChannelCredentials());
}

void Authorize(grpc::ClientContext& ctx, test::ApiServer& s, double seconds = 0) {
  ctx.AddMetadata("authorization", "Bearer " + s.app->admin_key());
  if (seconds > 0) {
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(static_cast<long>(seconds * 1000)));
  }
}

// An UploadBundle stream that sent its first chunk (digest, size and some bytes) and then
// says nothing more until closed.
struct SilentUpload {
  grpc::ClientContext ctx;
  v1::UploadBundleResponse resp;
  std::unique_ptr<grpc::ClientWriter<v1::BundleChunk>> writer;

  SilentUpload(v1::StorageService::Stub& stub, test::ApiServer& s, unsigned seed,
               double deadline_seconds = 0) {
    Authorize(ctx, s, deadline_seconds);
    std::string data = RandomBytes(64 * 1024, seed);
    writer = stub.UploadBundle(&ctx, &resp);
    v1::BundleChunk first;
    first.set_digest(Sha256Digest(data));
    first.set_size(static_cast<std::int64_t>(data.size()));
    first.set_data(data.substr(0, 1024));
    writer->Write(first);
  }
};

core::Result<v1::UploadBundleResponse> Upload(client::Client& c, const std::string& data,
                                              std::int64_t declared) {
  std::size_t off = 0;
  return c.UploadBundle(Sha256Digest(data), declared, [&](char* buf, std::size_t max) {
    std::size_t n = std::min(max, data.size() - off);
    std::memcpy(buf, data.data() + off, n);
    off += n;
    return n;
  });
}

bool Stored(client::Client& c, const std::string& digest) {
  v1::StatBundleRequest req;
  req.set_digest(digest);
  auto r = c.StatBundle(req);
  REQUIRE(r.ok());
  return r->exists();
}

}  // namespace

TEST_CASE("eight silent upload streams hold no database connection: flow-run ls still answers",
          "[limits][uploads]") {
  SpoolDir spool;
  g_spool = &spool;
  // The fixture's pool has 4 connections: fewer than the silent streams.
  test::ApiServer s([](server::app::Settings& st) { st.upload_dir = g_spool->path; });
  auto channel = Channel(s);
  auto storage = v1::StorageService::NewStub(channel);
  auto flow_runs = v1::FlowRunService::NewStub(channel);

  std::vector<std::unique_ptr<SilentUpload>> silent;
  for (unsigned i = 0; i < 8; ++i) silent.push_back(std::make_unique<SilentUpload>(*storage, s, i));
  // Give the eight handlers time to start (on the old server each took a pooled connection
  // and an open transaction here).
  std::this_thread::sleep_for(std::chrono::seconds(1));

  for (int round = 0; round < 3; ++round) {
    grpc::ClientContext ctx;
    Authorize(ctx, s, 5);
    v1::ListFlowRunsRequest req;
    v1::ListFlowRunsResponse resp;
    grpc::Status st = flow_runs->ListFlowRuns(&ctx, req, &resp);
    INFO("ListFlowRuns while 8 uploads dawdle: " << st.error_message());
    REQUIRE(st.error_code() == grpc::StatusCode::OK);
  }

  // The client gives up on them: nothing of theirs is stored or left on disk.
  for (auto& u : silent) u->ctx.TryCancel();
  for (auto& u : silent) CHECK_FALSE(u->writer->Finish().ok());
  silent.clear();

  // A real upload completes, is stored and downloads intact.
  std::string data = RandomBytes(2 * 1024 * 1024 + 123, 42);
  auto up = Upload(*s.client, data, static_cast<std::int64_t>(data.size()));
  REQUIRE(up.ok());
  CHECK_FALSE(up->already_present());
  CHECK(up->size() == static_cast<std::int64_t>(data.size()));
  std::string back;
  REQUIRE(s.client->DownloadBundle(Sha256Digest(data), [&](const std::string& d) { back += d; })
              .ok());
  CHECK(back == data);
  CHECK_FALSE(Stored(*s.client, Sha256Digest(RandomBytes(64 * 1024, 0))));
  CHECK(spool.files() == 0);
}

TEST_CASE("an upload past the size limit is refused as its bytes arrive: no temp file, nothing "
          "stored",
          "[limits][uploads]") {
  SpoolDir spool;
  g_spool = &spool;
  test::ApiServer s([](server::app::Settings& st) {
    st.upload_dir = g_spool->path;
    st.max_bundle_size = 1 << 20;
  });
  std::string data = RandomBytes((1 << 20) + (1 << 19), 7);  // 1.5 MiB

  SECTION("declared honestly: refused before any byte") {
    auto r = Upload(*s.client, data, static_cast<std::int64_t>(data.size()));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kResourceExhausted);
    CHECK_THAT(r.error().message, Catch::Contains("the limit is 1 MiB") &&
                                      Catch::Contains("--max-bundle-size"));
  }
  SECTION("declared as 1 MiB, sent 1.5 MiB: counted as it arrives") {
    auto r = Upload(*s.client, data, 1 << 20);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kResourceExhausted);
    CHECK_THAT(r.error().message, Catch::Contains("bundle is 1.5 MiB; the limit is 1 MiB"));
  }
  CHECK_FALSE(Stored(*s.client, Sha256Digest(data)));
  CHECK(spool.files() == 0);

  // A wrong digest is refused after spooling, and leaves nothing either.
  std::string small = RandomBytes(4096, 8);
  std::size_t off = 0;
  std::string wrong = Sha256Digest("not these bytes");
  auto r = s.client->UploadBundle(wrong, static_cast<std::int64_t>(small.size()),
                                  [&](char* buf, std::size_t max) {
                                    std::size_t n = std::min(max, small.size() - off);
                                    std::memcpy(buf, small.data() + off, n);
                                    off += n;
                                    return n;
                                  });
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(r.error().message, Catch::Contains("digest:"));
  CHECK_FALSE(Stored(*s.client, wrong));
  CHECK(spool.files() == 0);
}

TEST_CASE("uploads beyond the concurrency limit are RESOURCE_EXHAUSTED", "[limits][uploads]") {
  SpoolDir spool;
  g_spool = &spool;
  test::ApiServer s([](server::app::Settings& st) {
    st.upload_dir = g_spool->path;
    st.max_concurrent_uploads = 2;
  });
  auto storage = v1::StorageService::NewStub(Channel(s));
  SilentUpload a(*storage, s, 1), b(*storage, s, 2);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::string data = RandomBytes(1000, 3);
  auto r = Upload(*s.client, data, static_cast<std::int64_t>(data.size()));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == core::Code::kResourceExhausted);
  CHECK_THAT(r.error().message, Catch::Contains("--max-concurrent-uploads"));
  a.ctx.TryCancel();
  b.ctx.TryCancel();
  a.writer->Finish();
  b.writer->Finish();
  // Their slots are free again.
  for (int i = 0; i < 50; ++i) {
    r = Upload(*s.client, data, static_cast<std::int64_t>(data.size()));
    if (r.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(r.ok());
}

TEST_CASE("a silent upload stream is cancelled by the server after the idle timeout",
          "[limits][uploads]") {
  SpoolDir spool;
  g_spool = &spool;
  test::ApiServer s([](server::app::Settings& st) {
    st.upload_dir = g_spool->path;
    st.stream_idle_timeout = 1;
  });
  auto storage = v1::StorageService::NewStub(Channel(s));
  // The client itself would wait 30 s: the server ends it first.
  SilentUpload u(*storage, s, 1, 30);
  grpc::Status st = u.writer->Finish();
  INFO(st.error_message());
  CHECK(st.error_code() == grpc::StatusCode::CANCELLED);
  CHECK(spool.files() == 0);
  // The server is fine afterwards.
  std::string data = RandomBytes(1000, 4);
  REQUIRE(Upload(*s.client, data, static_cast<std::int64_t>(data.size())).ok());
}

TEST_CASE("the server's database sessions have a statement timeout", "[limits][database]") {
  test::ApiServer s([](server::app::Settings& st) { st.db_statement_timeout = 1; });
  // Someone holds a lock on flow_runs (a stuck migration, an operator's session).
  pqxx::connection locker(s.database.url());
  pqxx::work w(locker);
  w.exec("LOCK TABLE flow_runs IN ACCESS EXCLUSIVE MODE");

  auto flow_runs = v1::FlowRunService::NewStub(Channel(s));
  grpc::ClientContext ctx;
  Authorize(ctx, s, 30);
  v1::ListFlowRunsResponse resp;
  grpc::Status st = flow_runs->ListFlowRuns(&ctx, v1::ListFlowRunsRequest{}, &resp);
  // Answered by the server (its statement was cancelled), not by the client's own deadline.
  INFO(st.error_message());
  CHECK(st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK_THAT(st.error_message(), Catch::Contains("statement timeout"));
  w.abort();

  // The lock gone, the same connection pool serves again.
  grpc::ClientContext again;
  Authorize(again, s, 10);
  CHECK(flow_runs->ListFlowRuns(&again, v1::ListFlowRunsRequest{}, &resp).ok());
}

TEST_CASE("pooled sessions carry the timeouts; a transaction left idle is ended by PostgreSQL",
          "[limits][database]") {
  test::TestDatabase tdb;
  server::store::DatabaseOptions o;
  o.url = tdb.url();
  o.pool_size = 2;
  o.statement_timeout_seconds = 30;
  o.idle_in_transaction_timeout_seconds = 1;
  auto db = server::store::Database::Open(o, nullptr);
  REQUIRE(db.ok());
  auto shown = (*db)->WithTransaction([](server::store::Tx& tx) -> core::Result<std::string> {
    auto r = tx.raw().exec("SHOW statement_timeout");
    auto i = tx.raw().exec("SHOW idle_in_transaction_session_timeout");
    return r[0][0].as<std::string>() + " " + i[0][0].as<std::string>();
  });
  REQUIRE(shown.ok());
  CHECK(*shown == "30s 1s");

  auto idle = (*db)->WithTransaction([](server::store::Tx& tx) -> core::Result<int> {
    tx.raw().exec("SELECT 1");
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    return tx.raw().exec("SELECT 2")[0][0].as<int>();
  });
  REQUIRE_FALSE(idle.ok());
  CHECK(idle.error().code == core::Code::kUnavailable);

  // The pool drops the dead connection and carries on.
  auto after = (*db)->WithTransaction([](server::store::Tx& tx) -> core::Result<int> {
    return tx.raw().exec("SELECT 3")[0][0].as<int>();
  });
  REQUIRE(after.ok());
  CHECK(*after == 3);

  // SET LOCAL lifts the limit for one transaction only.
  auto local = (*db)->WithTransaction([](server::store::Tx& tx) -> core::Result<std::string> {
    server::store::SetLocalStatementTimeout(tx, 0);
    return tx.raw().exec("SHOW statement_timeout")[0][0].as<std::string>();
  });
  REQUIRE(local.ok());
  CHECK(*local == "0");
}

TEST_CASE("server settings default to the documented connection limits", "[limits]") {
  server::app::Settings s;
  CHECK(s.rpc_timeout == 120);
  CHECK(s.stream_idle_timeout == 30);
  CHECK(s.transfer_timeout == 900);
  CHECK(s.max_concurrent_uploads == 8);
  CHECK(s.db_statement_timeout == 30);
  CHECK(s.db_idle_in_transaction_timeout == 60);
  s.database_url = "postgresql://weft@127.0.0.1/weft";
  CHECK(s.Validate().empty());
  s.rpc_timeout = 30;  // shorter than a long poll
  s.db_statement_timeout = -1;
  s.max_concurrent_uploads = 0;
  auto problems = s.Validate();
  REQUIRE(problems.size() == 3);
  CHECK_THAT(problems[0], Catch::Contains("rpc-timeout"));
  CHECK_THAT(problems[1], Catch::Contains("max-concurrent-uploads"));
  CHECK_THAT(problems[2], Catch::Contains("db-statement-timeout"));
}
