#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "agent/bundle_cache.hpp"

using namespace weft::agent;
namespace fs = std::filesystem;

namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/weft-cache-unit-XXXXXX";
  return mkdtemp(tmpl);
}

std::string Digest(char c) { return "sha256:" + std::string(64, c); }

// A fetch that writes `bytes` bytes and counts its calls.
BundleCache::Fetch Writer(std::size_t bytes, int* calls) {
  return [bytes, calls](const std::string& dest) -> weft::core::Status {
    ++*calls;
    std::ofstream(dest, std::ios::binary) << std::string(bytes, 'x');
    return {};
  };
}

}  // namespace

TEST_CASE("bundle cache: a bundle is fetched once, then served from the cache", "[agent][cache]") {
  std::string dir = TempDir();
  BundleCache cache(dir, 1000);
  int calls = 0;
  auto p = cache.Acquire(Digest('a'), Writer(100, &calls));
  REQUIRE(p);
  CHECK(*p == dir + "/" + std::string(64, 'a') + ".tar.gz");
  CHECK(fs::file_size(*p) == 100);
  cache.Release(Digest('a'));
  auto again = cache.Acquire(Digest('a'), Writer(100, &calls));
  REQUIRE(again);
  cache.Release(Digest('a'));
  CHECK(calls == 1);
  CHECK(cache.total_bytes() == 100);
  fs::remove_all(dir);
}

TEST_CASE("bundle cache: least recently used bundles go first", "[agent][cache]") {
  std::string dir = TempDir();
  BundleCache cache(dir, 250);
  int calls = 0;
  for (char c : {'a', 'b'}) {
    REQUIRE(cache.Acquire(Digest(c), Writer(100, &calls)));
    cache.Release(Digest(c));
  }
  // Use "a" again, so "b" is the least recently used.
  REQUIRE(cache.Acquire(Digest('a'), Writer(100, &calls)));
  cache.Release(Digest('a'));
  REQUIRE(cache.Acquire(Digest('c'), Writer(100, &calls)));
  cache.Release(Digest('c'));
  CHECK(cache.Contains(Digest('a')));
  CHECK_FALSE(cache.Contains(Digest('b')));
  CHECK(cache.Contains(Digest('c')));
  CHECK_FALSE(fs::exists(dir + "/" + std::string(64, 'b') + ".tar.gz"));
  CHECK(cache.total_bytes() == 200);
  fs::remove_all(dir);
}

TEST_CASE("bundle cache: bundles in use are not evicted", "[agent][cache]") {
  std::string dir = TempDir();
  BundleCache cache(dir, 150);
  int calls = 0;
  REQUIRE(cache.Acquire(Digest('a'), Writer(100, &calls)));  // pinned
  REQUIRE(cache.Acquire(Digest('b'), Writer(100, &calls)));  // pinned
  CHECK(cache.total_bytes() == 200);  // over the bound while both are in use
  CHECK(cache.Evict().empty());
  cache.Release(Digest('a'));  // now "a" can go
  CHECK_FALSE(cache.Contains(Digest('a')));
  CHECK(cache.Contains(Digest('b')));
  cache.Release(Digest('b'));
  CHECK(cache.total_bytes() == 100);
  fs::remove_all(dir);
}

TEST_CASE("bundle cache: existing files are adopted, oldest first out", "[agent][cache]") {
  std::string dir = TempDir();
  {
    BundleCache cache(dir, 1000);
    int calls = 0;
    for (char c : {'a', 'b'}) {
      REQUIRE(cache.Acquire(Digest(c), Writer(100, &calls)));
      cache.Release(Digest(c));
    }
  }
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
  fs::last_write_time(dir + "/" + std::string(64, 'b') + ".tar.gz", old);
  std::ofstream(dir + "/notes.txt") << "not a bundle";
  BundleCache cache(dir, 150);
  CHECK(cache.total_bytes() == 200);
  CHECK(cache.Evict() == std::vector<std::string>{Digest('b')});
  CHECK(cache.Contains(Digest('a')));
  CHECK(fs::exists(dir + "/notes.txt"));
  fs::remove_all(dir);
}

TEST_CASE("bundle cache: a failed fetch leaves nothing and reports the error", "[agent][cache]") {
  std::string dir = TempDir();
  BundleCache cache(dir, 1000);
  auto p = cache.Acquire(Digest('d'), [](const std::string&) -> weft::core::Status {
    return weft::core::InvalidArgument("digest mismatch: expected sha256:ddd, got sha256:eee");
  });
  REQUIRE_FALSE(p);
  CHECK(p.error().message.find("digest mismatch") != std::string::npos);
  CHECK_FALSE(cache.Contains(Digest('d')));
  auto bad = cache.Acquire("md5:abc", [](const std::string&) -> weft::core::Status { return {}; });
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "bundle digest \"md5:abc\" is not sha256:<64 hex>");
  fs::remove_all(dir);
}
