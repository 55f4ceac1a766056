//! Numbered schema migrations, applied in order in one transaction. SQLite keeps the version
//! in `PRAGMA user_version`; PostgreSQL in a table of its own, and its machines take an
//! advisory lock while they migrate, so two starting at once do not both apply a step. A store
//! of a newer schema than this build knows is refused, never written to.

use super::StoreError;
use super::db::{Conn, Exec, vals};
use std::path::Path;

/// The migrations of each dialect, in order: migration `n` (from 1) brings a store from
/// version `n - 1` to `n`.
pub const SQLITE: &[&str] = &[
    include_str!("migrations/sqlite/0001_init.sql"),
    include_str!("migrations/sqlite/0002_observed_and_fetched.sql"),
];
pub const POSTGRES: &[&str] = &[
    include_str!("migrations/postgres/0001_init.sql"),
    include_str!("migrations/postgres/0002_observed_and_fetched.sql"),
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    SQLITE.len() as u32
}

/// The schema version of a store (0 for an empty one).
pub fn version(conn: &mut impl Exec, postgres: bool) -> Result<u32, super::db::DbError> {
    let v = match postgres {
        false => conn.query_one("PRAGMA user_version", &[])?.int(0)?,
        true => {
            let exists = conn
                .query_one(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM information_schema.tables WHERE table_name = 'blackout_schema'",
                    &[],
                )?
                .int(0)?;
            match exists {
                0 => 0,
                _ => conn
                    .query_opt("SELECT version FROM blackout_schema", &[])?
                    .map(|r| r.int(0))
                    .transpose()?
                    .unwrap_or(0),
            }
        }
    };
    Ok(u32::try_from(v).unwrap_or(0))
}

/// Whether a store that cannot be written to is of the schema this build reads.
pub fn check(conn: &mut Conn, path: &Path) -> Result<(), StoreError> {
    let postgres = matches!(conn, Conn::Postgres(_));
    let found = version(conn, postgres).map_err(super::db_error(path))?;
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

/// Brings the store at `path` up to [`latest`], or refuses a newer one. The version is read
/// inside the migrating transaction, which holds the write lock (SQLite's `BEGIN IMMEDIATE`, a
/// PostgreSQL advisory lock): two runs starting at once after an upgrade do not both migrate.
pub fn up(conn: &mut Conn, path: &Path) -> Result<(), StoreError> {
    let db = super::db_error(path);
    let postgres = matches!(conn, Conn::Postgres(_));
    if version(conn, postgres).map_err(&db)? == latest() {
        return Ok(());
    }
    let mut tx = conn.transaction_immediate().map_err(&db)?;
    if postgres {
        tx.execute("SELECT pg_advisory_xact_lock(7428119)", &[]).map_err(&db)?;
        tx.batch("CREATE TABLE IF NOT EXISTS blackout_schema (version BIGINT NOT NULL)")
            .map_err(&db)?;
    }
    let found = version(&mut tx, postgres).map_err(&db)?;
    if found > latest() {
        return Err(StoreError::Newer {
            path: path.to_path_buf(),
            found,
            known: latest(),
        });
    }
    let steps = if postgres { POSTGRES } else { SQLITE };
    for (n, sql) in steps.iter().enumerate().skip(found as usize) {
        tx.batch(sql).map_err(&db)?;
        let v = n as i64 + 1;
        match postgres {
            true => {
                tx.execute("DELETE FROM blackout_schema", &[]).map_err(&db)?;
                tx.execute("INSERT INTO blackout_schema (version) VALUES (?1)", vals![v])
                    .map_err(&db)?;
            }
            false => tx.batch(&format!("PRAGMA user_version = {v}")).map_err(&db)?,
        }
    }
    tx.commit().map_err(&db)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(path: &Path) -> Conn {
        Conn::Sqlite(rusqlite::Connection::open(path).unwrap())
    }

    #[test]
    fn an_empty_store_gets_every_migration_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut conn = sqlite(&path);
        up(&mut conn, &path).unwrap();
        assert_eq!(version(&mut conn, false).unwrap(), latest());
        assert_eq!(SQLITE.len(), POSTGRES.len(), "the dialects have the same steps");
        // Applying again changes nothing.
        up(&mut conn, &path).unwrap();
        conn.batch(&format!("PRAGMA user_version = {}", latest() + 1)).unwrap();
        assert!(matches!(up(&mut conn, &path), Err(StoreError::Newer { .. })));
    }

    #[test]
    fn a_store_of_schema_1_keeps_its_rows_and_starts_observing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut conn = sqlite(&path);
        conn.batch(SQLITE[0]).unwrap();
        conn.batch("PRAGMA user_version = 1").unwrap();
        conn.batch(
            "INSERT INTO runs (started_at, evaluated_at, election, rule_files, options, outcome)
                 VALUES ('2017-05-06T00:00:00Z', '2017-05-06T00:00:00Z', 'e', '[]', '{}', 'findings');
             INSERT INTO items (source, url, first_run, first_seen, last_run, last_seen)
                 VALUES ('s', 'https://x.fr/a', 1, '2017-05-06T00:00:00Z', 1, '2017-05-06T00:00:00Z');
             INSERT INTO findings (id, rule, source, url, materials, status, first_run, first_reported, last_run, last_reported, version)
                 VALUES ('abc', 'r', 's', 'https://x.fr/a', 'm', 'new', 1, '2017-05-06T00:00:00Z', 1, '2017-05-06T00:00:00Z', 'v');",
        )
        .unwrap();
        up(&mut conn, &path).unwrap();
        assert_eq!(version(&mut conn, false).unwrap(), 2);
        let row = conn.query_one("SELECT first_seen, absent_at, capture FROM items", &[]).unwrap();
        assert_eq!(
            (row.text(0).unwrap().as_str(), row.opt_text(1).unwrap(), row.opt_text(2).unwrap()),
            ("2017-05-06T00:00:00Z", None, None)
        );
        let status = conn
            .query_one("SELECT status FROM findings WHERE id = 'abc'", &[])
            .unwrap()
            .text(0)
            .unwrap();
        assert_eq!(status, "new");
        let listings = conn.query_one("SELECT COUNT(*) FROM listings", &[]).unwrap().int(0).unwrap();
        assert_eq!(listings, 0);
        drop(conn);
        // The store opens as any other, and what it recalls of the old item observes nothing.
        let mut store = super::super::Store::open(&path).unwrap();
        let recall = store.recall(&["s"], "blackout").unwrap();
        let url = url::Url::parse("https://x.fr/a").unwrap();
        let at = chrono::Utc::now();
        let seen = crate::run::History::observe(&recall, "s", &url, &mut std::iter::empty(), at).unwrap();
        assert_eq!((seen.absent_at, seen.capture), (None, None));
    }
}
