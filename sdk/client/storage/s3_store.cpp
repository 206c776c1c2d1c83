// s3 storage: PUT/GET/HEAD of <prefix>bundles/<hex>.tar.gz with path-style URLs
// (endpoint/bucket/key), signed with SigV4. Secrets never appear in messages.
#include <curl/curl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>

#include "sdk/client/bundle.hpp"
#include "sdk/client/storage/bundle_store.hpp"
#include "sdk/client/storage/sigv4.hpp"
#include "sdk/core/bounds.hpp"

namespace weft::client::storage {

namespace fs = std::filesystem;

namespace {

constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string AmzDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string XmlField(const std::string& xml, const std::string& tag) {
  auto b = xml.find("<" + tag + ">");
  if (b == std::string::npos) return "";
  b += tag.size() + 2;
  auto e = xml.find("</" + tag + ">", b);
  if (e == std::string::npos) return "";
  return xml.substr(b, e - b);
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Where a GET's body goes: the file when the status is 200, else the error buffer.
struct Sink {
  CURL* curl = nullptr;
  std::FILE* file = nullptr;
  std::string error_body;
  bool write_failed = false;
  std::int64_t max_bytes = 0;  // > 0: a 200 body beyond this is abandoned
  std::int64_t received = 0;
  bool too_large = false;
};

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* sink = static_cast<Sink*>(userdata);
  size_t n = size * nmemb;
  long code = 0;
  curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &code);
  if (code == 200 && sink->file) {
    sink->received += static_cast<std::int64_t>(n);
    if (sink->max_bytes > 0 && sink->received > sink->max_bytes) {
      sink->too_large = true;  // counted here too: a chunked body has no length to check first
      return 0;
    }
    if (std::fwrite(ptr, 1, n, sink->file) != n) {
      sink->write_failed = true;
      return 0;
    }
    return n;
  }
  if (sink->error_body.size() < 64 * 1024) sink->error_body.append(ptr, n);
  return n;
}

size_t ReadBody(char* buf, size_t size, size_t nitems, void* userdata) {
  return std::fread(buf, 1, size * nitems, static_cast<std::FILE*>(userdata));
}

class S3Store final : public BundleStore {
 public:
  explicit S3Store(S3Config c) : c_(std::move(c)) {
    GlobalInit();
    std::string ep = c_.endpoint;
    while (!ep.empty() && ep.back() == '/') ep.pop_back();
    auto scheme_end = ep.find("://");
    std::string rest = scheme_end == std::string::npos ? ep : ep.substr(scheme_end + 3);
    scheme_ = scheme_end == std::string::npos ? "https" : ep.substr(0, scheme_end);
    auto slash = rest.find('/');
    host_ = slash == std::string::npos ? rest : rest.substr(0, slash);
    base_path_ = slash == std::string::npos ? "" : rest.substr(slash);
    if (c_.region.empty()) c_.region = "us-east-1";
  }

  std::string Describe() const override {
    return fmt::format("s3 {}://{}{}/{}/{}", scheme_, host_, base_path_, c_.bucket, c_.prefix);
  }

  core::Status Put(const std::string& digest, const std::string& file) override {
    auto actual = Sha256File(file);
    if (!actual) return actual.error();
    std::error_code ec;
    auto size = fs::file_size(file, ec);
    if (ec) return core::NotFound(fmt::format("cannot read \"{}\"", file));
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (!f) return core::NotFound(fmt::format("cannot open \"{}\"", file));
    Sink sink;
    auto r = Send("PUT", Key(digest), DigestHex(*actual), f, size, sink);
    std::fclose(f);
    if (!r) return r.error();
    if (*r != 200) return HttpError("PUT", digest, *r, sink.error_body);
    return {};
  }

  core::Result<bool> Exists(const std::string& digest) override {
    Sink sink;
    auto r = Send("HEAD", Key(digest), kEmptySha256, nullptr, 0, sink);
    if (!r) return r.error();
    if (*r == 200) return true;
    if (*r == 404) return false;
    return HttpError("HEAD", digest, *r, sink.error_body);
  }

  core::Status Get(const std::string& digest, const std::string& dest_file) override {
    std::string tmp = dest_file + fmt::format(".tmp.{}", ::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return core::Internal(fmt::format("cannot write \"{}\"", tmp));
    Sink sink;
    sink.file = f;
    sink.max_bytes = c_.max_get_bytes > 0 ? c_.max_get_bytes : MaxBundleSize();
    auto r = Send("GET", Key(digest), kEmptySha256, nullptr, 0, sink);
    bool closed_ok = std::fclose(f) == 0;
    std::error_code ec;
    if (!r || *r != 200 || sink.write_failed || sink.too_large || !closed_ok) {
      fs::remove(tmp, ec);
      if (sink.too_large || (!r && r.error().code == core::Code::kResourceExhausted)) {
        return core::Error{core::Code::kResourceExhausted,
                           fmt::format("s3 GET {}: the object is larger than {} bytes (the bundle "
                                       "size limit, WEFT_MAX_BUNDLE_SIZE)",
                                       Url(Key(digest)), sink.max_bytes)};
      }
      if (!r) return r.error();
      if (*r != 200) return HttpError("GET", digest, *r, sink.error_body);
      return core::Internal(fmt::format("cannot write \"{}\"", tmp));
    }
    return PublishVerified(tmp, digest, dest_file);
  }

 private:
  std::string Key(const std::string& digest) const { return c_.prefix + BundleObjectName(digest); }
  std::string Path(const std::string& key) const {
    return base_path_ + "/" + c_.bucket + "/" + key;
  }
  std::string Url(const std::string& key) const {
    return scheme_ + "://" + host_ + UriEncode(Path(key), true);
  }

  core::Error HttpError(const std::string& method, const std::string& digest, long status,
                        const std::string& body) const {
    std::string code = XmlField(body, "Code");
    std::string message = XmlField(body, "Message");
    std::string text = fmt::format("s3 {} {}: HTTP {}", method, Url(Key(digest)), status);
    if (!code.empty()) text += " " + code;
    if (!message.empty()) text += ": " + message;
    if (code.empty() && (status == 403 || status == 401)) {
      text +=
          " (access denied: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the bucket's "
          "permissions)";
    } else if (code.empty() && status == 404 && method == "HEAD") {
      text += " (no such bucket?)";
    }
    core::Code c = core::Code::kUnavailable;
    if (status == 403 || status == 401) c = core::Code::kPermissionDenied;
    if (status == 404) c = core::Code::kNotFound;
    if (status == 400) c = core::Code::kInvalidArgument;
    return core::Error{c, text};
  }

  // Sends one signed request; returns the HTTP status.
  core::Result<long> Send(const std::string& method, const std::string& key,
                          const std::string& payload_hash, std::FILE* body,
                          std::uintmax_t body_size, Sink& sink) {
    if (c_.access_key_id.empty() || c_.secret_access_key.empty()) {
      return core::FailedPrecondition(
          "s3 storage needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
    SigV4Request req;
    req.method = method;
    req.path = Path(key);
    req.payload_sha256_hex = payload_hash;
    std::string amz_date = AmzDate();
    req.headers["host"] = host_;
    req.headers["x-amz-date"] = amz_date;
    req.headers["x-amz-content-sha256"] = payload_hash;
    if (!c_.session_token.empty()) req.headers["x-amz-security-token"] = c_.session_token;
    SigV4Credentials creds{c_.access_key_id, c_.secret_access_key, c_.session_token};
    std::string auth = Authorization(req, creds, c_.region, "s3", amz_date);

    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return core::Internal("curl_easy_init failed");
    CURL* h = curl.get();
    sink.curl = h;
    curl_slist* raw = nullptr;
    for (const auto& [k, v] : req.headers) raw = curl_slist_append(raw, (k + ": " + v).c_str());
    raw = curl_slist_append(raw, ("Authorization: " + auth).c_str());
    raw = curl_slist_append(raw, "Expect:");
    std::unique_ptr<curl_slist, SlistDeleter> headers(raw);
    std::string url = Url(key);
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    if (method == "PUT") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
      curl_easy_setopt(h, CURLOPT_READDATA, body);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
    } else if (method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (method == "GET") {
      // Bounded before anything is hashed: the whole transfer, and its size (refused up front
      // when the server announces a length; counted in WriteBody when it does not).
      double timeout =
          c_.get_timeout_seconds > 0 ? c_.get_timeout_seconds : core::bounds::kS3GetTimeoutSeconds;
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout * 1000));
      if (sink.max_bytes > 0) {
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(sink.max_bytes));
      }
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_FILESIZE_EXCEEDED) {
      return core::Error{core::Code::kResourceExhausted,
                         fmt::format("s3 {} {}: larger than the size limit", method, url)};
    }
    if (rc == CURLE_OPERATION_TIMEDOUT && method == "GET") {
      return core::Error{core::Code::kDeadlineExceeded,
                         fmt::format("s3 GET {}: not finished within {} s", url,
                                     c_.get_timeout_seconds > 0
                                         ? c_.get_timeout_seconds
                                         : core::bounds::kS3GetTimeoutSeconds)};
    }
    if (rc != CURLE_OK) {
      return core::Unavailable(
          fmt::format("s3 {} {}: {}", method, url, errbuf[0] ? errbuf : curl_easy_strerror(rc)));
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }

  S3Config c_;
  std::string scheme_;
  std::string host_;
  std::string base_path_;
};

}  // namespace

std::unique_ptr<BundleStore> MakeS3Store(S3Config config) {
  return std::make_unique<S3Store>(std::move(config));
}

}  // namespace weft::client::storage
