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

/// What the cache holds for a URL: its validators, read at once, and its body, read only when
/// the server says it is still current — from the same open file, so an entry replaced in the
/// meantime by another run cannot pair these validators with another body.
#[derive(Debug)]
pub struct Entry {
    pub validators: Validators,
    file: std::io::BufReader<std::fs::File>,
    body_length: usize,
}

impl Entry {
    /// The stored body, at most `cap` bytes (and whether it was cut); `None` if the file no
    /// longer holds all of it.
    pub fn body(mut self, cap: u64) -> Option<(Vec<u8>, bool)> {
        use std::io::Read;
        let mut body = Vec::with_capacity(self.body_length);
        self.file.read_to_end(&mut body).ok()?;
        if body.len() != self.body_length {
            return None;
        }
        let cut = body.len() as u64 > cap;
        body.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
        Some((body, cut))
    }
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

    /// The entry stored for `url`, if there is an intact one (its header reads back and the
    /// file is as long as it says, so validators are never sent for a body that is not all
    /// there); its body is read only when asked for.
    pub fn lookup(&self, url: &Url) -> Option<Entry> {
        use std::io::{BufRead, Read};
        let file = std::fs::File::open(self.path(url)).ok()?;
        let size = file.metadata().ok()?.len();
        let mut file = std::io::BufReader::new(file);
        let mut line = Vec::new();
        // A header is a few hundred bytes; a longer first line is not one.
        file.by_ref().take(64 * 1024).read_until(b'\n', &mut line).ok()?;
        let header: Header = serde_json::from_slice(line.strip_suffix(b"\n")?).ok()?;
        let intact = size == line.len() as u64 + header.body_length as u64;
        (intact && header.validators.url == url.as_str()).then_some(Entry {
            validators: header.validators,
            file,
            body_length: header.body_length,
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

    fn read(cache: &Cache, url: &Url) -> Option<(Option<String>, Vec<u8>)> {
        let entry = cache.lookup(url)?;
        let etag = entry.validators.etag.clone();
        Some((etag, entry.body(u64::MAX)?.0))
    }

    #[test]
    fn stores_and_finds_by_url() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let url = Url::parse("https://example.fr/feed.xml").unwrap();
        assert!(cache.lookup(&url).is_none());
        cache.store(&url, &validators(&url, "\"v1\""), b"<rss/>\n").unwrap();
        assert_eq!(read(&cache, &url), Some((Some("\"v1\"".into()), b"<rss/>\n".to_vec())));
        assert!(cache.lookup(&Url::parse("https://example.fr/other").unwrap()).is_none());
        let (body, cut) = cache.lookup(&url).unwrap().body(3).unwrap();
        assert_eq!((body.as_slice(), cut), (&b"<rs"[..], true));
    }

    #[test]
    fn validators_and_body_are_one_write() {
        // Issue 10, bug 12: meta and body were renamed into place one after the other, so a
        // crash between the two paired new bytes with old validators.
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let url = Url::parse("https://example.fr/a").unwrap();
        cache.store(&url, &validators(&url, "\"v1\""), b"one").unwrap();
        // An entry being read keeps its own body when another run replaces it.
        let open = cache.lookup(&url).unwrap();
        cache.store(&url, &validators(&url, "\"v2\""), b"two, longer").unwrap();
        assert_eq!(open.body(u64::MAX).unwrap().0, b"one");
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), 1, "one file per URL, no temporary left");
        assert_eq!(read(&cache, &url), Some((Some("\"v2\"".into()), b"two, longer".to_vec())));
        // A torn entry (shorter body than its header says) is no entry: no validators are sent.
        let path = files[0].as_ref().unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(cache.lookup(&url).is_none());
    }
}
