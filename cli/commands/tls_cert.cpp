#include "cli/commands/tls_cert.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands/common.hpp"

namespace weft::cli {

namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using Bio = std::unique_ptr<BIO, Free>;

bool IsIp(const std::string& h) {
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

bool IsDnsName(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '*') {
      return false;
    }
  }
  return h.front() != '.' && h.front() != '-';
}

bool IsFileName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return n.front() != '.';
}

core::Error SslError(const std::string& what) {
  return core::Internal("tls: " + what + " failed (OpenSSL)");
}

core::Status WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return core::FailedPrecondition("cannot write " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, mode);
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return core::FailedPrecondition("cannot write " + path + ": " + std::strerror(errno));
  }
  return {};
}

std::string Pem(EVP_PKEY* key) {
  Bio b(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string Pem(X509* cert) {
  Bio b(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(b.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key` named `cn`, signed by (issuer, issuer_key); self-signed when
// issuer is null. `exts` are (nid, value) pairs in OpenSSL's config syntax.
core::Result<Cert> Sign(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                        int days, const std::vector<std::pair<int, std::string>>& exts) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("weft"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* as_issuer = issuer ? issuer : cert.get();
  for (const auto& [nid, value] : exts) {
    if (!AddExt(cert.get(), as_issuer, nid, value)) {
      return SslError("certificate extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
    }
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) {
    return SslError("signing");
  }
  return cert;
}

core::Result<Key> ReadKey(const std::string& path) {
  Bio b(BIO_new_file(path.c_str(), "r"));
  if (!b) return core::FailedPrecondition("cannot read " + path);
  Key k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  if (!k) return core::FailedPrecondition(path + ": not a PEM private key");
  return k;
}

core::Result<Cert> ReadCert(const std::string& path) {
  Bio b(BIO_new_file(path.c_str(), "r"));
  if (!b) return core::FailedPrecondition("cannot read " + path);
  Cert c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!c) return core::FailedPrecondition(path + ": not a PEM certificate");
  return c;
}

}  // namespace

core::Result<CertFiles> MakeCertificates(const CertOptions& o) {
  if (o.dir.empty()) return core::InvalidArgument("--dir: must not be empty");
  if (o.days < 1 || o.days > 3650) return core::InvalidArgument("--days: must be 1-3650");
  if (o.hosts.empty() && o.clients.empty()) {
    return core::InvalidArgument("--host: name at least one host (or --client)");
  }
  std::string san;
  for (const auto& h : o.hosts) {
    if (IsIp(h)) {
      san += (san.empty() ? "" : ",") + std::string("IP:") + h;
    } else if (IsDnsName(h)) {
      san += (san.empty() ? "" : ",") + std::string("DNS:") + h;
    } else {
      return core::InvalidArgument("--host: \"" + h + "\" is neither a DNS name nor an IP address");
    }
  }
  for (const auto& c : o.clients) {
    if (!IsFileName(c)) {
      return core::InvalidArgument("--client: \"" + c + "\" must be [A-Za-z0-9_.-], at most 64");
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  ::chmod(o.dir.c_str(), 0700);
  CertFiles out;
  std::string ca_pem = o.dir + "/ca.pem", ca_key_path = o.dir + "/ca.key";
  Key ca_key;
  Cert ca;
  if (std::filesystem::exists(ca_pem) && std::filesystem::exists(ca_key_path)) {
    auto k = ReadKey(ca_key_path);
    if (!k.ok()) return k.error();
    auto c = ReadCert(ca_pem);
    if (!c.ok()) return c.error();
    ca_key = std::move(*k);
    ca = std::move(*c);
    out.reused_ca = true;
  } else {
    ca_key.reset(EVP_EC_gen("P-256"));
    if (!ca_key) return SslError("key generation");
    auto c = Sign(ca_key.get(), "weft private CA", nullptr, nullptr, 3650,
                  {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                   {NID_key_usage, "critical,keyCertSign,cRLSign"},
                   {NID_subject_key_identifier, "hash"}});
    if (!c.ok()) return c.error();
    ca = std::move(*c);
    if (auto st = WriteFile(ca_key_path, Pem(ca_key.get()), 0600); !st.ok()) return st.error();
    if (auto st = WriteFile(ca_pem, Pem(ca.get()), 0644); !st.ok()) return st.error();
    out.written.push_back(ca_pem);
    out.written.push_back(ca_key_path);
  }
  auto issue = [&](const std::string& base, const std::string& cn,
                   std::vector<std::pair<int, std::string>> exts) -> core::Status {
    Key key(EVP_EC_gen("P-256"));
    if (!key) return SslError("key generation");
    exts.insert(exts.begin(), {{NID_basic_constraints, "critical,CA:FALSE"},
                               {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                               {NID_subject_key_identifier, "hash"},
                               {NID_authority_key_identifier, "keyid"}});
    auto c = Sign(key.get(), cn, ca.get(), ca_key.get(), o.days, exts);
    if (!c.ok()) return c.error();
    if (auto st = WriteFile(o.dir + "/" + base + ".key", Pem(key.get()), 0600); !st.ok()) return st;
    if (auto st = WriteFile(o.dir + "/" + base + ".pem", Pem(c->get()), 0644); !st.ok()) return st;
    out.written.push_back(o.dir + "/" + base + ".pem");
    out.written.push_back(o.dir + "/" + base + ".key");
    return {};
  };
  if (!o.hosts.empty()) {
    auto st = issue("server", o.hosts.front(),
                    {{NID_ext_key_usage, "serverAuth"}, {NID_subject_alt_name, san}});
    if (!st.ok()) return st.error();
  }
  for (const auto& c : o.clients) {
    auto st = issue("client-" + c, c, {{NID_ext_key_usage, "clientAuth"}});
    if (!st.ok()) return st.error();
  }
  return out;
}

int ServerCert(const CertOptions& o) {
  auto r = MakeCertificates(o);
  if (!r.ok()) return Fail(r.error());
  std::cout << (r->reused_ca ? "Using the CA in " : "Made a private CA in ") << o.dir << "\n";
  for (const auto& p : r->written) std::cout << "  wrote " << p << "\n";
  if (!o.hosts.empty()) {
    std::cout << "Start the server with:\n  weft server start --grpc-address 0.0.0.0:4201 "
                 "--tls-cert "
              << o.dir << "/server.pem --tls-key " << o.dir
              << "/server.key\nand give clients the CA: WEFT_TLS_CA=" << o.dir
              << "/ca.pem (keep ca.key private)\n";
  }
  return 0;
}

}  // namespace weft::cli
