//! State across runs, in SQLite: the runs, each source's health per run, the items seen (first
//! and last), the versions of their content, the findings (new, open, resolved) and the
//! reviews of them — so a nightly check can say what is new since last night, when an item
//! first appeared, and not report again what a person judged a false positive.
//!
//! One connection, used from one thread: the run reads what it needs before judging (a
//! [`Recall`] snapshot the judging threads share) and writes everything in one transaction at
//! the end ([`Store::commit`]), so a finding counts as reported only once the run that reported
//! it has committed; a run killed before that leaves the store as it was. Overlapping runs are
//! kept apart by a lock beside the store that names its holder ([`Store::lock`]).
//!
//! The schema evolves by numbered migrations (`migrations/`), applied in one transaction and
//! tracked in `PRAGMA user_version`.

mod commit;
mod kept;
mod lock;
mod migrate;
mod query;

pub use commit::RunMeta;
pub use kept::Kept;
pub use lock::{Holder, Lock};
pub use query::{FindingRow, ItemRow, ReviewRow, ReviewVerdict, RunRow, SourceRow};

use crate::timing::{Between, Capture, Observed};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use url::Url;

/// The state store of one file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The file could only be opened for reading (permissions, a read-only file system): a
    /// run can recall what earlier runs saw, but not be recorded.
    read_only: bool,
}

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the directory of the state store `{}`: {error}", path.display())]
    Directory { path: PathBuf, error: std::io::Error },
    #[error("state store `{}`: {error}{}", path.display(), hint(error))]
    Sqlite { path: PathBuf, error: rusqlite::Error },
    #[error(
        "state store `{}` has schema version {found}, newer than this blackout's {known}: use a newer blackout, or another store (`--state PATH`)",
        path.display()
    )]
    Newer { path: PathBuf, found: u32, known: u32 },
    #[error(
        "state store `{}` is in use by {} (waited {waited} s; `--lock-timeout` waits longer)",
        path.display(), holder.as_ref().map_or("another run".into(), |h| format!("process {} on `{}` since {}", h.pid, h.host, h.since.format("%Y-%m-%dT%H:%M:%SZ")))
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
    #[error("no finding `{0}` in the state store (`blackout state findings` lists them)")]
    UnknownFinding(String),
    #[error("no state store at `{}`: a check creates it; `--state PATH` names another", path.display())]
    Missing { path: PathBuf },
}

impl Store {
    /// The default store: `$XDG_DATA_HOME/blackout/state.db`, else
    /// `~/.local/share/blackout/state.db`.
    pub fn default_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
        Some(base.join("blackout/state.db"))
    }

    /// Opens (creating) the store at `path` and brings its schema up to date. Write-ahead
    /// logging lets readers (`blackout state …`) look while a run writes; foreign keys are
    /// enforced; a busy store is waited for a few seconds before an error.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|error| StoreError::Directory {
                path: dir.to_path_buf(),
                error,
            })?;
        }
        let sqlite = sqlite(path);
        let mut conn = Connection::open(path).map_err(&sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(&sqlite)?;
        let read_only = conn.is_readonly(rusqlite::MAIN_DB).map_err(&sqlite)?;
        if read_only {
            conn.execute_batch("PRAGMA foreign_keys = ON;").map_err(&sqlite)?;
            migrate::check(&conn, path)?;
        } else {
            conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
                .map_err(&sqlite)?;
            migrate::up(&mut conn, path)?;
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            read_only,
        })
    }

    /// Whether the store could only be opened for reading.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Opens a store that must exist already (for looking inside it: a typo in `--state`
    /// must not create an empty store and show nothing).
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing { path: path.to_path_buf() });
        }
        Store::open(path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, error: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            error,
        }
    }

    /// What the store remembers of the items and listings of these sources, for the run's
    /// judging threads. `tool` is this blackout (`blackout 0.1.0`): only its own captures of an
    /// item's content are compared with this run's.
    pub fn recall(&self, sources: &[&str], tool: &str) -> Result<Recall, StoreError> {
        let mut recall = Recall::default();
        let mut items = self
            .conn
            .prepare(
                "SELECT i.url, i.first_seen, i.absent_at, i.capture, i.capture_at, i.capture_page, r.tool, i.changed_after, i.changed_by
                 FROM items i LEFT JOIN runs r ON r.id = i.capture_run WHERE i.source = ?1",
            )
            .map_err(|e| self.error(e))?;
        let mut listings = self
            .conn
            .prepare("SELECT url, last_read FROM listings WHERE source = ?1")
            .map_err(|e| self.error(e))?;
        // Items whose page this blackout read, with the entries it read then, unless a finding
        // of theirs is open: what need not be fetched again unchanged.
        let mut read = self
            .conn
            .prepare(
                "SELECT i.url, i.entries FROM items i JOIN runs r ON r.id = i.capture_run
                 WHERE i.source = ?1 AND i.capture_page = 1 AND r.tool = ?2 AND i.entries != ''
                   AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.source = i.source AND f.url = i.url AND f.status IN ('new', 'open'))",
            )
            .map_err(|e| self.error(e))?;
        for source in sources {
            let rows = items
                .query_map([source], |r| {
                    let capture = match (
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(6)?,
                    ) {
                        (Some(version), Some(at), Some(by)) if by == tool => parse_instant(&at).map(|at| Capture {
                            version,
                            at,
                            page: r.get::<_, Option<bool>>(5).ok().flatten().unwrap_or(false),
                            changed: match (r.get::<_, Option<String>>(7), r.get::<_, Option<String>>(8)) {
                                (Ok(Some(after)), Ok(Some(by))) => parse_instant(&after)
                                    .zip(parse_instant(&by))
                                    .map(|(after, by)| Between { after, by }),
                                _ => None,
                            },
                        }),
                        _ => None,
                    };
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        capture,
                    ))
                })
                .map_err(|e| self.error(e))?;
            for row in rows {
                let (url, first_seen, absent_at, capture) = row.map_err(|e| self.error(e))?;
                if let Some(first_seen) = parse_instant(&first_seen) {
                    let observed = Observed {
                        first_seen,
                        absent_at: absent_at.as_deref().and_then(parse_instant),
                        capture,
                    };
                    recall.items.insert((source.to_string(), url), observed);
                }
            }
            let rows = listings
                .query_map([source], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(|e| self.error(e))?;
            for row in rows {
                let (url, read) = row.map_err(|e| self.error(e))?;
                if let Some(read) = parse_instant(&read) {
                    recall.listings.insert((source.to_string(), url), read);
                }
            }
            let rows = read
                .query_map([source, &tool], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(|e| self.error(e))?;
            for row in rows {
                let (url, entries) = row.map_err(|e| self.error(e))?;
                recall.read.insert((source.to_string(), url), entries);
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
    /// Items whose page was read, by the digests of their entries then (comma-separated).
    read: HashMap<(String, String), String>,
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

    fn unchanged(&self, source: &str, url: &Url, entry: &str) -> bool {
        self.read
            .get(&(source.to_string(), url.to_string()))
            .is_some_and(|entries| entries.split(',').any(|e| e == entry))
    }
}

/// Instants as stored: RFC 3339 in UTC, to the second, so they sort as text.
fn instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What SQLite's terse errors usually mean here, and what to do.
fn hint(error: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode::*;
    match error.sqlite_error_code() {
        Some(DiskFull) => " (its disk is full: free some space, or `blackout state prune`)",
        Some(SystemIoFailure) => " (is its disk full, or its file system read-only?)",
        Some(ReadOnly) => " (make it writable, or name another store with `--state PATH`)",
        Some(NotADatabase) => " (not a blackout state store: name another with `--state PATH`)",
        Some(CannotOpen) => " (check the directory exists and is writable)",
        _ => "",
    }
}

/// The error of a statement on the store at `path`.
fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |error| StoreError::Sqlite {
        path: path.to_path_buf(),
        error,
    }
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
        let store = Store::open(&path).unwrap();
        assert!(path.is_file());
        let mode: String = store.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
        assert!(store.recall(&["s"], "blackout").unwrap().items.is_empty());
    }
}
