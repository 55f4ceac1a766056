"""Scores blackout's feed reading on a test suite of feeds (see bench/feed-suite.sh).

For every .xml file in which feedparser finds entries and an RSS, RDF or Atom version (or, in
the suite's `illformed` directory, entries at all), counted by the suite's top directory,
blackout's `extract --format json` says how many entries it read: all of them ("whole"), some
("partly"), or none ("not at all"). Files are read in batches, one process per batch.
"""
import json
import pathlib
import subprocess
import sys
import warnings

import feedparser

warnings.filterwarnings("ignore")
suite, blackout = pathlib.Path(sys.argv[1]), sys.argv[2]
cases = []
for path in sorted(suite.rglob("*.xml")):
    parsed = feedparser.parse(str(path))
    top = path.relative_to(suite).parts[0]
    illformed = top == "illformed"
    version = parsed.get("version", "")
    if parsed.entries and (illformed or version.startswith(("rss", "atom"))):
        cases.append((path, len(parsed.entries), {"wellformed": "well-formed", "illformed": "ill-formed"}.get(top, top + "/")))

read = {}
for i in range(0, len(cases), 200):
    batch = [str(p) for p, _, _ in cases[i : i + 200]]
    out = subprocess.run([blackout, "extract", "--format", "json", *batch], capture_output=True, text=True)
    for view in json.loads(out.stdout or "[]"):
        read[view["url"]] = view

rows = {}
for path, expected, kind in cases:
    view = read.get(path.resolve().as_uri(), {})
    got = len(view.get("entries", []))
    verdict = "whole" if got >= expected else "partly" if got else "not at all"
    rows.setdefault(kind, {"files": 0, "whole": 0, "partly": 0, "not at all": 0})
    rows[kind]["files"] += 1
    rows[kind][verdict] += 1
    if verdict != "whole":
        why = view.get("error") or "; ".join(view.get("notes", [])) or "no note"
        print(f"  {verdict}: {path.relative_to(suite)} ({got} of {expected}): {why[:160]}")

print(f"\n{'feeds with entries':<22} {'files':>6} {'whole':>6} {'partly':>7} {'not at all':>11}")
for kind, r in rows.items():
    print(f"{kind:<22} {r['files']:>6} {r['whole']:>6} {r['partly']:>7} {r['not at all']:>11}")
