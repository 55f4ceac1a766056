//! Reports people read: every format and output file, redaction of matched passages, and
//! hostile web text made inert in each format.

use crate::util::{fresh_data_home, run};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const FR: &str = "rules/fr-2017-presidentielle.toml";
const DEMO: &str = "rules/demo/sources.toml";
const AT: &str = "2026-01-01T00:00:00Z";
/// The words of a matched passage an outgoing report shows by default.
const SHOWN: usize = 6;

/// Lower-case words, apostrophes and punctuation as separators, entities of HTML undone.
fn words(text: &str) -> Vec<String> {
    let text = text
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    // An apostrophe inside a word keeps it one word (`jusqu’au`), as Unicode word boundaries do.
    text.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .map(|w| w.trim_matches(['\'', '’']))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'"))
        .collect()
}

/// Every run of `n` consecutive words of the demo's leaked corpus.
fn leaked_runs(n: usize) -> HashSet<Vec<String>> {
    let corpus = PathBuf::from("rules/macronleaks-demo/corpus");
    let (docs, _) = blackout::fingerprint::read_corpus(&[corpus]).expect("the demo corpus reads");
    let mut runs = HashSet::new();
    for (_, text) in docs {
        for w in words(&text).windows(n) {
            runs.insert(w.to_vec());
        }
    }
    runs
}

/// The longest run of leaked words in `text`, if longer than `n`: the run itself.
fn leaked_run_longer_than(text: &str, n: usize, runs: &HashSet<Vec<String>>) -> Option<String> {
    words(text).windows(n + 1).find(|w| runs.contains(&w.to_vec())).map(|w| w.join(" "))
}

/// The demo checked with every output format, stdout in `format`; the files' contents by name.
fn demo_outputs(dir: &Path, extra: &[&str]) -> Vec<(String, String)> {
    let files = ["r.txt", "r.json", "r.jsonl", "r.csv", "r.html", "r.md"];
    let mut args: Vec<String> = ["check", FR, DEMO, "--no-state", "--at", AT]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for f in files {
        args.push("--output".into());
        args.push(dir.join(f).display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run(&argv);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut out = vec![("stdout".to_string(), r.stdout)];
    for f in files {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        out.push((f.to_string(), text));
    }
    // No temporary file is left beside the outputs.
    assert_eq!(std::fs::read_dir(dir).unwrap().count(), files.len());
    out
}

#[test]
fn no_outgoing_format_repeats_more_than_six_leaked_words() {
    let runs = leaked_runs(SHOWN + 1);
    let dir = tempfile::tempdir().unwrap();
    let outputs = demo_outputs(dir.path(), &[]);
    for (name, text) in &outputs {
        if let Some(run) = leaked_run_longer_than(text, SHOWN, &runs) {
            panic!("{name} repeats {} leaked words in a row: “{run}”", SHOWN + 1);
        }
    }
    let html = &outputs.iter().find(|(n, _)| n == "r.html").unwrap().1;
    assert!(html.contains("[… 13 more words]"), "the passage is counted, not dropped");
    let json: serde_json::Value = serde_json::from_str(&outputs.iter().find(|(n, _)| n == "r.json").unwrap().1).unwrap();
    assert_eq!(json["excerpts"], "redacted");
    let span = &json["findings"][0]["spans"][0];
    assert_eq!(
        (span["start"].as_u64(), span["end"].as_u64()),
        (Some(332), Some(449)),
        "offsets are kept"
    );
    assert_eq!(span["documents"][0], "ardoise.eml");
    assert_eq!(span["hidden_words"], 13);
    let link = json["findings"][1]["spans"][0]["url"].as_str().unwrap();
    assert_eq!(
        link, "https://archive.org/details/EMLEAKS/…",
        "a link into the dump is cut after the prefix"
    );
    assert!(!html.contains("lot-2017-05-05"), "no format names the dump's file");
}

#[test]
fn show_excerpts_shows_the_passages_whole() {
    let runs = leaked_runs(SHOWN + 1);
    let dir = tempfile::tempdir().unwrap();
    let outputs = demo_outputs(dir.path(), &["--show-excerpts"]);
    for (name, text) in &outputs {
        assert!(
            leaked_run_longer_than(text, SHOWN, &runs).is_some(),
            "{name}: --show-excerpts shows the passage whole"
        );
    }
}

#[test]
fn a_rule_file_sets_how_many_words_a_material_shows() {
    let dir = tempfile::tempdir().unwrap();
    let rules = std::fs::read_to_string(FR).unwrap().replace(
        "fingerprints = \"macronleaks-demo/index.fp\"",
        "fingerprints = \"macronleaks-demo/index.fp\"\nredact_words = 0",
    );
    let local = dir.path().join("fr.toml");
    std::fs::write(&local, rules).unwrap();
    std::fs::create_dir(dir.path().join("macronleaks-demo")).unwrap();
    std::fs::copy("rules/macronleaks-demo/index.fp", dir.path().join("macronleaks-demo/index.fp")).unwrap();
    let r = run(&["check", local.to_str().unwrap(), DEMO, "--no-state", "--at", AT]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("quote 332..449: \"[… 19 words]\""), "{}", r.stdout);
    assert!(
        r.stdout.contains("hashtag of `macronleaks`): body 290..302: \"[… 1 word]\""),
        "{}",
        r.stdout
    );
}

#[test]
fn outputs_take_their_format_from_the_extension_and_are_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("findings.csv");
    let named = dir.path().join("latest");
    std::fs::write(&csv, "an older report").unwrap();
    let r = run(&[
        "check",
        FR,
        DEMO,
        "--no-state",
        "--at",
        AT,
        "-q",
        "--output",
        csv.to_str().unwrap(),
        "--output",
        &format!("html:{}", named.display()),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("\u{FEFF}finding,status,severity,rule,outlet,url,title,"), "{csv}");
    assert_eq!(csv.matches("\r\n").count(), 6, "a header and five findings, CRLF: {csv}");
    assert!(std::fs::read_to_string(&named).unwrap().starts_with("<!DOCTYPE html>"));
    let bad = run(&["check", FR, DEMO, "--no-state", "--output", "report.pdf"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("html:report.pdf"), "{}", bad.stderr);
    let missing = run(&["check", FR, DEMO, "--no-state", "--at", AT, "--output", "/nonexistent/dir/r.html"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("cannot write the report to `/nonexistent/dir/r.html`"),
        "{}",
        missing.stderr
    );
    assert!(missing.stdout.contains("VIOLATION"), "the report is still printed");
}

#[test]
fn every_format_prints_to_stdout() {
    for (format, start) in [
        ("csv", "\u{FEFF}finding,status,"),
        ("html", "<!DOCTYPE html>"),
        ("markdown", "# blackout report: fr-2017-presidentielle"),
        ("jsonl", "{"),
    ] {
        let r = run(&["check", FR, DEMO, "--no-state", "--at", AT, "--format", format]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(r.stdout.starts_with(start), "{format}: {}", &r.stdout[..r.stdout.len().min(200)]);
    }
}

/// The strings of the hostile fixture that must never come out as markup or control codes.
const HOSTILE: &str = "tests/fixtures/hostile";

fn hostile(format: &str) -> String {
    let r = run(&[
        "check",
        FR,
        "--input",
        HOSTILE,
        "--no-state",
        "--at",
        "2017-05-08T00:00:00Z",
        "--format",
        format,
    ]);
    assert_eq!(r.code, 1, "{format}: {}", r.stderr);
    r.stdout
}

#[test]
fn hostile_web_text_is_inert_in_html() {
    let html = hostile("html");
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "no script element");
    assert!(!lower.contains("<img"), "no image element");
    assert!(
        !lower.contains("javascript:") || !lower.contains("href=\"javascript"),
        "no javascript: link"
    );
    for href in lower.split("href=\"").skip(1) {
        assert!(
            href.starts_with("http://") || href.starts_with("https://"),
            "only web links: {}",
            &href[..40.min(href.len())]
        );
    }
    assert_eq!(
        lower.matches("<svg").count(),
        lower.matches("</svg>").count(),
        "no </svg> break-out"
    );
    assert!(
        !html.contains('\u{1b}') && !html.contains('\u{202e}') && !html.contains('\r'),
        "controls and overrides replaced"
    );
    assert!(
        html.contains("&lt;/svg&gt;&lt;script&gt;") || html.contains("&lt;/svg&gt;"),
        "the break-out shows as text"
    );
    assert!(html.contains("default-src 'none'"), "a policy forbids scripts and fetches");
}

#[test]
fn hostile_web_text_is_inert_in_markdown_csv_and_text() {
    let md = hostile("markdown");
    assert!(
        !md.contains("<script") && !md.contains("<img") && !md.contains("](javascript"),
        "{md}"
    );
    assert!(!md.contains('\u{1b}') && !md.contains('\u{202e}'));
    let csv = hostile("csv");
    for line in csv.split("\r\n").filter(|l| !l.is_empty()) {
        for cell in csv_fields(line) {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "a formula: {cell}");
        }
    }
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert_eq!(
        csv.split("\r\n").filter(|l| !l.is_empty()).count(),
        5,
        "no row split by a CR/LF in a title: {csv}"
    );
    let text = hostile("text");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'), "{text:?}");
}

/// The fields of one CSV line (RFC 4180: quoted fields may hold commas and doubled quotes).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted, mut chars) = (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[test]
fn redaction_holds_for_findings_not_listed_and_titles_that_matched() {
    let runs = leaked_runs(SHOWN + 1);
    // Under --new-only the second night lists no finding: the items that matched are still cut.
    let state = fresh_data_home().join("s.db");
    let state = state.to_str().unwrap();
    let first = run(&["check", FR, DEMO, "--state", state, "--at", AT]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    for format in ["json", "html", "csv", "markdown", "text"] {
        let r = run(&["check", FR, DEMO, "--state", state, "--at", AT, "--new-only", "--format", format]);
        assert_eq!(r.code, 0, "{format}: nothing new: {}", r.stderr);
        if let Some(run) = leaked_run_longer_than(&r.stdout, SHOWN, &runs) {
            panic!("{format} under --new-only repeats “{run}”");
        }
    }
    // A title that quotes the leak, on a page published after the window: a match whose timing
    // does not count, its title cut wherever it appears.
    for format in ["json", "html", "csv", "markdown", "text"] {
        let r = run(&[
            "check",
            FR,
            "--input",
            "tests/fixtures/leaked-title.html",
            "--no-state",
            "--at",
            AT,
            "--format",
            format,
        ]);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        if let Some(run) = leaked_run_longer_than(&r.stdout, SHOWN, &runs) {
            panic!("{format}: the matched title is repeated: “{run}”");
        }
    }
    let (_, json) = crate::util::check_json(&[FR, "--input", "tests/fixtures/leaked-title.html", "--no-state", "--at", AT]);
    assert_eq!(json["cleared"].as_array().unwrap().len(), 1, "the title matched: {json}");
    assert!(
        json["items"][0]["title"].as_str().unwrap().ends_with("more words]"),
        "{}",
        json["items"][0]["title"]
    );
}

#[test]
fn a_closed_stdout_still_gets_every_output_written() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let mut child = crate::util::blackout_process()
        .args(["check", FR, DEMO, "--no-state", "--at", AT, "--output", html.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(html.exists(), "the report file is written though stdout went away ({status})");
}

#[test]
fn html_report_has_a_timeline_mark_per_item_and_the_legal_basis() {
    let r = run(&[
        "check",
        FR,
        DEMO,
        "--state",
        fresh_data_home().join("s.db").to_str().unwrap(),
        "--at",
        AT,
        "--format",
        "html",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let html = r.stdout;
    assert_eq!(html.matches("<svg class=\"timeline\"").count(), 3, "one timeline per outlet");
    assert_eq!(html.matches("<g class=\"mark ").count(), 8, "one mark per item");
    assert!(html.contains("France Inter, 6 mai 2017"), "the citations of the window");
    assert_eq!(
        html.matches("<code>blackout evidence bundle ").count(),
        5,
        "each finding says how to gather its evidence"
    );
    assert!(
        html.contains("<span class=\"n\">5</span> new since last run"),
        "the summary counts the new ones"
    );
    assert!(html.contains("<title>blackout: 4 new violations — Le Quotidien (national), Le Veilleur (Belgique), Radio Caraïbes (Guadeloupe) (fr-2017-presidentielle r2)</title>"), "{}", &html[..600]);
}

#[test]
fn completions_and_manual_pages_are_generated() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("blackout") && r.stdout.contains("mail-to"), "{shell}");
    }
    let man = run(&["man"]);
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.contains(".TH blackout 1") && man.stdout.contains("check"),
        "{}",
        man.stdout
    );
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let check = std::fs::read_to_string(dir.path().join("blackout-check.1")).unwrap();
    assert!(check.contains("show\\-excerpts") && check.contains("mail\\-to"), "{check}");
}
