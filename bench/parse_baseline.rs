//! The yardstick for `bench/eval-extract.sh`'s speed figures: what scraper alone does with the
//! same pages on the same machine in the same run — read the file, `Html::parse_document`, one
//! selector — built with blackout's own scraper features and release profile. The host's speed
//! varies between runs, so blackout's pages/s mean most as a share of this figure.
//!
//! Usage: parse-baseline DIR   (every `*.html` file directly under DIR)
//! Prints `one-core PAGES_PER_S` (one thread) and `all-cores PAGES_PER_S` (rayon's pool).

use rayon::prelude::*;
use scraper::{Html, Selector};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let dir = std::env::args_os().nth(1).expect("usage: parse-baseline DIR");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("readable directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    pages.sort();
    let selector = Selector::parse("p").expect("valid selector");
    let parse = |path: &PathBuf| {
        let bytes = std::fs::read(path).expect("readable page");
        let doc = Html::parse_document(&String::from_utf8_lossy(&bytes));
        doc.select(&selector).count()
    };
    // A warm-up pass puts every page in the page cache, as blackout's own runs find them;
    // each figure is the best of three passes, as `bench/rate.sh` takes blackout's.
    let paragraphs: usize = pages.iter().map(parse).sum();
    let best = |pass: &dyn Fn() -> usize| {
        (0..3)
            .map(|_| {
                let start = Instant::now();
                assert_eq!(pass(), paragraphs, "the same pages parse the same way");
                pages.len() as f64 / start.elapsed().as_secs_f64()
            })
            .fold(0.0, f64::max)
    };
    let one = best(&|| pages.iter().map(parse).sum());
    let both = best(&|| pages.par_iter().map(parse).sum());
    println!("one-core {one:.0}\nall-cores {both:.0}");
}
