//! One run at a time on a store. A run takes the lock before it fetches anything and gives it
//! back when it is done; a second run (cron started the next one while the previous hangs)
//! waits for it up to a timeout, then gives up naming the holder.
//!
//! The lock is an advisory lock of the operating system on a file beside the store
//! (`state.db.lock`), not a row in it: the kernel gives it back when its process dies, however
//! it dies, so a killed run never blocks the next one and no process id is ever mistaken for a
//! live holder after it was reused. The file says who holds the lock (for the message of the
//! run that waits) and is emptied on release; a holder found written there when the lock is
//! free ended without releasing it, and the lock is taken over from it (and said so).

use super::{Store, StoreError, instant, parse_instant};
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
            host: host_name(),
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

/// The lock, held until dropped.
#[derive(Debug)]
pub struct Lock {
    file: File,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Emptied: a clean release. Closing the file gives the lock back either way.
        let _ = self.file.set_len(0);
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
    /// `taken_over` hears of a holder that ended without releasing it.
    pub fn lock(&self, timeout: Duration, taken_over: &mut dyn FnMut(&Holder)) -> Result<Lock, StoreError> {
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
        Ok(Lock { file })
    }
}

/// The holder written in the lock file, if one is.
fn holder(file: &mut File) -> Option<Holder> {
    let mut line = String::new();
    file.rewind().ok()?;
    file.take(4096).read_to_string(&mut line).ok()?;
    Holder::parse(&line)
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is what we pass.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    if ok && end > 0 {
        String::from_utf8_lossy(&buf[..end]).split_whitespace().collect()
    } else {
        "unknown".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_waits_then_names_the_holder_and_a_holder_that_died_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let first = Store::open(&path).unwrap();
        let second = Store::open(&path).unwrap();
        let held = first.lock(Duration::ZERO, &mut |_| panic!("free")).unwrap();
        let started = Instant::now();
        let err = second.lock(Duration::from_millis(500), &mut |_| panic!("held")).err().unwrap();
        assert!(started.elapsed() >= Duration::from_millis(500));
        assert!(
            err.to_string()
                .contains(&format!("in use by process {} on `{}`", std::process::id(), host_name())),
            "{err}"
        );
        drop(held);
        // Released cleanly: nothing to take over.
        drop(second.lock(Duration::ZERO, &mut |_| panic!("released")).unwrap());
        // A holder that ended without releasing (killed): its line is still in the file.
        std::fs::write(second.lock_path(), "4242 elsewhere 2026-01-01T00:00:00Z\n").unwrap();
        let mut taken = Vec::new();
        let _lock = second.lock(Duration::ZERO, &mut |h| taken.push((h.pid, h.host.clone()))).unwrap();
        assert_eq!(taken, vec![(4242, "elsewhere".to_string())]);
    }
}
