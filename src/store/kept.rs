//! What the store keeps of what runs fetched, for conditional GET: the validators and the
//! SHA-256 of the last body fetched whole from each address, in the database, and the bodies
//! as files, named by their digest: beside a SQLite store (`<store>.bodies/ab/abcdef…`), in the
//! machine's data directory for a PostgreSQL one (a machine without a body sends no validators
//! for it).
//!
//! A run reads the validators once, before fetching ([`Store::kept`]); fetch threads ask for
//! them and for bodies without touching the database. A body fetched whole is written to its
//! file at once (to a temporary name, then renamed: a file under a digest is always that whole
//! body) and its row waits for the run's commit, in the run's transaction: a run killed before
//! leaves at most a file no row names, which `state prune` sweeps. A body is checked against
//! its digest when read back; one that does not match is not used.

use super::blobs::Blobs;
use super::db::{BATCH, DbError, Exec, Tx, Value, tuples, vals};
use super::{Store, StoreError, instant, parse_instant};
use crate::http::{Keep, Validators};
use crate::model::Digest;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use url::Url;

/// The store's documents for one run: what earlier runs kept, and what this one fetched whole.
#[derive(Debug)]
pub struct Kept {
    bodies: Blobs,
    earlier: HashMap<String, Document>,
    fetched: Mutex<Vec<(String, Document)>>,
    /// Addresses answered "not modified": their rows say they were current this run, so that
    /// `state prune` keeps what is still in use.
    revalidated: Mutex<Vec<String>>,
    /// The store cannot be written: bodies are read from it, none kept.
    read_only: bool,
}

/// A body fetched whole, as the store records it.
#[derive(Debug, Clone)]
struct Document {
    validators: Validators,
    digest: Digest,
    length: u64,
    fetched_at: DateTime<Utc>,
}

/// The directory of the bodies of the SQLite store at `path`: `<path>.bodies`.
pub(super) fn beside(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bodies");
    path.with_file_name(name)
}

impl Store {
    /// The documents earlier runs fetched whole, for this run's conditional GETs.
    pub fn kept(&mut self) -> Result<Kept, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT url, etag, last_modified, content_type, digest, length, fetched_at FROM documents",
                &[],
            )
            .map_err(|e| self.error(e))?;
        let mut earlier = HashMap::with_capacity(rows.len());
        for r in rows {
            let read = || -> Result<_, DbError> {
                let validators = Validators {
                    etag: r.opt_text(1)?,
                    last_modified: r.opt_text(2)?,
                    content_type: r.opt_text(3)?,
                };
                Ok((r.text(0)?, validators, r.text(4)?, r.int(5)?, r.text(6)?))
            };
            let (url, validators, digest, length, fetched_at) = read().map_err(|e| self.error(e))?;
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
            bodies: Blobs::new(self.bodies.clone()),
            earlier,
            fetched: Mutex::new(Vec::new()),
            revalidated: Mutex::new(Vec::new()),
            read_only: self.read_only,
        })
    }
}

impl Kept {
    /// Records what this run fetched whole, in the run's transaction; returns the bodies no
    /// row names any longer (replaced by a new version), for removal once it has committed.
    /// (The fetched rows stay for a retry of the transaction.)
    pub(super) fn record(&self, tx: &mut Tx, run: i64) -> Result<Vec<PathBuf>, DbError> {
        // One row per address (the last fetch of it), as one statement may not update a row twice.
        let fetched: HashMap<String, Document> = self.fetched.lock().expect("kept lock").iter().cloned().collect();
        // In address order: two machines writing the same addresses lock them in one order.
        let mut fetched: Vec<(String, Document)> = fetched.into_iter().collect();
        fetched.sort_by(|a, b| a.0.cmp(&b.0));
        for chunk in fetched.chunks(BATCH) {
            let mut params = vec![Value::from(run)];
            for (url, d) in chunk {
                params.extend([
                    Value::from(url),
                    Value::from(&d.validators.etag),
                    Value::from(&d.validators.last_modified),
                    Value::from(&d.validators.content_type),
                    Value::from(d.digest.hex()),
                    Value::from(d.length as i64),
                    Value::from(instant(d.fetched_at)),
                ]);
            }
            let rows = tuples(chunk.len(), 2, 7, |n| {
                format!("(?{n}, ?{}, ?{}, ?{}, ?{}, ?{}, ?1, ?{})", n + 1, n + 2, n + 3, n + 4, n + 5, n + 6)
            });
            tx.execute(
                &format!(
                    "INSERT INTO documents (url, etag, last_modified, content_type, digest, length, run, fetched_at) VALUES {rows}
                     ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
                         content_type = excluded.content_type, digest = excluded.digest, length = excluded.length,
                         run = excluded.run, fetched_at = excluded.fetched_at"
                ),
                &params,
            )?;
        }
        let revalidated = self.revalidated.lock().expect("kept lock").clone();
        for chunk in revalidated.chunks(BATCH) {
            let mut params = vec![Value::from(run), Value::from(instant(Utc::now()))];
            params.extend(chunk.iter().map(Value::from));
            let urls = tuples(chunk.len(), 3, 1, |n| format!("?{n}"));
            tx.execute(
                &format!("UPDATE documents SET run = ?1, fetched_at = ?2 WHERE url IN ({urls})"),
                &params,
            )?;
        }
        let mut unnamed = Vec::new();
        for (url, d) in &fetched {
            if let Some(old) = self.earlier.get(url)
                && old.digest != d.digest
                && !named(tx, &old.digest)?
            {
                unnamed.push(self.bodies.file(&old.digest));
            }
        }
        Ok(unnamed)
    }
}

impl Keep for Kept {
    fn validators(&self, url: &Url) -> Option<Validators> {
        let d = self.earlier.get(url.as_str())?;
        self.bodies.has(&d.digest).then(|| d.validators.clone())
    }

    fn body(&self, url: &Url, cap: u64) -> Option<(Vec<u8>, bool)> {
        let d = self.earlier.get(url.as_str())?;
        let mut body = self
            .bodies
            .get(&d.digest)
            .inspect_err(|e| tracing::warn!(%url, "a kept body is not used: {e}"))
            .ok()?;
        let cut = body.len() as u64 > cap;
        body.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
        Some((body, cut))
    }

    fn revalidated(&self, url: &Url) {
        self.revalidated.lock().expect("kept lock").push(url.to_string());
    }

    fn keep(&self, url: &Url, validators: Validators, body: &[u8]) {
        if self.read_only {
            return;
        }
        let written = self
            .bodies
            .put(body)
            .inspect_err(|e| tracing::debug!(%url, "cannot keep the body: {e}"))
            .ok();
        if let Some(digest) = written {
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

/// Whether a document, a capture or a run names this blob.
fn named(tx: &mut Tx, digest: &Digest) -> Result<bool, DbError> {
    let hex = digest.hex();
    for sql in [
        "SELECT 1 FROM documents WHERE digest = ?1 LIMIT 1",
        "SELECT 1 FROM captures WHERE body = ?1 LIMIT 1",
        "SELECT 1 FROM run_blobs WHERE digest = ?1 LIMIT 1",
    ] {
        if tx.query_opt(sql, vals![&hex])?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Removes the bodies in `bodies` that no document names (left by runs killed before their
/// commit, or by documents pruned); returns how many.
pub(super) fn sweep(tx: &mut Tx, bodies: &Path) -> Result<usize, DbError> {
    let mut removed = 0;
    let Ok(shards) = std::fs::read_dir(bodies) else {
        return Ok(0);
    };
    for file in shards
        .flatten()
        .filter_map(|s| std::fs::read_dir(s.path()).ok())
        .flatten()
        .flatten()
    {
        let name = file.file_name().to_string_lossy().into_owned();
        // A day old at least: a run under way writes its blobs before its rows, and renews the
        // time of one it names again (a temporary file is a killed run's). Looked at again
        // just before the removal: a run may have named it meanwhile.
        let old = || {
            std::fs::metadata(file.path())
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().unwrap_or_default() > std::time::Duration::from_secs(86_400))
        };
        let orphan = old()
            && match Digest::from_hex(&name) {
                Some(d) => !named(tx, &d)?,
                None => true,
            };
        if orphan && old() && std::fs::remove_file(file.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}
