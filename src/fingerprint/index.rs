//! The fingerprint table: built from documents, looked up per article k-gram.
//!
//! Layout (also the file layout, so loading is one read): entries `(low 32 bits of the hash,
//! document)` sorted by hash, and a bucket table of `2^bits + 1` offsets indexed by the top
//! `bits` bits of the hash, so a lookup reads one offset pair and scans a handful of entries.
//! Excluded k-grams are stored too, with the document [`EXCLUDED`], so the article side skips
//! them exactly as the leak side did.

use super::views::bodies;
use super::{Key, Params, Pick, kgrams, winnow, word_hashes, words};
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
    /// Built at load: answers "certainly absent" for most article shingles in one cache line.
    pub(super) filter: Filter,
    /// Built at load: the excluded k-grams apart, small enough to stay in cache.
    pub(super) excluded: ExcludedSet,
}

/// A blocked Bloom filter: every key sets 6 bits inside one 64-byte block, so a query reads
/// one cache line. About 12 bits per key give a false-positive rate near 1 %, for a few MB on
/// a corpus of the size of the 2017 dump: most article shingles are absent from the index,
/// and this turns their two cache misses (bucket, then entries) into one.
#[derive(Debug, Default)]
pub(super) struct Filter {
    blocks: Vec<[u64; 8]>,
}

impl Filter {
    pub(super) fn new(hashes: impl ExactSizeIterator<Item = u64> + Clone) -> Filter {
        let n = (hashes.len() * 12 / 512 + 1).next_power_of_two();
        let mut blocks = vec![[0u64; 8]; n];
        for h in hashes {
            let (b, bits) = Filter::locate(h, n);
            for (word, bit) in bits {
                blocks[b][word] |= 1 << bit;
            }
        }
        Filter { blocks }
    }

    fn locate(h: u64, n: usize) -> (usize, impl Iterator<Item = (usize, u32)>) {
        // The block comes from the top bits, so keys sorted by hash fill the filter in one
        // sequential pass; the bits inside the block come from a second mix.
        let block = (h >> (64 - n.trailing_zeros().max(1))) as usize & (n - 1);
        let g = super::mix(h ^ 0x9e37_79b9_7f4a_7c15);
        (
            block,
            (0..6).map(move |i| {
                let v = (g >> (16 + 8 * i)) as u32 & 0x1ff;
                ((v >> 6) as usize, v & 63)
            }),
        )
    }

    /// Starts loading the block of `h` (see [`prefetch`]).
    fn prefetch(&self, h: u64) {
        if self.blocks.is_empty() {
            return;
        }
        let (b, _) = Filter::locate(h, self.blocks.len());
        prefetch(&self.blocks[b]);
    }

    fn may_contain(&self, h: u64) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let (b, bits) = Filter::locate(h, self.blocks.len());
        let block = &self.blocks[b];
        // Every bit is tested, without stopping at the first clear one: the six are in one
        // cache line already loaded, and for an absent key where the first clear bit falls
        // (a fifth to two fifths of the bits are set) is a branch no predictor can learn.
        bits.fold(true, |all, (word, bit)| all & (block[word] >> bit & 1 != 0))
    }
}

/// The excluded k-grams, checked for every article shingle: a k-gram too common to count is
/// skipped before winnowing, as on the leak side, so exclusion must be known for all of them
/// (not only for the picks). A one-word-per-key Bloom filter (four bits in one 64-bit word)
/// settles almost all in one load from cache; the rest are confirmed in a sorted table
/// bucketed by the top bits.
#[derive(Debug, Default)]
pub(super) struct ExcludedSet {
    filter: Vec<u64>,
    /// `2^bits + 1` offsets into `keys`.
    starts: Vec<u32>,
    bits: u32,
    keys: Vec<u64>,
}

impl ExcludedSet {
    /// From sorted keys: filter keys after loading, whole hashes while building.
    fn new(keys: Vec<u64>) -> ExcludedSet {
        // About twelve filter bits a key; the filter is addressed by the low bits, which the
        // file keeps whole.
        let words = (keys.len() * 12 / 64 + 1).next_power_of_two();
        let mut filter = vec![0u64; words];
        for k in &keys {
            let (w, mask) = ExcludedSet::probe(*k, words);
            filter[w] |= mask;
        }
        let bits = (keys.len() / 4).next_power_of_two().trailing_zeros().max(1);
        let mut starts = vec![0u32; (1 << bits) + 1];
        for k in &keys {
            starts[(k >> (64 - bits)) as usize + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        ExcludedSet {
            filter,
            starts,
            bits,
            keys,
        }
    }

    #[inline]
    fn probe(key: u64, words: usize) -> (usize, u64) {
        let word = key as usize & (words - 1);
        // Four bit positions from the high bits of a product of the low 32: well mixed, and
        // independent enough of the word chosen by the low bits.
        let g = (key & 0xffff_ffff).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mask = (0..4).fold(0u64, |m, i| m | 1 << ((g >> (40 + 6 * i)) & 63));
        (word, mask)
    }

    #[inline]
    fn contains(&self, key: u64) -> bool {
        if self.keys.is_empty() {
            return false;
        }
        let (w, mask) = ExcludedSet::probe(key, self.filter.len());
        self.filter[w] & mask == mask && self.confirm(key)
    }

    #[cold]
    fn confirm(&self, key: u64) -> bool {
        let b = (key >> (64 - self.bits)) as usize;
        self.keys[self.starts[b] as usize..self.starts[b + 1] as usize].contains(&key)
    }
}

/// The k-gram sequences of a document to winnow: the text as written, then for each junction
/// of its bodies view (see `views`) the words around it that windows crossing it can reach.
/// Every other window of the bodies view is a window of the text as written, with the same
/// shingles, so it would choose the same fingerprint.
fn views(text: &str, params: Params, key: &Key) -> Vec<Vec<u64>> {
    let mut out = vec![kgrams(&word_hashes(text, key), params.k, key)];
    if let Some(b) = bodies(text) {
        let words = words(&b.text, key);
        let hashes: Vec<u64> = words.iter().map(|w| w.hash).collect();
        // A window crossing a junction starts at most k + w - 2 words before it and ends at
        // most k + w - 3 words after it.
        let reach = (params.k + params.w) as usize - 2;
        for j in b.junctions {
            let at = words.partition_point(|w| w.range.start < j);
            let (lo, hi) = (at.saturating_sub(reach), (at + reach).min(words.len()));
            if lo < at && at < hi {
                out.push(kgrams(&hashes[lo..hi], params.k, key));
            }
        }
    }
    out
}

/// The k-grams found in more than `max_docs` documents, sorted. Each document's distinct
/// k-grams are scattered by their top byte into 256 partitions, which are then sorted and
/// counted apart: each fits in cache, unlike one sort of all of them.
fn common_kgrams(per_doc: &[Vec<Vec<u64>>], max_docs: u32) -> Vec<u64> {
    const PARTS: usize = 256;
    let parts = per_doc
        .par_iter()
        .fold(
            || vec![Vec::new(); PARTS],
            |mut parts: Vec<Vec<u64>>, views| {
                let mut distinct = views.concat();
                distinct.sort_unstable();
                distinct.dedup();
                for h in distinct {
                    parts[(h >> 56) as usize].push(h);
                }
                parts
            },
        )
        .reduce(
            || vec![Vec::new(); PARTS],
            |mut a, b| {
                for (into, from) in a.iter_mut().zip(b) {
                    into.extend(from);
                }
                a
            },
        );
    parts
        .into_par_iter()
        .flat_map_iter(|mut part| {
            part.sort_unstable();
            let mut common = Vec::new();
            for run in part.chunk_by(|a, b| a == b) {
                if run.len() > max_docs as usize {
                    common.push(run[0]);
                }
            }
            common
        })
        .collect()
}

/// Asks the CPU to start loading the cache line of `value`, so that independent lookups
/// overlap their cache misses instead of waiting for each in turn.
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is a hint; it never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    std::hint::black_box(value);
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
    pub kgrams: usize,
    pub fingerprints: usize,
    pub excluded: usize,
}

impl Index {
    /// Builds the index from `(id, text)` documents; k-grams of `background` texts never
    /// count. Documents are tokenised in parallel; the counting is one sort.
    pub fn build(docs: Vec<(String, String)>, background: &[String], params: Params, key: Key) -> (Index, BuildStats) {
        let per_doc: Vec<Vec<Vec<u64>>> = docs.par_iter().map(|(_, text)| views(text, params, &key)).collect();
        let mut stats = BuildStats {
            documents: docs.len(),
            kgrams: per_doc.iter().map(|views| views[0].len()).sum(),
            ..Default::default()
        };

        // Document frequency of every k-gram, over all occurrences (not only the winnowed
        // ones: counting kept hashes alone lets a stamp through wherever it is not chosen).
        let mut excluded = common_kgrams(&per_doc, params.max_docs);
        let mut bg: Vec<u64> = background
            .par_iter()
            .flat_map_iter(|t| kgrams(&word_hashes(t, &key), params.k, &key))
            .collect();
        bg.par_sort_unstable();
        bg.dedup();
        excluded.extend(bg);
        excluded.sort_unstable();
        excluded.dedup();
        stats.excluded = excluded.len();

        let excluded_set = ExcludedSet::new(excluded.clone());
        let mut entries: Vec<(u64, u32)> = per_doc
            .into_par_iter()
            .enumerate()
            .flat_map_iter(|(doc, views)| {
                let mut chosen: Vec<u64> = Vec::new();
                for mut hashes in views {
                    for h in hashes.iter_mut() {
                        if excluded_set.contains(*h) {
                            *h = u64::MAX;
                        }
                    }
                    chosen.extend(winnow(&hashes, params.w as usize).into_iter().map(|p| hashes[p]));
                }
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
        // About eight entries a bucket: the filter answers most lookups, so scans are rare.
        let bucket_bits = (sorted.len() / 8).max(1).next_power_of_two().trailing_zeros().clamp(4, 30);
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
            filter: Filter::default(),
            excluded: ExcludedSet::default(),
        }
        .with_filter()
    }

    /// Builds the lookup structures over what the file keeps of each hash (bucket bits and
    /// low 32 bits), at build time and again after loading: the filter of fingerprints and
    /// the set of excluded k-grams.
    pub(super) fn with_filter(mut self) -> Index {
        let shift = 64 - self.bucket_bits;
        let mut kept = Vec::with_capacity(self.entries.len());
        let mut excluded = Vec::new();
        for b in 0..self.buckets.len() - 1 {
            for e in &self.entries[self.buckets[b] as usize..self.buckets[b + 1] as usize] {
                let key = ((b as u64) << shift) | e.0 as u64;
                if e.1 == EXCLUDED {
                    excluded.push(key);
                } else {
                    kept.push(key);
                }
            }
        }
        kept.dedup();
        self.filter = Filter::new(kept.into_iter());
        self.excluded = ExcludedSet::new(excluded);
        self
    }

    /// Marks the excluded k-grams among `hashes` with `u64::MAX`, as the leak side did before
    /// winnowing.
    pub fn mark_excluded(&self, hashes: &mut [u64]) {
        for h in hashes.iter_mut() {
            if self.excluded.contains(self.filter_key(*h)) {
                *h = u64::MAX;
            }
        }
    }

    /// The fingerprints among the picked shingles: `(index in picks, entries)`, in order.
    ///
    /// The lookups are independent, so their cache misses are overlapped: the filter blocks
    /// are prefetched a few picks ahead, and the few shingles that pass the filter are then
    /// resolved in two more passes (prefetch every bucket offset, then every first entry),
    /// rather than one dependent miss after another.
    pub fn lookup_picks(&self, hashes: &[u64], picks: &[Pick]) -> Vec<(usize, &[(u32, u32)])> {
        const AHEAD: usize = 12;
        let key = |p: &Pick| self.filter_key(hashes[p.pos as usize]);
        let mut passed: Vec<(usize, u64)> = Vec::new();
        for (i, p) in picks.iter().enumerate() {
            if let Some(next) = picks.get(i + AHEAD) {
                self.filter.prefetch(key(next));
            }
            let h = hashes[p.pos as usize];
            if h != u64::MAX && self.filter.may_contain(self.filter_key(h)) {
                passed.push((i, h));
            }
        }
        for (_, h) in &passed {
            prefetch(&self.buckets[self.bucket(*h)]);
        }
        let ranges: Vec<(usize, usize)> = passed
            .iter()
            .map(|(_, h)| {
                let b = self.bucket(*h);
                let (lo, hi) = (self.buckets[b] as usize, self.buckets[b + 1] as usize);
                if let Some(first) = self.entries.get(lo) {
                    prefetch(first);
                }
                (lo, hi)
            })
            .collect();
        passed
            .iter()
            .zip(ranges)
            .filter_map(|(&(i, h), (lo, hi))| match self.find_entries(&self.entries[lo..hi], h) {
                Lookup::Docs(entries) => Some((i, entries)),
                _ => None,
            })
            .collect()
    }

    /// What the index knows of one k-gram.
    pub fn lookup(&self, hash: u64) -> Lookup<'_> {
        if self.excluded.contains(self.filter_key(hash)) {
            return Lookup::Excluded;
        }
        if !self.filter.may_contain(self.filter_key(hash)) {
            return Lookup::Absent;
        }
        let b = self.bucket(hash);
        self.find_entries(&self.entries[self.buckets[b] as usize..self.buckets[b + 1] as usize], hash)
    }

    fn bucket(&self, hash: u64) -> usize {
        (hash >> (64 - self.bucket_bits)) as usize
    }

    fn find_entries<'a>(&self, bucket: &'a [(u32, u32)], hash: u64) -> Lookup<'a> {
        let low = hash as u32;
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

    /// The part of a hash the file keeps (bucket bits and low 32 bits), which the filter uses.
    fn filter_key(&self, hash: u64) -> u64 {
        let shift = 64 - self.bucket_bits;
        ((hash >> shift) << shift) | (hash & 0xffff_ffff)
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
        let stamp_grams = kgrams(&word_hashes(stamp, &KEY), 4, &KEY);
        assert!(stamp_grams.iter().all(|h| index.lookup(*h) == Lookup::Excluded));
        assert_eq!(index.lookup(12345), Lookup::Absent);
    }

    #[test]
    fn batched_lookups_equal_single_ones() {
        let docs: Vec<_> = (0..50)
            .map(|i| {
                doc(
                    &format!("d{i}"),
                    &format!(
                        "stamp line of every file {} {} {}",
                        i,
                        i * 7,
                        (0..60)
                            .map(|j| format!("w{}", (i * 31 + j * 17) % 97))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                )
            })
            .collect();
        let leaked = docs[5].1.clone();
        let (index, stats) = Index::build(docs, &[], Params { k: 4, w: 3, max_docs: 3 }, KEY);
        assert!(stats.excluded > 0 && stats.fingerprints > 0);
        let noise = |r: std::ops::Range<usize>| r.map(|j| format!("w{}", (j * 13) % 97)).collect::<Vec<_>>().join(" ");
        let article = format!("{} {leaked} {}", noise(0..200), noise(200..400));
        let mut hashes = kgrams(&word_hashes(&article, &KEY), 4, &KEY);
        let excluded: Vec<bool> = hashes.iter().map(|h| index.lookup(*h) == Lookup::Excluded).collect();
        index.mark_excluded(&mut hashes);
        assert_eq!(excluded, hashes.iter().map(|h| *h == u64::MAX).collect::<Vec<_>>());
        assert!(excluded.contains(&true));
        let picks = super::super::picks(&hashes, 3);
        let want: Vec<(usize, &[(u32, u32)])> = picks
            .iter()
            .enumerate()
            .filter(|(_, p)| hashes[p.pos as usize] != u64::MAX)
            .filter_map(|(i, p)| match index.lookup(hashes[p.pos as usize]) {
                Lookup::Docs(d) => Some((i, d)),
                _ => None,
            })
            .collect();
        assert!(!want.is_empty());
        assert_eq!(index.lookup_picks(&hashes, &picks), want);
    }

    #[test]
    fn background_kgrams_never_count() {
        let text = "the quick brown fox jumps over the lazy dog again and again";
        let (index, _) = Index::build(vec![doc("d", text)], &[text.to_string()], Params { k: 4, w: 2, max_docs: 5 }, KEY);
        assert_eq!(index.counts().0, 0);
    }
}
