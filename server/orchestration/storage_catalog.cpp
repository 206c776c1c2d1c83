#include "server/orchestration/storage_catalog.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "sdk/core/connection_limits.hpp"
#include "sdk/core/field_limits.hpp"
#include "sdk/core/names.hpp"
#include "server/store/storage_repo.hpp"

namespace weft::server::orchestration {

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool LooksLikeCredential(const std::string& key) {
  std::string k = Lower(key);
  for (const char* prefix : {"access_key", "aws_access_key", "secret", "aws_secret"}) {
    if (k.rfind(prefix, 0) == 0) return true;
  }
  for (const char* word : {"password", "token", "secret", "credential"}) {
    if (k.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ", ";
    out += i;
  }
  return out;
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const char* data, std::size_t n) { EVP_DigestUpdate(ctx_, data, n); }
  std::string HexDigest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out.push_back(kHex[md[i] >> 4]);
      out.push_back(kHex[md[i] & 15]);
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

core::Error StorageNotFound(const std::string& name) {
  return core::NotFound("storage \"" + name + "\" not found (run `weft storage ls`)");
}

// An upload's bytes on local disk: a file made 0600 by mkstemp and unlinked at once, so that
// no path (refusal, cancelled stream, crash) leaves it behind; closed with this object.
class SpoolFile {
 public:
  SpoolFile() = default;
  ~SpoolFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  // "" when open; else the problem.
  std::string Open(const std::string& dir) {
    std::error_code ec;
    if (std::filesystem::create_directories(dir, ec)) {
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);  // 0700
    }
    if (ec) return "cannot create " + dir + ": " + ec.message();
    std::string path = dir + "/upload-XXXXXX";
    fd_ = ::mkstemp(path.data());
    if (fd_ < 0) return "cannot create a file in " + dir + ": " + std::strerror(errno);
    ::unlink(path.c_str());
    return {};
  }
  // "" when written; else the problem.
  std::string Append(const char* data, std::size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, data, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return std::string("cannot write the spool file: ") + std::strerror(errno);
      data += w;
      n -= static_cast<std::size_t>(w);
    }
    return {};
  }
  // Reads up to `n` bytes at `offset` into `out` (resized); false on a read error.
  bool ReadAt(std::int64_t offset, std::size_t n, std::string& out) {
    out.resize(n);
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, out.data() + got, n - got, static_cast<off_t>(offset) +
                                                             static_cast<off_t>(got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      got += static_cast<std::size_t>(r);
    }
    return true;
  }

 private:
  int fd_ = -1;
};

std::string ConfigToJson(const std::map<std::string, std::string>& config) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : config) j[k] = v;
  return j.dump();
}

}  // namespace

bool IsPlainName(const std::string& name) { return core::IsValidName(name); }

std::string CheckDigest(const std::string& digest) {
  bool ok = digest.size() == 71 && digest.rfind("sha256:", 0) == 0 &&
            std::all_of(digest.begin() + 7, digest.end(),
                        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (ok) return {};
  return "must be \"sha256:\" followed by 64 lowercase hex digits, got \"" + digest + "\"";
}

std::string FormatMiB(std::int64_t bytes, bool exact_if_whole) {
  char buf[64];
  if (exact_if_whole && bytes % (1LL << 20) == 0) {
    std::snprintf(buf, sizeof buf, "%lld MiB", static_cast<long long>(bytes >> 20));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  }
  return buf;
}

std::string CheckStorageSpec(StorageSpec& spec) {
  if (auto p = core::NameProblem(spec.name); !p.empty()) return "name: " + p;
  if (spec.kind != "local" && spec.kind != "server" && spec.kind != "s3") {
    return "kind: must be local, server or s3, got \"" + spec.kind + "\"";
  }
  for (const auto& [key, value] : spec.config) {
    if (key.size() > core::kMaxConfigKeyBytes) {
      return "config: a key of " + std::to_string(key.size()) + " bytes, longer than the limit of " +
             core::DescribeBytes(core::kMaxConfigKeyBytes);
    }
    if (auto st = core::CheckTextLength(value, "config." + key, core::kMaxConfigValueBytes);
        !st.ok()) {
      return st.error().message;
    }
    if (LooksLikeCredential(key)) {
      return "config." + key +
             ": credentials are never stored; they come from the environment of whoever reads "
             "or writes the storage (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)";
    }
  }
  std::vector<std::string> allowed;
  if (spec.kind == "local") allowed = {"path"};
  if (spec.kind == "s3") allowed = {"endpoint", "bucket", "region", "prefix"};
  for (const auto& [key, value] : spec.config) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return "config." + key + ": unknown key for a " + spec.kind + " storage" +
             (allowed.empty() ? std::string(" (it takes no config)")
                              : " (allowed: " + Join(allowed) + ")");
    }
  }
  if (spec.kind == "local") {
    auto it = spec.config.find("path");
    if (it == spec.config.end() || it->second.empty()) {
      return "config.path: required for a local storage";
    }
    if (it->second[0] != '/') {
      return "config.path: must be an absolute path, got \"" + it->second + "\"";
    }
  }
  if (spec.kind == "s3") {
    auto ep = spec.config.find("endpoint");
    if (ep == spec.config.end() || ep->second.empty()) {
      return "config.endpoint: required for an s3 storage (e.g. "
             "https://s3.us-east-1.amazonaws.com)";
    }
    if ((ep->second.rfind("http://", 0) != 0 && ep->second.rfind("https://", 0) != 0) ||
        ep->second.find("://") + 3 >= ep->second.size()) {
      return "config.endpoint: must be an http:// or https:// URL, got \"" + ep->second + "\"";
    }
    auto b = spec.config.find("bucket");
    if (b == spec.config.end() || b->second.empty()) {
      return "config.bucket: required for an s3 storage";
    }
    for (char c : b->second) {
      if (!(std::islower(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
        return "config.bucket: must be lowercase letters, digits, '-' or '.', got \"" + b->second +
               "\"";
      }
    }
    auto r = spec.config.find("region");
    if (r == spec.config.end() || r->second.empty()) spec.config["region"] = "us-east-1";
    auto p = spec.config.find("prefix");
    if (p != spec.config.end() && p->second.empty()) spec.config.erase(p);
  }
  return {};
}

StorageCatalog::StorageCatalog(store::Database& db, std::int64_t max_bundle_size,
                               std::shared_ptr<spdlog::logger> logger)
    : db_(db),
      max_bundle_size_(max_bundle_size),
      spool_dir_((std::filesystem::temp_directory_path() /
                  ("weft-uploads-" + std::to_string(::getpid())))
                     .string()),
      max_concurrent_uploads_(core::limits::kMaxConcurrentUploads),
      logger_(std::move(logger)) {
  if (!logger_) logger_ = spdlog::default_logger();
}

void StorageCatalog::SetUploadSpool(std::string dir, int max_concurrent_uploads) {
  if (!dir.empty()) spool_dir_ = std::move(dir);
  max_concurrent_uploads_ = max_concurrent_uploads;
}

core::Result<store::StorageRecord> StorageCatalog::Create(const StorageSpec& in) {
  StorageSpec spec = in;
  std::string problem = CheckStorageSpec(spec);
  if (!problem.empty()) return core::InvalidArgument(problem);
  auto r = db_.WithRetry([&](store::Tx& tx) -> core::Result<store::StorageRecord> {
    store::StorageRepo::LockCatalog(tx);
    auto rec = store::StorageRepo::Insert(tx, spec.name, spec.kind, ConfigToJson(spec.config));
    if (!rec) return core::AlreadyExists("storage \"" + spec.name + "\" already exists");
    if (spec.make_default || !store::StorageRepo::HasDefault(tx)) {
      store::StorageRepo::SetDefault(tx, spec.name);
    }
    auto stored = store::StorageRepo::GetByName(tx, spec.name);
    if (!stored) return core::Internal("storage vanished after creation");
    return std::move(*stored);
  });
  if (r.ok()) {
    logger_->info("storage created name={} kind={} default={}", r->name, r->kind, r->is_default);
  }
  return r;
}

core::Result<store::StorageRecord> StorageCatalog::Get(const std::string& name) {
  return db_.WithTransaction([&](store::Tx& tx) -> core::Result<store::StorageRecord> {
    auto rec = store::StorageRepo::GetByName(tx, name);
    if (!rec) return StorageNotFound(name);
    return std::move(*rec);
  });
}

core::Result<std::vector<store::StorageRecord>> StorageCatalog::List(const std::string& after_name,
                                                                     int limit) {
  return db_.WithTransaction([&](store::Tx& tx) -> core::Result<std::vector<store::StorageRecord>> {
    return store::StorageRepo::List(tx, after_name, limit);
  });
}

core::Result<store::StorageRecord> StorageCatalog::SetDefault(const std::string& name) {
  auto r = db_.WithRetry([&](store::Tx& tx) -> core::Result<store::StorageRecord> {
    store::StorageRepo::LockCatalog(tx);
    if (!store::StorageRepo::SetDefault(tx, name)) return StorageNotFound(name);
    auto rec = store::StorageRepo::GetByName(tx, name);
    if (!rec) return StorageNotFound(name);
    return std::move(*rec);
  });
  if (r.ok()) logger_->info("storage default name={}", name);
  return r;
}

core::Status StorageCatalog::Delete(const std::string& name) {
  auto r = db_.WithRetry([&](store::Tx& tx) -> core::Status {
    store::StorageRepo::LockCatalog(tx);
    auto rec = store::StorageRepo::GetByName(tx, name);
    if (!rec) return StorageNotFound(name);
    if (!rec->used_by.empty()) {
      return core::FailedPrecondition("storage \"" + name +
                                      "\" is used by deployments: " + Join(rec->used_by));
    }
    store::StorageRepo::Delete(tx, rec->id);
    if (rec->is_default) {
      auto rest = store::StorageRepo::List(tx, "", 1);
      if (!rest.empty()) store::StorageRepo::SetDefault(tx, rest.front().name);
    }
    return {};
  });
  if (r.ok()) logger_->info("storage deleted name={}", name);
  return r;
}

core::Result<std::optional<store::BundleInfo>> StorageCatalog::StatBundle(
    const std::string& digest) {
  std::string problem = CheckDigest(digest);
  if (!problem.empty()) return core::InvalidArgument("digest: " + problem);
  return db_.WithTransaction([&](store::Tx& tx) -> core::Result<std::optional<store::BundleInfo>> {
    return store::BundleRepo::Stat(tx, digest);
  });
}

core::Result<UploadResult> StorageCatalog::UploadBundle(
    const std::string& digest, std::int64_t size,
    const std::function<bool(std::string* data)>& next) {
  std::string problem = CheckDigest(digest);
  if (!problem.empty()) return core::InvalidArgument("digest: " + problem);
  if (size < 0) return core::InvalidArgument("size: must be >= 0, got " + std::to_string(size));
  auto too_big = [&](std::int64_t bytes) {
    return core::Error{core::Code::kResourceExhausted,
                       "bundle is " + FormatMiB(bytes, false) + "; the limit is " +
                           FormatMiB(max_bundle_size_, true) +
                           " (server setting --max-bundle-size / WEFT_SERVER_MAX_BUNDLE_SIZE)"};
  };
  if (size > max_bundle_size_) return too_big(size);

  // A bundle already stored needs none of the stream.
  auto present = StatBundle(digest);
  if (!present.ok()) return present.error();
  if (*present) return UploadResult{digest, (*present)->size, true};

  // Bounded concurrency: each upload holds a server thread and a spool file until it ends.
  int in_progress = uploads_in_progress_.fetch_add(1) + 1;
  struct Release {
    std::atomic<int>& n;
    ~Release() { n.fetch_sub(1); }
  } release{uploads_in_progress_};
  if (in_progress > max_concurrent_uploads_) {
    return core::Error{core::Code::kResourceExhausted,
                       "uploads: " + std::to_string(max_concurrent_uploads_) +
                           " bundle uploads are already in progress, the limit (server setting "
                           "--max-concurrent-uploads / WEFT_SERVER_MAX_CONCURRENT_UPLOADS); "
                           "try again shortly"};
  }

  // 1. Spool: no database connection is held while the client sends (or dawdles).
  SpoolFile spool;
  if (auto problem = spool.Open(spool_dir_); !problem.empty()) {
    logger_->error("bundle upload spool failed error=\"{}\"", problem);
    return core::Unavailable("upload spool: " + problem);
  }
  Sha256 hash;
  std::string piece;
  std::int64_t received = 0;
  auto refused = [&](core::Error e) -> core::Result<UploadResult> {
    logger_->warn("bundle upload refused digest={} error=\"{}\"", digest, e.message);
    return e;
  };
  while (next(&piece)) {
    received += static_cast<std::int64_t>(piece.size());
    if (received > max_bundle_size_) return refused(too_big(received));
    if (received > size) {
      return refused(core::InvalidArgument("size: received more than the declared " +
                                           std::to_string(size) + " bytes"));
    }
    hash.Update(piece.data(), piece.size());
    if (auto problem = spool.Append(piece.data(), piece.size()); !problem.empty()) {
      logger_->error("bundle upload spool failed error=\"{}\"", problem);
      return core::Unavailable("upload spool: " + problem);
    }
  }
  if (received != size) {
    return refused(core::InvalidArgument("size: received " + std::to_string(received) +
                                         " bytes, expected " + std::to_string(size) +
                                         " (stream ended early?)"));
  }
  std::string got = "sha256:" + hash.HexDigest();
  if (got != digest) {
    return refused(core::InvalidArgument("digest: the received bytes hash to " + got +
                                         ", not " + digest));
  }

  // 2. Store: one short transaction from the local file, never retried, all or nothing.
  auto r = db_.WithTransaction([&](store::Tx& tx) -> core::Result<UploadResult> {
    if (!store::BundleRepo::Begin(tx, digest, size)) {
      auto info = store::BundleRepo::Stat(tx, digest);
      return UploadResult{digest, info ? info->size : size, true};
    }
    std::string buffer;
    int seq = 0;
    for (std::int64_t off = 0; off < size; off += static_cast<std::int64_t>(kChunkBytes)) {
      std::size_t n = static_cast<std::size_t>(
          std::min<std::int64_t>(static_cast<std::int64_t>(kChunkBytes), size - off));
      if (!spool.ReadAt(off, n, buffer)) return core::Internal("upload spool: read failed");
      store::BundleRepo::InsertChunk(tx, digest, seq++, buffer.data(), n);
    }
    store::BundleRepo::Complete(tx, digest, size, seq);
    return UploadResult{digest, size, false};
  });
  if (r.ok() && !r->already_present) {
    logger_->info("bundle stored digest={} size={}", digest, size);
  } else if (!r.ok()) {
    logger_->warn("bundle upload refused digest={} error=\"{}\"", digest, r.error().message);
  }
  return r;
}

core::Status StorageCatalog::DownloadBundle(
    const std::string& digest, const std::function<bool(const std::string& data)>& write) {
  auto info = StatBundle(digest);
  if (!info.ok()) return info.error();
  if (!*info) return core::NotFound("bundle \"" + digest + "\" not found");
  const int chunks = (*info)->chunks;
  for (int seq = 0; seq < chunks; ++seq) {
    // One short transaction per chunk: chunks are immutable once committed, and a slow
    // receiver does not hold a pooled connection.
    auto data = db_.WithTransaction([&](store::Tx& tx) -> core::Result<std::string> {
      auto d = store::BundleRepo::ReadChunk(tx, digest, seq);
      if (!d) return core::Internal("bundle " + digest + " lacks chunk " + std::to_string(seq));
      return std::move(*d);
    });
    if (!data.ok()) return data.error();
    if (!write(*data)) return core::Error{core::Code::kCancelled, "download cancelled"};
  }
  return {};
}

}  // namespace weft::server::orchestration
