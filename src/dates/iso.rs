//! ISO 8601 and its W3C-DTF profile.

use super::*;
use regex::Regex;
use std::sync::LazyLock;

/// Extended and basic calendar dates with optional time and zone. Month may be written
/// with three digits (`2003-012-31`, a Google quirk) or as a name (`2004-július-13`).
static FULL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^
        (?P<y>[0-9]{4}) - (?P<mo>[0-9]{1,3}|[^\W\d_]+) - (?P<d>[0-9]{1,2})
        (?: [T\ ] (?P<h>[0-9]{1,2}) : (?P<mi>[0-9]{2}) (?: : (?P<s>[0-9]{2}) (?: [.,] [0-9]+ )? )? )?
        \s* (?P<z> Z | [+-]\S* )?
        $",
    )
    .expect("static regex")
});
static BASIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<y>[0-9]{4})(?P<mo>[0-9]{2})(?P<d>[0-9]{2})(?:T(?P<h>[0-9]{2})(?P<mi>[0-9]{2})(?P<s>[0-9]{2})?)?(?P<z>Z|[+-][0-9]{2}:?[0-9]{2})?$")
        .expect("static regex")
});

/// `None` when the string is not ISO-shaped at all (the text parser gets a go);
/// `Some(Err)` when it is ISO-shaped but impossible.
pub(super) fn parse(s: &str) -> Option<Result<Stamp, DateError>> {
    if let Some(c) = FULL.captures(s).or_else(|| BASIC.captures(s)) {
        return Some(full(&c));
    }
    reduced(s)
}

fn full(c: &regex::Captures) -> Result<Stamp, DateError> {
    let num = |name: &str| c.name(name).map(|m| m.as_str().parse::<u32>().map_err(|_| DateError::Format));
    let y: i32 = c["y"].parse().map_err(|_| DateError::Format)?;
    let mo_raw = &c["mo"];
    let mo = if mo_raw.bytes().all(|b| b.is_ascii_digit()) {
        mo_raw.parse().map_err(|_| DateError::Format)?
    } else {
        let lower = mo_raw.to_lowercase();
        month_number(&lower).ok_or(DateError::UnknownWord(mo_raw.to_string()))?
    };
    let d = num("d").transpose()?.unwrap_or(1);
    let time = match (num("h").transpose()?, num("mi").transpose()?) {
        (Some(h), Some(mi)) => {
            let s = num("s").transpose()?;
            Some(Clock::new(h, mi, s.unwrap_or(0), s.is_some())?)
        }
        _ => None,
    };
    let offset = match c.name("z").map(|m| m.as_str()) {
        None => None,
        Some("Z") => Some(FixedOffset::east_opt(0).expect("zero offset")),
        Some(z) => Some(numeric_offset(z)?),
    };
    if time.is_none() && offset.is_some() {
        return Err(DateError::Format);
    }
    stamp(y, mo, d, time, Precision::Day, offset)
}

/// Reduced-precision and compact forms: `2003`, `2003-12`, `-0312`, `-03-12`, `031231`,
/// `03-12-31`, ordinal `2003-335` / `03335`.
fn reduced(s: &str) -> Option<Result<Stamp, DateError>> {
    static FORMS: LazyLock<[(Regex, &str); 7]> = LazyLock::new(|| {
        [
            (Regex::new(r"^([0-9]{4})$").expect("static regex"), "Y"),
            (Regex::new(r"^([0-9]{4})-([0-9]{2})$").expect("static regex"), "YM"),
            (Regex::new(r"^-([0-9]{2})-?([0-9]{2})$").expect("static regex"), "yM"),
            (Regex::new(r"^([0-9]{2})-?([0-9]{2})-?([0-9]{2})$").expect("static regex"), "yMD"),
            (Regex::new(r"^([0-9]{4})-?([0-9]{3})$").expect("static regex"), "YO"),
            // A five-digit string starting with 1 or 2 reads as a truncated YYYYMMDD,
            // which is malformed; only the other two-digit years are taken as `YYDDD`.
            (Regex::new(r"^([03-9][0-9])([0-9]{3})$").expect("static regex"), "yO"),
            (Regex::new(r"^([0-9]{2})-([0-9]{3})$").expect("static regex"), "yO"),
        ]
    });
    let (c, form) = FORMS.iter().find_map(|(re, form)| re.captures(s).map(|c| (c, *form)))?;
    let n = |i: usize| c[i].parse::<u32>().map_err(|_| DateError::Format);
    Some((|| {
        let year = |i: usize| expand_year(&c[i]);
        match form {
            "Y" => stamp(year(1)?, 1, 1, None, Precision::Year, None),
            "YM" => stamp(year(1)?, n(2)?, 1, None, Precision::Month, None),
            "yM" => stamp(year(1)?, n(2)?, 1, None, Precision::Month, None),
            "yMD" => stamp(year(1)?, n(2)?, n(3)?, None, Precision::Day, None),
            _ => {
                let y = year(1)?;
                let date = NaiveDate::from_yo_opt(y, n(2)?).ok_or_else(|| impossible("ordinal day out of range"))?;
                stamp(
                    y,
                    chrono::Datelike::month(&date),
                    chrono::Datelike::day(&date),
                    None,
                    Precision::Day,
                    None,
                )
            }
        }
    })())
}
