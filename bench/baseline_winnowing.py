#!/usr/bin/env python3
"""The obvious Python winnowing matcher, as a speed baseline for `blackout fingerprint`.

Same method in plain Python: NFKC + casefold, `\w+` words, 8-word shingles hashed with
Python's hash(), shingles in more than 10 documents dropped, winnowing with window 5 on the
corpus side, every article shingle looked up. Prints build seconds and matching MB/s.
Usage: baseline_winnowing.py CORPUS_DIR ARTICLES_DIR
"""
import pathlib, re, sys, time, unicodedata
from collections import defaultdict

K, W, MAX_DOCS = 8, 5, 10
WORD = re.compile(r"\w+")

def kgrams(text):
    words = WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return [hash(tuple(words[i:i + K])) for i in range(len(words) - K + 1)]

def winnow(hashes):
    chosen, last = set(), None
    for s in range(max(1, len(hashes) - W + 1)):
        window = hashes[s:s + W]
        if not window:
            break
        m = min(range(len(window)), key=lambda j: (window[j], -j)) + s
        if m != last:
            chosen.add(hashes[m])
            last = m
    return chosen

def main():
    corpus, articles = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    t0 = time.time()
    per_doc = [kgrams(p.read_text()) for p in sorted(corpus.glob("*.txt"))]
    df = defaultdict(int)
    for hs in per_doc:
        for h in set(hs):
            df[h] += 1
    index = defaultdict(list)
    for d, hs in enumerate(per_doc):
        for h in winnow([x for x in hs if df[x] <= MAX_DOCS]):
            index[h].append(d)
    build = time.time() - t0
    texts = [p.read_text() for p in sorted(articles.glob("*.txt"))]
    t1 = time.time()
    hits = sum(1 for t in texts if any(h in index for h in kgrams(t)))
    match = time.time() - t1
    size = sum(len(t.encode()) for t in texts)
    print(f"baseline build {build:.1f} s; matching {size / 1e6 / match:.1f} MB/s; {hits} articles with hits")

if __name__ == "__main__":
    main()
