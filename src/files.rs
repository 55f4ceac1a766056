//! Files written whole: to a temporary name beside the target (of this process and this write
//! alone, created new with `O_EXCL`, so never through a link someone left at that name), then
//! renamed over it, so that a reader — a web server, the next run, a body read back for a
//! conditional GET — sees the old file or the new one, never half of one. Used by the state
//! store's kept bodies and by `--output`.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `file` whole; `sync` also flushes them to the disk before the rename (a
/// report a crash must not leave empty), which bodies a run can fetch again skip.
pub fn write_whole(file: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    write_with(file, sync, |mut f| f.write_all(bytes))
}

/// Writes `file` whole with `write`, which is given the temporary file (for what is too large
/// to hold in memory first, such as a WARC export).
pub fn write_with<T>(file: &Path, sync: bool, write: impl FnOnce(&std::fs::File) -> std::io::Result<T>) -> std::io::Result<T> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).and_then(|f| {
        let done = write(&f)?;
        if sync {
            f.sync_all()?;
        }
        Ok(done)
    });
    written
        .and_then(|done| std::fs::rename(&tmp, file).map(|()| done))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_replaced_whole_and_leave_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.txt");
        write_whole(&path, b"one", true).unwrap();
        write_whole(&path, b"two", false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_whole(&dir.path().join("missing/r.txt"), b"x", true).is_err());
    }
}
