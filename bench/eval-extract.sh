#!/usr/bin/env bash
# Article-text quality and speed on shared/data/article-extraction-benchmark (181 real pages),
# scored with shared/bench/score_extraction.py: `blackout extract --jsonl` (both cores, and
# pinned to one core for pages/s), and trafilatura installed into a venv here, side by side.
# The pages are decompressed into a temporary directory, never into the repository.
#
# Usage: bench/eval-extract.sh            (KEEP=1 keeps the work directory)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${AEB:-../shared/data/article-extraction-benchmark}
scorer=../shared/bench/score_extraction.py
work=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cargo build --release --locked -q
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

start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/rss" target/release/blackout extract --jsonl "$work/pages" > "$work/blackout.jsonl"
both=$(python3 -c "import sys; print(f'{181 / ($(date +%s.%N) - $start):.0f}')")
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/rss1" taskset -c 0 target/release/blackout extract --jsonl "$work/pages" > /dev/null
one=$(python3 -c "import sys; print(f'{181 / ($(date +%s.%N) - $start):.0f}')")
to_json "$work/blackout.jsonl" "$work/blackout.json"
python3 "$scorer" "$data/ground-truth.json" "$work/blackout.json" --name blackout
echo "blackout: $one pages/s on one core (peak RSS $(( $(cat "$work/rss1") / 1024 )) MB), $both pages/s on both (peak RSS $(( $(cat "$work/rss") / 1024 )) MB); process start and reading included"
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
