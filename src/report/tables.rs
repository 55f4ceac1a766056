//! What the commands other than `check` print: the `windows` table, `rules test` results, the
//! `fingerprint` commands' summaries and the `state` tables.

use super::inert;
use crate::article::excerpt;
use crate::fingerprint::{BuildStats, CorpusReport, FingerprintMatch, Index, Params, Span};
use crate::model::wire_name;
use crate::rules::RuleSet;
use crate::ruletest::RuleOutcome;
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use std::time::Duration;

/// The `windows` table: each window in each zone, local and UTC, then the union of each
/// window over each outlet's audience.
pub fn windows_text(rules: &RuleSet) -> String {
    let mut out = String::new();
    let fmt_utc = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%MZ").to_string();
    let _ = writeln!(
        out,
        "election `{}`: {} (tzdb {})",
        rules.election.id,
        rules.election.name,
        chrono_tz::IANA_TZDB_VERSION
    );
    if let Some(note) = rules.tzdb_note() {
        let _ = writeln!(out, "note: {note}");
    }
    for w in &rules.windows {
        let _ = writeln!(
            out,
            "\nwindow `{}`: {}, round `{}`, {}",
            w.id,
            wire_name(&w.category).replace('_', " "),
            rules[w.round].id,
            wire_name(&w.legal_force).replace('_', " ")
        );
        if !w.basis.is_empty() {
            let titles: Vec<String> = w
                .basis
                .iter()
                .map(|b| {
                    rules
                        .citations
                        .iter()
                        .find(|c| &c.id == b)
                        .map_or(b.clone(), |c| format!("[{b}] {}", c.title))
                })
                .collect();
            let _ = writeln!(out, "  basis: {}", titles.join("; "));
        }
        if let Some(note) = &w.note {
            let _ = writeln!(out, "  note: {note}");
        }
        let _ = writeln!(
            out,
            "  {:<26} {:<22} {:<22} {:<18} {:<18} {:>7}",
            "zone", "start (local)", "end (local)", "start (UTC)", "end (UTC)", "hours"
        );
        for s in &w.spans {
            let z = &rules[s.zone];
            let local = |t: DateTime<Utc>| t.with_timezone(&z.tz).format("%a %Y-%m-%d %H:%M").to_string();
            let hours = (s.end - s.start).num_minutes() as f64 / 60.0;
            let _ = writeln!(
                out,
                "  {:<26} {:<22} {:<22} {:<18} {:<18} {:>7}",
                z.id,
                local(s.start),
                local(s.end),
                fmt_utc(s.start),
                fmt_utc(s.end),
                format!("{hours:.1}")
            );
        }
    }
    if !rules.sources.is_empty() {
        let _ = writeln!(out, "\nunion per outlet audience (earliest start to latest end, UTC):");
        for src in &rules.sources {
            for w in &rules.windows {
                let spans: Vec<_> = w
                    .spans
                    .iter()
                    .filter(|s| src.audience.contains(&s.zone))
                    .map(|s| (s.start, s.end))
                    .collect();
                let union = crate::window::union(spans);
                let text = if union.is_empty() {
                    "not in the audience".to_string()
                } else {
                    union
                        .iter()
                        .map(|(s, e)| format!("{} → {}", fmt_utc(*s), fmt_utc(*e)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let _ = writeln!(out, "  {:<24} {:<28} {text}", src.id, w.id);
            }
        }
    }
    out
}

/// The `rules test` table for one set of files: TP/TN/FP/FN per rule and each failure's
/// `file:line`. Returns the text, and how many tests passed and failed.
pub fn rule_tests_text(files: &str, outcomes: &[RuleOutcome]) -> (String, usize, usize) {
    let mut out = String::new();
    let (mut passed, mut failed) = (0, 0);
    let _ = writeln!(out, "{files}");
    let _ = writeln!(
        out,
        "  {:<38} {:>4} {:>4} {:>4} {:>4} {:>5}",
        "rule", "TP", "TN", "FP", "FN", "todo"
    );
    for o in outcomes {
        let t = &o.tally;
        let _ = writeln!(
            out,
            "  {:<38} {:>4} {:>4} {:>4} {:>4} {:>5}",
            o.rule, t.tp, t.tn, t.fp, t.fn_, t.todo
        );
        for f in &o.failures {
            let _ = writeln!(out, "    FAIL {f}");
        }
        passed += t.tp + t.tn;
        failed += o.failures.len();
    }
    (out, passed, failed)
}

/// `fingerprint info`: an index's parameters and counts.
pub fn fingerprint_info_text(path: &std::path::Path, index: &Index, size: u64) -> String {
    let mut out = String::new();
    let (fingerprints, excluded) = index.counts();
    let _ = writeln!(
        out,
        "{}: blackout fingerprint index, algorithm {}",
        path.display(),
        crate::fingerprint::ALGORITHM_VERSION
    );
    let _ = writeln!(
        out,
        "  k = {} words, w = {} shingles (runs of {}+ words guaranteed), max_docs = {}",
        index.params.k,
        index.params.w,
        index.params.guaranteed_run(),
        index.params.max_docs
    );
    let _ = writeln!(
        out,
        "  {} documents, {fingerprints} fingerprints, {excluded} excluded shingles, {size} bytes",
        index.docs.len()
    );
    out
}

/// `fingerprint build`: what was read and written.
pub fn fingerprint_build_text(
    path: &std::path::Path,
    corpus: &CorpusReport,
    stats: &BuildStats,
    params: Params,
    size: u64,
    read: Duration,
    all: Duration,
) -> String {
    let mut out = String::new();
    let kinds: Vec<String> = corpus.read.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let _ = writeln!(
        out,
        "read {} documents ({}) in {:.2} s",
        stats.documents,
        kinds.join(", "),
        read.as_secs_f64()
    );
    for (reason, n) in &corpus.skipped {
        let _ = writeln!(out, "skipped {n} file(s): {reason}");
    }
    for (path, why) in &corpus.failed {
        let _ = writeln!(out, "could not read {}: {}", inert(&path.display().to_string()), inert(why));
    }
    let _ = writeln!(
        out,
        "wrote {}: {} shingles, {} fingerprints, {} excluded (in more than {} documents or in the background), {size} bytes, {:.2} s in all",
        path.display(),
        stats.kgrams,
        stats.fingerprints,
        stats.excluded,
        params.max_docs,
        all.as_secs_f64()
    );
    out
}

/// `fingerprint match`: each article's spans of at least `min_words` words, with the leaked
/// documents they come from. Also says whether any span was shown.
pub fn fingerprint_match_text(
    index: &Index,
    paths: &[std::path::PathBuf],
    texts: &[String],
    matches: &[FingerprintMatch],
    min_words: u32,
) -> (String, bool) {
    let mut out = String::new();
    let mut any = false;
    for ((path, text), m) in paths.iter().zip(texts).zip(matches) {
        let spans: Vec<&Span> = m.spans.iter().filter(|s| s.words >= min_words).collect();
        let _ = writeln!(out, "{}: {} span(s), best coverage {} words", path.display(), spans.len(), m.best());
        for sp in spans {
            any = true;
            let docs: Vec<&str> = sp.docs.iter().take(5).map(|d| index.docs[*d as usize].as_str()).collect();
            let more = match sp.docs.len() {
                n if n > 5 => format!(" (+{} more)", n - 5),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {}..{} ({} words) from {}{more}",
                sp.start,
                sp.end,
                sp.words,
                inert(&docs.join(", "))
            );
            let _ = writeln!(out, "    \"{}\"", inert(&excerpt(text, sp.start..sp.end, 0)));
        }
    }
    (out, any)
}
/// Rows of a table for people: the column names, and each row's cells. Cells are untrusted
/// (titles and addresses come from the web) and are made inert when printed.
pub trait Tabular {
    const HEADERS: &'static [&'static str];
    fn cells(&self) -> Vec<String>;
}

/// A table with a header and aligned columns; the last column is not padded (it holds the
/// long values: addresses, titles, reasons).
pub fn table<T: Tabular>(rows: &[T]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.cells().iter().map(|c| inert(c)).collect()).collect();
    let mut widths: Vec<usize> = T::HEADERS.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = T::HEADERS.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(&cells) {
        let last = row.len().saturating_sub(1);
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| if i == last { c.clone() } else { format!("{c:<w$}", w = widths[i]) })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}
