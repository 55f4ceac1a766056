//! Redaction: a report must not spread the leak it reports. Every passage matched against
//! embargoed material is cut to its first few words (the material's `redact_words`, 6 by
//! default) followed by `[… N more words]`, without the text around it; links into the dump
//! keep their host and the rule's prefix only. Offsets, word counts and leaked document ids
//! stay, so the passage can be found again in the page; `--show-excerpts` shows it whole.
//!
//! Applied once to the [`Report`] before any renderer or delivery sees it, so no format can
//! forget it. Beside the spans, the texts that may carry the passage are cut as well: a title
//! matched as such, and the feed summaries of items that matched at all (kept in `items`).

use super::Report;
use crate::detect::{LinkPrefix, MatcherKind};
use crate::judge::SpanReport;
use crate::model::Scope;
use crate::rules::RuleSet;
use std::collections::{HashMap, HashSet};

/// How many words of a passage each material lets a report show.
#[derive(Debug, Clone)]
pub struct Redaction {
    words: HashMap<String, usize>,
    /// The fewest any material allows: for texts not tied to one material (a summary).
    fewest: usize,
}

impl Redaction {
    pub fn of(rules: &RuleSet) -> Redaction {
        let words: HashMap<String, usize> = rules.materials.iter().map(|m| (m.id.clone(), m.redact_words)).collect();
        let fewest = words.values().copied().min().unwrap_or(crate::detect::REDACT_WORDS);
        Redaction { words, fewest }
    }

    fn keep(&self, material: &str) -> usize {
        self.words.get(material).copied().unwrap_or(self.fewest)
    }

    /// Cuts every matched passage of the report, and the texts that may repeat it.
    pub fn apply(&self, report: &mut Report) {
        report.excerpts = super::Excerpts::Redacted;
        let mut matched: HashSet<(String, String)> = HashSet::new();
        for f in &mut report.findings {
            matched.insert((f.source.clone(), f.url.clone()));
            for sp in &mut f.spans {
                self.span(sp);
            }
            let title_matched = f.spans.iter().any(|sp| sp.scope == Scope::Title);
            if title_matched && let Some(title) = &mut f.title {
                let keep = f.spans.iter().map(|sp| self.keep(&sp.material)).min().unwrap_or(self.fewest);
                *title = cut(title, keep);
            }
        }
        for c in &report.cleared {
            matched.insert((c.source.clone(), c.url.clone()));
        }
        let titles: HashMap<(String, String), Option<String>> = report
            .findings
            .iter()
            .filter(|f| f.spans.iter().any(|sp| sp.scope == Scope::Title))
            .map(|f| ((f.source.clone(), f.url.clone()), f.title.clone()))
            .collect();
        for item in &mut report.items {
            let key = (item.source.clone(), item.url.clone());
            if !matched.contains(&key) {
                continue;
            }
            if let Some(summary) = &mut item.summary {
                *summary = cut(summary, self.fewest);
            }
            if let Some(title) = titles.get(&key) {
                item.title.clone_from(title);
            }
        }
        for c in &mut report.cleared {
            if let Some(title) = titles.get(&(c.source.clone(), c.url.clone())) {
                c.title.clone_from(title);
            }
        }
    }

    fn span(&self, sp: &mut SpanReport) {
        let keep = self.keep(&sp.material);
        if sp.matcher == MatcherKind::Phrase {
            sp.needle = cut(&sp.needle, keep);
        }
        if let Some(url) = &mut sp.url {
            *url = cut_link(url, &sp.needle);
            sp.excerpt.clone_from(url);
            sp.quote.passage.clone_from(url);
            return;
        }
        sp.quote.redact(keep);
        sp.excerpt = sp.quote.to_string();
        if sp.quote.hidden_words > 0 {
            sp.hidden_words = Some(sp.quote.hidden_words);
        }
    }
}

/// The first `keep` words of a text, and how many more there were.
fn cut(text: &str, keep: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.len().checked_sub(keep) {
        None | Some(0) => text.to_string(),
        Some(hidden) if keep == 0 => format!("[… {}]", crate::article::words(hidden, "")),
        Some(hidden) => format!("{} [… {}]", words[..keep].join(" "), crate::article::words(hidden, "more ")),
    }
}

/// A link into the dump, cut after the rule's prefix (`https://archive.org/details/EMLEAKS/…`),
/// or after its host when the prefix is a bare host: which document of the dump it opens is
/// what a reader should not be handed.
fn cut_link(link: &str, prefix: &str) -> String {
    let Ok(url) = url::Url::parse(link) else {
        return "[link]".into();
    };
    let host = url.host_str().unwrap_or_default();
    let path = LinkPrefix::parse(prefix)
        .filter(|p| p.matches(&url))
        .map(|p| p.path)
        .unwrap_or_default();
    let path = path.trim_end_matches('/');
    format!("{}://{host}{path}/…", url.scheme())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_after_their_first_words() {
        assert_eq!(cut("un deux trois", 6), "un deux trois");
        assert_eq!(cut("un deux trois quatre", 2), "un deux [… 2 more words]");
        assert_eq!(cut("un deux", 0), "[… 2 words]");
    }

    #[test]
    fn links_into_the_dump_keep_the_host_and_the_prefix() {
        assert_eq!(
            cut_link(
                "https://archive.org/details/EMLEAKS/lot-2017-05-05.zip",
                "archive.org/details/EMLEAKS/"
            ),
            "https://archive.org/details/EMLEAKS/…"
        );
        assert_eq!(
            cut_link("https://www.leakdump.example.net/ardoise/secret.eml", "leakdump.example.net"),
            "https://www.leakdump.example.net/…"
        );
        assert_eq!(cut_link("not a url", "x.org"), "[link]");
    }
}
