#!/usr/bin/env bash
# Section `fanout`: one DMS's change reaching 1,000 open live streams while 10,000 gateways
# heartbeat, the server's memory then, and a storm of 10,000 gateways reconnecting at once
# while the 1,000 viewers watch (see BENCHMARKS.md). Runs on its own
# (`bash scripts/bench/fanout.sh`): it builds what is missing.
# Settings (environment): BENCH_FANOUT_DMS (10000), BENCH_FANOUT_VIEWERS (1000),
# BENCH_FANOUT_VIEWER_PROCESSES (2), BENCH_FANOUT_CHANGES (20), BENCH_INTERVAL (heartbeat
# seconds, 10).
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
trap bench_stop_server EXIT
# --- End of the local helpers. ---

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
