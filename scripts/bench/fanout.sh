#!/usr/bin/env bash
# Section `fanout`: one DMS's change reaching 1,000 open live streams while 10,000 gateways
# heartbeat, the server's memory then, and a storm of 10,000 gateways reconnecting at once
# while the 1,000 viewers watch (see BENCHMARKS.md). Runs on its own
# (`bash scripts/bench/fanout.sh`): it builds what is missing.
# Settings (environment): BENCH_FANOUT_DMS (10000), BENCH_FANOUT_VIEWERS (1000),
# BENCH_FANOUT_VIEWER_PROCESSES (2), BENCH_FANOUT_CHANGES (20), BENCH_INTERVAL (heartbeat
# seconds, 10).
set -euo pipefail

# shellcheck source=scripts/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_build
bench_raise_nofile
interval=${BENCH_INTERVAL:-10}
# The server's own interval (what it tells gateways) and so its silence timeout (3 ×).
bench_start_server STRATUS_HEARTBEAT_INTERVAL_SECONDS="${interval%.*}"
# The coordinator starts its viewer and gateway processes itself (this binary, other
# subcommands); they end with it.
"$BENCH_STRATUS" bench fanout \
    --url "$SERVER_URL" \
    --server-pid "$SERVER_PID" \
    --dms "${BENCH_FANOUT_DMS:-10000}" \
    --viewers "${BENCH_FANOUT_VIEWERS:-1000}" \
    --viewer-processes "${BENCH_FANOUT_VIEWER_PROCESSES:-2}" \
    --changes "${BENCH_FANOUT_CHANGES:-20}" \
    --interval-seconds "$interval"
echo "server log: $(grep -c 'gateway connected' "$SERVER_LOG") gateway connections, $(grep -cE 'WARN|ERROR' "$SERVER_LOG") warnings or errors"
