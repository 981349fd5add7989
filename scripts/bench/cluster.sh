#!/usr/bin/env bash
# Section `cluster`: the same load through nginx on 1 backend and on 3 backends, in one run
# (see BENCHMARKS.md): per backend the gateways it holds, heartbeats/s, CPU and memory, and the
# delay of a DMS's state change to 1,000 live viewers spread over the backends, split into
# viewers on the gateway's backend and viewers on another one (the change crossed NATS). Every
# configuration runs in cluster mode (NATS on, leases in PostgreSQL), one backend included, so
# the two compare like with like. Runs on its own (`bash scripts/bench/cluster.sh`): it builds
# what is missing.
#
# Each configuration gets processes and data of its own, on free loopback ports: a nats-server
# with JetStream and a temporary store (never the machine's NATS on 4222), a fresh PostgreSQL
# database on BENCH_POSTGRES (dropped afterwards), the backends (the first alone, as it
# migrates the schema), and nginx rendered from deploy/nginx.conf with enough connections for
# the load (nginx holds two files per proxied connection).
#
# Settings (environment): BENCH_CLUSTER_SIZES (backends per configuration, "1 3"),
# BENCH_CLUSTER_GATEWAYS (3000), BENCH_CLUSTER_VIEWERS (1000), BENCH_CLUSTER_VIEWER_PROCESSES
# (2), BENCH_CLUSTER_PROBES (3), BENCH_CLUSTER_CHANGES (30), BENCH_CLUSTER_WINDOW (steady
# window, 20 s), BENCH_INTERVAL (heartbeat seconds, 10), BENCH_POSTGRES
# (postgres://postgres@127.0.0.1:5432).
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# tools.sh: ensure_cluster_services (nginx, nats-server), ensure_postgres_server, http_status.
# shellcheck source=scripts/tools.sh
source "$bench_dir/../tools.sh"
# shellcheck source=scripts/bench/lib.sh
source "$bench_dir/lib.sh"

sizes=${BENCH_CLUSTER_SIZES:-1 3}
gateways=${BENCH_CLUSTER_GATEWAYS:-3000}
viewers=${BENCH_CLUSTER_VIEWERS:-1000}
viewer_processes=${BENCH_CLUSTER_VIEWER_PROCESSES:-2}
probes=${BENCH_CLUSTER_PROBES:-3}
changes=${BENCH_CLUSTER_CHANGES:-30}
window=${BENCH_CLUSTER_WINDOW:-20}
interval=${BENCH_INTERVAL:-10}
postgres=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
postgres=${postgres%/}
for number in $sizes "$gateways" "$viewers" "$viewer_processes" "$probes" "$changes" "$window" "${interval%.*}"; do
    [[ $number =~ ^[1-9][0-9]*$ ]] || { echo "cluster: not a positive number: $number" >&2; exit 2; }
done

# Open files: nginx holds a client's connection and its backend's, so gateways + viewers
# connections take twice that in nginx (its workers share them unevenly); a backend holds its
# share once. Everything must stay under the 20,000-file cap of a process.
connections=$((gateways + viewers + probes + 100))
if [[ $((2 * connections)) -gt 19000 ]]; then
    echo "cluster: $gateways gateways and $viewers viewers need $((2 * connections)) open files in nginx, above the 20,000 per process cap; use fewer" >&2
    exit 2
fi

if [[ ${BENCH_BUILT:-0} != 1 ]]; then bench_header; fi
bench_build
bench_raise_nofile
ensure_cluster_services
ensure_postgres_server

# What is running now, stopped (and dropped) when the script ends, however it ends.
RUN_DIR=""
NATS_PID=""
NGINX_PID=""
BACKEND_PIDS=()
DATABASE=""
# In the order that loses nothing (as scripts/cluster.sh): nginx, the backends together, NATS.
stop_configuration() {
    if [[ -n $NGINX_PID ]]; then stop_processes 5 "$NGINX_PID"; NGINX_PID=""; fi
    if [[ ${#BACKEND_PIDS[@]} -gt 0 ]]; then stop_processes 15 "${BACKEND_PIDS[@]}"; fi
    BACKEND_PIDS=()
    if [[ -n $NATS_PID ]]; then stop_processes 5 "$NATS_PID"; NATS_PID=""; fi
    if [[ -n $DATABASE ]]; then
        psql -X -q -d "$postgres/postgres" -c "DROP DATABASE IF EXISTS $DATABASE WITH (FORCE)" \
            >/dev/null 2>&1 || echo "cluster: could not drop the database $DATABASE" >&2
        DATABASE=""
    fi
    if [[ -n $RUN_DIR ]]; then rm -rf "$RUN_DIR"; RUN_DIR=""; fi
}
summary_file=$(mktemp "${TMPDIR:-/tmp}/stratus-bench-cluster-summary.XXXXXX")
cleanup() {
    stop_configuration
    rm -f "$summary_file"
    bench_cleanup
    on_exit
}
trap cleanup EXIT

# deploy/nginx.conf with its placeholders filled in (as scripts/cluster.sh does) and room for
# the benchmark's connections. Usage: render_nginx TEMPLATE OUTPUT LISTEN PREFIX UPSTREAM_LINES
render_nginx() {
    LISTEN="$3" PREFIX="$4" UPSTREAMS="$5" awk '
        /^[ \t]*@UPSTREAMS@[ \t]*$/ {
            indent = $0
            sub(/@UPSTREAMS@.*/, "", indent)
            count = split(ENVIRON["UPSTREAMS"], lines, "\n")
            for (i = 1; i <= count; i++) if (lines[i] != "") print indent lines[i]
            next
        }
        {
            gsub(/@LISTEN@/, ENVIRON["LISTEN"])
            gsub(/@PREFIX@/, ENVIRON["PREFIX"])
            print
        }
    ' "$1" |
        sed -e 's/^worker_rlimit_nofile .*/worker_rlimit_nofile 20000;/' \
            -e 's/^\( *\)worker_connections .*/\1worker_connections 19000;/' >"$2"
    if grep -q '@[A-Z_]*@' "$2"; then
        echo "cluster: placeholders left in $2" >&2
        return 1
    fi
}

healthy() {
    [[ $(http_status 127.0.0.1 "$1" /api/health) == 200 ]]
}

# Waits until 127.0.0.1:PORT answers /api/health with 200 while PID runs (120 s at most).
wait_healthy() {
    local pid=$1 port=$2 log=$3 tries
    for tries in $(seq 600); do
        if ! process_running "$pid"; then
            echo "cluster: process $pid ended before it was healthy; its log:" >&2
            tail -n 20 "$log" >&2
            return 1
        fi
        if healthy "$port"; then return 0; fi
        sleep 0.2
    done
    echo "cluster: 127.0.0.1:$port not healthy after 120 s; log $log" >&2
    tail -n 20 "$log" >&2
    return 1
}

random_hex() {
    openssl rand -hex 32 2>/dev/null || od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

# One configuration of COUNT backends.
run_configuration() {
    local count=$1 label number port nginx_port nats_port upstreams processes pid worker
    if [[ $count == 1 ]]; then label="1 backend"; else label="$count backends"; fi
    echo
    echo "-- $label behind nginx, cluster mode ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1 /proc/loadavg))"
    RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/stratus-bench-cluster.XXXXXX")
    # Started as root, nginx's workers run as nobody and must reach their temporary folders.
    chmod 755 "$RUN_DIR"

    nats_port=$(bench_free_port)
    mkdir -p "$RUN_DIR/nats"
    "$NATS_SERVER_BIN" -js -a 127.0.0.1 -p "$nats_port" -sd "$RUN_DIR/nats" \
        </dev/null >"$RUN_DIR/nats.log" 2>&1 &
    NATS_PID=$!
    bench_wait_listening "$NATS_PID" "$nats_port" "$RUN_DIR/nats.log"

    DATABASE="stratus_bench_cluster_$$_$count"
    psql -X -q -v ON_ERROR_STOP=1 -d "$postgres/postgres" -c "CREATE DATABASE $DATABASE" >/dev/null

    nginx_port=$(bench_free_port)
    local -a backend_ports=() names=()
    for number in $(seq "$count"); do
        while :; do
            port=$(bench_free_port)
            [[ $port != "$nginx_port" && $port != "$nats_port" && " ${backend_ports[*]} " != *" $port "* ]] && break
        done
        backend_ports+=("$port")
        names+=("backend-$number")
    done

    # What every backend and the coordinator share: the database, the keys (fresh for this
    # run, never printed), the public URL (nginx's, which tokens name as their issuer) and the
    # heartbeat interval.
    export STRATUS_DATABASE_URL="$postgres/$DATABASE"
    STRATUS_SESSION_SECRET=$(random_hex)
    STRATUS_GATEWAY_SECRET=$(random_hex)
    export STRATUS_SESSION_SECRET STRATUS_GATEWAY_SECRET
    export STRATUS_PUBLIC_URL="http://127.0.0.1:$nginx_port"
    export STRATUS_HEARTBEAT_INTERVAL_SECONDS="${interval%.*}"

    start_backend() {
        local index=$1
        mkdir -p "$RUN_DIR/${names[$index]}"
        STRATUS_BIND="127.0.0.1:${backend_ports[$index]}" \
            STRATUS_DATA_DIR="$RUN_DIR/${names[$index]}" \
            STRATUS_BACKEND_NAME="${names[$index]}" STRATUS_TRUSTED_PROXIES=127.0.0.1 \
            STRATUS_NATS_URL="nats://127.0.0.1:$nats_port" \
            "$BENCH_STRATUS" serve </dev/null >"$RUN_DIR/${names[$index]}.log" 2>&1 &
        BACKEND_PIDS+=($!)
    }
    # The first backend alone: it brings the fresh database's schema up.
    start_backend 0
    wait_healthy "${BACKEND_PIDS[0]}" "${backend_ports[0]}" "$RUN_DIR/${names[0]}.log"
    for ((number = 1; number < count; number++)); do start_backend "$number"; done
    for ((number = 1; number < count; number++)); do
        wait_healthy "${BACKEND_PIDS[$number]}" "${backend_ports[$number]}" "$RUN_DIR/${names[$number]}.log"
    done

    mkdir -p "$RUN_DIR/nginx/logs" "$RUN_DIR/nginx/tmp"
    upstreams=""
    for port in "${backend_ports[@]}"; do
        upstreams+="server 127.0.0.1:$port max_fails=1 fail_timeout=5s;"$'\n'
    done
    render_nginx "$BENCH_ROOT/deploy/nginx.conf" "$RUN_DIR/nginx/nginx.conf" \
        "127.0.0.1:$nginx_port" "$RUN_DIR/nginx" "$upstreams"
    local -a nginx_options=(-e "$RUN_DIR/nginx/logs/error.log" -p "$RUN_DIR/nginx" -c "$RUN_DIR/nginx/nginx.conf")
    "$NGINX_BIN" "${nginx_options[@]}" -t -q
    "$NGINX_BIN" "${nginx_options[@]}" -g 'daemon off;' </dev/null &
    NGINX_PID=$!
    wait_healthy "$NGINX_PID" "$nginx_port" "$RUN_DIR/nginx/logs/error.log"

    processes=(--process "nginx=$NGINX_PID" --process "nats-server=$NATS_PID")
    for worker in $(pgrep -P "$NGINX_PID"); do processes+=(--process "nginx=$worker"); done
    for ((number = 0; number < count; number++)); do
        processes+=(--backend "${names[$number]}=${BACKEND_PIDS[$number]}")
        echo "${names[$number]}: pid ${BACKEND_PIDS[$number]} at 127.0.0.1:${backend_ports[$number]}"
    done
    echo "nginx: pid $NGINX_PID at $STRATUS_PUBLIC_URL ($(pgrep -cP "$NGINX_PID") workers); nats-server: pid $NATS_PID at 127.0.0.1:$nats_port; database $DATABASE"

    # The coordinator reads the shared settings above; its own data dir holds its files.
    mkdir -p "$RUN_DIR/bench"
    STRATUS_DATA_DIR="$RUN_DIR/bench" "$BENCH_STRATUS" bench cluster \
        --url "$STRATUS_PUBLIC_URL" \
        --label "$label" \
        "${processes[@]}" \
        --gateways "$gateways" \
        --viewers "$viewers" \
        --viewer-processes "$viewer_processes" \
        --probes "$probes" \
        --changes "$changes" \
        --window-seconds "$window" \
        --interval-seconds "$interval" \
        --summary-file "$summary_file"
    # Warnings and errors of the backends, but the one every backend gives without a built
    # web app (the benchmark needs none).
    problems() { grep -E 'WARN|ERROR' "$1" | grep -v 'the web app is not built' || true; }
    local warnings=0
    for ((number = 0; number < count; number++)); do
        warnings=$((warnings + $(problems "$RUN_DIR/${names[$number]}.log" | wc -l)))
    done
    echo "backend logs: $warnings warnings or errors; nginx error log: $(grep -c '\[\(error\|crit\|alert\|emerg\)\]' "$RUN_DIR/nginx/logs/error.log" || true) errors"
    if [[ $warnings -gt 0 ]]; then
        for ((number = 0; number < count; number++)); do
            problems "$RUN_DIR/${names[$number]}.log" | head -n 5 | sed "s/^/  ${names[$number]}: /"
        done
    fi
    stop_configuration
}

echo "cluster: $gateways gateways (heartbeat every $interval s) and $viewers viewers through nginx, $changes changes over $probes probe DMSs, for ${sizes// / and } backends"
for count in $sizes; do
    run_configuration "$count"
done
echo
echo "-- cluster: the configurations side by side"
cat "$summary_file"
