#!/usr/bin/env python3
"""Fingerprint speed at the corpus size of 2017 (about 21,000 leaked documents).

Generates, in a temporary directory, a corpus of 20,000 documents (>= 70 MB) by recombining and
perturbing the lines of shared/data/leakbench-dev/leak, and 10,000 articles (plain text: matching
is measured on extracted text) built from the dev articles' text with leaked passages in one in
ten. Then measures `blackout fingerprint build` (wall time, peak RSS, file size) and
`blackout fingerprint match --stats` pinned to one core, five times (throughput in MB of text
per second, best and median; peak RSS); with --baseline, the same for an obvious Python winnowing matcher
(bench/baseline_winnowing.py) and the ratios. Usage:
bench/fingerprint_speed.py [--docs N] [--articles N] [--keep] [--baseline]
"""
import argparse, html, pathlib, random, re, shutil, subprocess, sys, tempfile, time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "leakbench-dev"

def text_of(page):
    body = re.search(r"<article.*?</article>", page, re.S)
    body = re.sub(r"<(script|style|aside|nav)\b.*?</\1>", " ", body.group(0) if body else page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--articles", type=int, default=10000)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--baseline", action="store_true", help="also time bench/baseline_winnowing.py (slow, ~2 GB)")
    ap.add_argument("--bin", action="append", default=[],
                    help="time these binaries instead of building the release one (repeatable: each is timed in turn, "
                         "on the same data, so builds of two profiles compare in one run)")
    a = ap.parse_args()
    rng = random.Random(2017)
    lines = [l for f in sorted((DATA / "leak").glob("*.txt")) for l in f.read_text().splitlines() if len(l.split()) >= 4]
    vocab = sorted({w for l in lines for w in l.split()})
    work = pathlib.Path(tempfile.mkdtemp(prefix="fpbench-"))
    corpus, articles = work / "corpus", work / "articles"
    corpus.mkdir(); articles.mkdir()
    total = 0
    docs = []
    for i in range(a.docs):
        n = rng.randint(30, 90)
        doc_lines = []
        for _ in range(n):
            words = rng.choice(lines).split()
            # Perturb: about one word in six replaced, so documents are new text, not copies.
            words = [rng.choice(vocab) if rng.random() < 0.17 else w for w in words]
            doc_lines.append(" ".join(words))
        text = "\n".join(doc_lines) + "\n"
        docs.append(text)
        (corpus / f"d{i:05}.txt").write_text(text)
        total += len(text.encode())
    base = [text_of(p.read_text()) for p in sorted((DATA / "articles").glob("*.html"))]
    art_bytes = 0
    for i in range(a.articles):
        t = rng.choice(base)
        if i % 10 == 0:
            words = rng.choice(docs).split()
            s = rng.randrange(max(1, len(words) - 40))
            cut = t.find(". ", len(t) // 2)
            t = t[:cut + 2] + "“" + " ".join(words[s:s + rng.choice([12, 15, 25, 40])]) + "” " + t[cut + 2:]
        (articles / f"a{i:05}.txt").write_text(t)
        art_bytes += len(t.encode())
    print(f"corpus: {a.docs} documents, {total / 1e6:.1f} MB; articles: {a.articles}, {art_bytes / 1e6:.1f} MB ({work})")
    if not a.bin:
        subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
    bins = a.bin or [str(ROOT / "target" / "release" / "blackout")]
    bin_ = bins[0]
    index = work / "corpus.fp"
    t0 = time.time()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", bin_, "fingerprint", "build", str(corpus), "-o", str(index)], capture_output=True, text=True, check=True)
    build_s = time.time() - t0
    print(r.stdout.strip())
    print(f"build: {build_s:.2f} s wall (reading files included), peak RSS {int(r.stderr.strip().splitlines()[-1]) / 1024:.0f} MB, index {index.stat().st_size / 1e6:.1f} MB")
    files = sorted(str(p) for p in articles.glob("*.txt"))
    # This machine's speed varies from run to run (shared host), so matching is timed five
    # times: the best is the code's speed, the median what a run can expect. Several binaries
    # take turns, so that a slow moment falls on each alike.
    speeds = {b: [] for b in bins}
    for _ in range(5):
        for b in bins:
            r = subprocess.run(["taskset", "-c", "0", "/usr/bin/time", "-f", "%M", b, "fingerprint", "match", str(index), *files, "--stats"], capture_output=True, text=True)
            stats = [l for l in r.stderr.splitlines() if l.startswith("matched")]
            if not stats:
                sys.exit(r.stderr)
            speeds[b].append(float(re.search(r"([0-9.]+) MB/s", stats[0]).group(1)))
    print(stats[0])
    for b, v in speeds.items():
        name = "" if len(bins) == 1 else f" ({b})"
        print(f"matching{name}, 5 runs: best {max(v):.1f} MB/s, median {sorted(v)[2]:.1f} MB/s ({', '.join(f'{x:.0f}' for x in v)})")
    speeds = speeds[bins[-1]]
    print(f"match: peak RSS {int(r.stderr.strip().splitlines()[-1]) / 1024:.0f} MB (index, all article texts and results held in memory)")
    flagged = sum(1 for l in r.stdout.splitlines() if re.search(r": [1-9]\d* span", l))
    print(f"articles with spans: {flagged} (one in ten carries a leaked passage)")
    if a.baseline:
        r = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, str(ROOT / "bench" / "baseline_winnowing.py"), str(corpus), str(articles)], capture_output=True, text=True)
        print(r.stdout.strip() + f", peak RSS {int(r.stderr.strip().splitlines()[-1]) / 1024:.0f} MB")
        m = re.search(r"baseline build ([0-9.]+) s; matching ([0-9.]+) MB/s", r.stdout)
        if m:
            print(f"ratio: build {float(m.group(1)) / build_s:.1f}x faster, matching {sorted(speeds)[2] / float(m.group(2)):.1f}x faster (median)")
    if not a.keep:
        shutil.rmtree(work)

if __name__ == "__main__":
    sys.exit(main())
