//! Conditional GET between runs: the validators (`ETag`, `Last-Modified`) and body of every
//! document fetched with one, in a directory, so the next run can ask "changed since?" and
//! reuse the body on `304 Not Modified`.
//!
//! One file per URL, named by a hash of it: a line of JSON (the validators, the URL and the
//! body's length), then the body. It is written to a temporary file and renamed over the old
//! one, so a run killed at any point leaves either the old entry or the new one, never new
//! bytes under old validators. An entry that cannot be read, or whose length does not match,
//! is treated as absent (a full fetch, nothing worse).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
}

/// What the cache holds for a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub validators: Validators,
    pub body: Vec<u8>,
}

/// The header line of an entry file.
#[derive(Serialize, Deserialize)]
struct Header {
    #[serde(flatten)]
    validators: Validators,
    body_length: usize,
}

/// The cache directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot create the cache directory `{}`: {error}", dir.display())]
pub struct CacheError {
    pub dir: PathBuf,
    pub error: std::io::Error,
}

#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// Opens (creating) a cache directory.
    pub fn open(dir: &Path) -> Result<Cache, CacheError> {
        std::fs::create_dir_all(dir).map_err(|error| CacheError {
            dir: dir.to_path_buf(),
            error,
        })?;
        Ok(Cache { dir: dir.to_path_buf() })
    }

    /// The default place: `$XDG_CACHE_HOME/blackout`, else `~/.cache/blackout`.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("blackout"))
    }

    fn path(&self, url: &Url) -> PathBuf {
        self.dir
            .join(format!("{:016x}.entry", xxhash_rust::xxh3::xxh3_64(url.as_str().as_bytes())))
    }

    /// The validators and body stored for `url`, if an intact entry is there.
    pub fn lookup(&self, url: &Url) -> Option<Entry> {
        let bytes = std::fs::read(self.path(url)).ok()?;
        let newline = bytes.iter().position(|b| *b == b'\n')?;
        let header: Header = serde_json::from_slice(&bytes[..newline]).ok()?;
        let body = &bytes[newline + 1..];
        (header.validators.url == url.as_str() && header.body_length == body.len()).then(|| Entry {
            validators: header.validators,
            body: body.to_vec(),
        })
    }

    /// Stores a body and its validators in one atomic step. Failing to store only costs a
    /// full fetch next time, so errors are returned for the caller to mention, not to stop on.
    pub fn store(&self, url: &Url, validators: &Validators, body: &[u8]) -> std::io::Result<()> {
        let path = self.path(url);
        let header = Header {
            validators: validators.clone(),
            body_length: body.len(),
        };
        let mut bytes = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        bytes.extend_from_slice(body);
        let tmp = path.with_extension(format!("tmp{}-{:x}", std::process::id(), xxhash_rust::xxh3::xxh3_64(body)));
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validators(url: &Url, etag: &str) -> Validators {
        Validators {
            url: url.to_string(),
            etag: Some(etag.into()),
            last_modified: None,
            content_type: Some("application/rss+xml".into()),
        }
    }

    #[test]
    fn stores_and_finds_by_url() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let url = Url::parse("https://example.fr/feed.xml").unwrap();
        assert_eq!(cache.lookup(&url), None);
        let v = validators(&url, "\"v1\"");
        cache.store(&url, &v, b"<rss/>\n").unwrap();
        assert_eq!(
            cache.lookup(&url),
            Some(Entry {
                validators: v,
                body: b"<rss/>\n".to_vec()
            })
        );
        assert_eq!(cache.lookup(&Url::parse("https://example.fr/other").unwrap()), None);
    }

    #[test]
    fn validators_and_body_are_one_write() {
        // Issue 10, bug 12: meta and body were renamed into place one after the other, so a
        // crash between the two paired new bytes with old validators.
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let url = Url::parse("https://example.fr/a").unwrap();
        cache.store(&url, &validators(&url, "\"v1\""), b"one").unwrap();
        cache.store(&url, &validators(&url, "\"v2\""), b"two, longer").unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1, "one file per URL, no temporary left");
        let entry = cache.lookup(&url).unwrap();
        assert_eq!(
            (entry.validators.etag.as_deref(), entry.body.as_slice()),
            (Some("\"v2\""), &b"two, longer"[..])
        );
        // A torn entry (shorter body than its header says) is absent, not wrong.
        let path = files[0].as_ref().unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert_eq!(cache.lookup(&url), None);
    }
}
