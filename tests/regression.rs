//! Regression tests for the bugs of issue 10 (the check's middle), one per bug, named after
//! it. Each failed on the release before the pipeline was split into stages.

use crate::util::{check_json, run, strings};
use std::path::Path;

const FR: &str = "rules/fr-2017-presidentielle.toml";
const FIXTURES: &str = "tests/fixtures/issue-10";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Bug 1: a source whose two feeds list the same article judged it twice, the second time on
/// feed text alone: one URL gave two items and two findings.
#[test]
fn two_feeds_listing_one_article_give_one_item_and_one_finding() {
    let (code, report) = check_json(&[FR, &format!("{FIXTURES}/two-feeds/sources.toml"), "--at", "2017-05-08T00:00:00Z"]);
    assert_eq!(code, 1, "{report}");
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{report:#}");
    let findings = strings(&report, "findings", "rule");
    assert_eq!(findings, vec!["macronleaks-content"]);
    // Both entries' summaries are kept, as feed text beside the page.
    let summary_spans = report["findings"][0]["spans"].as_array().unwrap();
    assert!(summary_spans.iter().all(|s| s["scope"] == "quote"), "{summary_spans:?}");
}

/// Bug 2: `rules test` passed a test that `check` would not flag: the shipped dump-link test
/// page, saved as a page, was "unchecked: … empty". One evaluation path; a page whose content
/// is a link into the dump is a finding, not an empty page.
#[test]
fn a_short_page_linking_into_the_dump_is_a_finding_not_an_empty_page() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("ici.html");
    std::fs::write(
        &page,
        "<article><p>Les documents sont <a href=\"https://archive.org/details/EMLEAKS/lot-1.zip\">ici</a>.</p></article>",
    )
    .unwrap();
    let (code, report) = check_json(&[FR, "--input", page.to_str().unwrap(), "--at", "2017-05-08T00:00:00Z"]);
    let rules = strings(&report, "findings", "rule");
    assert_eq!(rules, vec!["macronleaks-dump-link"], "{report:#}");
    assert!(report["not_checked"].as_array().unwrap().is_empty(), "{report:#}");
    // Undated, so its timing is unknown and the finding is capped at a warning.
    assert_eq!(report["findings"][0]["severity"], "warning");
    assert_eq!(code, 0);
    // The same page is the shipped rule test, which passes.
    let r = run(&["rules", "test", FR]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

/// Bug 4: a source whose feeds could not be read (an HTML page, an empty body) ended with
/// 0 items, `failed 0` and exit 0 when another source was fine.
#[test]
fn a_source_that_could_not_be_read_is_not_checked_and_the_run_is_incomplete() {
    let sources = format!("{FIXTURES}/unreadable/sources.toml");
    let r = run(&["check", FR, &sources, "--at", "2017-05-08T00:00:00Z"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    let out = &r.stdout;
    assert!(out.contains("NOT CHECKED: nothing could be read: file://"), "{out}");
    assert!(
        out.contains("an HTML page, not a feed: use `home =` to discover the feeds it advertises, or `pages =` to read it as a page"),
        "{out}"
    );
    assert!(out.contains("empty body: nothing to read"), "{out}");
    assert!(out.contains("INCOMPLETE: 2 source(s) not checked, 0 checked in part"), "{out}");
    let (code, report) = check_json(&[FR, &sources, "--at", "2017-05-08T00:00:00Z"]);
    assert_eq!(code, 3);
    let status: Vec<(&str, &str)> = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        vec![("courrier", "checked"), ("echo", "not_checked"), ("vide", "not_checked")]
    );
    let codes = strings(&report, "problems", "code");
    assert_eq!(codes, vec!["L002", "L003"]);
    let r = run(&["check", FR, &sources, "--format", "jsonl", "--at", "2017-05-08T00:00:00Z"]);
    let lines: Vec<serde_json::Value> = r.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.iter().filter(|l| l["type"] == "source").count(), 2);
    assert_eq!(lines.last().unwrap()["sources_not_checked"], 2);
    // Quiet mode never prints a run like this as clean.
    let r = run(&["check", FR, &sources, "-q", "--at", "2017-05-08T00:00:00Z"]);
    assert_eq!(r.code, 3);
    assert!(r.stdout.contains("NOT CHECKED"), "{}", r.stdout);
}

/// Bug 5: one feed whose entries' pages could not be read printed one line per problem (a
/// 20,129-line report); the text report counts them, the JSON report keeps them all.
#[test]
fn repeated_problems_of_one_source_are_counted_in_the_text_report() {
    let dir = tempfile::tempdir().unwrap();
    let items: String = (0..40)
        .map(|i| format!("<item><title>n{i}</title><link>missing/{i}.html</link><pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item>"))
        .collect();
    let feed = dir.path().join("feed.xml");
    std::fs::write(
        &feed,
        format!("<rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>"),
    )
    .unwrap();
    let r = run(&["check", FR, "--input", feed.to_str().unwrap(), "--at", "2017-05-08T00:00:00Z"]);
    let problem_lines: Vec<&str> = r.stdout.lines().filter(|l| l.trim_start().starts_with("problem")).collect();
    assert!(problem_lines.len() <= 4, "{}", r.stdout);
    assert!(problem_lines.iter().any(|l| l.contains("more of this kind (F001)")), "{}", r.stdout);
    let (_, report) = check_json(&[FR, "--input", feed.to_str().unwrap(), "--at", "2017-05-08T00:00:00Z"]);
    assert_eq!(report["problems"].as_array().unwrap().len(), 40);
}

/// Bug 6: a feed cut mid-document (a connection cut) lost every item (`tag not closed`).
#[test]
fn a_truncated_feed_keeps_its_first_entries() {
    let whole = std::fs::read_to_string(root().join("rules/demo/feeds/le-quotidien.xml")).unwrap();
    // Cut inside the third entry's description.
    let cut = &whole[..whole.find("Compte rendu des deux").unwrap() + 6];
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("cut.xml");
    std::fs::write(&feed, cut).unwrap();
    let (code, report) = check_json(&[FR, "--input", feed.to_str().unwrap(), "--at", "2017-05-08T00:00:00Z"]);
    assert_ne!(code, 2, "{report}");
    let titles = strings(&report, "items", "title");
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles[2].starts_with("Dernier meeting"), "{titles:?}");
    let codes = strings(&report, "problems", "code");
    assert!(codes.contains(&"L004"), "{codes:?}");
}

/// Bug 8: the feed's summary was merged into the page's body text, so a span reported as
/// `body` quoted text that is not on the page. Feed text is its own scope, with its own
/// offsets, and each span names its document.
#[test]
fn feed_text_is_its_own_document_and_scope() {
    let (_, report) = check_json(&[FR, "rules/demo/sources.toml", "--at", "2017-05-08T00:00:00Z"]);
    let mention = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "macronleaks-mention")
        .unwrap();
    let spans = mention["spans"].as_array().unwrap();
    let page = spans.iter().find(|s| s["scope"] == "body").unwrap();
    let feed = spans.iter().find(|s| s["scope"] == "summary").unwrap();
    assert!(page["document"].as_str().unwrap().ends_with("pages/quotidien-piratage.html"));
    assert!(feed["document"].as_str().unwrap().ends_with("feeds/le-quotidien.xml"));
    // The summary's offsets index the feed text alone.
    let summary = "Le mouvement affirme que des documents authentiques ont été mêlés à des faux. #MacronLeaks";
    let (start, end) = (feed["start"].as_u64().unwrap() as usize, feed["end"].as_u64().unwrap() as usize);
    assert_eq!(&summary[start..end], "#MacronLeaks");
}

/// Bug 9: symbolic links to directories were followed: an `again -> .` link turned one page
/// into 41 items.
#[cfg(unix)]
#[test]
fn a_link_to_a_directory_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("tests/fixtures/clean-page.html"), dir.path().join("page.html")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("again")).unwrap();
    let (_, report) = check_json(&[FR, "--input", dir.path().to_str().unwrap()]);
    assert_eq!(report["items"].as_array().unwrap().len(), 1, "{report:#}");
    let r = run(&["extract", "--jsonl", dir.path().to_str().unwrap()]);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
}

/// Bug 14: `--as` with an unknown source gave no "did you mean".
#[test]
fn an_unknown_source_for_as_suggests_the_nearest() {
    let r = run(&[
        "check",
        FR,
        "rules/demo/sources.toml",
        "--input",
        "tests/fixtures/clean-page.html",
        "--as",
        "le-quotidein",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("`--as le-quotidein`: no source with this id in the rule files; did you mean `le-quotidien`?"),
        "{}",
        r.stderr
    );
}

/// Found in review: entries without a link all stood for their feed's address, so two
/// different ones shared one finding key. Each has its own address (the feed's, with a digest
/// of what the entry says), the same from one run to the next.
#[test]
fn entries_without_a_link_have_their_own_identity() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |title: &str| {
        format!(
            "<item><title>{title}</title><description>Le lot est sur archive.org/details/EMLEAKS/ depuis vendredi.</description><pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item>"
        )
    };
    let feed = dir.path().join("feed.xml");
    std::fs::write(
        &feed,
        format!(
            "<rss version=\"2.0\"><channel><title>t</title>{}{}</channel></rss>",
            entry("Un"),
            entry("Deux")
        ),
    )
    .unwrap();
    let args = [FR, "--input", feed.to_str().unwrap(), "--at", "2017-05-08T00:00:00Z"];
    let (_, report) = check_json(&args);
    let ids = strings(&report, "findings", "id");
    assert_eq!(ids.len(), 2, "{report:#}");
    assert_ne!(ids[0], ids[1]);
    let urls = strings(&report, "items", "url");
    assert!(urls.iter().all(|u| u.contains("feed.xml#entry-")), "{urls:?}");
    let (_, again) = check_json(&args);
    assert_eq!(strings(&again, "findings", "id"), ids, "stable across runs");
}

/// Found in review: a link into the dump in a feed-only item's summary was dropped with the
/// summary's markup.
#[test]
fn links_in_a_feed_summary_are_seen() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.xml");
    std::fs::write(
        &feed,
        "<rss version=\"2.0\"><channel><title>t</title><item><title>Les documents</title><link>https://web.example.fr/a</link>\
         <description>&lt;p&gt;Ils sont &lt;a href=\"https://archive.org/details/EMLEAKS/lot-1.zip\"&gt;ici&lt;/a&gt;.&lt;/p&gt;</description>\
         <pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item></channel></rss>",
    )
    .unwrap();
    let (_, report) = check_json(&[FR, "--input", feed.to_str().unwrap(), "--at", "2017-05-08T00:00:00Z"]);
    assert_eq!(strings(&report, "findings", "rule"), vec!["macronleaks-dump-link"], "{report:#}");
    assert_eq!(
        report["findings"][0]["spans"][0]["document"],
        url::Url::from_file_path(&feed).unwrap().as_str()
    );
}

/// Found in review: when two sources list the same page and it cannot be read, the second was
/// told nothing (no problem, "not checked" without a reason).
#[test]
fn a_page_two_sources_list_is_reported_to_both() {
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        "schema = 1\n[[source]]\nid = \"a\"\npages = [\"missing.html\"]\naudience = \"all\"\n\n\
         [[source]]\nid = \"b\"\npages = [\"missing.html\"]\naudience = \"all\"\n",
    )
    .unwrap();
    let r = run(&["check", FR, sources.to_str().unwrap(), "--format", "json"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    for s in report["sources"].as_array().unwrap() {
        assert_eq!(s["status"], "not_checked");
        assert_eq!(s["failed"], 1);
        assert!(s["status_reason"].as_str().unwrap().contains("missing.html: cannot read"), "{s}");
    }
    assert_eq!(strings(&report, "problems", "source"), vec!["a", "b"]);
    assert!(
        r.stderr
            .contains("error: nothing was checked: no source could be read\n  a: nothing could be read:"),
        "{}",
        r.stderr
    );
}

/// Found in review: a page read by two sources was cut at the default cap even when one of them
/// asked for more, and a listed page cut at the cap left its source "checked".
#[test]
fn a_shared_page_is_read_with_the_largest_cap_and_a_cut_page_is_a_partial_read() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    let filler = "<p>Un paragraphe ordinaire, sans rien de particulier, pour occuper de la place.</p>".repeat(80);
    std::fs::write(
        &page,
        format!("<article><h1>Titre</h1>{filler}<p>Le mot-dièse #MacronLeaks circule.</p></article>"),
    )
    .unwrap();
    let sources = dir.path().join("sources.toml");
    let source = |id: &str, cap: &str| format!("[[source]]\nid = \"{id}\"\npages = [\"page.html\"]\naudience = \"all\"\n{cap}\n");
    std::fs::write(
        &sources,
        format!("schema = 1\n{}{}", source("a", ""), source("b", "max_body = 100000")),
    )
    .unwrap();
    let (code, report) = check_json(&[FR, sources.to_str().unwrap(), "--max-body", "2000", "--fail-on", "notice"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(strings(&report, "findings", "source"), vec!["a", "b"]);
    assert!(report["problems"].as_array().unwrap().is_empty(), "{report:#}");
    // Alone, the source with the default cap reads the page in part: not a clean run.
    std::fs::write(&sources, format!("schema = 1\n{}", source("a", ""))).unwrap();
    let (code, report) = check_json(&[FR, sources.to_str().unwrap(), "--max-body", "2000"]);
    assert_eq!(code, 3, "{report:#}");
    assert_eq!(report["sources"][0]["status"], "incomplete");
    assert_eq!(strings(&report, "problems", "code"), vec!["F020"]);
}

/// Found in review: the same entry without a link, carried by two feeds of one outlet, was two
/// items (one per feed).
#[test]
fn an_unlinked_entry_in_two_feeds_is_one_item() {
    let dir = tempfile::tempdir().unwrap();
    let entry = "<item><title>Un</title><description>Le mot-dièse #MacronLeaks circule.</description><pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item>";
    for name in ["a.xml", "b.xml"] {
        std::fs::write(
            dir.path().join(name),
            format!("<rss version=\"2.0\"><channel><title>t</title>{entry}</channel></rss>"),
        )
        .unwrap();
    }
    let (_, report) = check_json(&[FR, "--input", dir.path().to_str().unwrap(), "--at", "2017-05-08T00:00:00Z"]);
    assert_eq!(report["items"].as_array().unwrap().len(), 1, "{report:#}");
    assert_eq!(strings(&report, "findings", "rule"), vec!["macronleaks-mention"]);
}
