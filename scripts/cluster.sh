#!/usr/bin/env bash
# Runs Stratus as a cluster on this machine: three backends sharing one PostgreSQL database
# and one NATS JetStream bus, behind nginx at http://127.0.0.1:8080 (deploy/nginx.conf).
# Builds and installs what is missing first, like scripts/run.sh; Ctrl-C stops everything it
# started.
#
#   bash scripts/cluster.sh [--demo]
#
# --demo goes to backend-1 only: it adds the Demo organization and runs its simulated DMSs.
# Data, logs and the cluster's generated secrets live in data/cluster/.
#
# Environment:
#   STRATUS_CLUSTER_PORT       nginx's port (default 8080); the backends take the next ones
#   STRATUS_CLUSTER_BACKENDS   how many backends (default 3)
#   STRATUS_CLUSTER_NATS_PORT  NATS's port on 127.0.0.1 (default 4222): a NATS with JetStream
#                              already there is used, else this script starts one
#   STRATUS_NATS_URL           a NATS of your own instead (then nothing is started)
#   STRATUS_DATABASE_URL       a PostgreSQL database of your own instead of the machine's
#                              postgres://postgres@127.0.0.1:5432/stratus_cluster (which the
#                              script starts and creates when needed)
#   any other STRATUS_* variable (see README) goes to every backend; STRATUS_SESSION_SECRET
#   and STRATUS_GATEWAY_SECRET, when set, win over data/cluster/secrets.env.
# shellcheck source=scripts/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$STRATUS_ROOT" || exit

demo=0
for argument in "$@"; do
  case "$argument" in
    --demo) demo=1 ;;
    *)
      echo "usage: bash scripts/cluster.sh [--demo]" >&2
      exit 2
      ;;
  esac
done

die() {
  echo "cluster.sh: $*" >&2
  exit 1
}

port="${STRATUS_CLUSTER_PORT:-8080}"
backend_count="${STRATUS_CLUSTER_BACKENDS:-3}"
nats_port="${STRATUS_CLUSTER_NATS_PORT:-4222}"
for number in "$port" "$backend_count" "$nats_port"; do
  [[ "$number" =~ ^[1-9][0-9]*$ ]] || die "not a number: $number"
done
[ $((port + backend_count)) -le 65535 ] || die "the ports end past 65535"
cluster_dir="$STRATUS_ROOT/data/cluster"
nginx_dir="$cluster_dir/nginx"
server="$STRATUS_ROOT/target/release/stratus"

# What the script starts, stopped when it ends in the order that loses nothing: nginx (no new
# requests), then the backends together (each finishes its requests, up to
# STRATUS_SHUTDOWN_TIMEOUT_SECONDS), then the NATS server they used. Each runs in a session
# of its own (setsid), so Ctrl-C reaches only this script, which then stops them in order.
NGINX_PID=""
BACKEND_PIDS=()
BACKEND_NAMES=()
NATS_PID=""
stop_cluster() {
  if [ -z "$NGINX_PID" ] && [ "${#BACKEND_PIDS[@]}" -eq 0 ] && [ -z "$NATS_PID" ]; then
    return 0
  fi
  say "Stopping the cluster"
  if [ -n "$NGINX_PID" ]; then stop_processes 5 "$NGINX_PID"; fi
  if [ "${#BACKEND_PIDS[@]}" -gt 0 ]; then
    stop_processes $((${STRATUS_SHUTDOWN_TIMEOUT_SECONDS:-10} + 5)) "${BACKEND_PIDS[@]}"
  fi
  if [ -n "$NATS_PID" ]; then stop_processes 5 "$NATS_PID"; fi
  NGINX_PID=""
  BACKEND_PIDS=()
  NATS_PID=""
}
trap 'stop_cluster; on_exit' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

require_free_port() {
  if port_open 127.0.0.1 "$1"; then
    die "127.0.0.1:$1 is in use (by scripts/run.sh or an earlier cluster?); STRATUS_CLUSTER_PORT moves the cluster's ports"
  fi
}

healthy() {
  [ "$(http_status 127.0.0.1 "$1" /api/health)" = 200 ]
}

# Waits until COMMAND... succeeds, while process PID runs; shows the end of LOG when the
# process ends first or SECONDS pass. Usage: wait_until WHAT SECONDS PID LOG COMMAND...
wait_until() {
  local what="$1" seconds="$2" pid="$3" log="$4" deadline
  shift 4
  deadline=$((SECONDS + seconds))
  until "$@"; do
    if ! process_running "$pid"; then
      tail -n 30 "$log" >&2 || true
      die "$what ended before it was ready; its log: ${log#"$STRATUS_ROOT"/}"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 30 "$log" >&2 || true
      die "$what was not ready after $seconds s; its log: ${log#"$STRATUS_ROOT"/}"
    fi
    sleep 0.2
  done
}

# The first line a NATS server sends: INFO {...}, which says whether JetStream is on.
nats_info() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
    IFS= read -r -t 2 line <&3 || exit 0
    printf '%s' "$line"
  ) 2>/dev/null
}

random_hex() {
  openssl rand -hex 32 2>/dev/null || od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

# deploy/nginx.conf with its placeholders filled in: LISTEN and PREFIX wherever they stand,
# UPSTREAMS (a line of its own) replaced by the given lines at its indentation.
# Usage: render_nginx_conf TEMPLATE OUTPUT LISTEN PREFIX UPSTREAM_LINES
render_nginx_conf() {
  LISTEN="$3" PREFIX="$4" UPSTREAMS="$5" awk '
    function fill(text, name, value,   key, at, done) {
      key = "@" name "@"
      done = ""
      while ((at = index(text, key)) > 0) {
        done = done substr(text, 1, at - 1) value
        text = substr(text, at + length(key))
      }
      return done text
    }
    /^[ \t]*@UPSTREAMS@[ \t]*$/ {
      indent = $0
      sub(/@UPSTREAMS@.*/, "", indent)
      count = split(ENVIRON["UPSTREAMS"], lines, "\n")
      for (i = 1; i <= count; i++) if (lines[i] != "") print indent lines[i]
      next
    }
    { print fill(fill($0, "LISTEN", ENVIRON["LISTEN"]), "PREFIX", ENVIRON["PREFIX"]) }
  ' "$1" >"$2"
  if grep -q '@[A-Z_]*@' "$2"; then die "placeholders left in $2"; fi
}

# Fails fast, before a build, when the cluster's ports are taken.
for offset in $(seq 0 "$backend_count"); do require_free_port $((port + offset)); done

ensure_cluster_services

# The database every backend shares.
if [ -z "${STRATUS_DATABASE_URL:-}" ]; then
  ensure_postgres_server
  psql=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5432 -U postgres -d postgres)
  exists="$(PGCONNECT_TIMEOUT=5 "${psql[@]}" -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'stratus_cluster'")" \
    || die "cannot reach PostgreSQL on 127.0.0.1:5432 as user postgres without a password; allow that (pg_hba.conf) or set STRATUS_DATABASE_URL to a database of yours"
  if [ "$exists" != 1 ]; then
    say "Creating the PostgreSQL database stratus_cluster"
    "${psql[@]}" -c 'CREATE DATABASE stratus_cluster'
  fi
  export STRATUS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/stratus_cluster"
fi
case "$STRATUS_DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) die "the backends of a cluster share a PostgreSQL database; STRATUS_DATABASE_URL is not postgres://..." ;;
esac

build_server_and_web_app

# Secrets every backend must share: generated once.
mkdir -p "$cluster_dir"
secrets="$cluster_dir/secrets.env"
if [ ! -s "$secrets" ]; then
  say "Generating the cluster's secrets into data/cluster/secrets.env"
  (
    umask 077
    printf 'STRATUS_SESSION_SECRET=%s\nSTRATUS_GATEWAY_SECRET=%s\n' "$(random_hex)" "$(random_hex)" \
      >"$secrets.new"
    mv "$secrets.new" "$secrets"
  )
fi
chmod 600 "$secrets"
for name in STRATUS_SESSION_SECRET STRATUS_GATEWAY_SECRET; do
  if [ -z "${!name:-}" ]; then
    value="$(sed -n "s/^$name=//p" "$secrets")"
    [ "${#value}" -ge 32 ] || die "$secrets has no $name of 32 characters or more; delete the file to generate new secrets"
    export "$name=$value"
  fi
done

# The bus between the backends.
if [ -n "${STRATUS_NATS_URL:-}" ]; then
  nats_note="$STRATUS_NATS_URL (STRATUS_NATS_URL)"
elif port_open 127.0.0.1 "$nats_port"; then
  case "$(nats_info "$nats_port")" in
    INFO*'"jetstream":true'*) ;;
    INFO*) die "the NATS server on 127.0.0.1:$nats_port runs without JetStream (-js); set STRATUS_CLUSTER_NATS_PORT to a free port and this script starts one" ;;
    *) die "127.0.0.1:$nats_port does not answer like a NATS server; set STRATUS_CLUSTER_NATS_PORT to a free port and this script starts one" ;;
  esac
  say "Using the NATS server already on 127.0.0.1:$nats_port"
  export STRATUS_NATS_URL="nats://127.0.0.1:$nats_port"
  nats_note="$STRATUS_NATS_URL (already running)"
else
  say "Starting NATS with JetStream on 127.0.0.1:$nats_port"
  mkdir -p "$cluster_dir/nats"
  setsid "$NATS_SERVER_BIN" -js -a 127.0.0.1 -p "$nats_port" -sd "$cluster_dir/nats" \
    </dev/null >>"$cluster_dir/nats.log" 2>&1 &
  NATS_PID=$!
  wait_until "NATS" 15 "$NATS_PID" "$cluster_dir/nats.log" port_open 127.0.0.1 "$nats_port"
  export STRATUS_NATS_URL="nats://127.0.0.1:$nats_port"
  nats_note="$STRATUS_NATS_URL (started here, data in data/cluster/nats/, log data/cluster/nats.log)"
fi

export STRATUS_PUBLIC_URL="${STRATUS_PUBLIC_URL:-http://127.0.0.1:$port}"
export STRATUS_DIST_DIR="${STRATUS_DIST_DIR:-$STRATUS_ROOT/dist}"

# Starts backend NUMBER (backend-NUMBER on port + NUMBER) in the background; arguments go to
# `stratus serve`.
start_backend() {
  local number="$1" name="backend-$1" backend_port=$((port + $1))
  shift
  require_free_port "$backend_port"
  mkdir -p "$cluster_dir/$name"
  printf '\n==== %s: %s serve %s\n' "$(date '+%F %T')" "$name" "$*" >>"$cluster_dir/$name.log"
  STRATUS_BIND="127.0.0.1:$backend_port" STRATUS_DATA_DIR="$cluster_dir/$name" \
    STRATUS_BACKEND_NAME="$name" STRATUS_TRUSTED_PROXIES=127.0.0.1 \
    setsid "$server" serve "$@" </dev/null >>"$cluster_dir/$name.log" 2>&1 &
  BACKEND_PIDS+=($!)
  BACKEND_NAMES+=("$name")
}

wait_for_backend() {
  local number="$1"
  wait_until "backend-$number" 120 "${BACKEND_PIDS[$((number - 1))]}" \
    "$cluster_dir/backend-$number.log" healthy $((port + number))
}

# backend-1 alone first: it brings the database's schema up to date (and seeds the demo),
# which the others would otherwise attempt at the same time.
say "Starting backend-1 on 127.0.0.1:$((port + 1))"
if [ "$demo" = 1 ]; then start_backend 1 --demo; else start_backend 1; fi
wait_for_backend 1
if [ "$backend_count" -gt 1 ]; then
  say "Starting backend-2 to backend-$backend_count on 127.0.0.1:$((port + 2))-$((port + backend_count))"
  for number in $(seq 2 "$backend_count"); do start_backend "$number"; done
  for number in $(seq 2 "$backend_count"); do wait_for_backend "$number"; done
fi

say "Starting nginx on 127.0.0.1:$port"
require_free_port "$port"
mkdir -p "$nginx_dir/logs" "$nginx_dir/tmp"
upstreams=""
for number in $(seq 1 "$backend_count"); do
  upstreams+="server 127.0.0.1:$((port + number)) max_fails=1 fail_timeout=5s;"$'\n'
done
render_nginx_conf deploy/nginx.conf "$nginx_dir/nginx.conf" "127.0.0.1:$port" "$nginx_dir" "$upstreams"
nginx_options=(-e "$nginx_dir/logs/error.log" -p "$nginx_dir" -c "$nginx_dir/nginx.conf")
"$NGINX_BIN" "${nginx_options[@]}" -t -q || die "nginx refuses $nginx_dir/nginx.conf"
setsid "$NGINX_BIN" "${nginx_options[@]}" -g 'daemon off;' </dev/null &
NGINX_PID=$!
wait_until "nginx" 15 "$NGINX_PID" "$nginx_dir/logs/error.log" healthy "$port"

say "Stratus runs as a cluster at http://127.0.0.1:$port"
{
  echo "  public URL  $STRATUS_PUBLIC_URL"
  for number in $(seq 1 "$backend_count"); do
    note=""
    if [ "$number" = 1 ] && [ "$demo" = 1 ]; then note=" (--demo)"; fi
    echo "  backend-$number   http://127.0.0.1:$((port + number))$note, log data/cluster/backend-$number.log"
  done
  echo "  nginx       data/cluster/nginx/nginx.conf, logs in data/cluster/nginx/logs/"
  echo "  NATS        $nats_note"
  echo "  database    $STRATUS_DATABASE_URL"
  echo "Ctrl-C stops them all. A backend that ends is reported; nginx sends its requests to the others."
} >&2

# Until nginx or the NATS started here ends (or Ctrl-C); a backend that ends is reported.
while :; do
  watched=("$NGINX_PID" "${BACKEND_PIDS[@]}")
  if [ -n "$NATS_PID" ]; then watched+=("$NATS_PID"); fi
  ended=""
  status=0
  wait -n -p ended "${watched[@]}" || status=$?
  case "$ended" in
    "$NGINX_PID")
      NGINX_PID=""
      die "nginx ended (status $status); see data/cluster/nginx/logs/error.log"
      ;;
    "$NATS_PID")
      NATS_PID=""
      die "NATS ended (status $status); see data/cluster/nats.log"
      ;;
    "")
      die "lost track of the cluster's processes"
      ;;
  esac
  for index in "${!BACKEND_PIDS[@]}"; do
    if [ "${BACKEND_PIDS[$index]}" = "$ended" ]; then
      say "${BACKEND_NAMES[$index]} ended (status $status); see data/cluster/${BACKEND_NAMES[$index]}.log. The others go on."
      unset 'BACKEND_PIDS[index]' 'BACKEND_NAMES[index]'
      BACKEND_PIDS=("${BACKEND_PIDS[@]}")
      BACKEND_NAMES=("${BACKEND_NAMES[@]}")
      break
    fi
  done
done
