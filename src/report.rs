//! The report of a run and its renderings: text for people, JSON and JSON Lines for programs.
//!
//! The JSON shape is a contract (documented in the README): fields are only ever added.
//! Everything that came from the web is untrusted; the text renderer strips control
//! characters, so a title carrying an ANSI escape prints inert.

use crate::article::{FoundDate, Provenance};
use crate::detect::Hit;
use crate::rules::{Category, LegalForce, RuleSet, Scope, Severity, Status};
use crate::timing::Timing;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Version of the JSON report format.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub tool: String,
    pub election: String,
    pub evaluated_at: DateTime<Utc>,
    pub rule_files: Vec<String>,
    pub sources: Vec<SourceSummary>,
    pub findings: Vec<Finding>,
    /// Items whose content matched a rule but whose timing does not count (e.g. published
    /// before the window and unchanged).
    pub cleared: Vec<Cleared>,
    /// Pages read but not checked because they are not articles.
    pub not_checked: Vec<NotChecked>,
    pub problems: Vec<Problem>,
    pub items: Vec<ItemReport>,
}

#[derive(Debug, Default, Serialize)]
pub struct SourceSummary {
    pub id: String,
    pub name: Option<String>,
    pub foreign: bool,
    pub documents: usize,
    /// Documents that could not be fetched.
    pub failed: usize,
    /// Documents the server said were unchanged, read from the cache.
    pub cached: usize,
    /// Time spent fetching this source's documents, summed (requests overlap, so the sum
    /// of all sources exceeds the run's wall time): a slow outlet shows here.
    pub fetch_seconds: f64,
    pub items: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub status: Status,
    pub message: String,
    pub materials: Vec<String>,
    pub source: String,
    pub foreign: bool,
    pub url: String,
    pub title: Option<String>,
    pub window: String,
    pub category: Category,
    pub legal_force: LegalForce,
    pub timing: Timing,
    pub spans: Vec<SpanReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpanReport {
    pub scope: Scope,
    /// Byte offsets into the article's extracted text (`start == end` for an `href`).
    pub start: usize,
    pub end: usize,
    pub matcher: crate::rules::MatcherKind,
    pub material: String,
    /// The phrase, hashtag, pattern or link prefix that matched, as written in the rules.
    pub needle: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For fingerprint spans: words reproduced and the leaked documents they come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub words: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<String>>,
    /// Up to 60 characters of context on each side.
    pub excerpt: String,
}

impl SpanReport {
    pub fn new(h: &Hit, text: &str, rules: &RuleSet) -> SpanReport {
        SpanReport {
            scope: h.scope,
            start: h.range.start,
            end: h.range.end,
            matcher: h.matcher.kind,
            material: rules.materials[h.matcher.material].id.clone(),
            needle: h.needle.clone(),
            url: h.url.as_ref().map(|u| u.to_string()),
            words: h.reproduces.as_ref().map(|r| r.words),
            documents: h.reproduces.as_ref().map(|r| r.documents.clone()),
            excerpt: if h.range.is_empty() {
                h.url.as_ref().map(|u| u.to_string()).unwrap_or_default()
            } else {
                excerpt(text, h.range.clone(), 60)
            },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Cleared {
    pub rule: String,
    pub source: String,
    pub url: String,
    pub title: Option<String>,
    pub timing: Timing,
}

/// A page that was read but is not an article (a section front, a consent or subscription
/// wall, an empty page): its rules were not evaluated, so it is neither a finding nor clean.
#[derive(Debug, Clone, Serialize)]
pub struct NotChecked {
    pub source: String,
    pub url: String,
    pub title: Option<String>,
    pub class: crate::article::PageClass,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub source: String,
    pub url: String,
    pub stage: Stage,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading a file, or a network failure not named below.
    Fetch,
    Dns,
    Connect,
    Tls,
    Timeout,
    /// An HTTP status other than success.
    Http,
    /// A redirect loop, or too many redirects.
    Redirect,
    /// A body cut at the size cap.
    TooLarge,
    /// A page the site's robots.txt disallows.
    Robots,
    /// A private or loopback address, refused by `--deny-private-networks`.
    Denied,
    Decode,
    Feed,
    Extract,
    Date,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    pub source: String,
    pub url: String,
    pub title: Option<String>,
    /// The feed's summary of the item, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// When the page (or, without one, the feed) was read.
    pub fetched_at: Option<DateTime<Utc>>,
    /// How the page's bytes were decoded (absent when only the feed was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charset: Option<CharsetReport>,
    /// URLs that redirected to the page, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    pub dates: Vec<DateReport>,
    pub timings: Vec<Timing>,
    /// The page's class; only articles have timings and are checked.
    pub class: crate::article::PageClass,
}

#[derive(Debug, Clone, Serialize)]
pub struct CharsetReport {
    pub encoding: &'static str,
    pub basis: crate::charset::Basis,
}

#[derive(Debug, Clone, Serialize)]
pub struct DateReport {
    pub provenance: Provenance,
    pub raw: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instant: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<&FoundDate> for DateReport {
    fn from(d: &FoundDate) -> DateReport {
        DateReport {
            provenance: d.provenance,
            raw: d.raw.clone(),
            instant: d.parsed.as_ref().ok().map(|w| w.instant()),
            error: d.parsed.as_ref().err().map(|e| e.to_string()),
        }
    }
}

impl Report {
    pub fn new(rules: &RuleSet, at: DateTime<Utc>, rule_files: &[PathBuf]) -> Report {
        Report {
            format_version: FORMAT_VERSION,
            tool: format!("blackout {}", env!("CARGO_PKG_VERSION")),
            election: rules.election.id.clone(),
            evaluated_at: at,
            rule_files: rule_files.iter().map(|p| p.display().to_string()).collect(),
            sources: vec![],
            findings: vec![],
            cleared: vec![],
            not_checked: vec![],
            problems: vec![],
            items: vec![],
        }
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }

    /// Whether any finding of a stable rule is at or above `threshold`. Experimental rules
    /// are reported but never decide the exit status.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold && f.status == Status::Stable)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises")
    }

    /// One JSON object per line: findings, cleared items, problems, then a summary line.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        let mut line = |kind: &str, v: serde_json::Value| {
            let mut v = v;
            if let Some(map) = v.as_object_mut() {
                map.insert("type".into(), kind.into());
            }
            out.push_str(&v.to_string());
            out.push('\n');
        };
        for f in &self.findings {
            line("finding", serde_json::to_value(f).expect("serialises"));
        }
        for c in &self.cleared {
            line("cleared", serde_json::to_value(c).expect("serialises"));
        }
        for n in &self.not_checked {
            line("not_checked", serde_json::to_value(n).expect("serialises"));
        }
        for p in &self.problems {
            line("problem", serde_json::to_value(p).expect("serialises"));
        }
        line(
            "summary",
            serde_json::json!({
                "format_version": FORMAT_VERSION, "tool": self.tool, "election": self.election, "evaluated_at": self.evaluated_at,
                "violations": self.count(Severity::Violation), "warnings": self.count(Severity::Warning), "notices": self.count(Severity::Notice),
                "items": self.sources.iter().map(|s| s.items).sum::<usize>(), "not_checked": self.not_checked.len(),
                "problems": self.problems.len(),
            }),
        );
        out
    }

    /// The human report, grouped by outlet. `quiet` prints nothing for a clean run.
    pub fn to_text(&self, quiet: bool, threshold: Severity) -> String {
        let mut out = String::new();
        if quiet && !self.fails(threshold) && self.problems.is_empty() {
            return out;
        }
        let _ = writeln!(
            out,
            "blackout: election `{}`, evaluated as of {}",
            self.election,
            self.evaluated_at.format("%Y-%m-%dT%H:%M:%SZ")
        );
        for s in &self.sources {
            let findings: Vec<&Finding> = self.findings.iter().filter(|f| f.source == s.id).collect();
            let cleared: Vec<&Cleared> = self.cleared.iter().filter(|c| c.source == s.id).collect();
            let problems: Vec<&Problem> = self.problems.iter().filter(|p| p.source == s.id).collect();
            if quiet && findings.iter().all(|f| f.severity < threshold) && problems.is_empty() {
                continue;
            }
            let name = s.name.as_deref().map(|n| format!(" ({})", inert(n))).unwrap_or_default();
            let foreign = if s.foreign { " [foreign outlet]" } else { "" };
            let _ = writeln!(
                out,
                "\n== {}{name}{foreign}: {} item(s), {} finding(s), {} problem(s)",
                s.id,
                s.items,
                findings.len(),
                problems.len()
            );
            for f in findings {
                if quiet && f.severity < threshold {
                    continue;
                }
                let _ = writeln!(out, "  {:<9} {}  {}", severity_label(f.severity), f.rule, inert(&f.url));
                if let Some(t) = &f.title {
                    let _ = writeln!(out, "            title: {}", inert(t));
                }
                let _ = writeln!(out, "            {}", inert(&f.message));
                let _ = writeln!(out, "            timing: {}", timing_line(&f.timing));
                for sp in &f.spans {
                    let what = match &sp.url {
                        Some(u) => format!("link {}", inert(u)),
                        None => format!(
                            "{} {}..{}: \"{}\"",
                            crate::wire_name(&sp.scope),
                            sp.start,
                            sp.end,
                            inert(&sp.excerpt)
                        ),
                    };
                    let _ = writeln!(
                        out,
                        "            match ({} of `{}`): {what}",
                        crate::wire_name(&sp.matcher),
                        sp.material
                    );
                }
            }
            for n in self.not_checked.iter().filter(|n| n.source == s.id) {
                let _ = writeln!(out, "  {:<9} {}: {}", "unchecked", inert(&n.url), inert(&n.reason));
            }
            if !quiet {
                for c in cleared {
                    let _ = writeln!(out, "  {:<9} {}  {}", "ok", c.rule, inert(&c.url));
                    let _ = writeln!(out, "            matched, but {}", timing_line(&c.timing));
                }
            }
            for p in problems {
                let _ = writeln!(
                    out,
                    "  {:<9} {} at {}: {}",
                    "problem",
                    crate::wire_name(&p.stage),
                    inert(&p.url),
                    inert(&p.message)
                );
            }
        }
        if !quiet {
            let width = self.sources.iter().map(|s| s.id.chars().count()).max().unwrap_or(0).max(6);
            let _ = writeln!(out, "\nhealth: {:<width$}  fetched  cached  failed  fetch time", "source");
            for s in &self.sources {
                let _ = writeln!(
                    out,
                    "        {:<width$}  {:>7}  {:>6}  {:>6}  {:>8.1} s",
                    inert(&s.id),
                    s.documents,
                    s.cached,
                    s.failed,
                    s.fetch_seconds
                );
            }
        }
        let items: usize = self.sources.iter().map(|s| s.items).sum();
        let _ = writeln!(
            out,
            "\nsummary: {} violation(s), {} warning(s), {} notice(s); {} item(s) from {} source(s), {} not checked (not articles); {} problem(s)",
            self.count(Severity::Violation),
            self.count(Severity::Warning),
            self.count(Severity::Notice),
            items,
            self.sources.len(),
            self.not_checked.len(),
            self.problems.len()
        );
        out
    }
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Violation => "VIOLATION",
        Severity::Warning => "warning",
        Severity::Notice => "notice",
    }
}

fn timing_line(t: &Timing) -> String {
    let verdict = crate::wire_name(&t.verdict).replace('_', " ");
    match &t.date {
        None => format!("{verdict} window `{}` (no usable date)", t.window),
        Some(d) => {
            let zones = match (t.zones_inside.len(), t.zones_outside.len()) {
                (0, _) => String::new(),
                (n, 0) => format!("; inside for every zone of the audience ({n})"),
                (n, m) if n <= m => format!("; inside for {} only", t.zones_inside.join(", ")),
                (n, m) => format!("; inside for {n} of {} zones, not for {}", n + m, t.zones_outside.join(", ")),
            };
            let precision = if d.when.is_exact() {
                String::new()
            } else {
                format!(
                    ", {} precision, between {} and {}",
                    d.when.precision,
                    d.when.earliest.format("%Y-%m-%dT%H:%MZ"),
                    d.when.latest.format("%Y-%m-%dT%H:%MZ")
                )
            };
            format!(
                "{verdict} window `{}`: {} from {} \"{}\"{precision}{zones}",
                t.window,
                d.when.instant().format("%Y-%m-%dT%H:%M:%SZ"),
                d.provenance.name(),
                inert(&d.raw)
            )
        }
    }
}

/// Makes untrusted text safe for a terminal: control characters (C0, DEL, C1, including
/// ESC) and bidirectional overrides are replaced, newlines become spaces.
pub fn inert(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// `width` characters of context around `range`, on one line, with ellipses where cut.
pub fn excerpt(text: &str, range: std::ops::Range<usize>, width: usize) -> String {
    let before: String = text[..range.start]
        .chars()
        .rev()
        .take(width)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let after: String = text[range.end..].chars().take(width).collect();
    let lead = if before.len() < range.start { "…" } else { "" };
    let tail = if after.len() < text.len() - range.end { "…" } else { "" };
    crate::article::collapse_whitespace(&format!("{lead}{before}[{}]{after}{tail}", &text[range]))
}

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
            crate::wire_name(&w.category).replace('_', " "),
            rules.rounds[w.round].id,
            crate::wire_name(&w.legal_force).replace('_', " ")
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
            let z = &rules.zones[s.zone];
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_escapes_print_inert() {
        assert_eq!(
            inert("a\u{1b}[31mred\u{7}\u{9b}x\u{202e}y"),
            "a\u{FFFD}[31mred\u{FFFD}\u{FFFD}x\u{FFFD}y"
        );
    }

    #[test]
    fn excerpts_mark_the_match() {
        assert_eq!(excerpt("un deux trois quatre", 3..7, 3), "un [deux] tr…");
        assert_eq!(excerpt("zéro un deux trois", 9..13, 3), "…un [deux] tr…");
        assert_eq!(excerpt("deux", 0..4, 3), "[deux]");
    }
}
