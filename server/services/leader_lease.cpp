#include "server/services/leader_lease.hpp"

#include <unistd.h>

#include <cstdio>
#include <random>

#include "server/store/deployment_repo.hpp"

namespace weft::server::services {

std::string DefaultHolderId() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  std::random_device rd;
  char buf[384];
  std::snprintf(buf, sizeof buf, "%s:%d:%08x", host, static_cast<int>(getpid()), rd());
  return buf;
}

LeaderLease::LeaderLease(store::Database& db, const core::Clock& clock, std::string name,
                         double ttl_seconds, std::string holder)
    : db_(db),
      clock_(clock),
      name_(std::move(name)),
      ttl_seconds_(ttl_seconds),
      holder_(holder.empty() ? DefaultHolderId() : std::move(holder)) {}

bool LeaderLease::Hold() {
  auto r = db_.WithRetry([&](store::Tx& tx) -> core::Result<bool> {
    return store::LeaseRepo::Acquire(tx, name_, holder_, clock_.Now(), ttl_seconds_);
  });
  held_ = r.ok() && *r;
  return held_;
}

void LeaderLease::Release() {
  if (!held_) return;
  (void)db_.WithTransaction([&](store::Tx& tx) -> core::Status {
    store::LeaseRepo::Release(tx, name_, holder_);
    return {};
  });
  held_ = false;
}

}  // namespace weft::server::services
