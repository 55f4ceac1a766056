//! An item's verdicts: its page and feed entries, timed against the windows of its outlet's
//! audience and evaluated by the [`Engine`], become findings, cleared matches or a "not
//! checked" — each finding with the [`FindingKey`] that later runs recognise it by.
//!
//! The item's documents are kept apart: the page as extracted, and what its feed entries say
//! that the page does not (a feed summary is published too, but it is not on the page), each
//! with its own text and offsets, so a span always names the document it quotes.

use crate::article::{Article, DateReport, FoundDate, Link, PageClass, Provenance, Quote, TextBuilder, collapse_whitespace};
use crate::charset::Basis;
use crate::detect::{Hit, MatcherKind, Origin};
use crate::model::{Category, FindingKey, LegalForce, Scope, Severity, Status, Tracking, Verdict, WindowId};
use crate::problem::{Code, Problem};
use crate::rules::{Engine, Gate, RuleMatch, RuleSet, Source, Text};
use crate::sources::{Entry, FeedOnly};
use crate::timing::{self, Between, DateRef, ItemDates, Observed, Timing};
use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

/// A page as fetched and extracted.
#[derive(Debug, Clone)]
pub struct Page {
    pub article: Article,
    /// Where its bytes came from, after redirects.
    pub url: Url,
    pub fetched_at: DateTime<Utc>,
    pub encoding: &'static str,
    pub basis: Basis,
    /// The URLs that redirected to it, in order.
    pub redirects: Vec<Url>,
}

/// One item to judge: its address, its page if read, its feed entries.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub source: &'a Source,
    pub url: &'a Url,
    pub page: Option<&'a Page>,
    pub entries: &'a [Entry],
    pub feed_only: Option<FeedOnly>,
    /// What earlier runs saw of it, when the run keeps a history.
    pub observed: Option<&'a Observed>,
}

/// The instant a run evaluates as of, and the earliest plausible date.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub at: DateTime<Utc>,
    pub floor: DateTime<Utc>,
}

/// Everything judging one item produced.
#[derive(Debug, Default)]
pub struct Judged {
    pub item: Option<ItemReport>,
    pub findings: Vec<Finding>,
    pub cleared: Vec<Cleared>,
    pub not_checked: Option<NotChecked>,
    pub problems: Vec<Problem>,
}

/// A rule that fired on an item.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Short and stable: derived from `key` (see [`FindingKey::id`]).
    pub id: String,
    pub key: FindingKey,
    pub rule: String,
    pub severity: Severity,
    pub status: Status,
    pub message: String,
    pub materials: Vec<String>,
    pub source: String,
    pub foreign: bool,
    pub url: String,
    pub title: Option<String>,
    pub window: String,
    pub category: Category,
    pub legal_force: LegalForce,
    pub timing: Timing,
    pub spans: Vec<SpanReport>,
    /// The digest of the item's content it was found in (see [`crate::identity`]): a review
    /// holds for this version only.
    pub version: String,
    /// New since the last run, or open since an earlier one: `state`, `first_run`,
    /// `first_reported` (absent without a state store).
    #[serde(flatten)]
    pub tracking: Option<Tracking>,
}

/// A rule whose content matched, but whose timing does not count (e.g. published before the
/// window and unchanged).
#[derive(Debug, Clone, Serialize)]
pub struct Cleared {
    pub rule: String,
    pub source: String,
    pub url: String,
    pub title: Option<String>,
    pub timing: Timing,
}

/// A page that was read but whose content could not be seen (a consent or subscription wall,
/// an empty page, a listing none of whose items could be told apart), on which no rule fired:
/// neither a finding nor clean.
#[derive(Debug, Clone, Serialize)]
pub struct NotChecked {
    pub source: String,
    pub url: String,
    pub title: Option<String>,
    pub class: PageClass,
    pub reason: String,
}

/// One passage (or link) that is a finding's evidence.
#[derive(Debug, Clone, Serialize)]
pub struct SpanReport {
    pub scope: Scope,
    /// The document whose extracted text `start..end` index: the page, or for feed text
    /// (`summary` scope, a feed's title), the feed or sitemap that carried it.
    pub document: String,
    /// Byte offsets into that document's extracted text (`start == end` for an `href`).
    pub start: usize,
    pub end: usize,
    pub matcher: MatcherKind,
    pub material: String,
    /// The phrase, hashtag, pattern or link prefix that matched, as written in the rules.
    pub needle: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For a passage in a listing's teaser, the page the teaser links to: which item it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teaser: Option<String>,
    /// For fingerprint spans: words reproduced and the leaked documents they come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub words: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<String>>,
    /// The passage with up to 60 characters of context on each side, the passage in
    /// brackets; redacted, its first words and `[… N more words]` (see [`crate::report::Redaction`]).
    pub excerpt: String,
    /// Words of the passage a redacted report leaves out (absent when shown whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_words: Option<usize>,
    /// The same in parts, for renderers that highlight the passage.
    #[serde(skip)]
    pub quote: Quote,
}

/// Every item read, with what was found about it.
#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    pub source: String,
    pub url: String,
    pub title: Option<String>,
    /// The feed's id of the entry (RSS `guid`, Atom `id`), kept for the record; the item is
    /// known by its URL (see [`crate::identity`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
    /// The feed's summary of the item, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// When the page (or, without one, the feed) was read.
    pub fetched_at: Option<DateTime<Utc>>,
    /// When a run first saw the item (this one, if none before), when the run keeps a history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<DateTime<Utc>>,
    /// The last whole read of a feed or sitemap listing the item, before it was first seen: it
    /// was not listed then (absent when no such read exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absent_at: Option<DateTime<Utc>>,
    /// When a run saw its content change into what it is now: after the last capture of the
    /// content before, by the first of this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<Between>,
    /// The publication instant the publisher states, as chosen among its dates (the start of
    /// its interval), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    /// How the page's bytes were decoded (absent when only the feed was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charset: Option<CharsetReport>,
    /// URLs that redirected to the page, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    pub dates: Vec<DateReport>,
    pub timings: Vec<Timing>,
    /// The page's class (`article` for an item read from its feed alone).
    pub class: PageClass,
    /// Why the item was judged on its feed data alone, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed_only: Option<FeedOnly>,
    /// Whether a rule matched it, whatever its timing: what redaction must cut in its texts.
    #[serde(skip)]
    pub matched: Option<Matched>,
    /// The digest of its content as read this time (page and feed text, without counters and
    /// relative times): a new value is a new version.
    pub version: String,
    /// The digests of its feed entries ([`crate::identity::entry_digest`]), for the state
    /// store to tell an entry read again unchanged.
    #[serde(skip)]
    pub entries: Vec<String>,
}

/// What of an item the rules matched, for redaction: whether its title was part of the
/// evidence, and the fewest words any matched material lets a report show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    pub title: bool,
    pub keep: usize,
}

impl ItemReport {
    /// Whether its page was read (only a page read has a charset).
    pub fn read_page(&self) -> bool {
        self.charset.is_some()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CharsetReport {
    pub encoding: &'static str,
    pub basis: Basis,
}

/// The documents of an item, ready to scan: its page, and per listing that carries it, what
/// the listing's entries say that the page does not.
struct Documents<'a> {
    page: Option<&'a Page>,
    feeds: Vec<(&'a Url, Article)>,
}

impl<'a> Documents<'a> {
    /// The feed text is grouped by listing, so each span's offsets index one listing's text;
    /// a summary already on the page, or already in an earlier listing, is not repeated. The
    /// feed's title is the item's only without a page.
    fn new(page: Option<&'a Page>, entries: &'a [Entry]) -> Documents<'a> {
        let mut feeds: Vec<(&Url, Article)> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let on_page = |text: &str| page.is_some_and(|p| p.article.text.contains(text));
        for e in entries {
            let at = match feeds.iter().position(|(l, _)| *l == &*e.listing) {
                Some(at) => at,
                None => {
                    feeds.push((&*e.listing, Article::default()));
                    feeds.len() - 1
                }
            };
            let article = &mut feeds[at].1;
            let mut b = TextBuilder::continuing(std::mem::take(&mut article.text), std::mem::take(&mut article.blocks));
            if page.is_none()
                && let Some(title) = e.item.title.as_deref().filter(|t| !seen.contains(&collapse_whitespace(t)))
            {
                b.push(Scope::Title, title);
                seen.push(collapse_whitespace(title));
            }
            let mut said = false;
            for text in [&e.item.summary, &e.item.content].into_iter().flatten() {
                let text = collapse_whitespace(text);
                if !seen.contains(&text) && !on_page(&text) {
                    b.push(Scope::Summary, &text);
                    seen.push(text);
                    said = true;
                }
            }
            (article.text, article.blocks) = b.finish();
            article.title = article.title.take().or_else(|| e.item.title.clone());
            // The links of a summary that is already on the page, or in an earlier feed, are
            // theirs too.
            for url in e.item.links.iter().filter(|_| said) {
                if !article.links.iter().any(|l| &l.url == url) {
                    article.links.push(Link {
                        url: url.clone(),
                        within: Scope::Summary,
                    });
                }
            }
        }
        Documents { page, feeds }
    }

    fn texts(&self) -> Vec<Text<'_>> {
        let page = self.page.map(|p| Text {
            article: &p.article,
            origin: Origin::Page,
        });
        let feeds = self
            .feeds
            .iter()
            .enumerate()
            .filter(|(_, (_, a))| !a.blocks.is_empty() || !a.links.is_empty())
            .map(|(n, (_, article))| Text {
                article,
                origin: Origin::Feed(n),
            });
        page.into_iter().chain(feeds).collect()
    }

    /// The text a hit's offsets index, and the address of its document.
    fn text_of(&self, origin: Origin) -> (&str, String) {
        match (origin, self.page) {
            (Origin::Page, Some(p)) => (&p.article.text, p.url.to_string()),
            (Origin::Feed(n), _) if n < self.feeds.len() => (&self.feeds[n].1.text, self.feeds[n].0.to_string()),
            _ => ("", String::new()),
        }
    }

    /// The item's title: the page's, else its first feed entry's.
    fn title(&self) -> Option<String> {
        self.page
            .and_then(|p| p.article.title.clone())
            .or_else(|| self.feeds.iter().find_map(|(_, a)| a.title.clone()))
    }
}

/// The texts of an item's feed entries as the rules read them, per listing (what a span whose
/// document is that listing indexes), for the evidence of what was judged.
pub fn feed_texts(item: &Item) -> Vec<(Url, Article)> {
    Documents::new(item.page, item.entries)
        .feeds
        .into_iter()
        .filter(|(_, a)| !a.blocks.is_empty())
        .map(|(l, a)| (l.clone(), a))
        .collect()
}

/// Judges one item: times it, evaluates the rules, records the outcome. Nothing when the item
/// has nothing to judge (no page could be read and no feed entry stands for it).
pub fn judge(engine: &Engine, item: Item, clock: Clock) -> Judged {
    let mut out = Judged::default();
    if item.page.is_none() && item.entries.is_empty() {
        return out;
    }
    let docs = Documents::new(item.page, item.entries);
    let found: Vec<FoundDate> = dates_of(item);
    let mut dates = ItemDates::choose(&found, clock.at, clock.floor);
    out.problems = date_problems(item, &found, &dates);
    let title = docs.title();
    let texts = docs.texts();
    // The version: the page's text (when read), then what the feed entries say beside it, each
    // distinct text once and in order, so an item that leaves one of two feeds saying the same
    // has not changed, and one whose summary changed has.
    let mut feed_texts: Vec<&str> = texts
        .iter()
        .filter(|t| t.origin != Origin::Page)
        .map(|t| t.article.text.as_str())
        .collect();
    feed_texts.sort_unstable();
    feed_texts.dedup();
    let page_text = item.page.map(|p| p.article.text.as_str());
    let version = crate::identity::version_digest(page_text.into_iter().chain(feed_texts)).hex();
    if let Some(o) = item.observed {
        dates.observe(o, &version, item.page.is_some(), clock.at);
    }
    let evaluation = engine.evaluate(&texts);
    let evidence = || evaluation.matches.iter().flat_map(|m| &m.evidence);
    let matched = (!evaluation.matches.is_empty()).then(|| Matched {
        title: evidence().any(|h| h.scope == Scope::Title),
        keep: evidence()
            .map(|h| engine.rules()[h.material].redact_words)
            .min()
            .unwrap_or(crate::detect::REDACT_WORDS),
    });
    let mut timings = Timings::new(engine.rules(), item.source, &dates, false);
    let context = Context {
        rules: engine.rules(),
        item,
        docs: &docs,
        title: &title,
        version: &version,
    };
    let mut shown_timings: Vec<Timing> = Vec::new();
    for m in &evaluation.matches {
        let rule = &engine.rules()[m.rule];
        let teasers = item.page.and_then(|p| shown(p, m, clock, dates.changed.as_ref()));
        let counting = match &teasers {
            Some(shown) => {
                let mut t = Timings::new(engine.rules(), item.source, shown, true);
                let counting = t.first_counting(m);
                for t in t.computed {
                    if !shown_timings.iter().any(|s| same_timing(s, &t)) {
                        shown_timings.push(t);
                    }
                }
                counting
            }
            None => timings.first_counting(m),
        };
        match counting {
            Counting::Fires(window, timing, severity) => {
                let mut finding = context.finding(m, window, timing, severity);
                if let Some(v) = item.page.and_then(|p| teasers_version(p, m)) {
                    finding.version = v;
                }
                out.findings.push(finding)
            }
            Counting::Clears(timing) => out.cleared.push(Cleared {
                rule: rule.id.clone(),
                source: item.source.id.clone(),
                url: item.url.to_string(),
                title: title.clone(),
                timing,
            }),
            Counting::NoWindow => {}
        }
    }
    let class = item.page.map_or(PageClass::Article, |p| p.article.kind.class);
    if let Gate::NotChecked { class, reason } = evaluation.gate
        && out.findings.is_empty()
    {
        out.not_checked = Some(NotChecked {
            source: item.source.id.clone(),
            url: item.url.to_string(),
            title: title.clone(),
            class,
            reason,
        });
    }
    out.item = Some(ItemReport {
        source: item.source.id.clone(),
        url: item.url.to_string(),
        title,
        guid: item.entries.iter().find_map(|e| e.item.guid.clone()),
        summary: item.entries.iter().find_map(|e| e.item.summary.clone()),
        fetched_at: item
            .page
            .map(|p| p.fetched_at)
            .or_else(|| item.entries.first().and_then(|e| e.fetched_at)),
        first_seen: item.observed.map(|o| o.first_seen),
        absent_at: item.observed.and_then(|o| o.absent_at),
        changed: dates.changed_between(),
        published: dates.published.as_ref().map(|d| d.when.instant()),
        charset: item.page.map(|p| CharsetReport {
            encoding: p.encoding,
            basis: p.basis,
        }),
        redirects: item.page.iter().flat_map(|p| p.redirects.iter().map(Url::to_string)).collect(),
        dates: found
            .iter()
            .map(Into::into)
            .chain([&dates.appeared, &dates.changed].into_iter().flatten().map(|d| DateReport {
                provenance: d.provenance,
                raw: d.raw.clone(),
                instant: Some(d.when.latest),
                error: None,
            }))
            .collect(),
        timings: timings.computed.into_iter().chain(shown_timings).collect(),
        class,
        feed_only: item.feed_only,
        matched,
        version,
        entries: item.entries.iter().map(|e| crate::identity::entry_digest(&e.item)).collect(),
    });
    out
}

/// On a listing page, when what a match rests on was shown: the latest date the teasers
/// holding its evidence show, when all of it lies in teasers that each show one; else when the
/// run saw the page (`observed:shown`), since a listing shows what it shows when it is read —
/// its own dates (a `<time>` of one teaser, a CMS's date of the front) say nothing of when a
/// given item appeared on it. A link hit does not say which teaser holds it, so it is timed so
/// too, as is everything on a listing none of whose items could be told apart. `None` for an
/// article, and for a match resting on the feed alone: the item's dates time it.
///
/// A teaser's date is what the publisher says. When blackout saw the page change since its
/// last read (`changed`), a dated teaser may be one of the changes, posted then under an older
/// date: the change stands beside its date as an observed modification, so a teaser dated
/// before the window on a page that changed across or inside it is not cleared (the verdict is
/// at most `unknown`, see [`Timings`]: which teaser changed is not known).
fn shown(page: &Page, m: &RuleMatch, clock: Clock, changed: Option<&DateRef>) -> Option<ItemDates> {
    let a = &page.article;
    if a.kind.class != PageClass::Listing || !m.evidence.iter().any(|h| h.origin == Origin::Page) {
        return None;
    }
    let mut dated: Vec<DateRef> = Vec::new();
    let mut undated = false;
    for h in m.evidence.iter().filter(|h| h.origin == Origin::Page) {
        let date = match h.scope {
            Scope::Teaser => a
                .teaser_at(h.range.start)
                .and_then(|t| t.date.as_ref())
                .and_then(|d| usable(d, clock)),
            _ => None,
        };
        match date {
            Some(d) => dated.push(d),
            None => undated = true,
        }
    }
    Some(match dated.into_iter().max_by_key(|d| d.when.latest) {
        Some(latest) if !undated => ItemDates {
            published: Some(latest),
            changed: changed.cloned(),
            ..ItemDates::default()
        },
        _ => {
            let seen = shown_at(page.fetched_at, clock.at);
            let fetched = page.fetched_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            ItemDates {
                published: Some(DateRef {
                    provenance: Provenance::ObservedShown,
                    raw: match seen == page.fetched_at {
                        true => format!("fetched {fetched}"),
                        false => format!("fetched {fetched}, taken as of the run's instant"),
                    },
                    when: crate::dates::When::between(seen, seen),
                }),
                ..ItemDates::default()
            }
        }
    })
}

/// What a finding on a listing rests on, as a version: the text of the teasers holding its
/// evidence. The page changes every night (teasers come and go), the teaser a reviewer
/// dismissed does not, so the review holds while that teaser reads the same.
fn teasers_version(page: &Page, m: &RuleMatch) -> Option<String> {
    let a = &page.article;
    if a.kind.class != PageClass::Listing {
        return None;
    }
    let on_page = || m.evidence.iter().filter(|h| h.origin == Origin::Page);
    let mut ranges: Vec<&std::ops::Range<usize>> = on_page()
        .filter(|h| h.scope == Scope::Teaser)
        .flat_map(|h| {
            a.teasers
                .iter()
                .filter(|t| t.range.start < h.range.end.max(h.range.start + 1) && h.range.start < t.range.end)
        })
        .map(|t| &t.range)
        .collect();
    ranges.sort_by_key(|r| r.start);
    ranges.dedup();
    // The links a match rests on are what it shows too: a new link into the dump is new.
    let mut links: Vec<&str> = on_page().filter_map(|h| h.url.as_ref().map(Url::as_str)).collect();
    links.sort_unstable();
    links.dedup();
    if ranges.is_empty() && links.is_empty() {
        return None;
    }
    Some(crate::identity::version_digest(ranges.into_iter().map(|r| &a.text[r.clone()]).chain(links)).hex())
}

/// A run lasts less than this: a page fetched later than the run's instant by more is read by
/// a run evaluated as of an earlier instant (`--at`) than the one it runs at.
const RUN_SPAN: chrono::Duration = chrono::Duration::hours(6);

/// When a run saw a listing page show what it shows: when it fetched it (a replay's captures
/// keep that instant), unless the run is evaluated as of an earlier instant than it runs at
/// (`--at`, a file read now): then at that instant, as every other thing the run sees.
fn shown_at(fetched: DateTime<Utc>, at: DateTime<Utc>) -> DateTime<Utc> {
    if fetched <= at + RUN_SPAN { fetched } else { at }
}

/// A teaser's date, if it parsed and is plausible (not after the run's instant, not before the
/// floor), as [`ItemDates::choose`] would take it.
fn usable(d: &FoundDate, clock: Clock) -> Option<DateRef> {
    ItemDates::choose(std::slice::from_ref(d), clock.at, clock.floor).published
}

/// Two timings of one window resting on the same date.
fn same_timing(a: &Timing, b: &Timing) -> bool {
    a.window == b.window && a.provenance == b.provenance && a.instant == b.instant
}

/// The page's dates, then the feed entries' (each distinct date once).
fn dates_of(item: Item) -> Vec<FoundDate> {
    let mut found: Vec<FoundDate> = item.page.map(|p| p.article.dates.clone()).unwrap_or_default();
    for d in item.entries.iter().flat_map(|e| &e.item.dates) {
        if !found.iter().any(|f| f.provenance == d.provenance && f.raw == d.raw) {
            found.push(d.clone());
        }
    }
    found
}

fn date_problems(item: Item, found: &[FoundDate], dates: &ItemDates) -> Vec<Problem> {
    let problem = |code, message: String| Problem::new(&item.source.id, item.url, code, message);
    let mut out = Vec::new();
    let teasers = item.page.iter().flat_map(|p| &p.article.teasers).filter_map(|t| t.date.as_ref());
    for d in found.iter().chain(teasers) {
        if let Err(e) = &d.parsed {
            out.push(problem(Code::DateUnparseable, format!("{} `{}`: {e}", d.provenance.name(), d.raw)));
        }
    }
    let set_aside = [
        (&dates.future, Code::DateInFuture, "later than the evaluation time"),
        (&dates.too_old, Code::DateTooOld, "earlier than the date floor"),
    ];
    for (list, code, why) in set_aside {
        for d in list {
            out.push(problem(code, format!("{} `{}` is {why}; not used", d.provenance.name(), d.raw)));
        }
    }
    for msg in &dates.disagreements {
        out.push(problem(Code::DatesDisagree, format!("dates disagree: {msg}")));
    }
    out
}

/// The item's timing per window, computed when a rule first asks for it. A window none of
/// whose zones is in the outlet's audience does not apply to it.
struct Timings<'a> {
    rules: &'a RuleSet,
    source: &'a Source,
    dates: &'a ItemDates,
    /// The dates are a listing's (see [`shown`]).
    listing: bool,
    computed: Vec<Timing>,
}

impl<'a> Timings<'a> {
    fn new(rules: &'a RuleSet, source: &'a Source, dates: &'a ItemDates, listing: bool) -> Timings<'a> {
        Timings {
            rules,
            source,
            dates,
            listing,
            computed: Vec::new(),
        }
    }

    fn of(&mut self, w: WindowId) -> Option<Timing> {
        let window = &self.rules[w];
        if let Some(t) = self.computed.iter().find(|t| t.window == window.id) {
            return Some(t.clone());
        }
        let spans: Vec<_> = window
            .spans
            .iter()
            .copied()
            .filter(|s| self.source.audience.contains(&s.zone))
            .collect();
        if spans.is_empty() {
            return None;
        }
        let mut t = timing::verdict(&window.id, self.dates, &spans, |z| self.rules[z].id.clone());
        // A listing's change is the page's, not its teaser's: it makes a dated teaser's
        // clearing doubtful, never proves the teaser changed inside.
        if self.listing && t.verdict == Verdict::ChangedInside {
            t.verdict = Verdict::Unknown;
        }
        self.computed.push(t.clone());
        Some(t)
    }

    /// The first of the rule's windows whose timing makes it fire, with the severity (capped
    /// at `warning` when the timing is unknown); else the first timing that applied, if any.
    fn first_counting(&mut self, m: &RuleMatch) -> Counting {
        let rule = &self.rules[m.rule];
        let mut first = None;
        for &w in &rule.windows {
            let Some(t) = self.of(w) else { continue };
            if rule.counts(self.rules[w].pre_window_content, t.verdict) {
                let severity = match t.verdict {
                    Verdict::Unknown => rule.severity.min(Severity::Warning),
                    _ => rule.severity,
                };
                return Counting::Fires(w, t, severity);
            }
            first.get_or_insert(t);
        }
        first.map_or(Counting::NoWindow, Counting::Clears)
    }
}

/// What a matching rule's timing makes of it.
enum Counting {
    /// It fires in this window, at this severity.
    Fires(WindowId, Timing, Severity),
    /// No window's timing counts: the match is cleared, by the first window's timing.
    Clears(Timing),
    /// None of its windows applies to the outlet's audience.
    NoWindow,
}

/// What a finding is built from.
struct Context<'a> {
    rules: &'a RuleSet,
    item: Item<'a>,
    docs: &'a Documents<'a>,
    title: &'a Option<String>,
    version: &'a str,
}

impl Context<'_> {
    fn finding(&self, m: &RuleMatch, w: WindowId, timing: Timing, severity: Severity) -> Finding {
        let (rules, item) = (self.rules, self.item);
        let rule = &rules[m.rule];
        let window = &rules[w];
        let mut materials: Vec<String> = m.evidence.iter().map(|h| rules[h.material].id.clone()).collect();
        materials.sort();
        materials.dedup();
        let key = FindingKey {
            rule: rule.id.clone(),
            source: item.source.id.clone(),
            url: item.url.to_string(),
            materials: materials.clone(),
        };
        Finding {
            id: key.id(),
            key,
            rule: rule.id.clone(),
            severity,
            status: rule.status,
            message: rule.message.clone(),
            materials,
            source: item.source.id.clone(),
            foreign: item.source.foreign,
            url: item.url.to_string(),
            title: self.title.clone(),
            window: window.id.clone(),
            category: window.category,
            legal_force: window.legal_force,
            timing,
            spans: m.evidence.iter().map(|h| self.span(h)).collect(),
            version: self.version.to_string(),
            tracking: None,
        }
    }

    fn span(&self, h: &Hit) -> SpanReport {
        let (text, document) = self.docs.text_of(h.origin);
        let quote = match h.range.is_empty() {
            true => Quote {
                passage: h.url.as_ref().map(Url::to_string).unwrap_or_default(),
                ..Quote::default()
            },
            false => Quote::around(text, h.range.clone(), 60),
        };
        SpanReport {
            scope: h.scope,
            document,
            start: h.range.start,
            end: h.range.end,
            matcher: h.kind,
            material: self.rules[h.material].id.clone(),
            needle: h.needle.clone(),
            url: h.url.as_ref().map(Url::to_string),
            teaser: match (h.origin, h.scope, self.docs.page) {
                (Origin::Page, Scope::Teaser, Some(p)) => p.article.teaser_at(h.range.start).map(|t| t.url.to_string()),
                _ => None,
            },
            words: h.reproduces.as_ref().map(|r| r.words),
            documents: h.reproduces.as_ref().map(|r| r.documents.clone()),
            excerpt: match h.range.is_empty() {
                true => quote.passage.clone(),
                false => quote.to_string(),
            },
            hidden_words: None,
            quote,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_is_shown_when_fetched_unless_the_run_is_set_in_the_past() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        // A live run (and its replay): the page showed it when it was fetched, minutes or
        // hours after the run's instant.
        let run = at("2017-05-06T12:00:00Z");
        assert_eq!(shown_at(at("2017-05-06T12:40:00Z"), run), at("2017-05-06T12:40:00Z"));
        assert_eq!(shown_at(at("2017-05-06T17:30:00Z"), run), at("2017-05-06T17:30:00Z"));
        // `--at` in 2017 over a page read today, or a day before the read: seen as of the
        // run's instant, never later than the instant it is evaluated as of.
        assert_eq!(shown_at(at("2026-11-30T14:00:00Z"), run), run);
        assert_eq!(shown_at(at("2017-05-07T11:00:00Z"), run), run);
    }
}
