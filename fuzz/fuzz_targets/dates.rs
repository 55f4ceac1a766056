//! Any string: the date parser returns a date or an error, never panics, and a date it
//! returns is an ordered interval.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    for tz in [None, Some(chrono_tz::Europe::Paris), Some(chrono_tz::America::Sao_Paulo)] {
        if let Ok(w) = blackout::dates::parse(s, tz) {
            assert!(w.earliest <= w.latest, "{s:?}");
        }
    }
});
