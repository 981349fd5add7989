#!/usr/bin/env bash
# Runs every check and test of Stratus: formatting, lints, unit tests, API tests on SQLite,
# the fuzz targets (20 s each), the same API tests on PostgreSQL (when TEST_DATABASE_URL names
# a server), the web app's release build, and the browser tests in headless Chromium. Installs
# nats-server and nginx for the cluster tests (TEST_NATS_SERVER and TEST_NGINX name them).
# Installs what is missing first; fast when everything is already there.
# shellcheck source=scripts/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$STRATUS_ROOT" || exit
# Each stage says how long the previous one took; a table of all of them ends the run.
# shellcheck disable=SC2034 # read by on_exit (tools.sh)
STAGE_SUMMARY=1

ensure_web_toolchain
ensure_chromium
# The cluster tests run their own nats-server and nginx (deploy/nginx.conf) from these paths.
ensure_cluster_services
export TEST_NATS_SERVER="$NATS_SERVER_BIN" TEST_NGINX="$NGINX_BIN"
ensure_smtp_server
ensure_oidc_provider
ensure_cargo_fuzz

say "Formatting (cargo fmt --check)"
cargo fmt --all --check

say "Lints (clippy, host and wasm32)"
cargo clippy --locked --workspace --all-targets --quiet -- -D warnings
cargo clippy --locked -p frontend --target wasm32-unknown-unknown --quiet -- -D warnings

build_web_app_when_changed
# One build for every later stage: the server binary (target/debug/stratus, which the browser
# and cluster tests run) and every test executable, all with the workspace's feature set.
say "Building the server and every test"
cargo test --locked --workspace --no-run --quiet

start_smtp_server
start_oidc_provider
say "Unit and API tests (SQLite)"
env -u TEST_DATABASE_URL cargo test --locked --workspace --exclude e2e

# Every fuzz target for a bounded time; `bash scripts/fuzz.sh 600` runs them longer.
say "Fuzzing (cargo fuzz, 20 s a target)"
run_fuzz_targets 20

# The browser journeys run the real server on SQLite; the one about a lost database uses
# TEST_DATABASE_URL (it says so and skips without it).
say "Browser tests (headless Chromium)"
# shellcheck disable=SC2046 # one test name a word
run_workspace_tests $(integration_tests_of e2e)

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  say "API tests on PostgreSQL (TEST_DATABASE_URL)"
  run_workspace_tests api
  # One at a time: each starts its own nats-server, nginx and three backends (one its own
  # PostgreSQL too), and some kill them under load.
  say "Cluster tests (three backends, NATS, nginx; TEST_DATABASE_URL)"
  run_workspace_tests cluster -- --test-threads=1
else
  cat >&2 <<'WARN'

  ************************************************************************
  *  PostgreSQL API tests SKIPPED: TEST_DATABASE_URL is not set.         *
  *  Set it to a server the tests may create databases on, e.g.          *
  *    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres     *
  *  (.ci/run always sets it.)                                           *
  ************************************************************************

WARN
fi
say "All tests passed"
