//! Leak fingerprints: a hash-only index of a leaked corpus, and passage-level matching.
//!
//! Text is normalised by [`crate::normalize`] (the same function the phrase matcher
//! uses) and cut into words: maximal runs of letters, digits and combining marks. Everything
//! else, punctuation and apostrophes included, separates words, so a French elision is split
//! the same way on both sides (`l'équipe` → `l`, `équipe`).
//!
//! Each word is hashed with a keyed 64-bit hash (its normalised bytes folded in eight at a time
//! with a multiply, started from half of a random 128-bit key stored in the index); a k-gram
//! hash rolls the k word hashes together (each word rotated by its position, so order matters)
//! and mixes the result with the other half of the key.
//!
//! **Leak side.** Each document is read as written and, when it is an e-mail thread, as the
//! text of its messages without the header blocks between them (see `views`). Every k-gram of
//! every document is counted once per document; k-grams found in more than `max_docs`
//! documents (mail stamps, signatures, quoted boilerplate) or in the background corpus are
//! *excluded*. The document's k-gram sequence is then winnowed (window `w`, the rightmost
//! minimum of each window, excluded k-grams never chosen) and the chosen hashes are stored with
//! the document's id. Winnowing guarantees that any run of at least `k + w - 1` words shared
//! with an article contains a whole window, whose minimum was stored.
//!
//! **Article side.** Excluded k-grams are marked, as on the leak side, and the article is
//! winnowed the same way; only the picks (window minima, about a third of the k-grams) are
//! looked up. For each window whose pick is a fingerprint of a leaked document, the window's
//! `k + w - 1` words count as covered for that document. A verbatim run of `L >= k + w - 1`
//! words is therefore covered entirely (every window inside it has the same minimum on both
//! sides), and coverage exceeds a true run by at most `w - 1` words at each end. Spans are the
//! merged covered intervals, in any order and for several documents at once.

mod corpus;
mod format;
mod index;
mod matching;
mod tokens;
mod views;

pub use corpus::{CorpusError, CorpusReport, read_corpus};
pub use format::FormatError;
pub use index::{BuildStats, Index, Lookup};
pub use matching::{Coverage, FingerprintMatch, Span, find};
pub use tokens::{Word, word_hashes, words};

/// No random source for an index key.
#[derive(Debug, thiserror::Error)]
#[error("no random source for the index key: {0}")]
pub struct KeyError(getrandom::Error);

/// Version of normalisation + tokenisation + hashing. An index built by another version
/// would silently stop matching, so loading refuses a mismatch.
pub const ALGORITHM_VERSION: u32 = 3;

/// Tuning of an index (chosen on the leakbench dev set; see README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Words per shingle.
    pub k: u32,
    /// Winnowing window, in shingles.
    pub w: u32,
    /// A shingle found in more leaked documents than this is noise (stamps, signatures).
    pub max_docs: u32,
}

impl Default for Params {
    fn default() -> Params {
        Params { k: 8, w: 5, max_docs: 10 }
    }
}

impl Params {
    /// The shortest run the index is guaranteed to find.
    pub fn guaranteed_run(&self) -> u32 {
        self.k + self.w - 1
    }
}

/// The secret half of the hashing: without it, hashes cannot be compared with a dictionary
/// built elsewhere; with it (it is in the index file), a guessed sentence can be confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub [u64; 2]);

impl Key {
    pub fn random() -> Result<Key, KeyError> {
        Ok(Key([getrandom::u64().map_err(KeyError)?, getrandom::u64().map_err(KeyError)?]))
    }
}

/// The k-gram hashes of a sequence of word hashes: `words.len() - k + 1` of them (none if shorter).
///
/// `H_i = XOR_j rotl(word_{i+j}, k-1-j)` is updated in O(1) per step (a cyclic polynomial, as
/// in buzhash) and then mixed with the key, so equal hashes mean equal word sequences
/// (up to 64-bit collisions) and the values are uniformly spread for winnowing.
pub fn kgrams(words: &[u64], k: u32, key: &Key) -> Vec<u64> {
    let k = k as usize;
    if k == 0 || words.len() < k {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(words.len() - k + 1);
    let mut h = 0u64;
    for (j, w) in words[..k].iter().enumerate() {
        h ^= w.rotate_left((k - 1 - j) as u32);
    }
    out.push(mix(h ^ key.0[1]));
    // Pairs of (leaving, entering) words: an exact-size iterator, so no capacity checks.
    out.extend(words.iter().zip(&words[k..]).map(|(gone, new)| {
        h = h.rotate_left(1) ^ gone.rotate_left(k as u32) ^ new;
        mix(h ^ key.0[1])
    }));
    out
}

/// The 64-bit finaliser of MurmurHash3: a bijection that spreads every input bit.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Positions chosen by winnowing `hashes` with window `w`: in every window the rightmost
/// minimum, each position once. `u64::MAX` marks an excluded k-gram and is never chosen. A
/// sequence shorter than one window is one window.
pub fn winnow(hashes: &[u64], w: usize) -> Vec<usize> {
    picks(hashes, w)
        .into_iter()
        .filter(|p| hashes[p.pos as usize] != u64::MAX)
        .map(|p| p.pos as usize)
        .collect()
}

/// One position chosen by winnowing: the rightmost minimum of the windows that start at
/// `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    pub pos: u32,
    pub first: u32,
    pub last: u32,
}

/// The rightmost minimum of every window of `w` consecutive values, grouped: the minimum's
/// position never moves backwards, so each position is chosen by one run of windows.
pub fn picks(values: &[u64], w: usize) -> Vec<Pick> {
    let n = values.len();
    if n == 0 || w == 0 {
        return Vec::new();
    }
    let w = w.min(n);
    let mut out = Vec::with_capacity(2 * n / (w + 1) + 1);
    // The current minimum is kept while it stays in the window; only when it leaves is the
    // window rescanned (w is small), which is cheaper than a deque on real text.
    let rightmost_min = |s: usize| (s..s + w).rev().min_by_key(|&j| values[j]).expect("window is not empty");
    let (mut m, mut first) = (rightmost_min(0), 0);
    for s in 1..=n - w {
        let new = s + w - 1;
        let next = if m < s {
            rightmost_min(s)
        } else if values[new] <= values[m] {
            new
        } else {
            m
        };
        if next != m {
            out.push(Pick {
                pos: m as u32,
                first: first as u32,
                last: s as u32 - 1,
            });
            (m, first) = (next, s);
        }
    }
    out.push(Pick {
        pos: m as u32,
        first: first as u32,
        last: (n - w) as u32,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: Key = Key([0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321]);

    #[test]
    fn rolling_kgrams_equal_direct_ones() {
        let w = word_hashes("un deux trois quatre cinq six sept huit neuf dix onze douze", &KEY);
        let rolled = kgrams(&w, 8, &KEY);
        assert_eq!(rolled.len(), 5);
        for (i, h) in rolled.iter().enumerate() {
            assert_eq!(*h, kgrams(&w[i..i + 8], 8, &KEY)[0]);
        }
        // Order matters.
        let swapped = word_hashes("deux un trois quatre cinq six sept huit", &KEY);
        assert_ne!(kgrams(&swapped, 8, &KEY)[0], rolled[0]);
    }

    proptest::proptest! {
        /// The picks are the rightmost minimum of every window, in order, each window once.
        #[test]
        fn picks_are_the_rightmost_minima(values in proptest::collection::vec(0u64..6, 0..40), w in 1usize..7) {
            let got: Vec<(usize, usize)> = picks(&values, w)
                .iter()
                .flat_map(|p| (p.first..=p.last).map(move |s| (s as usize, p.pos as usize)))
                .collect();
            let w = w.min(values.len().max(1));
            let want: Vec<(usize, usize)> = (0..values.len().saturating_sub(w - 1))
                .filter(|_| !values.is_empty())
                .map(|s| (s, (s..s + w).rev().min_by_key(|&j| values[j]).unwrap()))
                .collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn winnowing_picks_rightmost_minima() {
        assert_eq!(winnow(&[5, 3, 3, 7, 1, 8, 9], 3), vec![2, 4]);
        assert_eq!(winnow(&[u64::MAX, u64::MAX, 4], 2), vec![2]);
        assert_eq!(winnow(&[9, 8], 5), vec![1]);
        assert!(winnow(&[], 5).is_empty());
    }
}
