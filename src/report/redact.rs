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
use crate::article::{first_words, hidden_note};
use crate::detect::{LinkPrefix, MatcherKind};
use crate::judge::{Matched, SpanReport};
use crate::rules::RuleSet;
use std::collections::HashMap;

/// How many words of a passage each material lets a report show.
#[derive(Debug, Clone)]
pub struct Redaction {
    words: HashMap<String, usize>,
}

impl Redaction {
    pub fn of(rules: &RuleSet) -> Redaction {
        Redaction {
            words: rules.materials.iter().map(|m| (m.id.clone(), m.redact_words)).collect(),
        }
    }

    fn keep(&self, material: &str) -> usize {
        self.words.get(material).copied().unwrap_or(crate::detect::REDACT_WORDS)
    }

    /// Cuts every matched passage of the report, and the texts that may repeat it: the title
    /// of an item whose title matched and the feed summary of an item that matched at all,
    /// wherever they appear (findings, cleared matches, unchecked pages, items). What an item
    /// matched is recorded on the item itself, so this holds for items whose findings are not
    /// listed (open ones under `--new-only`, dismissed ones) and for matches whose timing
    /// does not count.
    pub fn apply(&self, report: &mut Report) {
        report.excerpts = super::Excerpts::Redacted;
        let marks: HashMap<(String, String), Matched> = report
            .items
            .iter()
            .filter_map(|i| i.matched.map(|m| ((i.source.clone(), i.url.clone()), m)))
            .collect();
        let title = |source: &str, url: &str, title: &mut Option<String>| {
            if let (Some(m), Some(t)) = (marks.get(&(source.to_string(), url.to_string())), title.as_mut())
                && m.title
            {
                *t = cut(t, m.keep);
            }
        };
        for f in &mut report.findings {
            for sp in &mut f.spans {
                self.span(sp);
            }
            title(&f.source, &f.url, &mut f.title);
        }
        for c in &mut report.cleared {
            title(&c.source, &c.url, &mut c.title);
        }
        for n in &mut report.not_checked {
            title(&n.source, &n.url, &mut n.title);
        }
        for item in &mut report.items {
            title(&item.source, &item.url, &mut item.title);
            if let (Some(m), Some(summary)) = (item.matched, item.summary.as_mut()) {
                *summary = cut(summary, m.keep);
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
    let (shown, hidden) = first_words(text, keep);
    format!("{shown}{}", hidden_note(hidden, keep == 0))
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
