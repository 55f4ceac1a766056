//! Any text as a rule file: loaded or refused with diagnostics that render; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(e) = blackout::rules::RuleSet::from_sources(vec![("fuzz.toml".into(), text.to_string())]) {
        let _ = e.to_string();
    }
});
