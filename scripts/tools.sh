# shellcheck shell=bash
# Installs the tools Stratus builds and tests with, when missing or at the wrong version.
# Sourced by scripts/run.sh and scripts/test.sh. Every tool comes from a package registry
# (crates.io, npm, Debian); nothing is downloaded from anywhere else, and Trunk is pinned so it
# never tries to fetch its own tools.

set -euo pipefail

STRATUS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Tools shared by every checkout on this machine (a fresh clone reuses them).
STRATUS_TOOLS_DIR="${STRATUS_TOOLS_DIR:-$HOME/.cache/stratus/tools}"
# Trunk 0.22 needs a newer rustc than this machine kind has.
TRUNK_VERSION="0.21.14"
# Debian's binaryen (108) breaks the wasm; the npm build of this version works.
BINARYEN_VERSION="132"
# The test OpenID provider (a certified implementation) from npm.
OIDC_PROVIDER_VERSION="9.13.3"
# cargo-fuzz for the fuzz targets (fuzz/); 0.13.2 builds on this machine's stable rustc.
CARGO_FUZZ_VERSION="0.13.2"

# Trunk and wasm-bindgen-cli are installed into $STRATUS_TOOLS_DIR/bin, wasm-opt into its
# node_modules; cargo's own bin folder stays reachable for cargo and rustup.
export PATH="$STRATUS_TOOLS_DIR/bin:$STRATUS_TOOLS_DIR/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# Every `say` starts a stage and shows how long the previous one took; stage_summary prints
# them all (scripts/test.sh does at its end), so logs show where the time goes.
STAGE_NAMES=()
STAGE_MICROS=()
STAGE_CURRENT="Tool checks"
STAGE_STARTED="${EPOCHREALTIME/./}"

format_micros() {
  local tenths=$(($1 / 100000))
  if [ "$tenths" -lt 600 ]; then
    printf '%d.%d s' $((tenths / 10)) $((tenths % 10))
  else
    printf '%d min %02d s' $((tenths / 600)) $((tenths / 10 % 60))
  fi
}

end_stage() {
  local now="${EPOCHREALTIME/./}"
  STAGE_NAMES+=("$STAGE_CURRENT")
  STAGE_MICROS+=($((now - STAGE_STARTED)))
  STAGE_STARTED="$now"
}

say() {
  end_stage
  printf '\033[1m==> %s\033[0m  (%s took %s)\n' "$*" "${STAGE_NAMES[-1]}" \
    "$(format_micros "${STAGE_MICROS[-1]}")" >&2
  STAGE_CURRENT="$*"
}

stage_summary() {
  local i total=0
  end_stage
  printf '\n\033[1mTime per stage\033[0m\n' >&2
  for i in "${!STAGE_NAMES[@]}"; do
    printf '  %12s  %s\n' "$(format_micros "${STAGE_MICROS[$i]}")" "${STAGE_NAMES[$i]}" >&2
    total=$((total + STAGE_MICROS[i]))
  done
  printf '  %12s  %s\n' "$(format_micros "$total")" "Total" >&2
}

# Background processes the scripts start (test servers, a build) end with the script.
BACKGROUND_PIDS=()
on_exit() {
  local status=$?
  if [ "${#BACKGROUND_PIDS[@]}" -gt 0 ]; then
    kill "${BACKGROUND_PIDS[@]}" 2>/dev/null || true
  fi
  if [ "${STAGE_SUMMARY:-}" = 1 ]; then
    [ "$status" -eq 0 ] || STAGE_CURRENT="$STAGE_CURRENT (FAILED)"
    stage_summary
  fi
}
trap on_exit EXIT

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
    "$STRATUS_ROOT/Cargo.lock"
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

# `cargo install` into the tools folder unoptimized: these tools run for seconds (wasm-bindgen
# takes 1.3 s on the web app's wasm unoptimized, 0.4 s at opt-level 1), while compiling them
# optimized (Trunk's own profile is fat LTO and one codegen unit) is most of a first run.
# Config (here the environment) overrides the crate's [profile.release].
install_tool() {
  CARGO_PROFILE_RELEASE_LTO=off \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
    CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_STRIP=true \
    cargo install --root "$STRATUS_TOOLS_DIR" --quiet "$@"
}

ensure_trunk() {
  if [ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]; then
    say "Installing Trunk $TRUNK_VERSION from crates.io (a few minutes, once)"
    # Without default features: no TLS stack and no update check, which an offline build
    # never uses.
    install_tool trunk --version "$TRUNK_VERSION" --locked --no-default-features
  fi
}

ensure_wasm_bindgen() {
  local version
  version="$(wasm_bindgen_version)"
  [ -n "$version" ] || { echo "wasm-bindgen is not in Cargo.lock" >&2; exit 1; }
  if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $version" ]; then
    say "Installing wasm-bindgen-cli $version from crates.io (a minute or two, once)"
    # Not --locked: the CLI's own lock pins a webpki-roots release the registry no longer serves.
    # Only the binary Trunk runs (not the test runner nor wasm2es6js).
    install_tool wasm-bindgen-cli --version "$version" --force --bin wasm-bindgen
  fi
  export TRUNK_TOOLS_WASM_BINDGEN="$version"
}

ensure_wasm_opt() {
  local bin="$STRATUS_TOOLS_DIR/node_modules/.bin/wasm-opt"
  if ! "$bin" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
    say "Installing binaryen@$BINARYEN_VERSION (wasm-opt) from npm"
    command -v npm >/dev/null || { echo "npm is needed to install wasm-opt" >&2; exit 1; }
    mkdir -p "$STRATUS_TOOLS_DIR"
    npm install --prefix "$STRATUS_TOOLS_DIR" --no-audit --no-fund --silent \
      "binaryen@$BINARYEN_VERSION"
  fi
}

ensure_cargo_fuzz() {
  if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    say "Installing cargo-fuzz $CARGO_FUZZ_VERSION from crates.io (a minute or two, once)"
    install_tool cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --force
  fi
}

# libFuzzer's lines per new input and corpus reload; its periodic and final statistics stay.
fuzz_log_filter() {
  grep -v -e '^#[0-9]*[[:space:]]*\(NEW\|REDUCE\) ' -e '# Uses:' -e 'NEW_FUNC\[' -e '^Loaded ' \
    || true
}

# Runs every fuzz target for $1 seconds, failing on the first crash (its input is left in
# fuzz/artifacts/<target>/; `cargo fuzz run <target> <that file>` in fuzz/ replays it).
# The targets need nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain take them. No
# sanitizer: the code under test is safe Rust, where ASan finds nothing and slows every run.
# libFuzzer reads the committed seeds (fuzz/corpus/<target>) but writes the inputs it finds
# into the first corpus folder it is given: a temporary one, so the repository does not grow.
run_fuzz_targets() {
  local seconds="$1" fuzz_dir="$STRATUS_ROOT/fuzz" found target status=0
  found="$(mktemp -d)"
  for target in $(cd "$fuzz_dir" && cargo fuzz list); do
    mkdir -p "$found/$target"
    echo "fuzzing $target for $seconds s" >&2
    if ! (cd "$fuzz_dir" && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none \
      --target-dir "$fuzz_dir/target" "$target" "$found/$target" "$fuzz_dir/corpus/$target" \
      -- -max_total_time="$seconds" -max_len=4096 -dict="$fuzz_dir/dict/json.dict" \
      -print_final_stats=1 2>&1 | fuzz_log_filter >&2); then
      status=1
      break
    fi
  done
  rm -rf "$found"
  return "$status"
}

# Installs Debian packages, quietly and without questions; the package lists are refreshed
# once per script run (test.sh may install Chromium and the cluster services in one run).
APT_LISTS_UPDATED=0
apt_install() {
  if [ "$APT_LISTS_UPDATED" = 0 ]; then
    as_root apt-get update -qq || return
    APT_LISTS_UPDATED=1
  fi
  # Through env: sudo would drop the variable.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    say "Installing Chromium and chromedriver from Debian's packages"
    apt_install chromium chromium-driver
  fi
}

# Installs Debian packages whose service the scripts run as their own processes (nginx,
# nats-server), leaving no system instance of it running or starting at boot: the package
# would otherwise start nginx on port 80, and a nats-server without JetStream on 4222, the
# port scripts/cluster.sh uses. While apt-get runs, a policy-rc.d answering 101 ("not
# allowed", which invoke-rc.d and deb-systemd-invoke obey) keeps services from starting,
# unless the machine has a policy of its own (Docker images do); afterwards each package's
# service (named like the package) is stopped, should it run anyway, and disabled.
apt_install_without_services() {
  local policy=/usr/sbin/policy-rc.d placed=0 status=0 service
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# Placed by Stratus (scripts/tools.sh) while it installs packages.\nexit 101\n' \
      | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    placed=1
  fi
  apt_install "$@" || status=$?
  if [ "$placed" = 1 ]; then as_root rm -f "$policy"; fi
  [ "$status" -eq 0 ] || return "$status"
  for service in "$@"; do
    if [ -d /run/systemd/system ]; then
      as_root systemctl disable --now --quiet "$service.service" 2>/dev/null || true
    elif [ -x "/etc/init.d/$service" ]; then
      as_root service "$service" stop >/dev/null 2>&1 || true
      as_root update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
  done
}

# nginx and nats-server, which scripts/cluster.sh and the cluster tests run: from Debian's
# packages when missing. Sets NGINX_BIN and NATS_SERVER_BIN to their paths (/usr/sbin, which
# a non-root PATH may lack).
ensure_cluster_services() {
  local missing=()
  NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
  NATS_SERVER_BIN="$(command -v nats-server || echo /usr/sbin/nats-server)"
  [ -x "$NGINX_BIN" ] || missing+=(nginx)
  [ -x "$NATS_SERVER_BIN" ] || missing+=(nats-server)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "Installing ${missing[*]} from Debian's packages"
    apt_install_without_services "${missing[@]}"
    [ -x "$NGINX_BIN" ] || { echo "no nginx at $NGINX_BIN after installing it" >&2; exit 1; }
    [ -x "$NATS_SERVER_BIN" ] || { echo "no nats-server at $NATS_SERVER_BIN after installing it" >&2; exit 1; }
  fi
}

# A PostgreSQL server answering on 127.0.0.1:5432, for scripts/cluster.sh: Debian's
# postgresql when its cluster tools or server are missing (the package creates a cluster
# "main" on port 5432), and the machine's cluster on that port started when nothing answers
# there, as .ci/run does.
ensure_postgres_server() {
  local cluster
  if ! command -v pg_ctlcluster >/dev/null || ! command -v pg_isready >/dev/null \
    || ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    say "Installing PostgreSQL from Debian's packages"
    apt_install postgresql
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 && return 0
  # "15 main" of `pg_lsclusters`' line "15 main 5432 down postgres ...".
  cluster="$(pg_lsclusters -h | awk '$3 == 5432 { print $1, $2; exit }')"
  [ -n "$cluster" ] || { echo "no PostgreSQL cluster is set up for port 5432 (pg_lsclusters)" >&2; exit 1; }
  say "Starting PostgreSQL (cluster $cluster)"
  # shellcheck disable=SC2086 # version and name, two words
  as_root pg_ctlcluster --skip-systemctl-redirect $cluster start
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    sleep 1
  done
  echo "PostgreSQL did not answer on 127.0.0.1:5432 within 30 s" >&2
  exit 1
}

# Everything Trunk needs.
ensure_web_toolchain() {
  ensure_wasm_target
  ensure_trunk
  ensure_wasm_bindgen
  ensure_wasm_opt
}

# Builds the web app (release: small wasm, wasm-opt) into dist/.
build_web_app() {
  say "Building the web app into dist/"
  (cd "$STRATUS_ROOT" && trunk build --release)
}

# What dist/ is built from: the web app's and the shared crate's files, the workspace's
# manifest (the web-release profile) and lock, Trunk's settings, this script (how it builds),
# the tool versions and the environment that steers them. Untracked files count too.
web_app_inputs_digest() {
  (
    cd "$STRATUS_ROOT"
    find frontend shared -type f ! -path '*/target/*' -print0 | sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock Trunk.toml scripts/tools.sh scripts/precompress.mjs
    if [ -d .cargo ]; then find .cargo -type f -print0 | sort -z | xargs -0 -r sha256sum; fi
    rustc -vV
    trunk --version
    wasm-bindgen --version
    wasm-opt --version
    env | grep -E '^(TRUNK_|RUSTFLAGS=|CARGO_ENCODED_RUSTFLAGS=|CARGO_PROFILE_|CARGO_BUILD_)' \
      | sort || true
  ) | sha256sum | cut -d ' ' -f 1
}

dist_digest() {
  (cd "$STRATUS_ROOT" && find dist -type f -print0 | sort -z | xargs -0 -r sha256sum) \
    | sha256sum | cut -d ' ' -f 1
}

# Builds the web app unless dist/ is exactly what the last build made from the same inputs
# (Trunk itself always re-runs wasm-bindgen and wasm-opt on the whole wasm).
build_web_app_when_changed() {
  local stamp="$STRATUS_ROOT/target/web-app.stamp" inputs
  inputs="$(web_app_inputs_digest)"
  if [ -d "$STRATUS_ROOT/dist" ] && [ -f "$stamp" ] \
    && [ "$(cat "$stamp")" = "$inputs $(dist_digest)" ]; then
    return 0
  fi
  rm -f "$stamp"
  # Trunk runs cargo --offline.
  (cd "$STRATUS_ROOT" && cargo fetch --locked --quiet)
  build_web_app
  mkdir -p "$STRATUS_ROOT/target"
  echo "$inputs $(dist_digest)" >"$stamp"
}

# Builds what scripts/run.sh and scripts/cluster.sh run: the release server
# (target/release/stratus) and the web app (dist/). The server needs none of the web tools: on
# a first run it compiles while they install, which keeps both cores busy through each build's
# single-threaded stretches.
build_server_and_web_app() {
  local server_build
  cargo build --release --locked --quiet -p stratus-backend --bin stratus &
  server_build=$!
  BACKGROUND_PIDS+=("$server_build")
  ensure_web_toolchain
  build_web_app_when_changed
  say "Building the server"
  wait "$server_build"
  forget_background_pid "$server_build"
}

# Runs the integration-test executables named (e.g. `api`) that `cargo test --locked --workspace
# --no-run` built, each from its package's folder as cargo would, with the arguments after
# `--`. Running the built executables keeps every stage on the workspace's one feature set:
# `cargo test -p <package> --test <name>` resolves features for that selection alone and
# rebuilds most dependencies (about five minutes a stage on this machine kind).
run_workspace_tests() {
  local names=() executables name dir executable
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    names+=("$1")
    shift
  done
  [ "${1:-}" = -- ] && shift
  executables="$(cargo test --locked --workspace --no-run --quiet --message-format=json |
    python3 -c '
import json, os, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") \
            and message["target"]["kind"] == ["test"]:
        print(message["target"]["name"], os.path.dirname(message["manifest_path"]),
              message["executable"])
')"
  for name in "${names[@]}"; do
    read -r _ dir executable < <(grep "^$name " <<<"$executables") || {
      echo "no integration test named $name in the workspace" >&2
      return 1
    }
    echo "     Running $name ($executable)" >&2
    (cd "$dir" && "$executable" "$@")
  done
}

# The names of a package's integration tests (its tests/*.rs and tests/*/main.rs).
integration_tests_of() {
  local path
  for path in "$STRATUS_ROOT/$1"/tests/*.rs "$STRATUS_ROOT/$1"/tests/*/main.rs; do
    [ -e "$path" ] || continue
    case "$path" in
      */main.rs) path="${path%/main.rs}" ;;
      *) path="${path%.rs}" ;;
    esac
    echo "${path##*/}"
  done
}

# Drops a process that has ended from BACKGROUND_PIDS, so on_exit never signals its reused id.
forget_background_pid() {
  local pid kept=()
  for pid in "${BACKGROUND_PIDS[@]}"; do
    [ "$pid" = "$1" ] || kept+=("$pid")
  done
  BACKGROUND_PIDS=("${kept[@]}")
}

# Whether a child process of this script still runs: one that has ended stays a zombie
# (state Z), which `kill -0` cannot tell from a live one, until it is waited for.
process_running() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  # "pid (command) state ...": the state follows the last parenthesis.
  stat="${stat##*) }"
  [ -n "$stat" ] && [ "${stat:0:1}" != Z ]
}

# Stops child processes of this script: SIGTERM to each, then up to SECONDS for all of them to
# end (a Stratus server finishes its requests first), then SIGKILL for what still runs.
# Usage: stop_processes SECONDS PID...
stop_processes() {
  local seconds="$1" pid running deadline
  shift
  [ "$#" -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  deadline=$((SECONDS + seconds))
  while :; do
    running=()
    for pid in "$@"; do
      if process_running "$pid"; then running+=("$pid"); fi
    done
    if [ "${#running[@]}" -eq 0 ] || [ "$SECONDS" -ge "$deadline" ]; then break; fi
    sleep 0.2
  done
  if [ "${#running[@]}" -gt 0 ]; then
    kill -KILL "${running[@]}" 2>/dev/null || true
  fi
  for pid in "$@"; do
    wait "$pid" 2>/dev/null || true
  done
}

# Whether something accepts TCP connections at HOST PORT.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# The HTTP status code of GET http://HOST:PORT/PATH, or nothing when no answer comes within
# two seconds (bash only: no curl needed). Usage: http_status HOST PORT PATH
http_status() {
  (
    exec 3<>"/dev/tcp/$1/$2" || exit 0
    printf 'GET %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$3" "$1" "$2" >&3
    IFS=' ' read -r -t 2 _ status _ <&3 || exit 0
    printf '%s' "$status"
  ) 2>/dev/null
}

# A real SMTP server for the tests: aiosmtpd from PyPI in a virtualenv of our own.
ensure_smtp_server() {
  local venv="$STRATUS_TOOLS_DIR/venv"
  if ! "$venv/bin/python" -c "import aiosmtpd" 2>/dev/null; then
    say "Installing aiosmtpd (test SMTP server) from PyPI"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
  fi
}

# Starts the test SMTP server on a free port, delivering into a Maildir; exports
# TEST_SMTP_PORT and TEST_MAILDIR for the tests and stops the server when the script exits.
start_smtp_server() {
  local venv="$STRATUS_TOOLS_DIR/venv"
  TEST_MAILDIR="$(mktemp -d)/maildir"
  TEST_SMTP_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$venv/bin/python" -m aiosmtpd -n -l "127.0.0.1:$TEST_SMTP_PORT" \
    -c aiosmtpd.handlers.Mailbox "$TEST_MAILDIR" &
  BACKGROUND_PIDS+=($!)
  for _ in $(seq 1 50); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $TEST_SMTP_PORT), 1)" 2>/dev/null; then
      export TEST_SMTP_PORT TEST_MAILDIR
      say "Test SMTP server on 127.0.0.1:$TEST_SMTP_PORT, mail in $TEST_MAILDIR"
      return 0
    fi
    sleep 0.1
  done
  echo "the test SMTP server did not start" >&2
  exit 1
}

# A real OpenID provider for the tests: oidc-provider from npm in a folder of its own (so it
# never disturbs the wasm-opt install), run by e2e/oidc/provider.mjs.
ensure_oidc_provider() {
  local dir="$STRATUS_TOOLS_DIR/oidc"
  local installed
  installed="$(node -p "require('$dir/node_modules/oidc-provider/package.json').version" 2>/dev/null || true)"
  if [ "$installed" != "$OIDC_PROVIDER_VERSION" ]; then
    say "Installing oidc-provider@$OIDC_PROVIDER_VERSION (test OpenID provider) from npm"
    command -v npm >/dev/null || { echo "npm is needed to install oidc-provider" >&2; exit 1; }
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --silent "oidc-provider@$OIDC_PROVIDER_VERSION"
  fi
}

# Starts the test OpenID provider on a free port of 127.0.0.1; exports TEST_OIDC_ISSUER for
# the tests (which register a client per test server) and stops it when the script exits.
start_oidc_provider() {
  local log
  log="$(mktemp)"
  OIDC_PROVIDER_MODULE="$STRATUS_TOOLS_DIR/oidc/node_modules/oidc-provider/lib/index.js" PORT=0 \
    node "$STRATUS_ROOT/e2e/oidc/provider.mjs" >"$log" 2>&1 &
  BACKGROUND_PIDS+=($!)
  for _ in $(seq 1 100); do
    TEST_OIDC_ISSUER="$(sed -n 's/^oidc-provider listening on //p' "$log")"
    if [ -n "$TEST_OIDC_ISSUER" ]; then
      export TEST_OIDC_ISSUER
      say "Test OpenID provider at $TEST_OIDC_ISSUER"
      return 0
    fi
    sleep 0.1
  done
  cat "$log" >&2
  echo "the test OpenID provider did not start" >&2
  exit 1
}
