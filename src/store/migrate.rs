//! Numbered schema migrations, applied in order in one transaction, the version kept in
//! `PRAGMA user_version`. A store of a newer schema than this build knows is refused, never
//! written to.

use super::StoreError;
use rusqlite::Connection;
use std::path::Path;

/// The migrations, in order: migration `n` (from 1) brings a store from version `n - 1` to `n`.
pub const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_init.sql")];

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
}
