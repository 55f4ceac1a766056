//! State across runs: the runs, each source's health per run, the items seen (first and
//! last), the versions of their content, the findings (new, open, resolved) and the reviews of
//! them — so a nightly check can say what is new since last night, when an item first
//! appeared, and not report again what a person judged a false positive.
//!
//! In SQLite by default, a file on one machine; in PostgreSQL (`--state postgres://…`) when a
//! team's machines share one store ([`db`] hides the difference). One connection, used from
//! one thread: the run reads what it needs before judging (a [`Recall`] snapshot the judging
//! threads share) and writes everything in one transaction at the end ([`Store::commit`]), so
//! a finding counts as reported only once the run that reported it has committed; a run
//! killed before that leaves the store as it was. Overlapping runs are kept apart by a lock
//! that names its holder ([`Store::lock`]); in PostgreSQL, runs of different shards share the
//! store at once, and a finding is reported new by exactly one of them, whichever commits it
//! first (the findings' unique key decides).
//!
//! The schema evolves by numbered migrations (`migrations/`), applied in one transaction.

mod blobs;
mod commit;
pub mod db;
mod kept;
mod lock;
pub mod manifest;
mod migrate;
mod postgres;
mod query;
mod recorded;
mod sealed;

pub use blobs::{BlobError, Blobs};
pub use commit::{RunInput, RunMeta};
pub use kept::Kept;
pub use lock::{Holder, Lock};
pub use migrate::render as schema_step;
pub use query::{FindingRow, ItemRow, Pruned, ReviewRow, ReviewVerdict, RunRow, SourceRow};
pub use recorded::{ItemRecord, PageText, Recorded, Retention, RunRecord, Stamper, capture_json, evidence_digest};
pub use sealed::{CaptureRow, ManifestRow, SealedFinding};

use crate::timing::{Between, Capture, Observed};
use chrono::{DateTime, Utc};
use db::{Conn, DbError, Exec, vals};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use url::Url;

/// A state store: a SQLite file, or a PostgreSQL database.
pub struct Store {
    conn: Conn,
    /// The file, or for PostgreSQL its address without credentials: what messages name.
    path: PathBuf,
    /// Where the bodies of fetched documents are kept (see [`Kept`]).
    bodies: PathBuf,
    /// The file could only be opened for reading (permissions, a read-only file system): a
    /// run can recall what earlier runs saw, but not be recorded.
    read_only: bool,
    /// How long a commit waits for another machine's (PostgreSQL: one commits at a time, and
    /// a commit holds its turn while the run's report is delivered): the run's `--lock-timeout`
    /// once it has taken its lock.
    commit_wait: std::time::Duration,
}

/// What a commit waits for another's before it gives up, until a lock says otherwise.
const COMMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot create the directory of the state store `{}`: {error} (name a store in a writable directory with `--state PATH`, or run with `--no-state`)",
        path.display()
    )]
    Directory { path: PathBuf, error: std::io::Error },
    #[error("state store `{}`: {error}{}", path.display(), hint(error))]
    Db { path: PathBuf, error: DbError },
    #[error("state store `{}`: {message}", path.display())]
    Postgres { path: PathBuf, message: String },
    #[error(
        "state store `{}` has schema version {found}, newer than this blackout's {known}: use a newer blackout, or another store (`--state PATH`)",
        path.display()
    )]
    Newer { path: PathBuf, found: u32, known: u32 },
    #[error(
        "state store `{}` is in use by {} (waited {waited} s; `--lock-timeout` waits longer)",
        path.display(), holder.as_ref().map_or("another run or command".into(), |h| format!("process {} on `{}` since {}", h.pid, crate::report::inert(&h.host), crate::model::stamp(h.since)))
    )]
    Locked {
        path: PathBuf,
        holder: Option<Holder>,
        waited: u64,
    },
    #[error(
        "state store `{}` is read-only (its permissions, or a read-only file system): make it writable, or name another with `--state PATH`",
        path.display()
    )]
    ReadOnly { path: PathBuf },
    #[error("cannot lock the state store with `{}`: {error}", path.display())]
    LockFile { path: PathBuf, error: std::io::Error },
    /// The report could not be delivered, so the run was rolled back (see `Store::commit`).
    #[error(
        "{why}\nerror: since the report was not delivered, the run was not recorded in `{}`: the next run reports its findings as new again",
        path.display()
    )]
    Undelivered { path: PathBuf, why: String },
    #[error(
        "no finding `{id}` in the state store `{}` (`blackout state findings --state {}` lists them)",
        path.display(), path.display()
    )]
    UnknownFinding { id: String, path: PathBuf },
    #[error("no state store at `{}`: a check creates it; `--state PATH` names another", path.display())]
    Missing { path: PathBuf },
}

impl Store {
    /// The default store: `$XDG_DATA_HOME/blackout/state.db`, else
    /// `~/.local/share/blackout/state.db`.
    pub fn default_path() -> Option<PathBuf> {
        Some(data_home()?.join("blackout/state.db"))
    }

    /// Opens (creating) the store at `path` — a file, or a `postgres://` or `postgresql://`
    /// address — and brings its schema up to date. A SQLite file uses write-ahead logging (so
    /// `blackout state …` can look while a run writes), enforces foreign keys and waits a few
    /// seconds for a busy store before an error.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(url) = postgres::address(path) {
            return postgres::open(url);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|error| StoreError::Directory {
                path: dir.to_path_buf(),
                error,
            })?;
        }
        let db = db_error(path);
        let sqlite = |e: rusqlite::Error| db(DbError::from(e));
        let sqlite_conn = rusqlite::Connection::open(path).map_err(sqlite)?;
        sqlite_conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(sqlite)?;
        let read_only = sqlite_conn.is_readonly(rusqlite::MAIN_DB).map_err(sqlite)?;
        let pragmas = match read_only {
            true => "PRAGMA foreign_keys = ON;",
            false => "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        };
        sqlite_conn.execute_batch(pragmas).map_err(sqlite)?;
        let mut conn = Conn::Sqlite(sqlite_conn);
        match read_only {
            true => migrate::check(&mut conn, path)?,
            false => migrate::up(&mut conn, path)?,
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            bodies: kept::beside(path),
            read_only,
            commit_wait: COMMIT_WAIT,
        })
    }

    /// Whether the store could only be opened for reading.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Opens a store that must exist already (for looking inside it: a typo in `--state`
    /// must not create an empty store and show nothing). A PostgreSQL store is the server's.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if postgres::address(path).is_none() && !path.is_file() {
            return Err(StoreError::Missing { path: path.to_path_buf() });
        }
        Store::open(path)
    }

    /// The file, or the PostgreSQL address without credentials.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, error: impl Into<DbError>) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            error: error.into(),
        }
    }

    /// What the store remembers of the items and listings of these sources, for the run's
    /// judging threads. `tool` names this blackout's captures ([`crate::identity::CAPTURES`]):
    /// only captures of the same kind are compared with this run's.
    pub fn recall(&mut self, sources: &[&str], tool: &str) -> Result<Recall, StoreError> {
        let mut recall = Recall::default();
        for source in sources {
            let rows = self
                .conn
                .query(
                    "SELECT i.url, i.first_seen, i.absent_at, i.capture, i.capture_at, i.capture_page, r.tool,
                            i.changed_after, i.changed_by
                     FROM items i LEFT JOIN runs r ON r.id = i.capture_run WHERE i.source = ?1",
                    vals![*source],
                )
                .map_err(|e| self.error(e))?;
            for r in rows {
                let read = || -> Result<Option<(String, Observed)>, DbError> {
                    let instant = |i: usize| Ok::<_, DbError>(r.opt_text(i)?.as_deref().and_then(parse_instant));
                    let capture = match (r.opt_text(3)?, instant(4)?, r.opt_text(6)?) {
                        (Some(version), Some(at), Some(by)) if by == tool => Some(Capture {
                            version,
                            at,
                            page: r.opt_int(5)? == Some(1),
                            changed: instant(7)?.zip(instant(8)?).map(|(after, by)| Between { after, by }),
                        }),
                        _ => None,
                    };
                    let Some(first_seen) = instant(1)? else {
                        return Ok(None);
                    };
                    let observed = Observed {
                        first_seen,
                        absent_at: instant(2)?,
                        capture,
                    };
                    Ok(Some((r.text(0)?, observed)))
                };
                if let Some((url, observed)) = read().map_err(|e| self.error(e))? {
                    recall.items.insert((source.to_string(), url), observed);
                }
            }
            let rows = self
                .conn
                .query("SELECT url, last_read FROM listings WHERE source = ?1", vals![*source])
                .map_err(|e| self.error(e))?;
            for r in rows {
                let read = r.text(1).map(|t| parse_instant(&t)).map_err(|e| self.error(e))?;
                if let Some(read) = read {
                    recall
                        .listings
                        .insert((source.to_string(), r.text(0).map_err(|e| self.error(e))?), read);
                }
            }
            // Items whose page this blackout read, with the entries it read then, unless a
            // finding of theirs is open: what need not be fetched again unchanged.
            let rows = self
                .conn
                .query(
                    "SELECT i.url, i.entries, i.capture_at FROM items i JOIN runs r ON r.id = i.capture_run
                     WHERE i.source = ?1 AND i.capture_page = 1 AND r.tool = ?2 AND i.entries != ''
                       AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.source = i.source AND f.url = i.url AND f.status IN ('new', 'open'))",
                    vals![*source, tool],
                )
                .map_err(|e| self.error(e))?;
            for r in rows {
                let read = r.text(2).map(|t| parse_instant(&t)).map_err(|e| self.error(e))?;
                if let Some(read) = read {
                    let (url, entries) = (r.text(0).map_err(|e| self.error(e))?, r.text(1).map_err(|e| self.error(e))?);
                    recall.read.insert((source.to_string(), url), (entries, read));
                }
            }
        }
        Ok(recall)
    }
}

/// A snapshot of what earlier runs saw, shared by the judging threads: each item's first
/// sighting and last capture, each listing's last whole read.
#[derive(Debug, Default)]
pub struct Recall {
    items: HashMap<(String, String), Observed>,
    listings: HashMap<(String, String), DateTime<Utc>>,
    /// Items whose page was read: the digests of their entries then (comma-separated), and
    /// when.
    read: HashMap<(String, String), (String, DateTime<Utc>)>,
}

impl crate::run::History for Recall {
    /// An item seen before is as it was recorded; one never seen is first seen now, and was
    /// absent from the latest earlier whole read of the listings that list it now.
    fn observe(&self, source: &str, url: &Url, listings: &mut dyn Iterator<Item = &Url>, at: DateTime<Utc>) -> Option<Observed> {
        if let Some(seen) = self.items.get(&(source.to_string(), url.to_string())) {
            return Some(seen.clone());
        }
        let absent_at = listings
            .filter_map(|l| self.listings.get(&(source.to_string(), l.to_string())))
            .filter(|read| **read < at)
            .max()
            .copied();
        Some(Observed {
            first_seen: at,
            absent_at,
            capture: None,
        })
    }

    /// (The entry's digest is taken only for an item whose page was read: most are not.)
    fn unchanged(&self, source: &str, url: &Url, entry: &crate::feed::FeedItem) -> Option<DateTime<Utc>> {
        let (entries, read) = self.read.get(&(source.to_string(), url.to_string()))?;
        let digest = crate::identity::entry_digest(entry);
        entries.split(',').any(|e| e == digest).then_some(*read)
    }
}

/// Instants as stored: RFC 3339 in UTC, to the second, so they sort as text.
use crate::model::stamp as instant;

/// What SQLite's terse errors usually mean here, and what to do.
fn hint(error: &DbError) -> &'static str {
    use rusqlite::ErrorCode::*;
    match error.sqlite_code() {
        Some(DiskFull) => " (its disk is full: free some space, or `blackout state prune`)",
        Some(SystemIoFailure) => " (is its disk full, or its file system read-only?)",
        Some(ReadOnly) => " (make it writable, or name another store with `--state PATH`)",
        Some(NotADatabase) => " (not a blackout state store: name another with `--state PATH`)",
        Some(CannotOpen) => " (is the path a directory, or in a directory that does not exist or cannot be written?)",
        _ => "",
    }
}

/// The error of a statement on the store at `path`.
fn db_error(path: &Path) -> impl Fn(DbError) -> StoreError + '_ {
    move |error| StoreError::Db {
        path: path.to_path_buf(),
        error,
    }
}

/// `$XDG_DATA_HOME`, else `~/.local/share`.
fn data_home() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
}

fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.to_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_creating_its_directory_and_reads_back_what_it_recalls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/state.db");
        let mut store = Store::open(&path).unwrap();
        assert!(path.is_file());
        let mode = store.conn.query_one("PRAGMA journal_mode", &[]).unwrap().text(0).unwrap();
        assert_eq!(mode, "wal");
        let fk = store.conn.query_one("PRAGMA foreign_keys", &[]).unwrap().int(0).unwrap();
        assert_eq!(fk, 1);
        assert!(store.recall(&["s"], "blackout").unwrap().items.is_empty());
    }
}
