// Bounded bundle unpacking (docs/limits.md, "Bounded resources"): hand-made archives with
// too many entries or with sparse files are refused.
#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "sdk/client/bundle.hpp"
#include "sdk/core/bounds.hpp"

namespace fs = std::filesystem;
using namespace weft;

namespace {

struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "weft-bounds-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

struct Writer {
  archive* a = archive_write_new();
  explicit Writer(const fs::path& out) {
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    REQUIRE(archive_write_open_filename(a, out.c_str()) == ARCHIVE_OK);
  }
  ~Writer() {
    archive_write_close(a);
    archive_write_free(a);
  }
  void Dir(const std::string& name) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    archive_entry_free(e);
  }
  // A file of `size` bytes whose only data is `data` at its end: the rest is a hole.
  void Sparse(const std::string& name, la_int64_t size, const std::string& data) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, size);
    archive_entry_sparse_add_entry(e, size - static_cast<la_int64_t>(data.size()),
                                   static_cast<la_int64_t>(data.size()));
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
};

}  // namespace

TEST_CASE("bundle: more entries than the entry limit are refused", "[bundle][bounds]") {
  TempDir t;
  fs::path tar = t.path / "many.tar.gz";
  {
    Writer w(tar);
    // The same directory over and over: cheap to write and to unpack, yet one entry each.
    for (int i = 0; i <= core::bounds::kMaxBundleEntries; ++i) w.Dir("d/");
  }
  auto s = client::UnpackBundle(tar.string(), (t.path / "run").string());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == core::Code::kResourceExhausted);
  CHECK_THAT(s.error().message, Catch::Contains("more than 100000 entries"));

  fs::path few = t.path / "few.tar.gz";
  {
    Writer w(few);
    for (int i = 0; i < 10; ++i) w.Dir("d/");
  }
  CHECK(client::UnpackBundle(few.string(), (t.path / "run2").string()).ok());
}

TEST_CASE("bundle: sparse files are refused (a terabyte of holes is not unpacked)",
          "[bundle][bounds]") {
  TempDir t;
  fs::path tar = t.path / "sparse.tar.gz";
  {
    Writer w(tar);
    w.Sparse("holes", la_int64_t{1} << 40, std::string(4096, 'x'));
  }
  auto s = client::UnpackBundle(tar.string(), (t.path / "run").string());
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(s.error().message, Catch::Contains("entry \"holes\": sparse files are not allowed"));
  std::error_code ec;
  auto size = fs::file_size(t.path / "run" / "holes", ec);
  CHECK((ec || size < (1u << 20)));  // nothing of a terabyte on disk
}
