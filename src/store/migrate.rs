//! Numbered schema migrations, applied in order in one transaction, the version kept in
//! `PRAGMA user_version`. A store of a newer schema than this build knows is refused, never
//! written to.

use super::StoreError;
use rusqlite::Connection;
use std::path::Path;

/// The migrations, in order: migration `n` (from 1) brings a store from version `n - 1` to `n`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_observed_and_fetched.sql"),
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

/// Whether a store that cannot be written to is of the schema this build reads.
pub fn check(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let found: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(super::sqlite(path))?;
    match found.cmp(&latest()) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(StoreError::Newer {
            path: path.to_path_buf(),
            found,
            known: latest(),
        }),
        std::cmp::Ordering::Less => Err(StoreError::ReadOnly { path: path.to_path_buf() }),
    }
}

/// Brings the store at `path` up to [`latest`], or refuses a newer one.
pub fn up(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let sqlite = super::sqlite(path);
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(&sqlite)?;
    if found > latest() {
        return Err(StoreError::Newer {
            path: path.to_path_buf(),
            found,
            known: latest(),
        });
    }
    if found == latest() {
        return Ok(());
    }
    let tx = conn.transaction().map_err(&sqlite)?;
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql).map_err(&sqlite)?;
        tx.pragma_update(None, "user_version", n as u32 + 1).map_err(&sqlite)?;
    }
    tx.commit().map_err(&sqlite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_store_gets_every_migration_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut conn = Connection::open(&path).unwrap();
        up(&mut conn, &path).unwrap();
        let v: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, latest());
        // Applying again changes nothing.
        up(&mut conn, &path).unwrap();
        conn.pragma_update(None, "user_version", latest() + 1).unwrap();
        assert!(matches!(up(&mut conn, &path), Err(StoreError::Newer { .. })));
    }

    #[test]
    fn a_store_of_schema_1_keeps_its_rows_and_starts_observing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO runs (started_at, evaluated_at, election, rule_files, options, outcome)
                 VALUES ('2017-05-06T00:00:00Z', '2017-05-06T00:00:00Z', 'e', '[]', '{}', 'findings');
             INSERT INTO items (source, url, first_run, first_seen, last_run, last_seen)
                 VALUES ('s', 'https://x.fr/a', 1, '2017-05-06T00:00:00Z', 1, '2017-05-06T00:00:00Z');
             INSERT INTO findings (id, rule, source, url, materials, status, first_run, first_reported, last_run, last_reported, version)
                 VALUES ('abc', 'r', 's', 'https://x.fr/a', 'm', 'new', 1, '2017-05-06T00:00:00Z', 1, '2017-05-06T00:00:00Z', 'v');",
        )
        .unwrap();
        up(&mut conn, &path).unwrap();
        let v: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, 2);
        let (first_seen, absent, capture): (String, Option<String>, Option<String>) = conn
            .query_row("SELECT first_seen, absent_at, capture FROM items", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((first_seen.as_str(), absent, capture), ("2017-05-06T00:00:00Z", None, None));
        let status: String = conn
            .query_row("SELECT status FROM findings WHERE id = 'abc'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(status, "new");
        let listings: i64 = conn.query_row("SELECT COUNT(*) FROM listings", [], |r| r.get(0)).unwrap();
        assert_eq!(listings, 0);
        drop(conn);
        // The store opens as any other, and what it recalls of the old item observes nothing.
        let store = super::super::Store::open(&path).unwrap();
        let recall = store.recall(&["s"], "blackout").unwrap();
        let url = url::Url::parse("https://x.fr/a").unwrap();
        let at = chrono::Utc::now();
        let seen = crate::run::History::observe(&recall, "s", &url, &mut std::iter::empty(), at).unwrap();
        assert_eq!((seen.absent_at, seen.capture), (None, None));
    }
}
