//! Delivery: where a finished report goes besides stdout — files (`--output`), e-mail
//! (`mail`) and a webhook (`webhook`). Downstream of `report`: it renders the report it is
//! given (already redacted) and never decides what the report says.

pub mod mail;
pub mod webhook;

use crate::model::Severity;
use crate::report::{Format, Report};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// Where a finished report goes besides stdout, resolved before the run.
pub struct Delivery {
    pub outputs: Vec<Output>,
    pub mail: Option<mail::Mail>,
    /// Mail even when there is nothing to report.
    pub mail_always: bool,
    pub webhook: Option<webhook::Webhook>,
}

impl Delivery {
    /// Writes the outputs, sends the mail (when there is something to report, or always if
    /// asked) and posts the webhook (after every run: a receiver learns of clean runs too);
    /// each failure is said and the others still happen. Returns what failed, one line each.
    pub fn deliver(&self, report: &Report, fail_on: Severity) -> Vec<String> {
        let mut failed = Vec::new();
        for o in &self.outputs {
            let bytes = o.format.renderer(false, fail_on).to_bytes(report);
            if let Err(e) = crate::files::write_whole(&o.path, &bytes, true) {
                failed.push(format!("cannot write the report to `{}`: {e}", o.path.display()));
            }
        }
        if let Some(m) = &self.mail {
            if self.mail_always || !report.nothing_to_report(fail_on) {
                let sent = mail::message(report, m, fail_on).and_then(|msg| mail::send(msg, m));
                if let Err(e) = sent {
                    failed.push(format!("the report was not mailed: {e}"));
                }
            } else {
                tracing::info!("nothing to report: no mail sent (--mail-always sends one anyway)");
            }
        }
        if let Some(w) = &self.webhook {
            let body = Format::Json.renderer(false, fail_on).to_bytes(report);
            if let Err(e) = webhook::post(w, body) {
                failed.push(format!("the report was not posted: {e}"));
            }
        }
        failed
    }
}

/// A password or a shared secret: never shown, in `Debug` output either.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One failed attempt at a delivery: whether trying again may help, and what happened.
struct Attempt {
    transient: bool,
    reason: String,
}

/// How a delivery ended when it did not succeed.
struct GaveUp {
    attempts: u32,
    last: Attempt,
}

/// Runs `attempt` until it succeeds, fails for good (a failure that is not transient), or
/// `retries` retries are spent, waiting `backoff` before the first retry and twice as long
/// before each next. Each failure's reason is also kept in `last`, which a caller that
/// bounds the whole by a timeout reads when it fires.
async fn retry<F, Fut>(what: &str, retries: u32, backoff: Duration, last: &Mutex<Option<String>>, mut attempt: F) -> Result<(), GaveUp>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Attempt>>,
{
    let mut wait = backoff;
    let mut tried = 0;
    loop {
        tried += 1;
        let failed = match attempt().await {
            Ok(()) => return Ok(()),
            Err(a) => a,
        };
        *last.lock().unwrap_or_else(|p| p.into_inner()) = Some(failed.reason.clone());
        if !failed.transient || tried > retries {
            return Err(GaveUp {
                attempts: tried,
                last: failed,
            });
        }
        tracing::warn!("{what} failed (attempt {tried}): {}; retrying in {wait:?}", failed.reason);
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
}

/// A file the report is written to, in one format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub path: PathBuf,
    pub format: Format,
}

impl Output {
    /// `FILE` with a known extension (`report.html`, `findings.csv`), or `FORMAT:FILE`.
    pub fn parse(s: &str) -> Result<Output, String> {
        if let Some((name, path)) = s.split_once(':')
            && let Some(format) = Format::named(name)
        {
            if path.is_empty() {
                return Err(format!("`{s}` names no file after `{name}:`"));
            }
            return Ok(Output {
                path: PathBuf::from(path),
                format,
            });
        }
        let path = PathBuf::from(s);
        match Format::from_extension(&path) {
            Some(format) => Ok(Output { path, format }),
            None => Err(format!(
                "cannot tell the format of `{s}` from its extension; use .txt .json .jsonl .csv .html or .md, \
                 or name it: `html:{s}`"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_take_their_format_from_the_extension_or_a_prefix() {
        assert_eq!(Output::parse("r/report.html").unwrap().format, Format::Html);
        assert_eq!(Output::parse("findings.CSV").unwrap().format, Format::Csv);
        assert_eq!(
            Output::parse("markdown:/tmp/x").unwrap(),
            Output {
                path: "/tmp/x".into(),
                format: Format::Markdown
            }
        );
        assert!(Output::parse("report.pdf").unwrap_err().contains("html:report.pdf"));
        assert!(Output::parse("html:").is_err());
    }
}
