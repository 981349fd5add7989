#!/usr/bin/env bash
# Section `overview`: a person with 1,000 DMSs loads the overview's list (`GET /api/systems`),
# 64 clients at once with wrk (gzip, like a browser), on SQLite and on PostgreSQL (see
# BENCHMARKS.md). Runs on its own (`bash scripts/bench/overview.sh`): it builds what is missing.
# Settings (environment): BENCH_OVERVIEW_DMS (1000), BENCH_OVERVIEW_CONNECTIONS (64),
# BENCH_OVERVIEW_SECONDS (15), BENCH_POSTGRES (postgres://postgres@127.0.0.1:5432; empty skips
# PostgreSQL).
set -euo pipefail

# shellcheck source=scripts/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POSTGRES=${BENCH_POSTGRES-postgres://postgres@127.0.0.1:5432}
DATABASE=

cleanup() {
    bench_cleanup
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
