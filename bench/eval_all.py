"""The driver of bench/eval.sh: every development set, blackout and the peers, one table per
measure. Usage: eval_all.py DATA WORK BLACKOUT SCORERS (run with a Python that has trafilatura
and htmldate)."""
import collections, gzip, json, pathlib, re, subprocess, sys

data, work, blackout, scorers = (pathlib.Path(a) for a in sys.argv[1:5])
aeb, dates_dev, wcxb = data / "article-extraction-benchmark", data / "date-extraction-dev", data / "wcxb-dev"


def unpack(src, dst):
    """The `.html.gz` pages of `src` as `.html` files in `dst`."""
    dst.mkdir(parents=True)
    for f in sorted(src.glob("*.html.gz")):
        (dst / f.name[:-3]).write_bytes(gzip.decompress(f.read_bytes()))
    return dst


def extract(pages):
    """blackout's reading of every page of a directory, by file name."""
    out = subprocess.run([str(blackout), "extract", "--jsonl", str(pages)], capture_output=True, check=True, text=True).stdout
    return {o["file"]: o for o in map(json.loads, out.splitlines())}


def trafilatura_texts(pages, ids):
    import trafilatura
    return {i: trafilatura.extract((pages / f"{i}.html").read_text(errors="replace")) or "" for i in ids}


def score_text(truth, preds, name):
    path = work / f"{name}.json"
    path.write_text(json.dumps(preds))
    line = subprocess.run([sys.executable, str(scorers / "score_extraction.py"), str(truth), str(path), "--name", name],
                          capture_output=True, check=True, text=True).stdout.strip()
    f1, p, r = (float(re.search(rf"{k} ([0-9.]+)", line).group(1)) for k in ("F1", "precision", "recall"))
    return f1, p, r


def score_dates(folder, preds):
    path = work / f"dates-{folder.name}.json"
    path.write_text(json.dumps(preds))
    md = work / f"dates-{folder.name}.md"
    subprocess.run([sys.executable, str(scorers / "score_dates.py"), "--data", str(folder), "--tools", "htmldate_fast,htmldate_ext",
                    "--predictions", f"blackout={path}", "--json", str(work / f"dates-{folder.name}-pages.json"), "--md", str(md)],
                   capture_output=True, check=True, text=True)
    return md.read_text()


print("# Main text (word 4-gram F1 / precision / recall)\n")
print("| set | blackout | trafilatura |\n|---|---|---|")
aeb_pages = unpack(aeb / "html", work / "aeb")
aeb_truth = json.load(open(aeb / "ground-truth.json"))
wcxb_pages = unpack(wcxb / "html", work / "wcxb")
wcxb_truth = json.load(open(wcxb / "ground-truth-article.json"))
aeb_read, wcxb_read = extract(aeb_pages), extract(wcxb_pages)
for name, truth_file, truth, read, pages in [
    ("article-extraction-benchmark (181)", aeb / "ground-truth.json", aeb_truth, aeb_read, aeb_pages),
    ("wcxb-dev articles (711)", wcxb / "ground-truth-article.json", wcxb_truth, wcxb_read, wcxb_pages),
]:
    ours = {i: (read.get(f"{i}.html") or {}).get("text") or "" for i in truth}
    row = [score_text(truth_file, ours, "blackout"), score_text(truth_file, trafilatura_texts(pages, truth), "trafilatura")]
    print(f"| {name} | " + " | ".join(f"{f:.3f} / {p:.3f} / {r:.3f}" for f, p, r in row) + " |")

print("\n# Publication day\n")
print("## date-extraction-dev (500 pages)\n")
dev_read = extract(dates_dev / "pages")
print(score_dates(dates_dev, {f: o.get("published_day") for f, o in dev_read.items()}))
labels = json.load(open(wcxb / "dates.json"))
dated = work / "wcxb-dates"
(dated / "pages").mkdir(parents=True)
urls = {f"{i}.html": t.get("url") for i, t in json.load(open(wcxb / "ground-truth-all.json")).items()}
truth = {f: {"published": d, "modified": None, "url": urls.get(f)} for f, d in labels.items() if d}
for f in truth:
    (dated / "pages" / f).symlink_to(wcxb_pages / f)
(dated / "truth.json").write_text(json.dumps(truth))
print(f"## wcxb-dev ({len(truth)} articles with a labelled day)\n")
print(score_dates(dated, {f: (wcxb_read.get(f) or {}).get("published_day") for f in truth}))
nulls = [f for f, d in labels.items() if not d]
from htmldate import find_date
said = {
    "blackout": sum(1 for f in nulls if (wcxb_read.get(f) or {}).get("published_day")),
    "htmldate_fast": sum(1 for f in nulls if find_date((wcxb_pages / f).read_text(errors="replace"), original_date=True, extensive_search=False)),
    "htmldate_ext": sum(1 for f in nulls if find_date((wcxb_pages / f).read_text(errors="replace"), original_date=True, extensive_search=True)),
}
print(f"On the {len(nulls)} wcxb-dev articles labelled with no day, each returned a day for: " + ", ".join(f"{k} {v}" for k, v in said.items()) + "\n")

print("# Page classes (wcxb-dev, 1,355 pages)\n")
types = {f"{i}.html": m["page_type"] for i, m in json.load(open(wcxb / "metadata.json"))["files"].items()}
by = collections.defaultdict(collections.Counter)
for f, t in types.items():
    by[t][(wcxb_read.get(f) or {}).get("class") or "none"] += 1
print("| type | pages | blackout's classes | recognised |\n|---|---|---|---|")
for t in sorted(by, key=lambda t: (t != "article", t)):
    n = sum(by[t].values())
    right = by[t]["article"] if t == "article" else n - by[t]["article"]
    what = "kept as articles" if t == "article" else "not taken for articles"
    print(f"| {t} | {n} | " + ", ".join(f"{c} {k}" for k, c in by[t].most_common()) + f" | {right} ({right / n:.3f}) {what} |")
