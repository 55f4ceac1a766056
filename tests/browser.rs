//! The HTML report in a real browser: headless Chromium loads the demo's report and the hostile
//! fixture's, and the DOM it builds is read back (`--dump-dom`): hostile strings are text, not
//! elements; no script ran (each payload would have marked `<body>`); each outlet has its
//! timeline with one mark per item. A screenshot must not be blank. `.ci/run` installs
//! Debian's `chromium` and names it in `BLACKOUT_TEST_CHROMIUM`; without one the tests say they
//! were skipped and pass.

use crate::util::run;
use std::path::{Path, PathBuf};
use std::process::Command;

const FR: &str = "rules/fr-2017-presidentielle.toml";
const DEMO: &str = "rules/demo/sources.toml";

fn chromium(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("BLACKOUT_TEST_CHROMIUM").map(PathBuf::from).or_else(|| {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    });
    if found.is_none() {
        eprintln!("skipped {test}: no Chromium (BLACKOUT_TEST_CHROMIUM is not set; .ci/run installs Debian's chromium)");
    }
    found
}

/// Runs headless Chromium on a file with `args`; its stdout.
fn browse(chromium: &Path, page: &Path, args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The report of a check, written to `dir/name`, and the number of items per source from
/// the same run's JSON.
fn report(dir: &Path, name: &str, args: &[&str]) -> (PathBuf, Vec<(String, usize)>) {
    let html = dir.join(name);
    let json = dir.join(format!("{name}.json"));
    let mut all = vec![
        "check",
        FR,
        "--no-state",
        "--output",
        html.to_str().unwrap(),
        "--output",
        json.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let r = run(&all);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let items = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let id = s["id"].as_str().unwrap().to_string();
            let n = v["items"].as_array().unwrap().iter().filter(|i| i["source"] == s["id"]).count();
            (id, n)
        })
        .collect();
    (html, items)
}

/// The DOM of one outlet's section.
fn section<'a>(dom: &'a str, source: &str) -> &'a str {
    let start = dom
        .find(&format!("id=\"src-{source}\""))
        .unwrap_or_else(|| panic!("no section for {source}"));
    let end = dom[start..].find("</section>").map_or(dom.len(), |e| start + e);
    &dom[start..end]
}

fn check_dom(dom: &str, items: &[(String, usize)]) {
    assert!(dom.contains("<body>"), "no script ran: <body> carries no mark of one");
    let lower = dom.to_lowercase();
    assert!(
        !lower.contains("<script") && !lower.contains("<img") && !lower.contains("<iframe"),
        "no element from the web"
    );
    for (source, n) in items {
        let s = section(dom, &source.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
        assert_eq!(s.matches("<svg class=\"timeline\"").count(), 1, "{source}: a timeline");
        assert_eq!(s.matches("<g class=\"mark ").count(), *n, "{source}: a mark per item");
    }
}

#[test]
fn the_demo_report_renders_in_a_browser_with_its_timelines() {
    let Some(chromium) = chromium("the_demo_report_renders_in_a_browser_with_its_timelines") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (html, items) = report(dir.path(), "demo.html", &[DEMO, "--at", "2026-01-01T00:00:00Z"]);
    let dom = browse(&chromium, &html, &["--dump-dom"]);
    check_dom(&dom, &items);
    assert!(dom.contains("4 violations and 1 notice in 3 outlets"), "the headline");
    let png = dir.path().join("demo.png");
    browse(
        &chromium,
        &html,
        &["--window-size=1200,1600", &format!("--screenshot={}", png.display())],
    );
    not_blank(&png);
}

#[test]
fn hostile_strings_stay_text_in_a_browser() {
    let Some(chromium) = chromium("hostile_strings_stay_text_in_a_browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (html, items) = report(
        dir.path(),
        "hostile.html",
        &["--input", "tests/fixtures/hostile", "--at", "2017-05-08T00:00:00Z"],
    );
    let dom = browse(&chromium, &html, &["--dump-dom"]);
    check_dom(&dom, &items);
    assert!(!dom.contains("data-pwned=\""), "no payload ran");
    // The Content-Security-Policy would stop a script that escaped escaping: without it, the
    // escaping alone must hold.
    let text = std::fs::read_to_string(&html).unwrap();
    let policy = text.find("<meta http-equiv=\"Content-Security-Policy\"").expect("a policy");
    let end = policy + text[policy..].find('>').unwrap() + 1;
    let bare = dir.path().join("bare.html");
    std::fs::write(&bare, format!("{}{}", &text[..policy], &text[end..])).unwrap();
    let dom = browse(&chromium, &bare, &["--dump-dom"]);
    check_dom(&dom, &items);
    assert!(!dom.contains("data-pwned=\""), "no payload ran without the policy either");
    assert!(dom.contains("&lt;/svg&gt;"), "the </svg> break-out is text");
    assert!(!dom.contains("<h1>forged heading"), "no forged element");
    for href in dom.split("href=\"").skip(1) {
        assert!(
            href.starts_with("http://") || href.starts_with("https://") || href.starts_with('#'),
            "{}",
            &href[..40.min(href.len())]
        );
    }
}

/// A screenshot that shows something: many colours, and most rows not of one colour.
fn not_blank(png: &Path) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let step = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    let mut varied_rows = 0;
    for row in bytes.chunks(info.line_size) {
        let first = &row[..step];
        if row.chunks(step).any(|p| p != first) {
            varied_rows += 1;
        }
        for p in row.chunks(step).step_by(7) {
            colours.insert(p.to_vec());
        }
    }
    assert!(colours.len() > 50, "only {} colours: a blank page?", colours.len());
    assert!(
        varied_rows * 3 > info.height as usize,
        "{varied_rows} of {} rows drawn",
        info.height
    );
}
