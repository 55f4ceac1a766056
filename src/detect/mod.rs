//! Matching articles against materials, and rule conditions over the matches.
//!
//! All phrases, hashtags and plain-text dump URLs of every material go into one Aho-Corasick
//! automaton over normalised text (one pass per block, whatever the number of phrases);
//! word boundaries are checked on each candidate afterwards, since the automaton has none.
//! Regex patterns are prefiltered with a `RegexSet` and only the patterns that can match a
//! block are run for spans. Links are checked against host + path prefixes. A scan yields
//! [`Hit`]s once per article; every rule is then a cheap boolean evaluation over them.

pub mod normalize;

use crate::article::Article;
use crate::fingerprint::Index;
use crate::rules::{Condition, Matcher, MatcherKind, Material, Scope};
use aho_corasick::{AhoCorasick, MatchKind};
use normalize::{is_word_char, normalize};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use std::collections::HashMap;
use std::ops::Range;
use url::Url;

/// One place where a material matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub matcher: Matcher,
    pub scope: Scope,
    /// Byte range in [`Article::text`]; empty for a link that is only an `href`.
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

/// Matchers compiled from every material of a rule set; built once per run, shared by workers.
#[derive(Debug)]
pub struct Detector {
    literals: Option<AhoCorasick>,
    /// For each automaton pattern: matcher and the needle as written.
    literal_targets: Vec<(Matcher, String)>,
    pattern_set: Option<RegexSet>,
    patterns: Vec<(Matcher, Regex, String)>,
    links: Vec<(Matcher, crate::rules::LinkPrefix, String)>,
    /// Fingerprint indexes, loaded once per run.
    fingerprints: Vec<(Matcher, Index)>,
}

impl Detector {
    pub fn compile(materials: &[Material]) -> Result<Detector, String> {
        let mut fingerprints = Vec::new();
        for (i, m) in materials.iter().enumerate() {
            if let Some(path) = &m.fingerprints {
                let index = Index::load(path).map_err(|e| format!("material `{}`: {e}", m.id))?;
                fingerprints.push((
                    Matcher {
                        kind: MatcherKind::Fingerprint,
                        material: i,
                        min_words: 0,
                    },
                    index,
                ));
            }
        }
        let mut needles = Vec::new();
        let mut literal_targets = Vec::new();
        let mut patterns = Vec::new();
        let mut links = Vec::new();
        for (i, m) in materials.iter().enumerate() {
            let at = |kind| Matcher {
                kind,
                material: i,
                min_words: 0,
            };
            for p in &m.phrases {
                needles.push(normalize(p).text);
                literal_targets.push((at(MatcherKind::Phrase), p.clone()));
            }
            for h in &m.hashtags {
                let tag = if h.starts_with('#') { h.clone() } else { format!("#{h}") };
                needles.push(normalize(&tag).text);
                literal_targets.push((at(MatcherKind::Hashtag), h.clone()));
            }
            for l in &m.links {
                let written = format!("{}{}", l.host, l.path);
                // A dump URL written out in the text counts as a link; a bare host does not
                // (naming "Pastebin" or "archive.org" is reporting, not republishing).
                if l.path.len() > 1 {
                    needles.push(normalize(&written).text);
                    literal_targets.push((at(MatcherKind::Link), written.clone()));
                }
                links.push((at(MatcherKind::Link), l.clone(), written));
            }
            for p in &m.patterns {
                let re = RegexBuilder::new(p)
                    .case_insensitive(true)
                    .build()
                    .map_err(|e| format!("material `{}`: {e}", m.id))?;
                patterns.push((at(MatcherKind::Pattern), re, p.clone()));
            }
        }
        let literals = if needles.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&needles)
                    .map_err(|e| e.to_string())?,
            )
        };
        let pattern_set = if patterns.is_empty() {
            None
        } else {
            Some(
                RegexSetBuilder::new(patterns.iter().map(|(_, r, _)| r.as_str()))
                    .case_insensitive(true)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
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

    /// Every hit in the article, in text order.
    pub fn scan(&self, article: &Article) -> Vec<Hit> {
        let mut hits = Vec::new();
        // Blocks are normalised only for the text matchers; a fingerprint-only rule set skips it.
        let text_matchers = self.literals.is_some() || self.pattern_set.is_some();
        for block in article.blocks.iter().filter(|_| text_matchers) {
            let original = &article.text[block.range.clone()];
            let norm = normalize(original);
            let mut push = |matcher: Matcher, needle: &String, r: Range<usize>| {
                let o = norm.original_range(r.start, r.end, original);
                let range = block.range.start + o.start..block.range.start + o.end;
                hits.push(Hit {
                    matcher,
                    scope: block.scope,
                    range,
                    needle: needle.clone(),
                    url: None,
                    reproduces: None,
                });
            };
            if let Some(ac) = &self.literals {
                for m in ac.find_overlapping_iter(&norm.text) {
                    let (matcher, needle) = &self.literal_targets[m.pattern().as_usize()];
                    if bounded(&norm.text, m.start(), m.end(), matcher.kind) {
                        push(*matcher, needle, m.range());
                    }
                }
            }
            if let Some(set) = &self.pattern_set {
                for i in set.matches(&norm.text).iter() {
                    let (matcher, re, needle) = &self.patterns[i];
                    for m in re.find_iter(&norm.text).filter(|m| !m.is_empty()) {
                        push(*matcher, needle, m.range());
                    }
                }
            }
        }
        for link in &article.links {
            for (matcher, prefix, written) in &self.links {
                if prefix.matches(&link.url) {
                    hits.push(Hit {
                        matcher: *matcher,
                        scope: Scope::Links,
                        range: 0..0,
                        needle: written.clone(),
                        url: Some(link.url.clone()),
                        reproduces: None,
                    });
                }
            }
        }
        // Fingerprints run over the whole text at once, so a passage split across paragraphs
        // is still one run; a span's scope is that of the block it starts in.
        for (matcher, index) in &self.fingerprints {
            for span in crate::fingerprint::find(index, &article.text).spans {
                let scope = article
                    .blocks
                    .iter()
                    .find(|b| b.range.contains(&span.start))
                    .map_or(Scope::Body, |b| b.scope);
                let documents = span.docs.iter().map(|d| index.docs[*d as usize].clone()).collect();
                hits.push(Hit {
                    matcher: *matcher,
                    scope,
                    range: span.start..span.end,
                    needle: "fingerprint".into(),
                    url: None,
                    reproduces: Some(Reproduction {
                        words: span.words,
                        documents,
                    }),
                });
            }
        }
        hits.sort_by_key(|h| (h.range.start, h.range.end));
        hits.dedup();
        hits
    }
}

/// Whether the in-scope fingerprint hits of `m`'s material reproduce at least `m.min_words`
/// words of one leaked document (spans of that document summed, in any order).
fn reproduces_enough(m: &Matcher, hits: &[Hit], scopes: &[Scope]) -> bool {
    let mut words: HashMap<&str, u32> = HashMap::new();
    for h in hits
        .iter()
        .filter(|h| h.matcher.kind == m.kind && h.matcher.material == m.material && scopes.contains(&h.scope))
    {
        if let Some(r) = &h.reproduces {
            for d in &r.documents {
                *words.entry(d.as_str()).or_default() += r.words;
            }
        }
    }
    words.values().any(|w| *w >= m.min_words)
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

/// A rule condition ready to evaluate against hits.
impl Condition {
    /// Whether the condition holds over `hits` restricted to `scopes`.
    pub fn eval(&self, hits: &[Hit], scopes: &[Scope]) -> bool {
        match self {
            Condition::Any(v) => v.iter().any(|c| c.eval(hits, scopes)),
            Condition::All(v) => v.iter().all(|c| c.eval(hits, scopes)),
            Condition::Not(c) => !c.eval(hits, scopes),
            Condition::AtLeast(n, v) => v.iter().filter(|c| c.eval(hits, scopes)).count() >= *n as usize,
            Condition::Match(m) if m.kind == MatcherKind::Fingerprint => reproduces_enough(m, hits, scopes),
            Condition::Match(m) => hits.iter().any(|h| h.matcher == *m && scopes.contains(&h.scope)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::{Link, TextBuilder};
    use crate::rules::LinkPrefix;

    fn material() -> Material {
        Material {
            id: "leaks".into(),
            name: None,
            phrases: vec!["compte aux Bahamas".into(), "l'agenda secret".into()],
            patterns: vec![r"\bemleaks?\b".into()],
            hashtags: vec!["#MacronLeaks".into()],
            links: vec![
                LinkPrefix::parse("https://archive.org/details/EMLEAKS/").unwrap(),
                LinkPrefix::parse("leakdump.example.net").unwrap(),
            ],
            fingerprints: None,
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
            kind: Default::default(),
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
        let hits = d.scan(&a);
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
            .scan(&a)
            .iter()
            .map(|h| {
                (
                    h.matcher.kind,
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

    #[test]
    fn conditions() {
        let m = |kind| {
            Condition::Match(Matcher {
                kind,
                material: 0,
                min_words: 0,
            })
        };
        let hits = vec![Hit {
            matcher: Matcher {
                kind: MatcherKind::Hashtag,
                material: 0,
                min_words: 0,
            },
            scope: Scope::Body,
            range: 0..1,
            needle: String::new(),
            url: None,
            reproduces: None,
        }];
        let all = [Scope::Title, Scope::Body];
        assert!(m(MatcherKind::Hashtag).eval(&hits, &all));
        assert!(!m(MatcherKind::Hashtag).eval(&hits, &[Scope::Quote]));
        assert!(Condition::All(vec![m(MatcherKind::Hashtag), Condition::Not(Box::new(m(MatcherKind::Link)))]).eval(&hits, &all));
        assert!(!Condition::AtLeast(2, vec![m(MatcherKind::Hashtag), m(MatcherKind::Link)]).eval(&hits, &all));
        let pos = Condition::All(vec![m(MatcherKind::Hashtag), Condition::Not(Box::new(m(MatcherKind::Link)))]).positive_matchers();
        assert_eq!(pos.len(), 1);
    }
}
