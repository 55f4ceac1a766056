#!/usr/bin/env bash
# A newcomer's first build, timed: a clean target directory, crates already downloaded (the
# download is the network's time, not the build's), `cargo build --profile PROFILE --locked`.
# Prints the wall time, the peak memory of the build (its largest process: rustc or the
# linker); keeps cargo's per-crate report (target/cargo-timings/first-build-PROFILE.html) and
# the binary (target/first-build/blackout-PROFILE, for bench/fingerprint_speed.py --bin).
#
# Usage: bench/first-build.sh [PROFILE] (default: release)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-release}
target=$(mktemp -d)
trap 'rm -rf "$target"' EXIT
cargo fetch --locked -q
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$target/rss" \
    cargo build --profile "$profile" --locked -q --timings --target-dir "$target"
end=$(date +%s.%N)
mkdir -p target/cargo-timings target/first-build
cp "$target"/cargo-timings/cargo-timing.html "target/cargo-timings/first-build-$profile.html"
cp "$target/$profile/blackout" "target/first-build/blackout-$profile"
ls -l "$target/$profile/blackout" | awk '{printf "binary: %.1f MB\n", $5 / 1e6}'
awk -v s="$start" -v e="$end" -v p="$profile" 'BEGIN { t = e - s; printf "first build (%s): %d min %02d s\n", p, t / 60, t % 60 }'
awk '{ printf "peak memory of one process: %.2f GB\n", $1 / 1024 / 1024 }' "$target/rss"
