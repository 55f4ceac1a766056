//! The JSON report posted to a webhook on loopback: the test server checks the HMAC signature
//! itself (a request signed with another secret gets 401), retries after a 500, none after
//! a 4xx.

use crate::util::{Server, blackout_process};
use hmac::{KeyInit, Mac};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

const FR: &str = "rules/fr-2017-presidentielle.toml";
const DEMO: &str = "rules/demo/sources.toml";
const SECRET: &str = "a shared secret";

/// Matches a request whose `X-Blackout-Signature` is the HMAC-SHA256 of its body under
/// [`SECRET`], computed here independently of blackout.
struct Signed;

impl wiremock::Match for Signed {
    fn matches(&self, r: &Request) -> bool {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(&r.body);
        let want: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        r.headers
            .get("x-blackout-signature")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == format!("sha256={want}"))
    }
}

fn post(server: &Server, extra: &[&str], secret: Option<&str>) -> (i32, String, String) {
    let mut cmd = blackout_process();
    cmd.args(["check", FR, DEMO, "--no-state", "--at", "2026-01-01T00:00:00Z", "-q", "--webhook"])
        .arg(server.url("/hook").as_str())
        .args(extra)
        .env_remove("BLACKOUT_WEBHOOK_SECRET");
    if let Some(s) = secret {
        cmd.env("BLACKOUT_WEBHOOK_SECRET", s);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_report_is_posted_signed_and_retried_after_a_server_error() {
    let server = Server::start();
    server.mount(
        Mock::given(method("POST"))
            .and(path("/hook"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(1)
            .with_priority(1),
    );
    server.mount(
        Mock::given(method("POST"))
            .and(path("/hook"))
            .and(Signed)
            .respond_with(ResponseTemplate::new(204))
            .with_priority(2),
    );
    server.mount(
        Mock::given(method("POST"))
            .and(path("/hook"))
            .respond_with(ResponseTemplate::new(401))
            .with_priority(3),
    );
    let (code, _, stderr) = post(&server, &[], Some(SECRET));
    assert_eq!(code, 1, "posted, and the findings decide the exit status: {stderr}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one 500, then accepted");
    let r = &requests[1];
    assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
    let report: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 5);
    assert_eq!(report["excerpts"], "redacted", "the webhook gets the redacted report");
    assert_eq!(requests[0].body, requests[1].body, "the same body again");
}

#[test]
fn a_wrong_secret_or_a_refusal_is_not_retried() {
    let server = Server::start();
    server.mount(
        Mock::given(method("POST"))
            .and(path("/hook"))
            .and(Signed)
            .respond_with(ResponseTemplate::new(200))
            .with_priority(1),
    );
    server.mount(
        Mock::given(method("POST"))
            .and(path("/hook"))
            .respond_with(ResponseTemplate::new(401).set_body_string("bad signature"))
            .with_priority(2),
    );
    let (code, stdout, stderr) = post(&server, &[], Some("another secret"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("answered 401 Unauthorized: bad signature"), "{stderr}");
    assert!(!stderr.contains("/hook"), "the webhook's path is not shown: {stderr}");
    assert_eq!(server.requests().len(), 1, "a 4xx is not retried");
    assert!(stdout.contains("VIOLATION"), "the report is still printed");
    // Without a secret: posted unsigned (and refused by this receiver); -q keeps the note quiet.
    let (code, _, stderr) = post(&server, &[], None);
    assert_eq!(code, 2);
    assert!(!stderr.contains("not signed"), "-q: {stderr}");
    assert!(server.requests()[1].headers.get("x-blackout-signature").is_none());
}

#[test]
fn an_unreachable_webhook_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = blackout_process()
        .args(["check", FR, DEMO, "--no-state", "-q", "--delivery-retries", "1", "--webhook"])
        .arg(format!("http://127.0.0.1:{port}/hook"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("after 2 attempt(s)"), "{stderr}");
}

#[test]
fn a_receiver_that_does_not_answer_is_given_up_after_the_timeout() {
    let server = Server::start();
    server.mount(
        Mock::given(method("POST"))
            .and(path("/hook"))
            .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(30))),
    );
    let started = std::time::Instant::now();
    let (code, _, stderr) = post(&server, &["--webhook-timeout", "1", "--delivery-retries", "1"], Some(SECRET));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("after 2 attempt(s)"), "a timeout is retried: {stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "bounded: {:?}",
        started.elapsed()
    );
}
