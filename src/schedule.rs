//! When `blackout watch` runs: while any window of the rule files is open in some zone,
//! widened by a margin before and after; otherwise it sleeps until the next one opens.

use crate::rules::RuleSet;
use chrono::{DateTime, Duration, Utc};

/// What the watch does at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// A window is open (margin included): check now.
    Open,
    /// None is open; `window` is the next to open, its watch beginning at `at` (its opening
    /// in the zone where it opens first, less the margin).
    Next { at: DateTime<Utc>, window: String },
    /// No window is open or opens later: nothing left to watch.
    Over,
}

/// Where `now` stands among the windows of `rules`, each span widened by `margin` on both
/// sides. A span includes its start and excludes its end, as timing verdicts do.
pub fn watch(rules: &RuleSet, now: DateTime<Utc>, margin: Duration) -> Watch {
    let mut next: Option<(DateTime<Utc>, &str)> = None;
    for w in &rules.windows {
        for s in &w.spans {
            let (start, end) = (s.start - margin, s.end + margin);
            if start <= now && now < end {
                return Watch::Open;
            }
            if start > now && next.is_none_or(|(at, _)| start < at) {
                next = Some((start, &w.id));
            }
        }
    }
    match next {
        Some((at, window)) => Watch::Next {
            at,
            window: window.to_string(),
        },
        None => Watch::Over,
    }
}

/// A duration as `--every` takes it: a whole number and a unit, `s`, `m` or `h` (`90s`,
/// `15m`, `1h`).
pub fn parse_every(s: &str) -> Result<Duration, String> {
    let unit_at = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(unit_at);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: write a whole number and a unit, like `90s`, `15m` or `1h`"))?;
    let d = match unit {
        "" => return Err(format!("`{s}` needs a unit: `{s}s`, `{s}m` or `{s}h`")),
        "s" => Duration::seconds(n),
        "m" | "min" => Duration::minutes(n),
        "h" => Duration::hours(n),
        _ => return Err(format!("`{s}`: unknown unit `{unit}`; use `s`, `m` or `h` (`90s`, `15m`, `1h`)")),
    };
    if d < Duration::seconds(1) {
        return Err(format!("`{s}`: the interval must be at least one second"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn rules() -> RuleSet {
        let root = env!("CARGO_MANIFEST_DIR");
        RuleSet::load(&[format!("{root}/rules/fr-2017-presidentielle.toml").into()]).unwrap()
    }

    #[test]
    fn open_inside_a_window_and_its_margin_asleep_before_over_after() {
        let rules = rules();
        let margin = Duration::hours(1);
        // Saturday of the second round: the campaign silence is open everywhere.
        assert_eq!(watch(&rules, utc("2017-05-06T12:00:00Z"), margin), Watch::Open);
        // Weeks before the first round: asleep until the first window opens, less the margin.
        let asleep = watch(&rules, utc("2017-03-01T00:00:00Z"), margin);
        let Watch::Next { at, .. } = &asleep else {
            panic!("a window opens later: {asleep:?}");
        };
        let first = rules.windows.iter().flat_map(|w| &w.spans).map(|s| s.start).min().unwrap();
        assert_eq!(*at, first - margin);
        assert_eq!(watch(&rules, first - margin, margin), Watch::Open);
        assert_eq!(watch(&rules, first - margin - Duration::seconds(1), margin), asleep);
        // After the last window closes (and its margin): over.
        let last = rules.windows.iter().flat_map(|w| &w.spans).map(|s| s.end).max().unwrap();
        assert_eq!(watch(&rules, last + margin - Duration::seconds(1), margin), Watch::Open);
        assert_eq!(watch(&rules, last + margin, margin), Watch::Over);
    }

    #[test]
    fn intervals_are_a_number_and_a_unit() {
        assert_eq!(parse_every("15m"), Ok(Duration::minutes(15)));
        assert_eq!(parse_every("90s"), Ok(Duration::seconds(90)));
        assert_eq!(parse_every("1h"), Ok(Duration::hours(1)));
        assert!(parse_every("15").unwrap_err().contains("needs a unit: `15s`, `15m` or `15h`"));
        assert!(parse_every("m").unwrap_err().contains("not a duration"));
        assert!(parse_every("0s").unwrap_err().contains("at least one second"));
        assert!(parse_every("2d").unwrap_err().contains("unknown unit `d`"));
    }
}
