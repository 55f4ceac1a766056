//! News sitemaps as an item source: a `<urlset>` lists article URLs with their Google News
//! `publication_date` and `title`, or a plain `lastmod`; a `<sitemapindex>` lists more sitemaps.
//! Elements are matched by local name, so any namespace prefix works.

use super::{FeedItem, Note};
use crate::article::{FoundDate, Provenance};
use chrono_tz::Tz;
use url::Url;

/// What a sitemap holds.
#[derive(Debug)]
pub enum Sitemap {
    Urls(Vec<FeedItem>),
    /// The sitemaps an index lists, resolved against its URL.
    Index(Vec<Url>),
}

/// Why a sitemap could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SitemapError {
    #[error("not a readable sitemap: {0}")]
    Unreadable(String),
    #[error("not a sitemap: the root element is `{0}`")]
    Root(String),
}

/// Whether `text` is a sitemap (its root element is `urlset` or `sitemapindex`): looked at
/// before the text is handed to the feed parser.
pub fn is_sitemap(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    let root = head
        .split('<')
        .find(|t| t.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .and_then(|t| t.split(|c: char| c.is_whitespace() || c == '>' || c == '/').next())
        .map(|name| name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase());
    matches!(root.as_deref(), Some("urlset" | "sitemapindex"))
}

/// Reads a sitemap; `tz` is the outlet's zone for dates written without one. A sitemap the XML
/// parser refuses (cut off mid-transfer, one broken entry) is read `<url>` by `<url>` (an index
/// `<sitemap>` by `<sitemap>`), as a feed is, with notes saying so.
pub fn parse(text: &str, base: &Url, tz: Option<Tz>) -> Result<(Sitemap, Vec<Note>), SitemapError> {
    let text = crate::charset::relabel_xml_as_utf8(text);
    let refused = match roxmltree::Document::parse(&text) {
        Ok(doc) => return read(doc.root_element(), base, tz).map(|s| (s, Vec::new())),
        Err(e) => e.to_string(),
    };
    let root = super::tolerant::root_name(&text).unwrap_or_default();
    let element = match root.as_str() {
        "urlset" => "url",
        "sitemapindex" => "sitemap",
        _ => return Err(SitemapError::Unreadable(refused)),
    };
    let split = super::tolerant::split(&text, &[element]);
    let attributes = split.root.as_ref().map_or("", |r| r.attributes.as_str());
    let mut read = match root.as_str() {
        "urlset" => Sitemap::Urls(Vec::new()),
        _ => Sitemap::Index(Vec::new()),
    };
    let mut notes = vec![Note::EntryByEntry(format!("the XML parser refused the sitemap ({refused})"))];
    for (index, entry) in split.entries.iter().enumerate() {
        let one = format!("<{root}{attributes}>{}</{root}>", entry.markup);
        match (roxmltree::Document::parse(&one).map_err(|e| e.to_string()), &mut read) {
            (Ok(doc), Sitemap::Urls(urls)) => urls.extend(entries(doc.root_element(), base, tz)),
            (Ok(doc), Sitemap::Index(maps)) => maps.extend(doc.root_element().children().filter_map(|n| loc(n, base))),
            (Err(error), _) => notes.push(Note::EntryUnreadable { index: index + 1, error }),
        }
    }
    if split.cut {
        let read_whole = match &read {
            Sitemap::Urls(urls) => urls.len(),
            Sitemap::Index(maps) => maps.len(),
        };
        notes.push(Note::Truncated(read_whole));
    }
    Ok((read, notes))
}

fn read(root: roxmltree::Node, base: &Url, tz: Option<Tz>) -> Result<Sitemap, SitemapError> {
    match root.tag_name().name() {
        "sitemapindex" => Ok(Sitemap::Index(
            root.children()
                .filter(|n| n.tag_name().name() == "sitemap")
                .filter_map(|n| loc(n, base))
                .collect(),
        )),
        "urlset" => Ok(Sitemap::Urls(entries(root, base, tz))),
        other => Err(SitemapError::Root(other.to_string())),
    }
}

/// The `<url>` children of a `<urlset>` as entries: address, news title and dates.
fn entries(urlset: roxmltree::Node, base: &Url, tz: Option<Tz>) -> Vec<FeedItem> {
    urlset
        .children()
        .filter(|n| n.tag_name().name() == "url")
        .filter_map(|u| {
            let link = loc(u, base)?;
            let mut dates = Vec::new();
            for (name, provenance) in [
                ("publication_date", Provenance::SitemapPublished),
                ("lastmod", Provenance::SitemapLastmod),
            ] {
                if let Some(raw) = child_text(u, name) {
                    let parsed = crate::dates::parse(&raw, tz);
                    dates.push(FoundDate { raw, provenance, parsed });
                }
            }
            Some(FeedItem {
                link: Some(link),
                guid: None,
                title: child_text(u, "title"),
                summary: None,
                content: None,
                links: Vec::new(),
                dates,
            })
        })
        .collect()
}

fn child_text(node: roxmltree::Node, name: &str) -> Option<String> {
    node.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn loc(node: roxmltree::Node, base: &Url) -> Option<Url> {
    child_text(node, "loc")
        .and_then(|l| base.join(&l).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https" | "file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_sitemap_items_and_index() {
        let base = Url::parse("https://www.example.fr/sitemap-news.xml").unwrap();
        let news = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://www.example.fr/politique/a.html</loc>
    <news:news><news:publication><news:name>Ex</news:name><news:language>fr</news:language></news:publication>
      <news:publication_date>2017-05-06T11:30:00+02:00</news:publication_date><news:title>Les courriels</news:title></news:news></url>
  <url><loc>/b.html</loc><lastmod>2017-05-05</lastmod></url>
</urlset>"#;
        assert!(is_sitemap(news));
        let (Sitemap::Urls(items), _) = parse(news, &base, None).unwrap() else {
            panic!()
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].title.as_deref(), Some("Les courriels"));
        assert_eq!(items[0].dates[0].provenance, Provenance::SitemapPublished);
        assert!(items[0].dates[0].parsed.is_ok());
        assert_eq!(items[1].link.as_ref().unwrap().as_str(), "https://www.example.fr/b.html");
        assert_eq!(items[1].dates[0].provenance, Provenance::SitemapLastmod);

        let index = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://www.example.fr/news-1.xml</loc></sitemap></sitemapindex>"#;
        assert!(is_sitemap(index));
        let (Sitemap::Index(urls), _) = parse(index, &base, None).unwrap() else {
            panic!()
        };
        assert_eq!(urls, vec![Url::parse("https://www.example.fr/news-1.xml").unwrap()]);
        assert!(!is_sitemap("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel/></rss>"));
    }

    #[test]
    fn a_sitemap_cut_off_keeps_its_first_urls() {
        let base = Url::parse("https://www.example.fr/sitemap-news.xml").unwrap();
        let cut = r#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>/a.html</loc><news:news><news:title>Un</news:title></news:news></url><url><loc>/b.html</loc><lastmod>2017-05-0"#;
        let (Sitemap::Urls(items), notes) = parse(cut, &base, None).unwrap() else {
            panic!()
        };
        let links: Vec<&str> = items.iter().map(|i| i.link.as_ref().unwrap().path()).collect();
        assert_eq!(links, vec!["/a.html", "/b.html"]);
        assert_eq!(items[0].title.as_deref(), Some("Un"));
        assert!(notes.contains(&Note::Truncated(2)), "{notes:?}");
        // The cut `lastmod` (`2017-05-0`) is dropped, not read as a date.
        assert!(items[1].dates.is_empty(), "{:?}", items[1].dates);
        let (Sitemap::Index(maps), _) = parse(
            "<sitemapindex><sitemap><loc>/1.xml</loc></sitemap><sitemap><loc>/2.xml</loc></sitemap><sitemap><loc>/3",
            &base,
            None,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(maps.iter().map(|u| u.path()).collect::<Vec<_>>(), vec!["/1.xml", "/2.xml"]);
    }
}
