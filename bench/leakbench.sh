#!/usr/bin/env bash
# Leak-detection quality on shared/data/leakbench-dev, end to end: builds the fingerprint index of
# the leaked documents, writes the rule set a regulator would write (fingerprints, the dump URL
# prefixes and hashtags of material.json), runs the real `blackout check` over the dev feeds and
# scores the predictions with shared/bench/score_leaks.py. Nothing from the data set is copied
# into the repository; work files go to a temporary directory.
#
# Usage: bench/leakbench.sh [--background DIR]... (extra args go to `fingerprint build`)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${LEAKBENCH:-../shared/data/leakbench-dev}
scorer=../shared/bench/score_leaks.py
work=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cargo build --release --locked -q
bin=target/release/blackout

$bin fingerprint build "$data/leak" -o "$work/leak.fp" "$@"

python3 - "$data" "$work" <<'PY'
import json, sys, pathlib
data, work = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2])
m = json.loads((data / "material.json").read_text())
q = lambda s: json.dumps(s, ensure_ascii=False)
lines = ["schema = 1", "", "[[material]]", 'id = "leakbench"',
         f"hashtags = [{', '.join(q(h) for h in m['hashtags'])}]",
         f"links = [{', '.join(q(l) for l in m['dump_url_prefixes'])}]",
         f"fingerprints = {q(str(work / 'leak.fp'))}", "",
         '[[rule]]', 'id = "leakbench-content"', 'severity = "violation"', 'windows = ["r2-macronleaks"]',
         'condition = { fingerprint = { material = "leakbench", min_words = 12 } }', 'message = "reproduces leaked text"', "",
         '[[rule]]', 'id = "leakbench-dump-link"', 'severity = "violation"', 'windows = ["r2-macronleaks"]',
         'condition = { link = "leakbench" }', 'message = "links to the dump"', "",
         '[[rule]]', 'id = "leakbench-mention"', 'severity = "notice"', 'windows = ["r2-macronleaks"]',
         'condition = { hashtag = "leakbench" }', 'message = "mentions the leak"', ""]
for feed in sorted((data / "feeds").glob("*.xml")):
    lines += ["[[source]]", f"id = {q(feed.stem)}", f"feed = {q(str(feed))}", 'audience = "all"', 'tz = "Europe/Paris"', ""]
(work / "leakbench.toml").write_text("\n".join(lines))
PY

$bin check rules/fr-2017-presidentielle.toml "$work/leakbench.toml" --no-state --format json > "$work/report.json" || [ $? -eq 1 ]

python3 - "$work" <<'PY'
import json, sys, pathlib
work = pathlib.Path(sys.argv[1])
r = json.loads((work / "report.json").read_text())
ids = lambda url: pathlib.PurePosixPath(url.split("?")[0]).stem
score, flagged = {}, {}
for item in r["items"]:
    score[ids(item["url"])], flagged[ids(item["url"])] = 0, 0
for f in r["findings"]:
    if not f["rule"].startswith("leakbench-") or f["severity"] != "violation":
        continue
    a = ids(f["url"])
    flagged[a] = 1
    words = [s.get("words", 0) for s in f["spans"]] + ([1000] if f["rule"] == "leakbench-dump-link" else [])
    score[a] = max([score[a]] + words)
with open(work / "predictions.csv", "w") as out:
    out.write("article_id,flagged,score\n")
    for a in sorted(score):
        out.write(f"{a},{flagged[a]},{score[a]}\n")
print(f"{len(score)} articles, {sum(flagged.values())} flagged; problems: {len(r['problems'])}", file=sys.stderr)
PY

python3 "$scorer" "$work/predictions.csv" "$data/labels.csv" --name blackout

# The index guarantees runs of at least k + w - 1 = 12 words: recall by transformation among the
# articles whose longest shared run reaches that, next to the scorer's overall figures.
python3 - "$work/predictions.csv" "$data/labels.csv" <<'PY'
import csv, sys, collections
pred = {r["article_id"]: r["flagged"] == "1" for r in csv.DictReader(open(sys.argv[1]))}
hit, total = collections.Counter(), collections.Counter()
for r in csv.DictReader(open(sys.argv[2])):
    if r["label"] == "republish" and int(r["longest_run"]) >= 12:
        total[r["transform"]] += 1
        hit[r["transform"]] += pred.get(r["article_id"], False)
print("-- recall by transformation, longest run >= 12 words")
for t in sorted(total):
    print(f"   {t:<25} {hit[t] / total[t]:.3f}  ({hit[t]}/{total[t]})")
print(f"   {'all':<25} {sum(hit.values()) / sum(total.values()):.3f}  ({sum(hit.values())}/{sum(total.values())})")
PY
