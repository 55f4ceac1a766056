//! The report by mail, against a real SMTP server on loopback (`tests/smtp_server.py`, on
//! Python's aiosmtpd; `.ci/run` installs it in a venv and names its Python in
//! `BLACKOUT_TEST_PYTHON`), with STARTTLS and implicit TLS under a test certificate authority
//! made with `openssl` here; and through a sendmail stand-in. Each received message is parsed
//! back: headers, structure, charsets, the HTML part, redaction. Without the Python the SMTP
//! tests say they were skipped and pass.

use crate::util::blackout_process;
use mail_parser::{MessageParser, MimeHeaders};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FR: &str = "rules/fr-2017-presidentielle.toml";
const DEMO: &str = "rules/demo/sources.toml";
const AT: &str = "2026-01-01T00:00:00Z";

/// A test certificate authority and a certificate for 127.0.0.1 signed by it (a CA used as the
/// server's own certificate is refused by rustls: `CaUsedAsEndEntity`).
struct Certs {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn certs(dir: &Path) -> Certs {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
    crate::util::test_ca(dir, &ec);
    crate::util::signed_by_test_ca(
        dir,
        &ec,
        "leaf",
        "/CN=127.0.0.1",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    );
    Certs {
        ca: dir.join("ca.pem"),
        cert: dir.join("leaf.pem"),
        key: dir.join("leaf.key"),
    }
}

/// The SMTP server, running until dropped.
struct Smtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Smtp {
    fn start(test: &str, args: &[&str]) -> Option<Smtp> {
        let Ok(python) = std::env::var("BLACKOUT_TEST_PYTHON") else {
            eprintln!("skipped {test}: no Python with aiosmtpd (BLACKOUT_TEST_PYTHON is not set; .ci/run makes one)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new(python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py"))
            .args(["--port", &port.to_string(), "--dir", dir.path().to_str().unwrap()])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP server starts");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Some(Smtp { child, port, dir })
    }

    fn messages(&self) -> Vec<(Vec<u8>, serde_json::Value)> {
        let mut out = Vec::new();
        for n in 0.. {
            let Ok(raw) = std::fs::read(self.dir.path().join(format!("{n}.eml"))) else {
                break;
            };
            let envelope = std::fs::read_to_string(self.dir.path().join(format!("{n}.envelope"))).unwrap();
            out.push((raw, serde_json::from_str(&envelope).unwrap()));
        }
        out
    }

    fn attempts(&self) -> u32 {
        std::fs::read_to_string(self.dir.path().join("attempts"))
            .map(|s| s.parse().unwrap())
            .unwrap_or(0)
    }
}

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn blackout(args: &[&str], env: &[(&str, &str)]) -> Ran {
    let started = Instant::now();
    let mut cmd = blackout_process();
    cmd.args(args).env_remove("BLACKOUT_SMTP_USER").env_remove("BLACKOUT_SMTP_PASSWORD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// The demo, mailed; `extra` picks the transport.
fn demo_mailed(extra: &[&str], env: &[(&str, &str)], html: &Path) -> Ran {
    let mut args = vec![
        "check",
        FR,
        DEMO,
        "--no-state",
        "--at",
        AT,
        "--output",
        html.to_str().unwrap(),
        "--mail-to",
        "Desk <desk@example.org>",
        "--mail-to",
        "regulator@example.org",
        "--mail-from",
        "Blackout <blackout@example.org>",
    ];
    args.extend_from_slice(extra);
    blackout(&args, env)
}

/// Checks what every mailed report must be; returns the parsed message's HTML part.
fn check_message(raw: &[u8], html_report: &str) {
    let text = String::from_utf8_lossy(raw).replace("\r\n ", " ");
    let m = MessageParser::default().parse(raw).expect("the message parses");
    let subject = m.subject().unwrap();
    assert_eq!(
        subject,
        "blackout: 4 violations — Le Quotidien (national), Le Veilleur (Belgique), Radio Caraïbes (Guadeloupe) (fr-2017-presidentielle r2)"
    );
    let raw_subject = text.lines().find(|l| l.starts_with("Subject:")).unwrap();
    assert!(
        raw_subject.contains("=?utf-8?"),
        "a non-ASCII subject is RFC 2047-encoded: {raw_subject}"
    );
    assert!(text.contains("Auto-Submitted: auto-generated\r\n"), "RFC 3834");
    assert!(text.contains("List-Id: blackout fr-2017-presidentielle <fr-2017-presidentielle.blackout.localhost>"));
    assert!(m.message_id().is_some_and(|id| !id.is_empty()));
    assert!(m.date().is_some());
    assert_eq!(m.to().unwrap().iter().count(), 2);
    let alternative = m
        .parts
        .iter()
        .find(|p| p.content_type().is_some_and(|c| c.subtype() == Some("alternative")))
        .expect("a multipart/alternative");
    let kinds: Vec<String> = alternative
        .sub_parts()
        .unwrap()
        .iter()
        .map(|i| {
            let c = m.parts[*i as usize].content_type().unwrap();
            format!(
                "{}/{}; {}",
                c.ctype(),
                c.subtype().unwrap_or_default(),
                c.attribute("charset").unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(kinds, ["text/plain; utf-8", "text/html; utf-8"]);
    // Mail lines end in CRLF (RFC 5322); the file's in LF.
    let part = m.body_html(0).unwrap().replace("\r\n", "\n");
    assert!(
        part == html_report,
        "the HTML part is the HTML report ({} vs {} bytes)",
        part.len(),
        html_report.len()
    );
    let plain = m.body_text(0).unwrap();
    assert!(plain.contains("VIOLATION macronleaks-content"), "{plain}");
    assert!(
        plain.contains("[… 13 more words]") && !plain.contains("de ne pas en parler aux équipes"),
        "redacted: {plain}"
    );
}

#[test]
fn a_report_is_mailed_over_starttls_with_login_as_text_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let c = certs(dir.path());
    let Some(smtp) = Smtp::start(
        "a_report_is_mailed_over_starttls_with_login_as_text_and_html",
        &[
            "--starttls",
            c.cert.to_str().unwrap(),
            c.key.to_str().unwrap(),
            "--auth",
            "reports:s3cret pass",
        ],
    ) else {
        return;
    };
    let html = dir.path().join("r.html");
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let r = demo_mailed(
        &["--smtp", &url, "--smtp-ca-file", c.ca.to_str().unwrap(), "--mail-csv"],
        &[("BLACKOUT_SMTP_USER", "reports"), ("BLACKOUT_SMTP_PASSWORD", "s3cret pass")],
        &html,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("s3cret"), "the password is never printed");
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let (raw, envelope) = &messages[0];
    assert_eq!(envelope["tls"], true);
    assert_eq!(envelope["user"], "reports");
    assert_eq!(envelope["from"], "blackout@example.org");
    assert_eq!(envelope["to"], serde_json::json!(["desk@example.org", "regulator@example.org"]));
    check_message(raw, &std::fs::read_to_string(&html).unwrap());
    let m = MessageParser::default().parse(raw).unwrap();
    let csv = m
        .attachments()
        .find(|a| a.attachment_name() == Some("findings.csv"))
        .expect("the CSV attached");
    assert!(String::from_utf8_lossy(csv.contents()).starts_with("\u{FEFF}finding,status,severity,"));
}

#[test]
fn a_report_is_mailed_over_implicit_tls() {
    let dir = tempfile::tempdir().unwrap();
    let c = certs(dir.path());
    let Some(smtp) = Smtp::start(
        "a_report_is_mailed_over_implicit_tls",
        &["--implicit", c.cert.to_str().unwrap(), c.key.to_str().unwrap()],
    ) else {
        return;
    };
    let html = dir.path().join("r.html");
    let url = format!("smtps://127.0.0.1:{}", smtp.port);
    let r = demo_mailed(&["--smtp", &url, "--smtp-ca-file", c.ca.to_str().unwrap()], &[], &html);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].1["tls"], true);
    check_message(&messages[0].0, &std::fs::read_to_string(&html).unwrap());
}

#[test]
fn a_server_without_starttls_or_with_an_unknown_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let Some(plain) = Smtp::start("a_server_without_starttls_or_with_an_unknown_certificate_is_refused", &[]) else {
        return;
    };
    let html = dir.path().join("r.html");
    let r = demo_mailed(&["--smtp", &format!("smtp://127.0.0.1:{}", plain.port)], &[], &html);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("the report was not mailed"), "{}", r.stderr);
    assert!(r.stdout.contains("VIOLATION"), "the report is still printed");
    assert!(html.exists(), "and written");
    assert!(plain.messages().is_empty());
    // A certificate no trusted authority signed.
    let c = certs(dir.path());
    let tls = Smtp::start("", &["--starttls", c.cert.to_str().unwrap(), c.key.to_str().unwrap()]).unwrap();
    let r = demo_mailed(&["--smtp", &format!("smtp://127.0.0.1:{}", tls.port)], &[], &html);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.to_lowercase().contains("certificate"), "{}", r.stderr);
    assert!(tls.messages().is_empty());
}

#[test]
fn a_transient_failure_is_retried_and_a_refusal_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let Some(flaky) = Smtp::start("a_transient_failure_is_retried_and_a_refusal_is_not", &["--fail-first", "1"]) else {
        return;
    };
    let r = demo_mailed(&["--smtp", &format!("smtp+insecure://127.0.0.1:{}", flaky.port)], &[], &html);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(flaky.attempts(), 2, "one 451, then accepted");
    assert_eq!(flaky.messages().len(), 1);
    let strict = Smtp::start("", &["--reject"]).unwrap();
    let r = demo_mailed(&["--smtp", &format!("smtp+insecure://127.0.0.1:{}", strict.port)], &[], &html);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(strict.attempts(), 1, "a 550 is not retried");
    assert!(
        r.stderr.contains("550") && r.stderr.contains("5.7.1 Rejected by policy: test server"),
        "the server's reply: {}",
        r.stderr
    );
    assert!(r.stdout.contains("VIOLATION"));
}

#[test]
fn a_stuck_server_is_given_up_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let Some(stuck) = Smtp::start("a_stuck_server_is_given_up_after_the_timeout", &["--hang"]) else {
        return;
    };
    let r = demo_mailed(
        &[
            "--smtp",
            &format!("smtp+insecure://127.0.0.1:{}", stuck.port),
            "--mail-timeout",
            "2",
        ],
        &[],
        &dir.path().join("r.html"),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("took longer than 2 s"), "{}", r.stderr);
    assert!(r.took < Duration::from_secs(20), "bounded: {:?}", r.took);
}

#[test]
fn nothing_to_report_sends_no_mail_unless_asked() {
    let Some(smtp) = Smtp::start("nothing_to_report_sends_no_mail_unless_asked", &[]) else {
        return;
    };
    let url = format!("smtp+insecure://127.0.0.1:{}", smtp.port);
    let clean = [
        "check",
        FR,
        "--input",
        "tests/fixtures/clean-page.html",
        "--no-state",
        "--at",
        AT,
        "--mail-to",
        "desk@example.org",
        "--smtp",
        &url,
    ];
    let r = blackout(&clean, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(smtp.messages().is_empty(), "a clean run mails nothing");
    let mut always = clean.to_vec();
    always.push("--mail-always");
    let r = blackout(&always, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let m = MessageParser::default().parse(&messages[0].0).unwrap();
    assert_eq!(
        m.subject(),
        Some("blackout: nothing at or above violation (fr-2017-presidentielle)")
    );
}

#[test]
fn a_hostile_title_cannot_inject_a_header() {
    let Some(smtp) = Smtp::start("a_hostile_title_cannot_inject_a_header", &[]) else {
        return;
    };
    let r = blackout(
        &[
            "check",
            FR,
            "--input",
            "tests/fixtures/hostile",
            "--no-state",
            "--at",
            "2017-05-08T00:00:00Z",
            "--mail-to",
            "desk@example.org",
            "--smtp",
            &format!("smtp+insecure://127.0.0.1:{}", smtp.port),
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let (raw, envelope) = &messages[0];
    assert_eq!(envelope["to"], serde_json::json!(["desk@example.org"]), "no recipient added");
    let m = MessageParser::default().parse(raw).unwrap();
    assert!(m.bcc().is_none(), "no Bcc header");
    let headers = String::from_utf8_lossy(&raw[..m.root_part().raw_body_offset() as usize]).to_string();
    assert!(!headers.contains("victim") && !headers.contains("script"), "{headers}");
    let html = m.body_html(0).unwrap().to_lowercase();
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "no element from the web in the HTML part"
    );
}

#[test]
fn a_report_is_handed_to_sendmail() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sendmail-stand-in");
    let script = script.to_str().unwrap();
    let html = dir.path().join("r.html");
    let kept = dir.path().to_str().unwrap();
    let sendmail = format!("--sendmail={script}");
    let r = demo_mailed(&[&sendmail], &[("SENDMAIL_STAND_IN_DIR", kept)], &html);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    assert_eq!(args, "-i\n-f\nblackout@example.org\n--\ndesk@example.org\nregulator@example.org\n");
    check_message(
        &std::fs::read(dir.path().join("message")).unwrap(),
        &std::fs::read_to_string(&html).unwrap(),
    );
    // A sendmail that fails: exit 2 with what it said.
    let r = demo_mailed(&[&sendmail, "--delivery-retries", "1"], &[("SENDMAIL_STAND_IN_FAIL", "1")], &html);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("queue full"), "{}", r.stderr);
    assert!(
        r.stderr.contains("after 2 attempt(s)"),
        "exit 75 is a temporary failure, retried: {}",
        r.stderr
    );
    // A sendmail that never ends: given up after the timeout, and killed.
    let r = demo_mailed(&[&sendmail, "--mail-timeout", "2"], &[("SENDMAIL_STAND_IN_HANG", "1")], &html);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("took longer than 2 s"), "{}", r.stderr);
    assert!(r.took < Duration::from_secs(20), "bounded: {:?}", r.took);
}

#[test]
fn mail_settings_are_checked_before_anything_is_fetched() {
    for (args, needle) in [
        (vec!["--mail-to", "desk@example.org"], "--smtp <URL>"),
        (vec!["--mail-to", "not an address", "--sendmail"], "is not a mail address"),
        (
            vec!["--mail-to", "d@example.org", "--smtp", "smtp://u:pw@mail.example.org"],
            "BLACKOUT_SMTP_PASSWORD",
        ),
        (
            vec![
                "--mail-to",
                "d@example.org",
                "--smtp",
                "smtp://mail.example.org",
                "--smtp-password-file",
                "/nonexistent/pw",
            ],
            "cannot read the SMTP password file `/nonexistent/pw`",
        ),
        (vec!["--webhook", "ftp://example.org/hook"], "must be http:// or https://"),
        (
            vec!["--mail-to", "d@example.org", "--sendmail=/nonexistent/sendmail"],
            "there is no sendmail program at `/nonexistent/sendmail`",
        ),
        (
            vec!["--mail-to", "d@example.org", "--smtp", "smtpx://u:pw@mail.example.org"],
            "a password in the URL",
        ),
        (
            vec!["--mail-to", "d@example.org", "--smtp", "smtpx://mail.example.org"],
            "unknown scheme `smtpx`",
        ),
        (
            vec!["--mail-to", "d@example.org", "--smtp", "smtp://u:pw@mail.example.org:99999"],
            "not an SMTP URL",
        ),
        (
            vec![
                "--mail-to",
                "d@example.org",
                "--smtp",
                "smtp://mail.example.org",
                "--smtp-ca-file",
                "/dev/null",
            ],
            "holds no certificate",
        ),
    ] {
        let mut all = vec!["check", FR, DEMO, "--no-state"];
        all.extend(args);
        let r = blackout(&all, &[]);
        assert_eq!(r.code, 2, "{all:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{all:?}: {}", r.stderr);
        assert!(!r.stderr.contains("pw@"), "a password is never repeated: {}", r.stderr);
        assert!(r.stdout.is_empty(), "nothing checked: {}", r.stdout);
    }
    let r = blackout(
        &[
            "check",
            FR,
            DEMO,
            "--no-state",
            "--mail-to",
            "d@example.org",
            "--smtp",
            "smtp+insecure://reports@mail.example.org:25",
        ],
        &[("BLACKOUT_SMTP_PASSWORD", "s3cret")],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("would send the password in clear to mail.example.org"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_night_whose_mail_failed_is_not_recorded_so_its_findings_are_told_the_next_night() {
    let Some(smtp) = Smtp::start(
        "a_night_whose_mail_failed_is_not_recorded_so_its_findings_are_told_the_next_night",
        &[],
    ) else {
        return;
    };
    let state = crate::util::fresh_data_home().join("state.db");
    let state = state.to_str().unwrap();
    let night = |port: u16| {
        blackout(
            &[
                "check",
                FR,
                DEMO,
                "--state",
                state,
                "--at",
                AT,
                "--new-only",
                "-q",
                "--delivery-retries",
                "0",
                "--mail-to",
                "desk@example.org",
                "--smtp",
                &format!("smtp+insecure://127.0.0.1:{port}"),
            ],
            &[],
        )
    };
    // The mail server is down: the report reaches no one, so the run is not recorded.
    let r = night(free_port());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("the run was not recorded"), "{}", r.stderr);
    // The next night tells the same findings as new, and records them.
    let r = night(smtp.port);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let m = MessageParser::default().parse(&messages[0].0).unwrap();
    assert!(m.subject().unwrap().starts_with("blackout: 4 new violations"), "{:?}", m.subject());
    // And then they are open: nothing new, no mail.
    let r = night(smtp.port);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(smtp.messages().len(), 1);
}
