//! The rule file exactly as written: serde structs that mirror the TOML, with spans kept on
//! every value a semantic check may need to point at. Unknown keys are errors everywhere
//! (`deny_unknown_fields`), so a typo never silently disables a rule.

use crate::model::{Category, LegalForce, PreWindow, Scope, Severity, Status, Verdict};
use crate::window::{Event, OnGap, OnOverlap, Pick};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

pub type S<T> = Spanned<T>;

/// One rule file. Read table by table (`load::parse_file`), so that every broken table is
/// reported, not only the first one serde meets.
#[derive(Debug, Default)]
pub struct File {
    /// `None` only while reading; a file without it is refused.
    pub schema: Option<S<u32>>,
    pub election: Option<S<Election>>,
    pub citation: Vec<S<Citation>>,
    pub zone: Vec<S<Zone>>,
    pub zone_group: Vec<S<ZoneGroup>>,
    pub window: Vec<S<Window>>,
    pub source: Vec<S<Source>>,
    pub material: Vec<S<Material>>,
    pub rule: Vec<S<Rule>>,
}

/// The top-level keys of a rule file, for "did you mean" on an unknown one.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "schema",
    "election",
    "citation",
    "zone",
    "zone_group",
    "window",
    "source",
    "material",
    "rule",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Election {
    pub id: S<String>,
    pub name: String,
    pub country: String,
    #[serde(default)]
    pub kind: Option<String>,
    /// Zone whose clock is the election's reference (France: the metropole).
    pub reference_zone: S<String>,
    pub rounds: Vec<S<Round>>,
    #[serde(default)]
    pub tzdb_computed_with: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Round {
    pub id: S<String>,
    /// The statutory polling date, in the reference zone.
    pub polling_date: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    pub id: S<String>,
    pub kind: Option<String>,
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub document: Option<String>,
    #[serde(default)]
    pub retrieved: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub id: S<String>,
    #[serde(default)]
    pub label: Option<String>,
    pub tz: S<String>,
    /// Local polling day per round id, where it differs from the round's statutory date.
    #[serde(default)]
    pub polling_dates: BTreeMap<String, S<String>>,
    pub polls_open: S<String>,
    pub polls_close: S<String>,
    #[serde(default)]
    pub polls_close_max: Option<S<String>>,
    #[serde(default)]
    pub confidence: Option<Confidence>,
    #[serde(default)]
    pub cite: Vec<S<String>>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    Confirmed,
    Secondary,
    DecreeDefault,
    Unconfirmed,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneGroup {
    pub id: S<String>,
    pub zones: Vec<S<String>>,
}

/// A zone group id, or an explicit list of zone ids. Errors point at the whole value.
#[derive(Debug)]
pub enum ZoneSel {
    Group(String),
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for ZoneSel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ZoneSel, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ZoneSel;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a zone group id (such as \"all\") or a list of zone ids")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ZoneSel, E> {
                Ok(ZoneSel::Group(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ZoneSel, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    v.push(s);
                }
                Ok(ZoneSel::List(v))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub id: S<String>,
    #[serde(default)]
    pub round: Option<S<String>>,
    pub category: Category,
    pub zones: S<ZoneSel>,
    pub start: S<Anchor>,
    pub end: S<Anchor>,
    #[serde(default)]
    pub pre_window_content: Option<PreWindow>,
    pub legal_force: LegalForce,
    #[serde(default)]
    pub basis: Vec<S<String>>,
    #[serde(default)]
    pub confidence: Option<Confidence>,
    #[serde(default)]
    pub on_gap: Option<OnGap>,
    #[serde(default)]
    pub on_overlap: Option<OnOverlap>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub expect: Vec<S<Expect>>,
}

/// One end of a window. Which keys are present decides the kind; the loader checks that the
/// combination is one of the documented ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// Days relative to the zone's polling day (`-1` = the eve).
    pub day: Option<S<i64>>,
    /// An absolute local date `YYYY-MM-DD`.
    pub date: Option<S<String>>,
    /// Local wall-clock time `HH:MM`.
    pub time: Option<S<String>>,
    /// Whose clock `time` is read on: `zone` (the zone being resolved, default) or a zone id.
    pub clock: Option<S<String>>,
    pub event: Option<Event>,
    /// For events: `zone`, a zone id or a zone group id.
    pub of: Option<S<String>>,
    pub pick: Option<Pick>,
    /// An exact duration added in UTC: `-48h`, `+30m`, `+3h`.
    pub offset: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub zone: S<String>,
    #[serde(default)]
    pub start_utc: Option<S<String>>,
    #[serde(default)]
    pub end_utc: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: S<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub feed: Option<S<String>>,
    /// A homepage whose advertised feeds are read.
    #[serde(default)]
    pub home: Option<S<String>>,
    /// A (news) sitemap or sitemap index listing the outlet's articles.
    #[serde(default)]
    pub sitemap: Option<S<String>>,
    #[serde(default)]
    pub pages: Vec<S<String>>,
    #[serde(default)]
    pub path: Option<S<String>>,
    pub audience: S<ZoneSel>,
    /// IANA zone for dates the outlet writes without one.
    #[serde(default)]
    pub tz: Option<S<String>>,
    #[serde(default)]
    pub charset: Option<S<String>>,
    #[serde(default)]
    pub foreign: bool,
    #[serde(default)]
    pub home_country: Option<String>,
    /// Fetch this outlet's pages even where its robots.txt disallows them.
    #[serde(default)]
    pub ignore_robots: bool,
    /// Largest body kept from this outlet, in bytes.
    #[serde(default)]
    pub max_body: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub id: S<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phrases: Vec<S<String>>,
    #[serde(default)]
    pub patterns: Vec<S<String>>,
    #[serde(default)]
    pub hashtags: Vec<S<String>>,
    /// URL prefixes (`archive.org/details/EMLEAKS/`) or bare hosts of the dump.
    #[serde(default)]
    pub links: Vec<S<String>>,
    /// A fingerprint index of the leaked corpus (built by a later version of the tool).
    #[serde(default)]
    pub fingerprints: Option<S<String>>,
    /// Words of a matched passage that outgoing reports show (default 6).
    #[serde(default)]
    pub redact_words: Option<u32>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: S<String>,
    pub severity: Severity,
    #[serde(default)]
    pub status: Status,
    pub windows: Vec<S<String>>,
    #[serde(default)]
    pub when: Option<Vec<Verdict>>,
    #[serde(default)]
    pub scope: Option<Vec<Scope>>,
    pub condition: S<Condition>,
    pub message: String,
    #[serde(default)]
    pub cite: Vec<S<String>>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub test: Vec<S<RuleTest>>,
}

/// A boolean condition node: exactly one of the keys is set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub any: Option<Vec<S<Condition>>>,
    pub all: Option<Vec<S<Condition>>>,
    pub not: Option<Box<S<Condition>>>,
    pub at_least: Option<S<u32>>,
    pub of: Option<Vec<S<Condition>>>,
    pub phrase: Option<S<String>>,
    pub pattern: Option<S<String>>,
    pub hashtag: Option<S<String>>,
    pub link: Option<S<String>>,
    pub fingerprint: Option<S<FingerprintCondition>>,
}

/// `{ material = "…", min_words = 12 }`: the article reproduces at least `min_words` words of
/// one leaked document of the material's fingerprint index.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FingerprintCondition {
    pub material: S<String>,
    #[serde(default = "default_min_words")]
    pub min_words: u32,
}

fn default_min_words() -> u32 {
    12
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTest {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
    pub expect: Expectation,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Expectation {
    Match,
    NoMatch,
    Todo,
}
