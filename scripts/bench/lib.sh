# Shared shell functions of the benchmark suite (scripts/bench.sh). A section script sources it:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   bench_raise_nofile
#   bench_start_server                # fresh release server, fresh SQLite data dir
#   "$BENCH_STRATUS" bench gateways --server-pid "$SERVER_PID"
#
# and may run on its own (`bash scripts/bench/gateways.sh`): it builds what is missing.
#
# Variables set on sourcing (the environment may set them first):
#   BENCH_ROOT      the repository root
#   BENCH_TARGET    cargo's target dir ($CARGO_TARGET_DIR, else $BENCH_ROOT/target)
#   BENCH_STRATUS   the release server binary, BENCH_ECHO the release ws-echo binary
#   BENCH_NOFILE    open files wanted for servers and clients (20000)
#
# Functions:
#   bench_build                 cargo build --release of both binaries; a no-op once
#                               BENCH_BUILT=1 (scripts/bench.sh builds once, then sets it)
#   bench_raise_nofile          ulimit -n up to BENCH_NOFILE (at most the hard cap); prints it
#   bench_header                date (UTC), commit (+ dirty), CPU model, cores, RAM, kernel, load
#   bench_free_port             prints a free TCP port of 127.0.0.1 (below the ephemeral range,
#                               so the clients' own sockets never take it)
#   bench_start_server [VAR=value ...]
#                               starts the release server on a free port with a fresh data dir,
#                               VAR=value pairs added to its environment, and waits until it
#                               listens. Sets SERVER_PID, SERVER_URL, SERVER_LOG and exports
#                               STRATUS_DATA_DIR and STRATUS_BIND, so that `stratus bench …`
#                               started afterwards has the server's settings.
#   bench_stop_server           stops it (TERM, KILL after 10 s) and deletes its data dir
#   bench_start_echo            starts ws-echo on a free port; sets ECHO_PID, ECHO_URL
#   bench_stop_echo             stops it
#   bench_cpu_seconds PID       CPU time (user + system) of a process so far, in seconds
#   bench_rss_mib PID           resident memory of a process in MiB
# Whatever bench_start_* started is stopped when the sourcing shell exits (an EXIT trap).

BENCH_ROOT=${BENCH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BENCH_TARGET=${BENCH_TARGET:-${CARGO_TARGET_DIR:-$BENCH_ROOT/target}}
BENCH_STRATUS=${BENCH_STRATUS:-$BENCH_TARGET/release/stratus}
BENCH_ECHO=${BENCH_ECHO:-$BENCH_TARGET/release/ws-echo}
BENCH_NOFILE=${BENCH_NOFILE:-20000}

bench_build() {
    if [[ ${BENCH_BUILT:-0} == 1 ]]; then return 0; fi
    echo "building the release server and ws-echo…" >&2
    (cd "$BENCH_ROOT" && CARGO_TARGET_DIR=$BENCH_TARGET \
        cargo build --release --quiet -p stratus-backend --bin stratus --bin ws-echo)
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

bench_header() {
    local commit cpu
    commit=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [[ -n $(git -C "$BENCH_ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
        commit="$commit dirty"
    fi
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit:  $commit"
    echo "cpu:     ${cpu:-unknown}, $(nproc) cores"
    echo "ram:     $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    echo "kernel:  $(uname -sr)"
    echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; above 0 before a run means other work)"
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

# Waits until PID listens on PORT (60 s at most).
bench_wait_listening() {
    local pid=$1 port=$2 log=$3 tries
    for tries in $(seq 600); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "the process $pid ended before listening on $port; its log:" >&2
            tail -n 20 "$log" >&2
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "nothing listens on $port after 60 s" >&2
    return 1
}

bench_start_server() {
    local port
    port=$(bench_free_port)
    BENCH_SERVER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/stratus-bench.XXXXXX")
    export STRATUS_DATA_DIR=$BENCH_SERVER_DIR/data
    export STRATUS_BIND=127.0.0.1:$port
    # The benchmarks flip states and send frames as fast as they can to time the server:
    # the per-DMS change limit and the per-gateway frame limit (defences against flapping
    # and flooding DMSs) would hold them, so both are off here.
    export STRATUS_STATE_CHANGES_PER_DMS_PER_MINUTE=${STRATUS_STATE_CHANGES_PER_DMS_PER_MINUTE:-0}
    export STRATUS_GATEWAY_FRAMES_PER_SECOND=${STRATUS_GATEWAY_FRAMES_PER_SECOND:-0}
    SERVER_URL=http://127.0.0.1:$port
    SERVER_LOG=$BENCH_SERVER_DIR/server.log
    env "$@" "$BENCH_STRATUS" serve >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    bench_wait_listening "$SERVER_PID" "$port" "$SERVER_LOG"
    echo "server: pid $SERVER_PID at $SERVER_URL, fresh data dir $STRATUS_DATA_DIR (SQLite)"
}

# Sends TERM to PID, then KILL after 10 s.
bench_stop_pid() {
    local pid=$1 tries
    kill -TERM "$pid" 2>/dev/null || return 0
    for tries in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

bench_stop_server() {
    if [[ -n ${SERVER_PID:-} ]]; then
        bench_stop_pid "$SERVER_PID"
        SERVER_PID=
    fi
    if [[ -n ${BENCH_SERVER_DIR:-} ]]; then
        rm -rf "$BENCH_SERVER_DIR"
        BENCH_SERVER_DIR=
    fi
}

bench_start_echo() {
    local port
    port=$(bench_free_port)
    ECHO_URL=http://127.0.0.1:$port
    ECHO_LOG=$(mktemp "${TMPDIR:-/tmp}/ws-echo.XXXXXX.log")
    "$BENCH_ECHO" --bind "127.0.0.1:$port" >"$ECHO_LOG" 2>&1 &
    ECHO_PID=$!
    bench_wait_listening "$ECHO_PID" "$port" "$ECHO_LOG"
    echo "ws-echo: pid $ECHO_PID at $ECHO_URL"
}

bench_stop_echo() {
    if [[ -n ${ECHO_PID:-} ]]; then
        bench_stop_pid "$ECHO_PID"
        ECHO_PID=
        rm -f "$ECHO_LOG"
    fi
}

bench_cpu_seconds() {
    # Fields 14 and 15 of /proc/PID/stat (after the command name) are utime and stime in
    # clock ticks (100 a second).
    sed 's/.*) //' "/proc/$1/stat" | awk '{ printf "%.2f\n", ($12 + $13) / 100 }'
}

bench_rss_mib() {
    awk '/VmRSS/ { printf "%.0f\n", $2 / 1024 }' "/proc/$1/status"
}

bench_cleanup() {
    bench_stop_echo
    bench_stop_server
}
trap bench_cleanup EXIT
