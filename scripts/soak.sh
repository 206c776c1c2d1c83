#!/usr/bin/env bash
# A bounded soak of weft-server (bench/soak): 16 clients mixing valid, malformed and slow
# calls for MINUTES (default 3) while 2 agents run flows, on a throwaway PostgreSQL cluster.
# Builds the release preset first. Prints the figures and a verdict; exits non-zero when a
# run was lost or the server (or an agent) died. Extra arguments go to bench_soak, e.g.
#   scripts/soak.sh 1 --no-deep-json
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-3}
shift || true
cmake --preset release >/dev/null
cmake --build --preset release -j "${JOBS:-2}" --target bench_soak weft-server weft-agent weft
exec scripts/with_pg.sh build/release/bench/soak/bench_soak --minutes "$MINUTES" "$@"
