// server storage: bundles streamed to and from weft-server (kept in its PostgreSQL).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sdk/client/bundle.hpp"
#include "sdk/client/client.hpp"
#include "sdk/client/storage/bundle_store.hpp"

namespace weft::client::storage {

namespace fs = std::filesystem;

namespace {

class ServerStore final : public BundleStore {
 public:
  explicit ServerStore(Client& client) : client_(client) {}

  std::string Describe() const override { return "server " + client_.options().address; }

  core::Status Put(const std::string& digest, const std::string& file) override {
    std::error_code ec;
    auto size = static_cast<std::int64_t>(fs::file_size(file, ec));
    if (ec) return core::NotFound(fmt::format("cannot read \"{}\": {}", file, ec.message()));
    std::ifstream in(file, std::ios::binary);
    if (!in) return core::NotFound(fmt::format("cannot open \"{}\"", file));
    auto resp = client_.UploadBundle(digest, size, [&](char* buf, std::size_t max) {
      in.read(buf, static_cast<std::streamsize>(max));
      return static_cast<std::size_t>(in.gcount());
    });
    if (!resp) return resp.error();
    return {};
  }

  core::Result<bool> Exists(const std::string& digest) override {
    v1::StatBundleRequest req;
    req.set_digest(digest);
    auto resp = client_.StatBundle(req);
    if (!resp) return resp.error();
    return resp->exists();
  }

  core::Status Get(const std::string& digest, const std::string& dest_file) override {
    std::string tmp = dest_file + fmt::format(".tmp.{}", ::getpid());
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return core::Internal(fmt::format("cannot write \"{}\"", tmp));
    auto s = client_.DownloadBundle(digest, [&](const std::string& data) {
      out.write(data.data(), static_cast<std::streamsize>(data.size()));
    });
    out.close();
    std::error_code ec;
    if (!s) {
      fs::remove(tmp, ec);
      return s;
    }
    if (!out) {
      fs::remove(tmp, ec);
      return core::Internal(fmt::format("cannot write \"{}\"", tmp));
    }
    return PublishVerified(tmp, digest, dest_file);
  }

 private:
  Client& client_;
};

}  // namespace

std::unique_ptr<BundleStore> MakeServerStore(Client& client) {
  return std::make_unique<ServerStore>(client);
}

}  // namespace weft::client::storage
