//! Any text: normalisation is idempotent and every normalised range maps back to a valid
//! range of the original.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let n = blackout::normalize::normalize(s);
    assert_eq!(n.origin.len(), n.text.len() + 1);
    for (i, _) in n.text.char_indices() {
        let r = n.original_range(i, n.text.len(), s);
        assert!(s.get(r).is_some());
    }
});
