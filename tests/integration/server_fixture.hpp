#pragma once
// The real weft-server App in-process on 127.0.0.1:0 over a fresh test database, called
// with the SDK's typed client.
#include <catch2/catch.hpp>
#include <memory>

#include "sdk/client/client.hpp"
#include "server/app/app.hpp"
#include "tests/integration/test_database.hpp"

namespace weft::test {

struct ApiServer {
  TestDatabase database;
  std::unique_ptr<server::app::App> app;
  std::unique_ptr<client::Client> client;

  explicit ApiServer(void (*tune)(server::app::Settings&) = nullptr) {
    server::app::Settings s;
    s.grpc_address = "127.0.0.1:0";
    s.database_url = database.url();
    s.pool_size = 4;
    s.log_level = "warn";
    // Runs that tests leave unclaimed stay "Scheduled" (tests of Late runs tune it back).
    s.late_after = 3600;
    if (tune) tune(s);
    server::app::ConfigureLogging(s.log_level);
    app = std::make_unique<server::app::App>(s);
    auto st = app->Start();
    if (!st.ok()) FAIL("server did not start: " << st.error().message);
    client::ClientOptions o;
    o.address = app->grpc_address();
    o.api_key = app->admin_key();
    client = std::make_unique<client::Client>(o);
  }
};

// The scheduler's loop set to an hour: only explicit wakes (a new deployment) schedule.
inline void QuietScheduler(server::app::Settings& s) { s.scheduler_interval = 3600; }

// An ApiServer with a quiet scheduler and a local storage named "flows" for deployments.
struct ApiServerWithStorage : ApiServer {
  ApiServerWithStorage() : ApiServer(QuietScheduler) {
    v1::CreateStorageRequest st;
    st.set_name("flows");
    st.set_kind("local");
    (*st.mutable_config())["path"] = "/srv/flows";
    auto r = client->CreateStorage(st);
    if (!r.ok()) FAIL("creating storage \"flows\": " << r.error().message);
  }
};

}  // namespace weft::test
