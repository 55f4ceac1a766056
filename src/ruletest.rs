//! Running the `[[rule.test]]` cases written beside each rule: only the content is tested
//! (timing needs a feed and a clock), through the same [`Engine::evaluate`] as a check, page
//! classes included, so a test cannot pass where a check would not flag. `html` tests go
//! through page extraction, so a test can check that a passage in an `<aside>` is ignored or a
//! quote is seen as a quote.

use crate::article::{Article, TextBuilder};
use crate::detect::Origin;
use crate::extract;
use crate::model::Scope;
use crate::rules::{Engine, Expectation, TestInput, Text};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub tp: usize,
    pub tn: usize,
    pub fp: usize,
    pub fn_: usize,
    pub todo: usize,
}

#[derive(Debug)]
pub struct RuleOutcome {
    pub rule: String,
    pub tally: Tally,
    /// `file:line` and what went wrong, for each failed test.
    pub failures: Vec<String>,
}

pub fn run(engine: &Engine) -> Vec<RuleOutcome> {
    let base = url::Url::parse("file:///rule-test.html").expect("static URL");
    let mut out = Vec::new();
    for id in engine.rules().rule_ids() {
        let rule = &engine.rules()[id];
        let mut o = RuleOutcome {
            rule: rule.id.clone(),
            tally: Tally::default(),
            failures: vec![],
        };
        for t in &rule.tests {
            let article = match &t.input {
                TestInput::Text(text) => {
                    let mut b = TextBuilder::default();
                    b.push(Scope::Body, text);
                    let (text, blocks) = b.finish();
                    Article {
                        text,
                        blocks,
                        ..Article::default()
                    }
                }
                TestInput::Html(html) => match extract::extract(html, &base, None) {
                    Ok(x) => x.article,
                    Err(e) => {
                        o.failures.push(format!("{}: cannot extract the test's html: {e}", t.location));
                        continue;
                    }
                },
            };
            let text = Text {
                article: &article,
                origin: Origin::Page,
            };
            let matched = engine.evaluate(&[text]).matches.iter().any(|m| m.rule == id);
            match (t.expect, matched) {
                (Expectation::Todo, _) => o.tally.todo += 1,
                (Expectation::Match, true) => o.tally.tp += 1,
                (Expectation::NoMatch, false) => o.tally.tn += 1,
                (Expectation::NoMatch, true) => {
                    o.tally.fp += 1;
                    o.failures.push(format!("{}: expected no match, but the rule matched", t.location));
                }
                (Expectation::Match, false) => {
                    o.tally.fn_ += 1;
                    o.failures
                        .push(format!("{}: expected a match, but the rule did not match", t.location));
                }
            }
        }
        out.push(o);
    }
    out
}
