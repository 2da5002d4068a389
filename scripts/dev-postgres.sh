#!/usr/bin/env bash
# Finds or starts a PostgreSQL server for development and prints its URL on stdout.
#
#   scripts/dev-postgres.sh            URL of the `tessera` database (created if missing)
#   scripts/dev-postgres.sh --server   URL of the server's `postgres` database (for tests)
#
# In order: DATABASE_URL if set; a server on 127.0.0.1:5432 that lets `postgres` (or the
# current user) in without a password; otherwise a private cluster under .tessera/ made
# and started with the installed server binaries (port 54329). Messages go to stderr.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.tessera"
private_port=54329
mode=${1:-}

say() { echo "tessera dev: $*" >&2; }

if [ -n "${DATABASE_URL:-}" ] && [ "$mode" != "--server" ]; then
    echo "$DATABASE_URL"
    exit 0
fi

answers() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }

ensure_database() { # server_url
    local exists
    exists=$(psql "$1" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'tessera'" 2>/dev/null || true)
    if [ "$exists" != "1" ]; then
        say "creating database tessera"
        psql "$1" -Atqc 'CREATE DATABASE tessera' >/dev/null
    fi
}

emit() { # host_port user
    local server="postgres://$2@$1/postgres"
    if [ "$mode" = "--server" ]; then
        echo "$server"
    else
        ensure_database "$server"
        echo "postgres://$2@$1/tessera"
    fi
}

if ! command -v psql >/dev/null 2>&1; then
    say "psql (the PostgreSQL client) is not installed (Debian/Ubuntu: sudo apt-get install postgresql)."
    exit 1
fi

# 1. A local server on the standard port.
for user in postgres "${USER:-$(id -un)}"; do
    if answers "postgres://$user@127.0.0.1:5432/postgres"; then
        say "using the PostgreSQL server on 127.0.0.1:5432 (user $user)"
        emit "127.0.0.1:5432" "$user"
        exit 0
    fi
done

# 2. A private cluster under .tessera/, made with the installed server binaries.
bindir=""
if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    bindir=$(dirname "$(command -v pg_ctl)")
else
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
    say "no PostgreSQL server answers on 127.0.0.1:5432 and no server binaries are installed."
    exit 1
fi

data="$state/pgdata"
sock="$state/pgsocket"
mkdir -p "$state"
# PostgreSQL refuses to run as root: run it as the `postgres` account in that case.
run_pg() {
    if [ "$(id -u)" = "0" ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a private PostgreSQL cluster in $data"
    mkdir -p "$data" "$sock"
    [ "$(id -u)" = "0" ] && chown postgres "$data" "$sock"
    run_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$state/initdb.log" 2>&1
fi
if ! run_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "starting the private PostgreSQL cluster on 127.0.0.1:$private_port (log: $state/postgres.log)"
    touch "$state/postgres.log"
    [ "$(id -u)" = "0" ] && chown postgres "$state/postgres.log"
    run_pg "$bindir/pg_ctl" -D "$data" -l "$state/postgres.log" -w \
        -o "-p $private_port -k $sock -c listen_addresses=127.0.0.1" start >/dev/null
fi
emit "127.0.0.1:$private_port" postgres
