//! The fingerprint table: built from documents, looked up per article k-gram.
//!
//! Layout (also the file layout, so loading is one read): entries `(low 32 bits of the hash,
//! document)` sorted by hash, and a bucket table of `2^bits + 1` offsets indexed by the top
//! `bits` bits of the hash, so a lookup reads one offset pair and scans a handful of entries.
//! Excluded k-grams are stored too, with the document [`EXCLUDED`], so the article side skips
//! them exactly as the leak side did.

use super::{Key, Params, kgrams, winnow, words};
use rayon::prelude::*;

/// Document id marking an excluded (too common) k-gram.
pub const EXCLUDED: u32 = u32::MAX;

#[derive(Debug)]
pub struct Index {
    pub params: Params,
    pub key: Key,
    pub docs: Vec<String>,
    pub(super) bucket_bits: u32,
    /// `2^bucket_bits + 1` offsets into `entries`.
    pub(super) buckets: Vec<u32>,
    /// `(low 32 bits of the hash, document or EXCLUDED)`, sorted by full hash.
    pub(super) entries: Vec<(u32, u32)>,
}

/// What the index knows of one k-gram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Absent,
    /// Too common in the corpus (or in the background) to count.
    Excluded,
    /// The documents whose winnowed fingerprints include it.
    Docs(&'a [(u32, u32)]),
}

/// Counts from a build, for `fingerprint info` and the build report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildStats {
    pub documents: usize,
    pub words: usize,
    pub kgrams: usize,
    pub fingerprints: usize,
    pub excluded: usize,
}

impl Index {
    /// Builds the index from `(id, text)` documents; k-grams of `background` texts never
    /// count. Documents are tokenised in parallel; the counting is one sort.
    pub fn build(docs: Vec<(String, String)>, background: &[String], params: Params, key: Key) -> (Index, BuildStats) {
        let per_doc: Vec<Vec<u64>> = docs
            .par_iter()
            .map(|(_, text)| kgrams(&words(text, &key), params.k, &key))
            .collect();
        let mut stats = BuildStats {
            documents: docs.len(),
            kgrams: per_doc.iter().map(Vec::len).sum(),
            ..Default::default()
        };
        stats.words = stats.kgrams + docs.len() * (params.k as usize - 1);

        // Document frequency of every k-gram, over all occurrences (not only the winnowed
        // ones: counting kept hashes alone lets a stamp through wherever it is not chosen).
        let mut all: Vec<u64> = per_doc
            .par_iter()
            .flat_map_iter(|h| {
                let mut v = h.clone();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect();
        all.par_sort_unstable();
        let mut excluded: Vec<u64> = Vec::new();
        let mut i = 0;
        while i < all.len() {
            let j = all[i..].iter().position(|h| *h != all[i]).map_or(all.len(), |p| i + p);
            if (j - i) as u32 > params.max_docs {
                excluded.push(all[i]);
            }
            i = j;
        }
        drop(all);
        let mut bg: Vec<u64> = background
            .par_iter()
            .flat_map_iter(|t| kgrams(&words(t, &key), params.k, &key))
            .collect();
        bg.par_sort_unstable();
        bg.dedup();
        excluded.extend(bg);
        excluded.sort_unstable();
        excluded.dedup();
        stats.excluded = excluded.len();

        let mut entries: Vec<(u64, u32)> = per_doc
            .into_par_iter()
            .enumerate()
            .flat_map_iter(|(doc, mut hashes)| {
                for h in hashes.iter_mut() {
                    if excluded.binary_search(h).is_ok() {
                        *h = u64::MAX;
                    }
                }
                let mut chosen: Vec<u64> = winnow(&hashes, params.w as usize).into_iter().map(|p| hashes[p]).collect();
                chosen.sort_unstable();
                chosen.dedup();
                chosen.into_iter().map(move |h| (h, doc as u32))
            })
            .collect();
        stats.fingerprints = entries.len();
        entries.extend(excluded.iter().map(|h| (*h, EXCLUDED)));
        entries.par_sort_unstable();
        let index = Index::from_sorted(params, key, docs.into_iter().map(|(id, _)| id).collect(), &entries);
        (index, stats)
    }

    /// Lays out sorted `(hash, doc)` entries into buckets of about four entries.
    fn from_sorted(params: Params, key: Key, docs: Vec<String>, sorted: &[(u64, u32)]) -> Index {
        let bucket_bits = (sorted.len() / 4).max(1).next_power_of_two().trailing_zeros().clamp(4, 30);
        let mut buckets = vec![0u32; (1 << bucket_bits) + 1];
        for (h, _) in sorted {
            buckets[(h >> (64 - bucket_bits)) as usize + 1] += 1;
        }
        for b in 1..buckets.len() {
            buckets[b] += buckets[b - 1];
        }
        let entries = sorted.iter().map(|(h, d)| (*h as u32, *d)).collect();
        Index {
            params,
            key,
            docs,
            bucket_bits,
            buckets,
            entries,
        }
    }

    pub fn lookup(&self, hash: u64) -> Lookup<'_> {
        let b = (hash >> (64 - self.bucket_bits)) as usize;
        let (lo, hi) = (self.buckets[b] as usize, self.buckets[b + 1] as usize);
        let low = hash as u32;
        let bucket = &self.entries[lo..hi];
        let Some(first) = bucket.iter().position(|e| e.0 == low) else {
            return Lookup::Absent;
        };
        let len = bucket[first..].iter().take_while(|e| e.0 == low).count();
        let found = &bucket[first..first + len];
        if found.iter().any(|e| e.1 == EXCLUDED) {
            Lookup::Excluded
        } else {
            Lookup::Docs(found)
        }
    }

    /// Number of stored fingerprints and of excluded k-grams.
    pub fn counts(&self) -> (usize, usize) {
        let excluded = self.entries.iter().filter(|e| e.1 == EXCLUDED).count();
        (self.entries.len() - excluded, excluded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: Key = Key([7, 11]);

    fn doc(id: &str, text: &str) -> (String, String) {
        (id.to_string(), text.to_string())
    }

    #[test]
    fn common_kgrams_are_excluded_and_marked() {
        let stamp = "unclassified department of state case number f two zero one four";
        let docs: Vec<_> = (0..4)
            .map(|i| {
                doc(
                    &format!("d{i}"),
                    &format!("{stamp} body {i} with some unique words number {i} here"),
                )
            })
            .collect();
        let params = Params { k: 4, w: 2, max_docs: 2 };
        let (index, stats) = Index::build(docs, &[], params, KEY);
        assert!(stats.excluded > 0);
        let stamp_grams = kgrams(&words(stamp, &KEY), 4, &KEY);
        assert!(stamp_grams.iter().all(|h| index.lookup(*h) == Lookup::Excluded));
        assert_eq!(index.lookup(12345), Lookup::Absent);
    }

    #[test]
    fn background_kgrams_never_count() {
        let text = "the quick brown fox jumps over the lazy dog again and again";
        let (index, _) = Index::build(vec![doc("d", text)], &[text.to_string()], Params { k: 4, w: 2, max_docs: 5 }, KEY);
        assert_eq!(index.counts().0, 0);
    }
}
