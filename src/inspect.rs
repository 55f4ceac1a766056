//! What the tool sees in a page: `blackout extract`. The same decoding and extraction as a
//! check, shown whole (title, how the bytes were decoded, every date with its provenance, the
//! dates a check would use, the scoped text blocks and the links), so a person can see why a
//! page was or was not flagged.

use crate::article::Article;
use crate::charset::Basis;
use crate::report::{DateReport, inert};
use crate::rules::Scope;
use crate::timing::{DateRef, ItemDates};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Serialize)]
pub struct PageView {
    pub url: String,
    pub title: Option<String>,
    /// Article, listing, interstitial or empty, with the reason when not an article.
    pub kind: crate::article::PageKind,
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
    pub links: Vec<LinkView>,
    pub problems: Vec<String>,
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
            crate::wire_name(&self.kind.class),
            self.kind
                .reason
                .as_deref()
                .map(|r| format!(" (not checked: {})", inert(r)))
                .unwrap_or_default()
        );
        let _ = writeln!(out, "decoded:   {} ({})", self.encoding, crate::wire_name(&self.basis));
        let chosen = |d: &Option<DateRef>| match d {
            Some(d) => format!(
                "{} (as written {}) from {} ({} confidence) \"{}\"",
                d.when.instant().format("%Y-%m-%dT%H:%M:%SZ"),
                d.when.as_written().unwrap_or_else(|| "a month or a year".into()),
                d.provenance.name(),
                crate::wire_name(&d.provenance.confidence()),
                inert(&d.raw)
            ),
            None => "(none)".into(),
        };
        let _ = writeln!(out, "published: {}", chosen(&self.published));
        let _ = writeln!(out, "modified:  {}", chosen(&self.modified));
        let _ = writeln!(out, "dates found:");
        for d in &self.dates {
            let value = match (&d.instant, &d.error) {
                (Some(i), _) => i.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
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
            let _ = writeln!(out, "  {:<6} {}..{}  {short}{more}", crate::wire_name(&b.scope), b.start, b.end);
        }
        let _ = writeln!(out, "links:");
        for l in &self.links {
            let _ = writeln!(out, "  {:<6} {}", crate::wire_name(&l.within), inert(&l.url));
        }
        for p in &self.problems {
            let _ = writeln!(out, "problem:   {}", inert(p));
        }
        out
    }
}
