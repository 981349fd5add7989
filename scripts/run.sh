#!/usr/bin/env bash
# Runs the Stratus portal at http://127.0.0.1:8080 with an embedded SQLite database in ./data/.
# Installs what is missing first; fast when everything is already there.
# Any STRATUS_* variable (see README) changes the defaults; arguments go to `stratus serve`
# (e.g. --demo).
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$STRATUS_ROOT"

ensure_web_toolchain
build_web_app
say "Building the server"
cargo build --release --locked --quiet -p stratus-backend --bin stratus
exec "$STRATUS_ROOT/target/release/stratus" serve "$@"
