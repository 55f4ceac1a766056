//! Silence windows: from local anchors ("the eve of the zone's polling day at 00:00", "the
//! close of the last metropolitan station") to UTC instants, zone by zone.
//!
//! Everything is computed in UTC from a wall-clock time and an IANA zone. A wall-clock time
//! the zone skipped (spring forward) or repeated (fall back) is an error unless the window
//! says how to resolve it: a silence window that is an hour off is a wrong verdict, so the
//! engine never picks silently. Offsets (`-48h`) are exact durations added after resolution,
//! so a window across a DST change has its true length (France, 28–29 March 2015: 43 h).

use crate::model::ZoneId;
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

/// What an anchor's local time that the clock skipped (spring forward) means, per window.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnGap {
    #[default]
    Error,
    /// A local time the clock skipped means the first instant after the jump.
    ShiftForward,
}

/// Which instant an anchor's local time that occurs twice (fall back) means, per window.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnOverlap {
    #[default]
    Error,
    Earlier,
    Later,
}

/// A zone's polling event an anchor can name.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Open,
    Close,
    CloseMax,
}

/// Which zone's event an anchor over a group of zones takes.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    Earliest,
    Latest,
}

/// A window in one zone: `start..end` in UTC (start included, end excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneSpan {
    pub zone: ZoneId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A zone's clock and polling hours for one round.
#[derive(Debug, Clone)]
pub struct ZoneClock {
    pub id: String,
    pub tz: Tz,
    pub polling_day: NaiveDate,
    pub open: NaiveTime,
    pub close: NaiveTime,
    pub close_max: NaiveTime,
}

/// Whose wall clock a local anchor is read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockRef {
    /// The zone the window is being resolved for.
    ThisZone,
    /// A fixed zone.
    Zone(ZoneId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// Days relative to the clock zone's polling day.
    Day(i64),
    Date(NaiveDate),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    ThisZone,
    Zones(Vec<ZoneId>),
}

/// A validated window end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorSpec {
    Local {
        base: Base,
        time: NaiveTime,
        clock: ClockRef,
        offset: Duration,
    },
    Event {
        event: Event,
        of: Target,
        pick: Pick,
        offset: Duration,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("local time {local} does not exist in `{tz}` (the clock jumps forward)")]
    Gap { tz: Tz, local: NaiveDateTime },
    #[error("local time {local} occurs twice in `{tz}` (at {first} and {second})")]
    Overlap {
        tz: Tz,
        local: NaiveDateTime,
        first: DateTime<Utc>,
        second: DateTime<Utc>,
    },
    #[error("date out of range")]
    OutOfRange,
}

/// How ambiguous local times are settled, per window.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    pub on_gap: OnGap,
    pub on_overlap: OnOverlap,
}

impl AnchorSpec {
    /// The instant this anchor denotes for zone `this`.
    pub fn resolve(&self, this: ZoneId, zones: &[ZoneClock], policy: Policy) -> Result<DateTime<Utc>, ResolveError> {
        let (instant, offset) = match self {
            AnchorSpec::Local { base, time, clock, offset } => {
                let zone = &zones[match clock {
                    ClockRef::ThisZone => this,
                    ClockRef::Zone(z) => *z,
                }
                .index()];
                let date = match base {
                    Base::Day(days) => Duration::try_days(*days)
                        .and_then(|d| zone.polling_day.checked_add_signed(d))
                        .ok_or(ResolveError::OutOfRange)?,
                    Base::Date(d) => *d,
                };
                (local_instant(zone.tz, date.and_time(*time), policy)?, offset)
            }
            AnchorSpec::Event { event, of, pick, offset } => {
                let members: Vec<ZoneId> = match of {
                    Target::ThisZone => vec![this],
                    Target::Zones(v) => v.clone(),
                };
                let mut instants = Vec::with_capacity(members.len());
                for z in members {
                    let z = &zones[z.index()];
                    let time = match event {
                        Event::Open => z.open,
                        Event::Close => z.close,
                        Event::CloseMax => z.close_max,
                    };
                    instants.push(local_instant(z.tz, z.polling_day.and_time(time), policy)?);
                }
                let chosen = match pick {
                    Pick::Earliest => instants.into_iter().min(),
                    Pick::Latest => instants.into_iter().max(),
                };
                (chosen.ok_or(ResolveError::OutOfRange)?, offset)
            }
        };
        instant.checked_add_signed(*offset).ok_or(ResolveError::OutOfRange)
    }
}

/// A wall-clock time in `tz` as one instant, or an error naming the DST problem.
pub fn local_instant(tz: Tz, local: NaiveDateTime, policy: Policy) -> Result<DateTime<Utc>, ResolveError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.to_utc()),
        LocalResult::Ambiguous(a, b) => {
            let (first, second) = (a.to_utc().min(b.to_utc()), a.to_utc().max(b.to_utc()));
            match policy.on_overlap {
                OnOverlap::Error => Err(ResolveError::Overlap { tz, local, first, second }),
                OnOverlap::Earlier => Ok(first),
                OnOverlap::Later => Ok(second),
            }
        }
        LocalResult::None => match policy.on_gap {
            OnGap::Error => Err(ResolveError::Gap { tz, local }),
            OnGap::ShiftForward => {
                // The first existing minute after the gap is where the clock landed.
                (1..=180)
                    .map(|m| local + Duration::minutes(m))
                    .find_map(|probe| tz.from_local_datetime(&probe).earliest())
                    .map(|t| t.to_utc())
                    .ok_or(ResolveError::Gap { tz, local })
            }
        },
    }
}

/// The largest offset an anchor may carry: a year and a half covers any silence window's
/// distance from an event; a larger one is a typo, and would overflow instants.
pub const MAX_OFFSET_DAYS: i64 = 550;

/// Parses a signed duration: `-48h`, `+30m`, `+3h30m`, `90s`, `2d`; `None` if it is not one,
/// or if it is longer than [`MAX_OFFSET_DAYS`] (checked on every step, so no input overflows).
pub fn parse_offset(s: &str) -> Option<Duration> {
    let (sign, body) = match s.as_bytes().first()? {
        b'-' => (-1, &s[1..]),
        b'+' => (1, &s[1..]),
        _ => (1, s),
    };
    if body.is_empty() {
        return None;
    }
    let limit = Duration::days(MAX_OFFSET_DAYS);
    let mut total = Duration::zero();
    let mut number = String::new();
    for c in body.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().ok()?;
        number.clear();
        let part = match c {
            'd' => Duration::try_days(n),
            'h' => Duration::try_hours(n),
            'm' => Duration::try_minutes(n),
            's' => Duration::try_seconds(n),
            _ => None,
        }?;
        total = total.checked_add(&part).filter(|t| *t <= limit)?;
    }
    if !number.is_empty() {
        return None;
    }
    Some(total * sign)
}

/// Merges overlapping or touching intervals: the union of a window over an audience.
pub fn union(mut intervals: Vec<(DateTime<Utc>, DateTime<Utc>)>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    intervals.sort();
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (start, end) in intervals {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn zone(tz: Tz, day: &str) -> ZoneClock {
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        ZoneClock {
            id: "z".into(),
            tz,
            polling_day: day.parse().unwrap(),
            open: t("08:00"),
            close: t("19:00"),
            close_max: t("20:00"),
        }
    }

    #[test]
    fn eve_and_close_across_spring_forward_is_43_hours() {
        // French departmental elections, 29 March 2015: the window contains the DST change.
        let zones = [zone(Paris, "2015-03-29")];
        let start = AnchorSpec::Local {
            base: Base::Day(-1),
            time: NaiveTime::MIN,
            clock: ClockRef::ThisZone,
            offset: Duration::zero(),
        };
        let end = AnchorSpec::Event {
            event: Event::CloseMax,
            of: Target::ThisZone,
            pick: Pick::Latest,
            offset: Duration::zero(),
        };
        let (s, e) = (
            start.resolve(ZoneId(0), &zones, Policy::default()).unwrap(),
            end.resolve(ZoneId(0), &zones, Policy::default()).unwrap(),
        );
        assert_eq!((s, e), (utc("2015-03-27T23:00:00Z"), utc("2015-03-29T18:00:00Z")));
        assert_eq!(e - s, Duration::hours(43));
    }

    #[test]
    fn nonexistent_local_time_is_an_error_unless_resolved() {
        let local = NaiveDate::from_ymd_opt(2017, 3, 26).unwrap().and_hms_opt(2, 30, 0).unwrap();
        assert!(matches!(
            local_instant(Paris, local, Policy::default()),
            Err(ResolveError::Gap { .. })
        ));
        let shifted = local_instant(
            Paris,
            local,
            Policy {
                on_gap: OnGap::ShiftForward,
                ..Policy::default()
            },
        )
        .unwrap();
        assert_eq!(shifted, utc("2017-03-26T01:00:00Z"));
        let fold = NaiveDate::from_ymd_opt(2017, 10, 29).unwrap().and_hms_opt(2, 30, 0).unwrap();
        assert!(matches!(
            local_instant(Paris, fold, Policy::default()),
            Err(ResolveError::Overlap { .. })
        ));
        let later = local_instant(
            Paris,
            fold,
            Policy {
                on_overlap: OnOverlap::Later,
                ..Policy::default()
            },
        )
        .unwrap();
        assert_eq!(later, utc("2017-10-29T01:30:00Z"));
    }

    proptest::proptest! {
        /// A local time either resolves to an instant that reads back as the same local
        /// time, or is refused as a DST gap or overlap; never silently shifted.
        #[test]
        fn local_times_round_trip_or_are_refused(days in 0i64..(366 * 30), minutes in 0u32..(24 * 60), zone in 0usize..6) {
            let tz = [Paris, chrono_tz::America::Sao_Paulo, chrono_tz::America::Santiago, chrono_tz::America::Miquelon, chrono_tz::Pacific::Chatham, chrono_tz::Asia::Beirut][zone];
            let date = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + Duration::days(days);
            let local = date.and_hms_opt(minutes / 60, minutes % 60, 0).unwrap();
            match local_instant(tz, local, Policy::default()) {
                Ok(t) => proptest::prop_assert_eq!(t.with_timezone(&tz).naive_local(), local),
                Err(ResolveError::Gap { .. }) => proptest::prop_assert!(tz.from_local_datetime(&local).single().is_none()),
                Err(ResolveError::Overlap { first, second, .. }) => {
                    proptest::prop_assert!(first < second);
                    proptest::prop_assert_eq!(first.with_timezone(&tz).naive_local(), local);
                    proptest::prop_assert_eq!(second.with_timezone(&tz).naive_local(), local);
                }
                Err(e) => proptest::prop_assert!(false, "{e}"),
            }
        }

        /// The union covers exactly the instants some interval covers.
        #[test]
        fn union_covers_what_the_intervals_cover(spans in proptest::collection::vec((0i64..1000, 1i64..200), 1..8), probe in 0i64..1300) {
            let at = |m: i64| utc("2017-05-05T00:00:00Z") + Duration::minutes(m);
            let intervals: Vec<_> = spans.iter().map(|(s, len)| (at(*s), at(s + len))).collect();
            let merged = union(intervals.clone());
            let t = at(probe);
            let inside = |v: &[(DateTime<Utc>, DateTime<Utc>)]| v.iter().any(|(s, e)| *s <= t && t < *e);
            proptest::prop_assert_eq!(inside(&intervals), inside(&merged));
            proptest::prop_assert!(merged.windows(2).all(|w| w[0].1 < w[1].0));
        }
    }

    #[test]
    fn offsets_and_unions() {
        assert_eq!(parse_offset("-48h"), Some(Duration::hours(-48)));
        assert_eq!(parse_offset("+3h30m"), Some(Duration::minutes(210)));
        assert_eq!(parse_offset("48"), None);
        assert_eq!(parse_offset("4x"), None);
        // Found by the issue-10 review: a huge offset panicked in the duration arithmetic.
        assert_eq!(parse_offset("-999999999999999d"), None);
        assert_eq!(parse_offset("+99999999999999999999s"), None);
        assert_eq!(parse_offset("550d"), Some(Duration::days(550)));
        assert_eq!(parse_offset("551d"), None);
        let u = union(vec![
            (utc("2017-05-05T22:00:00Z"), utc("2017-05-07T18:00:00Z")),
            (utc("2017-05-05T02:00:00Z"), utc("2017-05-07T18:00:00Z")),
        ]);
        assert_eq!(u, vec![(utc("2017-05-05T02:00:00Z"), utc("2017-05-07T18:00:00Z"))]);
    }
}
