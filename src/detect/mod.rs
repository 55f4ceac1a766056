//! Matching articles against materials: the hits that rule conditions are evaluated over.
//!
//! All phrases, hashtags and plain-text dump URLs of every material go into one Aho-Corasick
//! automaton over normalised text (one pass per block, whatever the number of phrases);
//! word boundaries are checked on each candidate afterwards, since the automaton has none.
//! Regex patterns are prefiltered with a `RegexSet` and only the patterns that can match a
//! block are run for spans. Links are checked against host + path prefixes. A scan yields
//! [`Hit`]s once per document; every rule is then a cheap boolean evaluation over them
//! (`rules::Engine`).

mod material;

pub use material::{Fingerprints, LinkPrefix, Material, Pattern, REDACT_WORDS};

use crate::article::Article;
use crate::model::{MaterialId, Scope};
use crate::normalize::{is_word_char, normalize};
use aho_corasick::{AhoCorasick, MatchKind};
use regex::{RegexSet, RegexSetBuilder};
use std::ops::Range;
use std::sync::Arc;
use url::Url;

/// Which kind of matcher found a hit; a rule condition names one per material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatcherKind {
    Phrase,
    Pattern,
    Hashtag,
    Link,
    Fingerprint,
}

/// Which of an item's documents a text came from: its page, or what the n-th listing (feed or
/// sitemap) carrying it says. Offsets of a hit index the extracted text of that document only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    Page,
    Feed(usize),
}

/// One place where a material matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub kind: MatcherKind,
    pub material: MaterialId,
    pub origin: Origin,
    pub scope: Scope,
    /// Byte range in the [`Article::text`] of the document it was found in; empty for a link
    /// that is only an `href`.
    pub range: Range<usize>,
    /// What matched: the phrase, hashtag or pattern as written in the rule file, or the URL.
    pub needle: String,
    pub url: Option<Url>,
    /// For fingerprint hits: what the passage reproduces.
    pub reproduces: Option<Reproduction>,
}

/// A fingerprint span's evidence: how many words, of which leaked documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reproduction {
    pub words: u32,
    pub documents: Vec<String>,
}

/// Why the materials could not be compiled into one matcher.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("the phrases, hashtags and dump addresses do not fit in one automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
    #[error("the materials' patterns together exceed the regex size limit: {0}")]
    Patterns(#[from] regex::Error),
}

/// Matchers compiled from every material of a rule set; built once per run, shared by workers.
#[derive(Debug)]
pub struct Detector {
    literals: Option<AhoCorasick>,
    /// For each automaton pattern: matcher kind, material and the needle as written.
    literal_targets: Vec<(MatcherKind, MaterialId, String)>,
    pattern_set: Option<RegexSet>,
    patterns: Vec<(MaterialId, Pattern)>,
    links: Vec<(MaterialId, LinkPrefix)>,
    fingerprints: Vec<(MaterialId, Arc<crate::fingerprint::Index>)>,
}

impl Detector {
    pub fn compile(materials: &[Material]) -> Result<Detector, CompileError> {
        let mut needles = Vec::new();
        let mut literal_targets = Vec::new();
        let mut patterns = Vec::new();
        let mut links = Vec::new();
        let mut fingerprints = Vec::new();
        for (i, m) in materials.iter().enumerate() {
            let id = MaterialId(i);
            for p in &m.phrases {
                needles.push(normalize(p).text);
                literal_targets.push((MatcherKind::Phrase, id, p.clone()));
            }
            for h in &m.hashtags {
                let tag = if h.starts_with('#') { h.clone() } else { format!("#{h}") };
                needles.push(normalize(&tag).text);
                literal_targets.push((MatcherKind::Hashtag, id, h.clone()));
            }
            for l in &m.links {
                // A dump URL written out in the text counts as a link; a bare host does not
                // (naming "Pastebin" or "archive.org" is reporting, not republishing).
                if l.path.len() > 1 {
                    needles.push(normalize(&l.written()).text);
                    literal_targets.push((MatcherKind::Link, id, l.written()));
                }
                links.push((id, l.clone()));
            }
            patterns.extend(m.patterns.iter().map(|p| (id, p.clone())));
            if let Some(f) = &m.fingerprints {
                fingerprints.push((id, Arc::clone(&f.index)));
            }
        }
        let literals = match needles.is_empty() {
            true => None,
            false => Some(AhoCorasick::builder().match_kind(MatchKind::Standard).build(&needles)?),
        };
        let pattern_set = match patterns.is_empty() {
            true => None,
            false => Some(
                RegexSetBuilder::new(patterns.iter().map(|(_, p)| p.regex.as_str()))
                    .case_insensitive(true)
                    .build()?,
            ),
        };
        Ok(Detector {
            literals,
            literal_targets,
            pattern_set,
            patterns,
            links,
            fingerprints,
        })
    }

    /// Every hit in one document's article, in text order.
    pub fn scan(&self, article: &Article, origin: Origin) -> Vec<Hit> {
        let mut hits = Vec::new();
        let hit = |kind, material, scope, range, needle: &str, url, reproduces| Hit {
            kind,
            material,
            origin,
            scope,
            range,
            needle: needle.to_string(),
            url,
            reproduces,
        };
        // Blocks are normalised only for the text matchers; a fingerprint-only rule set skips it.
        let text_matchers = self.literals.is_some() || self.pattern_set.is_some();
        for block in article.blocks.iter().filter(|_| text_matchers) {
            let original = &article.text[block.range.clone()];
            let norm = normalize(original);
            let at = |r: Range<usize>| {
                let o = norm.original_range(r.start, r.end, original);
                block.range.start + o.start..block.range.start + o.end
            };
            if let Some(ac) = &self.literals {
                for m in ac.find_overlapping_iter(&norm.text) {
                    let (kind, material, needle) = &self.literal_targets[m.pattern().as_usize()];
                    if bounded(&norm.text, m.start(), m.end(), *kind) {
                        hits.push(hit(*kind, *material, block.scope, at(m.range()), needle, None, None));
                    }
                }
            }
            if let Some(set) = &self.pattern_set {
                for i in set.matches(&norm.text).iter() {
                    let (material, p) = &self.patterns[i];
                    for m in p.regex.find_iter(&norm.text).filter(|m| !m.is_empty()) {
                        hits.push(hit(
                            MatcherKind::Pattern,
                            *material,
                            block.scope,
                            at(m.range()),
                            &p.written,
                            None,
                            None,
                        ));
                    }
                }
            }
        }
        for link in &article.links {
            for (material, prefix) in &self.links {
                if prefix.matches(&link.url) {
                    let written = prefix.written();
                    hits.push(hit(
                        MatcherKind::Link,
                        *material,
                        Scope::Links,
                        0..0,
                        &written,
                        Some(link.url.clone()),
                        None,
                    ));
                }
            }
        }
        // Fingerprints run over the whole text at once, so a passage split across paragraphs
        // is still one run; a span's scope is that of the block it starts in.
        for (material, index) in &self.fingerprints {
            for span in crate::fingerprint::find(index, &article.text).spans {
                let scope = article
                    .blocks
                    .iter()
                    .find(|b| b.range.contains(&span.start))
                    .map_or(Scope::Body, |b| b.scope);
                let documents = span.docs.iter().map(|d| index.docs[*d as usize].clone()).collect();
                let reproduces = Some(Reproduction {
                    words: span.words,
                    documents,
                });
                hits.push(hit(
                    MatcherKind::Fingerprint,
                    *material,
                    scope,
                    span.start..span.end,
                    "fingerprint",
                    None,
                    reproduces,
                ));
            }
        }
        hits.sort_by_key(|h| (h.range.start, h.range.end));
        hits.dedup();
        hits
    }
}

/// A literal match counts only on word boundaries: `#macronleaks` must not match inside
/// `#macronleaksfake`, nor a phrase inside a longer word.
fn bounded(text: &str, start: usize, end: usize, kind: MatcherKind) -> bool {
    let needle = &text[start..end];
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let starts_word = needle.chars().next().is_some_and(is_word_char);
    let ends_word = needle.chars().next_back().is_some_and(is_word_char);
    let before_ok = match kind {
        MatcherKind::Hashtag => before.is_none_or(|c| !is_word_char(c) && c != '#'),
        MatcherKind::Link => before.is_none_or(|c| !is_word_char(c) && c != '.' && c != '-'),
        _ => !starts_word || before.is_none_or(|c| !is_word_char(c)),
    };
    let after_ok = kind == MatcherKind::Link || !ends_word || after.is_none_or(|c| !is_word_char(c));
    before_ok && after_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::{Link, TextBuilder};

    fn material() -> Material {
        Material {
            id: "leaks".into(),
            name: None,
            phrases: vec!["compte aux Bahamas".into(), "l'agenda secret".into()],
            patterns: vec![Pattern {
                written: r"\bemleaks?\b".into(),
                regex: regex::RegexBuilder::new(r"\bemleaks?\b").case_insensitive(true).build().unwrap(),
            }],
            hashtags: vec!["#MacronLeaks".into()],
            links: vec![
                LinkPrefix::parse("https://archive.org/details/EMLEAKS/").unwrap(),
                LinkPrefix::parse("leakdump.example.net").unwrap(),
            ],
            fingerprints: None,
            redact_words: REDACT_WORDS,
        }
    }

    fn article(blocks: &[(Scope, &str)], links: &[&str]) -> Article {
        let mut b = TextBuilder::default();
        for (s, t) in blocks {
            b.push(*s, t);
        }
        let (text, blocks) = b.finish();
        Article {
            title: None,
            text,
            blocks,
            links: links
                .iter()
                .map(|l| Link {
                    url: Url::parse(l).unwrap(),
                    within: Scope::Body,
                })
                .collect(),
            dates: vec![],
            ..Article::default()
        }
    }

    #[test]
    fn phrases_on_word_boundaries_whatever_the_typography() {
        let d = Detector::compile(&[material()]).unwrap();
        let a = article(
            &[
                (Scope::Title, "Le titre"),
                (Scope::Quote, "« Un COMPTE\u{a0}aux bahamas » et L\u{2019}agenda   secret"),
                (Scope::Body, "uncompte aux bahamasx"),
            ],
            &[],
        );
        let hits = d.scan(&a, Origin::Page);
        let found: Vec<(&str, Scope)> = hits.iter().map(|h| (&a.text[h.range.clone()], h.scope)).collect();
        // The extracted text has its whitespace collapsed; the match maps back onto it.
        assert_eq!(
            found,
            vec![("COMPTE aux bahamas", Scope::Quote), ("L\u{2019}agenda secret", Scope::Quote)]
        );
    }

    #[test]
    fn hashtags_patterns_and_links() {
        let d = Detector::compile(&[material()]).unwrap();
        let a = article(
            &[(
                Scope::Body,
                "#MacronLeaks et #MacronLeaksFake, voir archive.org/details/EMLEAKS/lot1 ou EMLeaks",
            )],
            &[
                "https://www.archive.org/details/EMLEAKS/x.zip",
                "https://archive.org/details/other",
                "https://files.leakdump.example.net/a",
            ],
        );
        let kinds: Vec<(MatcherKind, String)> = d
            .scan(&a, Origin::Feed(0))
            .iter()
            .map(|h| {
                (
                    h.kind,
                    h.url
                        .as_ref()
                        .map_or_else(|| a.text[h.range.clone()].to_string(), |u| u.to_string()),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                (MatcherKind::Link, "https://www.archive.org/details/EMLEAKS/x.zip".into()),
                (MatcherKind::Link, "https://files.leakdump.example.net/a".into()),
                (MatcherKind::Hashtag, "#MacronLeaks".into()),
                (MatcherKind::Link, "archive.org/details/EMLEAKS/".into()),
                (MatcherKind::Pattern, "EMLEAKS".into()),
                (MatcherKind::Pattern, "EMLeaks".into()),
            ]
        );
    }
}
