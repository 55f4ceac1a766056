//! Words: normalised text cut at every non-word character, each word hashed with the key.
//!
//! This is the hot loop of matching (every article, every byte), so plain ASCII takes a fast
//! path: bitmasks of word bytes and of "special" bytes are computed sixteen bytes at a time,
//! words are found by scanning the masks, and each word is lower-cased and hashed eight bytes
//! at a time. For ASCII without `&` or control characters, normalisation is exactly
//! lower-casing, so this gives the same words. A segment (the text between two ASCII
//! whitespace characters) holding a special byte is redone from its start by
//! [`unicode_segment`], and failing that by normalising it ([`words_reference`], the
//! definition). A property test checks that [`words`] equals the definition on any text.

use super::Key;
use crate::normalize::{is_word_char, normalize};
use std::ops::Range;

/// A word of normalised text: its keyed hash and where it is in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub hash: u64,
    pub range: Range<usize>,
}

/// Keyed word hash over the normalised bytes: bytes are gathered eight at a time
/// (little-endian) and each full chunk is folded in with one multiply, so the dependency chain
/// costs one multiply per eight bytes. A word of up to seven bytes is one partial chunk, and
/// as word bytes are never zero, distinct short words never collide. Started from the key;
/// the finaliser spreads every bit.
#[derive(Clone, Copy)]
struct WordHash {
    h: u64,
    chunk: u64,
    len: u32,
}

impl WordHash {
    const MUL: u64 = 0x9e37_79b9_7f4a_7c15;

    fn new(key: &Key) -> WordHash {
        WordHash {
            h: key.0[0],
            chunk: 0,
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        self.chunk |= (b as u64) << (8 * (self.len & 7));
        self.len += 1;
        if self.len & 7 == 0 {
            self.fold(self.chunk);
            self.chunk = 0;
        }
    }

    fn push_all(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|b| self.push(*b));
    }

    fn fold(&mut self, chunk: u64) {
        self.h = (self.h ^ chunk).wrapping_mul(WordHash::MUL).rotate_left(29);
    }

    fn finish(self) -> u64 {
        // One multiply and a fold of the well-mixed high half into the low half: a bijection
        // of the last chunk, enough for word hashes, which the k-gram hash mixes again.
        let x = (self.h ^ self.chunk ^ (self.len as u64) << 58).wrapping_mul(WordHash::MUL);
        x ^ (x >> 29)
    }

    /// The hash of an ASCII word (letters, digits, `_`), lower-cased on the way: the same as
    /// pushing its lower-cased bytes one by one.
    #[inline(always)]
    fn of_ascii_word(text: &[u8], range: Range<usize>, key: &Key) -> u64 {
        let mut h = WordHash::new(key);
        let mut at = range.start;
        while range.end - at >= 8 {
            h.fold(ascii_lower(load(text, at, 8)));
            at += 8;
        }
        h.chunk = ascii_lower(load(text, at, range.end - at));
        h.len = (range.end - range.start) as u32;
        h.finish()
    }
}

/// `len <= 8` bytes from `at` as a little-endian integer, zero above.
#[inline(always)]
fn load(text: &[u8], at: usize, len: usize) -> u64 {
    let mut buf = [0u8; 8];
    if let Some(eight) = text.get(at..at + 8) {
        buf.copy_from_slice(eight);
        let v = u64::from_le_bytes(buf);
        return v & u64::MAX.checked_shr(64 - 8 * len as u32).unwrap_or(0);
    }
    buf[..len].copy_from_slice(&text[at..at + len]);
    u64::from_le_bytes(buf)
}

/// Lower-cases the ASCII letters among eight bytes below 0x80 (zero bytes stay zero).
fn ascii_lower(v: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Each byte plus a bias has its top bit set from a threshold on: at least `A`, and at
    // least `Z` + 1. No byte carries into the next, as all are below 0x80.
    let from_a = v + ONES * (0x80 - b'A' as u64);
    let past_z = v + ONES * (0x80 - b'Z' as u64 - 1);
    let upper = from_a & !past_z & (ONES * 0x80);
    v | (upper >> 2)
}

/// Bit `i` of `word[j]` is set when byte `64 j + i` is an ASCII letter, digit or `_`; of
/// `special[j]` when it is `&`, an ASCII control character other than whitespace, or not
/// ASCII: a byte whose segment needs the full treatment.
struct Masks {
    word: Vec<u64>,
    special: Vec<u64>,
}

impl Masks {
    fn of(text: &[u8]) -> Masks {
        let blocks = text.len().div_ceil(64);
        let mut masks = Masks {
            word: Vec::with_capacity(blocks),
            special: Vec::with_capacity(blocks),
        };
        for block in text.chunks(64) {
            let (mut word, mut special) = (0u64, 0u64);
            for (i, part) in block.chunks(16).enumerate() {
                let (w, s) = if let Ok(sixteen) = <&[u8; 16]>::try_from(part) {
                    classify16(sixteen)
                } else {
                    classify_bytes(part)
                };
                word |= (w as u64) << (16 * i);
                special |= (s as u64) << (16 * i);
            }
            masks.word.push(word);
            masks.special.push(special);
        }
        masks
    }
}

/// Word and special bits of up to sixteen bytes, one byte at a time (the definition).
fn classify_bytes(bytes: &[u8]) -> (u16, u16) {
    let (mut word, mut special) = (0u16, 0u16);
    for (i, b) in bytes.iter().enumerate() {
        if b.is_ascii_alphanumeric() || *b == b'_' {
            word |= 1 << i;
        } else if *b >= 0x80 || *b == b'&' || (b.is_ascii_control() && !is_space(*b)) {
            special |= 1 << i;
        }
    }
    (word, special)
}

/// [`classify_bytes`] on sixteen bytes with SSE2 (part of every x86-64 CPU).
#[cfg(target_arch = "x86_64")]
fn classify16(bytes: &[u8; 16]) -> (u16, u16) {
    // SAFETY: SSE2 is part of the x86-64 baseline, so every x86-64 CPU has it.
    unsafe { classify16_sse2(bytes) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn classify16_sse2(bytes: &[u8; 16]) -> (u16, u16) {
    use std::arch::x86_64::*;
    // `b` is in `lo..lo + n` when `b + (0x80 - lo)`, as a signed byte, is below `-128 + n`.
    let in_range = |v: __m128i, lo: u8, n: i8| {
        _mm_cmplt_epi8(
            _mm_add_epi8(v, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8)),
            _mm_set1_epi8(-128 + n),
        )
    };
    // SAFETY: `bytes` is 16 readable bytes and the load has no alignment requirement.
    let v = unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) };
    let letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', 26);
    let digit = in_range(v, b'0', 10);
    let underscore = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
    let word = _mm_or_si128(_mm_or_si128(letter, digit), underscore);
    // Below 0x20 as a signed byte also catches every non-ASCII byte, which is special too.
    let control = _mm_andnot_si128(in_range(v, b'\t', 5), _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    let special = _mm_or_si128(
        _mm_or_si128(control, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
        _mm_cmpeq_epi8(v, _mm_set1_epi8(b'&' as i8)),
    );
    (_mm_movemask_epi8(word) as u16, _mm_movemask_epi8(special) as u16)
}

#[cfg(not(target_arch = "x86_64"))]
fn classify16(bytes: &[u8; 16]) -> (u16, u16) {
    classify_bytes(bytes)
}

/// The words of `text` (normalised as everywhere else), hashed with `key`.
pub fn words(text: &str, key: &Key) -> Vec<Word> {
    let mut out = Vec::with_capacity(text.len() / 5 + 1);
    scan(text, key, |hash, range| out.push(Word { hash, range }));
    out
}

/// The hashes of [`words`] alone, for when where the words are is not needed (the leak side,
/// and articles until they match): a third of the data to write.
pub fn word_hashes(text: &str, key: &Key) -> Vec<u64> {
    let mut out = Vec::with_capacity(text.len() / 5 + 1);
    scan(text, key, |hash, _| out.push(hash));
    out
}

/// Calls `emit(hash, range)` for every word of `text`, in order.
#[inline(always)]
fn scan(text: &str, key: &Key, mut emit: impl FnMut(u64, Range<usize>)) {
    let bytes = text.as_bytes();
    let mut masks = Masks::of(bytes);
    // The segments holding a special byte are cut by the full treatment; their word bits are
    // cleared so the scan below skips them, and their words are slotted in by position.
    let slow = slow_segments(bytes, &masks.special);
    for r in &slow {
        clear_bits(&mut masks.word, r.clone());
    }
    // The next slow segment, and where it starts (checked once per word: keep it cheap).
    let mut next = 0;
    let mut next_start = slow.first().map_or(usize::MAX, |r| r.start);
    let mut scratch = Vec::new();
    let mut emit_slow_before = |emit: &mut dyn FnMut(u64, Range<usize>), at: usize, next_start: &mut usize| {
        while *next_start < at {
            scratch.clear();
            slow_words(text, slow[next].clone(), key, &mut scratch);
            scratch.drain(..).for_each(|w| emit(w.hash, w.range));
            next += 1;
            *next_start = slow.get(next).map_or(usize::MAX, |r| r.start);
        }
    };
    // Word starts are word bytes after a non-word byte; ends, non-word bytes after a word
    // byte. They alternate, so the k-th start of the text pairs with its k-th end.
    let mut carry = 0u64;
    let mut pending: Option<usize> = None;
    for (j, &w) in masks.word.iter().enumerate() {
        let base = 64 * j;
        let shifted = (w << 1) | carry;
        carry = w >> 63;
        let (mut starts, mut ends) = (w & !shifted, !w & shifted);
        if let Some(start) = pending {
            if ends == 0 {
                continue;
            }
            emit_ascii(bytes, start..base + ends.trailing_zeros() as usize, key, &mut emit);
            ends &= ends - 1;
            pending = None;
        }
        while starts != 0 {
            let start = base + starts.trailing_zeros() as usize;
            starts &= starts - 1;
            if next_start < start {
                emit_slow_before(&mut emit, start, &mut next_start);
            }
            if ends == 0 {
                pending = Some(start);
                break;
            }
            emit_ascii(bytes, start..base + ends.trailing_zeros() as usize, key, &mut emit);
            ends &= ends - 1;
        }
    }
    if let Some(start) = pending {
        emit_ascii(bytes, start..bytes.len(), key, &mut emit);
    }
    emit_slow_before(&mut emit, usize::MAX, &mut next_start);
}

#[inline(always)]
fn emit_ascii(text: &[u8], range: Range<usize>, key: &Key, emit: &mut impl FnMut(u64, Range<usize>)) {
    emit(WordHash::of_ascii_word(text, range.clone(), key), range);
}

/// The segments (maximal runs without ASCII whitespace) that hold a special byte, in order.
fn slow_segments(text: &[u8], special: &[u64]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for (j, &bits) in special.iter().enumerate() {
        let mut bits = bits;
        while bits != 0 {
            let at = 64 * j + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if out.last().is_some_and(|r| at < r.end) {
                continue;
            }
            let start = text[..at].iter().rposition(|b| is_space(*b)).map_or(0, |p| p + 1);
            let end = text[at..].iter().position(|b| is_space(*b)).map_or(text.len(), |p| at + p);
            out.push(start..end);
        }
    }
    out
}

/// Clears bits `range` of a bit set.
fn clear_bits(bits: &mut [u64], range: Range<usize>) {
    for at in range {
        bits[at / 64] &= !(1 << (at % 64));
    }
}

/// The words of one segment holding a special byte.
fn slow_words(text: &str, segment: Range<usize>, key: &Key, out: &mut Vec<Word>) {
    let before = out.len();
    if !unicode_segment(&text[segment.clone()], segment.start, key, out) {
        // From the whitespace before it: a combining mark clusters with the character it
        // follows, even a space.
        out.truncate(before);
        let from = segment.start.saturating_sub(1);
        out.extend(words_reference(&text[from..segment.end], key).into_iter().map(|w| Word {
            hash: w.hash,
            range: w.range.start + from..w.range.end + from,
        }));
    }
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
fn unicode_segment(seg: &str, offset: usize, key: &Key, out: &mut Vec<Word>) -> bool {
    use crate::normalize::{Folded, fold};
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
        if mark_at(o + len) {
            return false;
        }
        // NFKC leaves the character alone, or maps it to ASCII (no-break and narrow spaces,
        // fullwidth forms, the ellipsis): ASCII never composes with a neighbour, so that
        // mapping is the character's normal form in any context.
        let mut normal = ['\0'; 18];
        let mut n = 0;
        if is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes {
            (normal[0], n) = (c, 1);
        } else {
            let mut ascii = true;
            unicode_normalization::char::decompose_compatible(c, |d| {
                ascii &= d.is_ascii() && d != '&' && n < normal.len();
                if ascii {
                    normal[n] = d;
                    n += 1;
                }
            });
            if !ascii {
                return false;
            }
        }
        for f in normal[..n].iter().flat_map(|c| fold(*c)) {
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
            proptest::sample::select(vec!["&amp;", "&nbsp;", "&eacute;", "&#8217;", "&bogus;", "\u{2019}", "\u{AB}\u{A0}", "\u{AD}", "\u{200B}", "e\u{301}", " \u{301}", "\u{FB01}", "\u{C9}T\u{C9}", "\u{1}", "\u{A0}", "\u{202F}", "\u{3000}", "\u{FF21}\u{FF42}", "\u{FF06}amp;", "\u{2026}", "\u{2474}", "\u{FDFA}", "\u{3131}\u{314F}"]).prop_map(str::to_string),
            "\\PC{1,3}",
        ], 0..30)) {
            let text: String = parts.concat();
            let fast = words(&text, &KEY);
            let reference = words_reference(&text, &KEY);
            proptest::prop_assert_eq!(word_hashes(&text, &KEY), fast.iter().map(|w| w.hash).collect::<Vec<_>>());
            proptest::prop_assert_eq!(fast, reference, "{:?}", text);
        }
    }

    #[test]
    fn vector_classification_equals_the_bytewise_one() {
        for b in 0..=255u8 {
            for at in 0..16 {
                let mut block = [b'x'; 16];
                block[at] = b;
                assert_eq!(classify16(&block), classify_bytes(&block), "byte {b:#x} at {at}");
            }
        }
    }

    #[test]
    fn chunked_ascii_hash_equals_bytewise() {
        let text = b"Constitutional aB_9 XyZzY supercalifragilistic";
        for (s, e) in [(0, 14), (15, 19), (20, 25), (26, 46)] {
            let mut h = WordHash::new(&KEY);
            h.push_all(&text[s..e].to_ascii_lowercase());
            assert_eq!(WordHash::of_ascii_word(text, s..e, &KEY), h.finish());
        }
    }
}
