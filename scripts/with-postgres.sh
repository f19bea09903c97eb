#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster, then stop and delete the cluster.
#
#   scripts/with-postgres.sh .venv/bin/pytest -q
#
# The cluster lives in a temporary directory, listens on 127.0.0.1 only (port PGPORT, default the first free port
# from 55432) and on a private unix socket directory, and trusts local connections. The command runs with
#   DATABASE_URL=postgres://linli@127.0.0.1:PORT/linli
# The role `linli` owns database `linli` and has CREATEDB, so pytest-django can create `test_linli`.
# As root the server runs as the `postgres` system user (PostgreSQL refuses to run as root).
# PG_BINDIR overrides where initdb/pg_ctl/psql are looked for (default /usr/lib/postgresql/15/bin).
# The exit status is the command's.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        echo "$PG_BINDIR"
        return
    fi
    if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
        echo /usr/lib/postgresql/15/bin
        return
    fi
    # another Debian major version, newest first
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [ -x "$d/initdb" ]; then
            echo "$d"
            return
        fi
    done
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return
    fi
    echo "with-postgres: no PostgreSQL server binaries found (apt-get install postgresql-15)" >&2
    exit 1
}

BIN="$(find_bindir)"

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if [ -n "${PGPORT:-}" ]; then
    PORT="$PGPORT"
    if port_in_use "$PORT"; then
        echo "with-postgres: port $PORT on 127.0.0.1 is already in use" >&2
        exit 1
    fi
else
    PORT=55432
    while port_in_use "$PORT"; do
        PORT=$((PORT + 1))
        if [ "$PORT" -gt 55532 ]; then
            echo "with-postgres: no free port in 55432-55532" >&2
            exit 1
        fi
    done
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/linli-pg.XXXXXX")"
DATA="$TMP/data"
SOCK="$TMP/sock"
LOG="$TMP/server.log"
mkdir -p "$SOCK"

if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    fi
    chown -R postgres: "$TMP"
    chmod 700 "$TMP"
    as_pg() { (cd "$TMP" && runuser -u postgres -- "$@"); }
else
    as_pg() { (cd "$TMP" && "$@"); }
fi

STARTED=0
cleanup() {
    local status=$?
    if [ "$STARTED" -eq 1 ]; then
        as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# C.UTF-8 gives UTF-8 character classes with code-point collation; fall back to plain C if the locale is missing.
if ! as_pg "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log" 2>&1; then
    rm -rf "$DATA"
    if ! as_pg "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C >"$TMP/initdb.log" 2>&1; then
        cat "$TMP/initdb.log" >&2
        exit 1
    fi
fi

# A throwaway cluster needs no durability: fsync off makes the test suite much faster.
if ! as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start \
    -o "-p $PORT -k $SOCK -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
    >/dev/null; then
    cat "$LOG" >&2 || true
    exit 1
fi
STARTED=1

psql_pg() { as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d postgres "$@"; }
psql_pg -c "CREATE ROLE linli LOGIN CREATEDB" -c "CREATE DATABASE linli OWNER linli ENCODING 'UTF8'"
VERSION="$(psql_pg -At -c 'SHOW server_version')"
echo "with-postgres: PostgreSQL $VERSION on 127.0.0.1:$PORT (cluster $DATA, removed afterwards)"

export DATABASE_URL="postgres://linli@127.0.0.1:$PORT/linli"
export PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=linli PGDATABASE=linli
set +e
"$@"
STATUS=$?
set -e
exit "$STATUS"
