#pragma once
// A leader lease: a row (name, holder, expires_at) in service_leases. Hold() takes the lease
// when it is free or expired and renews it when held, so exactly one replica runs a
// singleton service; a crashed holder's lease simply expires.
#include <memory>
#include <string>

#include "sdk/core/time.hpp"
#include "server/store/database.hpp"

namespace weft::server::services {

class LeaderLease {
 public:
  LeaderLease(store::Database& db, const core::Clock& clock, std::string name, double ttl_seconds,
              std::string holder = {});
  // True when this holder holds the lease afterwards (until now + ttl).
  bool Hold();
  // Gives the lease up (at shutdown) so another replica can take it at once.
  void Release();
  bool held() const { return held_; }
  const std::string& holder() const { return holder_; }

 private:
  store::Database& db_;
  const core::Clock& clock_;
  std::string name_;
  double ttl_seconds_;
  std::string holder_;
  bool held_ = false;
};

// "<hostname>:<pid>:<random hex>"
std::string DefaultHolderId();

}  // namespace weft::server::services
