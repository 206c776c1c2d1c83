// local storage: <path>/bundles/<hex>.tar.gz, written atomically.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "sdk/client/bundle.hpp"
#include "sdk/client/storage/bundle_store.hpp"

namespace weft::client::storage {

namespace fs = std::filesystem;

namespace {

// Copies src to dest through a temp file beside dest, then renames it into place.
core::Status CopyAtomically(const fs::path& src, const fs::path& dest) {
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) {
    return core::Unavailable(
        fmt::format("cannot create \"{}\": {}", dest.parent_path().string(), ec.message()));
  }
  fs::path tmp = dest;
  tmp += fmt::format(".tmp.{}", ::getpid());
  fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return core::Unavailable(
        fmt::format("cannot copy \"{}\" to \"{}\": {}", src.string(), tmp.string(), ec.message()));
  }
  fs::permissions(tmp,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                      fs::perms::others_read,
                  ec);
  fs::rename(tmp, dest, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return core::Unavailable(fmt::format("cannot write \"{}\": {}", dest.string(), ec.message()));
  }
  return {};
}

class LocalStore final : public BundleStore {
 public:
  explicit LocalStore(std::string path) : root_(std::move(path)) {}

  std::string Describe() const override { return "local " + root_.string(); }

  core::Status Put(const std::string& digest, const std::string& file) override {
    if (!IsValidDigest(digest)) return core::InvalidArgument("bad digest \"" + digest + "\"");
    return CopyAtomically(file, PathOf(digest));
  }

  core::Result<bool> Exists(const std::string& digest) override {
    std::error_code ec;
    return fs::is_regular_file(PathOf(digest), ec);
  }

  core::Status Get(const std::string& digest, const std::string& dest_file) override {
    fs::path src = PathOf(digest);
    std::error_code ec;
    if (!fs::is_regular_file(src, ec)) {
      return core::NotFound(
          fmt::format("bundle {} not found in local storage ({})", digest, src.string()));
    }
    if (auto s = VerifyBundle(src.string(), digest); !s) return s;
    if (auto s = CopyAtomically(src, dest_file); !s) return s;
    return VerifyBundle(dest_file, digest);
  }

 private:
  fs::path PathOf(const std::string& digest) const { return root_ / BundleObjectName(digest); }
  fs::path root_;
};

}  // namespace

std::unique_ptr<BundleStore> MakeLocalStore(const std::string& path) {
  return std::make_unique<LocalStore>(path);
}

std::string BundleObjectName(const std::string& digest) {
  return "bundles/" + DigestHex(digest) + ".tar.gz";
}

}  // namespace weft::client::storage
