#include "agent/bundle_cache.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "sdk/client/bundle.hpp"

namespace weft::agent {

namespace fs = std::filesystem;

BundleCache::BundleCache(std::string dir, std::int64_t max_bytes)
    : dir_(std::move(dir)), max_bytes_(max_bytes) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  struct Found {
    std::string digest;
    std::int64_t size;
    fs::file_time_type mtime;
  };
  std::vector<Found> found;
  for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    const std::string suffix = ".tar.gz";
    if (name.size() != 64 + suffix.size() || name.compare(64, suffix.size(), suffix) != 0) continue;
    std::string digest = "sha256:" + name.substr(0, 64);
    if (!client::IsValidDigest(digest)) continue;
    std::error_code e2;
    auto size = static_cast<std::int64_t>(fs::file_size(it->path(), e2));
    auto mtime = fs::last_write_time(it->path(), e2);
    if (!e2) found.push_back({digest, size, mtime});
  }
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.mtime < b.mtime; });
  for (const auto& f : found) {
    entries_[f.digest] = Entry{f.size, ++clock_, 0};
    total_ += f.size;
  }
}

std::string BundleCache::PathFor(const std::string& digest) const {
  return dir_ + "/" + client::DigestHex(digest) + ".tar.gz";
}

core::Result<std::string> BundleCache::Acquire(const std::string& digest, const Fetch& fetch) {
  if (!client::IsValidDigest(digest)) {
    return core::InvalidArgument(fmt::format("bundle digest \"{}\" is not sha256:<64 hex>", digest));
  }
  std::string path = PathFor(digest);
  std::unique_lock lock(mu_);
  for (;;) {
    fetched_.wait(lock, [&] { return fetching_.count(digest) == 0; });
    auto it = entries_.find(digest);
    if (it != entries_.end()) {
      std::error_code ec;
      if (fs::exists(path, ec)) {
        it->second.last_used = ++clock_;
        it->second.pins++;
        fs::last_write_time(path, fs::file_time_type::clock::now(), ec);
        return path;
      }
      // Removed behind our back: forget it and fetch again.
      total_ -= it->second.size;
      entries_.erase(it);
    }
    fetching_.insert(digest);
    lock.unlock();
    core::Status st = fetch(path);
    std::error_code ec;
    std::int64_t size = st ? static_cast<std::int64_t>(fs::file_size(path, ec)) : 0;
    lock.lock();
    fetching_.erase(digest);
    fetched_.notify_all();
    if (!st) return st.error();
    if (ec) return core::Internal(fmt::format("bundle cache: cannot stat \"{}\": {}", path, ec.message()));
    entries_[digest] = Entry{size, ++clock_, 1};
    total_ += size;
    EvictLocked();
    return path;
  }
}

void BundleCache::Release(const std::string& digest) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(digest);
  if (it != entries_.end() && it->second.pins > 0) it->second.pins--;
  EvictLocked();
}

std::vector<std::string> BundleCache::Evict() {
  std::lock_guard lock(mu_);
  return EvictLocked();
}

std::vector<std::string> BundleCache::EvictLocked() {
  std::vector<std::string> removed;
  while (total_ > max_bytes_) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.pins > 0) continue;
      if (victim == entries_.end() || it->second.last_used < victim->second.last_used) victim = it;
    }
    if (victim == entries_.end()) break;  // everything left is in use
    std::error_code ec;
    fs::remove(PathFor(victim->first), ec);
    total_ -= victim->second.size;
    removed.push_back(victim->first);
    entries_.erase(victim);
  }
  return removed;
}

std::int64_t BundleCache::total_bytes() const {
  std::lock_guard lock(mu_);
  return total_;
}

bool BundleCache::Contains(const std::string& digest) const {
  std::lock_guard lock(mu_);
  return entries_.count(digest) > 0;
}

}  // namespace weft::agent
