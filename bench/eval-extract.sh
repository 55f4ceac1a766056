#!/usr/bin/env bash
# Article-text quality and speed on shared/data/article-extraction-benchmark (181 real pages),
# scored with shared/bench/score_extraction.py: `blackout extract --jsonl` (both cores, and
# pinned to one core for pages/s), and trafilatura installed into a venv here, side by side.
# The speed is also given as a share of scraper's bare parse of the same pages in the same run
# (bench/parse_baseline.rs), because this shared host's speed varies from one run to the next.
# The pages are decompressed into a temporary directory, never into the repository.
#
# Usage: bench/eval-extract.sh            (KEEP=1 keeps the work directory)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${AEB:-../shared/data/article-extraction-benchmark}
scorer=../shared/bench/score_extraction.py
work=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cargo build --release --locked -q --bin blackout --example parse-baseline
python3 - "$data" "$work" <<'PY'
import gzip, pathlib, sys
data, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(work / "pages").mkdir()
for f in sorted((data / "html").glob("*.html.gz")):
    (work / "pages" / f.name[:-3]).write_bytes(gzip.decompress(f.read_bytes()))
PY
to_json() { python3 -c '
import json, sys
out = {}
for line in open(sys.argv[1]):
    o = json.loads(line); out[o["file"][:-5]] = o.get("text") or ""
json.dump(out, open(sys.argv[2], "w"))' "$1" "$2"; }

. bench/rate.sh
/usr/bin/time -f "%M" -o "$work/rss" target/release/blackout extract --jsonl "$work/pages" > "$work/blackout.jsonl"
/usr/bin/time -f "%M" -o "$work/rss1" taskset -c 0 target/release/blackout extract --jsonl "$work/pages" > /dev/null
both=$(rate 181 target/release/blackout extract --jsonl "$work/pages")
one=$(rate 181 taskset -c 0 target/release/blackout extract --jsonl "$work/pages")
target/release/examples/parse-baseline "$work/pages" > "$work/baseline"
base1=$(awk '/^one-core/ {print $2}' "$work/baseline")
base2=$(awk '/^all-cores/ {print $2}' "$work/baseline")
to_json "$work/blackout.jsonl" "$work/blackout.json"
python3 "$scorer" "$data/ground-truth.json" "$work/blackout.json" --name blackout
echo "blackout: $one pages/s on one core (peak RSS $(( $(cat "$work/rss1") / 1024 )) MB), $both pages/s on both (peak RSS $(( $(cat "$work/rss") / 1024 )) MB); best of 3 runs, process start and reading included"
echo "scraper's bare parse + one selector (reading included): $base1 pages/s on one core, $base2 on both; blackout does $(( 100 * one / base1 )) % and $(( 100 * both / base2 )) % of that"
python3 -c '
import collections, json, sys
c = collections.Counter(json.loads(l).get("class") for l in open(sys.argv[1]))
print("blackout page classes:", dict(c), "(every page of this set is an article)")' "$work/blackout.jsonl"

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q trafilatura lxml_html_clean
"$work/venv/bin/python" - "$work/pages" "$work/trafilatura.json" <<'PY'
import json, pathlib, sys, time, trafilatura
pages = sorted(pathlib.Path(sys.argv[1]).glob("*.html"))
out, spent = {}, 0.0
for p in pages:
    html = p.read_text(errors="replace")
    t = time.perf_counter()
    out[p.stem] = trafilatura.extract(html) or ""
    spent += time.perf_counter() - t
json.dump(out, open(sys.argv[2], "w"))
print(f"trafilatura {trafilatura.__version__}: {len(pages) / spent:.0f} pages/s on one core (extraction only)")
PY
python3 "$scorer" "$data/ground-truth.json" "$work/trafilatura.json" --name trafilatura
