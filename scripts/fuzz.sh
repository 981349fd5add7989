#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/: the gateway's text frames, every JSON request body) for
# the given seconds each (default 300), failing on a crash. scripts/test.sh runs them for 20 s.
# Usage: bash scripts/fuzz.sh [seconds-per-target]
# shellcheck source=scripts/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
cd "$STRATUS_ROOT" || exit
# shellcheck disable=SC2034 # read by on_exit (tools.sh)
STAGE_SUMMARY=1

seconds="${1:-300}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: bash scripts/fuzz.sh [seconds-per-target]" >&2; exit 2 ;;
esac
ensure_cargo_fuzz
say "Fuzzing (cargo fuzz, $seconds s a target)"
run_fuzz_targets "$seconds"
say "No crash"
