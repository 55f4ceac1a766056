//! The binary end to end: the demo, every class of rule-file error, and the edge cases of
//! timing, charsets and broken input that the core slice promises.

use crate::util::{check_json, findings, run};
use std::path::Path;

const FR: &str = "rules/fr-2017-presidentielle.toml";
const DEMO: &str = "rules/demo/sources.toml";

fn s(v: &[(&str, &str, &str, &str)]) -> Vec<(String, String, String, String)> {
    v.iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect()
}

#[test]
fn demo_reports_violations_a_mention_and_an_item_outside_the_window() {
    let r = run(&["check", FR, DEMO]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    let out = &r.stdout;
    assert!(out.contains("VIOLATION macronleaks-content"), "{out}");
    assert!(out.contains("notice    macronleaks-mention"), "{out}");
    assert!(
        out.contains("ok        macronleaks-content") && out.contains("matched, but after window `r2-macronleaks`"),
        "{out}"
    );
    assert!(out.contains("[foreign outlet]"), "{out}");
    assert!(
        out.contains(
            "summary: 4 violation(s), 0 warning(s), 1 notice(s); 8 item(s) from 3 source(s), 0 page(s) not checked (walls, empty pages, unreadable listings); 1 problem(s)"
        ),
        "{out}"
    );

    let (code, report) = check_json(&[FR, DEMO]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report),
        s(&[
            ("macronleaks-content", "violation", "le-quotidien", "inside"),
            ("macronleaks-dump-link", "violation", "le-quotidien", "inside"),
            ("macronleaks-content", "violation", "le-veilleur-be", "inside"),
            ("macronleaks-content", "violation", "radio-caraibes", "inside"),
            ("macronleaks-mention", "notice", "le-quotidien", "inside"),
        ])
    );
    let cleared = &report["cleared"][0];
    assert_eq!(
        (cleared["rule"].as_str(), cleared["timing"]["verdict"].as_str()),
        (Some("macronleaks-content"), Some("after"))
    );
    // The Antilles outlet is judged against its own zones only.
    let caraibes = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["source"] == "radio-caraibes")
        .unwrap();
    assert_eq!(caraibes["timing"]["zones_inside"].as_array().unwrap().len(), 5);
    assert_eq!(caraibes["title"], "Fuite de documents : un message déjà relayé ici");
    let problem = &report["problems"][0];
    assert_eq!(
        (problem["source"].as_str(), problem["stage"].as_str()),
        (Some("radio-caraibes"), Some("date"))
    );
    assert!(problem["message"].as_str().unwrap().contains("`samedi soir`"));
}

/// The whole text report of the demo's first run on a new state store, as a golden file
/// (`BLESS=1` rewrites it). Paths of the checkout are replaced by `[ROOT]`, the store's by
/// `[STATE]`, and finding ids (derived from keys that hold those paths; the JSON golden checks
/// them against their keys) by `[ID]`.
#[test]
fn demo_text_report_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let state = state.to_str().unwrap();
    let r = run(&["check", FR, DEMO, "--at", "2026-01-01T00:00:00Z", "--state", state]);
    let root = url::Url::from_directory_path(env!("CARGO_MANIFEST_DIR")).unwrap().to_string();
    let got = r.stdout.replace(&root, "[ROOT]/").replace(state, "[STATE]");
    // The manifest's digest covers the instants of the fetches.
    let got = regex::Regex::new("manifest sha256:[0-9a-f]{64}")
        .unwrap()
        .replace_all(&got, "manifest [MANIFEST]")
        .into_owned();
    let got = regex::Regex::new(r"finding [0-9a-f]{12},")
        .unwrap()
        .replace_all(&got, "finding [ID],");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/demo.stdout");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&golden, got.as_bytes()).unwrap();
    }
    assert_eq!(got, std::fs::read_to_string(golden).unwrap_or_default());
}

/// The whole JSON report of the demo, as a golden file: the documented contract (`BLESS=1`
/// rewrites it), from the first run on a new state store. Paths of the checkout become
/// `[ROOT]`, the store's `[STATE]`, fetch times `[FETCHED_AT]` and 0, and finding ids (derived
/// from keys that hold those paths) `[ID]`.
#[test]
fn demo_json_report_is_stable() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let state = state.to_str().unwrap();
    let r = run(&[
        "check",
        FR,
        DEMO,
        "--at",
        "2026-01-01T00:00:00Z",
        "--format",
        "json",
        "--state",
        state,
    ]);
    let mut report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    report["state"]["store"] = "[STATE]".into();
    // The manifest's digest covers the instants of the fetches.
    let manifest = report["state"]["manifest"].as_str().unwrap();
    assert!(manifest.starts_with("sha256:") && manifest.len() == 71, "{manifest}");
    report["state"]["manifest"] = "[MANIFEST]".into();
    for item in report["items"].as_array_mut().unwrap() {
        item["fetched_at"] = "[FETCHED_AT]".into();
    }
    for source in report["sources"].as_array_mut().unwrap() {
        source["fetch_seconds"] = 0.into();
    }
    for finding in report["findings"].as_array_mut().unwrap() {
        // The id is the key's: recomputed here from the key as reported.
        let key = &finding["key"];
        let key = blackout::model::FindingKey {
            rule: key["rule"].as_str().unwrap().into(),
            source: key["source"].as_str().unwrap().into(),
            url: key["url"].as_str().unwrap().into(),
            materials: key["materials"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().into())
                .collect(),
        };
        assert_eq!(finding["id"], key.id());
        finding["id"] = "[ID]".into();
    }
    let root = url::Url::from_directory_path(env!("CARGO_MANIFEST_DIR")).unwrap().to_string();
    let got = serde_json::to_string_pretty(&report).unwrap().replace(&root, "[ROOT]/") + "\n";
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/demo.json");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&golden, &got).unwrap();
    }
    assert_eq!(got, std::fs::read_to_string(golden).unwrap_or_default());
}

#[test]
fn json_contract_fields() {
    let (_, report) = check_json(&[FR, DEMO]);
    for f in report["findings"].as_array().unwrap() {
        for key in [
            "rule",
            "severity",
            "source",
            "url",
            "timing",
            "spans",
            "message",
            "materials",
            "window",
            "legal_force",
        ] {
            assert!(!f[key].is_null(), "finding lacks `{key}`: {f}");
        }
        assert!(
            !f["timing"]["verdict"].is_null() && !f["timing"]["date"]["provenance"].is_null() && !f["timing"]["date"]["earliest"].is_null()
        );
        for sp in f["spans"].as_array().unwrap() {
            for key in ["scope", "start", "end", "excerpt"] {
                assert!(!sp[key].is_null(), "span lacks `{key}`: {sp}");
            }
        }
    }
    for p in report["problems"].as_array().unwrap() {
        for key in ["source", "url", "stage", "message"] {
            assert!(!p[key].is_null());
        }
    }
    // JSON Lines: one object per line, ending with the summary.
    let r = run(&["check", FR, DEMO, "--format", "jsonl"]);
    let lines: Vec<serde_json::Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.last().unwrap()["type"], "summary");
    assert_eq!(lines.last().unwrap()["violations"], 4);
    assert_eq!(lines.iter().filter(|l| l["type"] == "finding").count(), 5);
}

#[test]
fn span_offsets_point_into_the_extracted_text() {
    let (_, report) = check_json(&[FR, DEMO, "--show-excerpts"]);
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["source"] == "le-quotidien" && f["rule"] == "macronleaks-content")
        .unwrap();
    let sp = &f["spans"][0];
    assert_eq!((sp["scope"].as_str(), sp["matcher"].as_str()), (Some("quote"), Some("fingerprint")));
    assert_eq!(sp["documents"], serde_json::json!(["ardoise.eml"]));
    assert!(sp["words"].as_u64().unwrap() >= 12, "{sp}");
    // The evidence is the part known to be shared, inside the quotation marks.
    let excerpt = sp["excerpt"].as_str().unwrap();
    let quoted = &excerpt[excerpt.find('[').unwrap() + 1..excerpt.find(']').unwrap()];
    assert!("Le virement Ardoise doit rester confidentiel jusqu’au 8 mai, merci de ne pas en parler aux équipes régionales avant la réunion du comité".contains(quoted), "{quoted}");
    assert_eq!((sp["end"].as_u64().unwrap() - sp["start"].as_u64().unwrap()) as usize, quoted.len());
}

#[test]
fn exit_codes_fail_on_and_quiet() {
    // Only a notice: clean by default, a failure with --fail-on notice.
    let r = run(&["check", FR, "--input", "tests/fixtures/control-character.xml"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        run(&[
            "check",
            FR,
            "--input",
            "tests/fixtures/control-character.xml",
            "--fail-on",
            "notice"
        ])
        .code,
        1
    );
    // Quiet and clean prints nothing.
    let r = run(&["check", FR, "--input", "tests/fixtures/clean-page.html", "-q"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    // Nothing readable, or a missing input: the run could not be done.
    let r = run(&["check", FR, "--input", "tests/fixtures/no-such-file.xml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no-such-file.xml"), "{}", r.stderr);
    let r = run(&["check", FR, "--input", "tests/fixtures/clean-page.html", "--as", "nope"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("`--as nope`"));
}

#[test]
fn broken_rule_file_stops_before_any_input_is_read() {
    let r = run(&[
        "check",
        "tests/rule-errors/dst-gap.toml",
        "--input",
        "tests/fixtures/does-not-exist",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("tests/rule-errors/dst-gap.toml:20:9"), "{}", r.stderr);
    assert!(!r.stderr.contains("does-not-exist"));
    assert!(r.stdout.is_empty());
}

/// Golden diagnostics: each `tests/rule-errors/NAME.toml` must produce exactly
/// `NAME.stderr` (file:line:column, the line, the caret, the hint). `BLESS=1` rewrites them.
#[test]
fn rule_file_errors_are_exact() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rule-errors");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 15);
    let mut mismatches = Vec::new();
    for case in cases {
        let rel = format!("tests/rule-errors/{}", case.file_name().unwrap().to_str().unwrap());
        let r = run(&["rules", "check", &rel]);
        assert_eq!(r.code, 2, "{rel} should be refused");
        let golden = case.with_extension("stderr");
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(&golden, &r.stderr).unwrap();
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if want != r.stderr {
            mismatches.push(format!("{rel}:\n--- want\n{want}--- got\n{}", r.stderr));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // Every code the README documents has a golden case.
    let goldens: String = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "stderr"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let documented: Vec<&str> = readme
        .lines()
        .filter_map(|l| {
            l.strip_prefix("| R")
                .and_then(|r| r.get(..3))
                .filter(|n| n.chars().all(|c| c.is_ascii_digit()))
        })
        .collect();
    assert!(documented.len() >= 22, "{documented:?}");
    for n in documented {
        assert!(
            goldens.contains(&format!("error[R{n}]")),
            "no golden case in tests/rule-errors/ for R{n}"
        );
    }
}

#[test]
fn duplicate_ids_across_files_point_at_both() {
    let r = run(&["rules", "check", FR, "tests/fixtures/duplicate-zone.toml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("error[R013]: duplicate zone id `metropole`"), "{}", r.stderr);
    assert!(r.stderr.contains("--> tests/fixtures/duplicate-zone.toml:5:6"), "{}", r.stderr);
    assert!(
        r.stderr.contains("first defined at rules/fr-2017-presidentielle.toml:"),
        "{}",
        r.stderr
    );
}

#[test]
fn shipped_rules_validate_and_their_tests_pass() {
    // Every jurisdiction shipped, each alone (its golden instants checked as it loads) and all
    // together: a file added to rules/ is covered without being named here.
    let mut files: Vec<String> = std::fs::read_dir("rules")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    let names: Vec<&str> = files.iter().map(|f| f.trim_start_matches("rules/")).collect();
    assert_eq!(
        names,
        [
            "br-2022-presidente.toml",
            "ca-2021-federal.toml",
            "es-2023-generales.toml",
            "fr-2017-presidentielle.toml",
            "fr-2022-presidentielle.toml",
            "it-2022-politiche.toml",
            "mx-2024-federal.toml",
            "sk-2023-narodna-rada.toml",
        ]
    );
    for f in &files {
        let r = run(&["rules", "check", f]);
        assert_eq!(r.code, 0, "{f}: {}", r.stderr);
        let r = run(&["rules", "test", f]);
        assert_eq!(r.code, 0, "{f}: {}{}", r.stdout, r.stderr);
    }
    let mut args = vec!["rules", "test"];
    args.extend(files.iter().map(String::as_str));
    let r = run(&args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let row = format!("  {:<38} {:>4} {:>4} {:>4} {:>4} {:>5}", "macronleaks-content", 4, 4, 0, 0, 0);
    assert!(r.stdout.contains(&row), "{}", r.stdout);
    assert!(r.stdout.ends_with("43 passed, 0 failed\n"), "{}", r.stdout);
    assert_eq!(run(&["rules", "check", FR, DEMO]).code, 0);
}

#[test]
fn rule_test_failures_name_file_and_line() {
    let r = run(&["rules", "test", "tests/fixtures/failing-rule-test.toml"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("  quoted                                    0    0    1    1     1"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("FAIL tests/fixtures/failing-rule-test.toml:35: expected a match, but the rule did not match"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("FAIL tests/fixtures/failing-rule-test.toml:39: expected no match, but the rule matched"),
        "{}",
        r.stdout
    );
}

#[test]
fn windows_table_and_audience_union() {
    let r = run(&["windows", FR, DEMO]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("window `r2-campagne`"))
        .find(|l| l.trim_start().starts_with("guadeloupe"))
        .unwrap();
    assert!(
        line.contains("Fri 2017-05-05 00:00")
            && line.contains("Sun 2017-05-07 14:00")
            && line.contains("2017-05-05T04:00Z")
            && line.contains("62.0"),
        "{line}"
    );
    assert!(
        r.stdout
            .contains("le-quotidien             r2-macronleaks               2017-05-05T02:00Z → 2017-05-07T18:00Z"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("radio-caraibes           r2-macronleaks               2017-05-05T03:00Z → 2017-05-07T18:00Z"),
        "{}",
        r.stdout
    );
}

#[test]
fn dst_window_lasts_43_hours_and_a_gap_can_be_resolved() {
    let r = run(&["windows", "tests/fixtures/fr-2015-departementales.toml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Sat 2015-03-28 00:00   Sun 2015-03-29 20:00   2015-03-27T23:00Z  2015-03-29T18:00Z     43.0"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Sun 2015-03-29 03:00"),
        "the resolved gap starts at 03:00 CEST: {}",
        r.stdout
    );
}

#[test]
fn friday_2230_gmt_is_inside_the_metropolitan_window() {
    let (_, report) = check_json(&[FR, "tests/fixtures/friday-night.toml"]);
    let item = |url: &str| {
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["url"] == url && i["source"] == "metropole-only")
            .unwrap()
            .clone()
    };
    let verdict = |url: &str| {
        let i = item(url);
        i["timings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["window"] == "r2-macronleaks")
            .unwrap()["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(verdict("https://friday.example.fr/inside"), "inside");
    assert_eq!(verdict("https://friday.example.fr/before"), "before");
}

#[test]
fn zone_less_dates_use_the_source_zone_or_stay_unknown() {
    let (_, report) = check_json(&[FR, "tests/fixtures/friday-night.toml"]);
    let timing = |source: &str, url: &str| {
        let i = report["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["url"] == url && i["source"] == source)
            .unwrap()
            .clone();
        i["timings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["window"] == "r2-macronleaks")
            .unwrap()
            .clone()
    };
    // With the outlet's zone: Friday 23:30 Paris is half an hour before the silence, and the
    // zone used is recorded.
    let t = timing("paris-clock", "https://zoneless.example.fr/b");
    assert_eq!(
        (
            t["verdict"].as_str(),
            t["date"]["zone"]["kind"].as_str(),
            t["date"]["zone"]["tz"].as_str()
        ),
        (Some("before"), Some("source"), Some("Europe/Paris"))
    );
    assert_eq!(t["date"]["earliest"], "2017-05-05T21:30:00Z");
    // Without: ±14 h around 23:30 straddles the 00:00 Paris start, so unknown (never UTC).
    let t = timing("no-clock", "https://zoneless.example.fr/b");
    assert_eq!(
        (t["verdict"].as_str(), t["date"]["zone"]["kind"].as_str()),
        (Some("unknown"), Some("unknown"))
    );
    // Saturday noon is inside whatever the zone.
    assert_eq!(timing("no-clock", "https://zoneless.example.fr/a")["verdict"], "inside");
    // An unknown verdict with matching content is reported, at most as a warning.
    let warn = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["source"] == "no-clock" && f["url"] == "https://zoneless.example.fr/b")
        .unwrap();
    assert_eq!(warn["severity"], "warning");
}

#[test]
fn windows_1252_feeds_decode_declared_or_overridden() {
    let (_, report) = check_json(&[FR, "--input", "tests/fixtures/windows-1252.xml"]);
    let titles: Vec<&str> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Élection : l’équipe réagit à la fuite"]);
    assert_eq!(findings(&report)[0].0, "macronleaks-content");

    // Without a declaration, undecodable as UTF-8: windows-1252 is the fallback.
    let (_, report) = check_json(&[FR, "--input", "tests/fixtures/windows-1252-undeclared.xml"]);
    assert_eq!(report["items"][0]["title"], "Élection : l’équipe réagit à la fuite");
}

#[test]
fn a_control_character_costs_one_repair_not_the_feed() {
    let (_, report) = check_json(&[FR, "--input", "tests/fixtures/control-character.xml"]);
    assert_eq!(report["items"].as_array().unwrap().len(), 2);
    assert_eq!(report["items"][0]["title"], "Un titre cassé");
    let p = &report["problems"][0];
    assert_eq!(p["stage"], "feed");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("removed 1 character(s) that XML forbids (first at line 3"),
        "{p}"
    );
}

#[test]
fn web_content_prints_inert_on_a_terminal() {
    let r = run(&["check", FR, "--input", "tests/fixtures/ansi-title.html"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{7}'), "{:?}", r.stdout);
    assert!(r.stdout.contains("title: \u{FFFD}[2J\u{FFFD}[31mROUGE\u{FFFD}[0m"), "{}", r.stdout);
}

#[test]
fn help_is_complete_for_every_command() {
    for (args, needles) in [
        (
            vec!["--help"],
            vec!["check", "watch", "state", "review", "windows", "extract", "rules", "Exit status"],
        ),
        (
            vec!["check", "--help"],
            vec![
                "--input",
                "--as",
                "--format",
                "--fail-on",
                "--at",
                "--quiet",
                "--all",
                "--margin",
                "--concurrency",
                "--per-host",
                "--host-delay",
                "--timeout",
                "--max-body",
                "--retries",
                "--contact",
                "--no-cache",
                "--ignore-robots",
                "--deny-private-networks",
                "--verbose",
            ],
        ),
        (vec!["extract", "--help"], vec!["PAGE", "--format", "--tz"]),
        (vec!["windows", "--help"], vec!["FILES"]),
        (vec!["rules", "--help"], vec!["check", "test"]),
        (vec!["rules", "check", "--help"], vec!["FILES", "election"]),
        (vec!["rules", "test", "--help"], vec!["FILES", "file:line"]),
        (vec!["fingerprint", "--help"], vec!["build", "info", "match", "confirm a guessed"]),
        (
            vec!["fingerprint", "build", "--help"],
            vec!["--output", "--k", "--w", "--max-docs", "--background", ".eml"],
        ),
        (vec!["fingerprint", "info", "--help"], vec!["FILE"]),
        (vec!["fingerprint", "match", "--help"], vec!["ARTICLE", "--min-words", "--stats"]),
        (
            vec!["watch", "--help"],
            vec![
                "--every",
                "--margin",
                "--at",
                "SIGTERM",
                "second signal",
                "--state",
                "--new-only",
                "--concurrency",
            ],
        ),
        (
            vec!["state", "--help"],
            vec!["runs", "sources", "findings", "items", "check", "prune"],
        ),
        (
            vec!["review", "--help"],
            vec!["--false-positive", "--confirm", "--note", "--reviewer"],
        ),
    ] {
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}");
        for n in needles {
            assert!(r.stdout.contains(n), "`blackout {}` help lacks {n}:\n{}", args.join(" "), r.stdout);
        }
    }
}

#[test]
fn extract_shows_what_a_check_sees() {
    let r = run(&["extract", "rules/demo/pages/quotidien-courriels.html"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for needle in [
        "published: 2017-05-06T09:30:00Z (as written 2017-05-06T11:30:00+02:00) from jsonld:datePublished",
        "decoded:   UTF-8 (declared)",
        "  quote  ",
        "archive.org/details/EMLEAKS",
    ] {
        assert!(r.stdout.contains(needle), "lacks {needle}:\n{}", r.stdout);
    }
    let r = run(&["extract", "rules/demo/pages/quotidien-courriels.html", "--format", "json"]);
    let pages: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(pages[0]["published"]["provenance"], "jsonld:datePublished");
    assert_eq!(pages[0]["published_as_written"], "2017-05-06T11:30:00+02:00");
    assert!(pages[0]["blocks"].as_array().unwrap().iter().any(|b| b["scope"] == "quote"));
    let batch = run(&["extract", "--jsonl", "rules/demo/pages"]);
    let lines: Vec<serde_json::Value> = batch.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5, "{}", batch.stdout);
    let courriels = lines.iter().find(|l| l["file"] == "quotidien-courriels.html").unwrap();
    assert_eq!(courriels["published"], "2017-05-06T11:30:00+02:00");
    assert_eq!(courriels["published_provenance"], "jsonld:datePublished");
    assert!(courriels["text"].as_str().unwrap().contains("Le virement Ardoise"));
    assert!(
        !courriels["text"].as_str().unwrap().starts_with("Ce que contiennent"),
        "the title is not text"
    );
    let missing = run(&["extract", "tests/fixtures/no-such-page.html"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("no-such-page.html"), "{}", missing.stderr);
}

#[test]
fn experimental_rules_report_without_failing_the_run() {
    let (code, report) = check_json(&["tests/fixtures/experimental.toml", "--input", "tests/fixtures/clean-page.html"]);
    assert_eq!(code, 0);
    let f = &report["findings"][0];
    assert_eq!(
        (f["rule"].as_str(), f["status"].as_str(), f["severity"].as_str()),
        (Some("trial"), Some("experimental"), Some("violation"))
    );
}

#[test]
fn a_window_outside_the_audience_does_not_apply() {
    let (_, report) = check_json(&["tests/fixtures/not-in-audience.toml"]);
    let sources: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, vec!["tahiti-too"]);
    let paris = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "paris-only")
        .unwrap();
    assert!(paris["timings"].as_array().unwrap().is_empty());
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    // A feed large enough that the report overflows the pipe buffer.
    let dir = tempfile::tempdir().unwrap();
    let items: String = (0..3000)
        .map(|i| format!("<item><title>Article {i}</title><link>https://e.example.fr/{i}</link><pubDate>Sat, 06 May 2017 10:00:00 +0200</pubDate></item>"))
        .collect();
    let feed = dir.path().join("big.xml");
    std::fs::write(
        &feed,
        format!("<rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>"),
    )
    .unwrap();
    let mut child = crate::util::blackout_process()
        .args(["check", FR, "--format", "json", "--input", feed.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty());
}

#[test]
fn the_shipped_demo_index_holds_the_demo_corpus() {
    let index =
        blackout::fingerprint::Index::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/macronleaks-demo/index.fp"))).unwrap();
    let (docs, _) =
        blackout::fingerprint::read_corpus(&[concat!(env!("CARGO_MANIFEST_DIR"), "/rules/macronleaks-demo/corpus").into()]).unwrap();
    let ids: Vec<&str> = docs.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(index.docs, ids, "rebuild it: see rules/macronleaks-demo/README.md");
    let (rebuilt, _) = blackout::fingerprint::Index::build(docs, &[], index.params, index.key);
    assert_eq!(rebuilt.counts(), index.counts(), "rebuild it: see rules/macronleaks-demo/README.md");
    let r = run(&["fingerprint", "info", "rules/macronleaks-demo/index.fp"]);
    assert!(
        r.stdout
            .contains("k = 8 words, w = 5 shingles (runs of 12+ words guaranteed), max_docs = 10"),
        "{}",
        r.stdout
    );
}

#[test]
fn broken_fingerprint_files_are_refused_before_any_input() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/macronleaks-demo/index.fp")).unwrap();
    for (name, bytes, needle) in [
        ("truncated.fp", good[..good.len() / 2].to_vec(), "truncated or corrupted"),
        (
            "foreign.fp",
            b"<?xml version=\"1.0\"?><rss/>".to_vec(),
            "not a blackout fingerprint index",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let r = run(&["fingerprint", "info", path.to_str().unwrap()]);
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains(needle), "{}", r.stderr);
    }
}

#[test]
fn fingerprint_build_info_and_match_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("demo.fp");
    let r = run(&[
        "fingerprint",
        "build",
        "rules/macronleaks-demo/corpus",
        "-o",
        index.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("read 5 documents (1 eml, 1 html, 2 mbox, 1 txt)"), "{}", r.stdout);
    let r = run(&["fingerprint", "info", index.to_str().unwrap()]);
    assert!(r.stdout.contains("5 documents"), "{}", r.stdout);
    // A page quoting the e-mail: spans found, exit 1; a page reporting on the leak: none, exit 0.
    let r = run(&[
        "fingerprint",
        "match",
        index.to_str().unwrap(),
        "rules/demo/pages/quotidien-courriels.html",
        "--min-words",
        "12",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("from ardoise.eml"), "{}", r.stdout);
    let r = run(&[
        "fingerprint",
        "match",
        index.to_str().unwrap(),
        "rules/demo/pages/quotidien-piratage.html",
    ]);
    assert_eq!((r.code, r.stdout.contains("0 span(s)")), (0, true), "{}", r.stdout);
    // An empty corpus writes nothing.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let r = run(&[
        "fingerprint",
        "build",
        empty.to_str().unwrap(),
        "-o",
        dir.path().join("none.fp").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no document could be read"), "{}", r.stderr);
    assert!(!dir.path().join("none.fp").exists());
}

/// Every runtime problem code is listed, with its stage, in the README's table.
#[test]
fn every_problem_code_is_documented() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for code in blackout::problem::Code::ALL {
        let stage = blackout::model::wire_name(&code.stage());
        assert!(
            readme.contains(&format!("| {code} | `{stage}` |")),
            "README lacks the row `| {code} | `{stage}` | …`"
        );
    }
}

/// The fixture homepage (ten teasers; the fourth names a file of the dump and shows 4 May,
/// before the window) with `edits` made, each of which must apply.
fn homepage(edits: &[(&str, &str)]) -> String {
    let mut html = std::fs::read_to_string("tests/fixtures/listing/une-datee.html").unwrap();
    for (from, to) in edits {
        assert!(html.contains(from), "the fixture homepage no longer holds {from:?}");
        html = html.replace(from, to);
    }
    html
}

/// The fourth teaser's date on the fixture homepage; a link into the dump in the seventh.
const TEASER_TIME: &str = "\n      <time datetime=\"2017-05-04T18:00:00+02:00\">4 mai 2017, 18 h</time>";
const DUMP_LINK: (&str, &str) = (
    "constituer une infraction.</p>",
    "constituer une infraction. <a href=\"https://archive.org/details/EMLEAKS/ardoise\">Voir les fichiers</a></p>",
);

/// Issue 14: homepages are judged on their teasers. A teaser naming a file of the dump that
/// shows no date is timed by when the run saw the page (inside the window: a violation), and
/// so is a link into the dump in a teaser; the same teaser dated 4 May by its `<time>` was
/// posted before the window (cleared); two teasers, one dated and one not: seen when read; two
/// dated teasers (a `<time>`, a "Publié le 4 mai 2017" line): the latest date; a date in a standfirst's prose is not the teaser's; premium
/// labels ("Réservé aux abonnés") do not make a homepage a wall, a consent wall stays not
/// checked; a rule whose scopes leave out `teaser` never reads them.
#[test]
fn homepages_are_judged_on_their_teasers_timed_by_their_dates_or_when_seen() {
    let dir = tempfile::tempdir().unwrap();
    let (time, eighth) = (TEASER_TIME, "Retraites, fiscalité, Europe : ce qui sépare les deux finalistes.</p>");
    let horizon = "Dans le fichier horizon-2017-03.pdf, une note interne sur les retraites.</p>";
    let horizon_dated = format!("{horizon}\n      <time datetime=\"2017-05-06T10:00:00+02:00\">6 mai 2017, 10 h</time>");
    let standfirsts = [
        "Le candidat a promis de revenir dans le Tarn après le second tour.</p>",
        "Les instituts hésitent sur la participation, notamment chez les jeunes.</p>",
        "La fermeture est fixée à 19 heures, 20 heures dans les grandes villes.</p>",
    ];
    let labelled = standfirsts.map(|p| format!("{p}\n      <span class=\"premium\">Réservé aux abonnés</span>"));
    let mut premium = vec![(time, "")];
    premium.extend(standfirsts.iter().zip(&labelled).map(|(p, l)| (*p, l.as_str())));
    let pages = [
        // A teaser naming a file of the dump, undated, and one linking into the dump.
        ("une", homepage(&[(time, ""), DUMP_LINK])),
        // The same teaser dated 4 May.
        ("une-datee", homepage(&[])),
        // Two teasers name files of the dump, one dated 4 May, one undated.
        ("une-mixte", homepage(&[(eighth, horizon)])),
        // Both dated: "Publié le 4 mai 2017" and a `<time>` of 6 May.
        (
            "une-deux-dates",
            homepage(&[
                (time, "\n      <span class=\"date\">Publié le 4 mai 2017</span>"),
                (eighth, &horizon_dated),
            ]),
        ),
        // The standfirst names a day in its prose: what the item is about, not when posted.
        (
            "une-prose",
            homepage(&[
                (time, ""),
                (
                    "Dans le fichier ardoise-2017-04.eml, le trésorier détaille un virement que la campagne voulait garder confidentiel.",
                    "Les documents diffusés le 4 mai 2017 : dans le fichier ardoise-2017-04.eml, le trésorier détaille un virement.",
                ),
            ]),
        ),
        // Premium labels on three teasers: labels, not a subscription wall.
        ("une-abonnes", homepage(&premium)),
        ("mur", std::fs::read_to_string("tests/fixtures/listing/mur.html").unwrap()),
    ];
    let mut sources = String::from("schema = 1\n");
    for (id, html) in &pages {
        std::fs::write(dir.path().join(format!("{id}.html")), html).unwrap();
        sources.push_str(&format!(
            "[[source]]\nid = \"{id}\"\npages = [\"{id}.html\"]\naudience = \"all\"\ntz = \"Europe/Paris\"\n\n"
        ));
    }
    // A rule that reads the pages' text but not their teasers: it never fires on what they say.
    sources.push_str(
        "[[rule]]\nid = \"dump-file-outside-teasers\"\nseverity = \"violation\"\nwindows = [\"r2-macronleaks\"]\n\
         scope = [\"title\", \"body\", \"quote\", \"pre\", \"caption\", \"summary\"]\ncondition = { pattern = \"macronleaks\" }\n\
         message = \"names a file of the dump outside any teaser\"\n",
    );
    let sources_file = dir.path().join("sources.toml");
    std::fs::write(&sources_file, sources).unwrap();
    let (code, report) = check_json(&[FR, sources_file.to_str().unwrap(), "--at", "2017-05-06T12:00:00Z", "--no-state"]);
    assert_eq!(code, 1, "{report}");
    let finding = |source: &str, rule: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["source"] == source && f["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} on {source}: {report}"))
            .clone()
    };
    for (source, rule) in [
        ("une", "macronleaks-content"),
        ("une", "macronleaks-dump-link"),
        ("une-mixte", "macronleaks-content"),
        ("une-prose", "macronleaks-content"),
        ("une-abonnes", "macronleaks-content"),
    ] {
        let f = finding(source, rule);
        assert_eq!(f["timing"]["provenance"], "observed:shown", "{source}: {f}");
        assert_eq!(f["timing"]["instant"], "2017-05-06T12:00:00Z", "{source}: {f}");
        assert_eq!(f["severity"], "violation");
    }
    let span = &finding("une", "macronleaks-content")["spans"][0];
    assert_eq!(span["scope"], "teaser");
    assert!(span["teaser"].as_str().unwrap().ends_with("/2017/05/06/ardoise.html"), "{span}");
    let latest = finding("une-deux-dates", "macronleaks-content");
    assert_eq!(latest["timing"]["provenance"], "teaser:date", "{latest}");
    assert_eq!(latest["timing"]["instant"], "2017-05-06T08:00:00Z");
    assert_eq!(report["findings"].as_array().unwrap().len(), 6, "{report}");
    let cleared = report["cleared"].as_array().unwrap();
    assert_eq!(cleared.len(), 1, "{report}");
    assert_eq!(cleared[0]["source"], "une-datee");
    assert_eq!(cleared[0]["timing"]["verdict"], "before");
    assert_eq!(cleared[0]["timing"]["provenance"], "teaser:date");
    let unchecked = report["not_checked"].as_array().unwrap();
    assert_eq!(unchecked.len(), 1, "{report}");
    assert_eq!(
        (unchecked[0]["source"].as_str(), unchecked[0]["class"].as_str()),
        (Some("mur"), Some("interstitial"))
    );
    let classes: Vec<(&str, &str)> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["source"].as_str().unwrap(), i["class"].as_str().unwrap()))
        .collect();
    assert!(
        classes
            .iter()
            .all(|(s, c)| (*s == "mur") == (*c == "interstitial") && (*s == "mur" || *c == "listing")),
        "{classes:?}"
    );
    let rules = crate::util::strings(&report, "findings", "rule");
    assert!(!rules.contains(&"dump-file-outside-teasers"), "{rules:?}");
    // What `extract` shows of it: the class, checked, and each teaser with its date.
    let out = run(&["extract", "--format", "json", "tests/fixtures/listing/une-datee.html"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let view: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let page = &view[0];
    assert_eq!(page["kind"]["class"], "listing");
    assert_eq!(page["checked"], true);
    let teasers = page["teasers"].as_array().unwrap();
    assert_eq!(teasers.len(), 10);
    assert!(teasers[3]["url"].as_str().unwrap().ends_with("/2017/05/06/ardoise.html"));
    assert_eq!(teasers[3]["date"]["instant"], "2017-05-04T16:00:00Z");
    assert!(teasers.iter().enumerate().all(|(i, t)| (i == 3) == t.get("date").is_some()));
}

/// Issue 14: a teaser dated before the window on a homepage that blackout saw change since its
/// last read may be one of the changes, posted under an older date: not cleared, told
/// (`unknown`, a warning). The same page read for the first time is cleared (above).
#[test]
fn a_dated_teaser_on_a_homepage_seen_to_change_is_not_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("une.html");
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        "schema = 1\n[[source]]\nid = \"une\"\npages = [\"une.html\"]\naudience = \"all\"\ntz = \"Europe/Paris\"\n",
    )
    .unwrap();
    let state = dir.path().join("state.db");
    let check = |at: &str| check_json(&[FR, sources.to_str().unwrap(), "--at", at, "--state", state.to_str().unwrap()]);
    let clean = homepage(&[
        (TEASER_TIME, ""),
        ("Dans le fichier ardoise-2017-04.eml, le trésorier", "Le trésorier"),
    ]);
    std::fs::write(&page, clean).unwrap();
    let (code, before) = check("2017-05-05T12:00:00Z");
    assert_eq!(code, 0, "{before}");
    std::fs::write(&page, homepage(&[])).unwrap();
    let (_, report) = check("2017-05-06T12:00:00Z");
    let found = findings(&report);
    assert_eq!(
        found,
        vec![("macronleaks-content".into(), "warning".into(), "une".into(), "unknown".into())],
        "{report}"
    );
    assert_eq!(report["findings"][0]["timing"]["provenance"], "observed:changed");
    // The next night the teaser shows a date inside the window: the page changed again, and
    // the teaser's own date decides (a change never softens a date inside).
    let inside = homepage(&[("2017-05-04T18:00:00+02:00", "2017-05-06T10:00:00+02:00")]);
    std::fs::write(&page, inside).unwrap();
    let (_, report) = check("2017-05-07T12:00:00Z");
    assert_eq!(
        findings(&report),
        vec![("macronleaks-content".into(), "violation".into(), "une".into(), "inside".into())],
        "{report}"
    );
    assert_eq!(report["findings"][0]["timing"]["provenance"], "teaser:date");
}
