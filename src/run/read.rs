//! Fetched documents into what the next stage needs — a homepage's feeds, a listing's entries,
//! a page's article — with every failure recorded against its source, never fatal.

use super::{Reading, Tally};
use crate::charset::{Basis, Decoded};
use crate::extract::{ExtractError, Extracted};
use crate::feed::{self, FeedError, FeedItem, Note, sitemap};
use crate::fetch::{Document, FetchError, Location, NetStage};
use crate::judge::Page;
use crate::problem::Code;
use crate::rules::Source;
use chrono_tz::Tz;
use url::Url;

/// How a page is extracted: `extract::extract` in a run; a seam for tests.
pub type Extractor = fn(&str, &Url, Option<Tz>) -> Result<Extracted, ExtractError>;

/// How many sitemaps of one index are read.
pub const MAX_CHILD_SITEMAPS: usize = 50;

/// A fetch result accepted and decoded, or `None` (the failure recorded).
fn accept(fetched: Result<Document, FetchError>, location: &Location, source: &Source, out: &mut Tally) -> Option<(Document, Decoded)> {
    let doc = self::fetched(fetched, location, source, out)?;
    let decoded = decode(&doc, source, out);
    Some((doc, decoded))
}

/// A fetch result counted against its source, its failure or truncation recorded.
pub fn fetched(fetched: Result<Document, FetchError>, location: &Location, source: &Source, out: &mut Tally) -> Option<Document> {
    let doc = match fetched {
        Ok(d) => d,
        Err(e) => {
            let url = location.url();
            tracing::info!(source = %source.id, %url, error = %e, "not fetched");
            out.summary.failed += 1;
            out.problem(source, &url, code_of(&e), e.to_string());
            return None;
        }
    };
    out.summary.documents += 1;
    out.summary.cached += usize::from(doc.from_cache);
    out.summary.fetch_seconds += doc.elapsed.as_secs_f64();
    if doc.truncated {
        let message = format!(
            "larger than {} bytes; only the beginning was read (raise `--max-body` or the source's `max_body`)",
            doc.max_bytes
        );
        out.problem(source, &doc.final_url, Code::BodyCut, message);
    }
    Some(doc)
}

/// A document's text in the source's charset (or as the document says), with what was
/// mislabelled or replaced recorded.
fn decode(doc: &Document, source: &Source, out: &mut Tally) -> Decoded {
    let decoded = doc.decode(source.charset);
    if decoded.basis == Basis::Utf8OverDeclaration {
        let message = "declares a legacy encoding but is valid UTF-8; read as UTF-8";
        out.problem(source, &doc.final_url, Code::Utf8OverDeclaration, message);
    }
    if decoded.had_errors {
        let message = format!(
            "bytes invalid in {} were replaced (encoding chosen from {})",
            decoded.encoding.name(),
            crate::model::wire_name(&decoded.basis)
        );
        out.problem(source, &doc.final_url, Code::BytesReplaced, message);
    }
    decoded
}

fn code_of(e: &FetchError) -> Code {
    match e {
        FetchError::Io { .. } => Code::FileUnreadable,
        FetchError::HttpUnavailable => Code::HttpUnavailable,
        FetchError::Replay { .. } => Code::NotReplayable,
        FetchError::Network { stage, .. } => match stage {
            NetStage::Dns => Code::DnsFailed,
            NetStage::Connect => Code::ConnectFailed,
            NetStage::Tls => Code::TlsFailed,
            NetStage::Timeout => Code::TimedOut,
            NetStage::Status => Code::HttpStatus,
            NetStage::RedirectLoop => Code::RedirectLoop,
            NetStage::Robots => Code::RobotsDisallowed,
            NetStage::Denied => Code::PrivateAddress,
            NetStage::Body => Code::BodyBroken,
        },
    }
}

/// What a homepage gave: the feeds it advertises, and the document itself (judged as a page).
pub struct Home {
    pub feeds: Vec<Url>,
    pub doc: Option<Document>,
}

/// The feeds a homepage advertises; none is a problem of its source, which is then read in
/// part (the homepage itself is judged, its articles are not reached).
pub fn home(fetched: Result<Document, FetchError>, location: &Location, source: &Source, out: &mut Tally) -> (Home, Reading) {
    let Some((doc, decoded)) = accept(fetched, location, source, out) else {
        return (
            Home {
                feeds: Vec::new(),
                doc: None,
            },
            out.failed(),
        );
    };
    let feeds = feed::advertised(&decoded.text, &doc.final_url);
    let reading = if feeds.is_empty() {
        let message = "the homepage advertises no feed (no <link rel=\"alternate\"> of an RSS, Atom or JSON Feed type): name the feed with `feed =` (or list the pages to read with `pages =`)";
        out.problem(source, &doc.final_url, Code::NoFeedAdvertised, message);
        Reading::Partly(out.last_failure())
    } else if doc.truncated {
        Reading::Partly(out.failure_of(Code::BodyCut))
    } else {
        Reading::Whole
    };
    (Home { feeds, doc: Some(doc) }, reading)
}

/// What a feed or sitemap listed.
#[derive(Debug, Default)]
pub struct Listed {
    pub entries: Vec<FeedItem>,
    /// The sitemaps a sitemap index lists.
    pub children: Vec<Url>,
    pub fetched_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A feed or sitemap read into entries, and how much of it could be read: a document cut at
/// the size cap or mid-transfer, or with an entry that could not be read, is read in part.
pub fn listing(fetched: Result<Document, FetchError>, location: &Location, source: &Source, out: &mut Tally) -> (Listed, Reading) {
    let Some((doc, decoded)) = accept(fetched, location, source, out) else {
        return (Listed::default(), out.failed());
    };
    let url = &doc.final_url;
    let mut listed = Listed {
        fetched_at: Some(doc.fetched_at),
        ..Listed::default()
    };
    let read = if sitemap::is_sitemap(&decoded.text) {
        sitemap::parse(&decoded.text, url, source.tz)
            .map_err(|e| (Code::SitemapUnreadable, e.to_string()))
            .map(|(map, notes)| {
                match map {
                    sitemap::Sitemap::Urls(entries) => listed.entries = entries,
                    sitemap::Sitemap::Index(children) => listed.children = children,
                }
                notes
            })
    } else {
        feed::parse(&decoded.text, url, source.tz)
            .map_err(|e| {
                let code = match e {
                    FeedError::Empty => Code::EmptyBody,
                    FeedError::Html => Code::HtmlNotFeed,
                    FeedError::Unreadable(_) => Code::NotAFeed,
                };
                (code, e.to_string())
            })
            .map(|parsed| {
                listed.entries = parsed.items;
                parsed.notes
            })
    };
    let notes = match read {
        Ok(notes) => notes,
        Err((code, message)) => {
            out.problem(source, url, code, message);
            return (listed, out.failed());
        }
    };
    let mut partly = doc.truncated.then(|| out.failure_of(Code::BodyCut));
    for note in notes {
        let code = match note {
            Note::Repaired(_) => Code::FeedRepaired,
            Note::EntryByEntry(_) => Code::FeedReadEntryByEntry,
            Note::Truncated(_) => Code::FeedTruncated,
            Note::EntryUnreadable { .. } => Code::EntryUnreadable,
        };
        out.problem(source, url, code, note.to_string());
        if matches!(code, Code::FeedTruncated | Code::EntryUnreadable) {
            partly.get_or_insert_with(|| out.last_failure());
        }
    }
    (listed, partly.map_or(Reading::Whole, Reading::Partly))
}

/// A fetched page decoded and extracted for one reader (its charset, its zone), in isolation:
/// a panic in extraction (a bug, on hostile input) costs this page, recorded, never the run.
/// `decoded_before`: its decoding problems were recorded when it was read before (a homepage,
/// read for its feeds), and are not recorded twice.
pub fn page(doc: &Document, source: &Source, extract: Extractor, decoded_before: bool, out: &mut Tally) -> Option<Page> {
    let decoded = if decoded_before {
        doc.decode(source.charset)
    } else {
        decode(doc, source, out)
    };
    let extracted = match super::isolated(|| extract(&decoded.text, &doc.final_url, source.tz)) {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            out.problem(source, &doc.final_url, Code::PageTooDeep, e.to_string());
            return None;
        }
        Err(panic) => {
            let message = format!("extraction failed on this page (an internal error: {panic}); the page was not checked");
            out.problem(source, &doc.final_url, Code::ExtractionCrashed, message);
            return None;
        }
    };
    for p in extracted.problems {
        out.problem(source, &doc.final_url, Code::InvalidJsonLd, p);
    }
    Some(Page {
        article: extracted.article,
        url: doc.final_url.clone(),
        fetched_at: doc.fetched_at,
        encoding: decoded.encoding.name(),
        basis: decoded.basis,
        redirects: doc.redirects.clone(),
    })
}
