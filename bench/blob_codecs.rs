//! The store's blob codec against the one it replaced, on real pages: each page compressed
//! alone (as a run writes a blob per body), by gzip at level 1 (flate2 on zlib-rs) and by
//! zstd at level 1 (one context per thread, kept, as `store::blobs` does), three rounds; rate
//! over the pages' bytes, and the ratio. Run by bench/blob-codecs.sh.
//!
//! Usage: blob-codecs DIR     (DIR holds `*.html` or `*.html.gz` pages)
use std::io::{Read, Write};
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: blob-codecs DIR");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("a directory of pages")
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    let pages: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).expect("a readable page");
            match p.extension().is_some_and(|e| e == "gz") {
                true => {
                    let mut page = Vec::new();
                    flate2::read::GzDecoder::new(&bytes[..])
                        .read_to_end(&mut page)
                        .expect("a gzip page");
                    page
                }
                false => bytes,
            }
        })
        .collect();
    let total: usize = pages.iter().map(Vec::len).sum();
    println!("{} pages, {:.0} MB", pages.len(), total as f64 / 1e6);
    let report = |name: &str, started: Instant, packed: usize| {
        let rate = total as f64 / started.elapsed().as_secs_f64() / 1e6;
        println!("{name}: {rate:.0} MB/s, ratio {:.2}", total as f64 / packed as f64);
    };
    for round in 1..=3 {
        println!("round {round}");
        let started = Instant::now();
        let mut packed = 0;
        for p in &pages {
            let mut gz = flate2::write::GzEncoder::new(Vec::with_capacity(p.len() / 4), flate2::Compression::fast());
            gz.write_all(p).expect("writing to memory");
            packed += gz.finish().expect("writing to memory").len();
        }
        report("  gzip level 1 (zlib-rs)", started, packed);
        let started = Instant::now();
        let mut packed = 0;
        let mut zstd = zstd::bulk::Compressor::new(1).expect("a zstd context");
        for p in &pages {
            packed += zstd.compress(p).expect("compressing in memory").len();
        }
        report("  zstd level 1", started, packed);
    }
}
