#pragma once
// weft server cert: a private certificate authority and certificates it signs, for TLS (and
// mutual TLS) between weft-server, agents and the CLI without a public CA. OpenSSL.
#include <string>
#include <vector>

#include "sdk/core/error.hpp"

namespace weft::cli {

struct CertOptions {
  std::string dir;                 // ca.pem, ca.key, server.pem, server.key, client-*.pem
  std::vector<std::string> hosts;  // the server's DNS names and IP addresses (SANs)
  std::vector<std::string> clients;  // client certificates to make (mTLS), by name
  int days = 825;
};

struct CertFiles {
  std::vector<std::string> written;  // paths, in order
  bool reused_ca = false;
};

// Makes (or reuses, when `dir` already has ca.pem + ca.key) the CA, then a server
// certificate for `hosts` (when any) and one client certificate per name. Keys are EC P-256,
// written 0600. INVALID_ARGUMENT naming a bad host or client name.
core::Result<CertFiles> MakeCertificates(const CertOptions& o);

int ServerCert(const CertOptions& o);

}  // namespace weft::cli
