//! The index file: what a regulator hands to newsrooms.
//!
//! All integers little-endian:
//!
//! ```text
//! magic "BLKOUTFP" | u32 format version | u32 algorithm version | u32 k | u32 w | u32 max_docs
//! u64 key[0] | u64 key[1] | u32 document count | u32 bucket bits | u64 entry count
//! documents: (u32 byte length, UTF-8 id) × count
//! buckets:   u32 × (2^bits + 1)      offsets into the entries
//! entries:   (u32 low hash bits, document) × count, sorted by hash; the document is a u16
//!            when the index has fewer than 65,535 documents (0xFFFF = excluded), else a u32
//! u64 xxh3 checksum of every byte before it
//! ```
//!
//! The file holds hashes and document ids, no text. Reading it is one read, a checksum and
//! bounds checks; anything truncated, corrupted or foreign is refused with an error, never a
//! panic.

use super::index::{EXCLUDED, Index};
use super::{ALGORITHM_VERSION, Key, Params};
use std::path::Path;
use xxhash_rust::xxh3::xxh3_64;

const MAGIC: &[u8; 8] = b"BLKOUTFP";
const FORMAT_VERSION: u32 = 1;
const HEADER: usize = 8 + 4 * 5 + 8 * 2 + 4 * 2 + 8;

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("cannot read `{path}`: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("`{0}` is not a blackout fingerprint index (wrong magic bytes)")]
    Foreign(String),
    #[error(
        "`{path}` is a fingerprint index of format {found}; this blackout reads format {FORMAT_VERSION}: rebuild it with `blackout fingerprint build`"
    )]
    Version { path: String, found: u32 },
    #[error(
        "`{path}` was built with fingerprint algorithm {found}; this blackout uses {ALGORITHM_VERSION}: rebuild it with `blackout fingerprint build`"
    )]
    Algorithm { path: String, found: u32 },
    #[error("`{path}` is truncated or corrupted ({what}); get a fresh copy or rebuild it")]
    Corrupt { path: String, what: String },
}

impl Index {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.entries.len() * 8 + self.buckets.len() * 4 + 64);
        out.extend_from_slice(MAGIC);
        for v in [
            FORMAT_VERSION,
            ALGORITHM_VERSION,
            self.params.k,
            self.params.w,
            self.params.max_docs,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.key.0[0].to_le_bytes());
        out.extend_from_slice(&self.key.0[1].to_le_bytes());
        out.extend_from_slice(&(self.docs.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.bucket_bits.to_le_bytes());
        out.extend_from_slice(&(self.entries.len() as u64).to_le_bytes());
        for d in &self.docs {
            out.extend_from_slice(&(d.len() as u32).to_le_bytes());
            out.extend_from_slice(d.as_bytes());
        }
        for b in &self.buckets {
            out.extend_from_slice(&b.to_le_bytes());
        }
        let narrow = self.docs.len() < u16::MAX as usize;
        for (h, d) in &self.entries {
            out.extend_from_slice(&h.to_le_bytes());
            if narrow {
                out.extend_from_slice(&(if *d == EXCLUDED { u16::MAX } else { *d as u16 }).to_le_bytes());
            } else {
                out.extend_from_slice(&d.to_le_bytes());
            }
        }
        let sum = xxh3_64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    pub fn save(&self, path: &Path) -> Result<(), FormatError> {
        std::fs::write(path, self.to_bytes()).map_err(|error| FormatError::Io {
            path: path.display().to_string(),
            error,
        })
    }

    pub fn load(path: &Path) -> Result<Index, FormatError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|error| FormatError::Io { path: name.clone(), error })?;
        Index::from_bytes(&bytes, &name)
    }

    /// Parses an index; `name` labels errors.
    pub fn from_bytes(bytes: &[u8], name: &str) -> Result<Index, FormatError> {
        let corrupt = |what: &str| FormatError::Corrupt {
            path: name.to_string(),
            what: what.to_string(),
        };
        if bytes.len() < MAGIC.len() || &bytes[..8] != MAGIC {
            return Err(FormatError::Foreign(name.to_string()));
        }
        let mut r = Reader { bytes, at: 8 };
        let version = r.u32().ok_or_else(|| corrupt("header cut short"))?;
        if version != FORMAT_VERSION {
            return Err(FormatError::Version {
                path: name.to_string(),
                found: version,
            });
        }
        if bytes.len() < HEADER + 8 {
            return Err(corrupt("header cut short"));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        if xxh3_64(body) != u64::from_le_bytes(sum.try_into().expect("8 bytes")) {
            return Err(corrupt("checksum mismatch"));
        }
        let mut r = Reader { bytes: body, at: 12 };
        let algorithm = r.u32().ok_or_else(|| corrupt("header"))?;
        if algorithm != ALGORITHM_VERSION {
            return Err(FormatError::Algorithm {
                path: name.to_string(),
                found: algorithm,
            });
        }
        let (k, w, max_docs) = (r.u32(), r.u32(), r.u32());
        let (key0, key1) = (r.u64(), r.u64());
        let (doc_count, bucket_bits, entry_count) = (r.u32(), r.u32(), r.u64());
        let (Some(k), Some(w), Some(max_docs), Some(key0), Some(key1), Some(doc_count), Some(bucket_bits), Some(entry_count)) =
            (k, w, max_docs, key0, key1, doc_count, bucket_bits, entry_count)
        else {
            return Err(corrupt("header"));
        };
        if k == 0 || w == 0 || !(1..=30).contains(&bucket_bits) {
            return Err(corrupt("impossible parameters"));
        }
        let mut docs = Vec::with_capacity((doc_count as usize).min(body.len() / 4));
        for _ in 0..doc_count {
            let len = r.u32().ok_or_else(|| corrupt("document table"))? as usize;
            let raw = r.take(len).ok_or_else(|| corrupt("document table"))?;
            docs.push(String::from_utf8(raw.to_vec()).map_err(|_| corrupt("document id is not UTF-8"))?);
        }
        let bucket_len = (1usize << bucket_bits) + 1;
        let raw = r.take(bucket_len * 4).ok_or_else(|| corrupt("bucket table"))?;
        let buckets: Vec<u32> = raw
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        let narrow = doc_count < u16::MAX as u32;
        let width = if narrow { 6 } else { 8 };
        let entry_len = usize::try_from(entry_count)
            .ok()
            .and_then(|n| n.checked_mul(width))
            .ok_or_else(|| corrupt("entry count"))?;
        let raw = r.take(entry_len).ok_or_else(|| corrupt("entry table"))?;
        if r.at != body.len() {
            return Err(corrupt("trailing bytes"));
        }
        let entries: Vec<(u32, u32)> = raw
            .chunks_exact(width)
            .map(|c| {
                let low = u32::from_le_bytes(c[..4].try_into().expect("4 bytes"));
                let doc = if narrow {
                    let d = u16::from_le_bytes(c[4..].try_into().expect("2 bytes"));
                    if d == u16::MAX { EXCLUDED } else { d as u32 }
                } else {
                    u32::from_le_bytes(c[4..].try_into().expect("4 bytes"))
                };
                (low, doc)
            })
            .collect();
        if buckets[0] != 0 || buckets.windows(2).any(|p| p[0] > p[1]) || buckets[bucket_len - 1] as u64 != entry_count {
            return Err(corrupt("bucket table out of order"));
        }
        if entries.iter().any(|(_, d)| *d != EXCLUDED && *d >= doc_count) {
            return Err(corrupt("entry names a document that does not exist"));
        }
        Ok(Index {
            params: Params { k, w, max_docs },
            key: Key([key0, key1]),
            docs,
            bucket_bits,
            buckets,
            entries,
            filter: Default::default(),
            excluded: Default::default(),
        }
        .with_filter())
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::find;

    fn index() -> Index {
        let docs = vec![(
            "leak/a.eml".to_string(),
            "one two three four five six seven eight nine ten eleven twelve thirteen".to_string(),
        )];
        Index::build(docs, &[], Params::default(), Key([1, 2])).0
    }

    #[test]
    fn round_trip() {
        let i = index();
        let back = Index::from_bytes(&i.to_bytes(), "x.fp").unwrap();
        assert_eq!((back.params, back.key, &back.docs), (i.params, i.key, &i.docs));
        assert_eq!((&back.buckets, &back.entries), (&i.buckets, &i.entries));
        assert!(find(&back, "zero one two three four five six seven eight nine ten eleven twelve").best() >= 12);
    }

    #[test]
    fn truncated_corrupted_and_foreign_files_are_refused() {
        let bytes = index().to_bytes();
        for cut in [0, 4, 8, 12, 40, bytes.len() / 2, bytes.len() - 1] {
            assert!(Index::from_bytes(&bytes[..cut], "x.fp").is_err(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 1;
        assert!(matches!(Index::from_bytes(&flipped, "x.fp"), Err(FormatError::Corrupt { .. })));
        assert!(matches!(
            Index::from_bytes(b"<?xml version='1.0'?>", "x.fp"),
            Err(FormatError::Foreign(_))
        ));
        let mut future = bytes.clone();
        future[8] = 9;
        assert!(matches!(
            Index::from_bytes(&future, "x.fp"),
            Err(FormatError::Version { found: 9, .. })
        ));
        assert!(Index::from_bytes(&bytes, "x.fp").is_ok());
    }

    proptest::proptest! {
        /// Arbitrary corruption never panics, even with a recomputed checksum (which sends it
        /// past the checksum into the structural checks).
        #[test]
        fn any_corruption_is_an_error_not_a_panic(pos in 8usize..400, byte in 0u8..=255, resum: bool) {
            let mut bytes = index().to_bytes();
            let n = bytes.len() - 8;
            bytes[pos % n] = byte;
            if resum {
                let sum = xxh3_64(&bytes[..n]);
                bytes[n..].copy_from_slice(&sum.to_le_bytes());
            }
            if let Ok(i) = Index::from_bytes(&bytes, "x.fp") {
                let _ = find(&i, "one two three four five six seven eight nine ten eleven twelve");
            }
        }
    }
}
