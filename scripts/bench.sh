#!/usr/bin/env bash
# The benchmark suite: builds the release server and ws-echo, prints the machine, then runs
# every section (scripts/bench/*.sh, in name order) or the ones named, each against a freshly
# started release server with a fresh data dir. Figures only: nothing here asserts a timing.
#
#   bash scripts/bench.sh                      # every section
#   bash scripts/bench.sh gateways throughput  # these sections
#   BENCH_GATEWAYS=2000 BENCH_WINDOW=10 bash scripts/bench.sh gateways   # a short run
#
# Each section's settings are at the top of its script; BENCHMARKS.md says what each measures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bench/lib.sh

sections=("$@")
if [[ ${#sections[@]} == 0 ]]; then
    for script in scripts/bench/*.sh; do
        name=$(basename "$script" .sh)
        [[ $name == lib ]] || sections+=("$name")
    done
fi
for name in "${sections[@]}"; do
    if [[ ! -f scripts/bench/$name.sh || $name == lib ]]; then
        echo "no section \"$name\" (scripts/bench/$name.sh)" >&2
        exit 2
    fi
done

echo "== Stratus benchmarks"
bench_header
bench_build
export BENCH_BUILT=1
failed=()
for name in "${sections[@]}"; do
    echo
    echo "== $name ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1 /proc/loadavg))"
    if ! bash "scripts/bench/$name.sh"; then
        failed+=("$name")
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo
    echo "sections that did not finish: ${failed[*]}" >&2
    exit 1
fi
