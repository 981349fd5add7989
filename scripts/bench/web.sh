#!/usr/bin/env bash
# Section `web`: the home page's first load over the wire (target ≤ 250 KB), from a fresh
# headless Chromium against the release server and the release web app in dist/ (built by
# `scripts/run.sh` or `scripts/test.sh`, with its brotli and gzip copies), then the 1,000-DMS
# overview: all rows shown after navigation, and one change applied (see BENCHMARKS.md).
# Settings (environment): BENCH_WEB_DMS (5, the DMSs of the page-weight account),
# BENCH_OVERVIEW_BROWSER_DMS (1000).
set -euo pipefail

# shellcheck source=scripts/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/tools.sh
source "$BENCH_ROOT/scripts/tools.sh"

bench_build
ensure_chromium
ensure_web_toolchain
build_web_app_when_changed
(cd "$BENCH_ROOT" && CARGO_TARGET_DIR=$BENCH_TARGET \
    cargo build --release --quiet -p e2e --bin page-weight --bin overview-bench)

export STRATUS_BIN=$BENCH_STRATUS
export STRATUS_DIST_DIR=$BENCH_ROOT/dist
echo "web app: $(du -b "$STRATUS_DIST_DIR"/*.wasm | awk '{ printf "%s B raw wasm", $1 }')"
"$BENCH_TARGET/release/page-weight" "${BENCH_WEB_DMS:-5}"
echo
"$BENCH_TARGET/release/overview-bench" "${BENCH_OVERVIEW_BROWSER_DMS:-1000}"
