#!/usr/bin/env bash
# Section `throughput`: heartbeats at full speed, as a ratio to a bare actix-web WebSocket
# server (ws-echo) measured in the same run by the same client (see BENCHMARKS.md).
# Settings (environment): BENCH_CONNECTIONS (32), BENCH_BATCH (heartbeats per Ping, 64),
# BENCH_SECONDS (per server and round, 10), BENCH_ROUNDS (3), BENCH_CLIENT_THREADS (2).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build
bench_raise_nofile

bench_start_server
bench_start_echo
"$BENCH_STRATUS" bench throughput \
    --server-pid "$SERVER_PID" \
    --echo-url "$ECHO_URL" --echo-pid "$ECHO_PID" \
    --connections "${BENCH_CONNECTIONS:-32}" \
    --batch "${BENCH_BATCH:-64}" \
    --seconds "${BENCH_SECONDS:-10}" \
    --rounds "${BENCH_ROUNDS:-3}" \
    --client-threads "${BENCH_CLIENT_THREADS:-2}"
