//! Feeds to items with feed-rs, recovering from the breakage real feeds have.
//!
//! * Dates go through our own parser ([`crate::dates`]). feed-rs only lets a hook return an
//!   instant, not the raw string, so the hook records each string and returns its index as a
//!   sentinel instant; the entry's `published`/`updated` fields then say which string was which.
//! * Characters XML forbids (C0 controls other than tab, CR, LF) are removed before parsing
//!   and the removal is recorded, so one stray byte does not cost a whole feed.
//! * `<rss>` without a `version` (or with `2.00`) is parsed as RSS 2.0.

use crate::article::{FoundDate, Provenance, collapse_whitespace, normalize_url};
use crate::charset;
use crate::fetch::Document;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use feed_rs::model::{FeedType, Text};
use regex::Regex;
use std::sync::{Arc, LazyLock, Mutex};
use url::Url;

/// One entry of a feed.
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub link: Option<Url>,
    pub title: Option<String>,
    /// Summary or description, as text.
    pub summary: Option<String>,
    /// Full content (`content:encoded`, Atom `content`), as text.
    pub content: Option<String>,
    pub dates: Vec<FoundDate>,
}

/// A parsed feed and what had to be repaired to read it.
#[derive(Debug)]
pub struct ParsedFeed {
    pub items: Vec<FeedItem>,
    pub repairs: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("not a readable feed: {0}")]
pub struct FeedError(String);

/// Parses a feed document. `tz` is the source's zone for zone-less dates.
pub fn parse(doc: &Document, decoded: &charset::Decoded, tz: Option<Tz>) -> Result<ParsedFeed, FeedError> {
    let mut repairs = Vec::new();
    let (clean, removed) = strip_forbidden_controls(&decoded.text);
    if let Some((count, line, col)) = removed {
        repairs.push(format!(
            "removed {count} character(s) that XML forbids (first at line {line}, column {col})"
        ));
    }
    let relabelled = charset::relabel_xml_as_utf8(&clean);
    // An XML declaration anywhere but at the start is invalid, and makes quick-xml panic
    // (found by fuzzing): drop it. Other `<?xml-…?>` instructions (stylesheets) are legal.
    let text = match relabelled.get(5..).map(|tail| STRAY_DECLARATION.replace_all(tail, "")) {
        Some(std::borrow::Cow::Owned(tail)) => {
            repairs.push("removed an XML declaration found after the start of the document".into());
            std::borrow::Cow::Owned(format!("{}{tail}", &relabelled[..5]))
        }
        _ => relabelled,
    };
    let parsed = match parse_with_raw_dates(text.as_bytes(), &doc.url) {
        Err(feed_rs::parser::ParseFeedError::ParseError(feed_rs::parser::ParseErrorKind::NoFeedRoot)) if RSS_VERSION.is_match(&text) => {
            let fixed = RSS_VERSION.replace(&text, |c: &regex::Captures| {
                format!(
                    "<rss version=\"2.0\"{}>",
                    VERSION_ATTR.replace(c.get(1).map_or("", |m| m.as_str()), "")
                )
            });
            repairs.push("`<rss>` had no usable `version`; read as RSS 2.0".into());
            parse_with_raw_dates(fixed.as_bytes(), &doc.url)
        }
        other => other,
    };
    let (feed, raws) = parsed.map_err(|e| FeedError(e.to_string()))?;
    let items = feed
        .entries
        .iter()
        .map(|e| item(e, feed.feed_type.clone(), &raws, &doc.url, tz))
        .collect();
    Ok(ParsedFeed { items, repairs })
}

static STRAY_DECLARATION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<\?xml\s[^>]*\?>").expect("static regex"));

/// The `<rss` start tag (its attributes in group 1), and a `version` attribute within them.
static RSS_VERSION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"<rss(\s[^>]*)?>"#).expect("static regex"));
static VERSION_ATTR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"\s+version\s*=\s*("[^"]*"|'[^']*')"#).expect("static regex"));

type Raws = Vec<String>;

fn parse_with_raw_dates(bytes: &[u8], base: &Url) -> Result<(feed_rs::model::Feed, Raws), feed_rs::parser::ParseFeedError> {
    let raws: Arc<Mutex<Raws>> = Arc::default();
    let sink = Arc::clone(&raws);
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .timestamp_parser(move |s: &str| {
            let mut list = sink.lock().unwrap_or_else(|e| e.into_inner());
            list.push(s.to_string());
            DateTime::from_timestamp(list.len() as i64 - 1, 0)
        })
        .build();
    // A panic inside the XML parser on hostile input must cost this feed, not the run.
    let feed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(bytes))).map_err(|_| {
        feed_rs::parser::ParseFeedError::ParseError(feed_rs::parser::ParseErrorKind::IllegalState {
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
    FeedItem {
        link,
        title: e.title.as_ref().map(text_of).filter(|t| !t.is_empty()),
        summary: e.summary.as_ref().map(text_of).filter(|t| !t.is_empty()),
        content: e
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .map(html_to_text)
            .filter(|t| !t.is_empty()),
        dates,
    }
}

fn text_of(t: &Text) -> String {
    if t.content_type.to_string().contains("html") || t.content.contains('<') || t.content.contains('&') {
        html_to_text(&t.content)
    } else {
        collapse_whitespace(&t.content)
    }
}

/// Text of an HTML fragment (feed summaries are HTML more often than not).
pub fn html_to_text(html: &str) -> String {
    let fragment = scraper::Html::parse_fragment(html);
    collapse_whitespace(&fragment.root_element().text().collect::<Vec<_>>().join(" "))
}

/// Removes C0 control characters other than tab, LF and CR. Returns the cleaned text and,
/// if anything was removed, the count and the line and column of the first one.
fn strip_forbidden_controls(text: &str) -> (std::borrow::Cow<'_, str>, Option<(usize, usize, usize)>) {
    let forbidden = |c: char| (c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}';
    let Some(first) = text.find(forbidden) else {
        return (text.into(), None);
    };
    let line = text[..first].matches('\n').count() + 1;
    let col = text[..first].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let count = text.chars().filter(|c| forbidden(*c)).count();
    (text.replace(forbidden, "").into(), Some((count, line, col)))
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

    fn doc(bytes: &[u8]) -> Document {
        Document {
            url: Url::parse("file:///feeds/x.xml").unwrap(),
            bytes: bytes.to_vec(),
            content_type: None,
            fetched_at: Utc::now(),
            truncated: false,
            max_bytes: 0,
            redirects: Vec::new(),
            from_cache: false,
            elapsed: std::time::Duration::ZERO,
        }
    }

    fn run(bytes: &[u8]) -> ParsedFeed {
        let d = doc(bytes);
        let decoded = charset::decode(&d.bytes, None, None, None);
        parse(&d, &decoded, Some(chrono_tz::Europe::Paris)).unwrap()
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
        assert!(f.repairs.iter().any(|r| r.contains("XML declaration")));
        // A stylesheet instruction is not a declaration: nothing to repair.
        let f = run(b"<?xml version=\"1.0\"?><?xml-stylesheet type=\"text/xsl\" href=\"rss.xsl\"?><rss version=\"2.0\"><channel><title>t</title><item><title>a</title></item></channel></rss>");
        assert_eq!((f.items.len(), f.repairs.len()), (1, 0), "{:?}", f.repairs);
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
        assert_eq!(f.repairs.len(), 2, "{:?}", f.repairs);
        assert!(f.repairs[0].contains("line 1"));
    }
}
