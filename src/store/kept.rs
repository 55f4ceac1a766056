//! What the store keeps of what runs fetched, for conditional GET: the validators and the
//! SHA-256 of the last body fetched whole from each address, in the database, and the bodies
//! as files beside it, named by their digest (`<store>.bodies/ab/abcdef…`).
//!
//! A run reads the validators once, before fetching ([`Store::kept`]); fetch threads ask for
//! them and for bodies without touching the database. A body fetched whole is written to its
//! file at once (to a temporary name, then renamed: a file under a digest is always that whole
//! body) and its row waits for the run's commit, in the run's transaction: a run killed before
//! leaves at most a file no row names, which `state prune` sweeps. A body is checked against
//! its digest when read back; one that does not match is not used.

use super::{Store, StoreError, instant, parse_instant};
use crate::http::{Keep, Validators};
use crate::model::Digest;
use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use url::Url;

/// The store's documents for one run: what earlier runs kept, and what this one fetched whole.
#[derive(Debug)]
pub struct Kept {
    bodies: PathBuf,
    earlier: HashMap<String, Document>,
    fetched: Mutex<Vec<(String, Document)>>,
}

/// A body fetched whole, as the store records it.
#[derive(Debug, Clone)]
struct Document {
    validators: Validators,
    digest: Digest,
    length: u64,
    fetched_at: DateTime<Utc>,
}

impl Store {
    /// The directory of the bodies of the store at `path`.
    pub fn bodies_dir(path: &Path) -> PathBuf {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".bodies");
        path.with_file_name(name)
    }

    /// The documents earlier runs fetched whole, for this run's conditional GETs.
    pub fn kept(&self) -> Result<Kept, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT url, etag, last_modified, content_type, digest, length, fetched_at FROM documents")
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Validators {
                        etag: r.get(1)?,
                        last_modified: r.get(2)?,
                        content_type: r.get(3)?,
                    },
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(|e| self.error(e))?;
        let mut earlier = HashMap::new();
        for row in rows {
            let (url, validators, digest, length, fetched_at) = row.map_err(|e| self.error(e))?;
            if let (Some(digest), Some(fetched_at)) = (Digest::from_hex(&digest), parse_instant(&fetched_at)) {
                let length = u64::try_from(length).unwrap_or(0);
                earlier.insert(
                    url,
                    Document {
                        validators,
                        digest,
                        length,
                        fetched_at,
                    },
                );
            }
        }
        Ok(Kept {
            bodies: Store::bodies_dir(&self.path),
            earlier,
            fetched: Mutex::new(Vec::new()),
        })
    }
}

impl Kept {
    fn file(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.bodies.join(&hex[..2]).join(hex)
    }

    /// Records what this run fetched whole, in the run's transaction; returns the bodies no
    /// row names any longer (replaced by a new version), for removal once it has committed.
    pub(super) fn record(&self, tx: &Transaction, run: i64) -> rusqlite::Result<Vec<PathBuf>> {
        let fetched = std::mem::take(&mut *self.fetched.lock().expect("kept lock"));
        let mut upsert = tx.prepare(
            "INSERT INTO documents (url, etag, last_modified, content_type, digest, length, run, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
                 content_type = excluded.content_type, digest = excluded.digest, length = excluded.length,
                 run = excluded.run, fetched_at = excluded.fetched_at",
        )?;
        let mut named = tx.prepare("SELECT 1 FROM documents WHERE digest = ?1 LIMIT 1")?;
        for (url, d) in &fetched {
            upsert.execute(params![
                url,
                d.validators.etag,
                d.validators.last_modified,
                d.validators.content_type,
                d.digest.hex(),
                d.length as i64,
                run,
                instant(d.fetched_at)
            ])?;
        }
        let mut unnamed = Vec::new();
        for (url, _) in &fetched {
            if let Some(old) = self.earlier.get(url)
                && !named.exists([old.digest.hex()])?
            {
                unnamed.push(self.file(&old.digest));
            }
        }
        Ok(unnamed)
    }
}

impl Keep for Kept {
    fn validators(&self, url: &Url) -> Option<Validators> {
        let d = self.earlier.get(url.as_str())?;
        let size = std::fs::metadata(self.file(&d.digest)).ok()?.len();
        (size == d.length).then(|| d.validators.clone())
    }

    fn body(&self, url: &Url, cap: u64) -> Option<(Vec<u8>, bool)> {
        let d = self.earlier.get(url.as_str())?;
        let mut body = std::fs::read(self.file(&d.digest)).ok()?;
        if Digest::of(&body) != d.digest {
            tracing::warn!(%url, "a kept body does not match its digest; not used");
            return None;
        }
        let cut = body.len() as u64 > cap;
        body.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
        Some((body, cut))
    }

    fn keep(&self, url: &Url, validators: Validators, body: &[u8]) {
        let digest = Digest::of(body);
        let file = self.file(&digest);
        // A file of this name holds this body, unless it was damaged: then it is written again.
        let intact = std::fs::read(&file).is_ok_and(|kept| Digest::of(&kept) == digest);
        let written = intact
            || write_whole(&file, body)
                .inspect_err(|e| tracing::debug!(%url, "cannot keep the body: {e}"))
                .is_ok();
        if written {
            self.fetched.lock().expect("kept lock").push((
                url.to_string(),
                Document {
                    validators,
                    digest,
                    length: body.len() as u64,
                    fetched_at: Utc::now(),
                },
            ));
        }
    }
}

/// Writes `bytes` to `file` in one step: to a temporary name beside it (of this process and
/// this write alone), then renamed.
fn write_whole(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = file.parent().expect("bodies live in a directory");
    std::fs::create_dir_all(dir)?;
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Removes the bodies of the store at `path` that no document names (left by runs killed
/// before their commit, or by documents pruned); returns how many.
pub(super) fn sweep(tx: &Transaction, path: &Path) -> rusqlite::Result<usize> {
    let mut named = tx.prepare("SELECT 1 FROM documents WHERE digest = ?1 LIMIT 1")?;
    let mut removed = 0;
    let Ok(shards) = std::fs::read_dir(Store::bodies_dir(path)) else {
        return Ok(0);
    };
    for file in shards
        .flatten()
        .filter_map(|s| std::fs::read_dir(s.path()).ok())
        .flatten()
        .flatten()
    {
        let name = file.file_name().to_string_lossy().into_owned();
        let orphan = match Digest::from_hex(&name) {
            Some(d) => !named.exists([d.hex()])?,
            // A temporary file: a run's that was killed, once it is a day old.
            None => file
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().unwrap_or_default() > std::time::Duration::from_secs(86_400)),
        };
        if orphan && std::fs::remove_file(file.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}
