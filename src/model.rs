//! The vocabulary every stage speaks: where text sits in an article ([`Scope`]), how an item's
//! time relates to a window ([`Verdict`]), how grave a finding is ([`Severity`]), the typed ids
//! of a rule set's parts, content [`Digest`]s and the identity of a finding ([`FindingKey`]).
//!
//! Nothing here knows about the rule-file schema or any stage: the rule loader, the extractor,
//! the judge and the report all depend on this module, never on each other for these words.
//! The serde names are the ones the rule files and the JSON report use.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a piece of text sits in what an outlet published.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Title,
    Body,
    Quote,
    Pre,
    /// Figure captions and photo credits: beside the article, not part of its prose.
    Caption,
    Links,
    /// What the feed says of the item (its summary or content), which need not be on the page.
    Summary,
    /// What a listing page (a homepage, a section front) shows of the items it lists: their
    /// headlines and standfirsts.
    Teaser,
}

impl Scope {
    /// Every scope: the default of a rule that names none.
    pub const ALL: [Scope; 8] = [
        Scope::Title,
        Scope::Body,
        Scope::Quote,
        Scope::Pre,
        Scope::Caption,
        Scope::Links,
        Scope::Summary,
        Scope::Teaser,
    ];
}

/// An item's time relative to a silence window, over the zones of its audience.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Before,
    Inside,
    After,
    ChangedInside,
    Unknown,
}

/// How grave a finding is; ordered, so `--fail-on` can compare.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Notice,
    Warning,
    Violation,
}

/// Whether a rule's findings decide the exit status.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Stable,
    /// Reported, never failing the run: a rule being tried out.
    Experimental,
}

/// What a window prohibits.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Campaign,
    Polls,
    Results,
    ExitPolls,
    Advertising,
    EmbargoedMaterial,
}

/// What stands behind a window, reported with each finding.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LegalForce {
    Statute,
    Decree,
    CaseLaw,
    RegulatorGuidance,
    RegulatorRecommendation,
}

/// What content published before a window may do during it.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PreWindow {
    /// Content online before the window may stay if it is not changed inside it.
    #[default]
    AllowedIfUnchanged,
    Allowed,
    Prohibited,
}

impl PreWindow {
    /// Whether a matching rule with no `when` list fires on this verdict: `inside` always,
    /// `changed_inside` unless old content is allowed outright, `before` only when old content
    /// is prohibited, `unknown` always (reported at most as a warning), `after` never.
    pub fn counts(self, verdict: Verdict) -> bool {
        match verdict {
            Verdict::Inside | Verdict::Unknown => true,
            Verdict::ChangedInside => self != PreWindow::Allowed,
            Verdict::Before => self == PreWindow::Prohibited,
            Verdict::After => false,
        }
    }
}

macro_rules! index_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub usize);

        impl $name {
            pub fn index(self) -> usize {
                self.0
            }
        }
    };
}

index_id!(
    /// A zone of the election (index into the rule set's zones).
    ZoneId
);
index_id!(
    /// A round of the election.
    RoundId
);
index_id!(
    /// A window of the rule set.
    WindowId
);
index_id!(
    /// A material of the rule set.
    MaterialId
);
index_id!(
    /// A rule of the rule set.
    RuleId
);
index_id!(
    /// A source of a run's plan: the rule set's sources, or the one `--input` stands for.
    SourceId
);

/// An instant as reports and the state store write it: RFC 3339 in UTC, to the second
/// (`2017-05-06T21:30:00Z`), so that instants sort as text.
pub fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A SHA-256 digest: of a document's bytes, of a finding's key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest(sha2::Sha256::digest(bytes).into())
    }

    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The digest of 64 lower-case hex digits, as [`Digest::hex`] writes it.
    pub fn from_hex(hex: &str) -> Option<Digest> {
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Digest(out))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl std::str::FromStr for Digest {
    type Err = String;

    /// `sha256:` and 64 lower-case hex digits, as [`Digest`]'s `Display` writes it.
    fn from_str(s: &str) -> Result<Digest, String> {
        s.strip_prefix("sha256:")
            .and_then(Digest::from_hex)
            .ok_or_else(|| format!("`{s}` is not a digest (`sha256:` and 64 lower-case hex digits)"))
    }
}

/// As written in evidence: `sha256:<hex>`, the form WARC files and manifests use.
impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What makes a finding the same finding from one run to the next: the rule, the outlet, the
/// item's normalised address and the embargoed materials its evidence comes from. All by the
/// ids written in the rule files (stable across edits that reorder them), never by index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FindingKey {
    pub rule: String,
    pub source: String,
    /// The item's address without fragment or tracking parameters; for an entry without a
    /// link, its feed's address with `#entry-` and a digest of what the entry says.
    pub url: String,
    /// Sorted, without repeats.
    pub materials: Vec<String>,
}

impl FindingKey {
    /// A short id for people to quote (`blackout review 3f9a1c2e7b04`): the first 12 hex
    /// digits of the SHA-256 of the key's fields, each ended by a unit separator so no two
    /// keys share a preimage. 48 bits: a collision needs about 16 million findings.
    pub fn id(&self) -> String {
        let mut canonical = String::new();
        for field in [&self.rule, &self.source, &self.url].into_iter().chain(&self.materials) {
            canonical.push_str(field);
            canonical.push('\u{1f}');
        }
        Digest::of(canonical.as_bytes()).hex()[..12].to_string()
    }
}

/// Where a finding stands across runs, as the state store knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingState {
    /// Not reported by an earlier run (or reported, resolved, and back).
    New,
    /// Reported by an earlier run and still there.
    Open,
    /// Reported by an earlier run, gone from this one (or no longer matching).
    Resolved,
}

/// Why a finding was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The item was read again and the rule no longer matches it (edited, or the rule changed).
    NoLongerMatching,
    /// The item is no longer listed by its source's feeds and sitemaps, so it was not read:
    /// it may still be online.
    NoLongerListed,
}

/// A finding's place in the store: its state and the run that first reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tracking {
    pub state: FindingState,
    pub first_run: i64,
    pub first_reported: chrono::DateTime<chrono::Utc>,
}

/// The name a value has in the JSON output (`"changed_inside"`, `"jsonld:datePublished"`), for
/// messages and text reports, so that both always say the same thing.
pub fn wire_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_policy_decides_which_verdicts_count() {
        use Verdict::*;
        let fires = |policy: PreWindow| {
            [Before, Inside, After, ChangedInside, Unknown]
                .into_iter()
                .filter(|v| policy.counts(*v))
                .collect::<Vec<_>>()
        };
        assert_eq!(fires(PreWindow::AllowedIfUnchanged), vec![Inside, ChangedInside, Unknown]);
        assert_eq!(fires(PreWindow::Allowed), vec![Inside, Unknown]);
        assert_eq!(fires(PreWindow::Prohibited), vec![Before, Inside, ChangedInside, Unknown]);
    }

    #[test]
    fn finding_ids_are_short_stable_and_separate_fields() {
        let key = |rule: &str, source: &str| FindingKey {
            rule: rule.into(),
            source: source.into(),
            url: "https://e.fr/a".into(),
            materials: vec!["m".into()],
        };
        assert_eq!(key("r", "s").id(), key("r", "s").id());
        assert_eq!(key("r", "s").id().len(), 12);
        // "ab" + "c" and "a" + "bc" must not collide.
        assert_ne!(key("ab", "c").id(), key("a", "bc").id());
        assert_eq!(
            Digest::of(b"abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
