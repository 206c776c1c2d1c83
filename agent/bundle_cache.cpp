#include "agent/bundle_cache.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

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
    if (name.find(".tmp-") != std::string::npos ||
        (name.size() == 64 + 2 && name.compare(64, 2, ".d") == 0)) {
      std::error_code e2;
      fs::remove_all(it->path(), e2);  // unpacked trees are made again on demand
      continue;
    }
    const std::string suffix = ".tar.gz";
    if (name.size() != 64 + suffix.size() || name.compare(64, suffix.size(), suffix) != 0) continue;
    std::string digest = "sha256:" + name.substr(0, 64);
    if (!client::IsValidDigest(digest)) continue;
    std::error_code e2;
    auto size = static_cast<std::int64_t>(fs::file_size(it->path(), e2));
    auto mtime = fs::last_write_time(it->path(), e2);
    if (!e2) found.push_back({digest, size, mtime});
  }
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.mtime < b.mtime; });
  for (const auto& f : found) {
    entries_[f.digest] = Entry{f.size, ++clock_, 0};
    total_ += f.size;
  }
}

std::string BundleCache::PathFor(const std::string& digest) const {
  return dir_ + "/" + client::DigestHex(digest) + ".tar.gz";
}

std::string BundleCache::TreeFor(const std::string& digest) const {
  return dir_ + "/" + client::DigestHex(digest) + ".d";
}

namespace {

std::int64_t TreeBytes(const std::string& dir) {
  std::int64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2) && !it->is_symlink(e2))
      total += static_cast<std::int64_t>(it->file_size(e2));
  }
  return total;
}

}  // namespace

core::Result<std::string> BundleCache::Tree(const std::string& digest) {
  std::string tree = TreeFor(digest);
  std::unique_lock lock(mu_);
  fetched_.wait(lock, [&] { return fetching_.count(digest) == 0; });
  auto it = entries_.find(digest);
  if (it == entries_.end()) {
    return core::FailedPrecondition(fmt::format("bundle {} is not in the cache", digest));
  }
  if (it->second.unpacked) return tree;
  fetching_.insert(digest);
  lock.unlock();
  std::string tmp = fmt::format("{}.tmp-{}-{}", tree, ::getpid(),
                                std::hash<std::thread::id>{}(std::this_thread::get_id()));
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::remove_all(tree, ec);  // a leftover of an earlier agent
  core::Status st = client::UnpackBundle(PathFor(digest), tmp);
  if (st) {
    fs::rename(tmp, tree, ec);
    if (ec)
      st = core::Internal(
          fmt::format("bundle cache: cannot rename to \"{}\": {}", tree, ec.message()));
  }
  if (!st) fs::remove_all(tmp, ec);
  std::int64_t bytes = st ? TreeBytes(tree) : 0;
  lock.lock();
  fetching_.erase(digest);
  fetched_.notify_all();
  if (!st) return st.error();
  it = entries_.find(digest);
  if (it != entries_.end()) {
    it->second.unpacked = true;
    it->second.size += bytes;
    total_ += bytes;
  }
  return tree;
}

core::Status CopyTree(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (!fs::create_directory(to, ec) || ec) {
    return core::Internal(
        fmt::format("cannot create \"{}\": {}", to, ec ? ec.message() : "exists"));
  }
  for (auto it = fs::recursive_directory_iterator(from, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    fs::path rel = fs::relative(it->path(), from);
    fs::path dst = fs::path(to) / rel;
    std::error_code e2;
    auto st = it->symlink_status(e2);
    if (fs::is_symlink(st)) {
      fs::create_symlink(fs::read_symlink(it->path(), e2), dst, e2);
    } else if (fs::is_directory(st)) {
      fs::create_directory(dst, e2);
    } else if (fs::is_regular_file(st)) {
      int in = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
      if (in < 0)
        return core::Internal(
            fmt::format("cannot read \"{}\": {}", it->path().string(), std::strerror(errno)));
      struct stat sb {};
      ::fstat(in, &sb);
      int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, sb.st_mode & 07777);
      if (out < 0) {
        int err = errno;
        ::close(in);
        return core::Internal(
            fmt::format("cannot create \"{}\": {}", dst.string(), std::strerror(err)));
      }
      off_t left = sb.st_size;
      bool fallback = false;
      while (left > 0 && !fallback) {
        ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, static_cast<std::size_t>(left), 0);
        if (n > 0) {
          left -= n;
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else if (n < 0 &&
                   (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
          fallback = true;
        } else {
          break;
        }
      }
      if (fallback) {
        char buf[1 << 16];
        for (ssize_t n; (n = ::read(in, buf, sizeof buf)) > 0;) {
          if (::write(out, buf, static_cast<std::size_t>(n)) != n) break;
        }
      }
      ::close(in);
      if (::close(out) != 0 || (left > 0 && !fallback)) {
        return core::Internal(fmt::format("cannot copy \"{}\"", dst.string()));
      }
    }
    if (e2)
      return core::Internal(fmt::format("cannot copy \"{}\": {}", rel.string(), e2.message()));
  }
  if (ec) return core::Internal(fmt::format("cannot copy \"{}\": {}", from, ec.message()));
  return {};
}

core::Result<std::string> BundleCache::Acquire(const std::string& digest, const Fetch& fetch) {
  if (!client::IsValidDigest(digest)) {
    return core::InvalidArgument(
        fmt::format("bundle digest \"{}\" is not sha256:<64 hex>", digest));
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
      fs::remove_all(TreeFor(digest), ec);
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
    if (ec)
      return core::Internal(
          fmt::format("bundle cache: cannot stat \"{}\": {}", path, ec.message()));
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
    fs::remove_all(TreeFor(victim->first), ec);
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
