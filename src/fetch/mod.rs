//! Getting bytes: where a source's feeds and pages live, and reading them with caps.
//!
//! [`LocalFetcher`] reads local files, directories and `file://` URLs; `http::HttpFetcher`
//! adds HTTP(S). Everything after the [`Fetcher`] trait sees only a [`Document`] (the bytes,
//! the URL asked for and the one they came from, status, headers, fetch time, redirects), never
//! how the bytes were obtained. Both fetchers cut bodies at the same cap, so a replay from
//! saved files reads exactly what the live run did.

mod capture;
mod kinds;
mod local;

pub use capture::{Bodies, Captured, ExchangeRecord, Failure, Replayer};
pub use kinds::{InputKind, files_under, kind_of, kind_of_bytes, kind_of_file, scan_dir, scan_pages};
pub use local::LocalFetcher;

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use url::Url;

/// Largest body kept from one document unless told otherwise (`--max-body`, a source's
/// `max_body`); the rest is cut off and recorded as a problem.
pub const DEFAULT_MAX_BODY: u64 = 10 * 1024 * 1024;

/// Where an input lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Http(Url),
}

/// Why a location cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("empty location")]
    Empty,
    #[error("not a local file URL")]
    NotLocal,
    #[error("unsupported URL scheme `{0}`")]
    Scheme(String),
}

impl Location {
    /// Parses a rule-file location: a URL, or a path relative to `base_dir`.
    pub fn parse(s: &str, base_dir: &Path) -> Result<Location, LocationError> {
        if s.trim().is_empty() {
            return Err(LocationError::Empty);
        }
        if let Ok(url) = Url::parse(s) {
            return match url.scheme() {
                "file" => url.to_file_path().map(Location::File).map_err(|()| LocationError::NotLocal),
                "http" | "https" => Ok(Location::Http(url)),
                other if other.len() > 1 => Err(LocationError::Scheme(other.to_string())),
                // A one-letter "scheme" is a Windows drive letter: treat as a path.
                _ => Ok(Location::File(base_dir.join(s))),
            };
        }
        Ok(Location::File(base_dir.join(s)))
    }

    /// The URL that identifies the input in reports and against which relative links resolve.
    pub fn url(&self) -> Url {
        match self {
            Location::Http(u) => u.clone(),
            Location::File(p) => {
                let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                let abs = replayed(abs);
                Url::from_file_path(&abs).unwrap_or_else(|()| Url::parse("file:///").expect("static URL"))
            }
        }
    }

    /// Maps an item link to a location this fetcher can read: file URLs only for now.
    pub fn from_url(url: &Url) -> Location {
        match url.to_file_path() {
            Ok(p) if url.scheme() == "file" => Location::File(p),
            _ => Location::Http(url.clone()),
        }
    }
}

/// Where a replay put the files the run read (see `evidence::replay`): a file below it is
/// known by the address it had in the run, so that items, findings and links come out the same.
static REPLAY_ROOT: std::sync::RwLock<Option<PathBuf>> = std::sync::RwLock::new(None);

/// Files below `root` are known by their paths without it (for a replay, once per process).
pub fn set_replay_root(root: Option<PathBuf>) {
    *REPLAY_ROOT.write().expect("replay root lock") = root;
}

fn replayed(path: PathBuf) -> PathBuf {
    match &*REPLAY_ROOT.read().expect("replay root lock") {
        Some(root) => match path.strip_prefix(root) {
            Ok(rest) => Path::new("/").join(rest),
            Err(_) => path,
        },
        None => path,
    }
}

/// Bytes as fetched, with what we know about them.
#[derive(Debug, Clone)]
pub struct Document {
    /// The URL asked for.
    pub url: Url,
    /// Where the bytes came from, after any redirects (links in them resolve against it).
    pub final_url: Url,
    /// The HTTP status of the final response; `None` for a file.
    pub status: Option<u16>,
    /// The final response's headers, as sent (names lower-case); none for a file.
    pub headers: Vec<(String, String)>,
    pub bytes: Vec<u8>,
    pub fetched_at: DateTime<Utc>,
    /// Set when the body was cut at `max_bytes`.
    pub truncated: bool,
    pub max_bytes: u64,
    /// The URLs redirected from, in order (empty without redirects).
    pub redirects: Vec<Url>,
    /// The server answered "not modified" and these are the bytes kept from an earlier run.
    pub from_cache: bool,
    /// How long the fetch took, waits for limits and retries included.
    pub elapsed: std::time::Duration,
    /// Every HTTP exchange that led to the document, in order: each redirect, then the answer
    /// whose body `bytes` is (empty for a file). What evidence records of the fetch.
    pub exchanges: Vec<Exchange>,
}

/// One HTTP request and the response head it got, as evidence keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub method: Method,
    pub url: Url,
    /// The headers blackout set on the request (the client adds its defaults).
    pub request_headers: Vec<(String, String)>,
    pub status: u16,
    /// The response's headers as sent (names lower-case).
    pub headers: Vec<(String, String)>,
    /// When the request was sent, and when the response head (or, for the final answer, the
    /// whole body) was in.
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    /// The server's address the answer came from.
    pub peer: Option<std::net::IpAddr>,
}

impl Document {
    /// `Content-Type` as the transport declared it (none for files).
    pub fn content_type(&self) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.as_str())
    }

    /// Decodes the bytes (see `charset`), with the transport's charset and the site's
    /// top-level domain as hints.
    pub fn decode(&self, source_override: Option<&'static encoding_rs::Encoding>) -> crate::charset::Decoded {
        let tld = self.final_url.domain().and_then(|d| d.rsplit('.').next());
        crate::charset::decode(&self.bytes, source_override, self.content_type(), tld)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot read `{}`: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("fetching over HTTP is not available here; save the page and pass it with `--input`, or use a `file://` URL")]
    HttpUnavailable,
    #[error("{message}")]
    Network {
        /// Boxed: the error travels in every fetch's `Result`, which it would double in size.
        url: Box<Url>,
        stage: NetStage,
        message: String,
        /// The HTTP exchanges made before it failed: the redirects followed and, for an answer
        /// whose status is not success, that answer's head (its body is not read). Evidence
        /// too: a `410 Gone` says when the outlet took a page down.
        exchanges: Vec<Exchange>,
    },
    /// A replay cannot serve this address from the captures it was given.
    #[error("cannot replay `{url}`: {why}")]
    Replay { url: String, why: String },
}

impl FetchError {
    /// The error with `earlier` exchanges (the redirects that led to it, the attempts retried)
    /// before its own.
    pub fn after(mut self, earlier: Vec<Exchange>) -> FetchError {
        if let FetchError::Network { exchanges, .. } = &mut self {
            exchanges.splice(0..0, earlier);
        }
        self
    }

    /// The exchanges it carries.
    pub fn into_exchanges(self) -> Vec<Exchange> {
        match self {
            FetchError::Network { exchanges, .. } => exchanges,
            _ => Vec::new(),
        }
    }
}

/// Where a network fetch failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetStage {
    Dns,
    Connect,
    Tls,
    Timeout,
    /// An HTTP status other than success.
    Status,
    RedirectLoop,
    /// Disallowed by robots.txt.
    Robots,
    /// A private or loopback address, refused by `--deny-private-networks`.
    Denied,
    /// The body could not be read to its end.
    Body,
}

/// A location to fetch, and whether the site's robots.txt has a say: it does for pages, not for
/// the feeds an outlet advertises, nor where the rule file says to ignore it.
#[derive(Debug, Clone)]
pub struct Request {
    pub location: Location,
    pub obey_robots: bool,
    /// The largest body kept for this request, instead of the fetcher's cap.
    pub max_body: Option<u64>,
}

/// An HTTP request's method. blackout only reads, so only `GET`; kept with every exchange so
/// that evidence says so rather than leaves it to be assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
        }
    }
}

/// Sees a fetch as it ends: the document as fetched, or why there is none. What evidence
/// records; the fetcher tells it of what it fetches on its own behalf (robots.txt), the run of
/// every document it asks for.
pub trait Witness: Send + Sync + std::fmt::Debug {
    fn fetched(&self, location: &Location, fetched: &Result<Document, FetchError>);
}

/// Obtains documents. Implementations must be shareable across worker threads.
pub trait Fetcher: Sync {
    /// Fetches every request, calling `each(index, result)` as each completes: in any
    /// order, from any thread, possibly several at once. Returns when all are done.
    fn fetch_each(&self, requests: &[Request], each: &(dyn Fn(usize, Result<Document, FetchError>) + Sync));

    /// Whether this fetcher can read `location` at all. A feed item whose page it cannot
    /// reach is judged on what the feed itself says, without a problem per item.
    fn reaches(&self, location: &Location) -> bool;
}

/// One result per index, filled in any order from any thread (as a fetcher calls back).
pub struct Slots<T>(Vec<Mutex<Option<T>>>);

impl<T> Slots<T> {
    pub fn new(n: usize) -> Slots<T> {
        Slots((0..n).map(|_| Mutex::new(None)).collect())
    }

    pub fn put(&self, i: usize, value: T) {
        *self.0[i].lock().expect("slot lock") = Some(value);
    }

    pub fn into_values(self) -> impl Iterator<Item = Option<T>> {
        self.0.into_iter().map(|m| m.into_inner().expect("slot lock"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let base = Path::new("/rules");
        assert_eq!(
            Location::parse("feeds/a.xml", base).unwrap(),
            Location::File("/rules/feeds/a.xml".into())
        );
        assert_eq!(
            Location::parse("file:///tmp/a.xml", base).unwrap(),
            Location::File("/tmp/a.xml".into())
        );
        assert!(matches!(
            Location::parse("https://example.fr/rss", base).unwrap(),
            Location::Http(_)
        ));
        assert!(Location::parse("ftp://example.fr/rss", base).is_err());
    }

    #[test]
    fn http_is_refused_with_a_way_out() {
        let err = LocalFetcher::default()
            .fetch(&Location::Http(Url::parse("https://example.fr/").unwrap()), None)
            .unwrap_err();
        assert!(err.to_string().contains("--input"));
    }
}
