//! The JSON report posted to a webhook (a chat bridge, a ticketing system), signed as GitHub
//! and Miniflux sign theirs: `X-Blackout-Signature: sha256=HEX`, the HMAC-SHA256 of the exact
//! body under a shared secret (`BLACKOUT_WEBHOOK_SECRET`), so the receiver can tell a report
//! from a forgery. A 5xx answer, a 429 or a lost connection is retried with backoff; any other
//! 4xx is the receiver saying no, and is not; every request has a timeout.

use hmac::{KeyInit, Mac};
use std::time::Duration;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Blackout-Signature";

#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: url::Url,
    /// The shared secret; without one the body is posted unsigned.
    pub secret: Option<Vec<u8>>,
    /// Bound on each request.
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook {url} answered {status}: {body}")]
    Refused { url: String, status: u16, body: String },
    #[error("cannot post to the webhook {url} after {attempts} attempt(s): {reason}")]
    Failed { url: String, attempts: u32, reason: String },
    #[error("{0}")]
    Setup(String),
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| WebhookError::Setup(format!("cannot start the webhook sender: {e}")))?;
    let client = reqwest::Client::builder()
        .user_agent(crate::report::TOOL)
        .timeout(hook.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| WebhookError::Setup(format!("cannot set up the webhook's HTTP client: {e}")))?;
    let signature = hook.secret.as_deref().map(|s| signature(s, &body));
    let url = hook.url.to_string();
    runtime.block_on(async {
        let mut wait = hook.backoff;
        let mut tried = 0;
        loop {
            tried += 1;
            let mut request = client
                .post(hook.url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            if let Some(sig) = &signature {
                request = request.header(SIGNATURE_HEADER, sig);
            }
            let (transient, reason) = match request.send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    let text = crate::report::inert(&text.chars().take(300).collect::<String>());
                    let transient = status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
                    if !transient {
                        return Err(WebhookError::Refused {
                            url: url.clone(),
                            status: status.as_u16(),
                            body: text,
                        });
                    }
                    (true, format!("HTTP {status}: {text}"))
                }
                Err(e) => (true, super::error_chain(&e)),
            };
            if !transient || tried > hook.retries {
                return Err(WebhookError::Failed {
                    url: url.clone(),
                    attempts: tried,
                    reason,
                });
            }
            tracing::warn!("webhook {url} failed (attempt {tried}): {reason}; retrying in {wait:?}");
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    })
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
