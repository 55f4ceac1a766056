//! Evidence files checked by a third party's reader: WARC written by blackout, read by warcio
//! (`warcio check` recomputes every digest, `warcio index` lists every record). `.ci/run`
//! installs warcio in the venv it names in `BLACKOUT_TEST_PYTHON`; without it the test says it
//! was skipped and passes.

use blackout::evidence::warc::{Reader, Record, RecordType, Writer, http_response};
use blackout::store::manifest::{CaptureEntry, FindingEvidence, Input, Manifest};
use std::process::Command;

fn warcio(test: &str) -> Option<String> {
    let python = std::env::var("BLACKOUT_TEST_PYTHON").ok()?;
    let has = Command::new(&python)
        .args(["-c", "import warcio"])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        eprintln!("skipped {test}: no Python with warcio (BLACKOUT_TEST_PYTHON; .ci/run installs it)");
        return None;
    }
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
