//! The dates a page states about itself, each with the signal it came from.

use super::selector;
use crate::article::{FoundDate, Provenance};
use crate::dates::find::{self, SlashOrder};
use chrono_tz::Tz;
use regex::Regex;
use scraper::{ElementRef, Html};
use std::sync::LazyLock;
use url::Url;

/// Every date the page states, in document order within each kind. The weaker signals
/// (date-named elements' text, the address, the visible text) are read only when the
/// stronger ones gave no publication date.
pub fn found(doc: &Html, json_ld: &[serde_json::Value], base: &Url, tz: Option<Tz>) -> Vec<FoundDate> {
    let mut found = Vec::new();
    let mut push = |raw: &str, provenance: Provenance| {
        let raw = raw.trim();
        if !raw.is_empty() && !found.iter().any(|d: &FoundDate| d.raw == raw && d.provenance == provenance) {
            found.push(FoundDate {
                raw: raw.to_string(),
                provenance,
                parsed: crate::dates::parse(raw, tz),
            });
        }
    };
    for v in json_ld {
        json_ld_dates(v, &mut push);
    }
    // Dates under names of the publisher's own coining, read when no known name gives one.
    let (mut coined, mut named) = (Vec::new(), false);
    for meta in doc.select(selector!("meta[property], meta[name]")) {
        let key = meta
            .value()
            .attr("property")
            .or_else(|| meta.value().attr("name"))
            .unwrap_or("")
            .to_ascii_lowercase();
        // The names publishers and CMSs use (Open Graph, Dublin Core, Parse.ly, Sailthru,
        // Highwire/Google Scholar, and plain `date`).
        let provenance = match key.as_str() {
            "article:published_time"
            | "article:published"
            | "og:published_time"
            | "og:article:published_time"
            | "datepublished"
            | "pubdate"
            | "publishdate"
            | "publish-date"
            | "published-date"
            | "publication_date"
            | "date"
            | "dc.date"
            | "dc.date.created"
            | "dc.date.issued"
            | "dcterms.created"
            | "dcterms.date"
            | "dcterms.issued"
            | "parsely-pub-date"
            | "sailthru.date"
            | "citation_publication_date"
            | "citation_date"
            | "original-publish-date" => Provenance::MetaPublished,
            "article:modified_time" | "og:updated_time" | "datemodified" | "dcterms.modified" | "last-modified" => Provenance::MetaModified,
            _ => {
                // Any other name that says it dates the publication ("published",
                // "w-published-date"): CMSs coin their own, and the words are what carries
                // over. Only a day or finer counts under a name so loose. Coined names for a
                // change are not read: a site-wide "last-updated" stamp would pass for a change
                // of every article.
                if names_the_publication(&key)
                    && let Some(content) = meta.value().attr("content")
                    && crate::dates::parse(content, tz).is_ok_and(|w| w.precision >= crate::dates::Precision::Day)
                {
                    coined.push(content);
                }
                continue;
            }
        };
        if let Some(content) = meta.value().attr("content") {
            push(content, provenance);
            named |= provenance == Provenance::MetaPublished && crate::dates::parse(content, tz).is_ok();
        }
    }
    // A page that says `published-date` beside its own `published-time` (a render stamp, on
    // one development page) means the first.
    if !named {
        coined.into_iter().for_each(|content| push(content, Provenance::MetaCoined));
    }
    for el in doc.select(selector!("[itemprop=datePublished], [itemprop=dateModified]")) {
        let provenance = if el.value().attr("itemprop") == Some("dateModified") {
            Provenance::ItempropModified
        } else {
            Provenance::ItempropPublished
        };
        let v = el.value();
        let raw = v
            .attr("datetime")
            .or_else(|| v.attr("content"))
            .map(str::to_string)
            .unwrap_or_else(|| el.text().collect());
        push(&raw, provenance);
    }
    // `<time>` elements that name different days belong to different things (the article,
    // related teasers, embedded posts): none of them is taken for the page's own date then.
    let times: Vec<&str> = doc
        .select(selector!("time[datetime]"))
        .filter(|el| el.value().attr("itemprop").is_none())
        .filter_map(|el| el.value().attr("datetime"))
        .collect();
    let days: Vec<_> = times
        .iter()
        .map(|raw| crate::dates::parse(raw.trim(), tz).ok().map(|w| w.written.date()))
        .collect();
    if days.windows(2).all(|pair| pair[0] == pair[1]) {
        times.iter().for_each(|t| push(t, Provenance::TimeElement));
    }
    // The address is a date too, but the weaker signals below are read only when no
    // structured signal gave a publication date.
    let has_published = |found: &[FoundDate]| {
        found
            .iter()
            .any(|d| d.provenance.role() == crate::article::Role::Published && d.provenance != Provenance::UrlPath && d.parsed.is_ok())
    };
    let order = slash_order(doc);
    let body = doc.select(selector!("body")).next().unwrap_or_else(|| doc.root_element());
    let address = page_url(doc, base);
    if !has_published(&found) {
        date_elements(body, &address, order, tz, &mut found);
    }
    // The address is always read: beside a weaker signal it is a date, beside a stronger one
    // it shows a republication or the publisher's calendar day.
    if let Some(day) = url_day(&address) {
        found.push(FoundDate {
            raw: address.to_string(),
            provenance: Provenance::UrlPath,
            parsed: crate::dates::parse(&day, tz),
        });
    }
    if !has_published(&found)
        && let Some(d) = text_near_headline(doc, body, order)
    {
        found.push(d.into_found(Provenance::VisibleText, tz));
    }
    found
}

/// The date a listing's teaser shows of itself: its `<time datetime>`, else a short element
/// beside the headline that is mostly a date (`6 mai 2017, 18 h`). A date in the standfirst's
/// prose ("the documents released on 5 May…") says what the item is about, not when it was
/// published, and would let a teaser posted inside the window pass for one from before it.
pub fn of_teaser(item: ElementRef, headline: ego_tree::NodeId, order: SlashOrder, tz: Option<Tz>) -> Option<FoundDate> {
    /// A date line is short: a day, a month, a year and an hour at most, with a word or two.
    const DATE_LINE: usize = 40;
    let outside_headline = |el: &ElementRef| el.id() != headline && !el.ancestors().any(|a| a.id() == headline);
    let time = item
        .select(selector!("time[datetime]"))
        .filter(outside_headline)
        .filter_map(|t| t.value().attr("datetime"))
        .map(str::trim)
        .find(|raw| !raw.is_empty());
    if let Some(raw) = time {
        return Some(FoundDate {
            raw: raw.to_string(),
            provenance: Provenance::TeaserDate,
            parsed: crate::dates::parse(raw, tz),
        });
    }
    // Not an element that holds the headline (its date would be the headline's), nor one a
    // reader does not see.
    let holds_headline = |el: &ElementRef| el.descendants().any(|d| d.id() == headline);
    let unseen = |el: &ElementRef| {
        [*el]
            .into_iter()
            .chain(el.ancestors().filter_map(ElementRef::wrap))
            .take_while(|a| a.id() != item.id())
            .any(|a| super::is_hidden(a.value()) || super::content::SKIP.contains(&a.value().name()))
    };
    item.descendants()
        .filter_map(ElementRef::wrap)
        .filter(outside_headline)
        .find_map(|el| {
            if holds_headline(&el) || unseen(&el) {
                return None;
            }
            if el
                .children()
                .filter_map(ElementRef::wrap)
                .any(|c| !matches!(c.value().name(), "span" | "b" | "strong" | "em" | "i" | "small"))
            {
                return None;
            }
            let text = super::teaser::read_item(el, None, &mut |_| {});
            let chars = text.chars().count();
            if chars > DATE_LINE {
                return None;
            }
            let spotted = find::first(&text, order, None)?;
            let date_chars = text[spotted.range.clone()].chars().count();
            (date_chars * 5 >= chars * 2).then(|| {
                Written {
                    raw: text.clone(),
                    spotted,
                }
                .into_found(Provenance::TeaserDate, tz)
            })
        })
}

/// A date read from text, with what was written.
struct Written {
    raw: String,
    spotted: find::Spotted,
}

impl Written {
    fn into_found(self, provenance: Provenance, tz: Option<Tz>) -> FoundDate {
        FoundDate {
            parsed: crate::dates::parse(&self.spotted.iso(), tz),
            raw: self.raw,
            provenance,
        }
    }
}

/// American English writes `5/6/2017` for 6 May; everyone else the day first.
pub(super) fn slash_order(doc: &Html) -> SlashOrder {
    let lang = doc.root_element().value().attr("lang").unwrap_or("").to_ascii_lowercase();
    if lang == "en" || lang == "en-us" || lang == "en_us" {
        SlashOrder::MonthFirst
    } else {
        SlashOrder::DayFirst
    }
}

/// Class, id or itemprop names of elements that show a publication date (microformats
/// `dt-published`/`published` included); names of modification dates are left out.
fn is_date_named(el: &scraper::node::Element) -> bool {
    const WORDS: &[&str] = &[
        "date",
        "time",
        "datum",
        "fecha",
        "data",
        "published",
        "posted",
        "pubdate",
        "dateline",
        "byline",
        "author",
        "zeit",
        "meta",
    ];
    names_any(el, WORDS) && !names_another_thing(el)
}

/// Whether an element's names say it shows something other than the publication (a
/// modification, comments, a timeline), whatever else they say.
fn names_another_thing(el: &scraper::node::Element) -> bool {
    names_any(el, &["update", "modif", "comment", "timeline", "metadata", "meta-nav", "edit"])
}

/// Whether an element's class, id or itemprop holds one of `words` (lower-case), in any case.
/// Asked of every element of a date line, so it allocates nothing.
fn names_any(el: &scraper::node::Element, words: &[&str]) -> bool {
    ["class", "id", "itemprop"].iter().filter_map(|a| el.attr(a)).any(|names| {
        words.iter().any(|w| {
            names
                .as_bytes()
                .windows(w.len())
                .any(|part| part.eq_ignore_ascii_case(w.as_bytes()))
        })
    })
}

/// The first date-named element that holds a date: its `datetime`/`title`/`content`
/// attribute when machine-readable, else its short text.
fn date_elements(body: ElementRef, address: &Url, order: SlashOrder, tz: Option<Tz>, found: &mut Vec<FoundDate>) {
    for el in body.descendants().filter_map(ElementRef::wrap) {
        let e = el.value();
        if super::content::SKIP.contains(&e.name()) || !is_date_named(e) || is_teaser_date(el, address) {
            continue;
        }
        for attr in ["datetime", "title", "content"] {
            if let Some(v) = e.attr(attr)
                && let Ok(when) = crate::dates::parse(v.trim(), tz)
            {
                found.push(FoundDate {
                    raw: v.trim().to_string(),
                    provenance: Provenance::DateElement,
                    parsed: Ok(when),
                });
                return;
            }
        }
        // Its own pieces of text (see `date_line_pieces`), read first spaced apart: run
        // together, "Dec 17, 2025" beside the author reads "2025Julian", and "DECEMBER 22,
        // 2022" before "Updated: JANUARY 02, 2026" hides behind a word. Then as written (a date
        // split by markup, "May 6<sup>th</sup>, 2017").
        let pieces = date_line_pieces(el);
        let text = pieces.concat();
        if text.len() > 200 {
            continue;
        }
        // Text that is an ISO 8601 date as it stands (`2022-11-23T08:10+02:00`), read as the
        // attributes are, its offset kept (the text finder stops at the `T`).
        let iso = text.trim();
        if iso.len() >= 10
            && iso.as_bytes()[..10]
                .iter()
                .enumerate()
                .all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() })
            && let Ok(when) = crate::dates::parse(iso, tz)
        {
            found.push(FoundDate {
                raw: iso.to_string(),
                provenance: Provenance::DateElement,
                parsed: Ok(when),
            });
            return;
        }
        let spaced = pieces
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        for text in [spaced, text] {
            if let Some(spotted) = find::first(&text, order, None).filter(|s| !tells_the_time(&text[..s.range.start])) {
                let raw = crate::article::collapse_whitespace(&text);
                found.push(Written { raw, spotted }.into_found(Provenance::DateElement, tz));
                return;
            }
        }
    }
}

/// The text a date-named element shows as its own, piece by piece (its text nodes in order):
/// not what is hidden, not an element named for another date ("updated"). A link in it stays:
/// blogs link their date to an archive or topic page. One pass over the element, as its text
/// is.
fn date_line_pieces<'a>(el: ElementRef<'a>) -> Vec<&'a str> {
    use ego_tree::iter::Edge;
    let mut pieces = Vec::new();
    // Elements open inside one that is left out.
    let mut left_out = 0usize;
    for edge in el.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                scraper::Node::Element(e) => {
                    let leaves_out = node.id() != el.id() && (super::is_hidden(e) || names_another_thing(e));
                    if left_out > 0 || leaves_out {
                        left_out += 1;
                    }
                }
                scraper::Node::Text(t) if left_out == 0 => pieces.push(&**t),
                _ => {}
            },
            Edge::Close(node) if node.value().is_element() && left_out > 0 => left_out -= 1,
            Edge::Close(_) => {}
        }
    }
    pieces
}

/// Whether an element is a link to another page than `address`.
fn links_elsewhere(e: &scraper::node::Element, address: &Url) -> bool {
    e.name() == "a"
        && e.attr("href").is_some_and(|href| {
            address
                .join(href.trim())
                .is_ok_and(|u| u.path() != address.path() || u.host() != address.host())
        })
}

/// Whether a date sits beside a linked headline (`<h3><a>…</a></h3><span>6 mai</span>`) or
/// inside a link to another page: the date of a teaser, not of this page (blogs link their
/// own date to the page's permalink).
fn is_teaser_date(el: ElementRef, address: &Url) -> bool {
    let in_link = el
        .ancestors()
        .filter_map(ElementRef::wrap)
        .any(|a| links_elsewhere(a.value(), address));
    let linked_heading = |sibling: ego_tree::NodeRef<scraper::Node>| {
        ElementRef::wrap(sibling).is_some_and(|h| {
            matches!(h.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6") && h.select(selector!("a[href]")).next().is_some()
        })
    };
    in_link
        || std::iter::once(*el)
            .chain(el.parent())
            .any(|node| node.prev_siblings().take(3).any(linked_heading))
}

/// Whether the words before a date say it is the time of reading (`Aktuelle Zeit:`, phpBB's
/// `It is currently`), not of publication.
fn tells_the_time(before: &str) -> bool {
    const NOW: &[&str] = &[
        "it is currently",
        "current time",
        "today is",
        "aktuelle zeit",
        "heute ist",
        "heure actuelle",
        "nous sommes le",
        "hoy es",
        "fecha actual",
        "oggi è",
        "ora attuale",
    ];
    let before = before.to_lowercase();
    NOW.iter().any(|w| before.contains(w))
}

/// The page's own address: its canonical link or `og:url`, else where it was read from.
fn page_url(doc: &Html, base: &Url) -> Url {
    let stated = doc
        .select(selector!("link[rel=canonical]"))
        .filter_map(|l| l.value().attr("href"))
        .chain(
            doc.select(selector!("meta[property='og:url']"))
                .filter_map(|m| m.value().attr("content")),
        )
        .find_map(|u| base.join(u.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https")));
    stated.unwrap_or_else(|| base.clone())
}

/// A full date in an address's path (`/2017/05/06/`, `/2017-05-06-`, `/20170506/`,
/// `_06.05.2017`), as ISO `YYYY-MM-DD`.
fn url_day(url: &Url) -> Option<String> {
    static SEPARATED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[/_-]((?:19|20)[0-9]{2})([/-])([0-9]{1,2})[/-]([0-9]{1,2})(?:[/_.-]|$)").expect("static regex"));
    static COMPACT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[/_-]((?:19|20)[0-9]{2})([0-9]{2})([0-9]{2})(?:[/_.-]|$)").expect("static regex"));
    static DAY_FIRST: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[/_-]([0-9]{2})[.-]([0-9]{2})[.-]((?:19|20)[0-9]{2})(?:[/_.-]|$)").expect("static regex"));
    let path = url.path();
    let valid = |y: &str, m: &str, d: &str| {
        let date = chrono::NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
        Some(date.format("%Y-%m-%d").to_string())
    };
    SEPARATED
        .captures_iter(path)
        .find_map(|c| valid(&c[1], &c[3], &c[4]))
        .or_else(|| COMPACT.captures_iter(path).find_map(|c| valid(&c[1], &c[2], &c[3])))
        .or_else(|| DAY_FIRST.captures_iter(path).find_map(|c| valid(&c[3], &c[2], &c[1])))
}

/// The first date in the text that follows the page's headline (bylines and datelines sit
/// just under it), within a short reach; else the date in the line or two just above it
/// (kickers, "Stand: …" lines).
fn text_near_headline(doc: &Html, body: ElementRef, order: SlashOrder) -> Option<Written> {
    const REACH: usize = 1_500;
    const REACH_BEFORE: usize = 300;
    // The title the page gives itself in its head (the extracted title may be a heading).
    let title = doc
        .select(selector!("meta[property='og:title']"))
        .find_map(|m| m.value().attr("content"))
        .map(str::to_string)
        .or_else(|| doc.select(selector!("title")).next().map(|t| t.text().collect()));
    let headline = headline(body, title.as_deref())?;
    let after = super::visible_text(body, Some(headline.id()), None, REACH);
    let written = |text: &str| {
        let spotted = find::first(text, order, None)?;
        let shown: String = text[spotted.range.start..].chars().take(spotted.range.len() + 20).collect();
        let raw = crate::article::collapse_whitespace(&shown);
        Some(Written { raw, spotted })
    };
    written(&after).or_else(|| {
        // Above the headline, within the block that holds it and its header.
        let around = headline
            .parent()
            .and_then(|p| p.parent())
            .and_then(ElementRef::wrap)
            .unwrap_or(body);
        let before = super::visible_text(around, None, Some(headline.id()), usize::MAX);
        written(&before[before.ceil_char_boundary(before.len().saturating_sub(REACH_BEFORE))..])
    })
}

/// The page's headline: the first heading (`h1`, else `h2`, else `h3`) that the page's title
/// names — the first `h1` is often the site's logo — else the first `h1`.
fn headline<'a>(body: ElementRef<'a>, title: Option<&str>) -> Option<ElementRef<'a>> {
    // Typography aside: titles and headings differ in apostrophes and no-break spaces.
    let squash = |s: &str| crate::normalize::normalize(s.trim()).text;
    let title = title.map(squash).filter(|t| !t.is_empty());
    let named = |h: &ElementRef| {
        let text = squash(&h.text().collect::<String>());
        // The shorter one inside the longer, and long enough to be a headline, not a name.
        let (short, long) = match &title {
            Some(t) if t.len() < text.len() => (t.as_str(), text.as_str()),
            Some(t) => (text.as_str(), t.as_str()),
            None => return false,
        };
        short.chars().count() >= 10 && long.contains(short)
    };
    // One pass; each heading's text is compared once, and a named `h1` ends the search.
    let mut first_named: [Option<ElementRef>; 3] = [None; 3];
    let mut first_h1 = None;
    for h in body.select(selector!("h1, h2, h3")) {
        let level = match h.value().name() {
            "h1" => 0,
            "h2" => 1,
            _ => 2,
        };
        if level == 0 {
            first_h1.get_or_insert(h);
        }
        if first_named[level].is_none() && named(&h) {
            first_named[level] = Some(h);
            if level == 0 {
                break;
            }
        }
    }
    first_named.into_iter().flatten().next().or(first_h1)
}

/// Whether a meta name not in the list above says it dates the publication: a word
/// `publish…`, `publication…` or `pubdate`, and none that names something else (`publisher`) or another
/// moment of it (`publish-end-date`, `next-publish`, `expires`).
fn names_the_publication(name: &str) -> bool {
    const OTHER: &[&str] = &[
        "publisher",
        "publishers",
        "unpublish",
        "end",
        "until",
        "next",
        "expire",
        "expires",
        "expiry",
        "expiration",
        "embargo",
    ];
    let words: Vec<&str> = name.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    words
        .iter()
        .any(|w| w.starts_with("publish") || w.starts_with("publication") || *w == "pubdate")
        && !words.iter().any(|w| OTHER.contains(w))
}

/// Walks JSON-LD (objects, arrays, `@graph`) for `datePublished` / `dateModified`.
fn json_ld_dates(v: &serde_json::Value, push: &mut impl FnMut(&str, Provenance)) {
    match v {
        serde_json::Value::Array(items) => items.iter().for_each(|i| json_ld_dates(i, push)),
        serde_json::Value::Object(map) => {
            for (key, provenance) in [
                ("datePublished", Provenance::JsonLdPublished),
                ("dateModified", Provenance::JsonLdModified),
            ] {
                if let Some(s) = map.get(key).and_then(|d| d.as_str()) {
                    push(s, provenance);
                }
            }
            for (key, value) in map {
                if key != "datePublished" && key != "dateModified" && (value.is_object() || value.is_array()) {
                    json_ld_dates(value, push);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::Confidence;

    fn dates(html: &str, url: &str) -> Vec<(Provenance, String)> {
        let x = super::super::extract(html, &Url::parse(url).unwrap(), Some(chrono_tz::Europe::Paris)).unwrap();
        x.article
            .dates
            .iter()
            .map(|d| {
                (
                    d.provenance,
                    d.parsed.as_ref().map(|w| w.as_written().unwrap_or_default()).unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn url_patterns() {
        for (url, day) in [
            ("https://www.example.fr/2017/05/06/titre/", "2017-05-06"),
            ("https://www.example.fr/2017/5/6/titre", "2017-05-06"),
            ("https://www.example.fr/politique/2017-05-06-titre.html", "2017-05-06"),
            ("https://www.example.com/news/20170506/titre", "2017-05-06"),
            ("https://www.example.de/artikel/06-05-2017-titel/17.html", "2017-05-06"),
        ] {
            assert_eq!(url_day(&Url::parse(url).unwrap()).as_deref(), Some(day), "{url}");
        }
        for url in [
            "https://www.example.fr/article/1234567/",
            "https://www.example.fr/2017/13/45/x",
            "https://www.example.fr/2017/05/",
        ] {
            assert_eq!(url_day(&Url::parse(url).unwrap()), None, "{url}");
        }
        // The canonical link is the page's address, wherever it was read from.
        let html = "<html><head><link rel=canonical href=\"https://www.example.fr/2017/05/06/x\"></head><body><p>x</p></body></html>";
        assert_eq!(
            dates(html, "file:///saved/page.html"),
            vec![(Provenance::UrlPath, "2017-05-06".into())]
        );
    }

    #[test]
    fn date_elements_and_microformats() {
        let html = "<html><body><h1>Titre</h1><abbr class=\"dt-published\" title=\"2017-05-06T18:32:00+02:00\">samedi</abbr></body></html>";
        assert_eq!(
            dates(html, "https://x.fr/a"),
            vec![(Provenance::DateElement, "2017-05-06T18:32:00+02:00".into())]
        );
        let html = "<html><body><h1>Titre</h1><span class=\"updated\">7 mai 2017</span><span class=\"article-date\">Publié le 6 mai 2017 à 18h32</span></body></html>";
        assert_eq!(
            dates(html, "https://x.fr/a"),
            vec![(Provenance::DateElement, "2017-05-06T18:32:00+02:00".into())],
            "a modification date's element is not the publication date; a zone-less time is read in the source's zone"
        );
        // Inline pieces run together as text ("2025Julian"): they are read spaced apart, without
        // one named for a modification.
        let html = "<html><body><div class=\"dateAndAuthor\"><span class=\"updated\">Jan 5, 2026</span><span>Dec 17, 2025</span><span>Julian Arni</span></div><h1>Titre</h1></body></html>";
        assert_eq!(dates(html, "https://x.fr/a"), vec![(Provenance::DateElement, "2025-12-17".into())]);
        // Run together, a later date can hide the first: read apart, the first comes first.
        let html = "<html><body><h1>Titre</h1><div class=\"post-date\"><a href=\"/sante\">Mental Health</a>DECEMBER 22, 2022\
                    <span>Updated: JANUARY 02, 2026</span></div></body></html>";
        assert_eq!(dates(html, "https://x.fr/a"), vec![(Provenance::DateElement, "2022-12-22".into())]);
        // What a date line does not show as its own is not read in it: a hidden part, a
        // modification date, a clock in an element of its own.
        for line in [
            "<div class=\"byline\">Par Julien Arni <span hidden>12 mars 2016</span></div>",
            "<div class=\"byline\"><span>Par Julien Arni</span> <span class=\"updated\">5 janvier 2026</span></div>",
            "<div class=\"datetime\"><strong>Aktuelle Zeit:</strong> 06.05.2017</div>",
        ] {
            let html = format!("<html><body><h1>Titre</h1>{line}<p>Un texte.</p></body></html>");
            assert!(
                !dates(&html, "https://x.fr/a").iter().any(|d| d.0 == Provenance::DateElement),
                "{line}"
            );
        }
        // An ISO 8601 instant as the text: read whole, its offset kept.
        let html = "<html><body><h1>Titre</h1><span class=\"publicationTime\">2022-11-23T08:10+02:00 </span></body></html>";
        assert_eq!(
            dates(html, "https://x.fr/a"),
            vec![(Provenance::DateElement, "2022-11-23T08:10:00+02:00".into())]
        );
    }

    #[test]
    fn nested_date_lines_cost_what_their_text_does() {
        // Each date-named element reads its own subtree once: a thousand nested ones are a
        // million steps, not the billion of a walk up from every node (minutes, before).
        let html = format!(
            "<html><body><h1>Titre</h1>{}x{}</body></html>",
            "<span class=date>".repeat(1000),
            "</span>".repeat(1000)
        );
        let started = std::time::Instant::now();
        assert!(dates(&html, "https://x.fr/a").is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }

    #[test]
    fn visible_text_under_the_headline() {
        let html = "<html><body><p>Édition du 1 janvier 2010</p><h1>Le titre</h1><p>Par Jeanne Martin, 6. Mai 2017, 14:05 Uhr</p>\
                    <p>Le texte qui cite le 8 mai 2017.</p></body></html>";
        assert_eq!(
            dates(html, "https://x.fr/a"),
            vec![(Provenance::VisibleText, "2017-05-06T14:05:00+02:00".into())]
        );
        assert_eq!(Provenance::VisibleText.confidence(), Confidence::Low);
    }

    #[test]
    fn the_headline_is_the_heading_the_title_names_and_the_line_above_it_counts() {
        // The first h1 is the site's logo; the article's headline comes second, its date below.
        let html = "<html><head><title>Les retraites en débat | Le Site</title></head><body>\
                    <h1>Le Site</h1><p>Mis à jour le 2 janvier 2016</p>\
                    <div><h1>Les retraites en débat</h1><p>Publié le 6 mai 2017</p></div></body></html>";
        assert_eq!(dates(html, "https://x.fr/a"), vec![(Provenance::VisibleText, "2017-05-06".into())]);
        // No date under the headline: the kicker or "Stand" line just above it.
        let html = "<html><body><article><div class=lastchanged>Stand: 06.05.2017 18:32 Uhr</div>\
                    <header><h1>Die Überschrift</h1></header><p>Der Text ohne Datum, lang genug.</p></article></body></html>";
        assert_eq!(
            dates(html, "https://x.de/a"),
            vec![(Provenance::VisibleText, "2017-05-06T18:32:00+02:00".into())]
        );
        // No h1 at all: the h2/h3 the title names.
        let html = "<html><head><title>Marius gewinnt in Willingen</title></head><body><nav><h2>Menü</h2></nav>\
                    <article><h2>Marius gewinnt in Willingen</h2><small>Erstellt am: 30.01.2022</small></article></body></html>";
        assert_eq!(dates(html, "https://x.de/a"), vec![(Provenance::VisibleText, "2022-01-30".into())]);
    }

    #[test]
    fn time_elements_that_disagree_teasers_and_the_current_time_are_not_the_page_date() {
        // An embedded post's and a related teaser's <time> come before the article's own date.
        let html = "<html><body><blockquote><time datetime=\"2018-03-12T19:30:12+00:00\">12 mars</time></blockquote>\
                    <h1>Titre</h1><div class=publishdate>29 janvier 2019</div>\
                    <aside><time datetime=\"2017-09-06\">6 sept.</time></aside></body></html>";
        assert_eq!(dates(html, "https://x.fr/a"), vec![(Provenance::DateElement, "2019-01-29".into())]);
        // The same day twice is one page date.
        let html = "<html><body><h1>Titre</h1><time datetime=\"2019-01-29T08:00:00+01:00\">29 janvier</time>\
                    <time datetime=\"2019-01-29\">29/01</time></body></html>";
        assert_eq!(
            dates(html, "https://x.fr/a")[0],
            (Provenance::TimeElement, "2019-01-29T08:00:00+01:00".into())
        );
        // A teaser's date beside its linked headline, and the forum's clock, are skipped.
        let html = "<html><body><p class=date>Aktuelle Zeit: 14.10.2020, 12:18</p><ul><li><h5><a href=/b>Autre article</a></h5>\
                    <div class=meta>17.12.2019</div></li></ul><h1>Titre</h1><p class=date>21.01.2009</p></body></html>";
        assert_eq!(dates(html, "https://x.de/a"), vec![(Provenance::DateElement, "2009-01-21".into())]);
        // A teaser wholly inside its link is skipped; a date linked to the page's own address is
        // the blog's permalink and is kept.
        let html = "<html><body><a href=/b><h3>Autre</h3><span class=author>09.10.2021</span></a>\
                    <h1>Titre</h1><a href=https://x.de/a#top><span class=entry-date>24.01.2022</span></a></body></html>";
        assert_eq!(dates(html, "https://x.de/a"), vec![(Provenance::DateElement, "2022-01-24".into())]);
    }

    #[test]
    fn weaker_signals_only_when_no_structured_date() {
        let html = "<html><head><meta property=\"article:published_time\" content=\"2017-05-06T10:00:00+02:00\">\
                    <link rel=canonical href=\"https://x.fr/2016/01/01/a\"></head>\
                    <body><h1>Titre</h1><p>3 mars 2015</p><span class=date>4 avril 2014</span></body></html>";
        assert_eq!(
            dates(html, "https://x.fr/a"),
            vec![
                (Provenance::MetaPublished, "2017-05-06T10:00:00+02:00".into()),
                (Provenance::UrlPath, "2016-01-01".into())
            ],
            "the address is kept as evidence; date elements and text are not read"
        );
    }
}
