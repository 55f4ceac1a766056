#!/usr/bin/env bash
# Quality on every development set, with the peers, side by side in one run (issue 14):
#   main text   article-extraction-benchmark (181 news pages) and wcxb-dev (711 modern
#               articles): blackout and trafilatura, scored by shared/bench/score_extraction.py;
#   dates       date-extraction-dev (500 pages) and wcxb-dev (588 articles with a labelled
#               day; and what each returns on the 123 labelled none): blackout, htmldate fast
#               and extensive, scored by shared/bench/score_dates.py;
#   page class  wcxb-dev (1,355 pages of seven types): articles kept, other pages recognised.
# The pages are read from ../shared/data and decompressed into a temporary directory, never
# into the repository; the peers are installed into a venv there. Speed is bench/eval-extract.sh's
# and bench/eval-dates.sh's.
#
# Usage: bench/eval.sh            (KEEP=1 keeps the work directory; DATA=DIR for another root)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}
work=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
cargo build --release --locked -q --bin blackout
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q trafilatura lxml_html_clean htmldate
"$work/venv/bin/python" bench/eval_all.py "$data" "$work" target/release/blackout ../shared/bench
