//! Dates written in prose, for pages whose markup states none: `le 6 mai 2017 à 18h32`,
//! `6. Mai 2017, 14:05 Uhr`, `May 6, 2017`, `6 de mayo de 2017`, `6 maggio 2017`,
//! `06.05.2017`, `2017-05-06`, and year-less `1er mai` against a reference day. Month names
//! come from the same tables as the feed-date parser (English, French, German, Spanish,
//! Italian and more).

use super::names::month_number;
use chrono::{Datelike, NaiveDate};
use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;

/// A date found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spotted {
    /// Where it is written, in bytes.
    pub range: Range<usize>,
    pub day: NaiveDate,
    /// Hour and minute, when written right after the day.
    pub time: Option<(u32, u32)>,
}

impl Spotted {
    /// The date as ISO 8601 without a zone (`2017-05-06` or `2017-05-06T18:32:00`), for the
    /// date parser, which reads it in the source's zone.
    pub fn iso(&self) -> String {
        match self.time {
            Some((h, m)) => format!("{}T{h:02}:{m:02}:00", self.day.format("%Y-%m-%d")),
            None => self.day.format("%Y-%m-%d").to_string(),
        }
    }
}

/// How `a/b/yyyy` is read: American pages write the month first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlashOrder {
    DayFirst,
    MonthFirst,
}

macro_rules! re {
    ($s:expr) => {{
        static RE: LazyLock<Regex> = LazyLock::new(|| Regex::new($s).expect("static regex"));
        &*RE
    }};
}

/// The first date written in `text`. `reference` (the day the page was read) dates year-less
/// days to their last occurrence not after it; without it they are ignored.
pub fn first(text: &str, order: SlashOrder, reference: Option<NaiveDate>) -> Option<Spotted> {
    let named_dmy = re!(r"(?i)\b([0-9]{1,2})(?:er|\.|º|°)?\s*(?:de\s+)?(\p{L}+)\.?,?\s+(?:de\s+|del\s+)?([0-9]{4})\b");
    let named_mdy = re!(r"(?i)\b(\p{L}+)\.?\s+([0-9]{1,2})(?:st|nd|rd|th)?,?\s+([0-9]{4})\b");
    let numeric = re!(r"\b([0-9]{1,2})([./])([0-9]{1,2})[./]([0-9]{4})\b");
    let iso = re!(r"\b([0-9]{4})-([0-9]{2})-([0-9]{2})\b");
    let yearless = re!(r"(?i)\b([0-9]{1,2})(?:er|\.|º)?\s+(?:de\s+)?(\p{L}+)\b");
    let mut best: Option<Spotted> = None;
    for c in named_dmy.captures_iter(text) {
        let m = c.get(0).expect("match");
        let day = month_number(&c[2].to_lowercase()).and_then(|mo| ymd(&c[3], mo, &c[1]));
        keep_earliest(&mut best, m.start()..m.end(), day);
    }
    for c in named_mdy.captures_iter(text) {
        let m = c.get(0).expect("match");
        let day = month_number(&c[1].to_lowercase()).and_then(|mo| ymd(&c[3], mo, &c[2]));
        keep_earliest(&mut best, m.start()..m.end(), day);
    }
    for c in numeric.captures_iter(text) {
        let m = c.get(0).expect("match");
        let (Ok(a), Ok(b)) = (c[1].parse::<u32>(), c[3].parse::<u32>()) else {
            continue;
        };
        let month_first = &c[2] == "/" && order == SlashOrder::MonthFirst && a <= 12 || b > 12;
        let (d, mo) = if month_first { (b, a) } else { (a, b) };
        keep_earliest(
            &mut best,
            m.start()..m.end(),
            c[4].parse().ok().and_then(|y| NaiveDate::from_ymd_opt(y, mo, d)),
        );
    }
    for c in iso.captures_iter(text) {
        let m = c.get(0).expect("match");
        let day = c[2].parse().ok().and_then(|mo| ymd(&c[1], mo, &c[3]));
        keep_earliest(&mut best, m.start()..m.end(), day);
    }
    if let Some(reference) = reference.filter(|_| best.is_none()) {
        for c in yearless.captures_iter(text) {
            let m = c.get(0).expect("match");
            let Some(mo) = month_number(&c[2].to_lowercase()) else { continue };
            let Ok(d) = c[1].parse::<u32>() else { continue };
            let this_year = NaiveDate::from_ymd_opt(reference.year(), mo, d);
            let day = this_year.and_then(|t| {
                if t <= reference {
                    Some(t)
                } else {
                    NaiveDate::from_ymd_opt(reference.year() - 1, mo, d)
                }
            });
            keep_earliest(&mut best, m.start()..m.end(), day);
            break;
        }
    }
    let mut found = best?;
    found.time = time_after(&text[found.range.end..]);
    Some(found)
}

fn keep_earliest(best: &mut Option<Spotted>, range: Range<usize>, day: Option<NaiveDate>) {
    if let Some(day) = day
        && best.as_ref().is_none_or(|b| range.start < b.range.start)
    {
        *best = Some(Spotted { range, day, time: None });
    }
}

fn ymd(year: &str, month: u32, day: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year.parse().ok()?, month, day.parse().ok()?)
}

/// A clock time written right after a date: `à 18h32`, `, 14:05 Uhr`, `um 9.30`, `at 6:32 pm`,
/// `- 18:32`, `alle 18:32`, `a las 18:32`.
fn time_after(rest: &str) -> Option<(u32, u32)> {
    let clock = re!(
        r"(?i)^\s*(?:,|-|–|\||à|a las|alle|ore|um|at|kl\.)?\s*(?:,|à|a las|alle|ore|um|at)?\s*([0-9]{1,2})[:hH.]([0-9]{2})(?:\s*([ap])\.?m\.?)?"
    );
    let c = clock.captures(rest)?;
    let (mut h, m): (u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?);
    match c.get(3).map(|p| p.as_str().to_ascii_lowercase()) {
        Some(p) if p == "p" && h < 12 => h += 12,
        Some(p) if p == "a" && h == 12 => h = 0,
        _ => {}
    }
    (h < 24 && m < 60).then_some((h, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(text: &str) -> Option<String> {
        first(text, SlashOrder::DayFirst, NaiveDate::from_ymd_opt(2017, 5, 8)).map(|s| s.iso())
    }

    #[test]
    fn french() {
        assert_eq!(iso("Publié le 6 mai 2017 à 18h32"), Some("2017-05-06T18:32:00".into()));
        assert_eq!(iso("Mis en ligne le 1er mai 2017"), Some("2017-05-01".into()));
        assert_eq!(iso("le 07 Mai 2020"), Some("2020-05-07".into()));
        assert_eq!(
            iso("Publié le 1er mai, à midi"),
            Some("2017-05-01".into()),
            "year-less: the last 1 May"
        );
    }

    #[test]
    fn german() {
        assert_eq!(iso("Veröffentlicht am 6. Mai 2017, 14:05 Uhr"), Some("2017-05-06T14:05:00".into()));
        assert_eq!(iso("29. Juni 2017, 23:39"), Some("2017-06-29T23:39:00".into()));
        assert_eq!(iso("Stand: 02.11.2021 um 9.30"), Some("2021-11-02T09:30:00".into()));
        assert_eq!(iso("6. März 2017"), Some("2017-03-06".into()));
    }

    #[test]
    fn english() {
        assert_eq!(iso("Published May 6, 2017 at 6:32 pm"), Some("2017-05-06T18:32:00".into()));
        assert_eq!(iso("November 8th 2023"), Some("2023-11-08".into()));
        assert_eq!(iso("6 May 2017"), Some("2017-05-06".into()));
        let us = first("Posted 05/06/2017", SlashOrder::MonthFirst, None).unwrap();
        assert_eq!(us.day, NaiveDate::from_ymd_opt(2017, 5, 6).unwrap());
        let eu = first("Posted 05/06/2017", SlashOrder::DayFirst, None).unwrap();
        assert_eq!(eu.day, NaiveDate::from_ymd_opt(2017, 6, 5).unwrap());
        let clear = first("Posted 25/06/2017", SlashOrder::MonthFirst, None).unwrap();
        assert_eq!(clear.day, NaiveDate::from_ymd_opt(2017, 6, 25).unwrap(), "25 cannot be a month");
    }

    #[test]
    fn spanish_and_italian() {
        assert_eq!(iso("6 de mayo de 2017, 18:32"), Some("2017-05-06T18:32:00".into()));
        assert_eq!(iso("sábado 6 de mayo del 2017"), Some("2017-05-06".into()));
        assert_eq!(iso("6 maggio 2017 alle 18:32"), Some("2017-05-06T18:32:00".into()));
    }

    #[test]
    fn russian_ukrainian_and_polish_genitives() {
        assert_eq!(iso("15 августа 2016, 13:43"), Some("2016-08-15T13:43:00".into()));
        assert_eq!(iso("6 травня 2017"), Some("2017-05-06".into()));
        assert_eq!(iso("6 maja 2017 r."), Some("2017-05-06".into()));
    }

    #[test]
    fn the_first_date_wins_and_non_dates_are_not_dates() {
        assert_eq!(iso("2017-05-06 puis le 8 mai 2017"), Some("2017-05-06".into()));
        assert_eq!(iso("31 février 2017"), None);
        assert_eq!(iso("article 12 de la loi de 1977"), None);
        assert_eq!(first("le 1er mai", SlashOrder::DayFirst, None), None, "no year, no reference");
    }
}
