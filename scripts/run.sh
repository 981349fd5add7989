#!/usr/bin/env bash
# Runs the Stratus portal at http://127.0.0.1:8080 with an embedded SQLite database in ./data/.
# Installs what is missing first; fast when everything is already there.
# Any STRATUS_* variable (see README) changes the defaults; arguments go to `stratus serve`
# (e.g. --demo). scripts/cluster.sh runs several servers behind nginx instead.
# shellcheck source=scripts/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$STRATUS_ROOT" || exit

build_server_and_web_app
say "Starting the server"
exec "$STRATUS_ROOT/target/release/stratus" serve "$@"
