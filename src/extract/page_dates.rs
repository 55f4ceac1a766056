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
            _ => continue,
        };
        if let Some(content) = meta.value().attr("content") {
            push(content, provenance);
        }
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
    for el in doc.select(selector!("time[datetime]")) {
        if el.value().attr("itemprop").is_none() {
            push(el.value().attr("datetime").unwrap_or_default(), Provenance::TimeElement);
        }
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
    if !has_published(&found) {
        date_elements(body, order, tz, &mut found);
    }
    // The address is always read: beside a weaker signal it is a date, beside a stronger one
    // it shows a republication or the publisher's calendar day.
    let address = page_url(doc, base);
    if let Some(day) = url_day(&address) {
        found.push(FoundDate {
            raw: address.to_string(),
            provenance: Provenance::UrlPath,
            parsed: crate::dates::parse(&day, tz),
        });
    }
    if !has_published(&found)
        && let Some(d) = text_near_headline(body, order)
    {
        found.push(d.into_found(Provenance::VisibleText, tz));
    }
    found
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
fn slash_order(doc: &Html) -> SlashOrder {
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
        "zeit",
        "meta",
    ];
    const NOT: &[&str] = &["update", "modif", "comment", "timeline", "metadata", "meta-nav", "edit"];
    let mut names = String::new();
    for a in ["class", "id", "itemprop"] {
        if let Some(v) = el.attr(a) {
            names.push_str(v);
            names.push(' ');
        }
    }
    names.make_ascii_lowercase();
    WORDS.iter().any(|w| names.contains(w)) && !NOT.iter().any(|w| names.contains(w))
}

/// The first date-named element that holds a date: its `datetime`/`title`/`content`
/// attribute when machine-readable, else its short text.
fn date_elements(body: ElementRef, order: SlashOrder, tz: Option<Tz>, found: &mut Vec<FoundDate>) {
    for el in body.descendants().filter_map(ElementRef::wrap) {
        let e = el.value();
        if super::content::SKIP.contains(&e.name()) || !is_date_named(e) {
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
        let text: String = el.text().collect();
        if text.len() > 200 {
            continue;
        }
        if let Some(spotted) = find::first(&text, order, None) {
            let raw = crate::article::collapse_whitespace(&text);
            found.push(Written { raw, spotted }.into_found(Provenance::DateElement, tz));
            return;
        }
    }
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
/// just under it), within a short reach.
fn text_near_headline(body: ElementRef, order: SlashOrder) -> Option<Written> {
    const REACH: usize = 1_500;
    let h1 = body.select(selector!("h1")).next()?;
    let text = super::visible_text(body, Some(h1.id()), REACH);
    let spotted = find::first(&text, order, None)?;
    let shown: String = text[spotted.range.start..].chars().take(spotted.range.len() + 20).collect();
    let raw = crate::article::collapse_whitespace(&shown);
    Some(Written { raw, spotted })
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
