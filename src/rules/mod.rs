//! Rule files: loading, validation and the immutable [`RuleSet`] the rest of the tool runs on.
//!
//! Loading is two steps. `raw` deserialises each TOML file with spans kept, table by table so
//! that a broken table does not hide the problems of the next; `load` then checks everything a
//! run depends on (zones exist in tzdb, anchors resolve without DST ambiguity, golden `expect`
//! instants agree, regexes compile, fingerprint indexes read back intact, every reference
//! resolves) and reports *all* problems with file:line:column, never just the first. Several
//! files combine into one set (a jurisdiction file plus a newsroom's sources), ids unique
//! across them. [`Engine`] then compiles a set into the matcher every rule is evaluated with.

pub mod diag;
mod engine;
mod load;
pub mod raw;

pub use crate::detect::{Fingerprints, LinkPrefix, MatcherKind, Material, Pattern};
use crate::fetch::Location;
use crate::model::{Category, LegalForce, MaterialId, PreWindow, RoundId, RuleId, Scope, Severity, Status, Verdict, WindowId, ZoneId};
pub use crate::window::ZoneSpan;
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use diag::{Diagnostic, SourceFile};
pub use engine::{Engine, Evaluation, Gate, RuleMatch, Text};
use load::{Loader, parse_file};
pub use raw::{Confidence, Expectation};
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
    pub reference_zone: ZoneId,
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
    pub round: RoundId,
    pub category: Category,
    pub legal_force: LegalForce,
    pub pre_window_content: PreWindow,
    pub basis: Vec<String>,
    pub note: Option<String>,
    pub spans: Vec<ZoneSpan>,
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
    pub audience: Vec<ZoneId>,
    pub tz: Option<Tz>,
    pub charset: Option<&'static encoding_rs::Encoding>,
    pub foreign: bool,
    /// Pages are fetched even where the outlet's robots.txt disallows them.
    pub ignore_robots: bool,
    /// Largest body kept from this outlet (default: the fetcher's).
    pub max_body: Option<u64>,
}

#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub status: Status,
    pub windows: Vec<WindowId>,
    /// Timing verdicts that make the rule fire; `None` follows each window's
    /// `pre_window_content` policy.
    pub when: Option<Vec<Verdict>>,
    pub scopes: Vec<Scope>,
    pub condition: Condition,
    /// The matchers whose hits are this rule's evidence (from `condition`, computed once).
    pub evidence: HashSet<(MatcherKind, MaterialId)>,
    pub message: String,
    /// Citation ids the rule names.
    pub cite: Vec<String>,
    pub tests: Vec<RuleTest>,
}

impl Rule {
    /// Whether a timing verdict in a window with this policy makes the rule fire when its
    /// condition holds: its own `when` list if it has one, else the window's policy on content
    /// that predates it ([`PreWindow::counts`]).
    pub fn counts(&self, policy: PreWindow, verdict: Verdict) -> bool {
        match &self.when {
            Some(when) => when.contains(&verdict),
            None => policy.counts(verdict),
        }
    }
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
    pub fn positive_matchers(&self) -> HashSet<(MatcherKind, MaterialId)> {
        fn walk(c: &Condition, negated: bool, out: &mut HashSet<(MatcherKind, MaterialId)>) {
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
    pub material: MaterialId,
    /// For fingerprint matchers: words of one leaked document the article must reproduce.
    pub min_words: u32,
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
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("error: cannot read rule file `{}`: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{}", render(.0))]
    Invalid(Vec<Diagnostic>),
}

/// Every diagnostic, then a count that says nothing was checked.
fn render(diags: &[Diagnostic]) -> String {
    let mut out: String = diags.iter().map(|d| format!("{d}\n")).collect();
    let n = diags.len();
    out.push_str(&format!(
        "error: {n} problem{} in rule files; nothing was checked",
        if n == 1 { "" } else { "s" }
    ));
    out
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
            if let Some(f) = parse_file(file, &mut cx.diags) {
                parsed.push((Arc::clone(file), f));
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

    pub fn window_ids(&self) -> impl Iterator<Item = WindowId> + use<> {
        (0..self.windows.len()).map(WindowId)
    }

    pub fn rule_ids(&self) -> impl Iterator<Item = RuleId> + use<> {
        (0..self.rules.len()).map(RuleId)
    }

    /// The citation with this id (ids are checked when the files load).
    pub fn citation(&self, id: &str) -> Option<&Citation> {
        self.citations.iter().find(|c| c.id == id)
    }
}

macro_rules! index_by {
    ($id:ty, $field:ident, $out:ty) => {
        impl std::ops::Index<$id> for RuleSet {
            type Output = $out;
            fn index(&self, id: $id) -> &$out {
                &self.$field[id.index()]
            }
        }
    };
}

index_by!(ZoneId, zones, Zone);
index_by!(RoundId, rounds, Round);
index_by!(WindowId, windows, Window);
index_by!(MaterialId, materials, Material);
index_by!(RuleId, rules, Rule);
