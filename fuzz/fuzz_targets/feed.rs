//! Any bytes as a feed: decoded and parsed, or refused with an error; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let doc = blackout::fetch::Document {
        url: url::Url::parse("file:///fuzz/feed.xml").unwrap(),
        bytes: bytes.to_vec(),
        content_type: None,
        fetched_at: chrono::DateTime::UNIX_EPOCH,
        truncated: false,
        max_bytes: 0,
        redirects: Vec::new(),
        from_cache: false,
        elapsed: std::time::Duration::ZERO,
    };
    let decoded = blackout::charset::decode(&doc.bytes, None, None, None);
    let _ = blackout::feed::parse(&doc, &decoded, Some(chrono_tz::Europe::Paris));
});
