// OpenBundleStore: a storage record from the server -> the store that reads and writes it.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

#include "sdk/client/bundle.hpp"
#include "sdk/client/storage/bundle_store.hpp"

namespace weft::client::storage {

namespace {

std::string ConfigValue(const v1::Storage& s, const std::string& key) {
  auto it = s.config().find(key);
  return it == s.config().end() ? "" : it->second;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

core::Result<std::unique_ptr<BundleStore>> OpenBundleStore(const v1::Storage& storage,
                                                           Client& client) {
  const std::string& kind = storage.kind();
  if (kind == "local") {
    std::string path = ConfigValue(storage, "path");
    if (path.empty()) {
      return core::InvalidArgument(
          fmt::format("storage \"{}\": config.path is empty", storage.name()));
    }
    return MakeLocalStore(path);
  }
  if (kind == "server") return MakeServerStore(client);
  if (kind == "s3") {
    S3Config c;
    c.endpoint = ConfigValue(storage, "endpoint");
    c.bucket = ConfigValue(storage, "bucket");
    c.region = ConfigValue(storage, "region");
    c.prefix = ConfigValue(storage, "prefix");
    if (c.endpoint.empty()) {
      return core::InvalidArgument(
          fmt::format("storage \"{}\": config.endpoint is empty", storage.name()));
    }
    if (c.bucket.empty()) {
      return core::InvalidArgument(
          fmt::format("storage \"{}\": config.bucket is empty", storage.name()));
    }
    if (!c.prefix.empty() && c.prefix.back() != '/') c.prefix += '/';
    c.access_key_id = Env("AWS_ACCESS_KEY_ID");
    c.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
    c.session_token = Env("AWS_SESSION_TOKEN");
    if (c.access_key_id.empty() || c.secret_access_key.empty()) {
      return core::FailedPrecondition(
          fmt::format("storage \"{}\" (s3) needs credentials: set AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY",
                      storage.name()));
    }
    return MakeS3Store(std::move(c));
  }
  return core::InvalidArgument(fmt::format(
      "storage \"{}\": unknown kind \"{}\" (expected local, server or s3)", storage.name(), kind));
}

core::Status PublishVerified(const std::string& tmp, const std::string& digest,
                             const std::string& dest_file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (auto v = VerifyBundle(tmp, digest); !v) {
    fs::remove(tmp, ec);
    return v;
  }
  fs::rename(tmp, dest_file, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return core::Internal(fmt::format("cannot write \"{}\": {}", dest_file, ec.message()));
  }
  return {};
}

}  // namespace weft::client::storage
