//! Getting bytes: where a source's feeds and pages live, and reading them with caps.
//!
//! [`LocalFetcher`] reads local files, directories and `file://` URLs; `http::HttpFetcher`
//! adds HTTP(S). Everything after the [`Fetcher`] trait sees only a [`Document`] (bytes, the
//! URL they came from, the declared content type, the fetch time, the redirects), never how the
//! bytes were obtained.

use chrono::{DateTime, Utc};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use url::Url;

/// Largest body read from one input; more is cut off and recorded as a problem.
pub const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// Where an input lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Http(Url),
}

impl Location {
    /// Parses a rule-file location: a URL, or a path relative to `base_dir`.
    pub fn parse(s: &str, base_dir: &Path) -> Result<Location, String> {
        if s.trim().is_empty() {
            return Err("empty location".into());
        }
        if let Ok(url) = Url::parse(s) {
            return match url.scheme() {
                "file" => url
                    .to_file_path()
                    .map(Location::File)
                    .map_err(|()| "not a local file URL".to_string()),
                "http" | "https" => Ok(Location::Http(url)),
                other if other.len() > 1 => Err(format!("unsupported URL scheme `{other}`")),
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

/// Bytes as fetched, with what we know about them.
#[derive(Debug, Clone)]
pub struct Document {
    /// Where the bytes came from, after any redirects.
    pub url: Url,
    pub bytes: Vec<u8>,
    /// `Content-Type` as the transport declared it (HTTP header; none for files).
    pub content_type: Option<String>,
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
}

impl Document {
    /// Decodes the bytes (see `charset`), with the transport's charset and the site's
    /// top-level domain as hints.
    pub fn decode(&self, source_override: Option<&'static encoding_rs::Encoding>) -> crate::charset::Decoded {
        let tld = self.url.domain().and_then(|d| d.rsplit('.').next());
        crate::charset::decode(&self.bytes, source_override, self.content_type.as_deref(), tld)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot read `{path}`: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("fetching over HTTP is not available here; save the page and pass it with `--input`, or use a `file://` URL")]
    HttpUnavailable,
    #[error("{message}")]
    Network {
        url: Url,
        stage: crate::http::NetStage,
        message: String,
    },
}

/// A location to fetch, and whether the site's robots.txt has a say: it does for pages, not for
/// the feeds an outlet advertises, nor where the rule file says to ignore it.
#[derive(Debug, Clone)]
pub struct Request {
    pub location: Location,
    pub obey_robots: bool,
    /// The largest body kept for this request, instead of the fetcher's default.
    pub max_body: Option<u64>,
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

/// Reads local files; refuses network locations.
#[derive(Debug, Default)]
pub struct LocalFetcher;

impl LocalFetcher {
    pub fn fetch(&self, location: &Location) -> Result<Document, FetchError> {
        match location {
            Location::Http(_) => Err(FetchError::HttpUnavailable),
            Location::File(path) => {
                let started = std::time::Instant::now();
                let io = |error| FetchError::Io { path: path.clone(), error };
                let file = std::fs::File::open(path).map_err(io)?;
                let mut bytes = Vec::new();
                file.take(MAX_BODY_BYTES + 1).read_to_end(&mut bytes).map_err(io)?;
                let truncated = bytes.len() as u64 > MAX_BODY_BYTES;
                bytes.truncate(MAX_BODY_BYTES as usize);
                Ok(Document {
                    url: location.url(),
                    bytes,
                    content_type: None,
                    fetched_at: Utc::now(),
                    truncated,
                    max_bytes: MAX_BODY_BYTES,
                    redirects: Vec::new(),
                    from_cache: false,
                    elapsed: started.elapsed(),
                })
            }
        }
    }
}

impl Fetcher for LocalFetcher {
    fn reaches(&self, location: &Location) -> bool {
        matches!(location, Location::File(_))
    }

    fn fetch_each(&self, requests: &[Request], each: &(dyn Fn(usize, Result<Document, FetchError>) + Sync)) {
        use rayon::prelude::*;
        requests.par_iter().enumerate().for_each(|(i, r)| each(i, self.fetch(&r.location)));
    }
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

/// What kind of input a file in a directory is, judged by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Feed,
    Page,
}

/// Lists the feeds and pages in a directory (recursively), sorted for reproducible runs.
pub fn scan_dir(dir: &Path) -> Result<Vec<(InputKind, PathBuf)>, FetchError> {
    Ok(files_under(dir)?.into_iter().filter_map(|p| kind_of(&p).map(|k| (k, p))).collect())
}

/// The HTML pages under `dir`, sorted: files named as pages, and files without a known
/// extension whose first bytes are HTML (saved pages keep whatever name their URL had).
pub fn scan_pages(dir: &Path) -> Result<Vec<PathBuf>, FetchError> {
    Ok(files_under(dir)?
        .into_iter()
        .filter(|p| match kind_of(p) {
            Some(kind) => kind == InputKind::Page,
            None => starts_as_html(p),
        })
        .collect())
}

fn starts_as_html(path: &Path) -> bool {
    let mut head = Vec::with_capacity(8192);
    let _ = std::fs::File::open(path).and_then(|f| f.take(8192).read_to_end(&mut head));
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    ["<!doctype html", "<html", "<head", "<body"].iter().any(|t| text.contains(t))
}

/// Every file under `dir`, recursively, sorted by path.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, FetchError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|error| FetchError::Io { path: d.clone(), error })?;
        for entry in entries {
            let entry = entry.map_err(|error| FetchError::Io { path: d.clone(), error })?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Classifies a file given explicitly: by extension, else by its first bytes (an XML or
/// JSON document is a feed, anything else a page).
pub fn kind_of_file(path: &Path) -> InputKind {
    if let Some(kind) = kind_of(path) {
        return kind;
    }
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    let text = String::from_utf8_lossy(&head[..n]);
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let feed_roots = ["<?xml", "<rss", "<feed", "<rdf:RDF", "{"];
    let is_feed = feed_roots.iter().any(|r| start.starts_with(r)) && !start.to_ascii_lowercase().contains("<html");
    if is_feed { InputKind::Feed } else { InputKind::Page }
}

/// Classifies a path by extension; `None` for files that are neither feeds nor pages.
pub fn kind_of(path: &Path) -> Option<InputKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "xml" | "rss" | "atom" | "rdf" | "json" | "feed" => Some(InputKind::Feed),
        "html" | "htm" | "xhtml" => Some(InputKind::Page),
        _ => None,
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
    fn explicit_files_are_sniffed_when_the_extension_says_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("rss");
        std::fs::write(&feed, "\u{feff}  <?xml version=\"1.0\"?><rss version=\"2.0\"></rss>").unwrap();
        let page = dir.path().join("index");
        std::fs::write(&page, "<!doctype html><html><p>x</p></html>").unwrap();
        assert_eq!((kind_of_file(&feed), kind_of_file(&page)), (InputKind::Feed, InputKind::Page));
    }

    #[test]
    fn http_is_refused_with_a_way_out() {
        let err = LocalFetcher
            .fetch(&Location::Http(Url::parse("https://example.fr/").unwrap()))
            .unwrap_err();
        assert!(err.to_string().contains("--input"));
    }
}
