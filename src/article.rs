//! What a feed item or page becomes: one extracted text made of scoped blocks (title, body,
//! quote, pre), the outbound links, and every date found with its raw string and provenance.
//! Matches are reported as byte offsets into [`Article::text`], so a span can always be
//! shown back in context.

use crate::dates::{DateError, When};
use crate::model::Scope;
use chrono::{DateTime, Utc};
use std::ops::Range;
use url::Url;

#[derive(Debug, Clone, Default)]
pub struct Article {
    pub title: Option<String>,
    /// Blocks joined by blank lines.
    pub text: String,
    pub blocks: Vec<Block>,
    pub links: Vec<Link>,
    pub dates: Vec<FoundDate>,
    /// What kind of page the text came from (an article, or a listing judged on its teasers).
    pub kind: PageKind,
    /// On a listing page, the items it shows, each as its `teaser` blocks in [`Article::text`].
    pub teasers: Vec<Teaser>,
}

impl Article {
    /// Whether what the page published was there to read: an article's text, or a listing's
    /// teasers. A wall, an empty page, a listing none of whose items could be told apart was
    /// not, so a rule matching nothing on it proves nothing.
    pub fn readable(&self) -> bool {
        match self.kind.class {
            PageClass::Article => true,
            PageClass::Listing => !self.teasers.is_empty(),
            PageClass::Interstitial | PageClass::Empty => false,
        }
    }

    /// The teaser whose text holds byte `at` of [`Article::text`].
    pub fn teaser_at(&self, at: usize) -> Option<&Teaser> {
        self.teasers.iter().find(|t| t.range.contains(&at))
    }
}

/// One item a listing page shows: its headline and what is written beside it, as blocks of the
/// page's text; the page it links to; the date it shows, if it shows one (which then times what
/// it says, rather than the instant the listing was seen).
#[derive(Debug, Clone)]
pub struct Teaser {
    pub range: Range<usize>,
    pub url: Url,
    pub date: Option<FoundDate>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageClass {
    #[default]
    Article,
    /// A homepage, section front or index: teasers of other pages, checked on them.
    Listing,
    /// A consent banner or subscription wall standing in front of the article.
    Interstitial,
    /// No text, or text drawn by JavaScript.
    Empty,
}

/// A page's class, with the reason when it is not an article.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PageKind {
    pub class: PageClass,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl PageKind {
    pub fn article() -> PageKind {
        PageKind::default()
    }

    /// A page of another class than `article`, and why it is taken for one.
    pub fn other(class: PageClass, reason: String) -> PageKind {
        PageKind {
            class,
            reason: Some(reason),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub scope: Scope,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: Url,
    /// Scope of the text the link sits in (a link inside a blockquote is a quoted link).
    pub within: Scope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// Where a date was found. The names are the ones reports print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Provenance {
    #[serde(rename = "jsonld:datePublished")]
    JsonLdPublished,
    #[serde(rename = "jsonld:dateModified")]
    JsonLdModified,
    #[serde(rename = "meta:article:published_time")]
    MetaPublished,
    #[serde(rename = "meta:article:modified_time")]
    MetaModified,
    /// A meta tag under a name of the publisher's own coining that says it dates the
    /// publication (`published`, `w-published-date`): read by its words, so trusted as markup
    /// is, not as the names CMSs share.
    #[serde(rename = "meta:coined")]
    MetaCoined,
    #[serde(rename = "itemprop:datePublished")]
    ItempropPublished,
    #[serde(rename = "itemprop:dateModified")]
    ItempropModified,
    #[serde(rename = "html:time")]
    TimeElement,
    /// A microformat or a date-named element (`dt-published`, `class="date"`…) with a
    /// machine-readable `datetime`/`title`, or whose text is a date.
    #[serde(rename = "html:date-element")]
    DateElement,
    /// A date in the page's address (`/2017/05/06/`), from its canonical URL.
    #[serde(rename = "url:path")]
    UrlPath,
    /// A date written in the page's visible text near its headline (`le 6 mai 2017 à 18h32`).
    #[serde(rename = "text:visible")]
    VisibleText,
    /// A date a listing page shows in one of its teasers (`<time>`, or written out).
    #[serde(rename = "teaser:date")]
    TeaserDate,
    /// Seen by blackout itself: the listing page showed the teaser when it was fetched.
    #[serde(rename = "observed:shown")]
    ObservedShown,
    /// RSS 2.0 `pubDate` (feed-rs folds `dc:date` into the same field).
    #[serde(rename = "feed:pubDate")]
    FeedPubDate,
    /// RSS 1.0 `dc:date`.
    #[serde(rename = "feed:dc:date")]
    FeedDcDate,
    #[serde(rename = "feed:published")]
    FeedPublished,
    #[serde(rename = "feed:updated")]
    FeedUpdated,
    /// A news sitemap's `news:publication_date`.
    #[serde(rename = "sitemap:publication_date")]
    SitemapPublished,
    /// A sitemap's `lastmod`.
    #[serde(rename = "sitemap:lastmod")]
    SitemapLastmod,
    /// Seen by blackout itself: the item was first listed by this instant, and absent from
    /// the last whole read of its listing before it (when there was one).
    #[serde(rename = "observed:first_seen")]
    ObservedFirstSeen,
    /// Seen by blackout itself: the item's content differs from its last capture.
    #[serde(rename = "observed:changed")]
    ObservedChanged,
}

impl Provenance {
    pub fn role(self) -> Role {
        match self {
            Provenance::JsonLdModified
            | Provenance::MetaModified
            | Provenance::ItempropModified
            | Provenance::FeedUpdated
            | Provenance::SitemapLastmod => Role::Modified,
            Provenance::ObservedFirstSeen | Provenance::ObservedChanged => Role::Observed,
            _ => Role::Published,
        }
    }

    /// Rank in the documented precedence (lower wins): structured page data first, then page
    /// meta tags, then microdata, `<time>` and date elements, then the feed, then the
    /// address, then the visible text.
    pub fn rank(self) -> u8 {
        match self {
            Provenance::JsonLdPublished | Provenance::JsonLdModified => 0,
            Provenance::MetaPublished | Provenance::MetaModified => 1,
            Provenance::ItempropPublished | Provenance::ItempropModified => 2,
            Provenance::MetaCoined | Provenance::TimeElement | Provenance::DateElement | Provenance::TeaserDate => 3,
            Provenance::FeedPublished
            | Provenance::FeedPubDate
            | Provenance::FeedDcDate
            | Provenance::FeedUpdated
            | Provenance::SitemapPublished
            | Provenance::SitemapLastmod => 4,
            Provenance::UrlPath => 5,
            Provenance::VisibleText => 6,
            Provenance::ObservedFirstSeen | Provenance::ObservedChanged | Provenance::ObservedShown => 7,
        }
    }

    pub fn from_feed(self) -> bool {
        self.rank() == 4
    }

    /// How far a date from this signal can be trusted: structured data the publisher's CMS
    /// writes (JSON-LD, meta tags, microdata, the feed) is `high`; markup meant for display
    /// and the address are `medium`; a date read from prose is `low`.
    pub fn confidence(self) -> Confidence {
        match self {
            Provenance::MetaCoined | Provenance::TimeElement | Provenance::DateElement | Provenance::UrlPath | Provenance::TeaserDate => {
                Confidence::Medium
            }
            Provenance::VisibleText => Confidence::Low,
            _ => Confidence::High,
        }
    }

    pub fn name(self) -> String {
        crate::model::wire_name(&self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Published,
    Modified,
    /// What blackout saw itself, not what the publisher says: never chosen as the
    /// publisher's date, weighed beside it (see [`crate::timing::ItemDates::observe`]).
    Observed,
}

#[derive(Debug, Clone)]
pub struct FoundDate {
    pub raw: String,
    pub provenance: Provenance,
    pub parsed: Result<When, DateError>,
}

/// A found date as reports show it: where from, as written, and the instant or the error.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DateReport {
    pub provenance: Provenance,
    pub raw: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instant: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<&FoundDate> for DateReport {
    fn from(d: &FoundDate) -> DateReport {
        DateReport {
            provenance: d.provenance,
            raw: d.raw.clone(),
            instant: d.parsed.as_ref().ok().map(|w| w.instant()),
            error: d.parsed.as_ref().err().map(|e| e.to_string()),
        }
    }
}

/// Accumulates scoped blocks into one text.
#[derive(Debug, Default)]
pub struct TextBuilder {
    text: String,
    blocks: Vec<Block>,
}

impl TextBuilder {
    /// Continues an existing text, whose blocks are already collapsed.
    pub fn continuing(text: String, blocks: Vec<Block>) -> TextBuilder {
        TextBuilder { text, blocks }
    }

    /// Appends a block; whitespace is collapsed except in `pre`. Empty blocks are skipped.
    /// Returns where the block is in the text, if it was appended.
    pub fn push(&mut self, scope: Scope, raw: &str) -> Option<Range<usize>> {
        let content = if scope == Scope::Pre {
            raw.trim_matches('\n').trim_end().to_string()
        } else {
            collapse_whitespace(raw)
        };
        if content.is_empty() {
            return None;
        }
        if !self.text.is_empty() {
            self.text.push_str("\n\n");
        }
        let start = self.text.len();
        self.text.push_str(&content);
        let range = start..self.text.len();
        self.blocks.push(Block {
            scope,
            range: range.clone(),
        });
        Some(range)
    }

    pub fn finish(self) -> (String, Vec<Block>) {
        (self.text, self.blocks)
    }
}

pub fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `width` characters of context around `range`, on one line, with ellipses where cut and
/// the matched part in brackets.
pub fn excerpt(text: &str, range: std::ops::Range<usize>, width: usize) -> String {
    Quote::around(text, range, width).to_string()
}

/// A matched passage and the text around it, as a report shows it: kept in parts, so that a
/// renderer can highlight the passage and redaction can cut it (`hidden_words`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quote {
    /// The context before, led by `…` where cut.
    pub before: String,
    pub passage: String,
    /// The context after, ended by `…` where cut.
    pub after: String,
    /// Words of the passage left out (redaction); when some are, the context is too.
    pub hidden_words: usize,
}

impl Quote {
    /// `width` characters of context on each side of `range`, whitespace squeezed.
    pub fn around(text: &str, range: std::ops::Range<usize>, width: usize) -> Quote {
        let before: String = text[..range.start]
            .chars()
            .rev()
            .take(width)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let after: String = text[range.end..].chars().take(width).collect();
        let lead = if before.len() < range.start { "…" } else { "" };
        let tail = if after.len() < text.len() - range.end { "…" } else { "" };
        Quote {
            before: squeeze(&format!("{lead}{before}")),
            passage: squeeze(&text[range]),
            after: squeeze(&format!("{after}{tail}")),
            hidden_words: 0,
        }
    }

    /// The passage cut to its first `keep` words, without context: the words beyond are
    /// counted, not shown. A passage of at most `keep` words is left whole (its context goes
    /// all the same: the text next to a quoted passage is often more of the same quote).
    pub fn redact(&mut self, keep: usize) {
        self.before.clear();
        self.after.clear();
        let (shown, hidden) = first_words(&self.passage, keep);
        self.passage = shown;
        self.hidden_words += hidden;
    }
}

/// The brackets mark the passage; a redacted one reads `first words [… N more words]`.
impl std::fmt::Display for Quote {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let shown = format!("{}{}", self.passage, hidden_note(self.hidden_words, self.passage.is_empty()));
        let text = match (self.before.is_empty() && self.after.is_empty(), self.hidden_words) {
            (true, 1..) => shown,
            _ => format!("{}[{shown}]{}", self.before, self.after),
        };
        f.write_str(&collapse_whitespace(&text))
    }
}

/// The first `keep` words of a text (separated by whitespace) and how many more it has; the
/// text as it is when it has no more.
pub fn first_words(text: &str, keep: usize) -> (String, usize) {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.len().checked_sub(keep) {
        None | Some(0) => (text.to_string(), 0),
        Some(hidden) => (words[..keep].join(" "), hidden),
    }
}

/// What redaction says of the words it leaves out: ` [… 13 more words]` after the words shown,
/// `[… 1 word]` when none is; nothing when none is left out.
pub fn hidden_note(hidden: usize, nothing_shown: bool) -> String {
    let s = if hidden == 1 { "" } else { "s" };
    match (hidden, nothing_shown) {
        (0, _) => String::new(),
        (n, true) => format!("[… {n} word{s}]"),
        (n, false) => format!(" [… {n} more word{s}]"),
    }
}

/// Runs of whitespace as one space, the ends kept (a context's edge space stays).
fn squeeze(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    if space {
        out.push(' ');
    }
    out
}

/// Query parameters that only track readers; removing them makes two links to one article equal.
const TRACKING: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "xtor",
    "xtref",
    "ocid",
    "cmpid",
    "ito",
    "ns_campaign",
    "ns_mchannel",
    "ns_source",
    "ns_linkname",
    "ns_fee",
    "_ga",
    "yclid",
    "twclid",
];

/// Drops the fragment and tracking parameters (`utm_*`, `at_*`, `fbclid`, `xtor`…).
pub fn normalize_url(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !(k.starts_with("utm_") || k.starts_with("at_") || TRACKING.contains(&k.as_str()))
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_normalisation() {
        let u = Url::parse("https://www.Example.fr/a?id=3&utm_source=tw&xtor=RSS-1&at_medium=x#comments").unwrap();
        assert_eq!(normalize_url(&u).as_str(), "https://www.example.fr/a?id=3");
        let u = Url::parse("https://example.fr/a?utm_campaign=x").unwrap();
        assert_eq!(normalize_url(&u).as_str(), "https://example.fr/a");
    }

    #[test]
    fn excerpts_mark_the_match() {
        assert_eq!(excerpt("un deux trois quatre", 3..7, 3), "un [deux] tr…");
        assert_eq!(excerpt("zéro un deux trois", 9..13, 3), "…un [deux] tr…");
        assert_eq!(excerpt("deux", 0..4, 3), "[deux]");
    }

    #[test]
    fn redacted_quotes_show_the_first_words_and_count_the_rest() {
        let text = "Il écrit : « le virement doit rester confidentiel jusqu'au 8 mai » hier.";
        let start = text.find("le virement").unwrap();
        let end = text.find(" »").unwrap();
        let mut q = Quote::around(text, start..end, 20);
        assert_eq!(
            q.to_string(),
            "Il écrit : « [le virement doit rester confidentiel jusqu'au 8 mai] » hier."
        );
        q.redact(3);
        assert_eq!(q.to_string(), "le virement doit [… 5 more words]");
        assert_eq!(q.hidden_words, 5);
        let mut q = Quote::around(text, start..end, 20);
        q.redact(0);
        assert_eq!(q.to_string(), "[… 8 words]");
        let mut short = Quote::around(text, start..start + 11, 20);
        short.redact(6);
        assert_eq!(short.to_string(), "[le virement]", "a short passage is whole, its context gone");
    }

    #[test]
    fn blocks_keep_offsets() {
        let mut b = TextBuilder::default();
        b.push(Scope::Title, "  Un  titre ");
        b.push(Scope::Body, "");
        b.push(Scope::Pre, "  a\n  b\n");
        let (text, blocks) = b.finish();
        assert_eq!(text, "Un titre\n\n  a\n  b");
        assert_eq!(&text[blocks[1].range.clone()], "  a\n  b");
    }
}
