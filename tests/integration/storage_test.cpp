// Storages and bundles through the API: CRUD, the default, no secrets, streaming round trip.
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <random>

#include "tests/integration/server_fixture.hpp"

using namespace weft;

namespace {

std::string Sha256Digest(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

core::Result<v1::UploadBundleResponse> Upload(client::Client& c, const std::string& digest,
                                              const std::string& data, std::int64_t size = -1) {
  std::size_t off = 0;
  return c.UploadBundle(digest, size < 0 ? static_cast<std::int64_t>(data.size()) : size,
                        [&](char* buf, std::size_t max) {
                          std::size_t n = std::min(max, data.size() - off);
                          std::memcpy(buf, data.data() + off, n);
                          off += n;
                          return n;
                        });
}

core::Result<v1::CreateStorageResponse> Create(client::Client& c, const std::string& name,
                                               const std::string& kind,
                                               std::map<std::string, std::string> config = {},
                                               bool make_default = false) {
  v1::CreateStorageRequest req;
  req.set_name(name);
  req.set_kind(kind);
  for (const auto& [k, v] : config) (*req.mutable_config())[k] = v;
  req.set_make_default(make_default);
  return c.CreateStorage(req);
}

}  // namespace

TEST_CASE("a fresh server has the built-in default storage named server", "[storage]") {
  test::ApiServer s;
  auto list = s.client->ListStorages({});
  REQUIRE(list.ok());
  REQUIRE(list->storages_size() == 1);
  CHECK(list->storages(0).name() == "server");
  CHECK(list->storages(0).kind() == "server");
  CHECK(list->storages(0).is_default());
}

TEST_CASE("storage CRUD, one default at a time, clear errors", "[storage]") {
  test::ApiServer s;
  auto& c = *s.client;
  auto local = Create(c, "flows", "local", {{"path", "/srv/flows"}});
  REQUIRE(local.ok());
  CHECK(local->storage().kind() == "local");
  CHECK(local->storage().config().at("path") == "/srv/flows");
  CHECK_FALSE(local->storage().is_default());  // "server" is already the default

  auto s3 = Create(c, "s3main", "s3", {{"endpoint", "http://127.0.0.1:9000"}, {"bucket", "b1"}},
                   /*make_default=*/true);
  REQUIRE(s3.ok());
  CHECK(s3->storage().is_default());
  CHECK(s3->storage().config().at("region") == "us-east-1");

  auto list = c.ListStorages({});
  REQUIRE(list.ok());
  int defaults = 0;
  for (const auto& st : list->storages()) defaults += st.is_default() ? 1 : 0;
  CHECK(defaults == 1);

  v1::SetDefaultStorageRequest sd;
  sd.set_name("flows");
  auto set = c.SetDefaultStorage(sd);
  REQUIRE(set.ok());
  CHECK(set->storage().is_default());
  v1::GetStorageRequest get;
  get.set_name("s3main");
  auto got = c.GetStorage(get);
  REQUIRE(got.ok());
  CHECK_FALSE(got->storage().is_default());

  auto dup = Create(c, "flows", "server");
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == core::Code::kAlreadyExists);
  CHECK_THAT(dup.error().message, Catch::Contains("\"flows\""));

  get.set_name("nope");
  auto missing = c.GetStorage(get);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == core::Code::kNotFound);
  CHECK_THAT(missing.error().message, Catch::Contains("\"nope\""));

  v1::DeleteStorageRequest del;
  del.set_name("flows");  // the default: another one takes over
  REQUIRE(c.DeleteStorage(del).ok());
  list = c.ListStorages({});
  REQUIRE(list.ok());
  CHECK(list->storages_size() == 2);
  defaults = 0;
  for (const auto& st : list->storages()) defaults += st.is_default() ? 1 : 0;
  CHECK(defaults == 1);
  auto again = c.DeleteStorage(del);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == core::Code::kNotFound);
}

TEST_CASE("storage specs are validated, naming the field", "[storage]") {
  test::ApiServer s;
  auto& c = *s.client;
  struct Case {
    std::string name, kind;
    std::map<std::string, std::string> config;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"bad name", "server", {}, "name: "},
      {"x", "ftp", {}, "kind: must be local, server or s3, got \"ftp\""},
      {"x", "local", {}, "config.path: required"},
      {"x", "local", {{"path", "rel/dir"}}, "config.path: must be an absolute path"},
      {"x", "local", {{"path", "/a"}, {"colour", "red"}}, "config.colour: unknown key"},
      {"x", "server", {{"path", "/a"}}, "config.path: unknown key"},
      {"x", "s3", {{"bucket", "b"}}, "config.endpoint: required"},
      {"x", "s3", {{"endpoint", "ftp://h"}, {"bucket", "b"}}, "config.endpoint: must be an http"},
      {"x", "s3", {{"endpoint", "http://h"}}, "config.bucket: required"},
  };
  for (const auto& k : cases) {
    INFO(k.expected);
    auto r = Create(c, k.name, k.kind, k.config);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(r.error().message, Catch::Contains(k.expected));
  }
}

TEST_CASE("storages never store secrets", "[storage]") {
  test::ApiServer s;
  for (const char* key : {"access_key_id", "secret_access_key", "password", "token", "secret"}) {
    INFO(key);
    auto r = Create(*s.client, "s3x", "s3",
                    {{"endpoint", "http://h"}, {"bucket", "b"}, {key, "hunter2"}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == core::Code::kInvalidArgument);
    CHECK_THAT(r.error().message,
               Catch::Contains(std::string("config.") + key) && Catch::Contains("environment"));
    CHECK_THAT(r.error().message, !Catch::Contains("hunter2"));
  }
  auto list = s.client->ListStorages({});
  REQUIRE(list.ok());
  CHECK(list->storages_size() == 1);
}

TEST_CASE("a bundle round-trips byte for byte through server storage, once", "[storage][bundle]") {
  test::ApiServer s;
  auto& c = *s.client;
  const std::string data = RandomBytes(3 * 1024 * 1024 + 12345, 7);
  const std::string digest = Sha256Digest(data);

  v1::StatBundleRequest stat;
  stat.set_digest(digest);
  auto before = c.StatBundle(stat);
  REQUIRE(before.ok());
  CHECK_FALSE(before->exists());

  auto up = Upload(c, digest, data);
  REQUIRE(up.ok());
  CHECK(up->digest() == digest);
  CHECK(up->size() == static_cast<std::int64_t>(data.size()));
  CHECK_FALSE(up->already_present());

  auto after = c.StatBundle(stat);
  REQUIRE(after.ok());
  CHECK(after->exists());
  CHECK(after->size() == static_cast<std::int64_t>(data.size()));

  std::string back;
  int chunks = 0;
  auto down = c.DownloadBundle(digest, [&](const std::string& d) {
    back += d;
    ++chunks;
  });
  REQUIRE(down.ok());
  CHECK(chunks == 4);  // 1 MiB chunks
  CHECK(back.size() == data.size());
  CHECK(back == data);

  auto again = Upload(c, digest, data);
  REQUIRE(again.ok());
  CHECK(again->already_present());
  CHECK(again->size() == static_cast<std::int64_t>(data.size()));
}

TEST_CASE("bundle uploads are checked: digest, size, limit; nothing is half-written",
          "[storage][bundle]") {
  test::ApiServer s([](server::app::Settings& st) { st.max_bundle_size = 2 * 1024 * 1024; });
  auto& c = *s.client;
  const std::string data = RandomBytes(1500 * 1024, 3);
  const std::string digest = Sha256Digest(data);
  const std::string other = Sha256Digest("something else");

  auto wrong = Upload(c, other, data);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(wrong.error().message, Catch::StartsWith("digest: ") && Catch::Contains(digest));

  auto bad_form = Upload(c, "md5:abc", data);
  REQUIRE_FALSE(bad_form.ok());
  CHECK(bad_form.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(bad_form.error().message, Catch::StartsWith("digest: "));

  auto short_size = Upload(c, digest, data, static_cast<std::int64_t>(data.size()) + 10);
  REQUIRE_FALSE(short_size.ok());
  CHECK(short_size.error().code == core::Code::kInvalidArgument);
  CHECK_THAT(short_size.error().message, Catch::StartsWith("size: "));

  // Declared too big: refused before any byte is stored.
  const std::string big = RandomBytes(3 * 1024 * 1024, 5);
  auto too_big = Upload(c, Sha256Digest(big), big);
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.error().code == core::Code::kResourceExhausted);
  CHECK_THAT(too_big.error().message, Catch::Contains("bundle is 3.0 MiB; the limit is 2 MiB"));
  // Declared small, sent big: refused when the stream passes the limit.
  auto lying = Upload(c, Sha256Digest(big), big, 1024);
  REQUIRE_FALSE(lying.ok());
  CHECK(lying.error().code == core::Code::kInvalidArgument);

  for (const auto& d : {other, digest, Sha256Digest(big)}) {
    v1::StatBundleRequest stat;
    stat.set_digest(d);
    auto st = c.StatBundle(stat);
    REQUIRE(st.ok());
    CHECK_FALSE(st->exists());
  }
  auto missing = c.DownloadBundle(digest, [](const std::string&) {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == core::Code::kNotFound);
  CHECK_THAT(missing.error().message, Catch::Contains(digest));

  auto ok = Upload(c, digest, data);
  REQUIRE(ok.ok());
  CHECK_FALSE(ok->already_present());
}
