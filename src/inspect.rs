//! What the tool sees in a page or a feed: `blackout extract`. The same decoding, extraction
//! and feed reading as a check, shown whole — for a page its title, how the bytes were decoded,
//! every date with its provenance, the dates a check would use, the scoped text blocks and the
//! links; for a feed its entries and what had to be repaired to read them — so a person can see
//! why an item was or was not flagged.

use crate::article::{Article, DateReport};
use crate::charset::Basis;
use crate::fetch::{Document, Fetcher, InputKind, LocalFetcher, Location, Request, Slots, kind_of_bytes, kind_of_file};
use crate::model::{Scope, wire_name};
use crate::report::inert;
use crate::timing::{DateRef, ItemDates};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
    #[error(transparent)]
    Extract(#[from] crate::extract::ExtractError),
    #[error("not fetched")]
    NotFetched,
}

/// A page or a feed, as a check reads it.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum View {
    Page(Box<PageView>),
    Feed(FeedView),
}

impl View {
    pub fn to_text(&self) -> String {
        match self {
            View::Page(p) => p.to_text(),
            View::Feed(f) => f.to_text(),
        }
    }
}

/// Fetches each location once (no cache, no robots.txt: they were named) and shows it.
pub fn views(
    fetcher: &dyn Fetcher,
    locations: &[Location],
    tz: Option<Tz>,
    at: DateTime<Utc>,
    floor: DateTime<Utc>,
) -> Vec<Result<View, InspectError>> {
    let requests: Vec<Request> = locations
        .iter()
        .map(|l| Request {
            location: l.clone(),
            obey_robots: false,
            max_body: None,
        })
        .collect();
    let views: Slots<Result<View, InspectError>> = Slots::new(requests.len());
    fetcher.fetch_each(&requests, &|i, fetched| {
        let view = fetched
            .map_err(InspectError::from)
            .and_then(|doc| view(&doc, &locations[i], tz, at, floor));
        views.put(i, view);
    });
    views.into_values().map(|v| v.unwrap_or(Err(InspectError::NotFetched))).collect()
}

fn view(doc: &Document, location: &Location, tz: Option<Tz>, at: DateTime<Utc>, floor: DateTime<Utc>) -> Result<View, InspectError> {
    let decoded = doc.decode(None);
    let is_feed = match location {
        Location::File(path) => kind_of_file(path) == InputKind::Feed,
        Location::Http(_) => kind_of_bytes(&doc.bytes) == InputKind::Feed,
    };
    if is_feed {
        return Ok(View::Feed(FeedView::new(&doc.final_url, &decoded, tz)));
    }
    let x = crate::extract::extract(&decoded.text, &doc.final_url, tz)?;
    Ok(View::Page(Box::new(PageView::new(
        &doc.final_url,
        &x.article,
        &decoded,
        x.problems,
        at,
        floor,
    ))))
}

/// A feed as a check reads it: its entries, and the repairs and losses on the way.
#[derive(Debug, Serialize)]
pub struct FeedView {
    pub url: String,
    pub kind: &'static str,
    pub encoding: &'static str,
    pub basis: Basis,
    pub entries: Vec<EntryView>,
    /// Repairs and entries lost, or why nothing could be read.
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EntryView {
    pub title: Option<String>,
    pub link: Option<String>,
    pub dates: Vec<DateReport>,
}

impl FeedView {
    fn new(url: &url::Url, decoded: &crate::charset::Decoded, tz: Option<Tz>) -> FeedView {
        let mut view = FeedView {
            url: url.to_string(),
            kind: "feed",
            encoding: decoded.encoding.name(),
            basis: decoded.basis,
            entries: Vec::new(),
            notes: Vec::new(),
            error: None,
        };
        match crate::feed::parse(&decoded.text, url, tz) {
            Ok(parsed) => {
                view.notes = parsed.notes.iter().map(ToString::to_string).collect();
                view.entries = parsed
                    .items
                    .iter()
                    .map(|e| EntryView {
                        title: e.title.clone(),
                        link: e.link.as_ref().map(url::Url::to_string),
                        dates: e.dates.iter().map(Into::into).collect(),
                    })
                    .collect();
            }
            Err(e) => view.error = Some(e.to_string()),
        }
        view
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "== {} (feed)", inert(&self.url));
        let _ = writeln!(out, "decoded:   {} ({})", self.encoding, wire_name(&self.basis));
        if let Some(e) = &self.error {
            let _ = writeln!(out, "error:     {}", inert(e));
        }
        let _ = writeln!(out, "entries:   {}", self.entries.len());
        for e in &self.entries {
            let title = e.title.as_deref().map(inert).unwrap_or_else(|| "(no title)".into());
            let link = e.link.as_deref().map(inert).unwrap_or_else(|| "(no link)".into());
            let dates: Vec<String> = e
                .dates
                .iter()
                .map(|d| format!("{} \"{}\"", d.provenance.name(), inert(&d.raw)))
                .collect();
            let _ = writeln!(out, "  {title}\n    {link}\n    {}", dates.join(", "));
        }
        for n in &self.notes {
            let _ = writeln!(out, "note:      {}", inert(n));
        }
        out
    }
}

/// `extract --jsonl DIR`: one JSON line per page, on all cores, in path order.
pub fn batch(local: &LocalFetcher, dir: &Path, pages: &[PathBuf], tz: Option<Tz>, at: DateTime<Utc>, floor: DateTime<Utc>) -> Vec<String> {
    use rayon::prelude::*;
    pages
        .par_iter()
        .map(|path| {
            let file = path.strip_prefix(dir).unwrap_or(path).to_string_lossy().replace('\\', "/");
            let mut line = batch_line(local, path, tz, at, floor).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
            line["file"] = file.into();
            line.to_string()
        })
        .collect()
}

fn batch_line(
    local: &LocalFetcher,
    path: &Path,
    tz: Option<Tz>,
    at: DateTime<Utc>,
    floor: DateTime<Utc>,
) -> Result<serde_json::Value, InspectError> {
    let doc = local.fetch(&Location::File(path.to_path_buf()), None)?;
    let decoded = doc.decode(None);
    let a = crate::extract::extract(&decoded.text, &doc.final_url, tz)?.article;
    let text: Vec<&str> = a
        .blocks
        .iter()
        .filter(|b| !matches!(b.scope, Scope::Title | Scope::Caption))
        .map(|b| &a.text[b.range.clone()])
        .collect();
    let dates = ItemDates::choose(&a.dates, at, floor);
    let written = |d: &Option<DateRef>| d.as_ref().and_then(|d| d.when.as_written());
    let provenance = |d: &Option<DateRef>| d.as_ref().map(|d| d.provenance.name());
    let confidence = |d: &Option<DateRef>| d.as_ref().map(|d| d.provenance.confidence());
    Ok(serde_json::json!({
        "title": a.title,
        "text": text.join("\n"),
        "published": written(&dates.published),
        "published_day": dates.publisher_day().map(|d| d.to_string()),
        "published_provenance": provenance(&dates.published),
        "published_confidence": confidence(&dates.published),
        "modified": written(&dates.modified),
        "modified_provenance": provenance(&dates.modified),
        "modified_confidence": confidence(&dates.modified),
        "encoding": decoded.encoding.name(),
        "class": a.kind.class,
        "class_reason": a.kind.reason,
    }))
}

#[derive(Debug, Serialize)]
pub struct PageView {
    pub url: String,
    pub title: Option<String>,
    /// Article, listing, interstitial or empty, with the reason when not an article.
    pub kind: crate::article::PageKind,
    /// Whether a check reads what the page published (an article, a listing's teasers).
    pub checked: bool,
    pub encoding: &'static str,
    pub basis: Basis,
    /// The dates a check would use, by the documented precedence.
    pub published: Option<DateRef>,
    pub modified: Option<DateRef>,
    /// The same, as the page wrote them (RFC 3339 with the offset, or the bare day).
    pub published_as_written: Option<String>,
    pub modified_as_written: Option<String>,
    /// Every date found.
    pub dates: Vec<DateReport>,
    pub blocks: Vec<BlockView>,
    /// A listing's items: where each one's text is, what it links to, the date it shows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub teasers: Vec<TeaserView>,
    pub links: Vec<LinkView>,
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TeaserView {
    pub start: usize,
    pub end: usize,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<DateReport>,
}

#[derive(Debug, Serialize)]
pub struct BlockView {
    pub scope: Scope,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct LinkView {
    pub url: String,
    pub within: Scope,
}

impl PageView {
    pub fn new(
        url: &url::Url,
        article: &Article,
        decoded: &crate::charset::Decoded,
        problems: Vec<String>,
        at: DateTime<Utc>,
        floor: DateTime<Utc>,
    ) -> PageView {
        let chosen = ItemDates::choose(&article.dates, at, floor);
        PageView {
            url: url.to_string(),
            title: article.title.clone(),
            kind: article.kind.clone(),
            checked: article.readable(),
            encoding: decoded.encoding.name(),
            basis: decoded.basis,
            published_as_written: chosen.published.as_ref().and_then(|d| d.when.as_written()),
            modified_as_written: chosen.modified.as_ref().and_then(|d| d.when.as_written()),
            published: chosen.published,
            modified: chosen.modified,
            dates: article.dates.iter().map(Into::into).collect(),
            blocks: article
                .blocks
                .iter()
                .map(|b| BlockView {
                    scope: b.scope,
                    start: b.range.start,
                    end: b.range.end,
                    text: article.text[b.range.clone()].to_string(),
                })
                .collect(),
            teasers: article
                .teasers
                .iter()
                .map(|t| TeaserView {
                    start: t.range.start,
                    end: t.range.end,
                    url: t.url.to_string(),
                    date: t.date.as_ref().map(Into::into),
                })
                .collect(),
            links: article
                .links
                .iter()
                .map(|l| LinkView {
                    url: l.url.to_string(),
                    within: l.within,
                })
                .collect(),
            problems,
        }
    }

    /// For a terminal: web content made inert, long blocks shortened.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "== {}", inert(&self.url));
        let _ = writeln!(
            out,
            "title:     {}",
            self.title.as_deref().map(inert).unwrap_or_else(|| "(none)".into())
        );
        let _ = writeln!(
            out,
            "class:     {}{}",
            wire_name(&self.kind.class),
            match (&self.kind.reason, self.checked) {
                (Some(r), true) => format!(" (checked on its {} teasers: {})", self.teasers.len(), inert(r)),
                (Some(r), false) => format!(" (not checked: {})", inert(r)),
                (None, _) => String::new(),
            }
        );
        let _ = writeln!(out, "decoded:   {} ({})", self.encoding, wire_name(&self.basis));
        let chosen = |d: &Option<DateRef>| match d {
            Some(d) => format!(
                "{} (as written {}) from {} ({} confidence) \"{}\"",
                crate::model::stamp(d.when.instant()),
                d.when.as_written().unwrap_or_else(|| "a month or a year".into()),
                d.provenance.name(),
                wire_name(&d.provenance.confidence()),
                inert(&d.raw)
            ),
            None => "(none)".into(),
        };
        let listing = self.checked && self.kind.class == crate::article::PageClass::Listing;
        let _ = writeln!(
            out,
            "published: {}{}",
            chosen(&self.published),
            if listing {
                " — the page's own: a check times a listing by its teasers' dates or when it was seen"
            } else {
                ""
            }
        );
        let _ = writeln!(out, "modified:  {}", chosen(&self.modified));
        let _ = writeln!(out, "dates found:");
        for d in &self.dates {
            let value = match (&d.instant, &d.error) {
                (Some(i), _) => crate::model::stamp(*i),
                (None, Some(e)) => format!("not a date: {}", inert(e)),
                (None, None) => String::new(),
            };
            let _ = writeln!(out, "  {:<28} \"{}\" → {value}", d.provenance.name(), inert(&d.raw));
        }
        let _ = writeln!(out, "blocks:");
        for b in &self.blocks {
            let text = inert(&b.text);
            let short: String = text.chars().take(160).collect();
            let more = if short.len() < text.len() { "…" } else { "" };
            let _ = writeln!(out, "  {:<6} {}..{}  {short}{more}", wire_name(&b.scope), b.start, b.end);
        }
        if !self.teasers.is_empty() {
            let _ = writeln!(out, "teasers:");
        }
        for t in &self.teasers {
            let date = t.date.as_ref().map_or_else(String::new, |d| {
                let value = d.instant.map_or_else(|| "not a date".into(), crate::model::stamp);
                format!("  shows {} \"{}\" → {value}", d.provenance.name(), inert(&d.raw))
            });
            let _ = writeln!(out, "  {}..{}  {}{date}", t.start, t.end, inert(&t.url));
        }
        let _ = writeln!(out, "links:");
        for l in &self.links {
            let _ = writeln!(out, "  {:<6} {}", wire_name(&l.within), inert(&l.url));
        }
        for p in &self.problems {
            let _ = writeln!(out, "problem:   {}", inert(p));
        }
        out
    }
}
