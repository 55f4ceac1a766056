//! Bytes to text. The order: a byte-order mark (it cannot lie), then the source's configured
//! charset (a human decided the outlet's declaration is wrong), then the document's own
//! declaration (XML prolog, `<meta charset>`, `http-equiv`; in the first 1024 bytes, else
//! anywhere in the first 64 KiB), then the transport's `Content-Type`, then UTF-8 if the bytes
//! are valid UTF-8, and otherwise chardetng's guess, helped by the site's top-level domain. The
//! declaration comes before the header because a server's default charset is wrong far more
//! often than the page that names its own. The choice and its reason are recorded so a report
//! can show how the text was read.

use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex;
use std::sync::LazyLock;

/// Why an encoding was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Bom,
    SourceOverride,
    Declared,
    /// The document declared a legacy encoding, but its bytes are valid UTF-8 with non-ASCII
    /// characters: a mislabelled UTF-8 document (reported as a problem).
    Utf8OverDeclaration,
    Transport,
    ValidUtf8,
    /// Guessed from the bytes (chardetng).
    Detected,
}

#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub basis: Basis,
    /// Set when malformed byte sequences were replaced with U+FFFD.
    pub had_errors: bool,
}

/// Decodes `bytes` following the order above; `tld` (`fr`, `gp`) helps the last-resort guess.
pub fn decode(bytes: &[u8], source_override: Option<&'static Encoding>, transport: Option<&str>, tld: Option<&str>) -> Decoded {
    let (encoding, basis) = choose(bytes, source_override, transport, tld);
    let (text, _, had_errors) = encoding.decode(bytes);
    Decoded {
        text: text.into_owned(),
        encoding,
        basis,
        had_errors,
    }
}

fn choose(
    bytes: &[u8],
    source_override: Option<&'static Encoding>,
    transport: Option<&str>,
    tld: Option<&str>,
) -> (&'static Encoding, Basis) {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        return (enc, Basis::Bom);
    }
    if let Some(enc) = source_override {
        return (enc, Basis::SourceOverride);
    }
    if let Some(enc) = declared(bytes) {
        // Multi-byte UTF-8 sequences practically never occur by chance in legacy 8-bit text.
        if enc != UTF_8 && !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok() {
            return (UTF_8, Basis::Utf8OverDeclaration);
        }
        return (enc, Basis::Declared);
    }
    if let Some(enc) = transport.and_then(content_type_charset) {
        return (enc, Basis::Transport);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return (UTF_8, Basis::ValidUtf8);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    (
        detector.guess(tld.map(str::as_bytes), chardetng::Utf8Detection::Allow),
        Basis::Detected,
    )
}

/// The encoding a document declares, as an XML prolog `encoding="…"` or a `<meta charset>` /
/// `http-equiv` content type: in the first 1024 bytes (the HTML prescan window), else, for a
/// `<meta>` pushed further down by scripts and styles, in the first 64 KiB.
fn declared(bytes: &[u8]) -> Option<&'static Encoding> {
    static XML: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?i)^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']"#).expect("static regex"));
    static META: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?i)<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9._:-]+)"#).expect("static regex"));
    let head = &bytes[..bytes.len().min(1024)];
    let wide = &bytes[..bytes.len().min(64 * 1024)];
    let label = XML
        .captures(head)
        .or_else(|| META.captures(head))
        .or_else(|| META.captures(wide))?
        .get(1)?
        .as_bytes();
    let enc = Encoding::for_label(label)?;
    // A page that says UTF-16 in ASCII bytes is not UTF-16 (WHATWG: treat as UTF-8).
    Some(if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        UTF_8
    } else {
        enc
    })
}

fn content_type_charset(ct: &str) -> Option<&'static Encoding> {
    let lower = ct.to_ascii_lowercase();
    let at = lower.find("charset=")?;
    let value = ct[at + 8..].trim_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
    Encoding::for_label(value.split(';').next()?.as_bytes())
}

/// Rewrites the XML prolog of already-decoded text to say UTF-8, so that an XML parser given
/// the UTF-8 bytes does not decode them a second time with the original label.
pub fn relabel_xml_as_utf8(text: &str) -> std::borrow::Cow<'_, str> {
    static PROLOG_ENC: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r#"(?i)^(\s*<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']"#).expect("static regex"));
    PROLOG_ENC.replace(text, r#"${1}"utf-8""#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::WINDOWS_1252;

    #[test]
    fn order_of_evidence() {
        let latin = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><title>\xc9lection</title></rss>";
        let d = decode(latin, None, None, None);
        assert_eq!((d.encoding, d.basis), (WINDOWS_1252, Basis::Declared));
        assert!(d.text.contains("Élection"));

        let bom = b"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><x>\xc3\x89</x>";
        assert_eq!(decode(bom, None, None, None).basis, Basis::Bom);

        let undeclared = b"<html><p>\xe9t\xe9</p></html>";
        let d = decode(undeclared, None, None, Some("fr"));
        assert_eq!((d.basis, d.text.contains("été")), (Basis::Detected, true));

        let overridden = decode(latin, Some(UTF_8), None, None);
        assert_eq!(overridden.basis, Basis::SourceOverride);

        let mislabelled = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><x>\u{c9}lection</x>";
        let d = decode(mislabelled.as_bytes(), None, None, None);
        assert_eq!((d.basis, d.text.as_str()), (Basis::Utf8OverDeclaration, mislabelled));

        let late = [
            b"<html><head><script>".as_slice(),
            &[b' '; 2000],
            b"</script><meta charset=windows-1252></head><p>\x92</p>",
        ]
        .concat();
        assert_eq!(decode(&late, None, Some("text/html; charset=utf-8"), None).basis, Basis::Declared);

        let meta = b"<html><head><meta charset=windows-1252></head><p>\x92</p>";
        assert!(decode(meta, None, None, None).text.contains('\u{2019}'));
        assert_eq!(
            decode(b"<p>x</p>", None, Some("text/html; charset=ISO-8859-15"), None).basis,
            Basis::Transport
        );
    }

    #[test]
    fn relabels_prolog() {
        assert_eq!(
            relabel_xml_as_utf8("<?xml version='1.0' encoding='windows-1252'?><rss/>"),
            "<?xml version='1.0' encoding=\"utf-8\"?><rss/>"
        );
    }
}
