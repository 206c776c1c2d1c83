#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: its own data dir and port, removed after.
# Exports WEFT_TEST_DATABASE_URL (and PG* variables) for the command.
# Usage: scripts/with_pg.sh <command...>
set -euo pipefail
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
if [ ! -x "$PGBIN/initdb" ]; then
  echo "error: PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin); apt-get install postgresql" >&2
  exit 1
fi
PGTMP=$(mktemp -d /tmp/weft-pg.XXXXXX)
# A free TCP port on loopback: nothing answers a connection to it.
while :; do
  PGPORT=$((20000 + RANDOM % 30000))
  (exec 3<>"/dev/tcp/127.0.0.1/$PGPORT") 2>/dev/null || break
done
DBNAME=weft_test
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$PGTMP"
  chmod 755 "$PGTMP"
  AS_PG=(runuser -u postgres --)
else
  AS_PG=()
fi
cleanup() {
  (cd / && "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1) || true
  rm -rf "$PGTMP"
}
trap cleanup EXIT
(
  cd /
  "${AS_PG[@]}" "$PGBIN/initdb" -D "$PGTMP/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync \
    >"$PGTMP/initdb.log" 2>&1 || { cat "$PGTMP/initdb.log" >&2; exit 1; }
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/postgres.log" -w -t 30 start -o \
    "-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
  "${AS_PG[@]}" "$PGBIN/createdb" -h "$PGTMP" -p "$PGPORT" -U postgres "$DBNAME"
)
export WEFT_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:${PGPORT}/${DBNAME}"
export PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=$DBNAME
export WEFT_TEST_PG_LOG="$PGTMP/postgres.log"
# The socket directory: reachable from processes in other network namespaces (tests/e2e).
export WEFT_TEST_PG_SOCKET_DIR="$PGTMP"
"$@"
