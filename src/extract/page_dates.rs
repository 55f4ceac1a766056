//! The dates a page states about itself, each with the signal it came from.

use super::selector;
use crate::article::{FoundDate, Provenance};
use chrono_tz::Tz;
use scraper::Html;

/// Every date the page states, in document order within each kind.
pub fn found(doc: &Html, json_ld: &[serde_json::Value], tz: Option<Tz>) -> Vec<FoundDate> {
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
    found
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
