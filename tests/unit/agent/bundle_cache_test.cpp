#include "agent/bundle_cache.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "sdk/client/bundle.hpp"

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
  CHECK(cache.total_bytes() == 200);                         // over the bound while both are in use
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

namespace {

// A real bundle (PackBundle) holding run.sh (executable) and data/in.txt.
std::string PackedBundle(const std::string& dir, std::string* digest) {
  fs::create_directories(dir + "/src/data");
  std::ofstream(dir + "/src/run.sh") << "#!/bin/sh\necho hi\n";
  fs::permissions(dir + "/src/run.sh", fs::perms::owner_exec, fs::perm_options::add);
  std::ofstream(dir + "/src/data/in.txt") << "input";
  auto packed = weft::client::PackBundle(dir + "/src", {"run.sh", "data"}, dir + "/b.tar.gz");
  REQUIRE(packed);
  *digest = packed->digest;
  return packed->path;
}

}  // namespace

TEST_CASE("bundle cache: a bundle is unpacked once into a template, runs get copies",
          "[agent][cache]") {
  std::string dir = TempDir();
  std::string digest;
  std::string archive = PackedBundle(dir, &digest);
  BundleCache cache(dir + "/cache", 1 << 20);
  auto copy = [&](const std::string& dest) -> weft::core::Status {
    fs::copy_file(archive, dest);
    return {};
  };
  REQUIRE(cache.Acquire(digest, copy));
  auto tree = cache.Tree(digest);
  REQUIRE(tree);
  CHECK(fs::exists(*tree + "/run.sh"));
  std::int64_t with_tree = cache.total_bytes();
  CHECK(with_tree > static_cast<std::int64_t>(fs::file_size(archive)));
  CHECK(*cache.Tree(digest) == *tree);  // once
  CHECK(cache.total_bytes() == with_tree);

  fs::create_directory(dir + "/runs");
  REQUIRE(CopyTree(*tree, dir + "/runs/r1"));
  REQUIRE(CopyTree(*tree, dir + "/runs/r2"));
  auto perms = fs::status(dir + "/runs/r1/run.sh").permissions();
  CHECK((perms & fs::perms::owner_exec) != fs::perms::none);
  std::ifstream in(dir + "/runs/r2/data/in.txt");
  std::string text;
  in >> text;
  CHECK(text == "input");
  // Runs do not share files: changing one run's copy leaves the template and others alone.
  std::ofstream(dir + "/runs/r1/data/in.txt") << "changed";
  std::ifstream tin(*tree + "/data/in.txt");
  tin >> text;
  CHECK(text == "input");
  CHECK_FALSE(CopyTree(*tree, dir + "/runs/r1"));  // the destination must be new

  // Eviction takes the archive and its tree.
  cache.Release(digest);
  BundleCache small(dir + "/cache", 1);
  CHECK(small.Evict() == std::vector<std::string>{digest});
  CHECK_FALSE(fs::exists(*tree));
  fs::remove_all(dir);
}

TEST_CASE("bundle cache: a bundle that does not unpack leaves no tree", "[agent][cache]") {
  std::string dir = TempDir();
  BundleCache cache(dir, 1 << 20);
  int calls = 0;
  REQUIRE(cache.Acquire(Digest('e'), Writer(100, &calls)));  // 100 x 'x': not a tar.gz
  auto tree = cache.Tree(Digest('e'));
  REQUIRE_FALSE(tree);
  CHECK_FALSE(fs::exists(dir + "/" + std::string(64, 'e') + ".d"));
  for (const auto& e : fs::directory_iterator(dir))
    CHECK(e.path().string().find(".tmp-") == std::string::npos);
  cache.Release(Digest('e'));
  fs::remove_all(dir);
}
