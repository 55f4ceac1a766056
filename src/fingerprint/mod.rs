//! Leak fingerprints: a hash-only index of a leaked corpus, and passage-level matching.
//!
//! Text is normalised by [`crate::detect::normalize`] (the same function the phrase matcher
//! uses) and cut into words: maximal runs of letters, digits and combining marks. Everything
//! else, punctuation and apostrophes included, separates words, so a French elision is split
//! the same way on both sides (`l'équipe` → `l`, `équipe`).
//!
//! Each word is hashed with a keyed 64-bit hash (a multiply-xor over its bytes started from half
//! of a random 128-bit key stored in the index, then a finaliser); a k-gram hash rolls the k word hashes together (each word rotated by
//! its position, so order matters) and mixes the result with the other half of the key.
//!
//! **Leak side.** Every k-gram of every document is counted once per document; k-grams found in
//! more than `max_docs` documents (mail stamps, signatures, quoted boilerplate) or in the
//! background corpus are *excluded*. The document's k-gram sequence is then winnowed
//! (window `w`, the rightmost minimum of each window, excluded k-grams never chosen) and the
//! chosen hashes are stored with the document's id. Winnowing guarantees that any run of at
//! least `k + w - 1` words shared with an article contains a whole window, whose minimum was
//! stored.
//!
//! **Article side.** Every k-gram is looked up. For each window of `w` consecutive article
//! k-grams whose minimum (excluded k-grams skipped, as on the leak side) is a fingerprint of a
//! leaked document, the window's `k + w - 1` words count as covered for that document. A
//! verbatim run of `L >= k + w - 1` words is therefore covered entirely (every window inside it
//! has the same minimum on both sides), and coverage exceeds a true run by at most `w - 1`
//! words at each end. Spans are the merged covered intervals, in any order and for several
//! documents at once.

mod corpus;
mod format;
mod index;
mod matching;

pub use corpus::{CorpusReport, read_corpus};
pub use format::FormatError;
pub use index::{BuildStats, Index, Lookup};
pub use matching::{Coverage, FingerprintMatch, Span, find};

use crate::detect::normalize::{is_word_char, normalize};
use std::ops::Range;

/// Version of normalisation + tokenisation + hashing. An index built by another version
/// would silently stop matching, so loading refuses a mismatch.
pub const ALGORITHM_VERSION: u32 = 2;

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
    pub fn random() -> Result<Key, String> {
        let a = getrandom::u64().map_err(|e| format!("no random source for the index key: {e}"))?;
        let b = getrandom::u64().map_err(|e| format!("no random source for the index key: {e}"))?;
        Ok(Key([a, b]))
    }
}

/// A word of normalised text: its keyed hash and where it is in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub hash: u64,
    pub range: Range<usize>,
}

/// Incremental keyed word hash: FNV-1a's multiply-xor over the normalised bytes, started from
/// the key, then the finaliser. Computed while scanning, with no buffer (this is the hot loop).
#[derive(Clone, Copy)]
struct WordHash(u64);

impl WordHash {
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new(key: &Key) -> WordHash {
        WordHash(key.0[0] ^ 0xcbf2_9ce4_8422_2325)
    }

    fn push(&mut self, b: u8) {
        self.0 = (self.0 ^ b as u64).wrapping_mul(WordHash::PRIME);
    }

    fn push_all(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|b| self.push(*b));
    }

    fn finish(self) -> u64 {
        mix(self.0)
    }
}

/// The words of `text` (normalised as everywhere else), hashed with `key`.
///
/// Speed matters here (every article, every byte), so segments between ASCII whitespace that
/// are plain ASCII without `&` are cut and lower-cased directly: for them normalisation is
/// exactly that. Any other segment goes through [`normalize`]. A property test checks that
/// the result equals normalising the whole text ([`words_reference`]).
pub fn words(text: &str, key: &Key) -> Vec<Word> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(text.len() / 6);
    let mut i = 0;
    while i < bytes.len() {
        if is_space(bytes[i]) {
            i += 1;
            continue;
        }
        let end = bytes[i..].iter().position(|b| is_space(*b)).map_or(bytes.len(), |p| i + p);
        let first = out.len();
        if !fast_segment(&text[i..end], i, key, &mut out) {
            // From the whitespace before it: a combining mark clusters with the character it
            // follows, even a space.
            out.truncate(first);
            let from = if i > 0 { i - 1 } else { i };
            let seg = &text[from..end];
            out.extend(words_reference(seg, key).into_iter().map(|w| Word {
                hash: w.hash,
                range: w.range.start + from..w.range.end + from,
            }));
        }
        i = end;
    }
    out
}

/// ASCII characters that are Unicode whitespace (`char::is_whitespace`), vertical tab included.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

/// Cuts one whitespace-free segment into words when every character can be folded on its
/// own: ASCII (controls dropped, as normalisation does), or a character already in NFKC form
/// and not followed by a combining mark, folded with the normaliser's own rules. Returns false
/// (leaving partial output for the caller to discard) on anything else: an `&` (a possible
/// entity), a combining mark, a character NFKC would change.
fn fast_segment(seg: &str, offset: usize, key: &Key, out: &mut Vec<Word>) -> bool {
    use crate::detect::normalize::{Folded, fold};
    use unicode_normalization::{IsNormalized, char::is_combining_mark, is_nfkc_quick};
    // The word being read: its start, its end so far, and its hash so far.
    let mut word: Option<(usize, usize, WordHash)> = None;
    let mut close = |word: &mut Option<(usize, usize, WordHash)>| {
        if let Some((s, e, h)) = word.take() {
            out.push(Word {
                hash: h.finish(),
                range: offset + s..offset + e,
            });
        }
    };
    let bytes = seg.as_bytes();
    // Whether a combining mark starts at byte `at` (it would cluster with the character before).
    let mark_at = |at: usize| bytes.get(at).is_some_and(|b| *b >= 0x80) && seg[at..].chars().next().is_some_and(is_combining_mark);
    if mark_at(0) {
        return false;
    }
    let mut o = 0;
    while o < bytes.len() {
        let b = bytes[o];
        if b < 0x80 {
            if b == b'&' || mark_at(o + 1) {
                return false;
            }
            if is_ascii_word(b) {
                let w = word.get_or_insert((o, o, WordHash::new(key)));
                w.2.push(b.to_ascii_lowercase());
                w.1 = o + 1;
            } else if !b.is_ascii_control() {
                close(&mut word);
            }
            o += 1;
            continue;
        }
        let c = seg[o..].chars().next().expect("char boundary");
        let len = c.len_utf8();
        if mark_at(o + len) || is_nfkc_quick(std::iter::once(c)) != IsNormalized::Yes {
            return false;
        }
        for f in fold(c) {
            match f {
                Folded::Drop => {}
                Folded::Char(ch) if is_word_char(ch) => {
                    let w = word.get_or_insert((o, o, WordHash::new(key)));
                    w.2.push_all(ch.encode_utf8(&mut [0u8; 4]).as_bytes());
                    w.1 = o + len;
                }
                _ => close(&mut word),
            }
        }
        o += len;
    }
    close(&mut word);
    true
}

fn is_ascii_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The definition of [`words`]: normalise, then cut at every non-word character.
fn words_reference(text: &str, key: &Key) -> Vec<Word> {
    let n = normalize(text);
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut flush = |s: usize, e: usize| {
        let mut h = WordHash::new(key);
        h.push_all(&n.text.as_bytes()[s..e]);
        out.push(Word {
            hash: h.finish(),
            range: n.original_range(s, e, text),
        });
    };
    for (i, c) in n.text.char_indices() {
        match (is_word_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                flush(s, i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        flush(s, n.text.len());
    }
    out
}

/// The k-gram hashes of a word sequence: `words.len() - k + 1` of them (none if shorter).
///
/// `H_i = XOR_j rotl(word_{i+j}, k-1-j)` is updated in O(1) per step (a cyclic polynomial, as
/// in buzhash) and then mixed with the key, so equal hashes mean equal word sequences
/// (up to 64-bit collisions) and the values are uniformly spread for winnowing.
pub fn kgrams(words: &[Word], k: u32, key: &Key) -> Vec<u64> {
    let k = k as usize;
    if k == 0 || words.len() < k {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(words.len() - k + 1);
    let mut h = 0u64;
    for (j, w) in words[..k].iter().enumerate() {
        h ^= w.hash.rotate_left((k - 1 - j) as u32);
    }
    out.push(mix(h ^ key.0[1]));
    for i in 1..=words.len() - k {
        h = h.rotate_left(1) ^ words[i - 1].hash.rotate_left(k as u32) ^ words[i + k - 1].hash;
        out.push(mix(h ^ key.0[1]));
    }
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
    let mut chosen = Vec::new();
    for_each_window_min(hashes, w, |_, m| {
        if hashes[m] != u64::MAX && chosen.last() != Some(&m) {
            chosen.push(m);
        }
    });
    chosen
}

/// Calls `f(window_start, rightmost_min_position)` for every window of `w` consecutive
/// values, in order, in O(n) with a monotonic deque.
pub fn for_each_window_min(values: &[u64], w: usize, mut f: impl FnMut(usize, usize)) {
    let n = values.len();
    if n == 0 || w == 0 {
        return;
    }
    let w = w.min(n);
    // The current minimum is kept while it stays in the window; only when it leaves is the
    // window rescanned (w is small), which is cheaper than a deque on real text.
    let rightmost_min = |s: usize| (s..s + w).rev().min_by_key(|&j| values[j]).expect("window is not empty");
    let mut m = rightmost_min(0);
    f(0, m);
    for s in 1..=n - w {
        let new = s + w - 1;
        if m < s {
            m = rightmost_min(s);
        } else if values[new] <= values[m] {
            m = new;
        }
        f(s, m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: Key = Key([0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321]);

    #[test]
    fn words_are_normalised_and_keep_offsets() {
        let text = "L\u{2019}\u{C9}QUIPE a dit\u{A0}: «\u{202F}non\u{202F}» — so\u{AD}ft";
        let w = words(text, &KEY);
        let texts: Vec<&str> = w.iter().map(|w| &text[w.range.clone()]).collect();
        assert_eq!(texts, vec!["L", "\u{C9}QUIPE", "a", "dit", "non", "so\u{AD}ft"]);
        let plain = words("l'équipe a dit : \"non\" - soft", &KEY);
        assert_eq!(
            w.iter().map(|w| w.hash).collect::<Vec<_>>(),
            plain.iter().map(|w| w.hash).collect::<Vec<_>>()
        );
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// The fast tokeniser is exactly normalisation followed by cutting at non-word
        /// characters, on any text: ASCII, typography, entities, combining marks, controls.
        #[test]
        fn fast_words_equal_the_definition(parts in proptest::collection::vec(proptest::prop_oneof![
            "[A-Za-z0-9_]{1,8}",
            "[ \t\n.,;:!?'`\"()-]{1,3}",
            proptest::sample::select(vec!["&amp;", "&nbsp;", "&eacute;", "&#8217;", "&bogus;", "\u{2019}", "\u{AB}\u{A0}", "\u{AD}", "\u{200B}", "e\u{301}", " \u{301}", "\u{FB01}", "\u{C9}T\u{C9}", "\u{1}", "\u{A0}"]).prop_map(str::to_string),
            "\\PC{1,3}",
        ], 0..30)) {
            let text: String = parts.concat();
            let fast = words(&text, &KEY);
            let reference = words_reference(&text, &KEY);
            proptest::prop_assert_eq!(fast, reference, "{:?}", text);
        }
    }

    #[test]
    fn rolling_kgrams_equal_direct_ones() {
        let w = words("un deux trois quatre cinq six sept huit neuf dix onze douze", &KEY);
        let rolled = kgrams(&w, 8, &KEY);
        assert_eq!(rolled.len(), 5);
        for (i, h) in rolled.iter().enumerate() {
            assert_eq!(*h, kgrams(&w[i..i + 8], 8, &KEY)[0]);
        }
        // Order matters.
        let swapped = words("deux un trois quatre cinq six sept huit", &KEY);
        assert_ne!(kgrams(&swapped, 8, &KEY)[0], rolled[0]);
    }

    proptest::proptest! {
        /// The window minima are the rightmost minimum of every window.
        #[test]
        fn window_minima_are_rightmost(values in proptest::collection::vec(0u64..6, 0..40), w in 1usize..7) {
            let mut got = Vec::new();
            for_each_window_min(&values, w, |s, m| got.push((s, m)));
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
