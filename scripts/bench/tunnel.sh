#!/usr/bin/env bash
# Section `tunnel`: remote access through a DMS's gateway connection against the same web app
# reached directly, in one run (see BENCHMARKS.md).
# Settings (environment): BENCH_DOWNLOAD_MIB (256), BENCH_SECONDS (3 per measurement),
# BENCH_CONCURRENCY (1,16), BENCH_ROUNDS (3).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build

bench_start_server
"$BENCH_STRATUS" bench tunnel \
    --server-pid "$SERVER_PID" \
    --download-mib "${BENCH_DOWNLOAD_MIB:-256}" \
    --seconds "${BENCH_SECONDS:-3}" \
    --concurrency "${BENCH_CONCURRENCY:-1,16}" \
    --rounds "${BENCH_ROUNDS:-3}"
