//! The JSON report posted to a webhook (a chat bridge, a ticketing system), signed as GitHub
//! and Miniflux sign theirs: `X-Blackout-Signature: sha256=HEX`, the HMAC-SHA256 of the exact
//! body under a shared secret (`BLACKOUT_WEBHOOK_SECRET`), so the receiver can tell a report
//! from a forgery. A 5xx answer, a 429 or a lost connection is retried with backoff; any other
//! 4xx is the receiver saying no, and is not; every request has a timeout.

use super::{Attempt, GaveUp, Secret};
use hmac::{KeyInit, Mac};
use std::sync::Mutex;
use std::time::Duration;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Blackout-Signature";

#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: url::Url,
    /// The shared secret; without one the body is posted unsigned.
    pub secret: Option<Secret>,
    /// Bound on each request.
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
}

impl Webhook {
    /// The webhook as messages name it: scheme, host and port only, since a webhook's path
    /// or query often is its password (chat services put their token there).
    pub fn shown(&self) -> String {
        let port = self.url.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{}{port}/…", self.url.scheme(), self.url.host_str().unwrap_or_default())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook {url} answered {reply}")]
    Refused { url: String, reply: String },
    #[error("cannot post to the webhook {url} after {attempts} attempt(s): {reason}")]
    Failed { url: String, attempts: u32, reason: String },
    #[error("{0}")]
    Runtime(String),
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Posts `body` (JSON) to the webhook.
pub fn post(hook: &Webhook, body: Vec<u8>) -> Result<(), WebhookError> {
    crate::http::install_crypto();
    let client = reqwest::Client::builder()
        .user_agent(crate::report::TOOL)
        .timeout(hook.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| WebhookError::Runtime(format!("cannot set up the webhook's HTTP client: {e}")))?;
    let signature = hook.secret.as_ref().map(|s| signature(s.0.as_bytes(), &body));
    let url = hook.shown();
    let last = Mutex::new(None);
    let what = format!("webhook {url}");
    let posting = super::retry(&what, hook.retries, hook.backoff, &last, || async {
        let mut request = client
            .post(hook.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        if let Some(sig) = &signature {
            request = request.header(SIGNATURE_HEADER, sig);
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                let text = crate::report::inert(&text.chars().take(300).collect::<String>());
                Err(Attempt {
                    // The receiver down or overloaded may be back; any other 4xx is its answer.
                    transient: status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS,
                    reason: format!("{status}: {text}"),
                })
            }
            Err(e) => {
                let no_answer = e.is_connect() || e.is_timeout() || e.is_request();
                let reason = crate::report::error_chain(&e.without_url());
                Err(Attempt {
                    // No answer (refused, reset, timed out): worth another try; a certificate
                    // the system does not trust will not change.
                    transient: no_answer && !reason.to_lowercase().contains("certificate"),
                    reason,
                })
            }
        }
    });
    // Every request is bounded; the whole is bounded too, by as long as every attempt and wait.
    let waits: Duration = (0..hook.retries).map(|n| hook.backoff * 2u32.saturating_pow(n)).sum();
    let whole = hook.timeout * (hook.retries + 1) + waits;
    match crate::http::bounded(whole, posting).map_err(WebhookError::Runtime)? {
        Some(Ok(())) => Ok(()),
        Some(Err(GaveUp { attempts, last })) if last.transient => Err(WebhookError::Failed {
            url,
            attempts,
            reason: last.reason,
        }),
        Some(Err(GaveUp { last, .. })) => Err(WebhookError::Refused { url, reply: last.reason }),
        None => Err(WebhookError::Failed {
            url,
            attempts: hook.retries + 1,
            reason: last
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| "no answer".into()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
