//! Wiring of delivery: the mail and webhook settings read from the arguments, the environment
//! and secret files before the run (a wrong setting stops the run before any fetch), then the
//! finished report handed to each output, the mail and the webhook in turn.

use super::Failure;
use super::args::{CheckArgs, DeliverArgs};
use crate::deliver::mail::{self, Mail, Transport};
use crate::deliver::webhook::Webhook;
use crate::deliver::{self, Output};
use crate::model::Severity;
use crate::report::Report;
use std::path::Path;
use std::time::Duration;

/// Where a report goes, resolved.
pub struct Delivery {
    outputs: Vec<Output>,
    mail: Option<Mail>,
    always: bool,
    webhook: Option<Webhook>,
}

/// The first line of a secret file, named in errors but never quoted.
fn secret_file(path: &Path, what: &str) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Message(format!("error: cannot read the {what} file `{}`: {e}", path.display())))?;
    let line = text.lines().next().unwrap_or_default().trim_end_matches('\r').to_string();
    if line.is_empty() {
        return Err(Failure::Message(format!("error: the {what} file `{}` is empty", path.display())));
    }
    Ok(line)
}

fn env_secret(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub fn resolve(a: &CheckArgs) -> Result<Delivery, Failure> {
    let d: &DeliverArgs = &a.deliver;
    let backoff = Duration::from_secs(2);
    let mail = match (&d.smtp, &d.sendmail, d.mail_to.is_empty()) {
        (_, _, true) => None,
        (smtp, sendmail, false) => {
            let transport = match (smtp, sendmail) {
                (Some(s), _) => Transport::Smtp(s.clone()),
                (None, Some(path)) => Transport::Sendmail(path.clone()),
                (None, None) => unreachable!("clap requires a transport with --mail-to"),
            };
            let password = match &d.smtp_password_file {
                Some(path) => Some(secret_file(path, "SMTP password")?),
                None => env_secret("BLACKOUT_SMTP_PASSWORD"),
            };
            let ca = match &d.smtp_ca_file {
                Some(path) => Some(std::fs::read(path).map_err(|e| {
                    Failure::Message(format!(
                        "error: cannot read the certificate authority file `{}`: {e}",
                        path.display()
                    ))
                })?),
                None => None,
            };
            Some(Mail {
                to: d.mail_to.clone(),
                from: d.mail_from.clone().unwrap_or_else(mail::default_from),
                transport,
                attach_csv: d.mail_csv,
                password,
                ca,
                timeout: Duration::from_secs(d.mail_timeout),
                retries: d.delivery_retries,
                backoff,
            })
        }
    };
    let webhook = match &d.webhook {
        None => None,
        Some(url) => {
            let secret = match &d.webhook_secret_file {
                Some(path) => Some(secret_file(path, "webhook secret")?),
                None => env_secret("BLACKOUT_WEBHOOK_SECRET"),
            };
            if secret.is_none() {
                eprintln!(
                    "note: the webhook's posts are not signed: set BLACKOUT_WEBHOOK_SECRET (or --webhook-secret-file) \
                     so that its receiver can check they come from this job"
                );
            }
            Some(Webhook {
                url: url.clone(),
                secret: secret.map(String::into_bytes),
                timeout: Duration::from_secs(d.webhook_timeout),
                retries: d.delivery_retries,
                backoff,
            })
        }
    };
    Ok(Delivery {
        outputs: a.output.clone(),
        mail,
        always: d.mail_always,
        webhook,
    })
}

impl Delivery {
    /// Writes the outputs, sends the mail and posts the webhook; each failure is reported and
    /// the others still happen. Returns what failed, one line each.
    pub fn deliver(&self, report: &Report, fail_on: Severity) -> Vec<String> {
        let mut failed = Vec::new();
        for o in &self.outputs {
            let bytes = o.format.renderer(false, fail_on).to_bytes(report);
            if let Err(e) = deliver::write_atomic(&o.path, &bytes) {
                failed.push(format!("cannot write the report to `{}`: {e}", o.path.display()));
            }
        }
        if let Some(m) = &self.mail {
            if self.always || !report.nothing_to_report(fail_on) {
                let sent = mail::message(report, m, fail_on).and_then(|msg| mail::send(msg, m));
                if let Err(e) = sent {
                    failed.push(format!("the report was not mailed: {e}"));
                }
            } else {
                tracing::info!("nothing to report: no mail sent (--mail-always sends one anyway)");
            }
        }
        if let Some(w) = &self.webhook {
            let body = crate::report::Format::Json.renderer(false, fail_on).to_bytes(report);
            if let Err(e) = crate::deliver::webhook::post(w, body) {
                failed.push(format!("the report was not posted: {e}"));
            }
        }
        failed
    }
}
