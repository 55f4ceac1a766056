//! RFC 3161 trusted timestamps over manifest digests.

use crate::model::Digest;

/// Checks a stored token (DER, base64) over `digest`.
pub fn check(_token: &str, _digest: &Digest) -> Result<(), String> {
    Err("this build cannot check timestamp tokens yet".into())
}
