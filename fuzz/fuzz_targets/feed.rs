//! Any bytes as a feed: decoded and parsed (strictly, or entry by entry), or refused with an
//! error; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let base = url::Url::parse("file:///fuzz/feed.xml").unwrap();
    let decoded = blackout::charset::decode(bytes, None, None, None);
    let _ = blackout::feed::parse(&decoded.text, &base, Some(chrono_tz::Europe::Paris));
});
