//! Conditional GET between runs: the validators (`ETag`, `Last-Modified`) and body of every
//! document fetched with one, in a directory, so the next run can ask "changed since?" and
//! reuse the body on `304 Not Modified`.
//!
//! One entry per URL, named by a hash of it: `<hash>.meta` (one JSON object) and `<hash>.body`.
//! Both are written to temporary files and renamed, so a run killed midway leaves either the
//! old entry or the new one. An entry that cannot be read is treated as absent.

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

#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// Opens (creating) a cache directory.
    pub fn open(dir: &Path) -> Result<Cache, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the cache directory `{}`: {e}", dir.display()))?;
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

    fn paths(&self, url: &Url) -> (PathBuf, PathBuf) {
        let name = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(url.as_str().as_bytes()));
        (self.dir.join(format!("{name}.meta")), self.dir.join(format!("{name}.body")))
    }

    /// The validators stored for `url`, if any.
    pub fn validators(&self, url: &Url) -> Option<Validators> {
        let (meta, _) = self.paths(url);
        let v: Validators = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
        (v.url == url.as_str()).then_some(v)
    }

    /// The body stored for `url`.
    pub fn body(&self, url: &Url) -> Option<Vec<u8>> {
        self.validators(url)?;
        std::fs::read(self.paths(url).1).ok()
    }

    /// Stores a body and its validators. Failing to store only costs a full fetch next time,
    /// so errors are returned for the caller to mention, not to stop on.
    pub fn store(&self, url: &Url, validators: &Validators, body: &[u8]) -> std::io::Result<()> {
        let (meta, data) = self.paths(url);
        let write = |path: &Path, bytes: &[u8]| -> std::io::Result<()> {
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, path)
        };
        write(&data, body)?;
        write(&meta, &serde_json::to_vec(validators).expect("validators serialise"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_finds_by_url() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let url = Url::parse("https://example.fr/feed.xml").unwrap();
        assert_eq!(cache.validators(&url), None);
        let v = Validators {
            url: url.to_string(),
            etag: Some("\"v1\"".into()),
            last_modified: None,
            content_type: Some("application/rss+xml".into()),
        };
        cache.store(&url, &v, b"<rss/>").unwrap();
        assert_eq!(cache.validators(&url), Some(v));
        assert_eq!(cache.body(&url).unwrap(), b"<rss/>");
        assert_eq!(cache.body(&Url::parse("https://example.fr/other").unwrap()), None);
    }
}
