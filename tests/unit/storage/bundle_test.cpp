// Bundles: deterministic packing, include rules, the size limit, and defensive unpacking of
// hand-made malicious archives.
#include "sdk/client/bundle.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace weft::client;

namespace {

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "weft-bundle-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

void Write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A project folder with a few files.
void MakeProject(const fs::path& root) {
  Write(root / "flow.sh", "#!/bin/sh\necho hi\n");
  fs::permissions(root / "flow.sh", fs::perms::owner_exec, fs::perm_options::add);
  Write(root / "data/a.csv", "x,y\n1,2\n");
  Write(root / "data/sub/b.csv", "x,y\n3,4\n");
  Write(root / "data/notes.txt", "notes");
  Write(root / "README.md", "readme");
}

// One entry of a hand-made archive.
struct Entry {
  std::string name;
  unsigned type = AE_IFREG;
  std::string data;
  std::string link;      // symlink target
  std::string hardlink;  // hardlink target
};

void MakeTar(const fs::path& out, const std::vector<Entry>& entries) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  REQUIRE(archive_write_open_filename(a, out.c_str()) == ARCHIVE_OK);
  for (const auto& e : entries) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.name.c_str());
    archive_entry_set_filetype(en, e.type);
    archive_entry_set_perm(en, 0644);
    if (!e.link.empty()) archive_entry_set_symlink(en, e.link.c_str());
    if (!e.hardlink.empty()) archive_entry_set_hardlink(en, e.hardlink.c_str());
    if (e.type == AE_IFCHR) archive_entry_set_rdev(en, makedev(1, 3));
    archive_entry_set_size(
        en, e.type == AE_IFREG && e.hardlink.empty() ? static_cast<la_int64_t>(e.data.size()) : 0);
    REQUIRE(archive_write_header(a, en) == ARCHIVE_OK);
    if (!e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(en);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace

TEST_CASE("bundle: the same files give the same bytes, whatever their times", "[bundle]") {
  TempDir t;
  MakeProject(t.path / "p");
  auto a = PackBundle((t.path / "p").string(), {"flow.sh", "data"}, (t.path / "a.tar.gz").string());
  REQUIRE(a.ok());
  CHECK(IsValidDigest(a->digest));
  CHECK(a->files ==
        std::vector<std::string>{"data/a.csv", "data/notes.txt", "data/sub/b.csv", "flow.sh"});
  // New modification times and a different include order: same digest.
  for (const auto& f : fs::recursive_directory_iterator(t.path / "p")) {
    fs::last_write_time(f.path(), fs::file_time_type::clock::now() - std::chrono::hours(50));
  }
  auto b = PackBundle((t.path / "p").string(), {"data", "flow.sh", "data/a.csv"},
                      (t.path / "b.tar.gz").string());
  REQUIRE(b.ok());
  CHECK(b->digest == a->digest);
  CHECK(Read(t.path / "a.tar.gz") == Read(t.path / "b.tar.gz"));
  // The gzip header carries no time either (MTIME, bytes 4-7, is zero).
  std::string head = Read(t.path / "a.tar.gz").substr(0, 8);
  CHECK(head.substr(0, 2) == "\x1f\x8b");
  CHECK(head.substr(4, 4) == std::string(4, '\0'));
  CHECK(Sha256File((t.path / "a.tar.gz").string()).value() == a->digest);
  CHECK(a->size == static_cast<std::int64_t>(fs::file_size(t.path / "a.tar.gz")));

  // One changed byte: another digest.
  Write(t.path / "p/data/a.csv", "x,y\n1,3\n");
  auto c = PackBundle((t.path / "p").string(), {"flow.sh", "data"}, (t.path / "c.tar.gz").string());
  REQUIRE(c.ok());
  CHECK(c->digest != a->digest);
}

TEST_CASE("bundle: pack then unpack gives the files back byte for byte", "[bundle]") {
  TempDir t;
  MakeProject(t.path / "p");
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) % 251);
  Write(t.path / "p/model.bin", big);
  auto b = PackBundle((t.path / "p").string(), {"flow.sh", "data", "model.bin"},
                      (t.path / "b.tar.gz").string());
  REQUIRE(b.ok());
  auto s = UnpackBundle(b->path, (t.path / "out").string());
  INFO((s.ok() ? "" : s.error().message));
  REQUIRE(s.ok());
  CHECK(Read(t.path / "out/model.bin") == big);
  CHECK(Read(t.path / "out/data/sub/b.csv") == "x,y\n3,4\n");
  CHECK(Read(t.path / "out/flow.sh") == "#!/bin/sh\necho hi\n");
  CHECK((fs::status(t.path / "out/flow.sh").permissions() & fs::perms::owner_exec) !=
        fs::perms::none);
  CHECK((fs::status(t.path / "out/data/a.csv").permissions() & fs::perms::owner_exec) ==
        fs::perms::none);
  CHECK_FALSE(fs::exists(t.path / "out/README.md"));
}

TEST_CASE("bundle: globs, and paths outside the base go to the bundle root", "[bundle]") {
  TempDir t;
  MakeProject(t.path / "p");
  Write(t.path / "elsewhere/bin/tool", "tool");
  auto b = PackBundle((t.path / "p").string(), {"**/*.csv", "*.md", "../elsewhere/bin/tool"},
                      (t.path / "b.tar.gz").string());
  REQUIRE(b.ok());
  CHECK(b->files == std::vector<std::string>{"README.md", "data/a.csv", "data/sub/b.csv", "tool"});
  auto none = PackBundle((t.path / "p").string(), {"*.parquet"}, (t.path / "n.tar.gz").string());
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message == "include: pattern \"*.parquet\" matches no file");
}

TEST_CASE("bundle: a missing include file is named", "[bundle]") {
  TempDir t;
  MakeProject(t.path / "p");
  auto b = PackBundle((t.path / "p").string(), {"flow.sh", "data/x.csv"},
                      (t.path / "b.tar.gz").string());
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().code == weft::core::Code::kInvalidArgument);
  CHECK(b.error().message == "include: file \"data/x.csv\" not found");
  CHECK_FALSE(fs::exists(t.path / "b.tar.gz"));
}

TEST_CASE("bundle: the size limit gives both sizes and leaves no file", "[bundle]") {
  TempDir t;
  std::string noise(300000, '\0');
  unsigned x = 12345;
  for (auto& c : noise) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  Write(t.path / "p/noise.bin", noise);
  auto b =
      PackBundle((t.path / "p").string(), {"noise.bin"}, (t.path / "b.tar.gz").string(), 100000);
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().code == weft::core::Code::kResourceExhausted);
  CHECK(Contains(b.error().message, "over the limit of 97.7 KiB (100000 bytes)"));
  CHECK(Contains(b.error().message, "WEFT_MAX_BUNDLE_SIZE"));
  CHECK_FALSE(fs::exists(t.path / "b.tar.gz"));

  ::setenv("WEFT_MAX_BUNDLE_SIZE", "64KiB", 1);
  CHECK(MaxBundleSize() == 65536);
  auto env_limited =
      PackBundle((t.path / "p").string(), {"noise.bin"}, (t.path / "b.tar.gz").string());
  ::unsetenv("WEFT_MAX_BUNDLE_SIZE");
  REQUIRE_FALSE(env_limited.ok());
  CHECK(Contains(env_limited.error().message, "over the limit of 64.0 KiB (65536 bytes)"));
  CHECK(MaxBundleSize() == 100 << 20);
}

TEST_CASE("bundle: a changed file fails verification naming both digests", "[bundle]") {
  TempDir t;
  MakeProject(t.path / "p");
  auto b = PackBundle((t.path / "p").string(), {"flow.sh"}, (t.path / "b.tar.gz").string());
  REQUIRE(b.ok());
  CHECK(VerifyBundle(b->path, b->digest).ok());
  std::string bytes = Read(b->path);
  bytes[bytes.size() / 2] ^= 1;
  Write(b->path, bytes);
  auto v = VerifyBundle(b->path, b->digest);
  REQUIRE_FALSE(v.ok());
  CHECK(Contains(v.error().message, "expected " + b->digest));
}

TEST_CASE("bundle: unpack refuses malicious entries and names them", "[bundle]") {
  struct Case {
    const char* what;
    std::vector<Entry> entries;
    std::string message;
  };
  std::vector<Case> cases = {
      {"absolute path",
       {{"/tmp/evil", AE_IFREG, "x", "", ""}},
       "entry \"/tmp/evil\": absolute paths are not allowed"},
      {"dot-dot",
       {{"a/../../evil", AE_IFREG, "x", "", ""}},
       "entry \"a/../../evil\": \"..\" components are not allowed"},
      {"symlink to an absolute path",
       {{"etc", AE_IFLNK, "", "/etc", ""}},
       "entry \"etc\": symlink to \"/etc\" points outside the bundle directory"},
      {"symlink climbing out",
       {{"d/up", AE_IFLNK, "", "../../outside", ""}},
       "entry \"d/up\": symlink to \"../../outside\" points outside the bundle directory"},
      {"a chain of links that leads out",
       {{"l1", AE_IFLNK, "", ".", ""}, {"sub/l2", AE_IFLNK, "", "../l1/..", ""}},
       "entry \"sub/l2\": symlink leads outside the bundle directory"},
      {"hardlink to a path outside",
       {{"h", AE_IFREG, "", "", "../outside/secret"}},
       "entry \"h\": hardlink to \"../outside/secret\" points outside the bundle directory"},
      {"hardlink to an absolute path",
       {{"h", AE_IFREG, "", "", "/etc/passwd"}},
       "entry \"h\": hardlink to \"/etc/passwd\" points outside the bundle directory"},
      {"device file",
       {{"null", AE_IFCHR, "", "", ""}},
       "entry \"null\": device files are not allowed"},
      {"fifo", {{"pipe", AE_IFIFO, "", "", ""}}, "entry \"pipe\": FIFOs are not allowed"},
      {"overwrite through a duplicate",
       {{"f", AE_IFREG, "one", "", ""}, {"f", AE_IFREG, "two", "", ""}},
       "entry \"f\": would overwrite an earlier entry"},
      {"write through a link",
       {{"ln", AE_IFLNK, "", "target", ""}, {"ln", AE_IFREG, "x", "", ""}},
       "entry \"ln\": would overwrite an earlier entry"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      TempDir t;
      Write(t.path / "outside/secret", "secret");
      fs::path tar = t.path / "evil.tar.gz";
      MakeTar(tar, c.entries);
      auto s = UnpackBundle(tar.string(), (t.path / "run").string());
      REQUIRE_FALSE(s.ok());
      CHECK(s.error().message == "bundle \"" + tar.string() + "\": " + c.message);
      CHECK(Read(t.path / "outside/secret") == "secret");
      CHECK_FALSE(fs::exists(t.path / "evil"));
      CHECK_FALSE(fs::exists("/tmp/evil"));
    }
  }
}

TEST_CASE("bundle: links that stay inside are unpacked", "[bundle]") {
  TempDir t;
  fs::path tar = t.path / "ok.tar.gz";
  MakeTar(tar, {{"lib/libx.so.1", AE_IFREG, "elf", "", ""},
                {"lib/libx.so", AE_IFLNK, "", "libx.so.1", ""},
                {"bin/run", AE_IFLNK, "", "../lib/libx.so", ""},
                {"copy", AE_IFREG, "", "", "lib/libx.so.1"},
                {"dir/", AE_IFDIR, "", "", ""}});
  auto s = UnpackBundle(tar.string(), (t.path / "run").string());
  INFO((s.ok() ? "" : s.error().message));
  REQUIRE(s.ok());
  CHECK(Read(t.path / "run/bin/run") == "elf");
  CHECK(Read(t.path / "run/copy") == "elf");
  CHECK(fs::is_directory(t.path / "run/dir"));
}

TEST_CASE("bundle: unpacking stops at the unpacked size limit", "[bundle]") {
  TempDir t;
  fs::path tar = t.path / "bomb.tar.gz";
  MakeTar(tar, {{"zeros", AE_IFREG, std::string(1 << 20, '\0'), "", ""}});
  auto s = UnpackBundle(tar.string(), (t.path / "run").string(), 1000);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == weft::core::Code::kResourceExhausted);
  CHECK(Contains(s.error().message, "entry \"zeros\": the bundle unpacks to more than"));
}
