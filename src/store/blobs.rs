//! The store's blobs: every body a run fetched, the texts it judged, the rule files it read and
//! its record, each kept once, as a file named by the SHA-256 of its content
//! (`<dir>/ab/abcdef…`), gzip-compressed. The name is the proof: a blob is checked against it
//! every time it is read, and one that does not match is refused, never used.
//!
//! A file is written whole (a temporary name, then a rename), so a file under a name is that
//! content or a damaged copy of it, never a part. Files written before blobs were compressed
//! (the bodies of schema 2) are read as they are: their own digest matches their name.

use crate::model::Digest;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

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
        if self.get(digest).is_ok() {
            return Ok(());
        }
        self.write(digest, content)
    }

    /// Keeps `content` unless a file of its name is there (not read back: for what a run
    /// writes as it goes, where reading every body again would cost as much as writing it;
    /// `evidence verify` finds a damaged one).
    pub fn put_new(&self, digest: &Digest, content: &[u8]) -> std::io::Result<()> {
        match self.has(digest) {
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

    /// Keeps content already gzip-compressed, under the digest of what it holds.
    pub fn put_packed(&self, digest: &Digest, packed: &[u8]) -> std::io::Result<()> {
        match self.has(digest) {
            true => Ok(()),
            false => self.write_file(digest, packed),
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
        // The fastest level: bodies are written as a run fetches them, and HTML shrinks about
        // fourfold even so (4.2× on 272 MB of wcxb-dev pages).
        let mut gz = flate2::write::GzEncoder::new(Vec::with_capacity(content.len() / 4), flate2::Compression::fast());
        gz.write_all(content)?;
        self.write_file(digest, &gz.finish()?)
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
        if kept.starts_with(&[0x1f, 0x8b]) {
            let mut content = Vec::new();
            if flate2::read::GzDecoder::new(&kept[..]).read_to_end(&mut content).is_ok() && Digest::of(&content) == *digest {
                return Ok(content);
            }
        }
        // Written before blobs were compressed, or a body that is itself gzip.
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
        // Kept again: nothing rewritten.
        let before = std::fs::metadata(blobs.file(&d)).unwrap().modified().unwrap();
        blobs.put(page.as_bytes()).unwrap();
        assert_eq!(std::fs::metadata(blobs.file(&d)).unwrap().modified().unwrap(), before);

        // A raw file (schema 2's bodies) is read as it is; a gzip body too.
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
