//! Every string of `date-strings.tsv` parses to exactly its expected instant, and the ones
//! with an empty expectation are rejected. Zone-less rows name the zone their expectation
//! assumes in the note; it is given as the source's zone, as a rule file would.

use blackout::dates::{Zone, parse};
use chrono::DateTime;

/// Rows whose input carries no zone. The data set's notes flag 16 of them; `-0312` is a
/// feedparser vector without a zone whose note does not say so (the data set's README says
/// feedparser's vectors assume UTC).
const ZONE_LESS: usize = 17;

fn zone_for(note: &str, source: &str) -> Option<chrono_tz::Tz> {
    if note.contains("Europe/Paris") {
        Some(chrono_tz::Europe::Paris)
    } else if note.contains("Korean time") {
        Some(chrono_tz::Asia::Seoul)
    } else if source.starts_with("kurtmckee/feedparser") {
        Some(chrono_tz::UTC)
    } else {
        None
    }
}

#[test]
fn every_wild_date_string() {
    let tsv = include_str!("fixtures/date-strings.tsv");
    let (mut right, mut rejected, mut zone_from_source, mut failures) = (0, 0, 0, Vec::new());
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (input, expected, note) = (cols[0], cols[1], cols[2]);
        let tz = zone_for(note, cols[3]);
        let got = parse(input, tz);
        match (expected.is_empty(), got) {
            (true, Err(_)) => rejected += 1,
            (true, Ok(w)) => failures.push(format!("{input:?}: should be rejected, got {}", w.instant())),
            (false, Err(e)) => failures.push(format!("{input:?}: expected {expected}, got error {e}")),
            (false, Ok(w)) => {
                let want = DateTime::parse_from_rfc3339(expected).unwrap().to_utc();
                if w.instant() != want {
                    failures.push(format!("{input:?}: expected {want}, got {}", w.instant()));
                } else {
                    if w.zone != Zone::Explicit {
                        zone_from_source += 1;
                    }
                    right += 1;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of 90 wrong:\n{}", failures.len(), failures.join("\n"));
    assert_eq!((right, rejected), (72, 18));
    assert_eq!(zone_from_source, ZONE_LESS, "only zone-less strings may take the source's zone");
}

#[test]
fn zone_less_rows_are_never_silently_utc() {
    // Without a configured zone, the zone-less strings stay zone-unknown, and the others
    // parse exactly as with one.
    let tsv = include_str!("fixtures/date-strings.tsv");
    let mut unknown = 0;
    for line in tsv.lines().skip(1).filter(|l| !l.split('\t').nth(1).unwrap().is_empty()) {
        let input = line.split('\t').next().unwrap();
        let w = parse(input, None).unwrap();
        if w.zone == Zone::Unknown {
            unknown += 1;
            assert!(w.earliest < w.latest, "{input}: an unknown zone is an interval");
        }
    }
    assert_eq!(unknown, ZONE_LESS);
}
