#!/usr/bin/env bash
# Section `overview`: a person with 1,000 DMSs loads the overview's list (`GET /api/systems`),
# 64 clients at once with wrk (gzip, like a browser), on SQLite and on PostgreSQL (see
# BENCHMARKS.md). Runs on its own (`bash scripts/bench/overview.sh`): it builds what is missing.
# Settings (environment): BENCH_OVERVIEW_DMS (1000), BENCH_OVERVIEW_CONNECTIONS (64),
# BENCH_OVERVIEW_SECONDS (15), BENCH_POSTGRES (postgres://postgres@127.0.0.1:5432; empty skips
# PostgreSQL).
set -euo pipefail

# --- Local helpers: the same names and behaviour as scripts/bench/lib.sh (to be merged). ---
BENCH_ROOT=${BENCH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BENCH_TARGET=${BENCH_TARGET:-${CARGO_TARGET_DIR:-$BENCH_ROOT/target}}
BENCH_STRATUS=${BENCH_STRATUS:-$BENCH_TARGET/release/stratus}
BENCH_NOFILE=${BENCH_NOFILE:-20000}

bench_build() {
    if [[ ${BENCH_BUILT:-0} == 1 ]]; then return 0; fi
    echo "building the release server…" >&2
    (cd "$BENCH_ROOT" && CARGO_TARGET_DIR=$BENCH_TARGET \
        cargo build --release --quiet -p stratus-backend --bin stratus)
}

bench_raise_nofile() {
    local hard
    hard=$(ulimit -Hn)
    if [[ $hard == unlimited || $hard -ge $BENCH_NOFILE ]]; then
        ulimit -n "$BENCH_NOFILE"
    else
        ulimit -n "$hard"
    fi
    echo "open files per process: $(ulimit -n)"
}

bench_free_port() {
    local port tries
    for tries in $(seq 200); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "no free port found" >&2
    return 1
}

bench_start_server() {
    local port tries
    port=$(bench_free_port)
    BENCH_SERVER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/stratus-bench.XXXXXX")
    export STRATUS_DATA_DIR=$BENCH_SERVER_DIR/data
    export STRATUS_BIND=127.0.0.1:$port
    SERVER_URL=http://127.0.0.1:$port
    SERVER_LOG=$BENCH_SERVER_DIR/server.log
    env "$@" "$BENCH_STRATUS" serve >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for tries in $(seq 600); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "the server ended before listening; its log:" >&2
            tail -n 20 "$SERVER_LOG" >&2
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "server: pid $SERVER_PID at $SERVER_URL, fresh data dir $STRATUS_DATA_DIR"
            return 0
        fi
        sleep 0.1
    done
    echo "the server does not listen after 60 s" >&2
    return 1
}

bench_stop_server() {
    local tries
    if [[ -n ${SERVER_PID:-} ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for tries in $(seq 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
    if [[ -n ${BENCH_SERVER_DIR:-} ]]; then
        rm -rf "$BENCH_SERVER_DIR"
        BENCH_SERVER_DIR=
    fi
}
# --- End of the local helpers. ---

POSTGRES=${BENCH_POSTGRES-postgres://postgres@127.0.0.1:5432}
DATABASE=

cleanup() {
    bench_stop_server
    if [[ -n $DATABASE ]]; then
        psql "$POSTGRES/postgres" -qc "DROP DATABASE IF EXISTS $DATABASE" >/dev/null || true
    fi
}
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)…" >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
bench_build
bench_raise_nofile

# One run against the server just started; $1 names the database.
measure() {
    "$BENCH_STRATUS" bench overview \
        --url "$SERVER_URL" \
        --server-pid "$SERVER_PID" \
        --label "$1" \
        --dms "${BENCH_OVERVIEW_DMS:-1000}" \
        --connections "${BENCH_OVERVIEW_CONNECTIONS:-64}" \
        --seconds "${BENCH_OVERVIEW_SECONDS:-15}"
}

echo "== overview on SQLite"
bench_start_server
measure SQLite
bench_stop_server

echo "== overview on PostgreSQL"
if [[ -z $POSTGRES ]]; then
    echo "SKIPPED: BENCH_POSTGRES is empty"
elif ! psql "$POSTGRES/postgres" -qc 'SELECT 1' >/dev/null 2>&1; then
    echo "SKIPPED: no PostgreSQL answers at $POSTGRES"
else
    DATABASE=stratus_bench_overview_$$
    psql "$POSTGRES/postgres" -qc "CREATE DATABASE $DATABASE" >/dev/null
    # The server and the bench command (which registers the DMSs) share the database.
    export STRATUS_DATABASE_URL=$POSTGRES/$DATABASE
    bench_start_server
    measure PostgreSQL
    bench_stop_server
    unset STRATUS_DATABASE_URL
    psql "$POSTGRES/postgres" -qc "DROP DATABASE $DATABASE" >/dev/null
    DATABASE=
fi
