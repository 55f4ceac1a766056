//! Text normalisation for matching, with a map back to the original offsets.
//!
//! Matching must not care how a passage was typeset: NFKC, lower case, HTML entities decoded,
//! typographic apostrophes, quotes and dashes unified, every kind of space (no-break, narrow,
//! thin) a plain space, runs of whitespace collapsed, soft hyphens and zero-width characters
//! dropped. Phrases in rule files go through the same function, so both sides agree.
//!
//! Evidence must point at the text as extracted, so each byte of the normalised text keeps
//! the offset of the original character it came from.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

#[derive(Debug, Clone, Default)]
pub struct Normalized {
    pub text: String,
    /// `origin[i]` is the byte offset in the original of the character that produced byte
    /// `i` of `text`; one extra entry maps `text.len()` to the original's end.
    pub origin: Vec<u32>,
}

impl Normalized {
    /// The original byte range of a normalised range.
    pub fn original_range(&self, start: usize, end: usize, original: &str) -> std::ops::Range<usize> {
        let s = self.origin[start] as usize;
        // The end is where the original unit (character with its combining marks, or entity)
        // that produced the last byte stops.
        let last = self.origin[end.saturating_sub(1).max(start)] as usize;
        let e = if last < original.len() {
            last + unit(original, last).0
        } else {
            original.len()
        };
        s..e.max(s)
    }
}

/// The original unit starting at byte `i`: its length, and its decoded text when it is an HTML
/// entity (`&eacute;`, `&#8217;`, `&nbsp;`); otherwise a character with the combining marks
/// that follow it, which are normalised together.
fn unit(s: &str, i: usize) -> (usize, Option<String>) {
    let bytes = s.as_bytes();
    if bytes[i] == b'&'
        && let Some(semi) = bytes[i..bytes.len().min(i + 12)].iter().position(|b| *b == b';')
        && semi > 1
        && bytes[i + 1..i + semi].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'#')
    {
        let entity = &s[i..i + semi + 1];
        let d = html_escape::decode_html_entities(entity);
        if d != entity {
            return (semi + 1, Some(d.into_owned()));
        }
    }
    let c = s[i..].chars().next().expect("char boundary");
    let mut len = c.len_utf8();
    while let Some(next) = s[i + len..].chars().next().filter(|n| is_combining_mark(*n)) {
        len += next.len_utf8();
    }
    (len, None)
}

/// Normalises `s` (see the module doc).
pub fn normalize(s: &str) -> Normalized {
    let mut out = Normalized {
        text: String::with_capacity(s.len()),
        origin: Vec::with_capacity(s.len() + 1),
    };
    let mut pending_space: Option<u32> = None;
    let mut cluster = String::new();
    let mut folded = String::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        let at = i as u32;
        let b = bytes[i];
        // Fastest path: a run of printable ASCII other than `&` and `` ` `` is copied and
        // lower-cased at once. Its last character stays out of the run when a non-ASCII byte
        // (perhaps a combining mark) follows it.
        let plain = |b: u8| b.is_ascii_graphic() && b != b'&' && b != b'`';
        if plain(b) {
            let mut j = i + 1;
            while j < bytes.len() && plain(bytes[j]) {
                j += 1;
            }
            if j < bytes.len() && !bytes[j].is_ascii() {
                j -= 1;
            }
            if j > i {
                if let Some(sp) = pending_space.take() {
                    out.text.push(' ');
                    out.origin.push(sp);
                }
                let from = out.text.len();
                out.text.push_str(&s[i..j]);
                out.text[from..].make_ascii_lowercase();
                out.origin.extend(i as u32..j as u32);
                i = j;
                continue;
            }
        }
        // Fast path: an ASCII character not followed by a combining mark (the next byte is
        // ASCII too) needs no NFKC; it only folds case and whitespace.
        if b.is_ascii() && b != b'&' && bytes.get(i + 1).is_none_or(u8::is_ascii) {
            i += 1;
            if b.is_ascii_whitespace() {
                if !out.text.is_empty() && pending_space.is_none() {
                    pending_space = Some(at);
                }
            } else if !b.is_ascii_control() {
                if let Some(sp) = pending_space.take() {
                    out.text.push(' ');
                    out.origin.push(sp);
                }
                out.text.push(if b == b'`' { '\'' } else { b.to_ascii_lowercase() as char });
                out.origin.push(at);
            }
            continue;
        }
        let (len, decoded) = unit(s, i);
        // A base character plus its combining marks is normalised together.
        cluster.clear();
        match decoded {
            Some(d) => cluster.push_str(&d),
            None => cluster.push_str(&s[i..i + len]),
        }
        i += len;
        // Lower-casing can make a composable pair (`T` + U+0308 has no precomposed capital,
        // `t` + U+0308 is `ẗ`), so the folded characters are composed again, as Unicode's
        // NFKC_Casefold does; otherwise normalising twice would differ from normalising once.
        folded.clear();
        for n in cluster.nfkc() {
            for m in fold(n) {
                match m {
                    Folded::Char(ch) => folded.push(ch),
                    Folded::Drop => {}
                    Folded::Space => {
                        emit(&mut out, &mut pending_space, &folded, at);
                        folded.clear();
                        if !out.text.is_empty() && pending_space.is_none() {
                            pending_space = Some(at);
                        }
                    }
                }
            }
        }
        emit(&mut out, &mut pending_space, &folded, at);
    }
    out.origin.push(s.len() as u32);
    out
}

/// Appends folded characters that all came from the original offset `at`, after the space
/// pending before them, composed again when they hold a combining mark (the only case where
/// lower-casing can leave a composable pair).
fn emit(out: &mut Normalized, pending_space: &mut Option<u32>, folded: &str, at: u32) {
    let composed: String;
    let chars = if folded.chars().any(is_combining_mark) {
        composed = folded.nfkc().collect();
        composed.as_str()
    } else {
        folded
    };
    for ch in chars.chars() {
        if let Some(sp) = pending_space.take() {
            out.text.push(' ');
            out.origin.push(sp);
        }
        let before = out.text.len();
        out.text.push(ch);
        out.origin.extend(std::iter::repeat_n(at, out.text.len() - before));
    }
}

pub(crate) enum Folded {
    Char(char),
    Space,
    Drop,
}

/// Case folding and typographic unification of one (already NFKC) character.
pub(crate) fn fold(c: char) -> impl Iterator<Item = Folded> {
    let single = |f: Folded| either(Some(f), None);
    match c {
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}' => single(Folded::Drop),
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' | '\u{00B4}' | '`' => single(Folded::Char('\'')),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{00AB}' | '\u{00BB}' | '\u{2033}' | '\u{2039}' | '\u{203A}' => {
            single(Folded::Char('"'))
        }
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => single(Folded::Char('-')),
        c if c.is_whitespace() => single(Folded::Space),
        c if c.is_control() => single(Folded::Drop),
        c if c.is_uppercase() => either(None, Some(c.to_lowercase())),
        c => single(Folded::Char(c)),
    }
}

fn either(one: Option<Folded>, many: Option<std::char::ToLowercase>) -> impl Iterator<Item = Folded> {
    one.into_iter().chain(many.into_iter().flat_map(|m| m.map(Folded::Char)))
}

/// Whether `c` belongs to a word (for phrase boundaries).
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    c.is_alphanumeric() || is_combining_mark(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn typography_entities_and_spacing() {
        let n = normalize(
            "L\u{2019}\u{C9}quipe\u{00A0}: \u{00AB}\u{202F}Vive&nbsp;la&#8217;R\u{E9}publique\u{202F}\u{00BB} \u{2014} so\u{00AD}ft\u{200B}  \n x",
        );
        assert_eq!(n.text, "l'équipe : \" vive la'république \" - soft x");
    }

    #[test]
    fn only_real_entities_are_decoded() {
        // Found by a property test: a candidate spanning a space and another entity.
        assert_eq!(normalize("&a &amp; b&c;d").text, "&a & b&c;d");
        assert_eq!(normalize("&#x41;&#66;&eacute;").text, "abé");
    }

    #[test]
    fn decomposed_accents_compose_and_offsets_map_back() {
        let original = "Cafe\u{301} &amp; Th\u{E9}";
        let n = normalize(original);
        assert_eq!(n.text, "café & thé");
        let start = n.text.find("thé").unwrap();
        assert_eq!(&original[n.original_range(start, n.text.len(), original)], "Th\u{E9}");
        let amp = n.text.find('&').unwrap();
        assert_eq!(&original[n.original_range(amp, amp + 1, original)], "&amp;");
    }

    #[test]
    fn ascii_fast_path_agrees_with_the_general_path() {
        // `\u{301}` after an ASCII letter forces the general path for that letter.
        assert_eq!(normalize("Cafe\u{301} CAFE\u{301}").text, "café café");
        assert_eq!(normalize("A`B\tC\u{7}D").text, "a'b cd");
    }

    #[test]
    fn lower_casing_that_makes_a_composable_pair_is_composed() {
        // Found by the property test: no capital T with diaeresis exists, a small one does.
        assert_eq!(normalize("T\u{308}").text, "\u{1E97}");
        assert_eq!(normalize("\u{1E97}").text, "\u{1E97}");
        // Every capital with every combining diacritical mark (U+0300..U+036F).
        let capitals = (0u32..0x3000).filter_map(char::from_u32).filter(|c| c.is_uppercase());
        for c in capitals {
            for mark in (0x300u32..0x370).filter_map(char::from_u32) {
                let once = normalize(&format!("{c}{mark}")).text;
                assert_eq!(normalize(&once).text, once, "{c:?} + {mark:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn idempotent_and_offsets_monotonic(s in "\\PC{0,60}") {
            let once = normalize(&s);
            prop_assert_eq!(&normalize(&once.text).text, &once.text);
            prop_assert_eq!(once.origin.len(), once.text.len() + 1);
            prop_assert!(once.origin.windows(2).all(|w| w[0] <= w[1]));
        }
    }
}
