//! A check run: every source's feeds and pages are read, turned into articles, timed against
//! the rules' windows and scanned; the result is a [`Report`].
//!
//! All sources are fetched together (the fetcher keeps its own limits); each page URL is
//! fetched once per run, however many feeds link it, and each article is judged once per
//! source that reads it: a page linked from a feed and also present in the source's directory
//! is read once, as the feed's item. Nothing in here stops the run for one bad input: each
//! failure becomes a [`Problem`] against its source.

use crate::article::{Article, FoundDate, PageKind, TextBuilder, normalize_url};
use crate::charset;
use crate::detect::{Detector, Hit};
use crate::extract;
use crate::feed;
use crate::fetch::{Document, FetchError, Fetcher, InputKind, Location, Request, Slots, kind_of_file, scan_dir};
use crate::report::{Cleared, Finding, ItemReport, NotChecked, Problem, Report, SourceSummary, SpanReport, Stage};
use crate::rules::{PreWindow, Rule, RuleSet, Scope, Severity, Source, Verdict};
use crate::timing::{self, ItemDates, Timing};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use url::Url;

/// What to check, beyond the rules.
#[derive(Debug, Clone)]
pub struct Options {
    /// The instant the run evaluates as of (now, or `--at` for replays).
    pub at: DateTime<Utc>,
    /// Local files or directories that replace the sources' own locations.
    pub inputs: Vec<PathBuf>,
    /// Source whose audience, zone and charset apply to `inputs` (default: all zones).
    pub input_source: Option<String>,
    /// Fetch the page of every feed entry, not only of those whose feed date is near a window
    /// that could make it count (see [`worth_fetching`]).
    pub fetch_all: bool,
    /// How near a window a feed date must be for its page to be fetched.
    pub margin: chrono::Duration,
    /// Dates before this are implausible and not used.
    pub date_floor: DateTime<Utc>,
}

/// Told how a run advances: a progress bar on a terminal, nothing otherwise.
pub trait Progress: Sync {
    /// A stage begins (`feeds`, `pages`) with this many documents to fetch.
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

/// Runs the check. `rule_files` only labels the report.
///
/// Three steps, each over all sources at once so that the fetcher can keep its limits busy:
/// the feeds are fetched and parsed; their entries and the listed pages become work items,
/// each page URL fetched once per run however many feeds link it; then the pages are fetched,
/// and each is extracted and judged as it arrives. An entry without a readable page is judged
/// on what its feed says.
pub fn run(
    rules: &RuleSet,
    options: &Options,
    fetcher: &dyn Fetcher,
    progress: &dyn Progress,
    rule_files: &[PathBuf],
) -> Result<Report, String> {
    let detector = Detector::compile(&rules.materials)?;
    let plans = plan(rules, options)?;
    let mut results: Vec<SourceResult> = plans.iter().map(|p| SourceResult::of(&p.source)).collect();
    let mut inputs = list_inputs(&plans, &mut results);
    discover_feeds(&plans, &mut inputs, &mut results, fetcher, progress);

    // Feeds and sitemaps, then the sitemaps that sitemap indexes list (one level).
    let mut feeds = read_feeds(&inputs.feeds, &plans, fetcher, progress, "feeds");
    let mut listed: Vec<(usize, Location)> = Vec::new();
    for (s, parent, read) in &mut feeds {
        let source = &plans[*s].source;
        let children = std::mem::take(&mut read.children);
        if children.len() > MAX_CHILD_SITEMAPS {
            read.out.problem(
                source,
                &read.url,
                Stage::Feed,
                format!(
                    "the sitemap index lists {} sitemaps; only the first {MAX_CHILD_SITEMAPS} are read",
                    children.len()
                ),
            );
        }
        listed.extend(
            children
                .into_iter()
                .map(|u| Location::from_url(&u))
                .filter(|l| same_kind(l, parent))
                .take(MAX_CHILD_SITEMAPS)
                .map(|l| (*s, l)),
        );
    }
    feeds.extend(read_feeds(&listed, &plans, fetcher, progress, "sitemaps"));

    // Work items, in input order per source: feed entries first, then listed pages.
    let mut works: Vec<(usize, Work)> = Vec::new();
    let mut pages: Vec<Location> = Vec::new();
    let mut page_of_url: HashMap<Url, usize> = HashMap::new();
    let mut page_work = |location: Location, pages: &mut Vec<Location>| -> usize {
        let next = pages.len();
        let index = *page_of_url.entry(normalize_url(&location.url())).or_insert(next);
        if index == next {
            pages.push(location);
        }
        index
    };
    let mut seen_by_source: Vec<HashSet<usize>> = vec![HashSet::new(); plans.len()];
    for (s, feed_location, read) in feeds {
        results[s].absorb(read.out);
        // A feed read from disk (a replay, the demo) stays offline: its entries' web pages are
        // not fetched, only pages saved next to it. A feed from the web never leads to a local
        // file (a `file:` link in it is untrusted input).
        let follows = |l: &Location| fetcher.reaches(l) && same_kind(l, &feed_location);
        let source = &plans[s].source;
        for item in read.items {
            // Saved pages cost nothing to read; web pages are fetched only when worth it.
            let wanted =
                |l: &Location| matches!(l, Location::File(_)) || options.fetch_all || worth_fetching(&item, source, rules, options.margin);
            let page = item
                .link
                .as_ref()
                .map(Location::from_url)
                .filter(|l| follows(l) && wanted(l))
                .and_then(|l| {
                    let index = page_work(l, &mut pages);
                    seen_by_source[s].insert(index).then_some(index)
                });
            works.push((
                s,
                Work {
                    url: item.link.clone().unwrap_or_else(|| read.url.clone()),
                    from_feed: Some(feed_article(&item)),
                    summary: item.summary,
                    feed_fetched_at: read.fetched_at,
                    page,
                },
            ));
        }
    }
    for (s, location) in inputs.pages {
        let index = page_work(location, &mut pages);
        if seen_by_source[s].insert(index) {
            works.push((
                s,
                Work {
                    url: normalize_url(&pages[index].url()),
                    from_feed: None,
                    summary: None,
                    feed_fetched_at: None,
                    page: Some(index),
                },
            ));
        }
    }

    // Pages, each extracted once and judged for every work item that reads it.
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); pages.len()];
    for (w, (_, work)) in works.iter().enumerate() {
        if let Some(p) = work.page {
            users[p].push(w);
        }
    }
    let judged: Slots<SourceResult> = Slots::new(works.len());
    let finish = |w: usize, page: Option<Page>, mut out: SourceResult| {
        let (s, work) = &works[w];
        let source = &plans[*s].source;
        if let Some(c) = candidate(work, page) {
            out.summary.items += 1;
            out.absorb(judge(rules, &detector, source, &c, options));
        }
        judged.put(w, out);
    };
    let page_requests: Vec<Request> = pages
        .iter()
        .zip(&users)
        .map(|(location, users)| Request {
            location: location.clone(),
            obey_robots: !users.first().is_some_and(|w| plans[works[*w].0].source.ignore_robots),
            max_body: users.first().and_then(|w| plans[works[*w].0].source.max_body),
        })
        .collect();
    progress.stage("pages", page_requests.len());
    fetcher.fetch_each(&page_requests, &|p, fetched| {
        progress.done(fetched.is_err());
        let Some(&first) = users[p].first() else { return };
        // Problems of the page go to the first source that reads it; the article to all.
        let mut out = SourceResult::default();
        let page = read_page(fetched, &pages[p], &plans[works[first].0].source, &mut out);
        for (n, &w) in users[p].iter().enumerate() {
            let out = if n == 0 {
                std::mem::take(&mut out)
            } else {
                SourceResult::default()
            };
            finish(w, page.clone(), out);
        }
    });
    (0..works.len())
        .into_par_iter()
        .filter(|w| works[*w].1.page.is_none())
        .for_each(|w| finish(w, None, SourceResult::default()));
    for ((s, _), judged) in works.iter().zip(judged.into_values()) {
        if let Some(r) = judged {
            results[*s].absorb(r);
        }
    }

    let mut report = Report::new(rules, options.at, rule_files);
    for r in results {
        report.sources.push(r.summary);
        report.findings.extend(r.findings);
        report.cleared.extend(r.cleared);
        report.not_checked.extend(r.not_checked);
        report.problems.extend(r.problems);
        report.items.extend(r.items);
    }
    report.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.url.cmp(&b.url))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    Ok(report)
}

/// A source with the concrete inputs to read.
struct Plan {
    source: Source,
    inputs: Vec<(InputKind, Location)>,
    /// Directories to list at run time (listing failures are problems of the source).
    dirs: Vec<PathBuf>,
}

fn plan(rules: &RuleSet, options: &Options) -> Result<Vec<Plan>, String> {
    if options.inputs.is_empty() {
        return Ok(rules
            .sources
            .iter()
            .map(|s| {
                let inputs = s
                    .feeds
                    .iter()
                    .map(|l| (InputKind::Feed, l.clone()))
                    .chain(s.sitemaps.iter().map(|l| (InputKind::Feed, l.clone())))
                    .chain(s.pages.iter().map(|l| (InputKind::Page, l.clone())))
                    .collect();
                Plan {
                    source: s.clone(),
                    inputs,
                    dirs: s.dirs.clone(),
                }
            })
            .collect());
    }
    let template = match &options.input_source {
        Some(id) => rules
            .source(id)
            .ok_or_else(|| format!("`--as {id}`: no source with this id in the rule files"))?
            .clone(),
        None => Source {
            id: "input".into(),
            name: Some("--input".into()),
            feeds: vec![],
            homes: vec![],
            sitemaps: vec![],
            pages: vec![],
            dirs: vec![],
            audience: (0..rules.zones.len()).collect(),
            tz: None,
            charset: None,
            foreign: false,
            ignore_robots: false,
            max_body: None,
        },
    };
    let mut inputs = Vec::new();
    let mut dirs = Vec::new();
    for path in &options.inputs {
        if path.is_dir() {
            dirs.push(path.clone());
        } else if path.is_file() {
            inputs.push((kind_of_file(path), Location::File(path.clone())));
        } else {
            return Err(format!("`--input {}`: no such file or directory", path.display()));
        }
    }
    Ok(vec![Plan {
        source: template,
        inputs,
        dirs,
    }])
}

#[derive(Default)]
struct SourceResult {
    summary: SourceSummary,
    findings: Vec<Finding>,
    cleared: Vec<Cleared>,
    not_checked: Vec<NotChecked>,
    problems: Vec<Problem>,
    items: Vec<ItemReport>,
}

impl SourceResult {
    fn of(source: &Source) -> SourceResult {
        SourceResult {
            summary: SourceSummary {
                id: source.id.clone(),
                name: source.name.clone(),
                foreign: source.foreign,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn absorb(&mut self, other: SourceResult) {
        self.summary.documents += other.summary.documents;
        self.summary.failed += other.summary.failed;
        self.summary.cached += other.summary.cached;
        self.summary.fetch_seconds += other.summary.fetch_seconds;
        self.summary.items += other.summary.items;
        self.findings.extend(other.findings);
        self.cleared.extend(other.cleared);
        self.not_checked.extend(other.not_checked);
        self.problems.extend(other.problems);
        self.items.extend(other.items);
    }

    fn problem(&mut self, source: &Source, url: &Url, stage: Stage, message: String) {
        self.problems.push(Problem {
            source: source.id.clone(),
            url: url.to_string(),
            stage,
            message,
        });
    }
}

/// An item to read: a feed entry (with its page, if the fetcher can reach it) or a page.
struct Work {
    url: Url,
    from_feed: Option<Article>,
    summary: Option<String>,
    /// When the feed carrying the entry was fetched.
    feed_fetched_at: Option<DateTime<Utc>>,
    /// Index of its page among the run's pages.
    page: Option<usize>,
}

/// One article ready to judge, with where it came from.
struct Candidate {
    url: Url,
    article: Article,
    summary: Option<String>,
    /// When the page (or, without one, the feed) was fetched.
    fetched_at: Option<DateTime<Utc>>,
    /// How the page was read, when there was one.
    page: Option<PageRead>,
}

/// How a page was read: its encoding and why, and the redirects that led to it.
#[derive(Debug, Clone)]
struct PageRead {
    encoding: &'static str,
    basis: charset::Basis,
    redirects: Vec<Url>,
}

/// Whether a feed entry's page is worth fetching: its feed gives no usable date, or a date
/// that some rule could count for some window of the outlet's audience, `margin` included. A
/// date inside (or near) a window counts; one clearly before counts where a rule counts
/// content published before the window or changed inside it (the page may show a later
/// modification); one clearly after, only where a rule says so. An entry whose page is not
/// fetched is still judged, on its feed data.
fn worth_fetching(item: &feed::FeedItem, source: &Source, rules: &RuleSet, margin: chrono::Duration) -> bool {
    let dates: Vec<crate::dates::When> = item.dates.iter().filter_map(|d| d.parsed.as_ref().ok().copied()).collect();
    if dates.is_empty() {
        return true;
    }
    rules.rules.iter().any(|rule| {
        rule.windows.iter().any(|&w| {
            let window = &rules.windows[w];
            let policy = window.pre_window_content;
            let before_counts = counts(rule, policy, Verdict::Before) || counts(rule, policy, Verdict::ChangedInside);
            let after_counts = counts(rule, policy, Verdict::After);
            window.spans.iter().filter(|s| source.audience.contains(&s.zone)).any(|span| {
                dates.iter().any(|d| {
                    let before = d.latest + margin < span.start;
                    let after = d.earliest >= span.end + margin;
                    (!before && !after) || (before && before_counts) || (after && after_counts)
                })
            })
        })
    })
}

/// Reads the sources' homepages and adds the feeds they advertise to the inputs (each once per
/// source); a homepage advertising none is a problem of its source.
fn discover_feeds(plans: &[Plan], inputs: &mut Inputs, results: &mut [SourceResult], fetcher: &dyn Fetcher, progress: &dyn Progress) {
    let homes: Vec<(usize, Location)> = plans
        .iter()
        .enumerate()
        .flat_map(|(s, p)| p.source.homes.iter().map(move |h| (s, h.clone())))
        .collect();
    if homes.is_empty() {
        return;
    }
    let requests: Vec<Request> = homes
        .iter()
        .map(|(s, l)| Request {
            location: l.clone(),
            obey_robots: !plans[*s].source.ignore_robots,
            max_body: plans[*s].source.max_body,
        })
        .collect();
    let found: Slots<(SourceResult, Vec<Url>)> = Slots::new(homes.len());
    progress.stage("homes", requests.len());
    fetcher.fetch_each(&requests, &|i, fetched| {
        progress.done(fetched.is_err());
        let (s, location) = &homes[i];
        let source = &plans[*s].source;
        let mut out = SourceResult::default();
        let mut feeds = Vec::new();
        if let Some((doc, decoded)) = accept(fetched, location, source, &mut out) {
            feeds = feed::advertised(&decoded.text, &doc.url);
            if feeds.is_empty() {
                out.problem(
                    source,
                    &doc.url,
                    Stage::Feed,
                    "the homepage advertises no feed (no <link rel=\"alternate\"> of an RSS, Atom or JSON Feed type)".into(),
                );
            }
        }
        found.put(i, (out, feeds));
    });
    for ((s, home_location), home) in homes.iter().zip(found.into_values()) {
        let (out, feeds) = home.expect("every home was fetched");
        results[*s].absorb(out);
        for url in feeds {
            let location = Location::from_url(&url);
            if !same_kind(&location, home_location) {
                continue;
            }
            let known = inputs
                .feeds
                .iter()
                .any(|(t, l)| t == s && normalize_url(&l.url()) == normalize_url(&url));
            if !known {
                inputs.feeds.push((*s, location));
            }
        }
    }
}

/// Whether `link`, found in a document read from `from`, may be followed: web to web, disk to
/// disk.
fn same_kind(link: &Location, from: &Location) -> bool {
    matches!(
        (link, from),
        (Location::Http(_), Location::Http(_)) | (Location::File(_), Location::File(_))
    )
}

/// The inputs of every source: feeds and listed pages, directories listed now.
struct Inputs {
    feeds: Vec<(usize, Location)>,
    pages: Vec<(usize, Location)>,
}

fn list_inputs(plans: &[Plan], results: &mut [SourceResult]) -> Inputs {
    let mut inputs = Inputs {
        feeds: Vec::new(),
        pages: Vec::new(),
    };
    for (s, plan) in plans.iter().enumerate() {
        let mut found = plan.inputs.clone();
        for dir in &plan.dirs {
            match scan_dir(dir) {
                Ok(listed) => found.extend(listed.into_iter().map(|(k, p)| (k, Location::File(p)))),
                Err(e) => results[s].problem(&plan.source, &Location::File(dir.clone()).url(), Stage::Fetch, e.to_string()),
            }
        }
        for (kind, location) in found {
            match kind {
                InputKind::Feed => inputs.feeds.push((s, location)),
                InputKind::Page => inputs.pages.push((s, location)),
            }
        }
    }
    inputs
}

/// A feed (or sitemap) as read: its entries, and the problems met.
struct ReadFeed {
    url: Url,
    fetched_at: Option<DateTime<Utc>>,
    items: Vec<feed::FeedItem>,
    /// The sitemaps a sitemap index lists.
    children: Vec<Url>,
    out: SourceResult,
}

/// How many sitemaps of one index are read.
const MAX_CHILD_SITEMAPS: usize = 50;

/// Fetches and parses feeds and sitemaps (the feeds an outlet advertises: robots.txt has no say).
fn read_feeds(
    feeds: &[(usize, Location)],
    plans: &[Plan],
    fetcher: &dyn Fetcher,
    progress: &dyn Progress,
    stage: &'static str,
) -> Vec<(usize, Location, ReadFeed)> {
    if feeds.is_empty() {
        return Vec::new();
    }
    let requests: Vec<Request> = feeds
        .iter()
        .map(|(s, l)| Request {
            location: l.clone(),
            obey_robots: false,
            max_body: plans[*s].source.max_body,
        })
        .collect();
    let read: Slots<ReadFeed> = Slots::new(requests.len());
    progress.stage(stage, requests.len());
    fetcher.fetch_each(&requests, &|i, fetched| {
        progress.done(fetched.is_err());
        let (s, location) = &feeds[i];
        read.put(i, read_feed(fetched, location, &plans[*s].source));
    });
    feeds
        .iter()
        .zip(read.into_values())
        .map(|((s, l), r)| (*s, l.clone(), r.expect("every feed was fetched")))
        .collect()
}

/// A page as extracted, with when and how it was read.
#[derive(Clone)]
struct Page {
    article: Article,
    fetched_at: DateTime<Utc>,
    read: PageRead,
}

fn read_feed(fetched: Result<Document, FetchError>, location: &Location, source: &Source) -> ReadFeed {
    let mut out = SourceResult::default();
    let mut read = ReadFeed {
        url: location.url(),
        fetched_at: None,
        items: Vec::new(),
        children: Vec::new(),
        out: SourceResult::default(),
    };
    if let Some((doc, decoded)) = accept(fetched, location, source, &mut out) {
        read.fetched_at = Some(doc.fetched_at);
        if crate::sitemap::is_sitemap(&decoded.text) {
            match crate::sitemap::parse(&decoded.text, &doc.url, source.tz) {
                Ok(crate::sitemap::Sitemap::Urls(items)) => read.items = items,
                Ok(crate::sitemap::Sitemap::Index(children)) => read.children = children,
                Err(e) => out.problem(source, &doc.url, Stage::Feed, e),
            }
            read.out = out;
            return read;
        }
        match feed::parse(&doc, &decoded, source.tz) {
            Ok(parsed) => {
                for r in parsed.repairs {
                    out.problem(source, &doc.url, Stage::Feed, r);
                }
                read.items = parsed.items;
            }
            Err(e) => out.problem(source, &doc.url, Stage::Feed, e.to_string()),
        }
    }
    read.out = out;
    read
}

/// Decodes and extracts a fetched page, recording problems; `None` if it could not be read.
fn read_page(fetched: Result<Document, FetchError>, location: &Location, source: &Source, out: &mut SourceResult) -> Option<Page> {
    let (doc, decoded) = accept(fetched, location, source, out)?;
    match extract::extract(&decoded.text, &doc.url, source.tz) {
        Ok(x) => {
            for p in x.problems {
                out.problem(source, &doc.url, Stage::Extract, p);
            }
            Some(Page {
                article: x.article,
                fetched_at: doc.fetched_at,
                read: PageRead {
                    encoding: decoded.encoding.name(),
                    basis: decoded.basis,
                    redirects: doc.redirects,
                },
            })
        }
        Err(e) => {
            out.problem(source, &doc.url, Stage::Extract, e.to_string());
            None
        }
    }
}

/// Takes a fetch result and decodes it, recording problems; `None` if it could not be read.
fn accept(
    fetched: Result<Document, FetchError>,
    location: &Location,
    source: &Source,
    out: &mut SourceResult,
) -> Option<(Document, charset::Decoded)> {
    let url = location.url();
    let doc = match fetched {
        Ok(d) => d,
        Err(e) => {
            tracing::info!(source = %source.id, %url, error = %e, "not fetched");
            out.summary.failed += 1;
            out.problem(source, &url, stage_of(&e), e.to_string());
            return None;
        }
    };
    out.summary.documents += 1;
    out.summary.cached += doc.from_cache as usize;
    out.summary.fetch_seconds += doc.elapsed.as_secs_f64();
    if doc.truncated {
        out.problem(
            source,
            &doc.url,
            Stage::TooLarge,
            format!("larger than {} bytes; only the beginning was read", doc.max_bytes),
        );
    }
    let decoded = doc.decode(source.charset);
    if decoded.basis == charset::Basis::Utf8OverDeclaration {
        out.problem(
            source,
            &doc.url,
            Stage::Decode,
            "declares a legacy encoding but is valid UTF-8; read as UTF-8".into(),
        );
    }
    if decoded.had_errors {
        let message = format!(
            "bytes invalid in {} were replaced (encoding chosen from {})",
            decoded.encoding.name(),
            crate::wire_name(&decoded.basis)
        );
        out.problem(source, &doc.url, Stage::Decode, message);
    }
    Some((doc, decoded))
}

fn stage_of(e: &FetchError) -> Stage {
    use crate::http::NetStage;
    match e {
        FetchError::Io { .. } | FetchError::HttpUnavailable => Stage::Fetch,
        FetchError::Network { stage, .. } => match stage {
            NetStage::Dns => Stage::Dns,
            NetStage::Connect => Stage::Connect,
            NetStage::Tls => Stage::Tls,
            NetStage::Timeout => Stage::Timeout,
            NetStage::Status => Stage::Http,
            NetStage::RedirectLoop => Stage::Redirect,
            NetStage::Robots => Stage::Robots,
            NetStage::Denied => Stage::Denied,
            NetStage::Body => Stage::Fetch,
        },
    }
}

/// The article a work item stands for: its page merged with its feed entry, either alone, or
/// none.
fn candidate(work: &Work, page: Option<Page>) -> Option<Candidate> {
    let (page, fetched_at, read) = match page {
        Some(p) => (Some(p.article), Some(p.fetched_at), Some(p.read)),
        None => (None, work.feed_fetched_at, None),
    };
    let article = match (page, work.from_feed.clone()) {
        (Some(page), Some(from_feed)) => merge(page, from_feed),
        (Some(page), None) => page,
        (None, Some(from_feed)) => from_feed,
        (None, None) => return None,
    };
    Some(Candidate {
        url: work.url.clone(),
        article,
        summary: work.summary.clone(),
        fetched_at,
        page: read,
    })
}

/// An article from the feed entry alone: title, summary and full content as body text.
fn feed_article(item: &feed::FeedItem) -> Article {
    let mut b = TextBuilder::default();
    if let Some(t) = &item.title {
        b.push(Scope::Title, t);
    }
    for text in [&item.summary, &item.content].into_iter().flatten() {
        b.push(Scope::Body, text);
    }
    let (text, blocks) = b.finish();
    Article {
        title: item.title.clone(),
        text,
        blocks,
        links: vec![],
        dates: item.dates.clone(),
        kind: PageKind::article(),
    }
}

/// The page's text and links, with the feed's summary kept as a further body block (what a
/// feed reader shows is published too) and the dates of both.
fn merge(page: Article, from_feed: Article) -> Article {
    let extra: Vec<_> = from_feed
        .blocks
        .iter()
        .filter(|bl| bl.scope != Scope::Title)
        .map(|bl| (bl.scope, &from_feed.text[bl.range.clone()]))
        .filter(|(_, text)| !page.text.contains(text))
        .collect();
    let mut b = TextBuilder::continuing(page.text, page.blocks);
    for (scope, text) in extra {
        b.push(scope, text);
    }
    let (text, blocks) = b.finish();
    let mut dates: Vec<FoundDate> = page.dates;
    dates.extend(from_feed.dates);
    Article {
        title: page.title.or(from_feed.title),
        text,
        blocks,
        links: page.links,
        dates,
        kind: page.kind,
    }
}

/// Times the article against each rule's windows, evaluates the rules, records the outcome.
fn judge(rules: &RuleSet, detector: &Detector, source: &Source, c: &Candidate, options: &Options) -> SourceResult {
    let mut out = SourceResult::default();
    let dates = ItemDates::choose(&c.article.dates, options.at, options.date_floor);
    for d in &c.article.dates {
        if let Err(e) = &d.parsed {
            out.problem(source, &c.url, Stage::Date, format!("{} `{}`: {e}", d.provenance.name(), d.raw));
        }
    }
    let set_aside = [
        (&dates.future, "later than the evaluation time"),
        (&dates.too_old, "earlier than the date floor"),
    ];
    for (list, why) in set_aside {
        for d in list {
            out.problem(
                source,
                &c.url,
                Stage::Date,
                format!("{} `{}` is {why}; not used", d.provenance.name(), d.raw),
            );
        }
    }
    for msg in &dates.disagreements {
        out.problem(source, &c.url, Stage::Date, format!("dates disagree: {msg}"));
    }
    let zone_name = |z: usize| rules.zones[z].id.clone();
    let mut timings: Vec<Timing> = Vec::new();
    // A window none of whose zones is in the outlet's audience does not apply to it.
    let mut timing_for = |w: usize| -> Option<Timing> {
        let window = &rules.windows[w];
        if let Some(t) = timings.iter().find(|t| t.window == window.id) {
            return Some(t.clone());
        }
        let spans: Vec<_> = window.spans.iter().copied().filter(|s| source.audience.contains(&s.zone)).collect();
        if spans.is_empty() {
            return None;
        }
        let t = timing::verdict(&window.id, &dates, &spans, zone_name);
        timings.push(t.clone());
        Some(t)
    };
    let item = |timings: Vec<Timing>| ItemReport {
        source: source.id.clone(),
        url: c.url.to_string(),
        title: c.article.title.clone(),
        summary: c.summary.clone(),
        fetched_at: c.fetched_at,
        charset: c.page.as_ref().map(|p| crate::report::CharsetReport {
            encoding: p.encoding,
            basis: p.basis,
        }),
        redirects: c.page.iter().flat_map(|p| p.redirects.iter().map(Url::to_string)).collect(),
        dates: c.article.dates.iter().map(Into::into).collect(),
        timings,
        class: c.article.kind.class,
    };
    if let Some(reason) = &c.article.kind.reason {
        out.not_checked.push(NotChecked {
            source: source.id.clone(),
            url: c.url.to_string(),
            title: c.article.title.clone(),
            class: c.article.kind.class,
            reason: reason.clone(),
        });
        out.items.push(item(Vec::new()));
        return out;
    }
    let hits = detector.scan(&c.article);
    for rule in &rules.rules {
        if !rule.condition.eval(&hits, &rule.scopes) {
            continue;
        }
        let evidence: Vec<&Hit> = hits
            .iter()
            .filter(|h| rule.evidence.contains(&(h.matcher.kind, h.matcher.material)) && rule.scopes.contains(&h.scope))
            .collect();
        let spans: Vec<SpanReport> = evidence.iter().map(|h| SpanReport::new(h, &c.article.text, rules)).collect();
        let mut materials: Vec<String> = evidence.iter().map(|h| rules.materials[h.matcher.material].id.clone()).collect();
        materials.sort();
        materials.dedup();
        // The rule fires in the first of its windows whose timing counts.
        let mut fired = false;
        let mut first_timing = None;
        for &w in &rule.windows {
            let Some(t) = timing_for(w) else { continue };
            let window = &rules.windows[w];
            if counts(rule, window.pre_window_content, t.verdict) {
                let severity = if t.verdict == Verdict::Unknown {
                    rule.severity.min(Severity::Warning)
                } else {
                    rule.severity
                };
                out.findings.push(Finding {
                    rule: rule.id.clone(),
                    severity,
                    status: rule.status,
                    message: rule.message.clone(),
                    materials: materials.clone(),
                    source: source.id.clone(),
                    foreign: source.foreign,
                    url: c.url.to_string(),
                    title: c.article.title.clone(),
                    window: window.id.clone(),
                    category: window.category,
                    legal_force: window.legal_force,
                    timing: t,
                    spans: spans.clone(),
                });
                fired = true;
                break;
            }
            first_timing.get_or_insert(t);
        }
        if !fired && let Some(t) = first_timing {
            out.cleared.push(Cleared {
                rule: rule.id.clone(),
                source: source.id.clone(),
                url: c.url.to_string(),
                title: c.article.title.clone(),
                timing: t,
            });
        }
    }
    out.items.push(item(timings));
    out
}

/// Whether a timing verdict makes a matching rule fire. A rule's `when` list decides when it
/// has one; otherwise the window's policy on content that predates it: `inside` always
/// counts, `changed_inside` unless old content is allowed outright, `before` only when old
/// content is prohibited, and `unknown` always (reported at most as a warning).
fn counts(rule: &Rule, policy: PreWindow, verdict: Verdict) -> bool {
    if let Some(when) = &rule.when {
        return when.contains(&verdict);
    }
    match verdict {
        Verdict::Inside | Verdict::Unknown => true,
        Verdict::ChangedInside => policy != PreWindow::Allowed,
        Verdict::Before => policy == PreWindow::Prohibited,
        Verdict::After => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Condition, Matcher, MatcherKind, Status};

    fn rule(when: Option<Vec<Verdict>>) -> Rule {
        let condition = Condition::Match(Matcher {
            kind: MatcherKind::Phrase,
            material: 0,
            min_words: 0,
        });
        Rule {
            id: "r".into(),
            severity: Severity::Violation,
            status: Status::Stable,
            windows: vec![0],
            when,
            scopes: vec![],
            evidence: condition.positive_matchers(),
            condition,
            message: String::new(),
            tests: vec![],
        }
    }

    #[test]
    fn the_window_policy_decides_which_verdicts_count() {
        use Verdict::*;
        let r = rule(None);
        let fires = |policy| {
            [Before, Inside, After, ChangedInside, Unknown]
                .into_iter()
                .filter(|v| counts(&r, policy, *v))
                .collect::<Vec<_>>()
        };
        assert_eq!(fires(PreWindow::AllowedIfUnchanged), vec![Inside, ChangedInside, Unknown]);
        assert_eq!(fires(PreWindow::Allowed), vec![Inside, Unknown]);
        assert_eq!(fires(PreWindow::Prohibited), vec![Before, Inside, ChangedInside, Unknown]);
        // A rule's own `when` list overrides the policy.
        assert!(counts(&rule(Some(vec![After])), PreWindow::AllowedIfUnchanged, After));
        assert!(!counts(&rule(Some(vec![After])), PreWindow::AllowedIfUnchanged, Inside));
    }
}
