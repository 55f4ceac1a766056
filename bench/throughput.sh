#!/usr/bin/env bash
# End-to-end throughput of `blackout check` (read feeds, decode, parse, extract pages, time,
# match, report) on the bundled demo and on shared/data/leakbench-dev (300 pages, 7 feeds).
# The data set is read in place, never copied. Usage: bench/throughput.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
data=../shared/data/leakbench-dev
cargo build --release --locked -q
bin=target/release/blackout

measure() { # label, then the command
  local label=$1; shift
  local best=999999 rss=0
  for _ in $(seq "$runs"); do
    local start end ms
    start=$(date +%s%N)
    "$@" > /dev/null || [ $? -eq 1 ]   # exit 1 means findings, not failure
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    (( ms < best )) && best=$ms
  done
  rss=$( { /usr/bin/time -f "%M" "$@" > /dev/null; } 2>&1 | tail -n1 || true)
  echo "$label: best of $runs runs ${best} ms, peak RSS ${rss} KB"
  BEST_MS=$best
}

measure "demo (rules/demo, 3 sources, 8 items)" $bin check rules/fr-2017-presidentielle.toml rules/demo/sources.toml --no-state
if [ -d "$data" ]; then
  bytes=$(cat "$data"/articles/*.html "$data"/feeds/*.xml | wc -c)
  measure "leakbench-dev (7 feeds, 300 pages, $((bytes / 1024)) KiB)" $bin check rules/fr-2017-presidentielle.toml --input "$data/feeds" --no-state --format json
  awk -v b="$bytes" -v ms="$BEST_MS" 'BEGIN { printf "  throughput: %.1f MB/s of HTML and XML, end to end, %d cores\n", b / 1e6 / (ms / 1000), '"$(nproc)"' }'
else
  echo "($data not found: skipped)"
fi
