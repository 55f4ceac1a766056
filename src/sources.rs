//! What to read: the plan (the rule files' sources, or `--input` standing for one) and the
//! worklist of items built from what the listings (feeds, sitemaps) said.
//!
//! An item is one thing an outlet published, keyed by (source, normalised URL): however many
//! feeds or sitemaps of the source list it, it is one item, judged once, its feed entries
//! merged; a page listed both by a feed and in the source's directory is the feed's item. Each
//! page URL is fetched once per run, however many sources read it.
//!
//! Which pages are fetched: a saved page always; a web page when the fetcher can reach it and
//! its entry's dates do not rule it out — an entry dated outside every window (by more than
//! `--margin`) a rule could count it for is judged on its feed data alone, unless its feed says
//! it was updated near or inside a window. The report says how many were, and why.

use crate::article::normalize_url;
use crate::feed::FeedItem;
use crate::fetch::{Fetcher, InputKind, Location, kind_of_file, scan_dir};
use crate::model::{SourceId, Verdict};
use crate::problem::{Code, Problem};
use crate::rules::{RuleSet, Source};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use url::Url;

/// What a run reads: its sources and their inputs.
#[derive(Debug)]
pub struct Plan {
    pub sources: Vec<Source>,
    pub inputs: Vec<Input>,
    /// Directories that could not be listed, against their source.
    pub problems: Vec<(SourceId, Problem)>,
}

/// One location a source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub source: SourceId,
    pub kind: Kind,
    pub location: Location,
}

/// How an input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A homepage whose advertised feeds are read.
    Home,
    /// A feed or a sitemap (told apart by their content).
    Listing,
    Page,
}

/// Why no plan could be made from the arguments.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("`--as {id}`: no source with this id in the rule files{}", suggest(.suggestion))]
    UnknownSource { id: String, suggestion: Option<String> },
    #[error("`--input {}`: no such file or directory", .0.display())]
    MissingInput(PathBuf),
}

fn suggest(s: &Option<String>) -> String {
    s.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()
}

/// Local inputs that replace the sources' own locations (`--input`, `--as`).
#[derive(Debug, Clone, Default)]
pub struct Replacement {
    pub inputs: Vec<PathBuf>,
    /// The source whose audience, zone and charset apply to them (default: every zone).
    pub as_source: Option<String>,
}

/// One machine's share of the sources when several share the work (`--shard K/N`): the
/// sources whose id hashes (SHA-256) to K − 1 modulo N. Stable across runs, machines and
/// versions, and independent of the order of the rule files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u32,
    pub n: u32,
}

impl Shard {
    /// `K/N`, with 1 ≤ K ≤ N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let parsed = s
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?)));
        match parsed {
            Some((k, n)) if (1..=n).contains(&k) => Ok(Shard { k, n }),
            _ => Err(format!(
                "`{s}` is not a shard: write K/N, this machine's share K of N machines, 1 ≤ K ≤ N (e.g. `2/3`)"
            )),
        }
    }

    /// Whether the source of this id is in this shard.
    pub fn holds(&self, id: &str) -> bool {
        let digest = crate::model::Digest::of(id.as_bytes());
        let head = u64::from_be_bytes(digest.0[..8].try_into().expect("8 bytes"));
        head % u64::from(self.n) == u64::from(self.k - 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl Plan {
    /// The rule files' sources (with a shard, its share of them), or the one source `--input`
    /// stands for.
    pub fn new(rules: &RuleSet, replacement: &Replacement, shard: Option<Shard>) -> Result<Plan, PlanError> {
        if replacement.inputs.is_empty() {
            let sources: Vec<Source> = rules
                .sources
                .iter()
                .filter(|s| shard.is_none_or(|k| k.holds(&s.id)))
                .cloned()
                .collect();
            let mut plan = Plan {
                sources: Vec::new(),
                inputs: Vec::new(),
                problems: Vec::new(),
            };
            for (i, s) in sources.iter().enumerate() {
                let id = SourceId(i);
                let listings = s.feeds.iter().chain(&s.sitemaps).map(|l| (Kind::Listing, l));
                let located = s
                    .homes
                    .iter()
                    .map(|l| (Kind::Home, l))
                    .chain(listings)
                    .chain(s.pages.iter().map(|l| (Kind::Page, l)));
                for (kind, location) in located {
                    plan.add(id, kind, location.clone());
                }
                for dir in &s.dirs {
                    plan.list(id, dir);
                }
            }
            plan.sources = sources;
            return Ok(plan);
        }
        let source = match &replacement.as_source {
            Some(id) => rules.source(id).cloned().ok_or_else(|| PlanError::UnknownSource {
                id: id.clone(),
                suggestion: crate::rules::diag::did_you_mean(id, rules.sources.iter().map(|s| s.id.as_str())).map(str::to_string),
            })?,
            None => input_source(rules),
        };
        let mut plan = Plan {
            sources: vec![source],
            inputs: Vec::new(),
            problems: Vec::new(),
        };
        for path in &replacement.inputs {
            if path.is_dir() {
                plan.list(SourceId(0), path);
            } else if path.is_file() {
                let kind = match kind_of_file(path) {
                    InputKind::Feed => Kind::Listing,
                    InputKind::Page => Kind::Page,
                };
                plan.add(SourceId(0), kind, Location::File(path.clone()));
            } else {
                return Err(PlanError::MissingInput(path.clone()));
            }
        }
        Ok(plan)
    }

    /// Adds an input once per source.
    pub fn add(&mut self, source: SourceId, kind: Kind, location: Location) {
        let input = Input { source, kind, location };
        if !self.inputs.contains(&input) {
            self.inputs.push(input);
        }
    }

    /// The feeds and pages under a directory (recursively, links to directories not followed).
    fn list(&mut self, source: SourceId, dir: &std::path::Path) {
        match scan_dir(dir) {
            Ok(found) => {
                for (kind, path) in found {
                    let kind = match kind {
                        InputKind::Feed => Kind::Listing,
                        InputKind::Page => Kind::Page,
                    };
                    self.add(source, kind, Location::File(path));
                }
            }
            Err(e) => {
                let url = Location::File(dir.to_path_buf()).url();
                let problem = Problem::new(&self.sources[source.index()].id, &url, Code::FileUnreadable, e.to_string());
                self.problems.push((source, problem));
            }
        }
    }

    pub fn source(&self, id: SourceId) -> &Source {
        &self.sources[id.index()]
    }
}

/// The id of the source `--input` stands for without `--as`.
pub const INPUT_SOURCE: &str = "input";

/// The source `--input` stands for without `--as`: every zone of the election, no zone for
/// zone-less dates, the documents' own charsets.
fn input_source(rules: &RuleSet) -> Source {
    Source {
        id: INPUT_SOURCE.into(),
        name: Some("--input".into()),
        feeds: vec![],
        homes: vec![],
        sitemaps: vec![],
        pages: vec![],
        dirs: vec![],
        audience: (0..rules.zones.len()).map(crate::model::ZoneId).collect(),
        tz: None,
        charset: None,
        foreign: false,
        ignore_robots: false,
        max_body: None,
    }
}

/// Whether `link`, found in a document read from `from`, may be followed: web to web, disk to
/// disk. A feed read from disk (a replay, the demo) stays offline; a document from the web
/// never leads to a local file (a `file:` link in it is untrusted input).
pub fn same_kind(link: &Location, from: &Location) -> bool {
    matches!(
        (link, from),
        (Location::Http(_), Location::Http(_)) | (Location::File(_), Location::File(_))
    )
}

/// A listing (feed or sitemap) as read, with the entries it holds.
#[derive(Debug)]
pub struct Listing {
    pub source: SourceId,
    pub location: Location,
    /// When it was fetched; `None` when it could not be.
    pub fetched_at: Option<DateTime<Utc>>,
    /// Read whole: what it does not list, it did not list (a read cut short proves nothing).
    pub whole: bool,
    pub entries: Vec<FeedItem>,
}

/// One feed entry of an item, with the listing it came from.
#[derive(Debug, Clone)]
pub struct Entry {
    pub item: FeedItem,
    /// The feed or sitemap that listed it (shared by all its entries).
    pub listing: Arc<Url>,
    pub fetched_at: Option<DateTime<Utc>>,
}

/// Why an item is judged on what its feed says, without its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedOnly {
    /// The entry names no page.
    NoLink,
    /// The feed was read from disk and the page is on the web (or the reverse).
    Offline,
    /// Dated before every window a rule could count it for, by more than the margin, and not
    /// updated near one.
    BeforeWindows,
    /// Read again unchanged (same entry, same feed data) since an earlier run read its page,
    /// dated before every window a rule could count it for, and with no open finding.
    Unchanged,
    /// Dated after every window a rule could count it for, by more than the margin.
    AfterWindows,
    /// No rule's window covers a zone of the outlet's audience: nothing can count it.
    NoWindow,
}

impl FeedOnly {
    pub fn explain(self) -> &'static str {
        match self {
            FeedOnly::NoLink => "their entries name no page",
            FeedOnly::Offline => "their pages are on the web and the feed was read from disk (or the reverse)",
            FeedOnly::BeforeWindows => "dated before the windows by more than the margin and not updated near them (`--all` fetches them)",
            FeedOnly::Unchanged => "unchanged since an earlier run read their pages, and dated before the windows (`--all` fetches them)",
            FeedOnly::AfterWindows => "dated after the windows by more than the margin (`--all` fetches them)",
            FeedOnly::NoWindow => "no rule's window covers a zone of the outlet's audience",
        }
    }
}

/// One item to judge.
#[derive(Debug, Clone)]
pub struct WorkItem {
    pub source: SourceId,
    /// The page's normalised address, or for an entry without a link, its first listing's with
    /// a fragment naming the entry (see [`crate::identity::entry_digest`]).
    pub url: Url,
    /// Its entries in the listings, in order (none for a page listed directly).
    pub entries: Vec<Entry>,
    /// Its page among the run's pages, when fetched.
    pub page: Option<usize>,
    pub feed_only: Option<FeedOnly>,
}

/// A page to fetch, and the items that read it.
#[derive(Debug, Clone)]
pub struct PageFetch {
    pub location: Location,
    /// The sources that read it through this fetch say to ignore robots.txt.
    pub ignore_robots: bool,
    pub items: Vec<usize>,
}

/// Every item of the run, and the pages to fetch for them.
#[derive(Debug, Default)]
pub struct Worklist {
    pub items: Vec<WorkItem>,
    pub pages: Vec<PageFetch>,
}

/// How pages are chosen.
#[derive(Debug, Clone, Copy)]
pub struct Selection {
    /// Fetch every entry's page.
    pub all: bool,
    /// How near a window a date must be for the page to be fetched.
    pub margin: Duration,
}

impl Worklist {
    /// The items of every listing and listed page, merged by (source, URL), in input order.
    pub fn build(
        plan: &Plan,
        listings: Vec<Listing>,
        rules: &RuleSet,
        fetcher: &dyn Fetcher,
        selection: Selection,
        known: &dyn Known,
        at: DateTime<Utc>,
    ) -> Worklist {
        let mut list = Worklist::default();
        let mut items: HashMap<(SourceId, ItemKey), usize> = HashMap::new();
        let mut pages: HashMap<(Url, bool), usize> = HashMap::new();
        for listing in listings {
            let source = plan.source(listing.source);
            let listing_url = Arc::new(listing.location.url());
            for entry in listing.entries {
                let (key, url) = match &entry.link {
                    Some(link) => (ItemKey::Url(normalize_url(link)), normalize_url(link)),
                    None => {
                        let digest = crate::identity::entry_digest(&entry);
                        let mut url = (*listing_url).clone();
                        url.set_fragment(Some(&format!("entry-{digest}")));
                        (ItemKey::Unlinked(digest), url)
                    }
                };
                let page = entry.link.as_ref().map(Location::from_url).ok_or(FeedOnly::NoLink).and_then(|l| {
                    if !fetcher.reaches(&l) || !same_kind(&l, &listing.location) {
                        Err(FeedOnly::Offline)
                    } else if matches!(l, Location::File(_)) || selection.all {
                        Ok(l)
                    } else {
                        let url = normalize_url(&l.url());
                        let seen = known.appeared(&source.id, &url, &listing_url);
                        let read = known
                            .unchanged(&source.id, &url, &entry)
                            .filter(|read| settled(*read, at, source, rules));
                        worth_fetching(&entry, seen, read.is_some(), source, rules, selection.margin).map(|()| l)
                    }
                });
                let entry = Entry {
                    item: entry,
                    listing: Arc::clone(&listing_url),
                    fetched_at: listing.fetched_at,
                };
                let i = list.item(&mut items, listing.source, key, url);
                list.items[i].entries.push(entry);
                list.attach(&mut pages, i, page, source.ignore_robots);
            }
        }
        for input in plan.inputs.iter().filter(|i| i.kind == Kind::Page) {
            let url = normalize_url(&input.location.url());
            let i = list.item(&mut items, input.source, ItemKey::Url(url.clone()), url);
            list.attach(&mut pages, i, Ok(input.location.clone()), plan.source(input.source).ignore_robots);
        }
        list
    }

    fn item(&mut self, items: &mut HashMap<(SourceId, ItemKey), usize>, source: SourceId, key: ItemKey, url: Url) -> usize {
        *items.entry((source, key)).or_insert_with(|| {
            self.items.push(WorkItem {
                source,
                url,
                // Most items have one entry: room for one (a default first growth makes room
                // for four, a megabyte per thousand items of nothing).
                entries: Vec::with_capacity(1),
                page: None,
                feed_only: None,
            });
            self.items.len() - 1
        })
    }

    /// Gives item `i` its page or, failing that, why it has none. A page wins over a reason: an
    /// entry listed twice needs its page if either listing says so. A page is fetched once per
    /// URL and robots.txt policy: sources that obey it and sources that ignore it
    /// (`ignore_robots`) do not share a fetch, since the site may refuse the one and not the
    /// other.
    fn attach(&mut self, pages: &mut HashMap<(Url, bool), usize>, i: usize, page: Result<Location, FeedOnly>, ignore_robots: bool) {
        let item = &mut self.items[i];
        match page {
            Ok(location) if item.page.is_none() => {
                let next = self.pages.len();
                let p = *pages.entry((normalize_url(&location.url()), ignore_robots)).or_insert(next);
                if p == next {
                    self.pages.push(PageFetch {
                        location,
                        ignore_robots,
                        items: Vec::new(),
                    });
                }
                self.pages[p].items.push(i);
                item.page = Some(p);
                item.feed_only = None;
            }
            Ok(_) => {}
            Err(why) if item.page.is_none() => item.feed_only = Some(item.feed_only.map_or(why, |w| w.min(why))),
            Err(_) => {}
        }
    }
}

/// Where an item is in the worklist, within its source: by its page's normalised address, or
/// for an entry without a link, by a digest of what it says — so the same entry carried by two
/// feeds of the outlet is one item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ItemKey {
    Url(Url),
    Unlinked(String),
}

/// What earlier runs know of an entry, for choosing which pages to fetch.
pub trait Known: Sync {
    /// When runs saw this item of this source appear in this listing: between the last whole
    /// read of the listing that did not list it and the run that first did.
    fn appeared(&self, source: &str, item: &Url, listing: &Url) -> Option<crate::dates::When>;
    /// When an earlier run last read this item's page, if it read this very entry then (same
    /// feed data) and left no finding of it open.
    fn unchanged(&self, source: &str, item: &Url, entry: &FeedItem) -> Option<DateTime<Utc>>;
}

/// Whether a feed entry's page is worth fetching: its feed gives no usable date, or a date that
/// some rule could count for some window of the outlet's audience, `margin` included — the
/// interval blackout saw it appear in (`seen`) among them, so a page backdated to before the
/// window that appeared inside it is read. A date inside (or near) a window counts, a
/// publication or update date alike; one clearly before counts only where a rule counts content
/// published before the window (an update near the window, which the page may show, is read
/// from the feed's own update date); one clearly after, only where a rule says so. A page an
/// earlier run read, whose entry is `unchanged` since, is not read again while every date is
/// before the windows, margin or not, and no window was open since it was read
/// ([`settled`]): the run that read it judged what it showed.
fn worth_fetching(
    entry: &FeedItem,
    seen: Option<crate::dates::When>,
    unchanged: bool,
    source: &Source,
    rules: &RuleSet,
    margin: Duration,
) -> Result<(), FeedOnly> {
    let mut dates: Vec<crate::dates::When> = entry.dates.iter().filter_map(|d| d.parsed.as_ref().ok().copied()).collect();
    if dates.is_empty() {
        return Ok(());
    }
    dates.extend(seen);
    match near_windows(&dates, source, rules, margin) {
        Ok(()) if unchanged && near_windows(&dates, source, rules, Duration::zero()) == Err(FeedOnly::BeforeWindows) => {
            Err(FeedOnly::Unchanged)
        }
        near => near,
    }
}

/// Whether nothing of a window can have escaped a page read at `read`, in a run at `at`: every
/// window of the outlet's audience had closed when it was read, or has not opened yet. (While a
/// window is open, or if it opened since, the page is read again, cheaply when it is unchanged:
/// a page can be edited inside a window without its feed entry changing.)
fn settled(read: DateTime<Utc>, at: DateTime<Utc>, source: &Source, rules: &RuleSet) -> bool {
    rules
        .windows
        .iter()
        .flat_map(|w| &w.spans)
        .filter(|s| source.audience.contains(&s.zone))
        .all(|s| read >= s.end || at < s.start)
}

/// Whether some date is within `margin` of a window a rule could count it for (see
/// [`worth_fetching`]); if not, whether all are before or some after.
fn near_windows(dates: &[crate::dates::When], source: &Source, rules: &RuleSet, margin: Duration) -> Result<(), FeedOnly> {
    let (mut all_before, mut any_window) = (true, false);
    for rule in &rules.rules {
        for &w in &rule.windows {
            let window = &rules[w];
            let before_counts = rule.counts(window.pre_window_content, Verdict::Before);
            let after_counts = rule.counts(window.pre_window_content, Verdict::After);
            for span in window.spans.iter().filter(|s| source.audience.contains(&s.zone)) {
                any_window = true;
                for d in dates {
                    let before = d.latest + margin < span.start;
                    let after = d.earliest >= span.end + margin;
                    if (!before && !after) || (before && before_counts) || (after && after_counts) {
                        return Ok(());
                    }
                    all_before &= before;
                }
            }
        }
    }
    Err(match (any_window, all_before) {
        (false, _) => FeedOnly::NoWindow,
        (true, true) => FeedOnly::BeforeWindows,
        (true, false) => FeedOnly::AfterWindows,
    })
}
