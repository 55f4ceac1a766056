#!/usr/bin/env bash
# How many feeds of a feed reader's test suite blackout reads whole, partly, or not at all,
# against the entries feedparser (the peer; installed into a venv here) finds in the same files.
# The suite stays where it is and out of this repository: pass its directory, e.g. a checkout
# of https://github.com/kurtmckee/feedparser's `tests/` (BSD-2-Clause), whose `wellformed/` and
# `illformed/` hold the feeds.
#
# Usage: bench/feed-suite.sh SUITE_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${1:?usage: bench/feed-suite.sh SUITE_DIR (e.g. feedparser/tests)}
cargo build --release --locked -q
venv=${VENV:-$(mktemp -d)/venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q feedparser==6.0.14
"$venv/bin/python" bench/feed_suite.py "$suite" target/release/blackout
