//! Any bytes as a fingerprint index: refused with an error or loaded into an index that
//! matches text without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(index) = blackout::fingerprint::Index::from_bytes(bytes, "fuzz.fp") {
        let _ = blackout::fingerprint::find(&index, "un deux trois quatre cinq six sept huit neuf dix onze douze treize");
    }
});
