//! Any text as a page: extracted with block ranges inside the text, or refused as too deep.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|html: &str| {
    let base = url::Url::parse("https://fuzz.example.fr/a/b.html").unwrap();
    if let Ok(x) = blackout::extract::extract(html, &base, None) {
        for b in &x.article.blocks {
            assert!(x.article.text.get(b.range.clone()).is_some());
        }
    }
});
