#!/usr/bin/env bash
# What keeping evidence costs, on the synthetic news web of bench/fetch.sh (20,000 items and
# pages by default): the same check, fetching everything (`--no-cache`), in ROUNDS rounds
# (default 3) of three runs each, in turn —
#   off   --no-state: nothing recorded
#   none  a fresh state store, --keep-captures none: the run, its items and findings, its
#         record (texts judged, history answers) and its manifest, no capture
#   all   a fresh state store, --keep-captures all: every capture and its body as well
# — and prints each run's wall time, CPU time (user + system: steadier than wall time on a
# shared host) and peak RSS, the overhead of `all` over `none` and over `off` (medians), and what the last `all` store holds on disk (blobs compressed and
# deduplicated). Then the last `all` run is exported as WARC and replayed from the file and
# from the store, each timed, and the replays' findings compared with the live run's (count
# and keys).
#
# Usage: bench/evidence.sh          (environment: ROUNDS OUTLETS FEEDS ITEMS PORT KEEP)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
. bench/synthetic-web.sh
bin=target/release/blackout
rules=rules/fr-2017-presidentielle.toml

# One timed check: $1 the label, $2 the round, then its extra arguments.
check() {
    local label=$1 round=$2; shift 2
    start_server
    local started ended
    started=$(date +%s.%N)
    /usr/bin/time -f "%M %U %S" -o "$work/$label-$round.rss" "$bin" check "$rules" "$work/sources.toml" \
        --at 2017-05-08T00:00:00Z --no-cache -q --format json "$@" > "$work/$label-$round.json" || [ $? -eq 1 ]
    ended=$(date +%s.%N)
    stop_server
    echo "$label $round $(echo "$ended - $started" | bc) $(tail -1 "$work/$label-$round.rss")" | tee -a "$work/times"
}

for round in $(seq "$ROUNDS"); do
    check off "$round" --no-state
    rm -rf "$work/none.db"*
    check none "$round" --state "$work/none.db" --keep-captures none
    rm -rf "$work/all.db"*
    check all "$round" --state "$work/all.db" --keep-captures all
done

python3 - "$work" <<'PY'
import statistics, sys, pathlib
work = pathlib.Path(sys.argv[1])
runs = {}
for line in (work / "times").read_text().splitlines():
    label, _, wall, rss, user, system = line.split()
    runs.setdefault(label, []).append((float(wall), int(rss) / 1024, float(user) + float(system)))
med = {k: statistics.median(w for w, _, _ in v) for k, v in runs.items()}
cpu = {k: statistics.median(c for _, _, c in v) for k, v in runs.items()}
for k, v in runs.items():
    print(f"{k:5} wall " + ", ".join(f"{w:.1f} s" for w, _, _ in v) + f" (median {med[k]:.1f} s); CPU "
          + ", ".join(f"{c:.1f} s" for _, _, c in v) + f" (median {cpu[k]:.1f} s); peak RSS " + ", ".join(f"{r:.0f} MB" for _, r, _ in v))
for what, a, b in [("captures kept (all over none)", "all", "none"), ("everything recorded (all over off)", "all", "off")]:
    print(f"{what}: {100 * (med[a] / med[b] - 1):+.1f} % wall time, {100 * (cpu[a] / cpu[b] - 1):+.1f} % CPU time")
PY

db="$work/all.db"
blobs=$(find "$db.bodies" -type f | wc -l)
blob_bytes=$(du -sb "$db.bodies" | cut -f1)
db_bytes=$(du -sb "$db" | cut -f1)
captures=$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*) from captures').fetchone()[0])" "$db")
raw=$(python3 -c "import sqlite3,sys,json; c=sqlite3.connect(sys.argv[1]); print(sum(json.loads(r)['length'] for (r,) in c.execute('select record from captures')))" "$db")
echo "store of one 'all' run: $captures captures ($((raw / 1000000)) MB of bodies as fetched), $blobs blobs in $((blob_bytes / 1000000)) MB, database $((db_bytes / 1000000)) MB"

t0=$(date +%s.%N)
"$bin" evidence export --run 1 --state "$db" -o "$work/run.warc.gz" > /dev/null
t1=$(date +%s.%N)
"$bin" replay "$work/run.warc.gz" --format json > "$work/replay-warc.json" || [ $? -eq 1 ]
t2=$(date +%s.%N)
"$bin" replay --run 1 --state "$db" --format json > "$work/replay-store.json" || [ $? -eq 1 ]
t3=$(date +%s.%N)
"$bin" evidence verify --state "$db" > "$work/verify.out"
t4=$(date +%s.%N)
echo "export: $(echo "$t1 - $t0" | bc) s, $(($(stat -c %s "$work/run.warc.gz") / 1000000)) MB; replay from the WARC file: $(echo "$t2 - $t1" | bc) s; from the store: $(echo "$t3 - $t2" | bc) s; evidence verify: $(echo "$t4 - $t3" | bc) s"
python3 - "$work" "$ROUNDS" <<'PY'
import json, sys, pathlib
work, last = pathlib.Path(sys.argv[1]), sys.argv[2]
keys = lambda f: sorted(x["id"] for x in json.loads((work / f).read_text())["findings"])
live = keys(f"all-{last}.json")
for f in ["replay-warc.json", "replay-store.json"]:
    got = keys(f)
    print(f"{f}: {len(got)} findings, {'the same keys as' if got == live else 'DIFFERENT from'} the live run's {len(live)}")
PY
