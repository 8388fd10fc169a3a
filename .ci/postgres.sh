#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test run.
#
#   eval "$(bash .ci/postgres.sh)"          # start: prints export lines, everything else goes to stderr
#   bash .ci/postgres.sh stop "$SKILLCOACH_TEST_PG_DATA"   # stop it and delete its folder
#
# Installs the server from Debian's packages when it is missing (CI starts on a fresh machine), creates
# a cluster in a temporary folder owned by an unprivileged user (initdb refuses to run as root), starts
# it on 127.0.0.1 on a free port from 55432 up, and creates the database `skillcoach_test`.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return 0
  fi
  return 1
}

# Run a command as the cluster's owner: the `postgres` system user when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_cluster() {
  local data="${1:-${SKILLCOACH_TEST_PG_DATA:-}}"
  [ -n "$data" ] && [ -d "$data" ] || { log "nothing to stop"; return 0; }
  local bin
  bin="$(find_bin)"
  if [ -f "$data/pgdata/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$data/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$data"
  log "stopped and removed $data"
}

if [ "${1:-start}" = "stop" ]; then
  stop_cluster "${2:-}"
  exit 0
fi

if ! bin="$(find_bin)"; then
  if [ "$(id -u)" -ne 0 ]; then
    log "PostgreSQL server binaries not found and not root: install the 'postgresql' package"
    exit 1
  fi
  log "installing PostgreSQL from the distribution's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin="$(find_bin)"
fi
log "using $bin"

if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

data="$(mktemp -d /tmp/skillcoach-pg.XXXXXX)"
chmod 755 "$data"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$data"; fi

as_owner "$bin/initdb" -D "$data/pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
  --no-sync >/dev/null 2>"$data/initdb.log" || { cat "$data/initdb.log" >&2; exit 1; }

port="${SKILLCOACH_TEST_PG_PORT:-55432}"
for _ in $(seq 1 100); do
  port_in_use "$port" || break
  port=$((port + 1))
done

# A test cluster: sockets in our folder, TCP on loopback only, and no fsync (a crash loses nothing we
# need) unless SKILLCOACH_TEST_PG_DURABLE=1 (benchmarks: the same durability as production).
opts="-p $port -c listen_addresses=127.0.0.1 -k $data -c max_connections=200"
if [ "${SKILLCOACH_TEST_PG_DURABLE:-0}" != "1" ]; then
  opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
as_owner "$bin/pg_ctl" -D "$data/pgdata" -l "$data/server.log" -w -t 60 -o "$opts" \
  start >/dev/null || { cat "$data/server.log" >&2; exit 1; }

as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
  -c "CREATE DATABASE skillcoach_test" >&2

log "cluster in $data listening on 127.0.0.1:$port"
echo "export SKILLCOACH_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$port/skillcoach_test"
echo "export SKILLCOACH_TEST_PG_DATA=$data"
