//! Feeds to items with feed-rs, recovering from the breakage real feeds have.
//!
//! * Dates go through our own parser ([`crate::dates`]). feed-rs only lets a hook return an
//!   instant, not the raw string, so the hook records each string and returns its index as a
//!   sentinel instant; the entry's `published`/`updated` fields then say which string was which.
//! * Flaws that cost the strict parser the whole document are repaired first, and recorded
//!   (`repair`): forbidden control characters, stray XML declarations, Atom 0.3, Atom text
//!   types it refuses; `<rss>` without a usable `version` is read as RSS 2.0.
//! * When the strict parser still refuses the document, or finds fewer entries than the markup
//!   holds, the feed is read entry by entry (`tolerant`): a truncated feed keeps the entries
//!   before the cut, and an entry that cannot be read costs only itself.
//! * An empty body and an HTML page are told apart from a broken feed, with what to do.

mod repair;
pub mod sitemap;
mod tolerant;

use crate::article::{FoundDate, Provenance, collapse_whitespace, normalize_url};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use feed_rs::model::{FeedType, Text};
use feed_rs::parser::{ParseErrorKind, ParseFeedError};
use std::sync::{Arc, LazyLock, Mutex};
use url::Url;

/// One entry of a feed.
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub link: Option<Url>,
    /// The feed's own id of the entry (RSS `guid`, Atom `id`), as written; recorded, never
    /// trusted as the item's identity (see [`crate::identity`]).
    pub guid: Option<String>,
    pub title: Option<String>,
    /// Summary or description, as text.
    pub summary: Option<String>,
    /// Full content (`content:encoded`, Atom `content`), as text.
    pub content: Option<String>,
    /// The links and embeds of the summary and content (a feed-only item's link into a dump is
    /// published too), resolved against the feed's address.
    pub links: Vec<Url>,
    pub dates: Vec<FoundDate>,
}

/// A parsed feed and what was noted while reading it.
#[derive(Debug)]
pub struct ParsedFeed {
    pub items: Vec<FeedItem>,
    pub notes: Vec<Note>,
}

/// Something the reader had to do to read a feed; none of it loses the feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Note {
    #[error("repaired: {0}")]
    Repaired(String),
    /// Why the feed was read entry by entry (the strict parser refused it, or missed entries).
    #[error("{0}; read entry by entry")]
    EntryByEntry(String),
    #[error("the feed is cut short (the connection or the file ended inside it); {0} entr(ies) before the cut were read")]
    Truncated(usize),
    #[error("entry {index} could not be read and was skipped: {error}")]
    EntryUnreadable { index: usize, error: String },
}

/// Why a document could not be read as a feed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error("empty body: nothing to read; check that the address is the feed's")]
    Empty,
    #[error("an HTML page, not a feed: use `home =` to discover the feeds it advertises, or `pages =` to read it as a page")]
    Html,
    #[error("not a readable feed: {0}")]
    Unreadable(String),
}

/// Parses a feed's text (already decoded). `base` resolves relative links; `tz` is the
/// source's zone for zone-less dates.
pub fn parse(text: &str, base: &Url, tz: Option<Tz>) -> Result<ParsedFeed, FeedError> {
    let start = text.trim_start_matches(|c: char| c == '\u{feff}' || c.is_whitespace());
    if start.is_empty() {
        return Err(FeedError::Empty);
    }
    if looks_like_html(start) {
        return Err(FeedError::Html);
    }
    let repaired = repair::repair(text);
    let mut notes: Vec<Note> = repaired.repairs.into_iter().map(Note::Repaired).collect();
    let text = repaired.text;
    let in_markup = tolerant::count(&text);
    let strict = match parse_with_raw_dates(text.as_bytes(), base) {
        Err(ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot)) if repair::RSS_START.is_match(&text) => {
            notes.push(Note::Repaired("`<rss>` had no usable `version`; read as RSS 2.0".into()));
            parse_with_raw_dates(repair::as_rss2(&text).as_bytes(), base)
        }
        other => other,
    };
    let entries = match strict {
        Ok((feed, raws)) if feed.entries.len() >= in_markup => items(&feed, &raws, base, tz),
        strict => {
            let why = match &strict {
                Ok((feed, _)) => format!("the strict parser read {} of the feed's {in_markup} entries", feed.entries.len()),
                Err(e) => format!("the strict parser refused the feed ({e})"),
            };
            let (recovered, mut more) = entry_by_entry(&text, base, tz);
            match strict {
                Ok((feed, raws)) if feed.entries.len() >= recovered.len() => items(&feed, &raws, base, tz),
                Err(e) if recovered.is_empty() => return Err(FeedError::Unreadable(e.to_string())),
                _ => {
                    notes.push(Note::EntryByEntry(why));
                    notes.append(&mut more);
                    recovered
                }
            }
        }
    };
    Ok(ParsedFeed { items: entries, notes })
}

/// Whether a document is a web page rather than a feed: its first tag (after comments and a
/// doctype) is `<html>`, or it declares an HTML doctype.
fn looks_like_html(start: &str) -> bool {
    let head: String = start.chars().take(1024).collect::<String>().to_ascii_lowercase();
    head.starts_with("<!doctype html") || tolerant::root_name(&head).is_some_and(|n| n == "html")
}

/// Every entry parsed alone (see `tolerant`), with a note for each cut or unreadable one.
fn entry_by_entry(text: &str, base: &Url, tz: Option<Tz>) -> (Vec<FeedItem>, Vec<Note>) {
    let split = tolerant::split(text, tolerant::FEED_ENTRIES);
    let mut items = Vec::new();
    let mut notes = Vec::new();
    for (index, entry) in split.entries.iter().enumerate() {
        let document = tolerant::wrap(split.root.as_ref(), entry);
        match parse_with_raw_dates(document.as_bytes(), base) {
            Ok((feed, raws)) => items.extend(self::items(&feed, &raws, base, tz)),
            Err(e) => notes.push(Note::EntryUnreadable {
                index: index + 1,
                error: e.to_string(),
            }),
        }
    }
    if split.entries.last().is_some_and(|e| e.cut) || split.cut {
        notes.push(Note::Truncated(items.len()));
    }
    (items, notes)
}

fn items(feed: &feed_rs::model::Feed, raws: &Raws, base: &Url, tz: Option<Tz>) -> Vec<FeedItem> {
    feed.entries
        .iter()
        .map(|e| item(e, feed.feed_type.clone(), raws, base, tz))
        .collect()
}

type Raws = Vec<String>;

fn parse_with_raw_dates(bytes: &[u8], base: &Url) -> Result<(feed_rs::model::Feed, Raws), ParseFeedError> {
    let raws: Arc<Mutex<Raws>> = Arc::default();
    let sink = Arc::clone(&raws);
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        // No made-up ids: an entry without one has none (`FeedItem::guid`).
        .id_generator(|_, _, _| String::new())
        .timestamp_parser(move |s: &str| {
            let mut list = sink.lock().unwrap_or_else(|e| e.into_inner());
            list.push(s.to_string());
            DateTime::from_timestamp(list.len() as i64 - 1, 0)
        })
        .build();
    // A panic inside the XML parser on hostile input must cost this feed, not the run.
    let feed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(bytes))).map_err(|_| {
        ParseFeedError::ParseError(ParseErrorKind::IllegalState {
            position: 0,
            reference: "the XML parser crashed on this input".into(),
        })
    })??;
    let raws = std::mem::take(&mut *raws.lock().unwrap_or_else(|e| e.into_inner()));
    Ok((feed, raws))
}

fn item(e: &feed_rs::model::Entry, kind: FeedType, raws: &Raws, base: &Url, tz: Option<Tz>) -> FeedItem {
    let raw_of = |t: &Option<DateTime<Utc>>| t.and_then(|t| raws.get(usize::try_from(t.timestamp()).ok()?).cloned());
    let published_as = match kind {
        FeedType::RSS2 | FeedType::RSS0 => Provenance::FeedPubDate,
        FeedType::RSS1 => Provenance::FeedDcDate,
        FeedType::Atom | FeedType::JSON => Provenance::FeedPublished,
    };
    let mut dates = Vec::new();
    // feed-rs fills `updated` from `pubDate` when an RSS item has no update date of its own.
    let updated = if e.updated == e.published { None } else { raw_of(&e.updated) };
    for (raw, provenance) in [(raw_of(&e.published), published_as), (updated, Provenance::FeedUpdated)] {
        if let Some(raw) = raw {
            let parsed = crate::dates::parse(&raw, tz);
            dates.push(FoundDate { raw, provenance, parsed });
        }
    }
    let link = e
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or_else(|| e.links.first())
        .and_then(|l| base.join(l.href.trim()).ok())
        .or_else(|| Url::parse(&e.id).ok().filter(|u| matches!(u.scheme(), "http" | "https")))
        .map(|u| normalize_url(&u));
    let mut links = Vec::new();
    let summary = e.summary.as_ref().map(|t| text_of(t, base, &mut links));
    let content = e
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(|c| fragment(c, base, &mut links));
    FeedItem {
        link,
        guid: Some(e.id.trim())
            .filter(|id| !id.is_empty())
            .map(|id| id.chars().take(1000).collect()),
        title: e
            .title
            .as_ref()
            .map(|t| text_of(t, base, &mut Vec::new()))
            .filter(|t| !t.is_empty()),
        summary: summary.filter(|t| !t.is_empty()),
        content: content.filter(|t| !t.is_empty()),
        links,
        dates,
    }
}

fn text_of(t: &Text, base: &Url, links: &mut Vec<Url>) -> String {
    if t.content_type.to_string().contains("html") || t.content.contains('<') || t.content.contains('&') {
        fragment(&t.content, base, links)
    } else {
        collapse_whitespace(&t.content)
    }
}

/// The text of an HTML fragment (feed summaries are HTML more often than not), and its links
/// and embeds (`href`, `src`) added to `links`, resolved against `base`, http(s) only.
fn fragment(html: &str, base: &Url, links: &mut Vec<Url>) -> String {
    static LINKED: LazyLock<scraper::Selector> =
        LazyLock::new(|| scraper::Selector::parse("a[href], iframe[src], embed[src], img[src], source[src]").expect("static selector"));
    let fragment = scraper::Html::parse_fragment(html);
    for e in fragment.select(&LINKED) {
        let target = e.value().attr("href").or_else(|| e.value().attr("src")).unwrap_or_default();
        if let Ok(url) = base.join(target.trim())
            && matches!(url.scheme(), "http" | "https")
            && !links.contains(&url)
        {
            links.push(url);
        }
    }
    collapse_whitespace(&fragment.root_element().text().collect::<Vec<_>>().join(" "))
}

/// The feeds a page advertises (`<link rel="alternate">` of an RSS, Atom, RDF or JSON Feed
/// type), resolved against the page's URL (or its `<base href>`), http(s) and file URLs only,
/// each once, in page order.
pub fn advertised(html: &str, page: &Url) -> Vec<Url> {
    static LINKS: LazyLock<scraper::Selector> =
        LazyLock::new(|| scraper::Selector::parse("link[rel][href], base[href]").expect("static selector"));
    const TYPES: &[&str] = &[
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
    ];
    let doc = scraper::Html::parse_document(html);
    let mut base = page.clone();
    let mut out: Vec<Url> = Vec::new();
    for e in doc.select(&LINKS) {
        let e = e.value();
        let href = e.attr("href").unwrap_or_default().trim();
        if e.name() == "base" {
            if let Ok(b) = page.join(href) {
                base = b;
            }
            continue;
        }
        let alternate = e
            .attr("rel")
            .is_some_and(|r| r.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case("alternate")));
        let feed_type = e
            .attr("type")
            .is_some_and(|t| TYPES.contains(&t.trim().to_ascii_lowercase().split(';').next().unwrap_or_default()));
        if !alternate || !feed_type {
            continue;
        }
        if let Ok(url) = base.join(href)
            && matches!(url.scheme(), "http" | "https" | "file")
            && !out.contains(&url)
        {
            out.push(url);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advertised_feeds_are_found_and_resolved() {
        let html = r#"<html><head>
            <link rel="stylesheet" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="Politique" href="/rss/politique.xml">
            <link rel="Alternate" type="application/atom+xml" href="https://cdn.example.fr/atom.xml">
            <link rel="alternate" type="text/html" hreflang="en" href="/en/">
            <link rel="alternate" type="application/rss+xml" href="/rss/politique.xml">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            </head><body></body></html>"#;
        let page = Url::parse("https://www.example.fr/").unwrap();
        let found: Vec<String> = advertised(html, &page).iter().map(Url::to_string).collect();
        assert_eq!(
            found,
            vec!["https://www.example.fr/rss/politique.xml", "https://cdn.example.fr/atom.xml"]
        );
    }

    fn run(bytes: &[u8]) -> ParsedFeed {
        let decoded = crate::charset::decode(bytes, None, None, None);
        parse(
            &decoded.text,
            &Url::parse("file:///feeds/x.xml").unwrap(),
            Some(chrono_tz::Europe::Paris),
        )
        .unwrap()
    }

    fn repairs(f: &ParsedFeed) -> Vec<&Note> {
        f.notes.iter().filter(|n| matches!(n, Note::Repaired(_))).collect()
    }

    #[test]
    fn keeps_raw_dates_with_provenance_and_resolves_links() {
        let f = run(br#"<rss version="2.0"><channel><title>t</title><item><title>A &amp; B</title><link>../articles/a.html#top</link><pubDate>Sat, 06 May 2017 23:10:00 CEST</pubDate><description>&lt;p&gt;Le &lt;b&gt;texte&lt;/b&gt;&lt;/p&gt;</description></item></channel></rss>"#);
        let item = &f.items[0];
        assert_eq!(item.title.as_deref(), Some("A & B"));
        assert_eq!(item.summary.as_deref(), Some("Le texte"));
        assert_eq!(item.link.as_ref().unwrap().as_str(), "file:///articles/a.html");
        assert_eq!(item.dates[0].raw, "Sat, 06 May 2017 23:10:00 CEST");
        assert_eq!(item.dates[0].provenance, Provenance::FeedPubDate);
        assert_eq!(
            item.dates[0].parsed.as_ref().unwrap().instant().to_rfc3339(),
            "2017-05-06T21:10:00+00:00"
        );
    }

    #[test]
    fn atom_published_and_updated() {
        let f = run(br#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id><updated>2017-05-06T10:00:00Z</updated><entry><title>e</title><id>https://e.fr/1</id><published>2017-05-05T10:00:00+02:00</published><updated>2017-05-06T10:00:00Z</updated></entry></feed>"#);
        let provs: Vec<_> = f.items[0].dates.iter().map(|d| d.provenance).collect();
        assert_eq!(provs, vec![Provenance::FeedPublished, Provenance::FeedUpdated]);
        assert_eq!(f.items[0].link.as_ref().unwrap().as_str(), "https://e.fr/1");
    }

    #[test]
    fn rss_091_and_rss_10() {
        let f = run(br#"<rss version="0.91"><channel><title>t</title><item><title>Ancien</title><link>https://e.fr/1</link><description>d</description></item></channel></rss>"#);
        assert_eq!(f.items[0].title.as_deref(), Some("Ancien"));
        let f = run(br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="https://e.fr/"><title>t</title><link>https://e.fr/</link><description>d</description></channel><item rdf:about="https://e.fr/2"><title>Un</title><link>https://e.fr/2</link><dc:date>2017-05-06</dc:date></item></rdf:RDF>"#);
        let d = &f.items[0].dates[0];
        assert_eq!((d.provenance, d.raw.as_str()), (Provenance::FeedDcDate, "2017-05-06"));
        // A day-only date in the source's zone is the whole Paris day.
        let w = d.parsed.as_ref().unwrap();
        assert_eq!(
            (w.earliest.to_rfc3339(), w.latest.to_rfc3339()),
            ("2017-05-05T22:00:00+00:00".into(), "2017-05-06T22:00:00+00:00".into())
        );
    }

    #[test]
    fn a_second_xml_declaration_is_removed() {
        // Found by fuzzing: quick-xml panics on a declaration after the start.
        let f = run(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?><rss version=\"2.0\"><channel><title>t</title><item><title>a<?xml version=\"1.0\" encoding=\"windows-1252\"?>b</title></item></channel></rss>");
        assert_eq!(f.items[0].title.as_deref(), Some("ab"));
        assert!(repairs(&f).iter().any(|r| r.to_string().contains("XML declaration")));
        // A stylesheet instruction is not a declaration: nothing to repair.
        let f = run(b"<?xml version=\"1.0\"?><?xml-stylesheet type=\"text/xsl\" href=\"rss.xsl\"?><rss version=\"2.0\"><channel><title>t</title><item><title>a</title></item></channel></rss>");
        assert_eq!((f.items.len(), f.notes.len()), (1, 0), "{:?}", f.notes);
    }

    #[test]
    fn json_feed() {
        let f = run(br#"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","url":"https://e.fr/a?utm_medium=x","title":"Titre","content_html":"<p>Le <em>texte</em></p>","date_published":"2017-05-06T10:00:00+02:00","date_modified":"2017-05-06T12:00:00+02:00"}]}"#);
        let item = &f.items[0];
        assert_eq!((item.title.as_deref(), item.content.as_deref()), (Some("Titre"), Some("Le texte")));
        assert_eq!(item.link.as_ref().unwrap().as_str(), "https://e.fr/a");
        let provs: Vec<_> = item.dates.iter().map(|d| (d.provenance, d.raw.as_str())).collect();
        assert_eq!(
            provs,
            vec![
                (Provenance::FeedPublished, "2017-05-06T10:00:00+02:00"),
                (Provenance::FeedUpdated, "2017-05-06T12:00:00+02:00")
            ]
        );
    }

    #[test]
    fn control_characters_and_missing_version_are_repaired() {
        let f = run(b"<rss><channel><title>t</title><item><title>a\x0bb</title></item><item><title>c</title></item></channel></rss>");
        let v = run(br#"<rss xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.00"><channel><title>t</title><item><title>x</title></item></channel></rss>"#);
        assert_eq!(v.items.len(), 1);
        assert_eq!(f.items.len(), 2);
        assert_eq!(f.items[0].title.as_deref(), Some("ab"));
        assert_eq!(repairs(&f).len(), 2, "{:?}", f.notes);
        assert!(repairs(&f)[0].to_string().contains("line 1"));
    }

    #[test]
    fn an_html_page_and_an_empty_body_are_named_not_a_parse_error() {
        let url = Url::parse("https://e.fr/rss").unwrap();
        assert_eq!(parse("  \n ", &url, None).unwrap_err(), FeedError::Empty);
        let page = "<!-- served by X -->\n<!DOCTYPE html><html><head><title>Accueil</title></head></html>";
        assert_eq!(parse(page, &url, None).unwrap_err(), FeedError::Html);
        assert_eq!(parse("<html lang=fr><body>", &url, None).unwrap_err(), FeedError::Html);
        assert!(matches!(parse("<foo/>", &url, None).unwrap_err(), FeedError::Unreadable(_)));
    }

    #[test]
    fn a_truncated_feed_keeps_the_entries_before_the_cut() {
        // Issue 10, bug 6: a connection cut mid-document lost every item (`tag not closed`).
        let f = run(b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>Un</title><link>https://e.fr/1</link></item><item><title>Deux</title><link>https://e.fr/2</link></item><item><title>Tr");
        // The third entry's title was cut: it is dropped, not read as "Tr".
        let titles: Vec<_> = f.items.iter().map(|i| i.title.as_deref()).collect();
        assert_eq!(titles, vec![Some("Un"), Some("Deux"), None]);
        assert!(f.notes.iter().any(|n| matches!(n, Note::Truncated(3))), "{:?}", f.notes);
        assert!(f.notes.iter().any(|n| matches!(n, Note::EntryByEntry(_))));
    }

    #[test]
    fn one_unreadable_entry_costs_only_itself() {
        let f = run(br#"<rss version="2.0"><channel><title>t</title><item><title>Un</title></item><item><title>Deux</tite></item><item><title>Trois</title></item></channel></rss>"#);
        let titles: Vec<_> = f.items.iter().map(|i| i.title.as_deref()).collect();
        assert_eq!(titles, vec![Some("Un"), Some("Trois")]);
        assert!(
            f.notes.iter().any(|n| matches!(n, Note::EntryUnreadable { index: 2, .. })),
            "{:?}",
            f.notes
        );
    }

    #[test]
    fn atom_03_feeds_are_not_read_as_empty() {
        let f = run(br#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>t</title><entry><title>Un</title><link rel="alternate" href="https://e.fr/1"/><issued>2017-05-06T10:00:00+02:00</issued></entry></feed>"#);
        assert_eq!(f.items.len(), 1);
        assert_eq!(f.items[0].dates[0].provenance, Provenance::FeedPublished);
    }
}
