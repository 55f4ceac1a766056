#!/usr/bin/env bash
# The state store's cost, on the synthetic web of bench/fetch.sh (20,000 items by default):
#
# 1. overhead: the same check with `--no-state`, then with a new store (its first run writes
#    every item) and again on that store (its second run updates them), ROUNDS times (default
#    2) in turn; the wall times, and the store's own write time (its `state recorded` log line).
# 2. nights: NIGHTS (default 30) nightly runs on one store while the web changes one article
#    in 20 each night (the server's NIGHT): each run's write time and the store's size after it.
# 3. revalidation: two runs on a new store with conditional GET (the store keeps validators
#    and bodies), the web unchanged between them: what each fetched in full and what the server
#    answered "304 Not Modified", and the size of the kept bodies.
# Runs 1 and 2 use `--no-cache`, so they measure the store's own cost, not the bodies' writes.
# With STATE_POSTGRES set (an address; the password in PGPASSWORD), each round of 1 also runs
# on that PostgreSQL database, emptied first (its public schema dropped: use a scratch one).
#
# Usage: bench/state.sh      (environment: ROUNDS NIGHTS OUTLETS FEEDS ITEMS PORT KEEP)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2} NIGHTS=${NIGHTS:-30}
. bench/synthetic-web.sh
bin=target/release/blackout

# One check: appends "LABEL WALL_SECONDS WRITE_SECONDS ITEMS NEW OPEN STORE_BYTES" to $work/runs.
run() {
    local label=$1 at=$2; shift 2
    local t0 t1
    t0=$(date +%s.%N)
    "$bin" -v check rules/fr-2017-presidentielle.toml "$work/sources.toml" --at "$at" -q --format json "$@" \
        > "$work/report.json" 2> "$work/log" || [ $? -eq 1 ]
    t1=$(date +%s.%N)
    python3 - "$work" "$label" "$t0" "$t1" <<'PY'
import json, re, sys, pathlib
work, label, t0, t1 = pathlib.Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
r = json.loads((work / "report.json").read_text())
m = re.search(r"state recorded .*seconds=([0-9.e-]+)", (work / "log").read_text())
state = r.get("state") or {}
size = sum(p.stat().st_size for p in work.glob("state.db*") if p.is_file() and not p.name.endswith(".lock"))
docs = sum(s["documents"] for s in r["sources"]); cached = sum(s["cached"] for s in r["sources"])
with open(work / "runs", "a") as out:
    print(label, f"{t1 - t0:.2f}", m.group(1) if m else "-", len(r["items"]), state.get("new", "-"), state.get("open", "-"), size,
          docs, cached, file=out)
PY
    tail -n 1 "$work/runs"
}

export NIGHT=0
start_server
echo "label wall_s write_s items new open store_bytes documents cached"
for round in $(seq "$ROUNDS"); do
    rm -rf "$work"/state.db*
    run no-state 2017-05-08T00:00:00Z --no-state
    run store-first 2017-05-08T00:00:00Z --state "$work/state.db" --no-cache
    run store-second 2017-05-08T00:00:00Z --state "$work/state.db" --no-cache
    if [ -n "${STATE_POSTGRES:-}" ]; then
        psql -q "$STATE_POSTGRES" -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" > /dev/null
        run postgres-first 2017-05-08T00:00:00Z --state "$STATE_POSTGRES" --no-cache
        run postgres-second 2017-05-08T00:00:00Z --state "$STATE_POSTGRES" --no-cache
    fi
done
stop_server

rm -rf "$work"/state.db*
for night in $(seq "$NIGHTS"); do
    export NIGHT=$night
    start_server
    run "night-$night" "$(date -u -d "2017-05-08 + $night days" +%FT%TZ)" --state "$work/state.db" --no-cache
    stop_server
done

rm -rf "$work"/state.db*
export NIGHT=0
for pass in first second; do
    start_server
    run "revalidate-$pass" 2017-05-08T00:00:00Z --state "$work/state.db"
    stop_server
    echo "revalidate-$pass server $(tr '\n' ' ' < "$work/server.out")" >> "$work/server-counts"
done
cat "$work/server-counts"
du -sb "$work/state.db.bodies" | awk '{ printf "kept bodies: %.0f MB\n", $1 / 1e6 }'

python3 - "$work" "$ROUNDS" <<'PY'
import statistics, sys, pathlib
rows = [l.split() for l in (pathlib.Path(sys.argv[1]) / "runs").read_text().splitlines()]
med = lambda label, col: statistics.median(float(r[col]) for r in rows if r[0] == label)
base = med("no-state", 1)
for label in ("store-first", "store-second", "postgres-first", "postgres-second"):
    if not any(r[0] == label for r in rows):
        continue
    print(f"overhead, {label.replace('store-', '')} run on a store: wall {med(label, 1):.2f} s vs {base:.2f} s without "
          f"({(med(label, 1) / base - 1) * 100:+.1f} %); the store's writes {med(label, 2):.2f} s ({med(label, 2) / base * 100:.1f} % of the check)")
nights = [r for r in rows if r[0].startswith("night-")]
if nights:
    writes = [float(r[2]) for r in nights]
    print(f"{len(nights)} nights of {nights[-1][3]} items: writes median {statistics.median(writes):.2f} s, max {max(writes):.2f} s per run; "
          f"store {int(nights[-1][6]) / 1e6:.1f} MB after the last night")
for label in ("revalidate-first", "revalidate-second"):
    r = next((r for r in rows if r[0] == label), None)
    if r:
        print(f"{label}: wall {float(r[1]):.1f} s, {r[7]} documents, {r[8]} answered 304 and read from the store")
PY
