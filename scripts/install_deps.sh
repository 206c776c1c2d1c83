#!/usr/bin/env bash
# Installs the Debian packages Weft needs to build, test and run, when any is missing.
# Runs apt-get as root, or through sudo.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libpqxx-dev libspdlog-dev libfmt-dev catch2 libcli11-dev nlohmann-json3-dev
  libyaml-cpp-dev libcpp-httplib-dev libcurl4-openssl-dev libarchive-dev libssl-dev
  libhowardhinnant-date-dev prometheus-cpp-dev
  postgresql postgresql-client
  python3
  chromium
  clang libclang-rt-14-dev
)
# python3: the stand-in Kubernetes API server of the agent e2e tests (tests/e2e).
# chromium: the ui tests drive Debian's headless Chromium (tests/ui, playwright-core).
# clang, libclang-rt-14-dev: the fuzz targets (tests/fuzz, scripts/fuzz.sh) need clang++ and
# its libFuzzer and sanitizer runtimes (Debian 12: clang 14).
# Node.js runs the local S3-compatible server of the e2e tests (tests/e2e/s3: s3rver) and the
# ui tests' driver (tests/ui: playwright-core 1.61, the newest that runs on Debian 12's
# Node 18). Any node >= 18 with npm will do; Debian's packages only when
# none is on PATH.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
# The distribution's own cluster is not used by Weft; leave it as the package set it up.
