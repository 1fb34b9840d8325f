#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A temporary PostgreSQL 15 cluster for tests and benchmarks, from Debian's binaries:
#   scripts/pg_tmp.sh start DIR   initdb in DIR/data (a fresh cluster each time), start it on a
#                                 free 127.0.0.1 port with its socket in DIR, wait until it
#                                 accepts connections, print its URL and write it to DIR/url:
#                                 postgresql://postgres@127.0.0.1:PORT/postgres
#   scripts/pg_tmp.sh stop DIR    stop it (pg_ctl, fast shutdown); removes nothing.
# Tuned for throwaway data: fsync=off, synchronous_commit=off, full_page_writes=off;
# max_connections=200; trust authentication for 127.0.0.1 only (nothing else listens).
# PostgreSQL refuses to run as root: run as root, the cluster belongs to the system user
# iotdefender-test (created here if missing) and DIR is chowned to it (when a parent of DIR
# is closed to that user, as /root is, the cluster goes to a fresh /tmp/iotdefender-pg.*
# that DIR/data links to, and stop removes it); as any other user it is that user's.
# PG_BINDIR overrides /usr/lib/postgresql/15/bin.
set -euo pipefail

BINDIR="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"
RUN_USER="iotdefender-test"

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
cmd="$1"
[ -n "$2" ] || usage
mkdir -p "$2"
DIR="$(cd "$2" && pwd)"

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$RUN_USER" -- "$@"
  else
    "$@"
  fi
}

stop_cluster() {
  if [ -f "$DIR/data/postmaster.pid" ]; then
    as_owner "$BINDIR/pg_ctl" -D "$(readlink -f "$DIR/data")" -m fast -w -t 60 stop >/dev/null
  fi
  # The /tmp fallback of a DIR the owner could not reach is ours to remove.
  if [ -L "$DIR/data" ]; then
    local target
    target="$(readlink "$DIR/data")"
    case "$target" in
    /tmp/iotdefender-pg.*/data) rm -rf "${target%/data}" && rm -f "$DIR/data" ;;
    esac
  fi
}

case "$cmd" in
stop)
  stop_cluster
  exit 0
  ;;
start) ;;
*) usage ;;
esac

if [ ! -x "$BINDIR/initdb" ]; then
  echo "pg_tmp: $BINDIR/initdb not found (scripts/setup.sh installs postgresql-15)" >&2
  exit 1
fi

# A cluster left running in DIR by an earlier run is stopped and replaced.
stop_cluster 2>/dev/null || true
rm -rf "$DIR/data" "$DIR/url"

CLUSTER="$DIR"
if [ "$(id -u)" -eq 0 ]; then
  if ! id -u "$RUN_USER" >/dev/null 2>&1; then
    # (another start running at the same time may have just created it)
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER" ||
      id -u "$RUN_USER" >/dev/null
  fi
  chown "$RUN_USER": "$DIR"
  if ! runuser -u "$RUN_USER" -- test -w "$DIR"; then
    CLUSTER="$(mktemp -d /tmp/iotdefender-pg.XXXXXX)"
    chown "$RUN_USER": "$CLUSTER"
    ln -s "$CLUSTER/data" "$DIR/data"
  fi
fi
chmod 700 "$DIR" "$CLUSTER"

as_owner "$BINDIR/initdb" -D "$CLUSTER/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
  >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }

# Unix socket paths are limited to 107 bytes: a deeper directory gets no socket (TCP only).
sockdir="$CLUSTER"
if [ "${#CLUSTER}" -gt 90 ]; then sockdir=""; fi
cat >>"$CLUSTER/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 64MB
log_min_messages = warning
EOF
cat >"$CLUSTER/data/pg_hba.conf" <<EOF
# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  trust
EOF

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Another process may take the port between the probe and the bind: retry on a new one.
for attempt in 1 2 3 4 5; do
  port="$(free_port)"
  if as_owner "$BINDIR/pg_ctl" -D "$CLUSTER/data" -o "-p $port" -l "$CLUSTER/server.log" -w -t 60 start >/dev/null; then
    url="postgresql://postgres@127.0.0.1:$port/postgres"
    echo "$url" >"$DIR/url"
    echo "$url"
    exit 0
  fi
  if ! grep -q "could not bind\|Address already in use" "$CLUSTER/server.log" 2>/dev/null; then
    break
  fi
  echo "pg_tmp: port $port taken (attempt $attempt), retrying" >&2
done
echo "pg_tmp: PostgreSQL did not start; $CLUSTER/server.log:" >&2
tail -n 30 "$CLUSTER/server.log" >&2 || true
exit 1
