//! The report of a run and its renderers: text, HTML, Markdown and CSV for people, JSON and JSON
//! Lines for programs.
//!
//! [`Report`] is the model; a [`Render`]er writes it out in one [`Format`], and delivery
//! (`crate::deliver`) takes the bytes. The JSON shape is a contract (documented in the README):
//! fields are only ever added. Everything that came from the web is untrusted: each renderer
//! passes it through the escaping of its format (`escape`, or [`inert`] for terminals), and
//! [`Redaction`] cuts matched passages before any renderer sees the report.

mod csv;
mod escape;
mod html;
mod json;
mod markdown;
mod redact;
mod tables;
mod text;
mod timeline;

pub use csv::Csv;
pub use html::Html5;
pub use json::{Json, JsonLines};
pub use markdown::MarkdownReport;
pub use redact::Redaction;
pub use tables::{Tabular, fingerprint_build_text, fingerprint_info_text, fingerprint_match_text, rule_tests_text, table, windows_text};
pub use text::Text;

use crate::judge::{Cleared, Finding, ItemReport, Judged, NotChecked};
use crate::model::{Severity, Status};
use crate::problem::Problem;
use crate::rules::{RuleSet, Source};
use crate::sources::FeedOnly;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Version of the JSON report format.
pub const FORMAT_VERSION: u32 = 1;

/// Writes a report in one format.
pub trait Render {
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()>;

    /// The report as bytes, for a file or a message.
    fn to_bytes(&self, report: &Report) -> Vec<u8> {
        let mut out = Vec::new();
        self.render(report, &mut out).expect("writing to memory does not fail");
        out
    }
}

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Jsonl,
    Csv,
    Html,
    Markdown,
}

impl Format {
    pub const NAMES: &[(&str, Format)] = &[
        ("text", Format::Text),
        ("json", Format::Json),
        ("jsonl", Format::Jsonl),
        ("csv", Format::Csv),
        ("html", Format::Html),
        ("markdown", Format::Markdown),
    ];

    /// The format of a name, or of a file extension used as one (`md:`, `txt:`).
    pub fn named(name: &str) -> Option<Format> {
        Format::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
            .or_else(|| Format::from_extension(std::path::Path::new(&format!("x.{name}"))))
    }

    /// The format a file name's extension says.
    pub fn from_extension(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "txt" | "text" => Format::Text,
            "json" => Format::Json,
            "jsonl" | "ndjson" => Format::Jsonl,
            "csv" => Format::Csv,
            "html" | "htm" => Format::Html,
            "md" | "markdown" => Format::Markdown,
            _ => return None,
        })
    }

    /// Its renderer; `quiet` (text only) prints nothing when there is nothing to report.
    pub fn renderer(self, quiet: bool, fail_on: Severity) -> Box<dyn Render> {
        match self {
            Format::Text => Box::new(Text { quiet, fail_on }),
            Format::Json => Box::new(Json),
            Format::Jsonl => Box::new(JsonLines),
            Format::Csv => Box::new(Csv),
            Format::Html => Box::new(Html5 { fail_on }),
            Format::Markdown => Box::new(MarkdownReport),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub tool: String,
    pub election: String,
    pub evaluated_at: DateTime<Utc>,
    pub rule_files: Vec<String>,
    /// Whether matched passages are shown whole or cut (`--show-excerpts`; see [`Redaction`]).
    pub excerpts: Excerpts,
    /// The windows the rules define, with their legal basis and their span in each zone.
    pub windows: Vec<WindowReport>,
    pub sources: Vec<SourceSummary>,
    pub findings: Vec<Finding>,
    /// Items whose content matched a rule but whose timing does not count (e.g. published
    /// before the window and unchanged).
    pub cleared: Vec<Cleared>,
    /// Pages read whose content could not all be seen, on which no rule fired.
    pub not_checked: Vec<NotChecked>,
    pub problems: Vec<Problem>,
    pub items: Vec<ItemReport>,
    /// Findings an earlier run reported that this run no longer finds, their source checked.
    pub resolved: Vec<Resolved>,
    /// Findings a reviewer judged false positives, found again in the content reviewed.
    pub suppressed: Vec<Suppressed>,
    /// The run as the state store recorded it (absent with `--no-state`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<StateRun>,
    /// Set when the report is a replay of a sealed run over its captures, not a live check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplayOf>,
    /// The feeds and sitemaps this run read whole: for the state store, the reads a later
    /// item can be proved absent from. Not part of the JSON contract.
    #[serde(skip)]
    pub listings_read: Vec<ListingRead>,
}

/// This blackout, as reports and the state store name it.
pub const TOOL: &str = concat!("blackout ", env!("CARGO_PKG_VERSION"));

/// The tool and the commit it was built from (`unknown` outside a git checkout), as evidence
/// names it.
pub const TOOL_BUILD: &str = concat!("blackout ", env!("CARGO_PKG_VERSION"), " (commit ", env!("BLACKOUT_COMMIT"), ")");

/// Whether a report shows matched passages whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Excerpts {
    #[default]
    Full,
    /// Cut to their first words, without context (the default of outgoing reports).
    Redacted,
}

/// A window of the rules, as a report explains it.
#[derive(Debug, Clone, Serialize)]
pub struct WindowReport {
    pub id: String,
    pub round: String,
    pub category: crate::model::Category,
    pub legal_force: crate::model::LegalForce,
    /// The citations it rests on.
    pub basis: Vec<CitationReport>,
    /// Where it runs: one span per zone, in UTC with the zone's clock.
    pub zones: Vec<ZoneWindow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CitationReport {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZoneWindow {
    pub zone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub tz: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Zones of a window whose span is the same, from the same instant to the same instant.
#[derive(Debug, Clone)]
pub struct SharedSpan<'a> {
    pub window: &'a str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub zones: Vec<&'a ZoneWindow>,
}

impl ZoneWindow {
    /// An instant on this zone's clock, in `format` (strftime).
    pub fn local(&self, t: DateTime<Utc>, format: &str) -> String {
        let tz: chrono_tz::Tz = self.tz.parse().unwrap_or(chrono_tz::UTC);
        t.with_timezone(&tz).format(format).to_string()
    }

    /// What a reader calls the zone: its label, or its id.
    pub fn name(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.zone)
    }
}

impl WindowReport {
    /// The zones `keep` picks (an outlet's audience), grouped by span, in order of opening.
    pub fn shared_spans(&self, keep: impl Fn(&ZoneWindow) -> bool) -> Vec<SharedSpan<'_>> {
        let mut spans: Vec<SharedSpan> = Vec::new();
        for z in self.zones.iter().filter(|z| keep(z)) {
            match spans.iter_mut().find(|g| g.start == z.start && g.end == z.end) {
                Some(g) => g.zones.push(z),
                None => spans.push(SharedSpan {
                    window: &self.id,
                    start: z.start,
                    end: z.end,
                    zones: vec![z],
                }),
            }
        }
        spans.sort_by_key(|g| (g.start, g.end));
        spans
    }

    fn all(rules: &RuleSet) -> Vec<WindowReport> {
        rules
            .windows
            .iter()
            .map(|w| WindowReport {
                id: w.id.clone(),
                round: rules[w.round].id.clone(),
                category: w.category,
                legal_force: w.legal_force,
                basis: w
                    .basis
                    .iter()
                    .filter_map(|id| rules.citation(id))
                    .map(|c| CitationReport {
                        id: c.id.clone(),
                        title: c.title.clone(),
                        url: c.url.clone(),
                    })
                    .collect(),
                zones: w
                    .spans
                    .iter()
                    .map(|s| {
                        let zone = &rules[s.zone];
                        ZoneWindow {
                            zone: zone.id.clone(),
                            label: zone.label.clone(),
                            tz: zone.tz.name().to_string(),
                            start: s.start,
                            end: s.end,
                        }
                    })
                    .collect(),
            })
            .collect()
    }
}

/// A feed or sitemap a run read whole.
#[derive(Debug, Clone)]
pub struct ListingRead {
    pub source: String,
    pub url: String,
}

/// A finding an earlier run reported and this one does not.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub id: String,
    /// Always `resolved`: the same field a finding's state is in.
    pub state: crate::model::FindingState,
    pub resolution: crate::model::Resolution,
    pub key: crate::model::FindingKey,
    pub first_run: i64,
    pub first_reported: DateTime<Utc>,
    pub last_run: i64,
    pub last_reported: DateTime<Utc>,
}

/// A finding found again in the very version a reviewer judged a false positive.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    pub id: String,
    pub key: crate::model::FindingKey,
    pub reviewer: String,
    pub reviewed_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Which store a run was recorded in, under which run number, and how its findings stand
/// (counted before `--new-only` leaves out the open ones).
#[derive(Debug, Clone, Serialize)]
pub struct StateRun {
    pub store: String,
    pub run: i64,
    pub new: usize,
    pub open: usize,
    pub resolved: usize,
    pub dismissed: usize,
    /// Whether only the new findings are reported (`--new-only`).
    pub new_only: bool,
    /// The SHA-256 of the run's manifest (`blackout evidence verify` checks it against the
    /// store): a copy of the report kept elsewhere witnesses the run as it was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// The RFC 3161 timestamp `--tsa` asked for over the manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimestampState>,
}

/// The sealed run a report replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayOf {
    pub run: i64,
    /// The run's manifest digest.
    pub manifest: String,
    /// Whether the rule files are the run's own (else: those named to the replay).
    pub own_rules: bool,
}

/// What became of the timestamp a run asked for (`--tsa`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TimestampState {
    Obtained,
    /// The run is recorded all the same, its manifest without a token.
    Failed {
        why: String,
    },
}

/// A run of the store, by number and when it evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct RunRef {
    pub run: i64,
    pub at: DateTime<Utc>,
}

/// Whether a source was checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    #[default]
    Checked,
    /// Some of its inputs (a feed, a sitemap, a homepage, a listed page) could not be read.
    Incomplete,
    /// None of its inputs could be read: nothing is known of what it published.
    NotChecked,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct SourceSummary {
    pub id: String,
    pub name: Option<String>,
    pub foreign: bool,
    /// The zones whose windows apply to it.
    pub audience: Vec<String>,
    pub status: SourceStatus,
    /// Why the source was not checked, or only in part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub documents: usize,
    /// Documents that could not be fetched.
    pub failed: usize,
    /// Documents the server said were unchanged, read from the cache.
    pub cached: usize,
    /// Time spent fetching this source's documents, summed (requests overlap, so the sum
    /// of all sources exceeds the run's wall time): a slow outlet shows here.
    pub fetch_seconds: f64,
    pub items: usize,
    /// Items judged on their feed data alone, by reason.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub feed_only: BTreeMap<FeedOnly, usize>,
    /// When not checked (or only in part): the first run of the streak of runs it has not been
    /// checked in, from the state store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<RunRef>,
    /// The last run that checked it whole, from the state store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_checked: Option<RunRef>,
}

impl SourceSummary {
    pub fn of(source: &Source, rules: &RuleSet) -> SourceSummary {
        SourceSummary {
            id: source.id.clone(),
            name: source.name.clone(),
            foreign: source.foreign,
            audience: source.audience.iter().map(|z| rules[*z].id.clone()).collect(),
            ..Default::default()
        }
    }

    /// Adds another tally's counts (of the same source).
    pub fn add(&mut self, other: &SourceSummary) {
        self.documents += other.documents;
        self.failed += other.failed;
        self.cached += other.cached;
        self.fetch_seconds += other.fetch_seconds;
        self.items += other.items;
        for (why, n) in &other.feed_only {
            *self.feed_only.entry(*why).or_default() += n;
        }
    }
}

/// What a report concludes, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every source checked, no finding at the threshold: exit 0.
    Clean,
    /// A finding of a stable rule at the threshold: exit 1.
    Findings,
    /// No such finding, but some source was not checked, or only in part: exit 3.
    Incomplete,
}

impl Report {
    pub fn new(rules: &RuleSet, at: DateTime<Utc>, rule_files: &[PathBuf]) -> Report {
        Report {
            format_version: FORMAT_VERSION,
            tool: TOOL.to_string(),
            election: rules.election.id.clone(),
            evaluated_at: at,
            rule_files: rule_files.iter().map(|p| p.display().to_string()).collect(),
            excerpts: Excerpts::Full,
            windows: WindowReport::all(rules),
            sources: vec![],
            findings: vec![],
            cleared: vec![],
            not_checked: vec![],
            problems: vec![],
            items: vec![],
            resolved: vec![],
            suppressed: vec![],
            state: None,
            replay: None,
            listings_read: Vec::new(),
        }
    }

    /// Adds one source: its summary, problems and judged items, in order.
    pub fn add_source(&mut self, summary: SourceSummary, problems: Vec<Problem>, judged: Vec<Judged>) {
        self.sources.push(summary);
        self.problems.extend(problems);
        for j in judged {
            self.problems.extend(j.problems);
            self.findings.extend(j.findings);
            self.cleared.extend(j.cleared);
            self.not_checked.extend(j.not_checked);
            self.items.extend(j.item);
        }
    }

    /// Findings gravest first, then by source, URL and rule.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.source.cmp(&b.source))
                .then_with(|| a.url.cmp(&b.url))
                .then_with(|| a.rule.cmp(&b.rule))
        });
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }

    /// Whether any finding of a stable rule is at or above `threshold`. Experimental rules
    /// are reported but never decide the exit status.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold && f.status == Status::Stable)
    }

    /// Sources not checked at all, and checked only in part.
    pub fn unchecked_sources(&self) -> (usize, usize) {
        let count = |s| self.sources.iter().filter(|x| x.status == s).count();
        (count(SourceStatus::NotChecked), count(SourceStatus::Incomplete))
    }

    /// Whether no source could be checked at all: the run could not be done.
    pub fn nothing_checked(&self) -> bool {
        self.sources.iter().all(|s| s.status == SourceStatus::NotChecked)
    }

    /// Keeps only the findings new since the last run (`--new-only`): what a nightly mail says.
    /// Problems met by the previous run too are left out with them, and sources that were
    /// already not checked whole in the previous run are said once, when they began to fail
    /// (urlwatch's `max_tries`): they stay in `sources`, and in the exit status.
    pub fn only_new(&mut self) {
        let Some(state) = &mut self.state else { return };
        state.new_only = true;
        let run = state.run;
        self.findings
            .retain(|f| f.tracking.as_ref().is_none_or(|t| t.state == crate::model::FindingState::New));
        self.problems.retain(|p| p.since_run.is_none_or(|since| since == run));
    }

    /// Whether the source is not checked whole, and was not in the runs before either: said
    /// once, in the run it began (with `--new-only`).
    pub fn known_failure(&self, s: &SourceSummary) -> bool {
        self.state.as_ref().is_some_and(|st| st.new_only)
            && s.failing_since
                .as_ref()
                .is_some_and(|f| f.run < self.state.as_ref().map_or(0, |st| st.run))
    }

    /// Whether there is nothing to tell at `threshold`: no finding reaching it, no problem,
    /// every source checked (or its failure already told, with `--new-only`). `-q` prints
    /// nothing then, and no mail is sent.
    pub fn nothing_to_report(&self, threshold: Severity) -> bool {
        let all_checked = self
            .sources
            .iter()
            .all(|s| s.status == SourceStatus::Checked || self.known_failure(s));
        !self.fails(threshold) && self.problems.is_empty() && all_checked
    }

    pub fn outcome(&self, threshold: Severity) -> Outcome {
        if self.fails(threshold) {
            Outcome::Findings
        } else if self.unchecked_sources() != (0, 0) {
            Outcome::Incomplete
        } else {
            Outcome::Clean
        }
    }
}

/// What a report says in one line, for a mail's subject and a page's title: the findings at or
/// above `fail_on` (new ones, when a store tells), the outlets they are in, the election and
/// rounds — `blackout: 2 new violations — Le Quotidien, Radio Caraïbes (fr-2017 r2)`. Built
/// from counts and the rule files' names only, never from web text.
pub fn headline(r: &Report, fail_on: Severity) -> String {
    let failing: Vec<&Finding> = r.findings.iter().filter(|f| f.severity >= fail_on).collect();
    let mut parts = Vec::new();
    for severity in [Severity::Violation, Severity::Warning, Severity::Notice] {
        let of: Vec<&&Finding> = failing.iter().filter(|f| f.severity == severity).collect();
        if of.is_empty() {
            continue;
        }
        let word = crate::model::wire_name(&severity);
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let part = match &r.state {
            Some(_) => {
                let new = of
                    .iter()
                    .filter(|f| f.tracking.as_ref().is_some_and(|t| t.state == crate::model::FindingState::New))
                    .count();
                match of.len() - new {
                    0 => format!("{new} new {word}{}", plural(new)),
                    open if new == 0 => format!("{open} open {word}{}", plural(open)),
                    open => format!("{new} new {word}{} ({open} open)", plural(new)),
                }
            }
            None => format!("{} {word}{}", of.len(), plural(of.len())),
        };
        parts.push(part);
    }
    let named = |ids: Vec<&str>| -> String {
        let mut names: Vec<String> = Vec::new();
        for id in ids {
            let name = r
                .sources
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.name.clone())
                .unwrap_or_else(|| id.to_string());
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let more = names.len().saturating_sub(3);
        names.truncate(3);
        let mut s = names.join(", ");
        if more > 0 {
            s.push_str(&format!(" and {more} more"));
        }
        inert(&s)
    };
    let (not_checked, in_part) = r.unchecked_sources();
    let unchecked = not_checked + in_part;
    let what = match (parts.is_empty(), unchecked) {
        (false, _) => format!(
            "{} — {}",
            parts.join(", "),
            named(failing.iter().map(|f| f.source.as_str()).collect())
        ),
        (true, 0) if !r.problems.is_empty() => format!(
            "nothing at or above {}; {} problem{} reading the outlets",
            crate::model::wire_name(&fail_on),
            r.problems.len(),
            if r.problems.len() == 1 { "" } else { "s" }
        ),
        (true, 0) => format!("nothing at or above {}", crate::model::wire_name(&fail_on)),
        (true, n) => format!(
            "{n} outlet{} not checked whole — {}",
            if n == 1 { "" } else { "s" },
            named(
                r.sources
                    .iter()
                    .filter(|s| s.status != SourceStatus::Checked)
                    .map(|s| s.id.as_str())
                    .collect()
            )
        ),
    };
    let mut rounds: Vec<&str> = failing
        .iter()
        .filter_map(|f| r.windows.iter().find(|w| w.id == f.window))
        .map(|w| w.round.as_str())
        .collect();
    rounds.sort();
    rounds.dedup();
    let rounds = rounds.iter().map(|r| format!(" {r}")).collect::<String>();
    format!("blackout: {what} ({}{rounds})", inert(&r.election))
}

/// An error with its causes, as one line (lettre's own message says "permanent error", the
/// server's reply is in its source; reqwest's "error sending request"), made inert: it may
/// quote a server. For mail, webhooks and timestamp authorities alike.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    inert(&s)
}

/// Makes untrusted text safe for a terminal: control characters (C0, DEL, C1, including
/// ESC) and bidirectional controls are replaced, line and paragraph breaks become spaces.
pub fn inert(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' => ' ',
            c if c.is_control() => '\u{FFFD}',
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}' => '\u{FFFD}',
            c => c,
        })
        .collect()
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
}
