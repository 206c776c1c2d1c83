// Bundle unpacking as an agent does it with a bundle it did not make: the input is the
// archive (tar.gz or tar). Each input is unpacked into a fresh directory under one
// per-process temporary directory (removed at exit); nothing may land outside it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "sdk/client/bundle.hpp"
#include "tests/fuzz/fuzz_util.hpp"

namespace fs = std::filesystem;

namespace {

// Small caps: an input is at most a few KiB; what it inflates to is capped here.
constexpr std::int64_t kMaxUnpackedBytes = std::int64_t{16} << 20;

fs::path& Root() {
  static fs::path root;
  return root;
}

void RemoveRoot() {
  std::error_code ec;
  if (!Root().empty()) fs::remove_all(Root(), ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string tmpl = (fs::temp_directory_path() / "weft-fuzz-bundle-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) weft::fuzz::Fail("mkdtemp", tmpl);
  Root() = tmpl;
  std::atexit(RemoveRoot);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace weft;
  const fs::path archive = Root() / "bundle.tar.gz";
  const fs::path dest = Root() / "tree";
  {
    std::ofstream out(archive, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) fuzz::Fail("cannot write the archive", archive.string());
  }
  auto st = client::UnpackBundle(archive.string(), dest.string(), kMaxUnpackedBytes);
  if (!st.ok() && st.error().message.empty()) fuzz::Fail("error without a message", "");
  // Every entry of the tree is inside it, and a symlink's target resolves inside it.
  std::error_code ec;
  if (fs::exists(dest, ec)) {
    const fs::path root = fs::canonical(dest, ec);
    for (auto it = fs::recursive_directory_iterator(dest, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!st.ok()) break;  // a refused bundle may leave a partial tree; the caller discards it
      if (it->is_symlink(ec)) {
        std::error_code ec2;
        fs::path target = fs::weakly_canonical(it->path(), ec2);
        auto rel = target.lexically_relative(root);
        if (!ec2 && (rel.empty() || *rel.begin() == "..")) {
          fuzz::Fail("a symlink leaves the tree", it->path().string() + " -> " + target.string());
        }
      }
    }
  }
  fs::remove_all(dest, ec);
  // Nothing outside the tree but the archive itself.
  for (const auto& e : fs::directory_iterator(Root(), ec)) {
    if (e.path() != archive) fuzz::Fail("unpacking left a file outside the tree", e.path().string());
  }
  return 0;
}
