//! One run at a time on a store (in PostgreSQL, on a shard of it). A run takes the lock before
//! it fetches anything and gives it back when it is done; a second run (cron started the next
//! one while the previous hangs) waits for it up to a timeout, then gives up naming the holder.
//!
//! The lock is one its holder cannot keep by dying: for SQLite an advisory lock of the
//! operating system on a file beside the store (`state.db.lock`), which the kernel gives back
//! when its process dies, however it dies; for PostgreSQL a session advisory lock, which the
//! server gives back when the holder's connection ends. So a killed run never blocks the next
//! one, and no process id is ever mistaken for a live holder after it was reused. Beside the
//! lock, the holder is written down (the file, or a row of `run_locks`) for the message of a
//! run that waits, and wiped on release; a holder found written there when the lock is free
//! ended without releasing it, and the lock is taken over from it (and said so).

use super::db::{Conn, Exec, vals};
use super::{Store, StoreError, instant, parse_instant};
use crate::sources::Shard;
use chrono::{DateTime, Utc};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Who holds a store's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub since: DateTime<Utc>,
}

impl Holder {
    /// This process, now.
    fn me() -> Holder {
        Holder {
            pid: std::process::id(),
            host: crate::host::name(),
            since: Utc::now(),
        }
    }

    /// `pid host since`, one line.
    fn line(&self) -> String {
        format!("{} {} {}\n", self.pid, self.host, instant(self.since))
    }

    fn parse(line: &str) -> Option<Holder> {
        let mut parts = line.split_whitespace();
        Some(Holder {
            pid: parts.next()?.parse().ok()?,
            host: parts.next()?.to_string(),
            since: parse_instant(parts.next()?)?,
        })
    }
}

/// The lock, held until given back with [`Store::release`] (or until its process ends, or
/// its connection closes).
#[derive(Debug)]
pub enum Lock {
    File(File),
    /// The name of a session advisory lock of the store's PostgreSQL connection.
    Postgres(String),
}

impl Drop for Lock {
    fn drop(&mut self) {
        // A file emptied: a clean release (closing it gives the lock back either way).
        if let Lock::File(file) = self {
            let _ = file.set_len(0);
        }
    }
}

impl Store {
    /// The lock file of this store.
    pub fn lock_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the store's lock, waiting up to `timeout` for another run to give it back.
    /// `taken_over` hears of a holder that ended without releasing it. `shard` is the share of
    /// the sources the run covers: in PostgreSQL, runs of different shards do not wait for
    /// each other.
    pub fn lock(&mut self, shard: Option<Shard>, timeout: Duration, taken_over: &mut dyn FnMut(&Holder)) -> Result<Lock, StoreError> {
        self.commit_wait = timeout;
        if matches!(self.conn, Conn::Postgres(_)) {
            let scope = shard.map_or("all".to_string(), |s| s.to_string());
            return self.lock_postgres(&scope, timeout, taken_over);
        }
        let path = self.lock_path();
        let io = |error| StoreError::LockFile { path: path.clone(), error };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if started.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(100).min(timeout));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::Locked {
                        path: self.path.clone(),
                        holder: holder(&mut file),
                        waited: started.elapsed().as_secs(),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        if let Some(dead) = holder(&mut file) {
            taken_over(&dead);
        }
        // Who holds it, for the message of a run that waits. Not writing it (a full disk)
        // costs that message its details, not the lock.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(Holder::me().line().as_bytes()));
        Ok(Lock::File(file))
    }

    /// Gives the lock back, cleanly: the holder is wiped (a lock not given back so, by a run
    /// that died, is taken over by the next with a word about it).
    pub fn release(&mut self, lock: Lock) {
        if let Lock::Postgres(name) = &lock {
            let _ = self.conn.execute("DELETE FROM run_locks WHERE name = ?1", vals![name]);
            let _ = self.conn.query("SELECT pg_advisory_unlock(hashtext(?1))", vals![name]);
        }
        // (A lock file is emptied as the lock is dropped.)
        drop(lock);
    }

    fn lock_postgres(&mut self, scope: &str, timeout: Duration, taken_over: &mut dyn FnMut(&Holder)) -> Result<Lock, StoreError> {
        let name = format!("blackout run {scope}");
        let started = Instant::now();
        loop {
            let got = self
                .conn
                .query_one("SELECT pg_try_advisory_lock(hashtext(?1))", vals![&name])
                .and_then(|r| r.int(0))
                .map_err(|e| self.error(e))?;
            if got == 1 {
                break;
            }
            if started.elapsed() >= timeout {
                return Err(StoreError::Locked {
                    path: self.path.clone(),
                    holder: self.written_holder(&name),
                    waited: started.elapsed().as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(200).min(timeout));
        }
        if let Some(dead) = self.written_holder(&name) {
            taken_over(&dead);
        }
        let me = Holder::me();
        self.conn
            .execute(
                "INSERT INTO run_locks (name, pid, host, since) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, host = excluded.host, since = excluded.since",
                vals![&name, i64::from(me.pid), me.host, instant(me.since)],
            )
            .map_err(|e| self.error(e))?;
        Ok(Lock::Postgres(name))
    }

    fn written_holder(&mut self, name: &str) -> Option<Holder> {
        let row = self
            .conn
            .query_opt("SELECT pid, host, since FROM run_locks WHERE name = ?1", vals![name])
            .ok()??;
        Some(Holder {
            pid: u32::try_from(row.int(0).ok()?).ok()?,
            host: row.text(1).ok()?,
            since: parse_instant(&row.text(2).ok()?)?,
        })
    }
}

/// The holder written in the lock file, if one is.
fn holder(file: &mut File) -> Option<Holder> {
    let mut line = String::new();
    file.rewind().ok()?;
    file.take(4096).read_to_string(&mut line).ok()?;
    Holder::parse(&line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_waits_then_names_the_holder_and_a_holder_that_died_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut first = Store::open(&path).unwrap();
        let mut second = Store::open(&path).unwrap();
        let held = first.lock(None, Duration::ZERO, &mut |_| panic!("free")).unwrap();
        let started = Instant::now();
        let err = second
            .lock(None, Duration::from_millis(500), &mut |_| panic!("held"))
            .err()
            .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(500));
        assert!(
            err.to_string()
                .contains(&format!("in use by process {} on `{}`", std::process::id(), crate::host::name())),
            "{err}"
        );
        first.release(held);
        // Released cleanly: nothing to take over.
        let again = second.lock(None, Duration::ZERO, &mut |_| panic!("released")).unwrap();
        second.release(again);
        // A holder that ended without releasing (killed): its line is still in the file.
        std::fs::write(second.lock_path(), "4242 elsewhere 2026-01-01T00:00:00Z\n").unwrap();
        let mut taken = Vec::new();
        let _lock = second
            .lock(None, Duration::ZERO, &mut |h| taken.push((h.pid, h.host.clone())))
            .unwrap();
        assert_eq!(taken, vec![(4242, "elsewhere".to_string())]);
    }
}
