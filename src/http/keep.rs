//! Conditional GET between runs: what a fetcher needs to ask a server "changed since?" and to
//! reuse the body it kept when the answer is `304 Not Modified`. The state store keeps them
//! (`crate::store::Kept`), so what was fetched is in one place; a fetcher without a keeper
//! always fetches in full.

use url::Url;

/// What a server said about a body it sent, for asking about it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
}

/// Keeps bodies fetched whole, with their validators, from one run to the next.
pub trait Keep: Send + Sync + std::fmt::Debug {
    /// The validators of the body kept for `url`, only if the whole body is there to reuse
    /// (validators are never sent for a body that could not be given back).
    fn validators(&self, url: &Url) -> Option<Validators>;
    /// The body kept for `url`, at most `cap` bytes, and whether it was cut; `None` if it is
    /// gone or damaged since [`Keep::validators`] was asked.
    fn body(&self, url: &Url, cap: u64) -> Option<(Vec<u8>, bool)>;
    /// Keeps a body fetched whole that came with validators. Failing to keep it costs a full
    /// fetch next time, nothing more, so it does not fail the fetch.
    fn keep(&self, url: &Url, validators: Validators, body: &[u8]);
    /// The server answered "not modified" and the kept body was reused: it is still current.
    fn revalidated(&self, url: &Url);
}
