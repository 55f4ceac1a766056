//! The compiled rule set, and the one place rules are evaluated.
//!
//! [`Engine::compile`] builds the matchers of every material once (one Aho-Corasick automaton,
//! one `RegexSet`, link prefixes, the fingerprint indexes loaded with the rule files);
//! [`Engine::evaluate`] scans an item's documents once and evaluates every rule's condition over
//! the hits. A check, `rules test` and anything else that asks "does this rule match?" go
//! through it, with the same page-class gate, so they cannot disagree.
//!
//! The gate: an article is checked on its text, a listing page (a homepage, a section front)
//! on its teasers. A page whose content was not there to read (a consent or subscription wall,
//! an empty or script-drawn page, a listing none of whose items could be told apart) is still
//! scanned, since what can be seen on it — its title, its links, its embeds, a short text — may
//! already be enough for a rule: a page whose content is a link into the dump publishes the
//! dump. Its matches count like any other; but when nothing matches, the page was not checked,
//! which is never clean.

use super::{Condition, Matcher, RuleSet};
use crate::article::{Article, PageClass};
use crate::detect::{CompileError, Detector, Hit, MatcherKind, Origin};
use crate::model::{RuleId, Scope};
use std::collections::HashMap;

/// Rules compiled for a run: immutable, shared by every worker.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    detector: Detector,
}

/// One document of an item, as extracted: its page, or what its feed entry says.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a> {
    pub article: &'a Article,
    pub origin: Origin,
}

/// Whether the documents showed everything a rule could match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Checked,
    /// The page's content was not there to read: a match still counts, no match proves nothing.
    NotChecked {
        class: PageClass,
        reason: String,
    },
}

/// A rule whose condition holds, with the hits that are its evidence.
#[derive(Debug, Clone)]
pub struct RuleMatch {
    pub rule: RuleId,
    /// Hits of the matchers the condition counts for (not under a `not`), in the rule's scopes.
    pub evidence: Vec<Hit>,
}

/// What the rules make of an item's content, before its timing is considered.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub matches: Vec<RuleMatch>,
    pub gate: Gate,
}

impl Engine {
    pub fn compile(rules: RuleSet) -> Result<Engine, CompileError> {
        let detector = Detector::compile(&rules.materials)?;
        Ok(Engine { rules, detector })
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Scans the documents once and evaluates every rule's condition over their hits.
    pub fn evaluate(&self, texts: &[Text]) -> Evaluation {
        let hits: Vec<Hit> = texts.iter().flat_map(|t| self.detector.scan(t.article, t.origin)).collect();
        let gate = texts
            .iter()
            .find(|t| !t.article.readable())
            .map_or(Gate::Checked, |t| Gate::NotChecked {
                class: t.article.kind.class,
                reason: t.article.kind.reason.clone().unwrap_or_default(),
            });
        let matches = self
            .rules
            .rule_ids()
            .filter_map(|id| {
                let rule = &self.rules[id];
                rule.condition.eval(&hits, &rule.scopes).then(|| RuleMatch {
                    rule: id,
                    evidence: hits
                        .iter()
                        .filter(|h| rule.evidence.contains(&(h.kind, h.material)) && rule.scopes.contains(&h.scope))
                        .cloned()
                        .collect(),
                })
            })
            .collect();
        Evaluation { matches, gate }
    }
}

impl Condition {
    /// Whether the condition holds over `hits` restricted to `scopes`.
    fn eval(&self, hits: &[Hit], scopes: &[Scope]) -> bool {
        match self {
            Condition::Any(v) => v.iter().any(|c| c.eval(hits, scopes)),
            Condition::All(v) => v.iter().all(|c| c.eval(hits, scopes)),
            Condition::Not(c) => !c.eval(hits, scopes),
            Condition::AtLeast(n, v) => v.iter().filter(|c| c.eval(hits, scopes)).count() >= *n as usize,
            Condition::Match(m) if m.kind == MatcherKind::Fingerprint => reproduces_enough(m, hits, scopes),
            Condition::Match(m) => hits
                .iter()
                .any(|h| h.kind == m.kind && h.material == m.material && scopes.contains(&h.scope)),
        }
    }
}

/// Whether the in-scope fingerprint hits of `m`'s material reproduce at least `m.min_words`
/// words of one leaked document in one of the item's documents (its spans there summed, in
/// any order). The page and the feed are counted apart: a feed summary repeating the page's
/// passage is the same passage, not twice as much of it.
fn reproduces_enough(m: &Matcher, hits: &[Hit], scopes: &[Scope]) -> bool {
    let mut words: HashMap<(Origin, &str), u32> = HashMap::new();
    for h in hits
        .iter()
        .filter(|h| h.kind == m.kind && h.material == m.material && scopes.contains(&h.scope))
    {
        if let Some(r) = &h.reproduces {
            for d in &r.documents {
                *words.entry((h.origin, d.as_str())).or_default() += r.words;
            }
        }
    }
    words.values().any(|w| *w >= m.min_words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MaterialId;

    fn hit(kind: MatcherKind, scope: Scope) -> Hit {
        Hit {
            kind,
            material: MaterialId(0),
            origin: Origin::Page,
            scope,
            range: 0..1,
            needle: String::new(),
            url: None,
            reproduces: None,
        }
    }

    fn m(kind: MatcherKind) -> Condition {
        Condition::Match(Matcher {
            kind,
            material: MaterialId(0),
            min_words: 12,
        })
    }

    #[test]
    fn conditions() {
        let hits = vec![hit(MatcherKind::Hashtag, Scope::Body)];
        let all = [Scope::Title, Scope::Body];
        assert!(m(MatcherKind::Hashtag).eval(&hits, &all));
        assert!(!m(MatcherKind::Hashtag).eval(&hits, &[Scope::Quote]));
        let hashtag_without_link = Condition::All(vec![m(MatcherKind::Hashtag), Condition::Not(Box::new(m(MatcherKind::Link)))]);
        assert!(hashtag_without_link.eval(&hits, &all));
        assert!(!Condition::AtLeast(2, vec![m(MatcherKind::Hashtag), m(MatcherKind::Link)]).eval(&hits, &all));
        assert_eq!(hashtag_without_link.positive_matchers().len(), 1);
    }

    #[test]
    fn fingerprint_words_add_up_per_document_and_per_origin() {
        let span = |origin, doc: &str, words| Hit {
            origin,
            reproduces: Some(crate::detect::Reproduction {
                words,
                documents: vec![doc.into()],
            }),
            ..hit(MatcherKind::Fingerprint, Scope::Body)
        };
        let scopes = Scope::ALL;
        let fp = m(MatcherKind::Fingerprint);
        // Two spans of one leaked document on the page add up.
        assert!(fp.eval(&[span(Origin::Page, "a", 7), span(Origin::Page, "a", 5)], &scopes));
        // Spans of two documents do not.
        assert!(!fp.eval(&[span(Origin::Page, "a", 7), span(Origin::Page, "b", 5)], &scopes));
        // Nor does the same passage counted once on the page and once in the feed.
        assert!(!fp.eval(&[span(Origin::Page, "a", 7), span(Origin::Feed(0), "a", 7)], &scopes));
    }
}
