//! Evidence files checked by a third party's reader: WARC written by blackout, read by warcio
//! (`warcio check` recomputes every digest, `warcio index` lists every record). `.ci/run`
//! installs warcio in the venv it names in `BLACKOUT_TEST_PYTHON`; without that variable the
//! test says it was skipped, and with a Python that lacks warcio it fails.

use blackout::evidence::warc::{Reader, Record, RecordType, Writer, http_response};
use blackout::store::manifest::{CaptureEntry, FindingEvidence, Input, Manifest};
use std::process::Command;

fn warcio(test: &str) -> Option<String> {
    let python = std::env::var("BLACKOUT_TEST_PYTHON").ok()?;
    let has = Command::new(&python)
        .args(["-c", "import warcio"])
        .status()
        .is_ok_and(|s| s.success());
    // A Python named for the tests must have what they need: a test that cannot check the WARC
    // must not pass for one that did.
    assert!(
        has,
        "{test}: BLACKOUT_TEST_PYTHON={python} cannot import warcio: install it (`{python} -m pip install warcio==1.8.1`; .ci/run does)"
    );
    Some(python)
}

#[test]
fn warcio_checks_and_indexes_the_warc_blackout_writes() {
    let Some(python) = warcio("warcio_checks_and_indexes_the_warc_blackout_writes") else {
        return;
    };
    let at = chrono::DateTime::parse_from_rfc3339("2017-05-06T09:30:00Z").unwrap().to_utc();
    let headers = vec![("Content-Type".to_string(), "text/html; charset=utf-8".to_string())];
    let (block, payload) = http_response(200, "OK", &headers, "<p>Ce que contiennent les courriels</p>".as_bytes());
    let response = Record::new(RecordType::Response, at, block)
        .field("WARC-Target-URI", "https://www.lequotidien.example.fr/courriels")
        .field("WARC-IP-Address", "127.0.0.1")
        .field("WARC-Payload-Digest", &payload);
    let request = Record::new(
        RecordType::Request,
        at,
        b"GET /courriels HTTP/1.1\r\nHost: www.lequotidien.example.fr\r\n\r\n".to_vec(),
    )
    .field("WARC-Target-URI", "https://www.lequotidien.example.fr/courriels")
    .field("WARC-Concurrent-To", &response.id);
    let records = [
        Record::new(
            RecordType::Warcinfo,
            at,
            b"software: blackout\r\nformat: WARC File Format 1.1\r\n".to_vec(),
        )
        .field("Content-Type", "application/warc-fields"),
        request,
        response,
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.warc.gz");
    let mut w = Writer::new(std::fs::File::create(&path).unwrap());
    for r in &records {
        w.append(r).unwrap();
    }
    w.finish().unwrap();
    // The venv's `warcio` command, beside its Python.
    let warcio = std::path::Path::new(&python).with_file_name("warcio");
    let check = Command::new(&warcio).args(["check", "-v"]).arg(&path).output().unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "warcio check: {said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(said.matches("digest pass").count(), 3, "every record's digests recomputed: {said}");
    let index = Command::new(&warcio).arg("index").arg(&path).output().unwrap();
    let index = String::from_utf8_lossy(&index.stdout);
    assert_eq!(index.lines().count(), 3, "{index}");
    assert!(index.contains("\"warc-type\": \"response\""), "{index}");
    // And our own reader agrees, record for record.
    let read: Vec<Record> = Reader::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()))
        .map(|r| r.unwrap().1)
        .collect();
    assert_eq!(read, records);
}

#[test]
fn a_manifest_canonicalised_by_python_is_the_same_bytes() {
    let Ok(python) = std::env::var("BLACKOUT_TEST_PYTHON") else {
        eprintln!("skipped a_manifest_canonicalised_by_python_is_the_same_bytes: BLACKOUT_TEST_PYTHON is not set");
        return;
    };
    let m = Manifest {
        tool: "blackout 0.1.0".into(),
        run: 7,
        evaluated_at: "2017-05-06T12:00:00Z".into(),
        tzdb: "2025b".into(),
        inputs: vec![Input {
            role: "rules".into(),
            path: "rules/fr-2017-présidentielle.toml".into(),
            sha256: "sha256:00".into(),
        }],
        options: serde_json::json!({ "margin": 12, "all": false, "zones": ["métropole", "guyane"] }),
        captures: vec![CaptureEntry {
            url: "https://e.fr/é".into(),
            body: "sha256:01".into(),
            record: "sha256:03".into(),
        }],
        record: "sha256:04".into(),
        findings: vec![FindingEvidence {
            id: "b9394e817130".into(),
            rule: "macronleaks-content".into(),
            source: "le-quotidien".into(),
            url: "https://e.fr/a?q=\"x\"".into(),
            bodies: vec![blackout::model::Digest::of(b"page")],
            evidence: "sha256:02".into(),
        }],
        previous: None,
    };
    let ours = m.canonical();
    let out = Command::new(python)
        .args([
            "-c",
            "import json,sys; m=json.load(sys.stdin); sys.stdout.write(json.dumps(m, sort_keys=True, separators=(',', ':'), ensure_ascii=False))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&ours)?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), String::from_utf8(ours).unwrap());
}

use crate::util::{Server, run};
use serde_json::Value;
use wiremock::ResponseTemplate;

const FR: &str = "rules/fr-2017-presidentielle.toml";
const DEMO: &str = "rules/demo/sources.toml";

/// The findings of a report as evidence compares them: everything but what the store adds.
fn findings(report: &Value) -> Vec<Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut f = f.clone();
            for tracked in ["state", "first_run", "first_reported"] {
                f.as_object_mut().unwrap().remove(tracked);
            }
            f
        })
        .collect()
}

fn json(r: &crate::util::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}); stderr:\n{}\nstdout:\n{}", r.stderr, r.stdout))
}

/// A sources file reading a loopback outlet's feed, and a state store in a directory of its own.
struct Reading {
    _sources_dir: tempfile::TempDir,
    sources: String,
    dir: tempfile::TempDir,
    state: String,
}

impl Reading {
    fn of(server: &Server) -> Reading {
        let (sources_dir, sources) = crate::state::sources_reading(server.url("/feed.xml").as_str());
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.db").display().to_string();
        Reading {
            _sources_dir: sources_dir,
            sources: sources.display().to_string(),
            dir,
            state,
        }
    }
}

/// A loopback outlet: a feed listing two pages (one reached through a redirect) whose texts
/// the demo's pages give.
fn outlet(server: &Server, courriels: &str) {
    let feed = format!(
        "<rss version=\"2.0\"><channel><title>Le Quotidien</title>\
         <item><title>Courriels</title><link>{}</link><pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item>\
         <item><title>Piratage</title><link>{}</link><pubDate>Sat, 06 May 2017 09:15:00 +0200</pubDate></item>\
         </channel></rss>",
        server.url("/n/courriels"),
        server.url("/n/ancien-piratage")
    );
    server.serve("/feed.xml", ResponseTemplate::new(200).set_body_raw(feed, "application/rss+xml"));
    server.serve(
        "/n/courriels",
        ResponseTemplate::new(200).set_body_raw(courriels.to_string(), "text/html; charset=utf-8"),
    );
    server.serve(
        "/n/ancien-piratage",
        ResponseTemplate::new(301).insert_header("location", server.url("/n/piratage").as_str()),
    );
    server.serve(
        "/robots.txt",
        ResponseTemplate::new(200).set_body_raw("User-agent: *\nDisallow: /prive/\n", "text/plain"),
    );
    let piratage = std::fs::read_to_string("rules/demo/pages/quotidien-piratage.html").unwrap();
    server.serve(
        "/n/piratage",
        ResponseTemplate::new(200).set_body_raw(piratage, "text/html; charset=utf-8"),
    );
}

#[test]
fn a_page_taken_down_is_kept_as_what_the_server_answered_and_replays_as_it_failed() {
    let server = Server::start();
    let feed = format!(
        "<rss version=\"2.0\"><channel><title>Le Quotidien</title>\
         <item><title>Courriels</title><link>{}</link><pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item>\
         </channel></rss>",
        server.url("/n/courriels")
    );
    server.serve("/feed.xml", ResponseTemplate::new(200).set_body_raw(feed, "application/rss+xml"));
    server.serve(
        "/n/courriels",
        ResponseTemplate::new(301).insert_header("location", server.url("/n/retire").as_str()),
    );
    server.serve(
        "/n/retire",
        ResponseTemplate::new(410)
            .insert_header("x-retire-par", "la-redaction")
            .set_body_raw("<p>Retiré.</p>", "text/html"),
    );
    let reading = Reading::of(&server);
    let (sources, state, dir) = (reading.sources.as_str(), reading.state.as_str(), &reading.dir);
    let at = "2017-05-06T12:00:00Z";
    let live = run(&[
        "check",
        FR,
        sources,
        "--at",
        at,
        "--format",
        "json",
        "--state",
        state,
        "--keep-captures",
        "all",
    ]);
    let live_report = json(&live);
    let problems = |r: &Value| -> Vec<(String, String)> {
        r["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["code"].as_str().unwrap().to_string(), p["message"].as_str().unwrap().to_string()))
            .collect()
    };
    let failed = problems(&live_report);
    assert!(failed.iter().any(|(_, m)| m.contains("410")), "{failed:?}");

    // The capture holds both answers, and the last one's status and headers.
    let record: String = rusqlite::Connection::open(state)
        .unwrap()
        .query_row("SELECT record FROM captures WHERE url LIKE '%/n/courriels'", [], |r| r.get(0))
        .unwrap();
    let record: Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["status"], 410, "{record}");
    assert!(record["final_url"].as_str().unwrap().ends_with("/n/retire"), "{record}");
    assert_eq!(record["exchanges"].as_array().unwrap().len(), 2, "{record}");
    assert!(record["headers"].to_string().contains("la-redaction"), "{record}");

    // Exported: a request and a response for each answer, the 410 among them; warcio agrees.
    let warc = dir.path().join("run1.warc.gz");
    let warc = warc.to_str().unwrap();
    let export = run(&["evidence", "export", "--run", "1", "--state", state, "-o", warc]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let verify = run(&["evidence", "verify", warc]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    if let Some(python) = warcio("a_page_taken_down_is_kept_as_what_the_server_answered_and_replays_as_it_failed") {
        let warcio = std::path::Path::new(&python).with_file_name("warcio");
        let check = Command::new(&warcio).args(["check", "-v", warc]).output().unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
        let index = Command::new(&warcio)
            .args(["index", "-f", "warc-type,warc-target-uri,http:status", warc])
            .output()
            .unwrap();
        let index = String::from_utf8_lossy(&index.stdout);
        let gone = index
            .lines()
            .find(|l| l.contains("\"response\"") && l.contains("/n/retire"))
            .unwrap_or_else(|| panic!("no response record of the page taken down: {index}"));
        assert!(gone.contains("410"), "{gone}");
    }

    // Replayed, the page fails as it failed, with the same problem.
    let replayed = run(&["replay", warc, "--format", "json"]);
    assert_eq!(replayed.code, live.code, "{}", replayed.stderr);
    assert_eq!(problems(&json(&replayed)), failed);
}

#[test]
fn a_live_run_exported_as_warc_replays_to_the_same_findings_after_the_outlet_changed() {
    let server = Server::start();
    let leaking = std::fs::read_to_string("rules/demo/pages/quotidien-courriels.html").unwrap();
    outlet(&server, &leaking);
    let reading = Reading::of(&server);
    let (sources, state, dir) = (reading.sources.as_str(), reading.state.as_str(), &reading.dir);
    let at = "2017-05-06T12:00:00Z";
    let live = run(&["check", FR, sources, "--at", at, "--format", "json", "--state", state]);
    assert_eq!(live.code, 1, "{}", live.stderr);
    let live = json(&live);
    let original = findings(&live);
    assert!(original.len() >= 2, "{original:#?}");
    assert!(live["state"]["manifest"].as_str().unwrap().starts_with("sha256:"));

    let warc = dir.path().join("run1.warc.gz");
    let warc = warc.to_str().unwrap();
    let export = run(&["evidence", "export", "--run", "1", "--state", state, "-o", warc]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    // Every capture the run kept: the feed, robots.txt, the two pages (one behind its redirect).
    let kept: i64 = rusqlite::Connection::open(state)
        .unwrap()
        .query_row("SELECT count(*) FROM captures WHERE run = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 4);
    assert!(export.stdout.contains(&format!("{kept} captures")), "{}", export.stdout);

    // The outlet scrubs the page: a live run now finds less.
    server.runtime.block_on(server.mock.reset());
    outlet(
        &server,
        "<html><body><article><p>Cet article a été retiré.</p></article></body></html>",
    );
    let now = json(&run(&["check", FR, sources, "--at", at, "--format", "json", "--no-state"]));
    assert!(findings(&now).len() < original.len(), "the change matters: {:#?}", findings(&now));

    // Replayed from the WARC file, and from the store: the original findings, whole.
    for args in [vec!["replay", warc], vec!["replay", "--run", "1", "--state", state]] {
        let mut args = args.clone();
        args.extend(["--format", "json", "--show-excerpts"]);
        let r = run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        let replayed = json(&r);
        let mut shown = original.clone();
        let mut got = findings(&replayed);
        shown.sort_by_key(|f| f["id"].to_string());
        got.sort_by_key(|f| f["id"].to_string());
        // The live report was cut; the replay shows passages whole: compare keys, timing, spans' places.
        let places = |fs: &[Value]| -> Vec<Value> {
            fs.iter()
                .map(|f| {
                    let spans: Vec<Value> = f["spans"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| serde_json::json!([s["document"], s["start"], s["end"]]))
                        .collect();
                    serde_json::json!([f["id"], f["key"], f["timing"], spans])
                })
                .collect()
        };
        assert_eq!(places(&got), places(&shown), "{args:?}");
        assert_eq!(replayed["evaluated_at"], at);
        assert_eq!(replayed["replay"]["run"], 1, "a replay says it is one");
    }
    // The same rules, redacted by default, as the live report was.
    let r = run(&["replay", warc, "--format", "json"]);
    let mut got = findings(&json(&r));
    let mut shown = original.clone();
    got.sort_by_key(|f| f["id"].to_string());
    shown.sort_by_key(|f| f["id"].to_string());
    assert_eq!(got, shown, "a replay's report is the live one, finding for finding");

    // warcio reads it all back and agrees with every digest.
    if let Some(python) = warcio("a_live_run_exported_as_warc_replays_to_the_same_findings_after_the_outlet_changed") {
        let warcio = std::path::Path::new(&python).with_file_name("warcio");
        let check = Command::new(&warcio).args(["check", "-v", warc]).output().unwrap();
        let said = String::from_utf8_lossy(&check.stdout);
        assert!(
            check.status.success(),
            "warcio check: {said}{}",
            String::from_utf8_lossy(&check.stderr)
        );
        assert!(!said.contains("digest fail"), "{said}");
        let index = Command::new(&warcio)
            .args(["index", "-f", "warc-type,warc-target-uri,warc-ip-address", warc])
            .output()
            .unwrap();
        let index = String::from_utf8_lossy(&index.stdout);
        for kind in ["warcinfo", "request", "response", "metadata", "resource"] {
            assert!(index.contains(&format!("\"warc-type\": \"{kind}\"")), "{kind} in {index}");
        }
        assert!(index.contains("\"warc-ip-address\": \"127.0.0.1\""), "{index}");
        // The redirect is there, as its own response; and the robots.txt that let the pages be read.
        assert!(index.contains("/n/ancien-piratage"), "{index}");
        assert!(index.contains("/robots.txt"), "{index}");
    }

    // A record altered after the export: refused, named.
    let bytes = std::fs::read(warc).unwrap();
    let offsets: Vec<(u64, Record)> = Reader::new(std::io::BufReader::new(&bytes[..])).map(Result::unwrap).collect();
    let (n, (offset, record)) = offsets
        .iter()
        .enumerate()
        .find(|(_, (_, r))| r.kind == RecordType::Response && r.get("WARC-Target-URI").is_some_and(|u| u.ends_with("/n/courriels")))
        .unwrap();
    let end = offsets.get(n + 1).map_or(bytes.len() as u64, |(o, _)| *o);
    let mut member = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&bytes[*offset as usize..end as usize]),
        &mut member,
    )
    .unwrap();
    let text = String::from_utf8_lossy(&member).replace("courriels", "COURRIELS");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    let mut altered = bytes[..*offset as usize].to_vec();
    altered.extend(gz.finish().unwrap());
    altered.extend(&bytes[end as usize..]);
    let tampered = dir.path().join("tampered.warc.gz");
    std::fs::write(&tampered, altered).unwrap();
    let tampered = tampered.to_str().unwrap();
    let r = run(&["replay", tampered]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains(&record.id) && r.stderr.contains(&format!("at byte {offset}")) && r.stderr.contains("altered"),
        "{}",
        r.stderr
    );
    let v = run(&["evidence", "verify", tampered]);
    assert_eq!(v.code, 1, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains(&record.id), "{}", v.stdout);

    // Forgeries with every digest of their records recomputed, which only the captures and the
    // manifests can tell: a status line rewritten; a field of a response edited; a response
    // with invented text added; the warcinfo's word on the run's options edited.
    let courriels = |r: &Record| r.kind == RecordType::Response && r.get("WARC-Target-URI").is_some_and(|u| u.ends_with("/n/courriels"));
    let forgeries: [(&[&str], &Forgery<'_>); 4] = [
        (&["the response record of", "was altered"], &|r| {
            if courriels(r) {
                r.block = String::from_utf8_lossy(&r.block)
                    .replacen("HTTP/1.1 200 OK", "HTTP/1.1 410 Gone", 1)
                    .into_bytes();
            }
            Vec::new()
        }),
        (&["was altered: its block or its fields"], &|r| {
            if courriels(r) {
                *r = r.clone().field("WARC-Truncated", "length");
            }
            Vec::new()
        }),
        (&["that no capture or item of its runs accounts for"], &|r| match courriels(r) {
            true => {
                let (block, payload) = http_response(200, "OK", &[], "<p>Ce que l'article n'a jamais dit.</p>".as_bytes());
                let mut added = Record::new(RecordType::Response, r.date + chrono::Duration::seconds(1), block)
                    .field("WARC-Target-URI", r.get("WARC-Target-URI").unwrap())
                    .field("WARC-Payload-Digest", &payload);
                added
                    .fields
                    .push(("Content-Type".into(), "application/http; msgtype=response".into()));
                vec![added]
            }
            false => Vec::new(),
        }),
        (&["the warcinfo says run 1's options"], &|r| {
            if r.kind == RecordType::Warcinfo {
                let text = String::from_utf8_lossy(&r.block).into_owned();
                let edited: Vec<String> = text
                    .lines()
                    .map(|l| match l.starts_with("blackout-run-1-options: ") {
                        true => "blackout-run-1-options: {\"all\":true}".to_string(),
                        false => l.to_string(),
                    })
                    .collect();
                r.block = format!("{}\r\n", edited.join("\r\n")).into_bytes();
            }
            Vec::new()
        }),
    ];
    for (said, change) in forgeries {
        let forged = dir.path().join("forged.warc.gz");
        let _ = std::fs::remove_file(&forged);
        let mut w = Writer::new(std::fs::File::create(&forged).unwrap());
        for (_, mut r) in offsets.clone() {
            let added = change(&mut r);
            w.append(&r).unwrap();
            for a in added {
                w.append(&a).unwrap();
            }
        }
        w.finish().unwrap();
        let v = run(&["evidence", "verify", forged.to_str().unwrap()]);
        assert_eq!(v.code, 1, "{said:?}: {}{}", v.stdout, v.stderr);
        assert!(said.iter().all(|s| v.stdout.contains(s)), "{said:?}: {}", v.stdout);
    }
    // Left alone, the same file holds.
    let v = run(&["evidence", "verify", warc]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);

    // Each finding exported alone (each file with the lines of the run's record about its own
    // item), verified together with the run's whole export: they hold.
    let items: std::collections::BTreeSet<&str> = original.iter().map(|f| f["url"].as_str().unwrap()).collect();
    assert!(items.len() >= 2, "findings on two pages: {items:?}");
    let mut files = vec![warc.to_string()];
    for f in &original {
        let id = f["id"].as_str().unwrap();
        let file = dir.path().join(format!("finding-{id}.warc.gz")).display().to_string();
        let r = run(&["evidence", "export", "--finding", id, "--state", state, "-o", &file]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        files.push(file);
    }
    let mut args = vec!["evidence", "verify"];
    args.extend(files[1..].iter().map(String::as_str));
    let v = run(&args);
    assert_eq!(v.code, 0, "the findings' files: {}{}", v.stdout, v.stderr);
    args.push(&files[0]);
    let v = run(&args);
    assert_eq!(v.code, 0, "with the run's: {}{}", v.stdout, v.stderr);
}

/// A change to a record of a WARC file written again; the records it adds after it.
type Forgery<'a> = dyn Fn(&mut Record) -> Vec<Record> + 'a;

/// Three nights of the demo in a store: what `evidence verify` checks.
fn three_nights() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db").to_str().unwrap().to_string();
    for at in ["2017-05-06T12:00:00Z", "2017-05-07T12:00:00Z", "2017-05-08T12:00:00Z"] {
        let r = run(&["check", FR, DEMO, "--at", at, "--state", &state, "-q", "--keep-captures", "all"]);
        assert!(r.code == 1 || r.code == 0 || r.code == 3, "{}", r.stderr);
    }
    (dir, state)
}

fn verify(state: &str) -> crate::util::Run {
    run(&["evidence", "verify", "--state", state])
}

#[test]
fn evidence_verify_holds_for_runs_left_alone_and_names_each_kind_of_tampering() {
    let (_dir, state) = three_nights();
    let v = verify(&state);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert_eq!(v.stdout.matches(": holds").count(), 3, "{}", v.stdout);
    let db = || rusqlite::Connection::open(&state).unwrap();

    // An edited manifest.
    let (_d, s) = three_nights();
    rusqlite::Connection::open(&s)
        .unwrap()
        .execute(
            "UPDATE manifests SET manifest = replace(manifest, '\"run\":2', '\"run\":2 ') WHERE run = 2",
            [],
        )
        .unwrap();
    let v = verify(&s);
    assert_eq!(v.code, 1);
    assert!(
        v.stdout.contains("run 2: DOES NOT HOLD") && v.stdout.contains("its manifest was altered"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout.contains("run 3's manifest names a previous manifest"),
        "the chain shows it too: {}",
        v.stdout
    );

    // A capture's record edited (said cut at the size cap).
    let (_d, s) = three_nights();
    rusqlite::Connection::open(&s)
        .unwrap()
        .execute(
            "UPDATE captures SET record = replace(record, '\"truncated\":false', '\"truncated\":true') WHERE run = 1 AND seq = 1",
            [],
        )
        .unwrap();
    let v = verify(&s);
    assert_eq!(v.code, 1);
    assert!(v.stdout.contains("capture 1 (") && v.stdout.contains("was altered"), "{}", v.stdout);

    // A capture row removed: that one is named, the others still hold.
    let (_d, s) = three_nights();
    rusqlite::Connection::open(&s)
        .unwrap()
        .execute("DELETE FROM captures WHERE run = 1 AND seq = 2", [])
        .unwrap();
    let v = verify(&s);
    assert_eq!(v.code, 1);
    assert!(
        v.stdout.contains("capture 2 (") && v.stdout.contains("not in the store: it was removed"),
        "{}",
        v.stdout
    );
    assert!(!v.stdout.contains("capture 3 ("), "{}", v.stdout);

    // A body altered on disk.
    let (_d, s) = three_nights();
    let body: String = rusqlite::Connection::open(&s)
        .unwrap()
        .query_row("SELECT body FROM captures WHERE run = 2 AND body IS NOT NULL LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let file = blackout::store::Blobs::new(format!("{s}.bodies").into()).file(&blackout::model::Digest::from_hex(&body).unwrap());
    std::fs::write(&file, b"<p>autre chose</p>").unwrap();
    let v = verify(&s);
    assert_eq!(v.code, 1);
    assert!(v.stdout.contains(&body) && v.stdout.contains("altered"), "{}", v.stdout);

    // A finding edited (its address).
    let id: String = db()
        .query_row("SELECT id FROM findings ORDER BY id LIMIT 1", [], |r| r.get(0))
        .unwrap();
    db().execute("UPDATE findings SET url = 'https://ailleurs.example/' WHERE id = ?1", [&id])
        .unwrap();
    let v = verify(&state);
    assert_eq!(v.code, 1);
    assert!(v.stdout.contains(&format!("finding {id} was edited")), "{}", v.stdout);

    // A finding's first run edited, and a finding removed.
    let (_d, s) = three_nights();
    let c = rusqlite::Connection::open(&s).unwrap();
    let ids: Vec<String> = c
        .prepare("SELECT id FROM findings ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    c.execute("UPDATE findings SET first_run = 2 WHERE id = ?1", [&ids[0]]).unwrap();
    c.execute("DELETE FROM findings WHERE id = ?1", [&ids[1]]).unwrap();
    let v = verify(&s);
    assert_eq!(v.code, 1);
    assert!(
        v.stdout.contains(&format!("finding {} was edited: the store says run 2", ids[0])),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout.contains(&format!("finding {}, which the manifest of run", ids[1])),
        "{}",
        v.stdout
    );

    // A run removed (its manifest with it).
    let (_d, s) = three_nights();
    let c = rusqlite::Connection::open(&s).unwrap();
    c.execute_batch("PRAGMA foreign_keys = ON; DELETE FROM manifests WHERE run = 2; DELETE FROM runs WHERE id = 2;")
        .unwrap();
    let v = verify(&s);
    assert_eq!(v.code, 1);
    assert!(
        v.stdout.contains("run 3's manifest names a previous manifest") && v.stdout.contains("removed"),
        "{}",
        v.stdout
    );

    // A run removed, and the next one's `previous` column set to the run before it: the column
    // is not what counts, the manifest's text is.
    let (_d, s) = three_nights();
    let c = rusqlite::Connection::open(&s).unwrap();
    let first: String = c.query_row("SELECT digest FROM manifests WHERE run = 1", [], |r| r.get(0)).unwrap();
    c.execute_batch("PRAGMA foreign_keys = ON; DELETE FROM manifests WHERE run = 2; DELETE FROM runs WHERE id = 2;")
        .unwrap();
    c.execute("UPDATE manifests SET previous = ?1 WHERE run = 3", [&first]).unwrap();
    let v = verify(&s);
    assert_eq!(v.code, 1);
    assert!(v.stdout.contains("run 3's manifest names a previous manifest"), "{}", v.stdout);
    assert!(v.stdout.contains("`previous` column differs"), "{}", v.stdout);

    // A prune is not tampering: the chain starts from what it took.
    let (_d, s) = three_nights();
    let p = run(&["state", "prune", "--before", "2017-05-07", "--state", &s]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    let v = verify(&s);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert_eq!(v.stdout.matches(": holds").count(), 2, "{}", v.stdout);
}

/// A timestamp authority on loopback: a test CA and a TSA certificate made with `openssl` in
/// the test, each request answered by `openssl ts -reply`.
struct Tsa {
    server: Server,
    dir: tempfile::TempDir,
}

struct Reply {
    dir: std::path::PathBuf,
}

impl wiremock::Respond for Reply {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let query = self.dir.join(format!("q{n}.tsq"));
        let reply = self.dir.join(format!("r{n}.tsr"));
        std::fs::write(&query, &request.body).unwrap();
        let out = Command::new("openssl")
            .current_dir(&self.dir)
            .args(["ts", "-reply", "-config", "tsa.cnf", "-queryfile"])
            .arg(&query)
            .args(["-inkey", "tsa.key", "-signer", "tsa.pem", "-out"])
            .arg(&reply)
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl ts -reply: {}", String::from_utf8_lossy(&out.stderr));
        ResponseTemplate::new(200).set_body_raw(std::fs::read(&reply).unwrap(), "application/timestamp-reply")
    }
}

fn tsa(test: &str) -> Option<Tsa> {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped {test}: no openssl (.ci/run installs it)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rsa = ["-newkey", "rsa:2048"];
    crate::util::test_ca(d, &rsa);
    crate::util::signed_by_test_ca(d, &rsa, "tsa", "/CN=blackout test TSA", "extendedKeyUsage=critical,timeStamping\n");
    std::fs::write(d.join("serial"), "01\n").unwrap();
    let config = format!(
        "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = {}/serial\ncrypto_device = builtin\nsigner_digest = sha256\n\
         default_policy = 1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\nordering = yes\ntsa_name = yes\n\
         ess_cert_id_chain = no\ness_cert_id_alg = sha256\n",
        d.display()
    );
    std::fs::write(d.join("tsa.cnf"), config).unwrap();
    let server = Server::start();
    server.runtime.block_on(
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .and(wiremock::matchers::path("/tsr"))
            .and(wiremock::matchers::header("content-type", "application/timestamp-query"))
            .respond_with(Reply { dir: d.to_path_buf() })
            .mount(&server.mock),
    );
    Some(Tsa { server, dir })
}

#[test]
fn a_run_timestamped_by_a_tsa_is_checked_by_blackout_and_by_openssl() {
    let Some(tsa) = tsa("a_run_timestamped_by_a_tsa_is_checked_by_blackout_and_by_openssl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db").to_str().unwrap().to_string();
    let url = tsa.server.url("/tsr").to_string();
    let at = ["--at", "2017-05-06T12:00:00Z"];
    let r = run(&[&["check", FR, DEMO, "--state", &state, "--tsa", &url][..], &at].concat());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains(", timestamped (`blackout evidence verify --run 1`)"),
        "{}",
        r.stdout
    );
    let ca = tsa.dir.path().join("ca.pem");
    let ca = ca.to_str().unwrap();
    let v = run(&["evidence", "verify", "--state", &state, "--tsa-ca", ca]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains("by CN=blackout test TSA (chain checked)"), "{}", v.stdout);

    // A finding's bundle, as a zip: every piece checks with the tools its README names.
    let id: String = rusqlite::Connection::open(&state)
        .unwrap()
        .query_row(
            "SELECT id FROM findings WHERE rule = 'macronleaks-content' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let zip = dir.path().join("bundle.zip");
    let b = run(&["evidence", "bundle", &id, "--state", &state, "-o", zip.to_str().unwrap()]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    let unzipped = dir.path().join("unzipped");
    let py = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; z.extractall(sys.argv[2])",
        ])
        .arg(&zip)
        .arg(&unzipped)
        .output()
        .unwrap();
    assert!(py.status.success(), "python's zipfile: {}", String::from_utf8_lossy(&py.stderr));
    let sums = Command::new("sha256sum")
        .arg("-c")
        .arg("SHA256SUMS")
        .current_dir(&unzipped)
        .output()
        .unwrap();
    assert!(sums.status.success(), "{}", String::from_utf8_lossy(&sums.stdout));
    let readme = std::fs::read_to_string(unzipped.join("README.txt")).unwrap();
    assert!(
        readme.contains("openssl ts -verify -digest") && readme.contains("warcio check"),
        "{readme}"
    );
    let text = std::fs::read_to_string(unzipped.join("text.txt")).unwrap();
    assert!(text.contains('⟦') && text.contains('⟧'), "{text}");
    let rule = std::fs::read_to_string(unzipped.join("rule.toml")).unwrap();
    assert!(
        rule.contains("id = \"macronleaks-content\"") && rule.contains("legal basis"),
        "{rule}"
    );
    let out = Command::new("openssl")
        .args(["ts", "-verify", "-digest"])
        .arg(
            rusqlite::Connection::open(&state)
                .unwrap()
                .query_row("SELECT digest FROM manifests WHERE run = 1", [], |r| r.get::<_, String>(0))
                .unwrap()
                .trim_start_matches("sha256:"),
        )
        .args(["-token_in", "-in", "manifest-run-1.tst", "-CAfile", ca, "-untrusted"])
        .arg(tsa.dir.path().join("tsa.pem"))
        .current_dir(&unzipped)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Verification: OK"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = run(&["evidence", "verify", unzipped.join("evidence.warc.gz").to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    // The zip itself is no WARC file: said so, as a question asked wrong (exit 2).
    let v = run(&["evidence", "verify", zip.to_str().unwrap()]);
    assert_eq!(v.code, 2, "{}{}", v.stdout, v.stderr);
    assert!(v.stderr.contains("unzip it and verify its evidence.warc.gz"), "{}", v.stderr);
    let v = run(&["evidence", "verify", "--state", &state]);
    assert!(v.stdout.contains("chain not checked"), "{}", v.stdout);

    // openssl agrees: the token is over the manifest's digest, signed by the TSA the CA made.
    let db = rusqlite::Connection::open(&state).unwrap();
    let (digest, token): (String, String) = db
        .query_row("SELECT digest, token FROM manifests WHERE run = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD.decode(&token).unwrap();
    let file = dir.path().join("token.der");
    std::fs::write(&file, &der).unwrap();
    let out = Command::new("openssl")
        .args(["ts", "-verify", "-digest", digest.trim_start_matches("sha256:"), "-token_in", "-in"])
        .arg(&file)
        .args(["-CAfile", ca, "-untrusted"])
        .arg(tsa.dir.path().join("tsa.pem"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Verification: OK"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The token travels with an export, and is checked there too.
    let warc = dir.path().join("run.warc.gz");
    let e = run(&["evidence", "export", "--run", "1", "--state", &state, "-o", warc.to_str().unwrap()]);
    assert_eq!(e.code, 0, "{}", e.stderr);
    let v = run(&["evidence", "verify", warc.to_str().unwrap(), "--tsa-ca", ca]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains("(chain checked)"), "{}", v.stdout);

    // A token of another digest (the manifest edited and its digest recomputed by hand) or
    // damaged does not hold.
    let mut bad = der.clone();
    let last = bad.len() - 10;
    bad[last] ^= 0xff;
    db.execute(
        "UPDATE manifests SET token = ?1 WHERE run = 1",
        [base64::engine::general_purpose::STANDARD.encode(&bad)],
    )
    .unwrap();
    let v = run(&["evidence", "verify", "--state", &state, "--tsa-ca", ca]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.stdout.contains("its timestamp token does not hold"), "{}", v.stdout);
    // Removed: the manifest says a TSA was asked.
    db.execute("UPDATE manifests SET token = NULL WHERE run = 1", []).unwrap();
    let v = run(&["evidence", "verify", "--state", &state]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.stdout.contains("the token was removed"), "{}", v.stdout);

    // A TSA that does not answer costs the token, not the run.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let gone = format!("http://{closed}/tsr");
    let r = run(&[
        &["check", FR, DEMO, "--state", &state, "--tsa", &gone, "--tsa-timeout", "3"][..],
        &at,
    ]
    .concat());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("NOT timestamped"), "{}", r.stdout);
    let runs: i64 = db.query_row("SELECT count(*) FROM manifests", [], |r| r.get(0)).unwrap();
    assert_eq!(runs, 2, "the run is recorded");
    let v = run(&["evidence", "verify", "--state", &state, "--run", "2"]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains("timestamp not obtained:"), "{}", v.stdout);
}

/// Issue 14: a homepage judged on its teasers is evidence like any page. Its finding, timed by
/// when the run saw the page, replays the same from the run's captures and from their WARC
/// export, and the run verifies.
#[test]
fn a_homepage_finding_replays_the_same_from_its_captures() {
    let server = Server::start();
    let teasers: String = (0..9)
        .map(|i| {
            let standfirst = if i == 2 {
                "Dans le fichier ardoise-2017-04.eml, un virement."
            } else {
                "Un chapeau qui résume l'article."
            };
            format!("<div class=card><h2><a href=\"/a{i}.html\">Le titre numéro {i} de la une du jour</a></h2><p>{standfirst}</p></div>")
        })
        .collect();
    server.serve(
        "/",
        ResponseTemplate::new(200).set_body_raw(
            format!("<html><head><link rel=alternate type=application/rss+xml href=/feed.xml></head><body><h1>À la une</h1>{teasers}</body></html>"),
            "text/html; charset=utf-8",
        ),
    );
    server.serve(
        "/feed.xml",
        ResponseTemplate::new(200).set_body_raw(
            "<rss version=\"2.0\"><channel><title>Le Quotidien</title></channel></rss>",
            "application/rss+xml",
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        format!(
            "schema = 1\n[[source]]\nid = \"une\"\nhome = \"{}\"\naudience = \"all\"\n",
            server.url("/")
        ),
    )
    .unwrap();
    let state = dir.path().join("state.db").display().to_string();
    let live = run(&[
        "check",
        FR,
        sources.to_str().unwrap(),
        "--at",
        "2017-05-06T12:00:00Z",
        "--format",
        "json",
        "--state",
        &state,
    ]);
    assert_eq!(live.code, 1, "{}", live.stderr);
    let original = findings(&json(&live));
    assert_eq!(original.len(), 1, "{original:#?}");
    assert_eq!(original[0]["timing"]["provenance"], "observed:shown");
    assert_eq!(original[0]["spans"][0]["scope"], "teaser");
    let warc = dir.path().join("run1.warc.gz").display().to_string();
    let export = run(&["evidence", "export", "--run", "1", "--state", &state, "-o", &warc]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    server.runtime.block_on(server.mock.reset());
    for args in [vec!["replay", warc.as_str()], vec!["replay", "--run", "1", "--state", &state]] {
        let replayed = run(&[args.as_slice(), &["--format", "json"]].concat());
        assert_eq!(replayed.code, 1, "{args:?}: {}", replayed.stderr);
        assert_eq!(findings(&json(&replayed)), original, "{args:?}");
    }
    let verified = run(&["evidence", "verify", "--state", &state]);
    assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
}
