//! When an item was published or changed, relative to a window: the timing verdict.
//!
//! Date policy (documented in the README):
//! 1. Candidates are the dates that parsed, not later than the evaluation instant (plus
//!    [`CLOCK_SKEW`]) and not before the plausibility floor (`--date-floor`, 1995-01-01).
//! 2. The publication date is the `Published` candidate of highest precedence: JSON-LD, then
//!    page meta tags, then microdata, then `<time>`, then the feed; on a tie, the first found.
//!    The modification date is chosen the same way among `Modified` candidates.
//! 3. Every date is an interval (day precision, unknown zone); a verdict is only `inside`,
//!    `before` or `after` when the whole interval is. Otherwise it is `unknown`.
//! 4. Published before the window and modified inside it is `changed_inside`: a modification
//!    counts as a new publication (Conseil d'État 2002, Canada s. 324).
//! 5. Feed and page dates that disagree by more than [`DISAGREEMENT`] are reported.
//! 6. What blackout observed itself (with a state store) weighs beside the publisher's dates
//!    ([`ItemDates::observe`]): an item absent from a whole read of its listing and listed by
//!    a later one appeared in between; content that differs from its last capture changed
//!    since. An observed interval replaces the publisher's date of the same role when the two
//!    cannot both be true, and is then the date the verdict rests on (the publisher's is kept
//!    in [`Timing::stated`]). Without an earlier read, nothing is observed.

use crate::article::{FoundDate, Provenance, Role};
use crate::dates::When;
use crate::model::Verdict;
use crate::window::ZoneSpan;
use chrono::{DateTime, Duration, Utc};

/// Dates later than the evaluation instant by more than this are not used: a page cannot
/// have been published after it was read (the allowance covers servers' clock drift).
pub const CLOCK_SKEW: Duration = Duration::minutes(15);

/// The default earliest plausible date (`--date-floor`): no news site published online
/// before 1995, so an earlier date is a template's or a birth date, not a publication.
pub fn default_floor() -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(
        chrono::NaiveDate::from_ymd_opt(1995, 1, 1)
            .expect("valid")
            .and_hms_opt(0, 0, 0)
            .expect("valid"),
        Utc,
    )
}

/// Feed and page publication dates further apart than this are reported as a disagreement.
pub const DISAGREEMENT: Duration = Duration::minutes(5);

/// A chosen date: which one, and what it says.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DateRef {
    pub provenance: Provenance,
    pub raw: String,
    #[serde(flatten)]
    pub when: When,
}

/// The dates an item's verdicts rest on.
#[derive(Debug, Clone, Default)]
pub struct ItemDates {
    pub published: Option<DateRef>,
    pub modified: Option<DateRef>,
    /// Human-readable disagreements between sources of dates.
    pub disagreements: Vec<String>,
    /// Dates that parsed but lie after the evaluation instant (not used).
    pub future: Vec<DateRef>,
    /// Dates that parsed but lie before the plausibility floor (not used).
    pub too_old: Vec<DateRef>,
    /// The day the page's address names (`/2017/05/06/`), when it names one.
    pub address: Option<DateRef>,
    /// When blackout saw the item appear: after the last whole read of its listing that did
    /// not list it, by the first read that did.
    pub appeared: Option<DateRef>,
    /// When blackout saw its content change: after the last capture of its previous
    /// version, by this run's.
    pub changed: Option<DateRef>,
}

/// What earlier runs of blackout saw of an item (from the state store). Kept with a run's
/// evidence, so that a replay knows what the run knew.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observed {
    /// When a run first saw the item listed or read (this run's instant, if this is the first).
    pub first_seen: DateTime<Utc>,
    /// The last whole read, before `first_seen`, of a feed or sitemap that lists the item: it
    /// was not listed then. `None` when no such read exists.
    pub absent_at: Option<DateTime<Utc>>,
    /// Its content as last captured by an earlier run of this same blackout.
    pub capture: Option<Capture>,
}

/// An item's content as a run captured it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Capture {
    /// The version digest ([`crate::identity::version_digest`]), in hex.
    pub version: String,
    /// The last instant it was seen with that content.
    pub at: DateTime<Utc>,
    /// Whether its page was read (a capture from the feed alone differs from one with the
    /// page without any change, so only captures of the same kind are compared).
    pub page: bool,
    /// When a run saw the item's content change into this version, if one did.
    pub changed: Option<Between>,
}

/// An interval blackout observed something in: after one run's instant, by a later one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Between {
    pub after: DateTime<Utc>,
    pub by: DateTime<Utc>,
}

impl ItemDates {
    pub fn choose(found: &[FoundDate], at: DateTime<Utc>, floor: DateTime<Utc>) -> ItemDates {
        let mut out = ItemDates::default();
        let mut candidates: Vec<DateRef> = Vec::new();
        for d in found {
            let Ok(when) = d.parsed else { continue };
            let r = DateRef {
                provenance: d.provenance,
                raw: d.raw.clone(),
                when,
            };
            if when.earliest > at + CLOCK_SKEW {
                out.future.push(r);
            } else if when.latest < floor {
                out.too_old.push(r);
            } else {
                candidates.push(r);
            }
        }
        let best = |role: Role| {
            candidates
                .iter()
                .filter(|c| c.provenance.role() == role)
                .min_by_key(|c| c.provenance.rank())
                .cloned()
        };
        out.published = best(Role::Published);
        out.modified = best(Role::Modified);
        out.address = candidates.iter().find(|c| c.provenance == Provenance::UrlPath).cloned();
        if let (Some(a), Some(p)) = (&out.address, &out.published)
            && p.provenance != Provenance::UrlPath
            && (a.when.written.date() - p.when.written.date()).num_days().abs() > 1
        {
            out.disagreements.push(format!(
                "the address says {} but {} says {}",
                a.when.written.date(),
                p.provenance.name(),
                p.when.as_written().unwrap_or_else(|| p.raw.clone())
            ));
        }
        let feed = candidates
            .iter()
            .find(|c| c.provenance.role() == Role::Published && c.provenance.from_feed());
        let page = candidates
            .iter()
            .find(|c| c.provenance.role() == Role::Published && !c.provenance.from_feed());
        if let (Some(f), Some(p)) = (feed, page)
            && f.when.is_exact()
            && p.when.is_exact()
            && (f.when.instant() - p.when.instant()).abs() > DISAGREEMENT
        {
            out.disagreements.push(format!(
                "{} says {} but {} says {}",
                f.provenance.name(),
                f.when.instant().format("%Y-%m-%dT%H:%M:%SZ"),
                p.provenance.name(),
                p.when.instant().format("%Y-%m-%dT%H:%M:%SZ")
            ));
        }
        out
    }

    /// Adds what blackout observed: the interval in which the item appeared (when an earlier
    /// whole read of its listing did not list it), and the one in which its content changed
    /// into this run's `version` — now, when it differs from the last capture (read with or
    /// without its `page` alike), closed by the run's instant `at`; or earlier, when the last
    /// capture is this same content and a run saw it change into it.
    pub fn observe(&mut self, o: &Observed, version: &str, page: bool, at: DateTime<Utc>) {
        use crate::model::stamp;
        if let Some(absent) = o.absent_at.filter(|a| *a < o.first_seen) {
            let raw = format!("absent at {}, first seen {}", stamp(absent), stamp(o.first_seen));
            self.appeared = Some(observed(Provenance::ObservedFirstSeen, raw, absent, o.first_seen));
        }
        let changed = match o.capture.as_ref().filter(|c| c.page == page) {
            Some(c) if c.version != version && c.at < at => Some(Between { after: c.at, by: at }),
            Some(c) if c.version == version => c.changed,
            _ => None,
        };
        if let Some(b) = changed {
            let raw = format!("previous content seen {}, this content first seen {}", stamp(b.after), stamp(b.by));
            self.changed = Some(observed(Provenance::ObservedChanged, raw, b.after, b.by));
        }
    }

    /// The interval in which blackout saw the item's content change into what it is now.
    pub fn changed_between(&self) -> Option<Between> {
        self.changed.as_ref().map(|c| Between {
            after: c.when.earliest,
            by: c.when.latest,
        })
    }

    /// The dates the verdict rests on: the publisher's, except where an observation shows
    /// them wrong — a publication date before the read the item was absent from (backdated),
    /// a modification date (or none) older than an observed change. A stated date later than
    /// the observation is left to decide: a date moved forward is what a republication looks
    /// like.
    fn effective(&self) -> (Option<&DateRef>, Option<&DateRef>) {
        let published = match (&self.published, &self.appeared) {
            (Some(p), Some(a)) if p.when.latest <= a.when.earliest => Some(a),
            (None, Some(a)) => Some(a),
            (p, _) => p.as_ref(),
        };
        let modified = match (&self.modified, &self.changed) {
            (Some(m), Some(c)) if m.when.latest <= c.when.earliest => Some(c),
            (None, Some(c)) => Some(c),
            (m, _) => m.as_ref(),
        };
        (published, modified)
    }
}

/// An interval blackout observed, from `after` (excluded) to `by`.
fn observed(provenance: Provenance, raw: String, after: DateTime<Utc>, by: DateTime<Utc>) -> DateRef {
    DateRef {
        provenance,
        raw,
        when: When::between(after, by),
    }
}

/// How long before the read an item was absent from its stated publication may be and still
/// be taken for a backdated one. Further back, an item seen to appear is more likely an old
/// article listed again (a "most read" feed), or one blackout knew under another address or
/// forgot (`state prune`), than one backdated by days: observation cannot tell them apart, so
/// its timing is `unknown` (a warning at most, for a reviewer), not `inside`.
pub const RESURFACED: Duration = Duration::hours(24);

impl ItemDates {
    /// The publication day in the publisher's calendar: the day as written, except that an
    /// instant written in UTC (many CMSs emit UTC) whose address names the neighbouring day
    /// is on that day, if it falls on it at some offset between −10 h and +14 h: the evening
    /// article of `/2023/11/08/` stamped `2023-11-09T03:28:35Z` was published on the 8th.
    pub fn publisher_day(&self) -> Option<chrono::NaiveDate> {
        let p = self.published.as_ref()?;
        if p.when.precision < crate::dates::Precision::Day {
            return None;
        }
        let day = p.when.written.date();
        let utc = p.when.offset.is_some_and(|o| o.local_minus_utc() == 0) && p.when.is_exact();
        if let Some(a) = self.address.as_ref().filter(|_| utc) {
            let url_day = a.when.written.date();
            let instant = p.when.instant();
            let reachable =
                (instant - Duration::hours(10)).date_naive() <= url_day && url_day <= (instant + Duration::hours(14)).date_naive();
            if url_day != day && reachable {
                return Some(url_day);
            }
        }
        Some(day)
    }
}

/// The verdict for one item and one window over an audience.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Timing {
    pub window: String,
    pub verdict: Verdict,
    /// The instant the verdict rests on (the start of the date's interval) and where the date
    /// was found; both also in `date`, with the raw string and precision.
    pub instant: Option<DateTime<Utc>>,
    pub provenance: Option<Provenance>,
    /// The date the verdict rests on, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<DateRef>,
    /// Zones of the audience whose window contains that date.
    pub zones_inside: Vec<String>,
    /// Zones of the audience whose window does not (yet, or no longer) contain it.
    pub zones_outside: Vec<String>,
    /// When the verdict rests on what blackout observed, what the publisher's date said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stated: Option<DateRef>,
}

/// Position of a date interval relative to a window's spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Before,
    Inside,
    After,
    Straddles,
}

/// Where a date interval lies relative to a window's spans. Both exclude their end: a date
/// interval `[earliest, latest)` (a point when the two are equal) is inside a span when it
/// lies wholly in it, before when it ends by the time every span starts, after when it meets
/// no span and is not before them all (after the last, or between two zones' windows), and
/// straddles an edge otherwise.
fn place(w: &When, spans: &[ZoneSpan]) -> Place {
    if spans.is_empty() {
        return Place::Straddles;
    }
    if spans.iter().any(|s| within(w, s)) {
        Place::Inside
    } else if spans.iter().all(|s| ends_before(w, s)) {
        Place::Before
    } else if !spans.iter().any(|s| meets(w, s)) {
        Place::After
    } else {
        Place::Straddles
    }
}

/// The whole date interval lies in the span.
fn within(w: &When, s: &ZoneSpan) -> bool {
    w.earliest >= s.start && w.earliest < s.end && w.latest <= s.end
}

/// Some instant of the date interval lies in the span.
fn meets(w: &When, s: &ZoneSpan) -> bool {
    match w.is_exact() {
        true => s.start <= w.earliest && w.earliest < s.end,
        false => w.earliest < s.end && w.latest > s.start,
    }
}

/// Every instant of the date interval comes before the span starts.
fn ends_before(w: &When, s: &ZoneSpan) -> bool {
    match w.is_exact() {
        true => w.earliest < s.start,
        false => w.latest <= s.start,
    }
}

/// Decides the verdict of an item's dates against `spans` (the window in each zone of the
/// audience). `zone_name` names a span's zone for the report.
pub fn verdict(window: &str, dates: &ItemDates, spans: &[ZoneSpan], zone_name: impl Fn(crate::model::ZoneId) -> String) -> Timing {
    let make = |verdict, date: Option<&DateRef>| {
        let (inside, outside): (Vec<&ZoneSpan>, Vec<&ZoneSpan>) = match date {
            Some(d) => spans.iter().partition(|s| within(&d.when, s)),
            None => (vec![], vec![]),
        };
        Timing {
            window: window.to_string(),
            verdict,
            instant: date.map(|d| d.when.instant()),
            provenance: date.map(|d| d.provenance),
            date: date.cloned(),
            zones_inside: inside.iter().map(|s| zone_name(s.zone)).collect(),
            zones_outside: outside.iter().map(|s| zone_name(s.zone)).collect(),
            stated: match date.map(|d| d.provenance) {
                Some(Provenance::ObservedFirstSeen) => dates.published.clone(),
                Some(Provenance::ObservedChanged) => dates.modified.clone().or_else(|| dates.published.clone()),
                _ => None,
            },
        }
    };
    let (published, modified) = dates.effective();
    let resurfaced = matches!((&dates.published, published), (Some(p), Some(a))
        if a.provenance == Provenance::ObservedFirstSeen && a.when.earliest - p.when.latest > RESURFACED);
    let p = published.map(|d| (d, place(&d.when, spans)));
    let m = modified.map(|d| (d, place(&d.when, spans)));
    match (p, m) {
        (Some((d, Place::Inside)), _) if resurfaced => make(Verdict::Unknown, Some(d)),
        (Some((d, Place::Inside)), _) => make(Verdict::Inside, Some(d)),
        (Some((_, Place::Before)), Some((md, Place::Inside))) => make(Verdict::ChangedInside, Some(md)),
        (Some((_, Place::Before)), Some((md, Place::Straddles))) => make(Verdict::Unknown, Some(md)),
        (Some((d, Place::Before)), _) => make(Verdict::Before, Some(d)),
        (Some((d, Place::After)), _) => make(Verdict::After, Some(d)),
        (Some((d, Place::Straddles)), _) => make(Verdict::Unknown, Some(d)),
        // No publication date: a modification inside still proves a change inside.
        (None, Some((md, Place::Inside))) => make(Verdict::ChangedInside, Some(md)),
        (None, Some((md, Place::Before))) => make(Verdict::Before, Some(md)),
        (None, Some((md, _))) => make(Verdict::Unknown, Some(md)),
        (None, None) => make(Verdict::Unknown, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::parse;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn spans() -> Vec<ZoneSpan> {
        // Metropole and Guadeloupe, round 2 campaign silence.
        vec![
            ZoneSpan {
                zone: crate::model::ZoneId(0),
                start: utc("2017-05-05T22:00:00Z"),
                end: utc("2017-05-07T18:00:00Z"),
            },
            ZoneSpan {
                zone: crate::model::ZoneId(1),
                start: utc("2017-05-05T04:00:00Z"),
                end: utc("2017-05-07T18:00:00Z"),
            },
        ]
    }

    fn found(raw: &str, provenance: Provenance, tz: Option<chrono_tz::Tz>) -> FoundDate {
        FoundDate {
            raw: raw.into(),
            provenance,
            parsed: parse(raw, tz),
        }
    }

    fn judge(dates: &[FoundDate]) -> Timing {
        let d = ItemDates::choose(dates, utc("2026-01-01T00:00:00Z"), default_floor());
        verdict("w", &d, &spans(), |z| ["metropole", "guadeloupe"][z.index()].to_string())
    }

    #[test]
    fn friday_evening_gmt_is_inside_for_the_metropole() {
        let t = judge(&[found("Fri, 05 May 2017 22:30:00 GMT", Provenance::FeedPubDate, None)]);
        assert_eq!(t.verdict, Verdict::Inside);
        assert_eq!(t.zones_inside, vec!["metropole", "guadeloupe"]);
        let early = judge(&[found("Fri, 05 May 2017 20:35:00 +0200", Provenance::FeedPubDate, None)]);
        assert_eq!(
            (early.verdict, early.zones_inside),
            (Verdict::Inside, vec!["guadeloupe".to_string()])
        );
    }

    #[test]
    fn page_dates_win_and_disagreement_is_reported() {
        let dates = [
            found("Sat, 06 May 2017 10:00:00 +0200", Provenance::FeedPubDate, None),
            found("2017-05-04T10:00:00+02:00", Provenance::JsonLdPublished, None),
            found("2017-05-06T09:00:00+02:00", Provenance::JsonLdModified, None),
        ];
        let d = ItemDates::choose(&dates, utc("2026-01-01T00:00:00Z"), default_floor());
        assert_eq!(d.published.as_ref().unwrap().provenance, Provenance::JsonLdPublished);
        assert_eq!(d.disagreements.len(), 1);
        assert_eq!(judge(&dates).verdict, Verdict::ChangedInside);
    }

    #[test]
    fn imprecise_dates_at_the_edge_are_unknown() {
        // Friday 5 May as a whole day straddles the Guadeloupe start (04:00Z).
        assert_eq!(
            judge(&[found("2017-05-05", Provenance::FeedDcDate, Some(chrono_tz::UTC))]).verdict,
            Verdict::Unknown
        );
        // A zone-less time is ±14 h: unknown near the edges, decided well inside.
        assert_eq!(
            judge(&[found("2017-05-07 10:00", Provenance::FeedPubDate, None)]).verdict,
            Verdict::Unknown
        );
        assert_eq!(
            judge(&[found("2017-05-06 20:00", Provenance::FeedPubDate, None)]).verdict,
            Verdict::Inside
        );
        assert_eq!(
            judge(&[found("2017-05-03", Provenance::FeedPubDate, Some(chrono_tz::UTC))]).verdict,
            Verdict::Before
        );
        assert_eq!(judge(&[]).verdict, Verdict::Unknown);
    }

    #[test]
    fn the_publisher_day_and_the_address() {
        let at = utc("2026-01-01T00:00:00Z");
        let day = |dates: &[FoundDate]| ItemDates::choose(dates, at, default_floor()).publisher_day().map(|d| d.to_string());
        let evening_in_new_york = found("2023-11-09T03:28:35Z", Provenance::JsonLdPublished, None);
        let address = found("2023-11-08", Provenance::UrlPath, None);
        assert_eq!(day(std::slice::from_ref(&evening_in_new_york)), Some("2023-11-09".into()));
        assert_eq!(day(&[evening_in_new_york, address.clone()]), Some("2023-11-08".into()));
        // Written with its own offset, the page's day stands.
        assert_eq!(
            day(&[
                found("2023-11-09T03:28:35+01:00", Provenance::JsonLdPublished, None),
                address.clone()
            ]),
            Some("2023-11-09".into())
        );
        // Out of reach of any offset: the page's day stands, and the disagreement is reported.
        let d = ItemDates::choose(
            &[found("2023-11-09T20:00:00Z", Provenance::JsonLdPublished, None), address.clone()],
            at,
            default_floor(),
        );
        assert_eq!(d.publisher_day().map(|d| d.to_string()), Some("2023-11-09".into()));
        assert!(d.disagreements.is_empty(), "one day apart is not a disagreement");
        let d = ItemDates::choose(
            &[
                found("2019-06-17T18:28:00+02:00", Provenance::JsonLdPublished, None),
                found("2017-07-12", Provenance::UrlPath, None),
            ],
            at,
            default_floor(),
        );
        assert_eq!(
            d.disagreements,
            vec!["the address says 2017-07-12 but jsonld:datePublished says 2019-06-17T18:28:00+02:00"]
        );
    }

    #[test]
    fn implausible_dates_are_set_aside() {
        let at = utc("2026-01-01T00:00:00Z");
        let d = ItemDates::choose(&[found("2030-01-01T00:00:00Z", Provenance::FeedPubDate, None)], at, default_floor());
        assert!(d.published.is_none());
        assert_eq!(d.future.len(), 1);
        // A server clock a few minutes ahead is not a future date.
        let d = ItemDates::choose(&[found("2026-01-01T00:10:00Z", Provenance::FeedPubDate, None)], at, default_floor());
        assert!(d.published.is_some());
        let d = ItemDates::choose(
            &[found("1970-01-01T00:00:00Z", Provenance::JsonLdPublished, None)],
            at,
            default_floor(),
        );
        assert!(d.published.is_none());
        assert_eq!(d.too_old.len(), 1);
        let d = ItemDates::choose(
            &[found("1990-06-01T00:00:00Z", Provenance::JsonLdPublished, None)],
            at,
            utc("1980-01-01T00:00:00Z"),
        );
        assert!(d.published.is_some(), "the floor is configurable");
    }

    proptest::proptest! {
        /// A verdict never contradicts the interval arithmetic: `inside` only when some zone's
        /// window holds the whole interval, `before` only when it ends before every window
        /// starts, `after` only when it meets no window and is not before them all, `unknown`
        /// only when it meets a window without lying in one (never for an exact instant).
        /// Intervals exclude their end, like windows.
        #[test]
        fn verdicts_never_contradict_the_intervals(
            windows in proptest::collection::vec((0i64..50, 1i64..15), 1..4),
            start in 0i64..70,
            length in proptest::prop_oneof![proptest::strategy::Just(0i64), 1i64..26],
            modified in proptest::option::of(0i64..70),
        ) {
            use crate::model::ZoneId;
            // Whole hours on a short span of time, so that ends and starts often coincide.
            let at = |h: i64| utc("2017-05-04T00:00:00Z") + Duration::hours(h);
            let spans: Vec<ZoneSpan> = windows
                .iter()
                .enumerate()
                .map(|(i, (s, len))| ZoneSpan { zone: ZoneId(i), start: at(*s), end: at(s + len) })
                .collect();
            let when = |lo: i64, len: i64| When {
                earliest: at(lo),
                latest: at(lo + len),
                precision: if len == 0 { crate::dates::Precision::Second } else { crate::dates::Precision::Day },
                zone: crate::dates::Zone::Explicit,
                written: at(lo).naive_utc(),
                offset: None,
            };
            let date = |lo, len, provenance| DateRef { provenance, raw: String::new(), when: when(lo, len) };
            let dates = ItemDates {
                published: Some(date(start, length, Provenance::JsonLdPublished)),
                modified: modified.map(|m| date(m, 0, Provenance::JsonLdModified)),
                ..ItemDates::default()
            };
            let t = verdict("w", &dates, &spans, |z| z.index().to_string());
            let point = |lo: i64, len: i64| (at(lo), at(lo + len), len == 0);
            let within = |(lo, hi, exact): (DateTime<Utc>, DateTime<Utc>, bool), s: &ZoneSpan| {
                lo >= s.start && lo < s.end && (exact || hi <= s.end)
            };
            let meets = |(lo, hi, exact): (DateTime<Utc>, DateTime<Utc>, bool), s: &ZoneSpan| {
                if exact { s.start <= lo && lo < s.end } else { lo < s.end && hi > s.start }
            };
            let before = |(lo, hi, exact): (DateTime<Utc>, DateTime<Utc>, bool), s: &ZoneSpan| {
                if exact { lo < s.start } else { hi <= s.start }
            };
            let p = point(start, length);
            let placed = |d| {
                if spans.iter().any(|s| within(d, s)) {
                    Verdict::Inside
                } else if spans.iter().all(|s| before(d, s)) {
                    Verdict::Before
                } else if !spans.iter().any(|s| meets(d, s)) {
                    Verdict::After
                } else {
                    Verdict::Unknown
                }
            };
            let expected = match (placed(p), modified.map(|m| placed(point(m, 0)))) {
                (Verdict::Before, Some(Verdict::Inside)) => Verdict::ChangedInside,
                (Verdict::Before, Some(Verdict::Unknown)) => Verdict::Unknown,
                (v, _) => v,
            };
            proptest::prop_assert_eq!(t.verdict, expected, "published {:?} modified {:?} windows {:?}", p, modified, windows);
            let inside: Vec<String> = spans.iter().filter(|s| t.date.as_ref().is_some_and(|d| {
                within((d.when.earliest, d.when.latest, d.when.is_exact()), s)
            })).map(|s| s.zone.index().to_string()).collect();
            proptest::prop_assert_eq!(&t.zones_inside, &inside);
        }
    }

    /// The metropole's silence alone: 5 May 22:00Z to 7 May 18:00Z.
    fn metropole(dates: &ItemDates) -> Timing {
        verdict("w", dates, &spans()[..1], |_| "metropole".to_string())
    }

    fn observed_at(published: Option<&str>, absent_at: Option<&str>, first_seen: &str) -> ItemDates {
        let found: Vec<FoundDate> = published.iter().map(|p| found(p, Provenance::FeedPubDate, None)).collect();
        let mut d = ItemDates::choose(&found, utc("2026-01-01T00:00:00Z"), default_floor());
        let o = Observed {
            first_seen: utc(first_seen),
            absent_at: absent_at.map(utc),
            capture: None,
        };
        d.observe(&o, "v1", true, utc(first_seen));
        d
    }

    #[test]
    fn an_item_absent_from_a_read_inside_the_window_appeared_inside_whatever_it_says() {
        // The page says 21:30Z, before the window; the feed read at 23:00Z did not list it.
        let t = metropole(&observed_at(
            Some("2017-05-05T21:30:00Z"),
            Some("2017-05-05T23:00:00Z"),
            "2017-05-06T02:00:00Z",
        ));
        assert_eq!(t.verdict, Verdict::Inside);
        assert_eq!(t.provenance, Some(Provenance::ObservedFirstSeen));
        assert_eq!(t.stated.as_ref().map(|s| s.raw.as_str()), Some("2017-05-05T21:30:00Z"));
        assert_eq!(t.zones_inside, vec!["metropole"]);
        // No stated date at all: the observation alone.
        let t = metropole(&observed_at(None, Some("2017-05-05T23:00:00Z"), "2017-05-06T02:00:00Z"));
        assert_eq!((t.verdict, t.stated.is_none()), (Verdict::Inside, true));
    }

    #[test]
    fn an_observation_that_agrees_with_the_page_or_cannot_place_it_leaves_the_page_to_decide() {
        // Absent at 21:00Z, listed by 02:00Z: 21:30Z is possible, and before the window.
        let t = metropole(&observed_at(
            Some("2017-05-05T21:30:00Z"),
            Some("2017-05-05T21:00:00Z"),
            "2017-05-06T02:00:00Z",
        ));
        assert_eq!((t.verdict, t.provenance), (Verdict::Before, Some(Provenance::FeedPubDate)));
        // Absent at 21:45Z: the page's 21:30Z is wrong, but the item may have appeared before
        // 22:00Z as well as after: unknown, not inside.
        let t = metropole(&observed_at(
            Some("2017-05-05T21:30:00Z"),
            Some("2017-05-05T21:45:00Z"),
            "2017-05-06T02:00:00Z",
        ));
        assert_eq!((t.verdict, t.provenance), (Verdict::Unknown, Some(Provenance::ObservedFirstSeen)));
        // Without an earlier read, observation proves nothing.
        let t = metropole(&observed_at(Some("2017-05-05T21:30:00Z"), None, "2017-05-06T02:00:00Z"));
        assert_eq!((t.verdict, t.provenance), (Verdict::Before, Some(Provenance::FeedPubDate)));
        // A stated date later than the observation decides: a republication inside stays
        // inside, whatever an earlier sighting says.
        let t = metropole(&observed_at(
            Some("2017-05-06T10:00:00Z"),
            Some("2017-05-05T20:00:00Z"),
            "2017-05-05T21:00:00Z",
        ));
        assert_eq!((t.verdict, t.provenance), (Verdict::Inside, Some(Provenance::FeedPubDate)));
        // An item that says 2015 and was first listed inside the window: an old article listed
        // again as likely as a backdated one. Unknown, not inside.
        let t = metropole(&observed_at(
            Some("2015-03-01T10:00:00Z"),
            Some("2017-05-05T23:00:00Z"),
            "2017-05-06T02:00:00Z",
        ));
        assert_eq!((t.verdict, t.provenance), (Verdict::Unknown, Some(Provenance::ObservedFirstSeen)));
    }

    #[test]
    fn content_that_changed_between_two_captures_inside_changed_inside_even_without_a_modified_date() {
        let found = [found("2017-05-04T10:00:00Z", Provenance::JsonLdPublished, None)];
        let dates = |capture: Capture, version: &str, page: bool| {
            let mut d = ItemDates::choose(&found, utc("2026-01-01T00:00:00Z"), default_floor());
            let o = Observed {
                first_seen: utc("2017-05-04T11:00:00Z"),
                absent_at: None,
                capture: Some(capture),
            };
            d.observe(&o, version, page, utc("2017-05-06T02:00:00Z"));
            d
        };
        let at = |t: &str| Capture {
            version: "v1".into(),
            at: utc(t),
            page: true,
            changed: None,
        };
        let t = metropole(&dates(at("2017-05-05T23:00:00Z"), "v2", true));
        assert_eq!(
            (t.verdict, t.provenance),
            (Verdict::ChangedInside, Some(Provenance::ObservedChanged))
        );
        assert_eq!(t.stated.map(|s| s.provenance), Some(Provenance::JsonLdPublished));
        // Same content; or a capture of another kind (feed alone against page): no change seen.
        assert_eq!(metropole(&dates(at("2017-05-05T23:00:00Z"), "v1", true)).verdict, Verdict::Before);
        assert_eq!(metropole(&dates(at("2017-05-05T23:00:00Z"), "v2", false)).verdict, Verdict::Before);
        // Last captured before the window: changed at some time around its start.
        assert_eq!(metropole(&dates(at("2017-05-05T21:00:00Z"), "v2", true)).verdict, Verdict::Unknown);
        // The next night, the same content: the change a run saw into it still counts.
        let seen = Capture {
            version: "v2".into(),
            changed: Some(Between {
                after: utc("2017-05-05T23:00:00Z"),
                by: utc("2017-05-06T01:00:00Z"),
            }),
            ..at("2017-05-06T01:00:00Z")
        };
        let t = metropole(&dates(seen, "v2", true));
        assert_eq!(
            (t.verdict, t.date.unwrap().when.latest),
            (Verdict::ChangedInside, utc("2017-05-06T01:00:00Z"))
        );
    }
}
