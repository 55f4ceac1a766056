//! Dates as they occur in feeds and pages, parsed without guessing.
//!
//! feed-rs's lenient parser drops about half of real-world date strings (named European zones,
//! French month names, zone-less ISO, date-only RFC 822), and a generic "date guesser" picks
//! month/day orders and times of day that a compliance report cannot stand behind. So this
//! module parses the shapes that actually occur, and nothing else:
//!
//! * ISO 8601 / RFC 3339 / W3C-DTF, including reduced precision (`2003`, `2003-12`), ordinal
//!   dates, two-digit-year compact forms, a space before the zone and month names in place of
//!   the month number;
//! * RFC 822 / 1123 / 2822 and their wild variants: named zones (GMT, UT, EST…PDT, CET/CEST,
//!   MET/MEST, the one-letter-less `AT/ET/CT/MT/PT`), `Etc/GMT`, `GMT-01:01`, month before day,
//!   stray commas, two-digit years, 12-hour clocks, asctime;
//! * English, French, Italian, Spanish, German, Greek and Hungarian month and day names, and
//!   the two Korean blog formats that feedparser knows.
//!
//! A date is never resolved against "now" and never silently put in UTC: a string without a
//! zone becomes [`Zone::Source`] when the caller knows the source's zone, and
//! [`Zone::Unknown`] otherwise. Every result is an interval of instants (`earliest..latest`),
//! which is how day precision and unknown zones stay honest when a timing verdict is made.

pub mod find;
mod iso;
mod names;
mod text;

use chrono::{DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use names::{is_weekday, month_number, named_zone};
use std::fmt;

/// The most a local clock can be ahead of or behind UTC (Kiribati +14, Baker Island −12):
/// the bounds of a zone-unknown date.
const MAX_AHEAD: i64 = 14 * 3600;
const MAX_BEHIND: i64 = 12 * 3600;

/// How finely a string pins down its instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Year,
    Month,
    Day,
    Minute,
    Second,
}

/// Where the offset that turned a wall-clock time into an instant came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "tz")]
pub enum Zone {
    /// The string carried its own offset or zone name.
    Explicit,
    /// The string had no zone; the source's configured zone was used.
    Source(#[serde(serialize_with = "serialize_tz")] Tz),
    /// The string had no zone and none was configured: any offset from −12 h to +14 h.
    Unknown,
}

fn serialize_tz<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

/// A parsed date: every instant from `earliest` up to (excluding) `latest` is consistent with
/// the string. For an exact timestamp the two are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct When {
    pub earliest: DateTime<Utc>,
    pub latest: DateTime<Utc>,
    pub precision: Precision,
    pub zone: Zone,
    /// The wall-clock reading as written, and the offset it was written with (or that the
    /// source's zone gives it), so the date can be shown the way the page meant it: the
    /// publication *day* of `2017-05-06T23:30:00-04:00` is the 6th, though in UTC it is the 7th.
    #[serde(skip)]
    pub written: NaiveDateTime,
    #[serde(skip)]
    pub offset: Option<FixedOffset>,
}

impl When {
    /// An interval known to the second in UTC, such as one blackout observed between two of
    /// its own runs.
    pub fn between(earliest: DateTime<Utc>, latest: DateTime<Utc>) -> When {
        When {
            earliest,
            latest,
            precision: Precision::Second,
            zone: Zone::Explicit,
            written: latest.naive_utc(),
            offset: FixedOffset::east_opt(0),
        }
    }

    /// The instant reports show: the start of the interval.
    pub fn instant(&self) -> DateTime<Utc> {
        self.earliest
    }

    pub fn is_exact(&self) -> bool {
        self.earliest == self.latest
    }

    /// The date as the page meant it: RFC 3339 with its offset for a time of day whose offset
    /// is known, the bare day (`2017-05-06`) otherwise, as long as the string names a day;
    /// `None` for a month or a year.
    pub fn as_written(&self) -> Option<String> {
        match (self.precision, self.offset) {
            (Precision::Year | Precision::Month, _) => None,
            (Precision::Minute | Precision::Second, Some(offset)) => Some(
                offset
                    .from_local_datetime(&self.written)
                    .single()?
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            _ => Some(self.written.date().format("%Y-%m-%d").to_string()),
        }
    }
}

/// Why a string is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("empty date")]
    Empty,
    #[error("unrecognised date format")]
    Format,
    #[error("unknown word `{0}` in date")]
    UnknownWord(String),
    #[error("impossible date: {0}")]
    Impossible(String),
    #[error("invalid zone offset `{0}`")]
    Offset(String),
}

/// Parses `raw`, using `source_tz` for strings that carry no zone.
pub fn parse(raw: &str, source_tz: Option<Tz>) -> Result<When, DateError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    let stamp = match iso::parse(s) {
        Some(result) => result?,
        None => text::parse(s)?,
    };
    stamp.resolve(source_tz)
}

/// A wall-clock reading with the zone as written, before it is pinned to instants.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stamp {
    local: NaiveDateTime,
    precision: Precision,
    offset: Option<FixedOffset>,
}

impl Stamp {
    fn resolve(self, source_tz: Option<Tz>) -> Result<When, DateError> {
        let span = match self.precision {
            Precision::Year => {
                let next = NaiveDate::from_ymd_opt(self.local.year() + 1, 1, 1).ok_or_else(|| impossible("year out of range"))?;
                next.and_time(NaiveTime::MIN) - self.local
            }
            Precision::Month => {
                let (y, m) = (self.local.year(), self.local.month());
                let next = if m == 12 {
                    NaiveDate::from_ymd_opt(y + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(y, m + 1, 1)
                };
                next.ok_or_else(|| impossible("year out of range"))?.and_time(NaiveTime::MIN) - self.local
            }
            Precision::Day => Duration::days(1),
            Precision::Minute | Precision::Second => Duration::zero(),
        };
        let written = self.local;
        let (earliest, zone) = match (self.offset, source_tz) {
            (Some(offset), _) => (
                offset
                    .from_local_datetime(&self.local)
                    .single()
                    .ok_or_else(|| impossible("offset out of range"))?
                    .to_utc(),
                Zone::Explicit,
            ),
            (None, Some(tz)) => {
                let (first, last) = local_bounds(tz, self.local);
                let end = local_bounds(tz, self.local + span).0;
                return Ok(When {
                    earliest: first,
                    latest: if span.is_zero() { last } else { end },
                    precision: self.precision,
                    zone: Zone::Source(tz),
                    written,
                    offset: tz.from_local_datetime(&written).earliest().map(|t| chrono::Offset::fix(t.offset())),
                });
            }
            (None, None) => {
                let base = self.local.and_utc();
                return Ok(When {
                    earliest: base - Duration::seconds(MAX_AHEAD),
                    latest: base + span + Duration::seconds(MAX_BEHIND),
                    precision: self.precision,
                    zone: Zone::Unknown,
                    written,
                    offset: None,
                });
            }
        };
        Ok(When {
            earliest,
            latest: earliest + span,
            precision: self.precision,
            zone,
            written,
            offset: self.offset,
        })
    }
}

/// The instants a wall-clock time can denote in `tz`: one in the normal case, the two
/// readings of a repeated hour, and for a skipped hour the instant where the gap starts
/// (both ends equal, since nothing inside the gap exists).
fn local_bounds(tz: Tz, local: NaiveDateTime) -> (DateTime<Utc>, DateTime<Utc>) {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => (t.to_utc(), t.to_utc()),
        LocalResult::Ambiguous(a, b) => (a.to_utc().min(b.to_utc()), a.to_utc().max(b.to_utc())),
        LocalResult::None => {
            // Walk back to the last existing minute before the gap; its successor instant is
            // where the clock jumped.
            let mut probe = local;
            for _ in 0..(24 * 60) {
                probe -= Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).latest() {
                    let at = t.to_utc() + Duration::minutes(1);
                    return (at, at);
                }
            }
            let fallback = local.and_utc();
            (fallback, fallback)
        }
    }
}

fn impossible(why: &str) -> DateError {
    DateError::Impossible(why.to_string())
}

/// Builds a stamp from calendar fields, rejecting impossible values instead of rolling over.
fn stamp(y: i32, mo: u32, d: u32, time: Option<Clock>, precision: Precision, offset: Option<FixedOffset>) -> Result<Stamp, DateError> {
    let date = NaiveDate::from_ymd_opt(y, mo, d).ok_or_else(|| DateError::Impossible(format!("{y:04}-{mo:02}-{d:02} does not exist")))?;
    let (local, precision) = match time {
        Some(c) => {
            let t = NaiveTime::from_hms_opt(c.hour, c.minute, c.second)
                .ok_or_else(|| DateError::Impossible(format!("{:02}:{:02}:{:02} is not a time", c.hour, c.minute, c.second)))?;
            (date.and_time(t), if c.has_seconds { Precision::Second } else { Precision::Minute })
        }
        None => (date.and_time(NaiveTime::MIN), precision),
    };
    Ok(Stamp { local, precision, offset })
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Clock {
    hour: u32,
    minute: u32,
    second: u32,
    has_seconds: bool,
}

impl Clock {
    /// Hour 24 is read as 00 of the same day, the fix-up feed-rs applies and the published
    /// test vectors (`5 Jun 2017 24:05 PDT`) expect.
    fn new(hour: u32, minute: u32, second: u32, has_seconds: bool) -> Result<Clock, DateError> {
        let hour = if hour == 24 { 0 } else { hour };
        if hour > 23 || minute > 59 || second > 60 {
            return Err(DateError::Impossible(format!("{hour:02}:{minute:02}:{second:02} is not a time")));
        }
        // A leap second is folded onto :59 (chrono cannot build :60 from fields).
        Ok(Clock {
            hour,
            minute,
            second: second.min(59),
            has_seconds,
        })
    }
}

/// Two-digit years, as RFC 2822 §4.3 says: 00–49 are 20xx, 50–99 are 19xx.
fn expand_year(digits: &str) -> Result<i32, DateError> {
    let y: i32 = digits.parse().map_err(|_| DateError::Format)?;
    Ok(match digits.len() {
        2 if y < 50 => 2000 + y,
        2 => 1900 + y,
        4 => y,
        _ => return Err(DateError::Format),
    })
}

fn offset_from_minutes(minutes: i32, raw: &str) -> Result<FixedOffset, DateError> {
    FixedOffset::east_opt(minutes * 60).ok_or_else(|| DateError::Offset(raw.to_string()))
}

/// Parses `+HH:MM`, `+HHMM`, `+HH` (sign included in `raw`).
fn numeric_offset(raw: &str) -> Result<FixedOffset, DateError> {
    let bad = || DateError::Offset(raw.to_string());
    let sign = match raw.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(bad()),
    };
    let body = &raw[1..];
    if !body.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return Err(bad());
    }
    let (h, m) = match body.split_once(':') {
        Some((h, m)) if h.len() == 2 && m.len() == 2 => (h, m),
        Some(_) => return Err(bad()),
        None if body.len() == 4 => (&body[..2], &body[2..]),
        None if body.len() == 2 => (body, "00"),
        None => return Err(bad()),
    };
    if !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    offset_from_minutes(sign * (h * 60 + m), raw)
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::Year => "year",
            Precision::Month => "month",
            Precision::Day => "day",
            Precision::Minute => "minute",
            Precision::Second => "second",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn dates_are_shown_as_written() {
        let late = parse("2017-05-06T23:30:00-04:00", None).unwrap();
        assert_eq!(late.instant(), utc("2017-05-07T03:30:00Z"));
        assert_eq!(late.as_written().as_deref(), Some("2017-05-06T23:30:00-04:00"));
        let paris = parse("samedi 6 mai 2017 à 23h10", Some(chrono_tz::Europe::Paris)).unwrap();
        assert_eq!(paris.as_written().as_deref(), Some("2017-05-06T23:10:00+02:00"));
        assert_eq!(parse("6 mai 2017", None).unwrap().as_written().as_deref(), Some("2017-05-06"));
        assert_eq!(parse("2017-05-06 23:10", None).unwrap().as_written().as_deref(), Some("2017-05-06"));
        assert_eq!(parse("2017-05", None).unwrap().as_written(), None);
    }

    #[test]
    fn named_european_zones() {
        let w = parse("Sat, 06 May 2017 23:10:00 CEST", None).unwrap();
        assert_eq!(w.instant(), utc("2017-05-06T21:10:00Z"));
        assert!(w.is_exact());
        assert_eq!(w.zone, Zone::Explicit);
    }

    #[test]
    fn french_long_form_with_a_and_h() {
        let w = parse("samedi 6 mai 2017 à 23h10", Some(chrono_tz::Europe::Paris)).unwrap();
        assert_eq!(w.instant(), utc("2017-05-06T21:10:00Z"));
        assert_eq!(w.precision, Precision::Minute);
    }

    #[test]
    fn zone_less_without_source_zone_is_unknown_not_utc() {
        let w = parse("2017-05-06 23:10:00", None).unwrap();
        assert_eq!(w.zone, Zone::Unknown);
        assert_eq!(w.earliest, utc("2017-05-06T09:10:00Z"));
        assert_eq!(w.latest, utc("2017-05-07T11:10:00Z"));
    }

    #[test]
    fn date_only_is_a_day_interval_in_the_source_zone() {
        let w = parse("2017-05-06", Some(chrono_tz::Europe::Paris)).unwrap();
        assert_eq!(w.earliest, utc("2017-05-05T22:00:00Z"));
        assert_eq!(w.latest, utc("2017-05-06T22:00:00Z"));
        assert_eq!(w.precision, Precision::Day);
    }

    #[test]
    fn local_time_in_a_dst_gap_or_fold() {
        let paris = chrono_tz::Europe::Paris;
        let gap = parse("2017-03-26 02:30:00", Some(paris)).unwrap();
        assert_eq!(gap.earliest, utc("2017-03-26T01:00:00Z"));
        let fold = parse("2017-10-29 02:30:00", Some(paris)).unwrap();
        assert_eq!(
            (fold.earliest, fold.latest),
            (utc("2017-10-29T00:30:00Z"), utc("2017-10-29T01:30:00Z"))
        );
    }

    proptest::proptest! {
        /// Any instant written the ways feeds write it parses back to itself.
        #[test]
        fn written_instants_parse_back(secs in 0i64..4_102_444_800, offset_min in -720i32..=840) {
            let t = DateTime::from_timestamp(secs, 0).unwrap();
            let local = t.with_timezone(&FixedOffset::east_opt(offset_min * 60).unwrap());
            for written in [local.to_rfc2822(), local.to_rfc3339(), local.format("%A, %d %B %Y %H:%M:%S %z").to_string(), local.format("%Y-%m-%d %H:%M:%S %:z").to_string()] {
                let w = parse(&written, None).map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{written}: {e}")))?;
                proptest::prop_assert_eq!(w.instant(), t, "{}", written);
                proptest::prop_assert!(w.is_exact());
            }
            let month = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"][chrono::Datelike::month0(&local) as usize];
            let french = format!("{} {month} {} à {}h{}", local.format("%d"), local.format("%Y"), local.format("%H"), local.format("%M"));
            let w = parse(&french, Some(chrono_tz::Europe::Paris)).map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{french}: {e}")))?;
            proptest::prop_assert_eq!(w.zone, Zone::Source(chrono_tz::Europe::Paris));
        }
    }

    #[test]
    fn impossible_values_are_rejected() {
        // Found by fuzzing: a multi-byte character where offset digits were expected.
        assert!(parse("2004-0\u{b144} \u{3b5}?", None).is_err());
        assert!(parse("Sun, 16 Dec 2012 11:47:32 +0\u{b144}", None).is_err());
        for s in [
            "2017-02-30",
            "Sun, 31 Jun 2017 10:00:00 GMT",
            "2017-05-06T10:00:00+25:00",
            "13/05/2017",
            "hier soir",
        ] {
            assert!(parse(s, None).is_err(), "{s} should be rejected");
        }
    }
}
