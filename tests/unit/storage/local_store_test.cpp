// The local bundle store: content-addressed files, written atomically, verified on Get.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sdk/client/bundle.hpp"
#include "sdk/client/storage/bundle_store.hpp"

namespace fs = std::filesystem;
using namespace weft::client;

namespace {
struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "weft-store-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};
std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("local store: put, exists and get round-trip a bundle", "[store]") {
  TempDir t;
  fs::create_directories(t.path / "p");
  std::ofstream(t.path / "p/f.txt") << "hello";
  auto b = PackBundle((t.path / "p").string(), {"f.txt"}, (t.path / "b.tar.gz").string());
  REQUIRE(b.ok());
  auto store = storage::MakeLocalStore((t.path / "store").string());
  CHECK_FALSE(store->Exists(b->digest).value());
  REQUIRE(store->Put(b->digest, b->path).ok());
  CHECK(store->Exists(b->digest).value());
  fs::path stored = t.path / "store/bundles" / (DigestHex(b->digest) + ".tar.gz");
  CHECK(fs::exists(stored));
  // Only the bundle itself: no temp files left beside it.
  CHECK(std::distance(fs::directory_iterator(t.path / "store/bundles"), fs::directory_iterator{}) ==
        1);
  REQUIRE(store->Get(b->digest, (t.path / "got.tar.gz").string()).ok());
  CHECK(Read(t.path / "got.tar.gz") == Read(b->path));

  std::string missing = "sha256:" + std::string(64, '0');
  auto g = store->Get(missing, (t.path / "x.tar.gz").string());
  REQUIRE_FALSE(g.ok());
  CHECK(g.error().code == weft::core::Code::kNotFound);
  CHECK_FALSE(fs::exists(t.path / "x.tar.gz"));

  // A stored file that no longer matches its name is refused.
  std::ofstream(stored, std::ios::app) << "tampered";
  auto bad = store->Get(b->digest, (t.path / "bad.tar.gz").string());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("expected " + b->digest) != std::string::npos);
  CHECK_FALSE(fs::exists(t.path / "bad.tar.gz"));
}
