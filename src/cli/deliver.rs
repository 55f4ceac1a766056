//! Delivery settings read from the arguments, the environment and secret files, and checked,
//! before the run: a wrong setting (an unreadable password file, a password without a user, a
//! certificate that is not PEM) stops it before it costs the outlets a fetch.

use super::Failure;
use super::args::{CheckArgs, DeliverArgs};
use crate::deliver::mail::{self, Login, Mail, SmtpServer, Transport};
use crate::deliver::webhook::Webhook;
use crate::deliver::{Delivery, Secret};
use std::path::Path;
use std::time::Duration;

/// The first line of a secret file, named in errors but never quoted.
fn secret_file(path: &Path, what: &str) -> Result<Secret, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Message(format!("error: cannot read the {what} file `{}`: {e}", path.display())))?;
    let line = text.lines().next().unwrap_or_default().trim_end_matches('\r').to_string();
    if line.is_empty() {
        return Err(Failure::Message(format!("error: the {what} file `{}` is empty", path.display())));
    }
    Ok(Secret(line))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn error(message: String) -> Failure {
    Failure::Message(format!("error: {message}"))
}

pub fn resolve(a: &CheckArgs) -> Result<Delivery, Failure> {
    let d: &DeliverArgs = &a.deliver;
    let backoff = Duration::from_secs(2);
    let mail = match (&d.smtp, &d.sendmail) {
        _ if d.mail_to.is_empty() => None,
        (Some(url), _) => {
            // Parsed here, not by clap, whose error would repeat the URL and its password.
            let server = SmtpServer::parse(url).map_err(|e| error(format!("--smtp: {e}")))?;
            let password = match &d.smtp_password_file {
                Some(path) => Some(secret_file(path, "SMTP password")?),
                None => env("BLACKOUT_SMTP_PASSWORD").map(Secret),
            };
            let user = server.user.clone().or_else(|| env("BLACKOUT_SMTP_USER"));
            let login = match (user, password) {
                (Some(user), Some(password)) => Some(Login { user, password }),
                (None, None) => None,
                (None, Some(_)) => {
                    return Err(error(
                        "an SMTP password is set but no user: set BLACKOUT_SMTP_USER or name the user in the URL (smtp://USER@HOST)".into(),
                    ));
                }
                (Some(user), None) => {
                    return Err(error(format!(
                        "the SMTP user `{user}` has no password: set BLACKOUT_SMTP_PASSWORD or --smtp-password-file"
                    )));
                }
            };
            if login.is_some() && server.security == mail::Security::Insecure && !server.is_loopback() {
                return Err(error(format!(
                    "smtp+insecure:// would send the password in clear to {}: use smtp:// (STARTTLS) or smtps://",
                    server.host
                )));
            }
            let ca = match &d.smtp_ca_file {
                Some(path) => {
                    let pem = std::fs::read(path)
                        .map_err(|e| error(format!("cannot read the certificate authority file `{}`: {e}", path.display())))?;
                    Some(mail::certificate(&pem).map_err(|e| error(format!("`{}`: {e}", path.display())))?)
                }
                None => None,
            };
            Some(mail_of(d, Transport::Smtp(server), login, ca, backoff))
        }
        (None, Some(path)) => {
            use std::os::unix::fs::PermissionsExt;
            let runnable = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            if !runnable {
                return Err(error(format!(
                    "there is no sendmail program at `{}`: install a local MTA (Debian: `apt install postfix` or `msmtp-mta`), or name it with --sendmail=PATH, or send through --smtp",
                    path.display()
                )));
            }
            Some(mail_of(d, Transport::Sendmail(path.clone()), None, None, backoff))
        }
        (None, None) => unreachable!("clap requires a transport with --mail-to"),
    };
    let from_env = match (&d.webhook, env("BLACKOUT_WEBHOOK_URL")) {
        (None, Some(url)) => Some(
            url::Url::parse(&url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| error("BLACKOUT_WEBHOOK_URL is not an http:// or https:// URL".into()))?,
        ),
        _ => None,
    };
    let webhook = match d.webhook.as_ref().or(from_env.as_ref()) {
        None => None,
        Some(url) => {
            let secret = match &d.webhook_secret_file {
                Some(path) => Some(secret_file(path, "webhook secret")?),
                None => env("BLACKOUT_WEBHOOK_SECRET").map(Secret),
            };
            if secret.is_none() && !a.quiet {
                eprintln!(
                    "note: the webhook's posts are not signed: set BLACKOUT_WEBHOOK_SECRET (or --webhook-secret-file) \
                     so that its receiver can check they come from this job"
                );
            }
            Some(Webhook {
                url: url.clone(),
                secret,
                timeout: Duration::from_secs(d.webhook_timeout),
                retries: d.delivery_retries,
                backoff,
            })
        }
    };
    Ok(Delivery {
        outputs: a.output.clone(),
        mail,
        mail_always: d.mail_always,
        webhook,
    })
}

fn mail_of(d: &DeliverArgs, transport: Transport, login: Option<Login>, ca: Option<mail::Certificate>, backoff: Duration) -> Mail {
    Mail {
        to: d.mail_to.clone(),
        from: d.mail_from.clone().unwrap_or_else(mail::default_from),
        transport,
        attach_csv: d.mail_csv,
        login,
        ca,
        timeout: Duration::from_secs(d.mail_timeout),
        retries: d.delivery_retries,
        backoff,
    }
}
