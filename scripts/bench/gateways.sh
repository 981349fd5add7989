#!/usr/bin/env bash
# Section `gateways`: the most gateways one backend holds (see BENCHMARKS.md).
# Settings (environment): BENCH_GATEWAYS (18000), BENCH_INTERVAL (heartbeat seconds, 10),
# BENCH_WINDOW (measured seconds, 60), BENCH_RAMP (seconds over which gateways first connect,
# 20), BENCH_PER_PROCESS (sockets per client process, 9000), BENCH_SOURCES (loopback source
# addresses 127.0.0.2…, 4).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build
bench_raise_nofile

interval=${BENCH_INTERVAL:-10}
# The server's own interval (what it tells gateways) and so its silence timeout (3 ×).
bench_start_server STRATUS_HEARTBEAT_INTERVAL_SECONDS="${interval%.*}"
"$BENCH_STRATUS" bench gateways \
    --server-pid "$SERVER_PID" \
    --gateways "${BENCH_GATEWAYS:-18000}" \
    --interval-seconds "$interval" \
    --measure-seconds "${BENCH_WINDOW:-60}" \
    --ramp-seconds "${BENCH_RAMP:-20}" \
    --per-process "${BENCH_PER_PROCESS:-9000}" \
    --source-addresses "${BENCH_SOURCES:-4}"
echo "server log: $(grep -c 'gateway connected' "$SERVER_LOG") connections, $(grep -c 'gateway disconnected' "$SERVER_LOG") disconnections, $(grep -cE 'WARN|ERROR' "$SERVER_LOG") warnings or errors"
grep -E 'WARN|ERROR' "$SERVER_LOG" | head -n 5 || true
