#!/usr/bin/env bash
# Live fetching, end to end, on a synthetic news web: OUTLETS outlets (default 50), each on its
# own loopback address (127.0.0.2 …) so the per-host limit works as on the real web, each with
# FEEDS feeds (default 10) of ITEMS items (default 40) whose pages are 60–150 KB of HTML, served
# by bench/fetch_server.rs (Rust, not the bottleneck). Measures `blackout check` (items/s,
# pages/s, wall time, peak RSS, the most requests one host served at once), then the obvious
# Python pipeline (bench/fetch_baseline.py: feedparser, requests in 16 threads, trafilatura,
# installed into a venv here) on the first BASELINE_FEEDS feeds (default 50: it is slow), and
# the ratio of items/s.
#
# Usage: bench/fetch.sh            (environment: OUTLETS FEEDS ITEMS BASELINE_FEEDS PORT KEEP)
set -euo pipefail
cd "$(dirname "$0")/.."
BASELINE_FEEDS=${BASELINE_FEEDS:-50}
. bench/synthetic-web.sh

start_server
started=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/rss" target/release/blackout check rules/fr-2017-presidentielle.toml "$work/sources.toml" \
    --at 2017-05-08T00:00:00Z --no-cache --no-state --format json > "$work/report.json" || [ $? -eq 1 ]
ended=$(date +%s.%N)
stop_server
python3 - "$work" "$started" "$ended" <<'PY'
import json, sys, pathlib
work, wall = pathlib.Path(sys.argv[1]), float(sys.argv[3]) - float(sys.argv[2])
r = json.loads((work / "report.json").read_text())
items = len(r["items"]); docs = sum(s["documents"] for s in r["sources"]); failed = sum(s["failed"] for s in r["sources"])
feeds = len(r["sources"]); pages = docs - feeds
rss = int((work / "rss").read_text().split()[-1]) / 1024
server = dict(l.split() for l in (work / "server.out").read_text().splitlines() if " " in l)
print(f"blackout: {feeds} feeds, {items} items, {pages} pages, {failed} failed, {len(r['findings'])} findings in {wall:.1f} s: "
      f"{items / wall:.0f} items/s, {pages / wall:.0f} pages/s; peak RSS {rss:.0f} MB; "
      f"most requests one host served at once: {server['max-in-flight-per-host']}")
(work / "blackout.rate").write_text(str(items / wall))
PY

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q feedparser requests trafilatura lxml_html_clean
head -n "$BASELINE_FEEDS" "$work/feeds.txt" > "$work/baseline-feeds.txt"
start_server
"$work/venv/bin/python" bench/fetch_baseline.py "$work/baseline-feeds.txt" | tee "$work/baseline.out"
stop_server
python3 - "$work" <<'PY'
import re, sys, pathlib
work = pathlib.Path(sys.argv[1])
ours = float((work / "blackout.rate").read_text())
theirs = float(re.search(r"([0-9.]+) items/s", (work / "baseline.out").read_text()).group(1))
print(f"ratio: blackout {ours / theirs:.1f}x the baseline's items/s")
PY
