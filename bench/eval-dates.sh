#!/usr/bin/env bash
# Publication-day accuracy on shared/data/date-extraction-dev (500 real pages), scored with
# shared/bench/score_dates.py: `blackout extract --jsonl` (the day of the published date as
# the page wrote it), and htmldate (fast and extensive) installed into a venv here, side by
# side in one run.
#
# Usage: bench/eval-dates.sh            (KEEP=1 keeps the work directory)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATES:-../shared/data/date-extraction-dev}
work=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cargo build --release --locked -q
. bench/rate.sh
target/release/blackout extract --jsonl "$data/pages" > "$work/blackout.jsonl"
echo "blackout: $(rate 500 target/release/blackout extract --jsonl "$data/pages") pages/s on both cores, $(rate 500 taskset -c 0 target/release/blackout extract --jsonl "$data/pages") on one (best of 3 runs, process start and reading included; text and dates)"
python3 - "$work" <<'PY'
import json, pathlib, sys
work = pathlib.Path(sys.argv[1])
preds = {}
for line in open(work / "blackout.jsonl"):
    o = json.loads(line)
    preds[o["file"]] = o.get("published_day")
by = {}
for line in open(work / "blackout.jsonl"):
    o = json.loads(line)
    by[o.get("published_confidence")] = by.get(o.get("published_confidence"), 0) + 1
print("blackout: published dates by confidence:", by)
json.dump(preds, open(work / "blackout.json", "w"))
PY
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q htmldate
"$work/venv/bin/python" ../shared/bench/score_dates.py --data "$data" --tools htmldate_fast,htmldate_ext --predictions "blackout=$work/blackout.json"
