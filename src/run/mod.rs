//! A check run, orchestration only: the plan's homepages, then its feeds and sitemaps (and the
//! sitemaps an index lists), then the worklist's pages, each extracted and judged as it
//! arrives. Every stage runs over all sources at once so the fetcher can keep its limits busy;
//! nothing here stops the run for one bad input: each failure becomes a problem against its
//! source, and a source from which nothing could be read is reported not checked.
//!
//! Two hooks let the run remember across runs without touching the stages: a [`History`] the
//! run asks about each item (the state store's [`crate::store::Recall`]), and a [`Recorder`]
//! that sees every document fetched. [`NoHistory`] and [`NoRecorder`] stand in for them.

mod read;

pub use read::Extractor;

use crate::article::normalize_url;
use crate::fetch::{Document, FetchError, Fetcher, Location, Request, Slots};
use crate::judge::{self, Clock, Item, Judged, Page};
use crate::model::SourceId;
use crate::problem::{Code, Problem};
use crate::report::{ListingRead, Report, SourceStatus, SourceSummary};
use crate::rules::{Engine, Source};
use crate::sources::{Kind, Known, Listing, Plan, PlanError, Replacement, Selection, Worklist, same_kind};
use crate::timing::Observed;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::path::PathBuf;
use url::Url;

/// What to check, beyond the rules.
#[derive(Debug, Clone)]
pub struct Options {
    /// The instant the run evaluates as of (now, or `--at` for replays).
    pub at: DateTime<Utc>,
    /// Dates before this are implausible and not used.
    pub date_floor: DateTime<Utc>,
    pub replacement: Replacement,
    pub selection: Selection,
    /// This machine's share of the sources, when several share them.
    pub shard: Option<crate::sources::Shard>,
    /// The body cap of a source that names none (`--max-body`): a page several sources read is
    /// fetched with the largest cap any of them has.
    pub max_body: u64,
}

/// Told how a run advances: a progress bar on a terminal, nothing otherwise.
pub trait Progress: Sync {
    /// A stage begins (`homes`, `feeds`, `sitemaps`, `pages`) with this many documents to fetch.
    fn stage(&self, name: &'static str, total: usize);
    /// One document of the stage is done, fetched or not.
    fn done(&self, failed: bool);
}

/// No progress to show.
pub struct Quiet;

impl Progress for Quiet {
    fn stage(&self, _: &'static str, _: usize) {}
    fn done(&self, _: bool) {}
}

/// What earlier runs know about an item: asked once per item judged.
pub trait History: Sync {
    /// What runs saw of this item of this source: when it was first seen (at `at`, this run's
    /// instant, if never before), whether an earlier whole read of one of the `listings` that
    /// list it now did not, its last capture. `None` when nothing is remembered.
    fn observe(&self, source: &str, url: &Url, listings: &mut dyn Iterator<Item = &Url>, at: DateTime<Utc>) -> Option<Observed>;
    /// When an earlier run last read this item's page, if it read this very feed entry then
    /// (same [`crate::identity::entry_digest`]) and left no finding of the item open.
    fn unchanged(&self, source: &str, url: &Url, entry: &crate::feed::FeedItem) -> Option<DateTime<Utc>>;
}

/// No memory of earlier runs.
pub struct NoHistory;

impl History for NoHistory {
    fn observe(&self, _: &str, _: &Url, _: &mut dyn Iterator<Item = &Url>, _: DateTime<Utc>) -> Option<Observed> {
        None
    }
    fn unchanged(&self, _: &str, _: &Url, _: &crate::feed::FeedItem) -> Option<DateTime<Utc>> {
        None
    }
}

/// The run's history as the worklist asks it, at the run's instant.
struct Earlier<'a> {
    history: &'a dyn History,
    at: DateTime<Utc>,
}

impl Known for Earlier<'_> {
    fn appeared(&self, source: &str, item: &Url, listing: &Url) -> Option<crate::dates::When> {
        let o = self.history.observe(source, item, &mut std::iter::once(listing), self.at)?;
        Some(crate::dates::When::between(o.absent_at?, o.first_seen))
    }

    fn unchanged(&self, source: &str, item: &Url, entry: &crate::feed::FeedItem) -> Option<DateTime<Utc>> {
        self.history.unchanged(source, item, entry)
    }
}

/// Sees what a run rests on, for its evidence: every fetch as it ends, before anything reads
/// the document (the document as fetched, or why there is none); every answer the history
/// gave; every item as judged.
pub trait Recorder: crate::fetch::Witness {
    fn recalled(&self, _: Recalled) {}
    fn judged(&self, _: &Item, _: &Judged) {}
}

/// Keeps nothing.
#[derive(Debug)]
pub struct NoRecorder;

impl crate::fetch::Witness for NoRecorder {
    fn fetched(&self, _: &Location, _: &Result<Document, FetchError>) {}
}

impl Recorder for NoRecorder {}

/// An answer the run's [`History`] gave: with the captures, all a replay needs to take every
/// decision the run took (which pages to read, when an item was first seen).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "asked", rename_all = "snake_case")]
pub enum Recalled {
    /// [`History::observe`], with the listings asked about (in the order asked).
    Observe {
        source: String,
        url: String,
        listings: Vec<String>,
        answer: Option<Observed>,
    },
    /// [`History::unchanged`] when it answered: the entry by its digest
    /// ([`crate::identity::entry_digest`]); a question not recorded was answered `None`.
    Unchanged {
        source: String,
        url: String,
        entry: String,
        read: DateTime<Utc>,
    },
}

/// The run's history, each answer told to the recorder.
struct Told<'a> {
    history: &'a dyn History,
    recorder: &'a dyn Recorder,
}

impl History for Told<'_> {
    fn observe(&self, source: &str, url: &Url, listings: &mut dyn Iterator<Item = &Url>, at: DateTime<Utc>) -> Option<Observed> {
        let listings: Vec<&Url> = listings.collect();
        let answer = self.history.observe(source, url, &mut listings.iter().copied(), at);
        self.recorder.recalled(Recalled::Observe {
            source: source.to_string(),
            url: url.to_string(),
            listings: listings.iter().map(|l| l.to_string()).collect(),
            answer: answer.clone(),
        });
        answer
    }

    fn unchanged(&self, source: &str, url: &Url, entry: &crate::feed::FeedItem) -> Option<DateTime<Utc>> {
        let read = self.history.unchanged(source, url, entry)?;
        self.recorder.recalled(Recalled::Unchanged {
            source: source.to_string(),
            url: url.to_string(),
            entry: crate::identity::entry_digest(entry),
            read,
        });
        Some(read)
    }
}

/// The hooks of a run.
#[derive(Clone, Copy)]
pub struct Hooks<'a> {
    pub history: &'a dyn History,
    pub recorder: &'a dyn Recorder,
    pub progress: &'a dyn Progress,
}

impl Default for Hooks<'_> {
    fn default() -> Self {
        Hooks {
            history: &NoHistory,
            recorder: &NoRecorder,
            progress: &Quiet,
        }
    }
}

/// A check over one engine and fetcher.
pub struct Run<'a> {
    pub engine: &'a Engine,
    pub fetcher: &'a dyn Fetcher,
    pub hooks: Hooks<'a>,
    pub extract: Extractor,
}

impl<'a> Run<'a> {
    pub fn new(engine: &'a Engine, fetcher: &'a dyn Fetcher, hooks: Hooks<'a>) -> Run<'a> {
        Run {
            engine,
            fetcher,
            hooks,
            extract: crate::extract::extract,
        }
    }

    /// Runs the check. `rule_files` only labels the report.
    pub fn check(&self, options: &Options, rule_files: &[PathBuf]) -> Result<Report, PlanError> {
        let mut plan = Plan::new(self.engine.rules(), &options.replacement, options.shard)?;
        let mut tallies: Vec<Tally> = plan.sources.iter().map(|s| Tally::of(s, self.engine.rules())).collect();
        for (s, p) in std::mem::take(&mut plan.problems) {
            let t = &mut tallies[s.index()];
            t.problems.push(p);
            t.input(t.failed());
        }
        let homes = self.discover(&mut plan, &mut tallies);
        let listings = self.read_listings(&plan, &mut tallies);
        let listings_read: Vec<ListingRead> = listings
            .iter()
            .filter(|l| l.whole)
            .map(|l| ListingRead {
                source: plan.source(l.source).id.clone(),
                url: l.location.url().to_string(),
            })
            .collect();
        let told = Told {
            history: self.hooks.history,
            recorder: self.hooks.recorder,
        };
        let earlier = Earlier {
            history: &told,
            at: options.at,
        };
        let work = Worklist::build(
            &plan,
            listings,
            self.engine.rules(),
            self.fetcher,
            options.selection,
            &earlier,
            options.at,
        );
        let clock = Clock {
            at: options.at,
            floor: options.date_floor,
        };
        self.judge_all(&plan, &work, &homes, &told, clock, options.max_body, &mut tallies);
        let mut report = Report::new(self.engine.rules(), options.at, rule_files);
        report.listings_read = listings_read;
        for t in tallies {
            let t = t.finish();
            report.add_source(t.summary, t.problems, t.judged);
        }
        report.sort();
        Ok(report)
    }

    /// Fetches `requests` (all sources together), recording each outcome, and hands each to
    /// `each` as it arrives; what `each` returns comes back in request order.
    fn fetch_all<T: Send>(&self, stage: &'static str, requests: &[Request], each: &OnFetched<T>) -> Vec<Option<T>> {
        if requests.is_empty() {
            return Vec::new();
        }
        let progress = self.hooks.progress;
        progress.stage(stage, requests.len());
        let done: Slots<T> = Slots::new(requests.len());
        self.fetcher.fetch_each(requests, &|i, fetched| {
            progress.done(fetched.is_err());
            self.hooks.recorder.fetched(&requests[i].location, &fetched);
            done.put(i, each(i, fetched));
        });
        done.into_values().collect()
    }

    /// Reads the homepages and adds the feeds they advertise to the plan (each once per source).
    /// Each homepage read is a page of its source too, judged (as a listing) from this read,
    /// which is returned.
    fn discover(&self, plan: &mut Plan, tallies: &mut [Tally]) -> Vec<HomeRead> {
        let homes: Vec<(SourceId, Location)> = plan
            .inputs
            .iter()
            .filter(|i| i.kind == Kind::Home)
            .map(|i| (i.source, i.location.clone()))
            .collect();
        let requests: Vec<Request> = homes.iter().map(|(s, l)| request(plan.source(*s), l, true)).collect();
        let found = self.fetch_all("homes", &requests, &|i, fetched| {
            let (s, location) = &homes[i];
            let mut out = Tally::default();
            let (home, reading) = read::home(fetched, location, plan.source(*s), &mut out);
            out.input(reading);
            (out, home)
        });
        let mut read = Vec::new();
        for ((s, home), found) in homes.iter().zip(found) {
            let Some((out, read::Home { feeds, doc })) = found else { continue };
            if let Some(doc) = doc {
                plan.add(*s, Kind::Page, home.clone());
                read.push(HomeRead {
                    source: *s,
                    url: normalize_url(&home.url()),
                    doc,
                });
            }
            tallies[s.index()].absorb(out);
            for url in feeds {
                let location = Location::from_url(&url);
                if same_kind(&location, home) {
                    plan.add(*s, Kind::Listing, location);
                }
            }
        }
        read
    }

    /// Reads every feed and sitemap, then the sitemaps that sitemap indexes list (one level: an
    /// index listed by an index is reported, not read).
    fn read_listings(&self, plan: &Plan, tallies: &mut [Tally]) -> Vec<Listing> {
        let mut todo: Vec<(SourceId, Location)> = plan
            .inputs
            .iter()
            .filter(|i| i.kind == Kind::Listing)
            .map(|i| (i.source, i.location.clone()))
            .collect();
        let mut listings = Vec::new();
        for stage in ["feeds", "sitemaps"] {
            let requests: Vec<Request> = todo.iter().map(|(s, l)| request(plan.source(*s), l, false)).collect();
            let read = self.fetch_all(stage, &requests, &|i, fetched| {
                let (s, location) = &todo[i];
                let mut out = Tally::default();
                let source = plan.source(*s);
                let (mut listed, mut reading) = read::listing(fetched, location, source, &mut out);
                if let Some((code, message)) = children_left(stage, listed.children.len()) {
                    out.problem(source, &location.url(), code, message);
                    reading = Reading::Partly(out.last_failure());
                }
                listed
                    .children
                    .truncate(if stage == "feeds" { read::MAX_CHILD_SITEMAPS } else { 0 });
                let whole = matches!(reading, Reading::Whole);
                out.input(reading);
                (out, listed, whole)
            });
            let mut children = Vec::new();
            for ((s, location), read) in todo.into_iter().zip(read) {
                let (out, listed, whole) = read.unwrap_or_default();
                tallies[s.index()].absorb(out);
                children.extend(
                    listed
                        .children
                        .iter()
                        .map(Location::from_url)
                        .filter(|l| same_kind(l, &location))
                        .map(|l| (s, l)),
                );
                listings.push(Listing {
                    source: s,
                    location,
                    fetched_at: listed.fetched_at,
                    whole,
                    entries: listed.entries,
                });
            }
            todo = children;
        }
        listings
    }

    /// Fetches the pages, extracting each once per reading (the zone and charset of the sources
    /// that read it) and judging every item that reads it as it arrives; then judges the items
    /// without a page on their feed data.
    #[allow(clippy::too_many_arguments)]
    fn judge_all(
        &self,
        plan: &Plan,
        work: &Worklist,
        homes: &[HomeRead],
        history: &dyn History,
        clock: Clock,
        max_body: u64,
        tallies: &mut [Tally],
    ) {
        let judged: Slots<Tally> = Slots::new(work.items.len());
        let finish = |i: usize, page: Option<&Page>, mut out: Tally| {
            let w = &work.items[i];
            let source = plan.source(w.source);
            let observed = history.observe(&source.id, &w.url, &mut w.entries.iter().map(|e| &*e.listing), clock.at);
            let item = Item {
                source,
                url: &w.url,
                page,
                entries: &w.entries,
                feed_only: w.feed_only,
                observed: observed.as_ref(),
            };
            match isolated(|| judge::judge(self.engine, item, clock)) {
                Ok(j) => {
                    self.hooks.recorder.judged(&item, &j);
                    out.judged(j)
                }
                Err(panic) => {
                    let message = format!("judging failed on this item (an internal error: {panic}); it was not checked");
                    out.problem(item.source, item.url, Code::JudgingCrashed, message);
                }
            }
            judged.put(i, out);
        };
        // A homepage discovery read is judged from that read: not fetched again, its fetch and
        // decoding not counted again. For its own source it is an input already counted (only
        // an extraction that fails counts, as the failed input it then is); for a source that
        // lists the same page, an input like any other.
        // The homepages read at each page's address, found once (none without homepages).
        let at_page: Vec<Vec<&HomeRead>> = match homes.is_empty() {
            true => Vec::new(),
            false => work
                .pages
                .iter()
                .map(|page| {
                    let url = normalize_url(&page.location.url());
                    homes.iter().filter(|h| h.url == url).collect()
                })
                .collect(),
        };
        let homes_at = |p: usize| at_page.get(p).map_or(&[][..], Vec::as_slice);
        let each = |p: usize, fetched: Option<Result<Document, FetchError>>| {
            let users = &work.pages[p].items;
            let mut read = PageReads::new(plan, readers(work, &work.pages[p]));
            let before = fetched.is_none();
            // A homepage's read is borrowed, not copied (it may be as large as any body).
            let own;
            let doc: Option<&Document> = match fetched {
                Some(fetched) => {
                    own = read::fetched(fetched, &work.pages[p].location, read.first(), &mut read.fetch);
                    own.as_ref()
                }
                None => homes_at(p).first().map(|h| &h.doc),
            };
            let pages = read.extract(doc, self.extract, before);
            let home_of = |s: SourceId| homes_at(p).iter().any(|h| h.source == s);
            for &i in users {
                let s = work.items[i].source;
                let mut own = read.take_for(s);
                let page = pages
                    .iter()
                    .find(|(key, _)| *key == reading_key(plan.source(s)))
                    .and_then(|(_, p)| p.as_ref());
                if work.items[i].entries.is_empty() {
                    let reading = match (page, doc.is_some_and(|d| d.truncated)) {
                        (Some(_), false) => Reading::Whole,
                        (Some(_), true) => Reading::Partly(read.fetch.failure_of(Code::BodyCut)),
                        (None, _) => Reading::Failed(read.failure(s)),
                    };
                    if !home_of(s) || matches!(reading, Reading::Failed(_)) {
                        own.input(reading);
                    }
                }
                finish(i, page, own);
            }
        };
        let (before, to_fetch): (Vec<usize>, Vec<usize>) = (0..work.pages.len()).partition(|p| !homes_at(*p).is_empty());
        let requests: Vec<Request> = to_fetch
            .iter()
            .map(|&p| {
                let page = &work.pages[p];
                Request {
                    location: page.location.clone(),
                    obey_robots: !page.ignore_robots,
                    max_body: readers(work, page)
                        .iter()
                        .map(|s| plan.source(*s).max_body.unwrap_or(max_body))
                        .max(),
                }
            })
            .collect();
        self.fetch_all("pages", &requests, &|r, fetched| each(to_fetch[r], Some(fetched)));
        before.into_par_iter().for_each(|p| each(p, None));
        (0..work.items.len())
            .into_par_iter()
            .filter(|i| work.items[*i].page.is_none())
            .for_each(|i| finish(i, None, Tally::default()));
        for (w, t) in work.items.iter().zip(judged.into_values()) {
            tallies[w.source.index()].absorb(t.unwrap_or_default());
        }
    }
}

/// A homepage read for its feeds, kept to be judged as its source's page.
pub struct HomeRead {
    source: SourceId,
    /// Its address, normalised as the worklist's pages are.
    url: Url,
    doc: Document,
}

/// The distinct sources that read a page, in the order of its items.
fn readers(work: &Worklist, page: &crate::sources::PageFetch) -> Vec<SourceId> {
    let mut out: Vec<SourceId> = Vec::new();
    for &i in &page.items {
        if !out.contains(&work.items[i].source) {
            out.push(work.items[i].source);
        }
    }
    out
}

/// What a page is extracted with: its readers' charset and zone. Readers that agree share one
/// extraction.
type ReadingKey = (Option<&'static encoding_rs::Encoding>, Option<chrono_tz::Tz>);

fn reading_key(source: &Source) -> ReadingKey {
    (source.charset, source.tz)
}

/// One page's fetch and extractions, and what each source that reads it is told: the fetch's
/// counts and problems go to every reader (each depends on it), an extraction's problems to
/// the readers that share it.
struct PageReads<'a> {
    plan: &'a Plan,
    readers: Vec<SourceId>,
    /// The readers already told.
    told: Vec<SourceId>,
    fetch: Tally,
    extractions: Vec<(ReadingKey, Tally)>,
}

impl<'a> PageReads<'a> {
    fn new(plan: &'a Plan, readers: Vec<SourceId>) -> PageReads<'a> {
        PageReads {
            plan,
            readers,
            told: Vec::new(),
            fetch: Tally::default(),
            extractions: Vec::new(),
        }
    }

    fn first(&self) -> &'a Source {
        self.plan.source(self.readers[0])
    }

    /// The page extracted once per distinct reading of its readers.
    fn extract(&mut self, doc: Option<&Document>, extract: Extractor, decoded_before: bool) -> Vec<(ReadingKey, Option<Page>)> {
        let mut pages: Vec<(ReadingKey, Option<Page>)> = Vec::new();
        for s in &self.readers {
            let source = self.plan.source(*s);
            let key = reading_key(source);
            if pages.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let mut tally = Tally::default();
            let page = doc.and_then(|d| read::page(d, source, extract, decoded_before, &mut tally));
            self.extractions.push((key, tally));
            pages.push((key, page));
        }
        pages
    }

    /// What source `s` is told, the first time it is asked for (then nothing more).
    fn take_for(&mut self, s: SourceId) -> Tally {
        if self.told.contains(&s) {
            return Tally::default();
        }
        self.told.push(s);
        let source = self.plan.source(s);
        let mut own = self.fetch.attributed(source);
        if let Some((_, t)) = self.extractions.iter().find(|(k, _)| *k == reading_key(source)) {
            own.absorb(t.attributed(source));
        }
        own
    }

    /// Why the page could not be read for source `s`.
    fn failure(&self, s: SourceId) -> String {
        let source = self.plan.source(s);
        self.extractions
            .iter()
            .find(|(k, _)| *k == reading_key(source))
            .map(|(_, t)| t)
            .filter(|t| !t.problems.is_empty())
            .unwrap_or(&self.fetch)
            .last_failure()
    }
}

/// What a stage does with each fetch's outcome as it arrives.
type OnFetched<'a, T> = dyn Fn(usize, Result<Document, FetchError>) -> T + Sync + 'a;

/// The sitemaps of an index that are not read, as a problem: beyond the first
/// [`read::MAX_CHILD_SITEMAPS`] of a sitemap index, and all those of an index listed by an index
/// (one level of indexes is read).
fn children_left(stage: &str, children: usize) -> Option<(Code, String)> {
    match stage {
        "feeds" if children <= read::MAX_CHILD_SITEMAPS => None,
        "feeds" => Some((
            Code::SitemapIndexCut,
            format!(
                "the sitemap index lists {children} sitemaps; only the first {} are read",
                read::MAX_CHILD_SITEMAPS
            ),
        )),
        _ if children == 0 => None,
        _ => Some((
            Code::SitemapIndexNested,
            format!("a sitemap index listed by a sitemap index: its {children} sitemaps are not read (only one level of indexes is)"),
        )),
    }
}

/// A request for a source's document: robots.txt has a say for pages and homepages, not for
/// the feeds an outlet advertises, nor where the source says to ignore it.
fn request(source: &Source, location: &Location, page: bool) -> Request {
    Request {
        location: location.clone(),
        obey_robots: page && !source.ignore_robots,
        max_body: source.max_body,
    }
}

/// A panic caught while processing one document, with its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Panic(pub String);

/// Runs `f`, turning a panic into an error carrying its message: one document's bug must cost
/// that document, not the run.
pub fn isolated<T>(f: impl FnOnce() -> T) -> Result<T, Panic> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        Panic(
            payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into()),
        )
    })
}

fn reason(p: &Problem) -> String {
    format!("{}: {}", p.url, p.message)
}

/// How one of a source's own inputs (a homepage, feed, sitemap or listed page) was read; a
/// failure or a partial read carries its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    Whole,
    Partly(String),
    Failed(String),
}

/// What one source's documents and items gave, gathered as they arrive.
#[derive(Debug, Default)]
pub struct Tally {
    pub summary: SourceSummary,
    pub judged: Vec<Judged>,
    pub problems: Vec<Problem>,
    /// The source's own inputs: read whole, in part, not at all.
    inputs: [usize; 3],
    /// Why the first input not read whole was not.
    first_failure: Option<String>,
}

impl Tally {
    fn of(source: &Source, rules: &crate::rules::RuleSet) -> Tally {
        Tally {
            summary: SourceSummary::of(source, rules),
            ..Tally::default()
        }
    }

    fn absorb(&mut self, other: Tally) {
        self.summary.add(&other.summary);
        self.judged.extend(other.judged);
        self.problems.extend(other.problems);
        for (mine, theirs) in self.inputs.iter_mut().zip(other.inputs) {
            *mine += theirs;
        }
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
    }

    /// A copy of this tally's counts and problems for another source reading the same
    /// document (the problems restated against it).
    fn attributed(&self, source: &Source) -> Tally {
        let mut summary = SourceSummary::default();
        summary.add(&self.summary);
        Tally {
            summary,
            problems: self
                .problems
                .iter()
                .map(|p| Problem {
                    source: source.id.clone(),
                    ..p.clone()
                })
                .collect(),
            ..Tally::default()
        }
    }

    pub fn problem(&mut self, source: &Source, url: &Url, code: Code, message: impl Into<String>) {
        self.problems.push(Problem::new(&source.id, url, code, message));
    }

    /// The last problem recorded, as a reason: `URL: message`.
    pub fn last_failure(&self) -> String {
        self.problems.last().map(reason).unwrap_or_default()
    }

    /// The last problem of this code, as a reason.
    pub fn failure_of(&self, code: Code) -> String {
        self.problems.iter().rfind(|p| p.code == code).map(reason).unwrap_or_default()
    }

    /// An input could not be read, for the reason just recorded.
    pub fn failed(&self) -> Reading {
        Reading::Failed(self.last_failure())
    }

    /// One of the source's own inputs was read, in part, or not.
    fn input(&mut self, reading: Reading) {
        let (slot, why) = match reading {
            Reading::Whole => (0, None),
            Reading::Partly(why) => (1, Some(why)),
            Reading::Failed(why) => (2, Some(why)),
        };
        self.inputs[slot] += 1;
        if self.first_failure.is_none() {
            self.first_failure = why;
        }
    }

    fn judged(&mut self, j: Judged) {
        if let Some(item) = &j.item {
            self.summary.items += 1;
            if let Some(why) = item.feed_only {
                *self.summary.feed_only.entry(why).or_default() += 1;
            }
        }
        // An item's own tally holds one judgment until the run ends: room for exactly one
        // (a first push makes room for four, some 1.5 KB per item of nothing).
        self.judged.reserve_exact(1);
        self.judged.push(j);
    }

    /// Sets the source's status: checked, checked in part (an input could not be read, or only
    /// in part), or not checked (nothing could be read), with the reason.
    fn finish(mut self) -> Tally {
        let [whole, partly, failed] = self.inputs;
        let first = self.first_failure.take().unwrap_or_default();
        let all = whole + partly + failed;
        (self.summary.status, self.summary.status_reason) = match (whole + partly, partly + failed) {
            (0, 0) => (
                SourceStatus::NotChecked,
                Some("nothing to read: the source lists no feed or page".into()),
            ),
            (0, 1) => (SourceStatus::NotChecked, Some(format!("nothing could be read: {first}"))),
            (0, n) => (
                SourceStatus::NotChecked,
                Some(format!("none of its {n} inputs could be read; the first: {first}")),
            ),
            (_, 0) => (SourceStatus::Checked, None),
            (_, n) => (
                SourceStatus::Incomplete,
                Some(format!("{n} of its {all} inputs could not be read whole; the first: {first}")),
            ),
        };
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        assert_eq!(isolated(|| 1), Ok(1));
        let r: Result<(), Panic> = isolated(|| panic!("boom at {}", 3));
        assert_eq!(r, Err(Panic("boom at 3".into())));
    }

    /// Issue 10, bug 11: a panic in one document's extraction ended the whole run. It costs
    /// that page, recorded as a problem; the other pages are judged.
    #[test]
    fn a_panic_in_one_page_costs_that_page_only() {
        fn fragile(html: &str, url: &Url, tz: Option<chrono_tz::Tz>) -> Result<crate::extract::Extracted, crate::extract::ExtractError> {
            assert!(!html.contains("BOOM"), "an extraction bug");
            crate::extract::extract(html, url, tz)
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.html"),
            "<article><p>Un texte ordinaire, sans rien de particulier.</p></article>",
        )
        .unwrap();
        std::fs::write(dir.path().join("b.html"), "<article><p>BOOM</p></article>").unwrap();
        let rules =
            crate::rules::RuleSet::load(&[concat!(env!("CARGO_MANIFEST_DIR"), "/rules/fr-2017-presidentielle.toml").into()]).unwrap();
        let engine = Engine::compile(rules).unwrap();
        let fetcher = crate::fetch::LocalFetcher::default();
        let mut run = Run::new(&engine, &fetcher, Hooks::default());
        run.extract = fragile;
        let options = Options {
            at: Utc::now(),
            date_floor: crate::timing::default_floor(),
            replacement: Replacement {
                inputs: vec![dir.path().to_path_buf()],
                as_source: None,
            },
            selection: Selection {
                all: false,
                margin: chrono::Duration::hours(12),
            },
            shard: None,
            max_body: crate::fetch::DEFAULT_MAX_BODY,
        };
        let report = run.check(&options, &[]).unwrap();
        assert_eq!(report.items.len(), 1);
        assert!(report.items[0].url.ends_with("a.html"));
        let codes: Vec<Code> = report.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, vec![Code::ExtractionCrashed]);
        assert!(report.problems[0].message.contains("an extraction bug"), "{:?}", report.problems);
    }
}
