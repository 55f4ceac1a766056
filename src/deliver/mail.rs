//! The report by e-mail, the way a nightly cron job delivers it: `multipart/alternative` (the
//! text report, then the HTML report), the CSV optionally attached, a subject that says what
//! matters ([`crate::report::headline`], built from counts and the rule files' outlet names,
//! never from web text), `Auto-Submitted: auto-generated` (RFC 3834) so that vacation
//! responders stay quiet, and a `List-Id` (RFC 2919) that filters can file it by.
//!
//! Sent over SMTP (STARTTLS required on `smtp://`, implicit TLS on `smtps://`, plain only on
//! `smtp+insecure://`, for tests) or handed to the local MTA (`sendmail`). A transient failure
//! (a 4xx reply, a lost connection) is retried with backoff; the whole send, retries included,
//! is bounded by one timeout, because lettre's own covers only the connect (lettre#1027).
//! Credentials come from the environment or a file, never from the command line, and are
//! never logged.

use super::{Attempt, GaveUp, Secret};
use crate::model::Severity;
use crate::report::{Format, Report};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
pub use lettre::transport::smtp::client::Certificate;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// Where mail is handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Smtp(SmtpServer),
    /// The local MTA's `sendmail` program (run as `sendmail -i -f FROM -- TO…`).
    Sendmail(PathBuf),
}

/// How the connection to an SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://`: plain connection upgraded with STARTTLS, which the server must offer.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Tls,
    /// `smtp+insecure://`: no TLS at all; for a test server on loopback.
    Insecure,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    pub security: Security,
    pub host: String,
    pub port: u16,
    /// The user, when the URL names one (`smtp://reports@mail.example.org`).
    pub user: Option<String>,
}

impl SmtpServer {
    /// `smtp://HOST[:PORT]` (587), `smtps://HOST[:PORT]` (465), `smtp+insecure://HOST:PORT`; a
    /// user may be named, a password never (it would show in `ps` and in shell history).
    /// Errors never repeat the URL as given: it may hold a password.
    pub fn parse(s: &str) -> Result<SmtpServer, String> {
        let url = url::Url::parse(s)
            .map_err(|e| format!("not an SMTP URL ({e}); write e.g. `smtp://mail.example.org:587` (the password goes elsewhere)"))?;
        if url.password().is_some() {
            return Err(format!(
                "`{}`: a password in the URL would be visible to every user of this machine; put it in \
                 BLACKOUT_SMTP_PASSWORD or a file named by --smtp-password-file",
                masked(&url)
            ));
        }
        let (security, port) = match url.scheme() {
            "smtp" => (Security::StartTls, 587),
            "smtps" => (Security::Tls, 465),
            "smtp+insecure" => (Security::Insecure, 25),
            other => {
                return Err(format!(
                    "`{}`: unknown scheme `{other}`; use smtp:// (STARTTLS), smtps:// (TLS) or smtp+insecure:// (tests only)",
                    masked(&url)
                ));
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("`{}` names no host", masked(&url)))?
            .trim_matches(['[', ']'])
            .to_string();
        let user = Some(url.username())
            .filter(|u| !u.is_empty())
            .map(|u| percent_encoding::percent_decode_str(u).decode_utf8_lossy().into_owned());
        Ok(SmtpServer {
            security,
            host,
            port: url.port().unwrap_or(port),
            user,
        })
    }
}

impl SmtpServer {
    /// Whether the server is this machine (where `smtp+insecure://` belongs).
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

fn masked(url: &url::Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    u.to_string()
}

/// Everything a mail needs besides the report, checked before the run.
#[derive(Clone)]
pub struct Mail {
    pub to: Vec<Mailbox>,
    pub from: Mailbox,
    pub transport: Transport,
    /// Attach the findings as CSV.
    pub attach_csv: bool,
    /// The SMTP login, when the server wants one.
    pub login: Option<Login>,
    /// An extra certificate authority to trust for the server, e.g. a company's own.
    pub ca: Option<Certificate>,
    /// Bound on the whole send, retries included.
    pub timeout: Duration,
    /// Retries after a transient failure.
    pub retries: u32,
    /// First wait before a retry; doubled each time.
    pub backoff: Duration,
}

#[derive(Debug, Clone)]
pub struct Login {
    pub user: String,
    pub password: Secret,
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("{server} refused the message: {reply}")]
    Refused { server: String, reply: String },
    #[error("cannot send mail through {server} after {attempts} attempt(s): {reason}")]
    Failed { server: String, attempts: u32, reason: String },
    #[error("sending mail through {server} took longer than {seconds} s (--mail-timeout), so it was given up{}", last.as_deref().map(|l| format!("; the last attempt: {l}")).unwrap_or_default())]
    Timeout {
        server: String,
        seconds: u64,
        last: Option<String>,
    },
    #[error("{0}")]
    Runtime(String),
}

/// A certificate authority file (PEM) as lettre takes it, with at least one certificate that
/// parses (lettre takes an empty or foreign file without a word, and fails at the handshake).
pub fn certificate(pem: &[u8]) -> Result<Certificate, String> {
    use rustls::pki_types::pem::PemObject;
    let certs: Result<Vec<_>, _> = rustls::pki_types::CertificateDer::pem_slice_iter(pem).collect();
    match certs {
        Ok(certs) if !certs.is_empty() => Certificate::from_pem(pem).map_err(|e| format!("not a PEM certificate ({e})")),
        Ok(_) => Err("holds no certificate (`-----BEGIN CERTIFICATE-----`)".into()),
        Err(e) => Err(format!("not a PEM certificate ({e})")),
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no human sent it, no one should auto-reply.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// `List-Id: blackout fr-2017-presidentielle <fr-2017-presidentielle.blackout.localhost>`.
#[derive(Clone)]
struct ListId(String);

impl Header for ListId {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Id")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListId(s.into()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The List-Id of an election's reports: its id as a dot-atom label (RFC 2919 §2; `localhost`
/// is the namespace for ids no domain stands behind).
fn list_id(election: &str) -> String {
    let label: String = election
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let label = label.trim_matches('-');
    let label = if label.is_empty() { "election" } else { label };
    format!("blackout {label} <{label}.blackout.localhost>")
}

/// The message of a report: its headline as subject, the text and HTML reports as
/// alternatives, the CSV attached when asked.
pub fn message(report: &Report, mail: &Mail, fail_on: Severity) -> Result<Message, MailError> {
    let text = String::from_utf8(Format::Text.renderer(false, fail_on).to_bytes(report)).expect("reports are UTF-8");
    let html = String::from_utf8(Format::Html.renderer(false, fail_on).to_bytes(report)).expect("reports are UTF-8");
    let mut builder = Message::builder()
        .from(mail.from.clone())
        .subject(crate::report::headline(report, fail_on))
        .date_now()
        .message_id(None)
        .user_agent(crate::report::TOOL.to_string())
        .header(AutoSubmitted)
        .header(ListId(list_id(&report.election)));
    for to in &mail.to {
        builder = builder.to(to.clone());
    }
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html));
    let body = match mail.attach_csv {
        false => alternative,
        true => {
            let csv = Format::Csv.renderer(false, fail_on).to_bytes(report);
            let kind = ContentType::parse("text/csv; charset=utf-8").expect("a valid content type");
            MultiPart::mixed()
                .multipart(alternative)
                .singlepart(Attachment::new("findings.csv".into()).body(csv, kind))
        }
    };
    Ok(builder.multipart(body)?)
}

/// Sends `message`, retrying transient failures, all within `mail.timeout`.
pub fn send(message: Message, mail: &Mail) -> Result<(), MailError> {
    let server = describe(&mail.transport);
    let last = Mutex::new(None);
    let what = format!("mail through {server}");
    let sending = super::retry(&what, mail.retries, mail.backoff, &last, || async {
        match &mail.transport {
            Transport::Smtp(s) => smtp(&message, mail, s).await,
            Transport::Sendmail(path) => sendmail(&message, path).await,
        }
    });
    match crate::http::bounded(mail.timeout, sending).map_err(MailError::Runtime)? {
        Some(Ok(())) => Ok(()),
        Some(Err(GaveUp { attempts, last })) if last.transient => Err(MailError::Failed {
            server,
            attempts,
            reason: last.reason,
        }),
        Some(Err(GaveUp { last, .. })) => Err(MailError::Refused {
            server,
            reply: last.reason,
        }),
        None => Err(MailError::Timeout {
            server,
            seconds: mail.timeout.as_secs(),
            last: last.into_inner().unwrap_or_else(|p| p.into_inner()),
        }),
    }
}

fn describe(t: &Transport) -> String {
    match t {
        Transport::Smtp(s) => format!("the mail server {}:{}", s.host, s.port),
        Transport::Sendmail(p) => format!("sendmail (`{}`)", p.display()),
    }
}

async fn smtp(message: &Message, mail: &Mail, s: &SmtpServer) -> Result<(), Attempt> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.as_str())
        .port(s.port)
        .timeout(Some(mail.timeout));
    if s.security != Security::Insecure {
        let mut params = TlsParameters::builder(s.host.clone());
        if let Some(ca) = &mail.ca {
            params = params.add_root_certificate(ca.clone());
        }
        let params = params.build_rustls().map_err(|e| Attempt {
            transient: false,
            reason: format!("cannot set up TLS: {e}"),
        })?;
        builder = builder.tls(match s.security {
            Security::StartTls => Tls::Required(params),
            _ => Tls::Wrapper(params),
        });
    }
    if let Some(login) = &mail.login {
        builder = builder.credentials(Credentials::new(login.user.clone(), login.password.0.clone()));
    }
    match builder.build().send(message.clone()).await {
        Ok(_) => Ok(()),
        Err(e) => {
            let reason = crate::report::error_chain(&e);
            // TLS spoken to a plain port (or the reverse) fails as a "corrupt message".
            let wrong_port = reason.contains("corrupt message") || reason.contains("InvalidContentType");
            Err(Attempt {
                // A 4xx reply, or no reply at all (refused, reset, timed out): worth another
                // try. A 5xx reply, a TLS or a login failure: the same again would fail again.
                transient: !wrong_port && (e.is_transient() || (!e.is_permanent() && !e.is_tls() && !e.is_client())),
                reason: match wrong_port {
                    true => format!(
                        "{reason} (is it the right port for the scheme? smtps:// is TLS from the first byte, usually port 465; smtp:// upgrades with STARTTLS, usually 587)"
                    ),
                    false => reason,
                },
            })
        }
    }
}

/// Hands the message to `sendmail -i -f FROM -- TO…`. Run here rather than through lettre's
/// transport so that a sendmail that stops before reading the whole message still has its
/// exit status and its own words reported (lettre reports the broken pipe instead).
async fn sendmail(message: &Message, path: &std::path::Path) -> Result<(), Attempt> {
    let fail = |reason: String| Attempt { transient: false, reason };
    let envelope = message.envelope();
    let mut cmd = tokio::process::Command::new(path);
    cmd.arg("-i");
    if let Some(from) = envelope.from() {
        cmd.arg("-f").arg(from);
    }
    cmd.arg("--")
        .args(envelope.to().iter().map(ToString::to_string))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| fail(format!("cannot run `{}`: {e}", path.display())))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let written = tokio::io::AsyncWriteExt::write_all(&mut stdin, &message.formatted()).await;
    drop(stdin);
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| fail(format!("`{}` did not finish: {e}", path.display())))?;
    let said = crate::report::inert(String::from_utf8_lossy(&out.stderr).trim());
    match (out.status.success(), written) {
        (true, Ok(())) => Ok(()),
        (true, Err(e)) => Err(fail(format!("`{}` did not read the whole message: {e}", path.display()))),
        (false, _) => Err(Attempt {
            // EX_TEMPFAIL (75): the MTA says to try again later; any other status will not
            // change on its own.
            transient: out.status.code() == Some(75),
            reason: format!("`{}` exited with {}: {said}", path.display(), out.status),
        }),
    }
}

/// `blackout@HOST`, the sender when none is given.
pub fn default_from() -> Mailbox {
    let host = Some(crate::host::name())
        .filter(|h| h != "unknown" && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        .unwrap_or_else(|| "localhost".into());
    format!("blackout <blackout@{host}>")
        .parse()
        .unwrap_or_else(|_| "blackout@localhost".parse().expect("a valid address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_say_how_the_connection_is_secured() {
        let s = SmtpServer::parse("smtp://mail.example.org").unwrap();
        assert_eq!((s.security, s.port, s.user), (Security::StartTls, 587, None));
        let s = SmtpServer::parse("smtps://reports%40x@mail.example.org").unwrap();
        assert_eq!((s.security, s.port, s.user.as_deref()), (Security::Tls, 465, Some("reports@x")));
        let s = SmtpServer::parse("smtp+insecure://127.0.0.1:2525").unwrap();
        assert_eq!((s.security, s.port), (Security::Insecure, 2525));
        let e = SmtpServer::parse("smtp://u:hunter2@mail.example.org").unwrap_err();
        assert!(e.contains("BLACKOUT_SMTP_PASSWORD") && !e.contains("hunter2"), "{e}");
        assert!(SmtpServer::parse("http://mail.example.org").unwrap_err().contains("smtp://"));
    }

    #[test]
    fn list_ids_are_dot_atoms() {
        assert_eq!(
            list_id("fr-2017-presidentielle"),
            "blackout fr-2017-presidentielle <fr-2017-presidentielle.blackout.localhost>"
        );
        assert_eq!(
            list_id("Élection 2024\r\nBcc: x"),
            "blackout lection-2024--bcc--x <lection-2024--bcc--x.blackout.localhost>"
        );
    }
}
