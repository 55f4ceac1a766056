#!/usr/bin/env bash
# The store's blob codec (zstd level 1) against gzip level 1, each page compressed alone, on
# shared/data/wcxb-dev's 1,355 modern pages (read in place, never copied): bench/blob_codecs.rs.
#
# Usage: bench/blob-codecs.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q --example blob-codecs
target/release/examples/blob-codecs "${1:-../shared/data/wcxb-dev/html}"
