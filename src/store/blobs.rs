//! The store's blobs: every body a run fetched, the texts it judged, the rule files it read and
//! its record, each kept once, as a file named by the SHA-256 of its content
//! (`<dir>/ab/abcdef…`), zstd-compressed (`zstd -dc FILE | sha256sum` gives the name back).
//! The name is the proof: a blob is checked against it every time it is read, and one that
//! does not match is refused, never used.
//!
//! A file is written whole (a temporary name, then a rename), so a file under a name is that
//! content or a damaged copy of it, never a part. The bodies a schema 2 store kept, written
//! before blobs were compressed, are read as they are: their own digest matches their name.

use crate::model::Digest;
use std::io::Write;
use std::path::{Path, PathBuf};

/// zstd's level 1 (of 1 to 19 in common use): bodies are written as a run fetches them, and
/// HTML shrinks more than sixfold even so (6.37x on the 1,355 pages of wcxb-dev, each alone).
const LEVEL: i32 = 1;

/// The first bytes of a zstd frame.
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Compresses a stream as blobs are (a run's record, written as the run goes), for
/// [`Blobs::put_packed`].
pub struct Packer(zstd::stream::write::Encoder<'static, Vec<u8>>);

impl Packer {
    pub fn new() -> Packer {
        Packer(zstd::stream::write::Encoder::new(Vec::new(), LEVEL).expect("a zstd context"))
    }

    /// The compressed bytes.
    pub fn finish(self) -> Vec<u8> {
        self.0.finish().expect("writing to memory")
    }
}

impl Write for Packer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// A directory of blobs.
#[derive(Debug, Clone)]
pub struct Blobs {
    dir: PathBuf,
}

/// Why a blob cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {digest} is missing from {}", dir.display())]
    Missing { digest: Digest, dir: PathBuf },
    #[error("blob {} does not hold what its name says (its content was altered or damaged)", file.display())]
    Altered { file: PathBuf },
    #[error("cannot read blob {}: {error}", file.display())]
    Io { file: PathBuf, error: std::io::Error },
}

impl Blobs {
    pub fn new(dir: PathBuf) -> Blobs {
        Blobs { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a blob.
    pub fn file(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.dir.join(&hex[..2]).join(hex)
    }

    /// Whether a file is kept under this digest (not whether it is intact: see [`Blobs::get`]).
    pub fn has(&self, digest: &Digest) -> bool {
        self.file(digest).is_file()
    }

    /// Keeps `content` and returns its digest.
    pub fn put(&self, content: &[u8]) -> std::io::Result<Digest> {
        let digest = Digest::of(content);
        self.put_as(&digest, content)?;
        Ok(digest)
    }

    /// Keeps `content`, whose digest the caller has: unless an intact copy is there already
    /// (a damaged one is written again).
    pub fn put_as(&self, digest: &Digest, content: &[u8]) -> std::io::Result<()> {
        if self.get(digest).is_ok() && self.reuse(digest) {
            return Ok(());
        }
        self.write(digest, content)
    }

    /// Keeps `content` unless a file of its name is there (not read back: for what a run
    /// writes as it goes, where reading every body again would cost as much as writing it;
    /// `evidence verify` finds a damaged one).
    pub fn put_new(&self, digest: &Digest, content: &[u8]) -> std::io::Result<()> {
        match self.reuse(digest) {
            true => Ok(()),
            false => self.write(digest, content),
        }
    }

    /// [`Blobs::put_new`], the digest computed here.
    pub fn put_new_content(&self, content: &[u8]) -> std::io::Result<Digest> {
        let digest = Digest::of(content);
        self.put_new(&digest, content)?;
        Ok(digest)
    }

    /// Keeps content already compressed (by a [`Packer`]), under the digest of what it holds.
    pub fn put_packed(&self, digest: &Digest, packed: &[u8]) -> std::io::Result<()> {
        match self.reuse(digest) {
            true => Ok(()),
            false => self.write_file(digest, packed),
        }
    }

    /// Whether a blob is kept — the one test of it, no `stat` before — and, when it is, named
    /// again by a run under way: its time is made now, so that `state prune`, which sweeps the
    /// blobs no run names once they are a day old, does not take one from under a run that has
    /// not committed yet (prune looks at the time again just before it removes a blob: that,
    /// not its lock, protects a run of another shard on PostgreSQL). One swept meanwhile is
    /// written again. A time that cannot be set (a blob another user wrote, on a store two
    /// users share) is left as it is, not an error.
    fn reuse(&self, digest: &Digest) -> bool {
        let file = self.file(digest);
        let path = std::ffi::CString::new(file.as_os_str().as_encoded_bytes()).expect("a blob's path, made of its digest, holds no NUL");
        // SAFETY: `path` is a NUL-terminated string that outlives the call; a null `times`
        // sets both times to now (write permission suffices, ownership is not needed).
        let touched = unsafe { libc::utimensat(libc::AT_FDCWD, path.as_ptr(), std::ptr::null(), 0) } == 0;
        match touched {
            true => true,
            false => {
                let error = std::io::Error::last_os_error();
                tracing::debug!(file = %file.display(), "cannot renew the blob's time: {error}");
                error.kind() != std::io::ErrorKind::NotFound
            }
        }
    }

    /// Flushes every blob written so far to the disk (one `syncfs` of their file system):
    /// called before a run's transaction commits, so that a committed run never names a blob
    /// a crash lost. Blobs are written without a flush each, which would cost one disk write
    /// per page.
    pub fn sync(&self) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let dir = std::fs::File::open(&self.dir)?;
            // SAFETY: `dir` is an open descriptor for the duration of the call.
            if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }

    fn write(&self, digest: &Digest, content: &[u8]) -> std::io::Result<()> {
        // One compression context per thread, kept: a context is some hundreds of kilobytes
        // to set up, and a run writes a blob per page from each judging thread.
        thread_local! {
            static CONTEXT: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> = const { std::cell::RefCell::new(None) };
        }
        let packed = CONTEXT.with_borrow_mut(|context| {
            let context = match context {
                Some(c) => c,
                None => context.insert(zstd::bulk::Compressor::new(LEVEL)?),
            };
            context.compress(content)
        })?;
        self.write_file(digest, &packed)
    }

    fn write_file(&self, digest: &Digest, packed: &[u8]) -> std::io::Result<()> {
        let file = self.file(digest);
        file.parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::files::write_whole(&file, packed, false))
    }

    /// The content of a blob, checked against its name.
    pub fn get(&self, digest: &Digest) -> Result<Vec<u8>, BlobError> {
        let file = self.file(digest);
        let kept = std::fs::read(&file).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => BlobError::Missing {
                digest: *digest,
                dir: self.dir.clone(),
            },
            _ => BlobError::Io { file: file.clone(), error },
        })?;
        if kept.starts_with(ZSTD_MAGIC)
            && let Ok(content) = zstd::stream::decode_all(&kept[..])
            && Digest::of(&content) == *digest
        {
            return Ok(content);
        }
        // Written before blobs were compressed, or a body that is itself compressed.
        match Digest::of(&kept) == *digest {
            true => Ok(kept),
            false => Err(BlobError::Altered { file }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_is_kept_once_compressed_and_refused_when_altered() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::new(dir.path().join("blobs"));
        let page = "<p>Le texte de la page.</p>".repeat(200);
        let d = blobs.put(page.as_bytes()).unwrap();
        assert_eq!(d, Digest::of(page.as_bytes()));
        let on_disk = std::fs::metadata(blobs.file(&d)).unwrap().len();
        assert!(on_disk < page.len() as u64 / 10, "{on_disk} bytes for {}", page.len());
        assert_eq!(blobs.get(&d).unwrap(), page.as_bytes());
        // Kept again: not rewritten, but its time made now (a sweep of day-old orphans must
        // not take it from a run that names it again), for every way of keeping one.
        use std::os::unix::fs::MetadataExt;
        let inode = std::fs::metadata(blobs.file(&d)).unwrap().ino();
        let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
        let age = || std::fs::metadata(blobs.file(&d)).unwrap().modified().unwrap().elapsed().unwrap();
        let ways: [&dyn Fn() -> std::io::Result<()>; 3] = [
            &|| blobs.put(page.as_bytes()).map(drop),
            &|| blobs.put_new(&d, page.as_bytes()),
            &|| blobs.put_packed(&d, b"never written: the blob is there"),
        ];
        for again in ways {
            std::fs::File::options()
                .write(true)
                .open(blobs.file(&d))
                .unwrap()
                .set_modified(two_days_ago)
                .unwrap();
            again().unwrap();
            assert!(age() < std::time::Duration::from_secs(3600), "{:?}", age());
            assert_eq!(std::fs::metadata(blobs.file(&d)).unwrap().ino(), inode);
            assert_eq!(blobs.get(&d).unwrap(), page.as_bytes());
        }

        // A run's record, packed as it goes.
        let mut packer = Packer::new();
        packer.write_all(b"a record").unwrap();
        let packed = packer.finish();
        assert!(packed.starts_with(ZSTD_MAGIC));
        let record = Digest::of(b"a record");
        blobs.put_packed(&record, &packed).unwrap();
        assert_eq!(blobs.get(&record).unwrap(), b"a record");

        // A raw file (schema 2's bodies) is read as it is.
        let raw = b"old raw body";
        let rd = Digest::of(raw);
        std::fs::create_dir_all(blobs.file(&rd).parent().unwrap()).unwrap();
        std::fs::write(blobs.file(&rd), raw).unwrap();
        assert_eq!(blobs.get(&rd).unwrap(), raw);

        // Altered: refused, named; missing: said so.
        std::fs::write(blobs.file(&d), b"something else").unwrap();
        let err = blobs.get(&d).unwrap_err().to_string();
        assert!(err.contains(&d.hex()) && err.contains("altered"), "{err}");
        // Kept again, the damaged copy is replaced.
        blobs.put(page.as_bytes()).unwrap();
        assert_eq!(blobs.get(&d).unwrap(), page.as_bytes());
        let gone = Digest::of(b"never kept");
        assert!(matches!(blobs.get(&gone), Err(BlobError::Missing { .. })));
    }
}
