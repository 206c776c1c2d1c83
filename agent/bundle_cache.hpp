#pragma once
// The agent's bundle cache: bundles by digest under <cache dir>/<hex>.tar.gz, fetched once
// (concurrent runs of one bundle wait for a single download), and unpacked once (defensively)
// into <cache dir>/<hex>.d/, the template that each run's directory is copied from (copying
// is far cheaper than decompressing a large flow binary for every run). Bounded by size
// (archive + tree) with least-recently-used eviction. Entries in use (acquired, not yet
// released) are never evicted, so the cache may exceed its bound while they are pinned.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "sdk/core/error.hpp"

namespace weft::agent {

class BundleCache {
 public:
  // Writes the bundle to `dest_file` atomically (temp file + rename) after verifying its
  // digest; on error nothing is left at `dest_file`.
  using Fetch = std::function<core::Status(const std::string& dest_file)>;

  // Creates `dir` if needed and adopts the bundles already in it (oldest mtime = least
  // recently used).
  BundleCache(std::string dir, std::int64_t max_bytes);

  // The cached file for `digest`, fetched through `fetch` when missing. The entry stays
  // pinned until Release(digest). Errors: an invalid digest, or the fetch's error.
  core::Result<std::string> Acquire(const std::string& digest, const Fetch& fetch);
  void Release(const std::string& digest);

  // The unpacked tree of an acquired bundle (UnpackBundle's checks apply), unpacked on first
  // use. A refused bundle is an error naming the entry; nothing is left behind.
  core::Result<std::string> Tree(const std::string& digest);

  // Removes least recently used, unpinned entries until the total is within the bound;
  // returns the digests removed. Called by Acquire after a download.
  std::vector<std::string> Evict();

  std::int64_t total_bytes() const;
  bool Contains(const std::string& digest) const;
  const std::string& dir() const { return dir_; }

 private:
  struct Entry {
    std::int64_t size = 0;  // archive + unpacked tree
    std::uint64_t last_used = 0;
    int pins = 0;
    bool unpacked = false;
  };
  std::string PathFor(const std::string& digest) const;
  std::string TreeFor(const std::string& digest) const;
  std::vector<std::string> EvictLocked();

  std::string dir_;
  std::int64_t max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable fetched_;
  std::map<std::string, Entry> entries_;  // digest -> entry
  std::set<std::string> fetching_;        // digests being downloaded or unpacked
  std::uint64_t clock_ = 0;
  std::int64_t total_ = 0;
};

// Copies a directory tree (files with their modes, directories, symlinks as symlinks) into
// `to`, which must not exist yet. Files are copied in the kernel (copy_file_range).
core::Status CopyTree(const std::string& from, const std::string& to);

}  // namespace weft::agent
