#!/usr/bin/env bash
# Runs the Stratus portal at http://127.0.0.1:8080 with an embedded SQLite database in ./data/.
# Installs what is missing first; fast when everything is already there.
# Any STRATUS_* variable (see README) changes the defaults; arguments go to `stratus serve`
# (e.g. --demo).
# shellcheck source=scripts/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$STRATUS_ROOT" || exit

# The server needs none of the web tools: on a first run it compiles while they install,
# which keeps both cores busy through each build's single-threaded stretches.
cargo build --release --locked --quiet -p stratus-backend --bin stratus &
server_build=$!
BACKGROUND_PIDS+=("$server_build")

ensure_web_toolchain
build_web_app_when_changed
say "Building the server"
wait "$server_build"
say "Starting the server"
exec "$STRATUS_ROOT/target/release/stratus" serve "$@"
