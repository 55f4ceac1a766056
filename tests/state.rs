//! The state store across runs: findings new, open, resolved and dismissed; item identity
//! across feeds that change their GUIDs and links; the health of sources across runs; the
//! lock between overlapping runs; and nothing lost or doubled when a run is killed, the disk
//! is full or the store is read-only.

use crate::util::{Server, blackout_process, run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wiremock::ResponseTemplate;

const FR: &str = "rules/fr-2017-presidentielle.toml";
const DEMO: &str = "rules/demo/sources.toml";

/// A store of its own in a directory of its own.
struct Store {
    dir: tempfile::TempDir,
    path: String,
}

fn store() -> Store {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db").to_str().unwrap().to_string();
    Store { dir, path }
}

/// `check --format json --state STORE ARGS…`: exit code, report, stderr.
fn check(store: &Store, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["check", "--format", "json", "--state", &store.path];
    all.extend_from_slice(args);
    let r = run(&all);
    let report = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}); stderr:\n{}\nstdout:\n{}", r.stderr, r.stdout));
    (r.code, report, r.stderr)
}

/// `state KIND --json --state STORE`, parsed.
fn state(store: &Store, kind: &str) -> Vec<Value> {
    let r = run(&["state", kind, "--json", "--state", &store.path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str::<Value>(&r.stdout).unwrap().as_array().unwrap().clone()
}

/// `(state, first_run)` of each finding of a report, by its title's first letter or URL.
fn states(report: &Value) -> Vec<(String, String, i64)> {
    let mut out: Vec<(String, String, i64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["url"].as_str().unwrap().to_string(),
                f["state"].as_str().unwrap_or("-").to_string(),
                f["first_run"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_demo_is_new_on_its_first_run_and_open_on_the_second() {
    let s = store();
    let (code, first, _) = check(&s, &[FR, DEMO, "--at", "2026-01-01T00:00:00Z"]);
    assert_eq!(code, 1);
    assert_eq!(first["state"]["run"], 1);
    assert_eq!(
        (first["state"]["new"].as_u64(), first["state"]["open"].as_u64()),
        (Some(5), Some(0))
    );
    assert!(
        states(&first).iter().all(|(_, st, run)| st == "new" && *run == 1),
        "{:?}",
        states(&first)
    );

    let (code, second, _) = check(&s, &[FR, DEMO, "--at", "2026-01-02T00:00:00Z"]);
    assert_eq!(code, 1, "old findings still fail a run without --new-only");
    assert_eq!(
        (second["state"]["new"].as_u64(), second["state"]["open"].as_u64()),
        (Some(0), Some(5))
    );
    for f in second["findings"].as_array().unwrap() {
        assert_eq!((f["state"].as_str(), f["first_run"].as_i64()), (Some("open"), Some(1)), "{f}");
        assert_eq!(f["first_reported"], "2026-01-01T00:00:00Z");
    }
    // Items remember when they were first seen; the run's `--at` is the observation instant.
    for item in second["items"].as_array().unwrap() {
        assert_eq!(item["first_seen"], "2026-01-01T00:00:00Z", "{item}");
    }

    // The nightly mail: nothing new, so nothing printed and exit 0.
    let r = run(&[
        "check",
        FR,
        DEMO,
        "--state",
        &s.path,
        "--new-only",
        "-q",
        "--at",
        "2026-01-03T00:00:00Z",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    // Text: each finding says where it stands.
    let r = run(&["check", FR, DEMO, "--state", &s.path, "--at", "2026-01-04T00:00:00Z"]);
    assert!(r.stdout.contains("open since run 1 (2026-01-01T00:00Z)"), "{}", r.stdout);
    assert!(r.stdout.contains("state: run 4 in "), "{}", r.stdout);

    // A one-off run reads and writes nothing, and marks nothing.
    let before = state(&s, "runs").len();
    let r = run(&["check", FR, DEMO, "--no-state", "--format", "json"]);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(report.get("state").is_none() && report["findings"][0].get("state").is_none());
    assert_eq!(state(&s, "runs").len(), before);
}

/// Feed readers' lessons: a GUID minted on every fetch, tracking parameters, a re-post under a
/// new GUID, two articles sharing a GUID, an entry without a link (fixtures/identity).
#[test]
fn items_keep_their_identity_across_runs() {
    let s = store();
    let feed = s.dir.path().join("feed.xml");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/identity");
    let night = |n: u32, at: &str| {
        std::fs::copy(fixtures.join(format!("night{n}.xml")), &feed).unwrap();
        check(
            &s,
            &[FR, DEMO, "--input", feed.to_str().unwrap(), "--as", "le-quotidien", "--at", at],
        )
    };
    let (_, first, _) = night(1, "2017-05-07T01:00:00Z");
    assert_eq!(first["state"]["new"], 6, "{}", first["findings"]);
    let (_, second, _) = night(2, "2017-05-07T03:00:00Z");
    assert_eq!(
        (second["state"]["new"].as_u64(), second["state"]["open"].as_u64()),
        (Some(0), Some(6))
    );
    assert_eq!(second["resolved"].as_array().unwrap().len(), 0);

    let items = state(&s, "items");
    let mut urls: Vec<&str> = items.iter().map(|i| i["url"].as_str().unwrap()).collect();
    urls.sort();
    let base = "https://www.lequotidien.example.fr/";
    let linked: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|p| format!("{base}{p}")).collect();
    assert_eq!(
        &urls[1..],
        linked.iter().map(String::as_str).collect::<Vec<_>>().as_slice(),
        "{urls:?}"
    );
    assert!(urls[0].contains("feed.xml#entry-"), "the entry without a link: {}", urls[0]);
    assert_eq!(urls.len(), 6, "{urls:?}");
    for i in &items {
        assert_eq!(
            (i["first_seen"].as_str(), i["last_seen"].as_str()),
            (Some("2017-05-07T01:00:00Z"), Some("2017-05-07T03:00:00Z")),
            "{i}"
        );
        assert_eq!(i["versions"], 1, "{i}");
    }
}

/// A feed of this store's directory with items `(slug, summary)`, all dated inside the
/// window, read as the demo's `le-quotidien`.
fn write_feed(s: &Store, items: &[(&str, &str)]) -> PathBuf {
    write_feed_dated(s, items, "Sat, 06 May 2017 10:00:00 +0200")
}

/// A feed of this store's directory with items `(slug, summary)`, all of this `pubDate`.
fn write_feed_dated(s: &Store, items: &[(&str, &str)], date: &str) -> PathBuf {
    let entries: String = items
        .iter()
        .map(|(slug, summary)| {
            format!(
                "<item><title>{slug}</title><link>https://www.lequotidien.example.fr/{slug}</link>\
                 <pubDate>{date}</pubDate><description>{summary}</description></item>"
            )
        })
        .collect();
    let feed = s.dir.path().join("feed.xml");
    std::fs::write(
        &feed,
        format!("<rss version=\"2.0\"><channel><title>t</title>{entries}</channel></rss>"),
    )
    .unwrap();
    feed
}

fn night(s: &Store, items: &[(&str, &str)], at: &str, extra: &[&str]) -> (i32, Value) {
    let feed = write_feed(s, items);
    let mut args = vec![
        FR,
        DEMO,
        "--input",
        feed.to_str().unwrap(),
        "--as",
        "le-quotidien",
        "--at",
        at,
        "--fail-on",
        "notice",
    ];
    args.extend_from_slice(extra);
    let (code, report, _) = check(s, &args);
    (code, report)
}

fn finding_id(report: &Value, slug: &str) -> String {
    let url = format!("https://www.lequotidien.example.fr/{slug}");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["url"] == url.as_str())
        .unwrap_or_else(|| panic!("no finding for {slug}: {}", report["findings"]))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn findings_are_new_open_dismissed_reported_again_resolved_and_back() {
    let s = store();
    let x1 = ("x", "Un lecteur cite #MacronLeaks.");
    let y = ("y", "#MacronLeaks : la Commission réagit.");
    let (code, n1) = night(&s, &[x1, y], "2017-05-07T01:00:00Z", &[]);
    assert_eq!((code, n1["state"]["new"].as_u64()), (1, Some(2)));
    let x = finding_id(&n1, "x");

    let r = run(&[
        "review",
        &x,
        "--false-positive",
        "--note",
        "a reader's quote",
        "--reviewer",
        "alice",
        "--state",
        &s.path,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("a false positive"), "{}", r.stdout);
    let r = run(&["review", "000000000000", "--confirm", "--reviewer", "bob", "--state", &s.path]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no finding `000000000000`"), "{}", r.stderr);

    // Same content: dismissed, not reported; the other is open, so nothing is new.
    let (code, n2) = night(&s, &[x1, y], "2017-05-07T02:00:00Z", &["--new-only"]);
    assert_eq!(code, 0, "--new-only: nothing new → 0");
    assert_eq!(n2["findings"].as_array().unwrap().len(), 0);
    assert_eq!(n2["suppressed"][0]["id"], x.as_str());
    assert_eq!(n2["suppressed"][0]["reviewer"], "alice");
    assert_eq!(
        (n2["state"]["open"].as_u64(), n2["state"]["dismissed"].as_u64()),
        (Some(1), Some(1))
    );

    // The content it matched changed: a new version, reported again — as new, so that a
    // nightly `--new-only` tells it.
    let x2 = ("x", "Un lecteur cite #MacronLeaks, et l'article le reprend désormais.");
    let (code, n3) = night(&s, &[x2, y], "2017-05-07T03:00:00Z", &["--new-only"]);
    assert_eq!(code, 1, "--new-only: the changed finding is new → 1");
    assert_eq!(finding_id(&n3, "x"), x);
    assert_eq!(states(&n3), vec![("https://www.lequotidien.example.fr/x".into(), "new".into(), 1)]);
    assert_eq!(n3["suppressed"].as_array().unwrap().len(), 0);

    // Y leaves the feed: resolved, and said why. X, told the night before, is open again.
    let (_, n4) = night(&s, &[x2], "2017-05-07T04:00:00Z", &[]);
    assert_eq!(states(&n4), vec![("https://www.lequotidien.example.fr/x".into(), "open".into(), 1)]);
    let gone = &n4["resolved"][0];
    assert_eq!(
        (gone["key"]["url"].as_str(), gone["resolution"].as_str()),
        (Some("https://www.lequotidien.example.fr/y"), Some("no_longer_listed"))
    );
    assert_eq!((gone["first_run"].as_i64(), gone["last_run"].as_i64()), (Some(1), Some(3)));

    // Y back: new again, from this run.
    let (code, n5) = night(&s, &[x2, y], "2017-05-07T05:00:00Z", &["--new-only"]);
    assert_eq!(code, 1, "--new-only: a new finding → 1");
    assert_eq!(states(&n5), vec![("https://www.lequotidien.example.fr/y".into(), "new".into(), 5)]);

    let findings = state(&s, "findings");
    let reviewed = findings.iter().find(|f| f["id"] == x.as_str()).unwrap();
    assert_eq!(
        (reviewed["review"]["verdict"].as_str(), reviewed["review"]["note"].as_str()),
        (Some("false_positive"), Some("a reader's quote"))
    );
    let table = run(&["state", "findings", "--state", &s.path]).stdout;
    assert!(table.starts_with("finding ") && table.contains("false_positive (alice)"), "{table}");
}

/// `(url slug, verdict, provenance)` of each finding and cleared match of a report.
fn timings(report: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = ["findings", "cleared"]
        .iter()
        .flat_map(|k| report[*k].as_array().unwrap().iter())
        .map(|f| {
            (
                f["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string(),
                f["timing"]["verdict"].as_str().unwrap().to_string(),
                f["timing"]["provenance"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn what_blackout_saw_itself_times_an_item_beside_what_it_says() {
    // Every item says it was published on 4 May at 22:00 in Paris, before every zone's
    // silence. Three hours into the first zones' (5 May 05:00Z) the feed lists `a` and `c`;
    // at noon it lists `b` too, and `c` says something else: both happened inside the window.
    let a = ("a", "#MacronLeaks : la Commission réagit.");
    let b = ("b", "#MacronLeaks : ce que l'on sait.");
    let c1 = ("c", "#MacronLeaks : les faits.");
    let c2 = ("c", "#MacronLeaks : les faits, et ce qu'en dit l'équipe.");
    let night = |s: &Store, items: &[(&str, &str)], at: &str, format: &str| {
        let path = write_feed_dated(s, items, "Thu, 04 May 2017 22:00:00 +0200");
        let args = [
            "check",
            FR,
            DEMO,
            "--input",
            path.to_str().unwrap(),
            "--as",
            "le-quotidien",
            "--at",
            at,
            "--fail-on",
            "notice",
            "--format",
            format,
            "--state",
            &s.path,
        ];
        run(&args)
    };
    let json = |r: crate::util::Run| serde_json::from_str::<Value>(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));

    let s = store();
    let before = json(night(&s, &[a, c1], "2017-05-05T05:00:00Z", "json"));
    assert_eq!(
        timings(&before),
        vec![
            ("a".into(), "before".into(), "feed:pubDate".into()),
            ("c".into(), "before".into(), "feed:pubDate".into())
        ]
    );
    let inside = json(night(&s, &[a, b, c2], "2017-05-05T12:00:00Z", "json"));
    assert_eq!(
        timings(&inside),
        vec![
            ("a".into(), "before".into(), "feed:pubDate".into()),
            ("b".into(), "inside".into(), "observed:first_seen".into()),
            ("c".into(), "changed_inside".into(), "observed:changed".into()),
        ]
    );
    let finding = |slug: &str| {
        inside["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["url"].as_str().unwrap().ends_with(slug))
            .unwrap()
            .clone()
    };
    let b_timing = &finding("/b")["timing"];
    assert_eq!(b_timing["stated"]["raw"], "Thu, 04 May 2017 22:00:00 +0200");
    assert_eq!(
        (b_timing["date"]["earliest"].as_str(), b_timing["date"]["latest"].as_str()),
        (Some("2017-05-05T05:00:00Z"), Some("2017-05-05T12:00:00Z"))
    );
    let b_item = inside["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["url"].as_str().unwrap().ends_with("/b"))
        .unwrap();
    assert_eq!(
        (b_item["first_seen"].as_str(), b_item["absent_at"].as_str()),
        (Some("2017-05-05T12:00:00Z"), Some("2017-05-05T05:00:00Z"))
    );
    assert!(
        b_item["dates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["provenance"] == "observed:first_seen")
    );

    // The next night says the same of `b` (its first sighting is remembered), and the text
    // report says both what the page says and what blackout saw.
    let text = night(&s, &[a, b, c2], "2017-05-05T13:00:00Z", "text").stdout;
    assert!(
        text.contains(
            "inside window `r2-macronleaks` by observation: the feed says 2017-05-04T20:00:00Z (feed:pubDate \"Thu, 04 May 2017 22:00:00 +0200\"); first seen by blackout 2017-05-05T12:00:00Z, absent at 2017-05-05T05:00:00Z"
        ),
        "{text}"
    );
    assert!(text.contains("changed inside window `r2-macronleaks` by observation: its content changed after 2017-05-05T05:00:00Z and by 2017-05-05T12:00:00Z"), "{text}");

    // Without the earlier read, observation proves nothing: the publisher's dates decide.
    let fresh = store();
    let alone = json(night(&fresh, &[a, b, c2], "2017-05-05T12:00:00Z", "json"));
    assert!(
        timings(&alone).iter().all(|(_, v, p)| v == "before" && p == "feed:pubDate"),
        "{:?}",
        timings(&alone)
    );
}

#[test]
fn a_page_seen_to_appear_inside_the_window_is_read_whatever_its_feed_says() {
    // The feed dates `old` and `new` a week before the window, too early for their pages to be
    // worth reading. Read an hour into the metropole's silence it lists `old`; the next morning
    // `new` too: that page is read. A week is too long for a backdating to be told from an old
    // article listed again: `unknown` by observation, a warning for a reviewer.
    let server = Server::start();
    let entry = |slug: &str| {
        format!(
            "<item><title>{slug}</title><link>{}</link><pubDate>Fri, 28 Apr 2017 10:00:00 +0200</pubDate></item>",
            server.url(&format!("/n/{slug}"))
        )
    };
    let feed = |slugs: &[&str]| {
        let items: String = slugs.iter().map(|s| entry(s)).collect();
        ResponseTemplate::new(200).set_body_raw(
            format!("<rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>"),
            "application/rss+xml",
        )
    };
    server.serve_times("/feed.xml", feed(&["old"]), 1);
    server.serve("/feed.xml", feed(&["old", "new"]));
    let page = "<html><head><title>Les documents</title></head><body><article><h1>Les documents</h1>\
                <p>Ce que révèlent les fichiers #MacronLeaks, selon notre lecture de ce vendredi soir et de ce samedi.</p>\
                </article></body></html>";
    server.serve_matching(
        r"^/n/\w+$",
        ResponseTemplate::new(200).set_body_raw(page, "text/html; charset=utf-8"),
    );
    let (_dir, sources) = sources_reading(server.url("/feed.xml").as_str());
    let nightly = |s: &Store, at: &str| {
        let args = [FR, sources.to_str().unwrap(), "--no-cache", "--at", at, "--fail-on", "notice"];
        check(s, &args).1
    };
    let s = store();
    nightly(&s, "2017-05-05T23:00:00Z");
    assert_eq!((server.hits("/n/old"), server.hits("/n/new")), (0, 0));
    let report = nightly(&s, "2017-05-06T09:00:00Z");
    assert_eq!((server.hits("/n/old"), server.hits("/n/new")), (0, 1));
    assert_eq!(
        timings(&report),
        vec![("new".into(), "unknown".into(), "observed:first_seen".into())],
        "{report:#}"
    );
    assert_eq!(
        report["findings"][0]["spans"][0]["scope"], "body",
        "found on the page, not in the feed"
    );
}

#[test]
fn an_entry_read_again_unchanged_before_the_window_is_not_fetched_again() {
    // `p`, `q` and `r` say 4 May 20:00Z: before every zone's window, within the 12 h margin of
    // the first (their pages may show an update inside). `r`'s page gives only a day, which
    // may be inside: a finding (a warning), open.
    let server = Server::start();
    let entry = |slug: &str, summary: &str| {
        format!(
            "<item><title>{slug}</title><link>{}</link><pubDate>Thu, 04 May 2017 20:00:00 +0000</pubDate>\
             <description>{summary}</description></item>",
            server.url(&format!("/n/{slug}"))
        )
    };
    let feed = |q: &str| {
        let items = [entry("p", "Le point."), entry("q", q), entry("r", "La réaction.")].concat();
        ResponseTemplate::new(200).set_body_raw(
            format!("<rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>"),
            "application/rss+xml",
        )
    };
    server.serve_times("/feed.xml", feed("Le fait."), 2);
    server.serve("/feed.xml", feed("Le fait, et sa suite."));
    let page = |meta: &str| {
        format!(
            "<html><head><title>Article</title>{meta}</head>\
             <body><article><h1>Article</h1><p>Ce que l'on sait des documents publiés sous le mot-dièse #MacronLeaks, \
             et ce qu'en dit la Commission nationale de contrôle de la campagne.</p></article></body></html>"
        )
    };
    let modified = "<meta property=\"article:modified_time\" content=\"2017-05-04T20:00:00Z\">";
    // (A day without a zone: the source names none, so it may be any day from 3 to 5 May UTC.)
    let day = "<meta property=\"article:published_time\" content=\"2017-05-04\">";
    for (slug, meta) in [("p", modified), ("q", modified), ("r", day)] {
        server.serve(
            &format!("/n/{slug}"),
            ResponseTemplate::new(200).set_body_raw(page(meta), "text/html; charset=utf-8"),
        );
    }
    let s = store();
    let sources = s.dir.path().join("sources.toml");
    let feed_url = server.url("/feed.xml");
    std::fs::write(
        &sources,
        format!("schema = 1\n[[source]]\nid = \"lq\"\nfeed = \"{feed_url}\"\naudience = \"all\"\n"),
    )
    .unwrap();
    let nightly = |at: &str| {
        check(
            &s,
            &[FR, sources.to_str().unwrap(), "--no-cache", "--at", at, "--fail-on", "notice"],
        )
        .1
    };
    let hits = || ["p", "q", "r"].map(|slug| server.hits(&format!("/n/{slug}")));

    // Runs before any window opens.
    let first = nightly("2017-05-04T21:00:00Z");
    assert_eq!(hits(), [1, 1, 1]);
    assert_eq!(states(&first).len(), 1, "r is found: {:#}", first["findings"]);
    // The same entries: `p` and `q` are not read again; `r`, whose finding is open, is.
    let second = nightly("2017-05-04T22:00:00Z");
    assert_eq!(hits(), [1, 1, 2]);
    assert_eq!(second["sources"][0]["feed_only"]["unchanged"], 2, "{:#}", second["sources"]);
    assert_eq!(states(&second).len(), 1, "r stays open: {:?}", states(&second));
    assert_eq!(second["resolved"].as_array().unwrap().len(), 0);
    // `q`'s entry says something new: its page is read again.
    nightly("2017-05-04T23:00:00Z");
    assert_eq!(hits(), [1, 2, 3]);
    // After the windows: `p` was last read before they opened, and may have been edited inside
    // them without its entry changing: read again, once.
    nightly("2017-05-08T12:00:00Z");
    assert_eq!(hits(), [2, 3, 4]);
    nightly("2017-05-08T13:00:00Z");
    assert_eq!(hits()[..2], [2, 3]);
}

#[test]
fn the_store_keeps_what_was_fetched_for_conditional_get() {
    use wiremock::Mock;
    use wiremock::matchers::{header, path};
    let server = Server::start();
    let feed = format!(
        "<rss version=\"2.0\"><channel><title>t</title><item><title>a</title><link>{}</link>\
         <pubDate>Sat, 06 May 2017 10:00:00 +0200</pubDate></item></channel></rss>",
        server.url("/n/a")
    );
    let page = "<html><body><article><p>Un article ordinaire, sans rien de la fuite, publié samedi.</p></article></body></html>";
    for (route, etag, body, kind) in [
        ("/feed.xml", "\"f1\"", feed.as_str(), "application/rss+xml"),
        ("/n/a", "\"a1\"", page, "text/html"),
    ] {
        server.runtime.block_on(
            Mock::given(path(route))
                .and(header("if-none-match", etag))
                .respond_with(ResponseTemplate::new(304))
                .with_priority(1)
                .mount(&server.mock),
        );
        server.serve(
            route,
            ResponseTemplate::new(200).insert_header("etag", etag).set_body_raw(body, kind),
        );
    }
    let (_dir, sources) = sources_reading(server.url("/feed.xml").as_str());
    let s = store();
    let nightly = |extra: &[&str]| {
        let mut args = vec![FR, sources.to_str().unwrap(), "--at", "2017-05-06T12:00:00Z"];
        args.extend_from_slice(extra);
        check(&s, &args).1["sources"][0].clone()
    };
    let conditional = || {
        let requests = server.runtime.block_on(server.mock.received_requests()).unwrap();
        requests.iter().filter(|r| r.headers.contains_key("if-none-match")).count()
    };
    let first = nightly(&[]);
    assert_eq!((first["documents"].as_u64(), first["cached"].as_u64()), (Some(2), Some(0)));
    let bodies = Path::new(&format!("{}.bodies", s.path)).to_path_buf();
    let blobs = blackout::store::Blobs::new(bodies.clone());
    let db = rusqlite::Connection::open(&s.path).unwrap();
    let documents: Vec<String> = db
        .prepare("SELECT digest FROM documents ORDER BY url")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(documents.len(), 2);
    for d in &documents {
        let d = blackout::model::Digest::from_hex(d).unwrap();
        assert!(blobs.get(&d).is_ok(), "a body per document, named by its digest: {d}");
    }
    // The second night asks "changed since?" and reads both from the store (and keeps every
    // capture: by default, a night that saw nothing new and no window open keeps none).
    let second = nightly(&["--keep-captures", "all"]);
    assert_eq!((second["cached"].as_u64(), conditional()), (Some(2), 2), "{second:#}");
    // Each night's documents are captured as evidence: the first fetched whole, the second's
    // revisits answered 304, each with its exchange and the server's address.
    let captures: Vec<(i64, String, String)> = db
        .prepare("SELECT run, body, record FROM captures WHERE url NOT LIKE '%/robots.txt' ORDER BY run, url")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(captures.len(), 4, "{captures:?}");
    for (run, body, record) in &captures {
        let record: serde_json::Value = serde_json::from_str(record).unwrap();
        let status = if *run == 1 { 200 } else { 304 };
        assert_eq!(
            (record["revisit"].as_bool(), record["exchanges"][0]["status"].as_i64()),
            (Some(*run == 2), Some(status)),
            "{record}"
        );
        assert_eq!(record["exchanges"][0]["peer"], "127.0.0.1");
        assert!(documents.contains(body), "the body of {body} is the document's");
    }
    // The site has no robots.txt: that was captured too, as a failed fetch, each night.
    let robots: Vec<String> = db
        .prepare("SELECT record FROM captures WHERE url LIKE '%/robots.txt' AND body IS NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(robots.len(), 2, "{robots:?}");
    // With what the server answered: a 404, its headers, its address.
    let robots: Value = serde_json::from_str(&robots[0]).unwrap();
    assert_eq!(robots["failed"]["stage"], "status", "{robots}");
    assert_eq!(robots["status"], 404, "{robots}");
    assert_eq!(robots["exchanges"][0]["status"], 404, "{robots}");
    assert_eq!(robots["exchanges"][0]["method"], "GET", "{robots}");
    assert_eq!(robots["exchanges"][0]["peer"], "127.0.0.1", "{robots}");
    // Each night exported alone: the second night's file carries the bodies its 304s confirmed.
    // Verified alone and together, they hold (a body both files carry is not a record added).
    let dir = tempfile::tempdir().unwrap();
    let nights: Vec<String> = (1..=2)
        .map(|n| {
            let file = dir.path().join(format!("night-{n}.warc.gz")).display().to_string();
            let r = run(&["evidence", "export", "--run", &n.to_string(), "--state", &s.path, "-o", &file]);
            assert_eq!(r.code, 0, "{}", r.stderr);
            file
        })
        .collect();
    for files in [vec![&nights[0]], vec![&nights[1]], vec![&nights[0], &nights[1]]] {
        let mut args = vec!["evidence", "verify"];
        args.extend(files.iter().map(|f| f.as_str()));
        let r = run(&args);
        assert_eq!(r.code, 0, "{files:?}: {}{}", r.stdout, r.stderr);
    }
    // `--no-cache` asks nothing; its page is the same as before, fetched outside any window:
    // by default its capture is not kept (the feed's and robots.txt's are: a replay needs the
    // way to every item).
    nightly(&["--no-cache"]);
    assert_eq!(conditional(), 2);
    let third: Vec<String> = db
        .prepare("SELECT url FROM captures WHERE run = 3 ORDER BY url")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(third.len(), 2, "{third:?}");
    assert!(third.iter().all(|u| !u.ends_with("/n/a")), "{third:?}");
    // A damaged body is never used: it fails its digest after the 304 and the document is
    // fetched whole, and kept again.
    let page_body = blobs.file(&blackout::model::Digest::of(page.as_bytes()));
    for damage in [b"cut".to_vec(), vec![b'x'; page.len()]] {
        std::fs::write(&page_body, damage).unwrap();
        let night = nightly(&[]);
        assert_eq!(
            (night["failed"].as_u64(), night["cached"].as_u64()),
            (Some(0), Some(1)),
            "{night:#}"
        );
        assert_eq!(blobs.get(&blackout::model::Digest::of(page.as_bytes())).unwrap(), page.as_bytes());
    }
    // Prune sweeps blobs nothing names, and keeps those the runs left name.
    let orphan = bodies.join("00").join("0".repeat(64));
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, b"orphan").unwrap();
    // A run under way writes its blobs before its rows: only a day-old orphan is swept.
    let fresh = bodies.join("00").join("1".repeat(64));
    std::fs::write(&fresh, b"a run's, under way").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&orphan)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400))
        .unwrap();
    let before = walk(&bodies).len();
    let r = run(&["state", "prune", "--before", "2000-01-01", "--state", &s.path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!orphan.exists());
    assert!(fresh.exists());
    assert_eq!(walk(&bodies).len(), before - 1);
    assert!(page_body.exists());
}

/// The files under a directory, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match e.path().is_dir() {
            true => out.extend(walk(&e.path())),
            false => out.push(e.path()),
        }
    }
    out
}

#[test]
fn a_page_that_fails_one_night_does_not_resolve_what_was_found_on_it() {
    let server = Server::start();
    let feed = format!(
        "<rss version=\"2.0\"><channel><title>t</title><item><title>x</title><link>{}</link>\
         <pubDate>Sat, 06 May 2017 10:00:00 +0200</pubDate><description>#MacronLeaks : un article.</description></item></channel></rss>",
        server.url("/n/x")
    );
    server.serve("/feed.xml", ResponseTemplate::new(200).set_body_raw(feed, "application/rss+xml"));
    let page = "<html><body><article><p>Ce que l'on sait des documents publiés sous le mot-dièse #MacronLeaks, \
                et ce qu'en dit la Commission nationale de contrôle de la campagne.</p></article></body></html>";
    let ok = || ResponseTemplate::new(200).set_body_raw(page, "text/html; charset=utf-8");
    server.serve_times("/n/x", ok(), 1);
    server.serve_times("/n/x", ResponseTemplate::new(500), 1);
    server.serve("/n/x", ok());
    let (_dir, sources) = sources_reading(server.url("/feed.xml").as_str());
    let s = store();
    let nightly = |at: &str, extra: &[&str]| {
        let mut args = vec![
            FR,
            sources.to_str().unwrap(),
            "--no-cache",
            "--retries",
            "0",
            "--at",
            at,
            "--fail-on",
            "notice",
        ];
        args.extend_from_slice(extra);
        check(&s, &args)
    };
    let (_, first, _) = nightly("2017-05-06T12:00:00Z", &[]);
    assert_eq!(states(&first).len(), 1, "found on the page: {:#}", first["findings"]);
    // The page fails: judged on its feed entry alone (which matches too); what the page showed
    // was not seen, so the finding is neither resolved nor changed.
    let (_, second, _) = nightly("2017-05-06T13:00:00Z", &[]);
    assert_eq!(states(&second).iter().map(|s| s.1.as_str()).collect::<Vec<_>>(), vec!["open"]);
    assert_eq!(second["resolved"].as_array().unwrap().len(), 0, "{:#}", second["resolved"]);
    // Back: open, not new.
    let (code, third, _) = nightly("2017-05-06T14:00:00Z", &["--new-only"]);
    assert_eq!((code, third["state"]["open"].as_u64()), (0, Some(1)), "{:#}", third["state"]);

    // Dismissed, then the page fails again: the feed's text, which still matches, is no sign
    // of a change, so it stays dismissed — that night and the next, when the page is back.
    let id = first["findings"][0]["id"].as_str().unwrap().to_string();
    let r = run(&["review", &id, "--false-positive", "--reviewer", "alice", "--state", &s.path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // (Ahead of the mocks already mounted for the page, once.)
    server.runtime.block_on(
        wiremock::Mock::given(wiremock::matchers::path("/n/x"))
            .respond_with(ResponseTemplate::new(500))
            .with_priority(1)
            .up_to_n_times(1)
            .mount(&server.mock),
    );
    for (at, fails) in [("2017-05-06T15:00:00Z", true), ("2017-05-06T16:00:00Z", false)] {
        let (code, night, _) = nightly(at, &["--new-only"]);
        assert_eq!(code, 0, "{at}: {:#}", night["findings"]);
        let failed = night["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["url"].as_str().unwrap().ends_with("/n/x"));
        assert_eq!(failed, fails, "{at}: {:#}", night["problems"]);
        assert_eq!(night["state"]["new"].as_u64(), Some(0), "{at}");
        assert_eq!(night["resolved"].as_array().unwrap().len(), 0, "{at}");
        assert_eq!(night["suppressed"].as_array().unwrap().len(), 1, "{at}: {:#}", night["suppressed"]);
    }
}

#[test]
fn a_source_that_keeps_failing_is_reported_failing_since_and_its_findings_stay_open() {
    let s = store();
    let feed = write_feed(&s, &[("y", "#MacronLeaks : la Commission réagit.")]);
    let (_dir, sources) = sources_reading(feed.to_str().unwrap());
    let nightly = |at: &str, extra: &[&str]| {
        run(&[
            &[
                "check",
                FR,
                sources.to_str().unwrap(),
                "--state",
                &s.path,
                "--at",
                at,
                "--fail-on",
                "notice",
            ],
            extra,
        ]
        .concat())
    };
    assert_eq!(nightly("2017-05-07T01:00:00Z", &[]).code, 1);
    std::fs::remove_file(&feed).unwrap();
    let r = nightly("2017-05-07T02:00:00Z", &["--new-only", "-q"]);
    assert_eq!(r.code, 2, "nothing could be read");
    assert!(r.stdout.contains("NOT CHECKED"), "said the night it began: {}", r.stdout);
    let r = nightly("2017-05-07T03:00:00Z", &[]);
    assert!(
        r.stdout
            .contains("not checked whole since run 2 (2017-05-07T02:00Z); last checked whole in run 1 (2017-05-07T01:00Z)"),
        "{}",
        r.stdout
    );
    // With --new-only, said once: not again the next night (the exit status still says it).
    let r = nightly("2017-05-07T04:00:00Z", &["--new-only", "-q"]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{}", r.stderr);
    // Not read is not gone: the finding stays where it was.
    let findings = state(&s, "findings");
    assert_eq!(findings[0]["status"], "new");
    let sources = state(&s, "sources");
    assert_eq!(
        (sources[0]["failing_since"].as_i64(), sources[0]["last_checked"].as_i64()),
        (Some(2), Some(1)),
        "{sources:?}"
    );
    let table = run(&["state", "sources", "--state", &s.path]).stdout;
    assert!(
        table.contains("lq") && table.contains("run 2") && table.contains("run 1"),
        "{table}"
    );
}

/// A sources file of one outlet, `lq`, national, reading this feed.
pub(crate) fn sources_reading(feed: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources.toml");
    let text = format!("schema = 1\n[[source]]\nid = \"lq\"\nfeed = \"{feed}\"\naudience = \"all\"\ntz = \"Europe/Paris\"\n");
    std::fs::write(&sources, text).unwrap();
    (dir, sources)
}

/// A loopback outlet whose feed answers after `delay`.
pub(crate) fn slow_outlet(delay: Duration) -> (Server, tempfile::TempDir, PathBuf) {
    let server = Server::start();
    let feed = "<rss version=\"2.0\"><channel><title>t</title><item><title>a</title>\
                <pubDate>Sat, 06 May 2017 10:00:00 +0200</pubDate><description>#MacronLeaks</description></item></channel></rss>";
    server.serve(
        "/feed.xml",
        ResponseTemplate::new(200)
            .set_body_raw(feed, "application/rss+xml")
            .set_delay(delay),
    );
    let (dir, sources) = sources_reading(server.url("/feed.xml").as_str());
    (server, dir, sources)
}

#[test]
fn an_overlapping_run_waits_then_names_the_holder_and_a_killed_holder_is_taken_over() {
    let (_server, _dir, sources) = slow_outlet(Duration::from_secs(30));
    let s = store();
    let args = [
        "check",
        FR,
        sources.to_str().unwrap(),
        "--state",
        &s.path,
        "--no-cache",
        "-q",
        "--timeout",
        "60",
    ];
    let mut holder = blackout_process().args(args).spawn().unwrap();
    wait_for_lock(&s.path);
    let waited = std::time::Instant::now();
    let r = run(&[&args[..], &["--lock-timeout", "1"]].concat());
    assert!(waited.elapsed() >= Duration::from_secs(1));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("is in use by process {} on `", holder.id())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("`--lock-timeout` waits longer"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing fetched, nothing reported");

    holder.kill().unwrap();
    holder.wait().unwrap();
    let r = run(&["check", FR, DEMO, "--state", &s.path, "-q", "--lock-timeout", "0"]);
    assert!(
        r.stderr.contains(&format!("took over the lock of process {}", holder.id())),
        "{}",
        r.stderr
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// `blackout watch` over the slow outlet, replaying the Saturday of the second round.
fn watch(s: &Store, sources: &Path, at: &str) -> std::process::Child {
    blackout_process()
        .args([
            "watch",
            FR,
            sources.to_str().unwrap(),
            "--state",
            &s.path,
            "--no-cache",
            "-q",
            "--every",
            "1s",
            "--at",
            at,
            "--timeout",
            "60",
            "--format",
            "jsonl",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for a child to end, at most `limit`: its exit code, stdout, stderr, and how long.
fn ended(child: std::process::Child, limit: Duration) -> (i32, String, String, Duration) {
    let started = std::time::Instant::now();
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output().unwrap()));
    let out = rx.recv_timeout(limit).unwrap_or_else(|_| {
        let _ = std::process::Command::new("kill").args(["-KILL", &id.to_string()]).status();
        panic!("still running after {limit:?}")
    });
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
        started.elapsed(),
    )
}

fn runs_recorded(s: &Store) -> Vec<Value> {
    if !Path::new(&s.path).exists() {
        return Vec::new();
    }
    state(s, "runs")
}

#[test]
fn watch_runs_while_a_window_is_open_and_a_signal_lets_the_run_finish() {
    // The feed answers in 3 s; the signal comes 1 s into the first run.
    let (_server, _dir, sources) = slow_outlet(Duration::from_secs(3));
    let s = store();
    let child = watch(&s, &sources, "2017-05-06T10:00:00Z");
    wait_for_lock(&s.path);
    std::thread::sleep(Duration::from_secs(1));
    signal(&child);
    let (code, stdout, stderr, _) = ended(child, Duration::from_secs(30));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("watch: stopped by a signal after 1 run(s)"), "{stderr}");
    assert!(stdout.contains("\"type\":\"summary\""), "the run's report is printed: {stdout}");
    let runs = runs_recorded(&s);
    assert_eq!(runs.len(), 1, "the run under way finished and was recorded: {runs:?}");
    assert_eq!(runs[0]["evaluated_at"], "2017-05-06T10:00:00Z");
}

#[test]
fn watch_checks_every_interval_and_a_second_signal_aborts_the_run_unrecorded() {
    let (_server, _dir, sources) = slow_outlet(Duration::from_millis(100));
    let s = store();
    let child = watch(&s, &sources, "2017-05-06T10:00:00Z");
    let started = std::time::Instant::now();
    while runs_recorded(&s).len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(30), "two runs within 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    signal(&child);
    let (code, _, stderr, _) = ended(child, Duration::from_secs(30));
    assert_eq!(code, 0, "{stderr}");
    let runs = runs_recorded(&s);
    let at: Vec<&str> = runs.iter().map(|r| r["evaluated_at"].as_str().unwrap()).collect();
    assert!(
        at.len() >= 2 && at.windows(2).all(|w| w[0] != w[1]),
        "each run at its own instant: {at:?}"
    );

    // A run that hangs: the first signal waits for it, the second ends it, and the store keeps
    // nothing of it.
    let (_server, _dir, sources) = slow_outlet(Duration::from_secs(60));
    let s = store();
    let child = watch(&s, &sources, "2017-05-06T10:00:00Z");
    wait_for_lock(&s.path);
    signal(&child);
    std::thread::sleep(Duration::from_millis(300));
    signal(&child);
    let (code, _, stderr, took) = ended(child, Duration::from_secs(30));
    assert_eq!(code, 0, "{stderr}");
    assert!(took < Duration::from_secs(10), "aborted at once, not after the 60 s feed: {took:?}");
    assert!(runs_recorded(&s).is_empty());
    let r = run(&["state", "check", "--state", &s.path]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn watch_sleeps_until_the_next_window_and_says_when_and_stops_when_none_is_left() {
    let (_server, _dir, sources) = slow_outlet(Duration::from_millis(10));
    let s = store();
    let mut child = watch(&s, &sources, "2017-03-01T00:00:00Z");
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut said).unwrap();
    signal(&child);
    let (code, _, _, took) = ended(child, Duration::from_secs(10));
    std::io::Read::read_to_string(&mut stderr, &mut said).unwrap();
    assert_eq!(code, 0, "{said}");
    assert!(took < Duration::from_secs(5), "a signal wakes it: {took:?}");
    assert!(
        said.contains("watch: no window open at 2017-03-01T00:00:00Z; sleeping until 2017-"),
        "{said}"
    );
    assert!(runs_recorded(&s).is_empty());

    let r = run(&[
        "watch",
        FR,
        sources.to_str().unwrap(),
        "--state",
        &s.path,
        "--at",
        "2018-01-01T00:00:00Z",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("nothing left to watch"), "{}", r.stderr);
    // A store that cannot be used stops the watch before its first run.
    let r = run(&["watch", FR, "--state", "/proc/blackout/state.db", "--at", "2017-05-06T10:00:00Z"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot create the directory of the state store"), "{}", r.stderr);
    let r = run(&["watch", FR, "--every", "15", "--no-state"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("`15` needs a unit: `15s`, `15m` or `15h`"), "{}", r.stderr);
}

/// Kills runs at random points over a loopback outlet, then runs to the end: every finding is
/// in the store once, none was reported new twice, and the store is sound.
#[test]
fn runs_killed_at_random_points_lose_nothing_and_double_nothing() {
    const ITEMS: usize = 400;
    let server = Server::start();
    let base = server.url("/n/");
    let entries: String = (0..ITEMS)
        .map(|i| {
            format!(
                "<item><title>n{i}</title><link>{base}{i}</link>\
                 <pubDate>Sat, 06 May 2017 10:00:00 +0200</pubDate><description>Article {i}</description></item>"
            )
        })
        .collect();
    server.serve(
        "/feed.xml",
        ResponseTemplate::new(200).set_body_raw(
            format!("<rss version=\"2.0\"><channel><title>t</title>{entries}</channel></rss>"),
            "application/rss+xml",
        ),
    );
    let page = "<html><head><title>Article</title><meta property=\"article:published_time\" content=\"2017-05-06T10:00:00+02:00\"></head>\
                <body><article><h1>Article</h1><p>Ce que l'on sait des documents publiés sous le mot-dièse #MacronLeaks, \
                et ce que la Commission demande aux médias pendant la période de réserve.</p></article></body></html>";
    server.serve_matching(
        r"^/n/\d+$",
        ResponseTemplate::new(200).set_body_raw(page, "text/html; charset=utf-8"),
    );
    let (_dir, sources) = sources_reading(server.url("/feed.xml").as_str());
    let s = store();
    let args = [
        "check",
        FR,
        sources.to_str().unwrap(),
        "--state",
        &s.path,
        "--no-cache",
        "-q",
        "--format",
        "json",
        "--per-host",
        "8",
        "--lock-timeout",
        "30",
        "--fail-on",
        "notice",
    ];
    let timed = std::time::Instant::now();
    let probe = s.dir.path().join("probe.db");
    let r = run(&[
        "check",
        FR,
        sources.to_str().unwrap(),
        "--state",
        probe.to_str().unwrap(),
        "--no-cache",
        "-q",
        "--format",
        "json",
        "--per-host",
        "8",
    ]);
    let whole = timed.elapsed();
    let probe: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(probe["findings"].as_array().unwrap().len(), ITEMS, "{}", r.stderr);

    // 30 kills at pseudo-random delays over the span of a whole run (a fixed seed: a failure
    // can be replayed).
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut new_seen = std::collections::HashMap::<String, usize>::new();
    for _ in 0..30 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let delay = whole.mul_f64((seed >> 11) as f64 / (1u64 << 53) as f64 * 1.2);
        let mut child = blackout_process()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        // A run that finished before the kill printed its report: count what it called new.
        if let Ok(report) = serde_json::from_slice::<Value>(&out.stdout) {
            for f in report["findings"].as_array().unwrap() {
                if f["state"] == "new" {
                    *new_seen.entry(f["id"].as_str().unwrap().to_string()).or_default() += 1;
                }
            }
        }
    }
    let completed = |args: &[&str]| {
        let r = run(args);
        (r.code, serde_json::from_str::<Value>(&r.stdout).unwrap())
    };
    let (code, last) = completed(&args);
    assert_eq!(code, 1);
    for f in last["findings"].as_array().unwrap() {
        if f["state"] == "new" {
            *new_seen.entry(f["id"].as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    assert_eq!(last["findings"].as_array().unwrap().len(), ITEMS, "no finding lost");
    assert!(new_seen.values().all(|n| *n == 1), "a finding reported new twice: {new_seen:?}");
    let (_, again) = completed(&args);
    assert_eq!(
        (again["state"]["new"].as_u64(), again["state"]["open"].as_u64()),
        (Some(0), Some(ITEMS as u64))
    );
    let findings = state(&s, "findings");
    assert_eq!(findings.len(), ITEMS, "each finding stored once");
    let recorded = state(&s, "runs").len() - 2;
    eprintln!(
        "30 runs killed after up to {:.0} ms: {recorded} had committed, {} had not",
        whole.as_secs_f64() * 1200.0,
        30 - recorded
    );
    assert!(recorded < 30, "no kill landed before a commit: the delays are too long");
    // Every recorded run finished: a run is in the store whole or not at all.
    assert!(state(&s, "runs").iter().all(|r| r["outcome"].is_string()));
    let r = run(&["state", "check", "--state", &s.path]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("integrity: ok"), "{}", r.stdout);
}

/// A snapshot of what a store holds, to show it unchanged.
fn snapshot(s: &Store) -> String {
    ["runs", "sources", "findings", "items"]
        .iter()
        .map(|k| serde_json::to_string(&state(s, k)).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The error and the report of a run whose store cannot take it.
fn assert_unrecorded(r: &crate::util::Run, store: &str, rule: &str) {
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.contains(rule), "the report is still printed: {}", r.stdout);
    assert!(
        r.stderr.contains("the run was not recorded") && r.stderr.contains(store),
        "{}",
        r.stderr
    );
}

#[test]
fn a_read_only_store_costs_the_record_not_the_report() {
    let s = store();
    assert_eq!(run(&["check", FR, DEMO, "--state", &s.path, "-q"]).code, 1);
    let before = snapshot(&s);
    let guard = ReadOnly::make(Path::new(&s.path));
    let Some(_guard) = guard else {
        eprintln!("skipped: cannot make a file read-only for this user here (root without chattr)");
        return;
    };
    let r = run(&["check", FR, DEMO, "--state", &s.path]);
    assert_unrecorded(&r, &s.path, "macronleaks-content");
    assert!(r.stderr.contains("is read-only"), "{}", r.stderr);
    drop(_guard);
    assert_eq!(snapshot(&s), before);
}

/// A file made read-only for this user until dropped: by its mode, or for root (whom modes
/// do not stop) by the immutable attribute.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn make(path: &Path) -> Option<ReadOnly> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).ok()?;
        let root = run_tool("id", &["-u"]).is_some_and(|o| o.trim() == "0");
        if root && run_tool("chattr", &["+i", path.to_str()?]).is_none() {
            return None;
        }
        Some(ReadOnly(path.to_path_buf()))
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        let _ = run_tool("chattr", &["-i", self.0.to_str().unwrap()]);
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o644));
    }
}

fn run_tool(tool: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(tool).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Disk full: the store's file system fills up while a run fetches (a small tmpfs, where this
/// user may mount one; else a file size limit, `RLIMIT_FSIZE`, set on the running process,
/// under which writes fail as on a full disk).
#[test]
fn a_full_disk_costs_the_record_not_the_report_and_leaves_the_store_as_it_was() {
    let s = store();
    let mount = s.dir.path().join("small");
    std::fs::create_dir(&mount).unwrap();
    let tmpfs = run_tool("mount", &["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount.to_str().unwrap()]).is_some();
    let _unmount = Unmount(tmpfs.then(|| mount.clone()));
    if !tmpfs {
        eprintln!("note: cannot mount a tmpfs here; a file size limit stands for the full disk");
    }
    // Its own directory is unused: the store lives on the small file system.
    let on = Store {
        dir: tempfile::tempdir().unwrap(),
        path: mount.join("state.db").to_str().unwrap().to_string(),
    };
    assert_eq!(run(&["check", FR, DEMO, "--state", &on.path, "-q"]).code, 1);
    let before = snapshot(&on);

    let (_server, _dir, sources) = slow_outlet(Duration::from_secs(2));
    let mut cmd = blackout_process();
    cmd.args([
        "check",
        FR,
        sources.to_str().unwrap(),
        "--state",
        &on.path,
        "--no-cache",
        "--fail-on",
        "notice",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    // SAFETY: only async-signal-safe calls between fork and exec. Past a file size limit a
    // write fails (EFBIG) instead of killing the process.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    wait_for_lock(&on.path);
    if tmpfs {
        let mut f = std::fs::File::create(mount.join("filler")).unwrap();
        while std::io::Write::write_all(&mut f, &[0u8; 4096]).is_ok() {}
    } else {
        let limit = libc::rlimit { rlim_cur: 1, rlim_max: 1 };
        // SAFETY: a plain system call on our own child, with a valid limit.
        let ok = unsafe { libc::prlimit(child.id() as libc::pid_t, libc::RLIMIT_FSIZE, &limit, std::ptr::null_mut()) };
        assert_eq!(ok, 0, "prlimit: {}", std::io::Error::last_os_error());
    }
    let out = child.wait_with_output().unwrap();
    let r = crate::util::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_unrecorded(&r, &on.path, "macronleaks-mention");
    let _ = std::fs::remove_file(mount.join("filler"));
    assert_eq!(snapshot(&on), before, "the store is as it was");
    let r = run(&["state", "check", "--state", &on.path]);
    assert!(r.stdout.contains("integrity: ok"), "{}{}", r.stdout, r.stderr);
}

/// Waits until a run holds the store's lock (it wrote its name in the lock file).
fn wait_for_lock(store: &str) {
    let lock = format!("{store}.lock");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&lock).map_or(true, |l| l.is_empty()) {
        assert!(started.elapsed() < Duration::from_secs(20), "the run never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Unmount(Option<PathBuf>);

impl Drop for Unmount {
    fn drop(&mut self) {
        if let Some(m) = &self.0 {
            let _ = run_tool("umount", &[m.to_str().unwrap()]);
        }
    }
}

#[test]
fn the_state_commands_look_inside_check_and_prune() {
    let s = store();
    let r = run(&["state", "runs", "--state", &s.path]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no state store at") && !Path::new(&s.path).exists(),
        "a typo creates nothing: {}",
        r.stderr
    );
    check(&s, &[FR, DEMO, "--at", "2017-05-07T01:00:00Z"]);
    check(&s, &[FR, DEMO, "--at", "2017-06-01T01:00:00Z"]);
    let findings = state(&s, "findings").len();
    let runs = run(&["state", "runs", "--state", &s.path]).stdout;
    assert!(runs.starts_with("run  evaluated at"), "{runs}");
    assert_eq!(runs.lines().count(), 3, "{runs}");
    assert_eq!(state(&s, "items").len(), 8);
    let r = run(&["state", "items", "--source", "le-veilleur-be", "--json", "--state", &s.path]);
    assert_eq!(serde_json::from_str::<Value>(&r.stdout).unwrap().as_array().unwrap().len(), 1);
    let r = run(&["state", "check", "--state", &s.path]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("schema version") && r.stdout.contains("integrity: ok"),
        "{}",
        r.stdout
    );
    // A finding last reported in run 1 (resolved since) keeps run 1: it is its evidence.
    let last_runs: Vec<i64> = state(&s, "findings").iter().map(|f| f["last_run"].as_i64().unwrap()).collect();
    assert!(last_runs.contains(&1), "{last_runs:?}");
    let r = run(&["state", "prune", "--before", "2017-05-08", "--state", &s.path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("pruned 0 run(s)"), "{}", r.stdout);
    assert!(r.stdout.contains("kept run 1 and the runs after it: finding"), "{}", r.stdout);
    assert_eq!(state(&s, "runs").len(), 2);
    assert_eq!(state(&s, "findings").len(), findings, "findings are kept");
    let id = state(&s, "findings").into_iter().find(|f| f["last_run"] == 1).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b.zip").display().to_string();
    let r = run(&["evidence", "bundle", &id, "-o", &bundle, "--state", &s.path]);
    assert_eq!(r.code, 0, "its evidence is still there: {}", r.stderr);

    // A store whose runs found nothing: every run pruned, the next is run 3, never a second
    // run 1 ("since run 1" keeps meaning the first run).
    let quiet = store();
    let page = dir.path().join("page.html");
    std::fs::write(
        &page,
        "<html><body><article><p>Un article sans rapport avec la fuite, publié samedi.</p></article></body></html>",
    )
    .unwrap();
    for at in ["2017-05-07T01:00:00Z", "2017-06-01T01:00:00Z"] {
        let (code, _, stderr) = check(&quiet, &[FR, "--input", page.to_str().unwrap(), "--at", at]);
        assert_eq!(code, 0, "{stderr}");
    }
    let r = run(&["state", "prune", "--before", "2030-01-01", "--state", &quiet.path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("pruned 2 run(s)"), "{}", r.stdout);
    let (_, next, _) = check(&quiet, &[FR, "--input", page.to_str().unwrap(), "--at", "2017-06-02T01:00:00Z"]);
    assert_eq!(next["state"]["run"].as_i64(), Some(3));
}

#[test]
fn a_night_run_before_the_latest_recorded_one_says_so() {
    let s = store();
    let (_, _, stderr) = check(&s, &[FR, DEMO, "--at", "2017-05-08T22:00:00Z"]);
    assert!(!stderr.contains("before run"), "{stderr}");
    let (_, second, stderr) = check(&s, &[FR, DEMO, "--at", "2017-05-06T22:00:00Z"]);
    assert!(
        stderr.contains("note: this run is evaluated as of 2017-05-06T22:00:00Z, before run 1 (as of 2017-05-08T22:00:00Z)"),
        "{stderr}"
    );
    assert_eq!(second["state"]["run"].as_i64(), Some(2), "recorded all the same");
}
