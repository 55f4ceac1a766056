//! Rule files: loading, validation and the immutable [`RuleSet`] the rest of the tool runs on.
//!
//! Loading is two steps. `raw` deserialises each TOML file with spans kept; `load` then
//! checks everything a run depends on (zones exist in tzdb, anchors resolve without DST
//! ambiguity, golden `expect` instants agree, regexes compile, every reference resolves) and
//! reports *all* problems with file:line:column, never just the first. Several files combine
//! into one set (a jurisdiction file plus a newsroom's sources), ids unique across them.

pub mod diag;
mod load;
pub mod raw;

use crate::fetch::Location;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use diag::{Diagnostic, SourceFile};
use load::{Loader, toml_diagnostic};
pub use raw::{Category, Confidence, Expectation, LegalForce, PreWindow, Scope, Severity, Status, Verdict};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// A validated set of rules, windows, sources and materials from one or more files.
#[derive(Debug)]
pub struct RuleSet {
    pub election: Election,
    pub rounds: Vec<Round>,
    pub zones: Vec<Zone>,
    pub windows: Vec<Window>,
    pub sources: Vec<Source>,
    pub materials: Vec<Material>,
    pub rules: Vec<Rule>,
    pub citations: Vec<Citation>,
}

#[derive(Debug)]
pub struct Election {
    pub id: String,
    pub name: String,
    pub country: String,
    pub kind: Option<String>,
    pub reference_zone: usize,
    pub tzdb_computed_with: Option<String>,
}

#[derive(Debug)]
pub struct Round {
    pub id: String,
    pub polling_date: NaiveDate,
}

#[derive(Debug)]
pub struct Zone {
    pub id: String,
    pub label: Option<String>,
    pub tz: Tz,
    /// Local polling day, by round index.
    pub polling_days: Vec<NaiveDate>,
    pub polls_open: NaiveTime,
    pub polls_close: NaiveTime,
    pub polls_close_max: NaiveTime,
    pub confidence: Option<Confidence>,
}

/// One prohibition (category) resolved for every zone it covers.
#[derive(Debug)]
pub struct Window {
    pub id: String,
    pub round: usize,
    pub category: Category,
    pub legal_force: LegalForce,
    pub pre_window_content: PreWindow,
    pub basis: Vec<String>,
    pub note: Option<String>,
    pub spans: Vec<ZoneSpan>,
}

/// A window in one zone: `start..end` in UTC (start included, end excluded).
#[derive(Debug, Clone, Copy)]
pub struct ZoneSpan {
    pub zone: usize,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Source {
    pub id: String,
    pub name: Option<String>,
    pub feeds: Vec<Location>,
    /// Homepages whose advertised feeds are read.
    pub homes: Vec<Location>,
    /// Sitemaps (news sitemaps, or indexes of them) read like feeds.
    pub sitemaps: Vec<Location>,
    pub pages: Vec<Location>,
    pub dirs: Vec<PathBuf>,
    pub audience: Vec<usize>,
    pub tz: Option<Tz>,
    pub charset: Option<&'static encoding_rs::Encoding>,
    pub foreign: bool,
    /// Pages are fetched even where the outlet's robots.txt disallows them.
    pub ignore_robots: bool,
    /// Largest body kept from this outlet (default: the fetcher's).
    pub max_body: Option<u64>,
}

#[derive(Debug)]
pub struct Material {
    pub id: String,
    pub name: Option<String>,
    pub phrases: Vec<String>,
    pub patterns: Vec<String>,
    pub hashtags: Vec<String>,
    pub links: Vec<LinkPrefix>,
    pub fingerprints: Option<PathBuf>,
}

/// A dump location: links whose host is `host` (or a subdomain) and whose path starts with
/// `path` match. Schemes and a leading `www.` are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPrefix {
    pub host: String,
    pub path: String,
}

impl LinkPrefix {
    pub fn parse(s: &str) -> Option<LinkPrefix> {
        let s = s.trim();
        let rest = s.split_once("://").map_or(s, |(_, r)| r);
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = host.trim_start_matches("www.").to_lowercase();
        if host.is_empty() || host.contains(char::is_whitespace) || !host.contains('.') {
            return None;
        }
        Some(LinkPrefix {
            host,
            path: path.to_string(),
        })
    }

    pub fn matches(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        let host = host.trim_start_matches("www.");
        let host_ok = host
            .strip_suffix(self.host.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'));
        host_ok && url.path().starts_with(if self.path.is_empty() { "/" } else { &self.path })
    }
}

#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub status: Status,
    pub windows: Vec<usize>,
    /// Timing verdicts that make the rule fire; `None` follows each window's
    /// `pre_window_content` policy.
    pub when: Option<Vec<Verdict>>,
    pub scopes: Vec<Scope>,
    pub condition: Condition,
    /// The matchers whose hits are this rule's evidence (from `condition`, computed once).
    pub evidence: HashSet<(MatcherKind, usize)>,
    pub message: String,
    pub tests: Vec<RuleTest>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Any(Vec<Condition>),
    All(Vec<Condition>),
    Not(Box<Condition>),
    AtLeast(u32, Vec<Condition>),
    Match(Matcher),
}

impl Condition {
    /// Matchers (kind and material) that count *for* the condition (not under a `not`):
    /// their hits are the evidence a finding shows.
    pub fn positive_matchers(&self) -> HashSet<(MatcherKind, usize)> {
        fn walk(c: &Condition, negated: bool, out: &mut HashSet<(MatcherKind, usize)>) {
            match c {
                Condition::Any(v) | Condition::All(v) | Condition::AtLeast(_, v) => v.iter().for_each(|c| walk(c, negated, out)),
                Condition::Not(c) => walk(c, !negated, out),
                Condition::Match(m) if !negated => {
                    out.insert((m.kind, m.material));
                }
                Condition::Match(_) => {}
            }
        }
        let mut out = HashSet::new();
        walk(self, false, &mut out);
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Matcher {
    pub kind: MatcherKind,
    pub material: usize,
    /// For fingerprint matchers: words of one leaked document the article must reproduce.
    pub min_words: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatcherKind {
    Phrase,
    Pattern,
    Hashtag,
    Link,
    Fingerprint,
}

#[derive(Debug)]
pub struct RuleTest {
    pub input: TestInput,
    pub expect: Expectation,
    /// `file:line` of the `[[rule.test]]` table.
    pub location: String,
}

#[derive(Debug)]
pub enum TestInput {
    Text(String),
    Html(String),
}

#[derive(Debug)]
pub struct Citation {
    pub id: String,
    pub title: String,
    pub url: Option<String>,
}

/// Why a set of rule files could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    Io { path: PathBuf, error: std::io::Error },
    Invalid(Vec<Diagnostic>),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io { path, error } => writeln!(f, "error: cannot read rule file `{}`: {error}", path.display()),
            LoadError::Invalid(diags) => {
                for d in diags {
                    writeln!(f, "{d}")?;
                }
                let n = diags.len();
                writeln!(
                    f,
                    "error: {n} problem{} in rule files; nothing was checked",
                    if n == 1 { "" } else { "s" }
                )
            }
        }
    }
}

impl RuleSet {
    /// Loads and validates rule files together.
    pub fn load(paths: &[PathBuf]) -> Result<RuleSet, LoadError> {
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(path).map_err(|error| LoadError::Io { path: path.clone(), error })?;
            files.push((path.clone(), text));
        }
        RuleSet::from_sources(files)
    }

    /// Loads rule files already in memory, as `(path, text)`; paths label diagnostics and
    /// anchor relative locations.
    pub fn from_sources(sources: Vec<(PathBuf, String)>) -> Result<RuleSet, LoadError> {
        let files: Vec<Arc<SourceFile>> = sources
            .into_iter()
            .map(|(path, text)| Arc::new(SourceFile { path, text }))
            .collect();
        let mut cx = Loader::default();
        let mut parsed = Vec::new();
        for file in &files {
            match toml::from_str::<raw::File>(&file.text) {
                Ok(f) => parsed.push((Arc::clone(file), f)),
                Err(e) => cx.diags.push(toml_diagnostic(file, &e)),
            }
        }
        if !cx.diags.is_empty() {
            return Err(LoadError::Invalid(cx.diags));
        }
        let set = cx.build(&parsed);
        match set {
            Some(set) if cx.diags.is_empty() => Ok(set),
            _ => Err(LoadError::Invalid(cx.diags)),
        }
    }

    pub fn zone_index(&self, id: &str) -> Option<usize> {
        self.zones.iter().position(|z| z.id == id)
    }

    /// A warning when the rule file's `expect` instants were computed with another tzdb
    /// release than the one compiled in (they were still checked and agreed).
    pub fn tzdb_note(&self) -> Option<String> {
        let theirs = self.election.tzdb_computed_with.as_deref()?;
        (theirs != chrono_tz::IANA_TZDB_VERSION).then(|| {
            format!(
                "the rule file's instants were computed with tzdb {theirs}; this build has tzdb {}",
                chrono_tz::IANA_TZDB_VERSION
            )
        })
    }

    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }
}
