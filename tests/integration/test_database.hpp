#pragma once
// A fresh database per test case: CREATE DATABASE weft_it_<pid>_<n> on the cluster named
// by WEFT_TEST_DATABASE_URL, migrated by the real migrator, dropped afterwards.
#include <memory>
#include <string>

#include "sdk/core/time.hpp"
#include "server/orchestration/run_service.hpp"
#include "server/orchestration/set_state.hpp"
#include "server/store/database.hpp"

namespace weft::test {

// The cluster URL; FAILs the test (never skips) when WEFT_TEST_DATABASE_URL is unset.
std::string ClusterUrl();

class TestDatabase {
 public:
  // migrate=false leaves the database empty (for migration tests).
  explicit TestDatabase(bool migrate = true, int pool_size = 8);
  ~TestDatabase();

  const std::string& url() const { return url_; }
  server::store::Database& db() { return *db_; }
  core::FakeClock& clock() { return clock_; }
  server::orchestration::Orchestrator& orchestrator() { return *orch_; }
  server::orchestration::RunService& runs() { return *runs_; }

 private:
  std::string cluster_;
  std::string name_;
  std::string url_;
  core::FakeClock clock_;
  std::unique_ptr<server::store::Database> db_;
  std::unique_ptr<server::orchestration::Orchestrator> orch_;
  std::unique_ptr<server::orchestration::RunService> runs_;
};

}  // namespace weft::test
