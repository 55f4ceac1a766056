//! A check run, orchestration only: the plan's homepages, then its feeds and sitemaps (and the
//! sitemaps an index lists), then the worklist's pages, each extracted and judged as it
//! arrives. Every stage runs over all sources at once so the fetcher can keep its limits busy;
//! nothing here stops the run for one bad input: each failure becomes a problem against its
//! source, and a source from which nothing could be read is reported not checked.
//!
//! Two hooks let later versions remember across runs without touching the stages: a
//! [`History`] the run asks about each item, and a [`Recorder`] that sees every document
//! fetched. [`NoHistory`] and [`NoRecorder`] stand in for them today.

mod read;

pub use read::Extractor;

use crate::fetch::{Document, FetchError, Fetcher, Location, Request, Slots};
use crate::judge::{self, Clock, Item, Judged, Page};
use crate::model::SourceId;
use crate::problem::{Code, Problem};
use crate::report::{Report, SourceStatus, SourceSummary};
use crate::rules::{Engine, Source};
use crate::sources::{Kind, Listing, Plan, PlanError, Replacement, Selection, Worklist, same_kind};
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
    /// When an earlier run first saw this item of this source, if one did.
    fn first_seen(&self, source: &str, url: &Url) -> Option<DateTime<Utc>>;
}

/// No memory of earlier runs.
pub struct NoHistory;

impl History for NoHistory {
    fn first_seen(&self, _: &str, _: &Url) -> Option<DateTime<Utc>> {
        None
    }
}

/// Sees every document the run fetched, as fetched, before anything reads it.
pub trait Recorder: Sync {
    fn record(&self, doc: &Document);
}

/// Keeps nothing.
pub struct NoRecorder;

impl Recorder for NoRecorder {
    fn record(&self, _: &Document) {}
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
        let mut plan = Plan::new(self.engine.rules(), &options.replacement)?;
        let mut tallies: Vec<Tally> = plan.sources.iter().map(Tally::of).collect();
        for (s, p) in std::mem::take(&mut plan.problems) {
            tallies[s.index()].problems.push(p);
            tallies[s.index()].input(false);
        }
        self.discover(&mut plan, &mut tallies);
        let listings = self.read_listings(&plan, &mut tallies);
        let work = Worklist::build(&plan, listings, self.engine.rules(), self.fetcher, options.selection);
        let clock = Clock {
            at: options.at,
            floor: options.date_floor,
        };
        self.judge_all(&plan, &work, clock, &mut tallies);
        let mut report = Report::new(self.engine.rules(), options.at, rule_files);
        for t in tallies {
            let t = t.finish();
            report.add_source(t.summary, t.problems, t.judged);
        }
        report.sort();
        Ok(report)
    }

    /// Fetches `requests` (all sources together), recording each document, and hands each
    /// result to `each` with the tally it should go to, merged into `tallies` afterwards.
    fn fetch_all(&self, stage: &'static str, requests: &[(SourceId, Request)], tallies: &mut [Tally], each: &OnFetched) {
        if requests.is_empty() {
            return;
        }
        let progress = self.hooks.progress;
        progress.stage(stage, requests.len());
        let done: Slots<Tally> = Slots::new(requests.len());
        let plain: Vec<Request> = requests.iter().map(|(_, r)| r.clone()).collect();
        self.fetcher.fetch_each(&plain, &|i, fetched| {
            progress.done(fetched.is_err());
            if let Ok(doc) = &fetched {
                self.hooks.recorder.record(doc);
            }
            let mut tally = Tally::default();
            each(i, fetched, &mut tally);
            done.put(i, tally);
        });
        for ((s, _), t) in requests.iter().zip(done.into_values()) {
            tallies[s.index()].absorb(t.unwrap_or_default());
        }
    }

    /// Reads the homepages and adds the feeds they advertise to the plan (each once per source).
    fn discover(&self, plan: &mut Plan, tallies: &mut [Tally]) {
        let homes: Vec<(SourceId, Location)> = plan
            .inputs
            .iter()
            .filter(|i| i.kind == Kind::Home)
            .map(|i| (i.source, i.location.clone()))
            .collect();
        let requests: Vec<(SourceId, Request)> = homes.iter().map(|(s, l)| (*s, request(plan.source(*s), l, true))).collect();
        let found: Slots<Vec<Url>> = Slots::new(homes.len());
        self.fetch_all("homes", &requests, tallies, &|i, fetched, out| {
            let (s, location) = &homes[i];
            let feeds = read::home(fetched, location, plan.source(*s), out);
            out.input(feeds.is_some());
            found.put(i, feeds.unwrap_or_default());
        });
        for ((s, home), feeds) in homes.iter().zip(found.into_values()) {
            for url in feeds.unwrap_or_default() {
                let location = Location::from_url(&url);
                if same_kind(&location, home) {
                    plan.add(*s, Kind::Listing, location);
                }
            }
        }
    }

    /// Reads every feed and sitemap, then the sitemaps that sitemap indexes list (one level).
    fn read_listings(&self, plan: &Plan, tallies: &mut [Tally]) -> Vec<Listing> {
        let mut todo: Vec<(SourceId, Location)> = plan
            .inputs
            .iter()
            .filter(|i| i.kind == Kind::Listing)
            .map(|i| (i.source, i.location.clone()))
            .collect();
        let mut listings = Vec::new();
        for stage in ["feeds", "sitemaps"] {
            let requests: Vec<(SourceId, Request)> = todo.iter().map(|(s, l)| (*s, request(plan.source(*s), l, false))).collect();
            let read: Slots<read::Listed> = Slots::new(todo.len());
            self.fetch_all(stage, &requests, tallies, &|i, fetched, out| {
                let (s, location) = &todo[i];
                let listed = read::listing(fetched, location, plan.source(*s), out);
                out.input(listed.is_some());
                read.put(i, listed.unwrap_or_default());
            });
            let mut children = Vec::new();
            for ((s, location), listed) in todo.into_iter().zip(read.into_values()) {
                let listed = listed.unwrap_or_default();
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
                    entries: listed.entries,
                });
            }
            todo = children;
        }
        listings
    }

    /// Fetches the pages, extracting each once and judging every item that reads it as it
    /// arrives; then judges the items without a page on their feed data.
    fn judge_all(&self, plan: &Plan, work: &Worklist, clock: Clock, tallies: &mut [Tally]) {
        let judged: Slots<Tally> = Slots::new(work.items.len());
        let finish = |i: usize, page: Option<&Page>, mut out: Tally| {
            let w = &work.items[i];
            let item = Item {
                source: plan.source(w.source),
                url: &w.url,
                page,
                entries: &w.entries,
                feed_only: w.feed_only,
            };
            let first_seen = self.hooks.history.first_seen(&item.source.id, item.url);
            match isolated(|| judge::judge(self.engine, item, clock)) {
                Ok(j) => out.judged(j, first_seen),
                Err(panic) => {
                    let message = format!("judging failed on this item (an internal error: {panic}); it was not checked");
                    out.problem(item.source, item.url, Code::JudgingCrashed, message);
                }
            }
            judged.put(i, out);
        };
        let requests: Vec<(SourceId, Request)> = work
            .pages
            .iter()
            .map(|p| {
                let s = work.items[p.items[0]].source;
                (s, request(plan.source(s), &p.location, true))
            })
            .collect();
        self.fetch_all("pages", &requests, tallies, &|p, fetched, out| {
            let users = &work.pages[p].items;
            let first = &work.items[users[0]];
            // Problems of the page go to the first source that reads it; the article to all.
            let page = read::page(fetched, &work.pages[p].location, plan.source(first.source), self.extract, out);
            for &i in users {
                let mut own = Tally::default();
                if work.items[i].entries.is_empty() {
                    own.input(page.is_some());
                }
                finish(i, page.as_ref(), own);
            }
        });
        (0..work.items.len())
            .into_par_iter()
            .filter(|i| work.items[*i].page.is_none())
            .for_each(|i| finish(i, None, Tally::default()));
        for (w, t) in work.items.iter().zip(judged.into_values()) {
            let t = t.unwrap_or_default();
            tallies[w.source.index()].absorb(t);
        }
    }
}

/// What a stage does with each fetched document, recording into the tally it is given.
type OnFetched<'a> = dyn Fn(usize, Result<Document, FetchError>, &mut Tally) + Sync + 'a;

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

/// What one source's documents and items gave, gathered as they arrive.
#[derive(Debug, Default)]
pub struct Tally {
    pub summary: SourceSummary,
    pub judged: Vec<Judged>,
    pub problems: Vec<Problem>,
    /// Inputs (homepages, feeds, sitemaps, listed pages) read, and not.
    inputs_read: usize,
    inputs_failed: usize,
    /// Why the first input that failed did (the message of its problem).
    first_failure: Option<String>,
}

impl Tally {
    fn of(source: &Source) -> Tally {
        Tally {
            summary: SourceSummary::of(source),
            ..Tally::default()
        }
    }

    fn absorb(&mut self, other: Tally) {
        self.summary.add(&other.summary);
        self.judged.extend(other.judged);
        self.problems.extend(other.problems);
        self.inputs_read += other.inputs_read;
        self.inputs_failed += other.inputs_failed;
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
    }

    pub fn problem(&mut self, source: &Source, url: &Url, code: Code, message: impl Into<String>) {
        self.problems.push(Problem::new(&source.id, url, code, message));
    }

    /// One of the source's own inputs was read, or not (its problem just recorded says why).
    fn input(&mut self, read: bool) {
        if read {
            self.inputs_read += 1;
            return;
        }
        self.inputs_failed += 1;
        if self.first_failure.is_none() {
            self.first_failure = self.problems.last().map(|p| format!("{}: {}", p.url, p.message));
        }
    }

    fn judged(&mut self, mut j: Judged, first_seen: Option<DateTime<Utc>>) {
        if let Some(item) = &mut j.item {
            self.summary.items += 1;
            item.first_seen = first_seen;
            if let Some(why) = item.feed_only {
                *self.summary.feed_only.entry(why).or_default() += 1;
            }
        }
        self.judged.push(j);
    }

    /// Sets the source's status: checked, checked in part (an input could not be read), or
    /// not checked (nothing could be), with the reason.
    fn finish(mut self) -> Tally {
        let (read, failed) = (self.inputs_read, self.inputs_failed);
        let first = self.first_failure.take().unwrap_or_default();
        (self.summary.status, self.summary.status_reason) = match (read, failed) {
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
            (r, n) => (
                SourceStatus::Incomplete,
                Some(format!("{n} of its {} inputs could not be read; the first: {first}", r + n)),
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
        };
        let report = run.check(&options, &[]).unwrap();
        assert_eq!(report.items.len(), 1);
        assert!(report.items[0].url.ends_with("a.html"));
        let codes: Vec<Code> = report.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, vec![Code::ExtractionCrashed]);
        assert!(report.problems[0].message.contains("an extraction bug"), "{:?}", report.problems);
    }
}
