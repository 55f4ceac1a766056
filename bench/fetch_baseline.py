#!/usr/bin/env python3
"""The obvious Python way to do what `blackout check` does over HTTP, for bench/fetch.sh:
feedparser for the feeds, requests in a pool of 16 threads, trafilatura for the page text, and
a search for the stand-in leak phrase. Prints items/s. Usage: fetch_baseline.py FEEDS_FILE"""
import concurrent.futures as cf, sys, threading, time
import feedparser, requests, trafilatura

local = threading.local()

def session():
    if not hasattr(local, "s"):
        local.s = requests.Session()
        local.s.headers["User-Agent"] = "baseline-bench"
    return local.s

def read_feed(url):
    r = session().get(url, timeout=30)
    return [(e.link, e.get("published", "")) for e in feedparser.parse(r.content).entries]

def read_page(item):
    link, _published = item
    r = session().get(link, timeout=30)
    text = trafilatura.extract(r.text) or ""
    return "virement ardoise" in text.lower()

def main():
    feeds = [l.strip() for l in open(sys.argv[1]) if l.strip()]
    started = time.time()
    with cf.ThreadPoolExecutor(16) as pool:
        items = [i for found in pool.map(read_feed, feeds) for i in found]
        flagged = sum(pool.map(read_page, items))
    elapsed = time.time() - started
    print(f"baseline: {len(feeds)} feeds, {len(items)} items, {flagged} flagged in {elapsed:.1f} s: {len(items) / elapsed:.1f} items/s")

if __name__ == "__main__":
    main()
