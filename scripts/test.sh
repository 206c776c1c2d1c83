#!/usr/bin/env bash
# The test command: installs what is missing, builds (dev preset: Debug, Ninja, ccache,
# warnings as errors), starts a throwaway PostgreSQL cluster and runs every ctest label
# (unit, integration, e2e, ui). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
# The e2e tests' S3-compatible server (s3rver), pinned by tests/e2e/s3/package-lock.json.
if [ ! -d tests/e2e/s3/node_modules/s3rver ]; then
  npm ci --prefix tests/e2e/s3 --no-audit --no-fund
fi
# The ui tests' browser driver (playwright-core, no browser download: Debian's chromium),
# pinned by tests/ui/package-lock.json.
if [ ! -d tests/ui/node_modules/playwright-core ]; then
  npm ci --prefix tests/ui --no-audit --no-fund
fi
cmake --preset dev
cmake --build --preset dev -j "$(nproc)"
scripts/with_pg.sh ctest --test-dir build/dev --output-on-failure -j 2 --timeout 900 "$@"
