//! Repairs made to a feed's text before parsing, each recorded: flaws that cost the strict
//! parser the whole document, in feeds that readers show without complaint.
//!
//! * characters XML forbids (C0 controls other than tab, CR, LF), which one stray byte from a
//!   CMS puts in a title;
//! * an XML declaration after the start (quick-xml panics on it; found by fuzzing);
//! * RSS 2.0 written with a namespace prefix (`<r:rss>`, `<r:item>`), which RSS 2.0 does not
//!   have and the parser does not expect;
//! * Atom 0.3 (`http://purl.org/atom/ns#`), which the parser does not know and would read as
//!   a feed without entries: its namespace and its `issued`/`modified` dates are Atom 1.0's;
//! * an `&` that starts no reference (`?a=1&b=2` in a link, as CMSs write it) and `&#X41;`
//!   with a capital X, which XML refuses and every feed reader reads;
//! * Atom text whose `type` is a MIME type or empty (`application/xhtml+xml`, `text/html`,
//!   `""`) or whose content is base64 (`application/octet-stream`, 0.3's `mode="base64"`):
//!   the parser accepts only `text`, `html` and `xhtml`.

use base64::Engine as _;
use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::LazyLock;

/// The feed's text after repairs, and what was repaired.
pub struct Repaired<'a> {
    pub text: Cow<'a, str>,
    pub repairs: Vec<String>,
}

pub fn repair(text: &str) -> Repaired<'_> {
    let mut repairs = Vec::new();
    let (text, removed) = strip_forbidden_controls(text);
    if let Some((count, line, col)) = removed {
        repairs.push(format!(
            "removed {count} character(s) that XML forbids (first at line {line}, column {col})"
        ));
    }
    let mut text = match text {
        Cow::Borrowed(t) => crate::charset::relabel_xml_as_utf8(t),
        Cow::Owned(t) => Cow::Owned(crate::charset::relabel_xml_as_utf8(&t).into_owned()),
    };
    if let Some(tail) = text.get(5..)
        && let Cow::Owned(tail) = STRAY_DECLARATION.replace_all(tail, "")
    {
        repairs.push("removed an XML declaration found after the start of the document".into());
        text = Cow::Owned(format!("{}{tail}", &text[..5]));
    }
    if let Some((fixed, count)) = escape_stray_ampersands(&text) {
        repairs.push(format!("{count} `&` that start(s) no entity or character reference escaped"));
        text = Cow::Owned(fixed);
    }
    if let Some(prefix) = PREFIXED_RSS.captures(&text).map(|c| c[1].to_string()) {
        let tags = Regex::new(&format!(r"<(/?){}:", regex::escape(&prefix))).expect("escaped prefix");
        text = Cow::Owned(tags.replace_all(&text, "<$1").into_owned());
        repairs.push(format!("RSS 2.0 elements read without their `{prefix}:` prefix"));
    }
    if ATOM_03.is_match(&text) {
        let renamed = ATOM_03.replace_all(&text, "http://www.w3.org/2005/Atom");
        let renamed = ATOM_03_DATES.replace_all(&renamed, |c: &Captures| {
            let name = if &c[2] == "issued" { "published" } else { "updated" };
            format!("<{}{name}", &c[1])
        });
        text = Cow::Owned(renamed.into_owned());
        repairs.push("Atom 0.3 read as Atom 1.0".into());
    }
    // Only Atom's own text constructs: other vocabularies (Media RSS's `type="plain"`) have
    // types of their own.
    if (text.contains("type=") || text.contains("mode="))
        && super::tolerant::root_name(&text).as_deref() == Some("feed")
        && let Some((fixed, changed)) = rewrite_text_constructs(&text)
    {
        repairs.push(format!(
            "{changed} element(s) with a `type` or `mode` the parser does not read were rewritten"
        ));
        text = Cow::Owned(fixed);
    }
    Repaired { text, repairs }
}

/// The `<rss` start tag (its attributes in group 1), and a `version` attribute within them.
pub static RSS_START: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"<rss(\s[^>]*)?>"#).expect("static regex"));
static VERSION_ATTR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"\s+version\s*=\s*("[^"]*"|'[^']*')"#).expect("static regex"));

/// `<rss>` with its version set to 2.0 (none, `2.00` and `0.94` are refused by the parser).
pub fn as_rss2(text: &str) -> String {
    RSS_START
        .replace(text, |c: &Captures| {
            format!(
                "<rss version=\"2.0\"{}>",
                VERSION_ATTR.replace(c.get(1).map_or("", |m| m.as_str()), "")
            )
        })
        .into_owned()
}

static STRAY_DECLARATION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<\?xml\s[^>]*\?>").expect("static regex"));
/// `<P:rss` as the document's first element (after a prolog, comments or a doctype).
static PREFIXED_RSS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?s:\s*(?:<!--.*?-->\s*|<[?!][^>]*>\s*)*)<([\w.-]+):rss[\s>]").expect("static regex"));
static ATOM_03: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"http://purl\.org/atom/ns#").expect("static regex"));
static ATOM_03_DATES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<(/?(?:[\w.-]+:)?)(issued|modified)\b").expect("static regex"));
/// The start tag of an Atom text construct or content element (unprefixed, or `atom:`), with
/// its attributes.
static TEXT_CONSTRUCT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<((?:atom:)?(?:title|subtitle|tagline|summary|content|rights|copyright|info))(\s[^>]*?)?>").expect("static regex")
});
static TYPE_ATTR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"\stype\s*=\s*("[^"]*"|'[^']*')"#).expect("static regex"));
static MODE_ATTR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"\smode\s*=\s*("[^"]*"|'[^']*')"#).expect("static regex"));

/// The text with every text construct the parser would refuse rewritten, and how many there
/// were; `None` when there were none.
fn rewrite_text_constructs(text: &str) -> Option<(String, usize)> {
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut changed) = (0, 0);
    for c in TEXT_CONSTRUCT.captures_iter(text) {
        let whole = c.get(0).expect("group 0");
        if whole.start() < copied {
            continue;
        }
        let name = &c[1];
        let closing = format!("</{name}>");
        let Some(len) = text[whole.end()..].find(&closing) else { continue };
        let content = &text[whole.end()..whole.end() + len];
        let Some(element) = text_construct(name, c.get(2).map_or("", |m| m.as_str()), content) else {
            continue;
        };
        out.push_str(&text[copied..whole.start()]);
        out.push_str(&element);
        copied = whole.end() + len + closing.len();
        changed += 1;
    }
    (changed > 0).then(|| {
        out.push_str(&text[copied..]);
        (out, changed)
    })
}

/// The element rewritten with a `type` the parser reads, or `None` when it already has one.
fn text_construct(name: &str, attributes: &str, content: &str) -> Option<String> {
    let value = |re: &Regex| re.captures(attributes).map(|a| a[1][1..a[1].len() - 1].trim().to_ascii_lowercase());
    let (kind, mode) = (value(&TYPE_ATTR), value(&MODE_ATTR));
    let binary = kind
        .as_deref()
        .is_some_and(|k| k.contains('/') && !k.starts_with("text/") && !k.contains("xml"));
    let (new_kind, new_content) = if mode.as_deref() == Some("base64") || binary {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(content.split_ascii_whitespace().collect::<String>())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())?;
        ("html", escape(&decoded))
    } else {
        let new_kind = match kind.as_deref() {
            None if mode.as_deref() == Some("escaped") => "html",
            None => return None,
            Some("text" | "html" | "xhtml") if mode.is_none() => return None,
            Some("text/html" | "html") => "html",
            Some(k) if k.contains("xhtml") => "xhtml",
            Some(_) if mode.as_deref() == Some("escaped") => "html",
            Some(_) => "text",
        };
        (new_kind, content.to_string())
    };
    let kept = MODE_ATTR.replace_all(&TYPE_ATTR.replace_all(attributes, ""), "").into_owned();
    Some(format!("<{name}{kept} type=\"{new_kind}\">{new_content}</{name}>"))
}

/// The text with every `&` that starts no reference written `&amp;` (and `&#X` as `&#x`),
/// outside CDATA sections and comments; `None` when there is none.
fn escape_stray_ampersands(text: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let (mut copied, mut count, mut at) = (0, 0, 0);
    while let Some(rel) = text[at..].find(['&', '<']) {
        let i = at + rel;
        let rest = &text[i..];
        let skip = [("<![CDATA[", "]]>"), ("<!--", "-->")]
            .into_iter()
            .find(|(open, _)| rest.starts_with(open))
            .map(|(open, close)| {
                rest[open.len()..]
                    .find(close)
                    .map_or(text.len(), |e| i + open.len() + e + close.len())
            });
        if let Some(end) = skip {
            at = end;
            continue;
        }
        at = i + 1;
        if rest.starts_with('<') {
            continue;
        }
        let (fixed, kept) = match reference_len(&rest[1..]) {
            Some((_, true)) => ("&#x", 3),
            Some(_) => continue,
            None => ("&amp;", 1),
        };
        out.push_str(&text[copied..i]);
        out.push_str(fixed);
        copied = i + kept;
        count += 1;
    }
    (count > 0).then(|| {
        out.push_str(&text[copied..]);
        (out, count)
    })
}

/// The length of the reference after an `&` (`amp;`, `#38;`, `#x26;`), and whether it is a
/// hexadecimal one written with a capital X; `None` if none starts there.
fn reference_len(after: &str) -> Option<(usize, bool)> {
    let bytes = after.as_bytes();
    let (digits, start, upper): (fn(u8) -> bool, usize, bool) = match bytes {
        [b'#', b'x', ..] => (|b: u8| b.is_ascii_hexdigit(), 2, false),
        [b'#', b'X', ..] => (|b: u8| b.is_ascii_hexdigit(), 2, true),
        [b'#', ..] => (|b: u8| b.is_ascii_digit(), 1, false),
        [b, ..] if b.is_ascii_alphabetic() || *b == b'_' || *b == b':' => (
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'),
            0,
            false,
        ),
        _ => return None,
    };
    let len = bytes[start..].iter().take_while(|b| digits(**b)).count();
    (len > 0 && bytes.get(start + len) == Some(&b';')).then_some((start + len + 1, upper))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Removes C0 control characters other than tab, LF and CR. Returns the cleaned text and,
/// if anything was removed, the count and the line and column of the first one.
fn strip_forbidden_controls(text: &str) -> (Cow<'_, str>, Option<(usize, usize, usize)>) {
    let forbidden = |c: char| (c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}';
    let Some(first) = text.find(forbidden) else {
        return (text.into(), None);
    };
    let line = text[..first].matches('\n').count() + 1;
    let col = text[..first].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let count = text.chars().filter(|c| forbidden(*c)).count();
    (text.replace(forbidden, "").into(), Some((count, line, col)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atom_text_types_the_parser_refuses_are_rewritten() {
        let r = repair(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="application/xhtml+xml"><div xmlns="http://www.w3.org/1999/xhtml">a</div></title><summary type="">s</summary><content type="application/octet-stream">RXhhbXBsZSA8Yj5BdG9tPC9iPg==</content><title type="html">ok</title></entry></feed>"#,
        );
        assert_eq!(
            r.text,
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">a</div></title><summary type="text">s</summary><content type="html">Example &lt;b&gt;Atom&lt;/b&gt;</content><title type="html">ok</title></entry></feed>"#
        );
        assert_eq!(r.repairs.len(), 1, "{:?}", r.repairs);
    }

    #[test]
    fn stray_ampersands_are_escaped_outside_cdata() {
        let r = repair(
            "<rss><item><link>http://e/?a=1&b=2&amp;c=&#38;&#X41;&eacute;</link><title><![CDATA[a & b]]></title><!-- x & y --></item></rss>",
        );
        assert_eq!(
            r.text,
            "<rss><item><link>http://e/?a=1&amp;b=2&amp;c=&#38;&#x41;&eacute;</link><title><![CDATA[a & b]]></title><!-- x & y --></item></rss>"
        );
        assert_eq!(r.repairs.len(), 1);
        assert!(repair("<rss>&amp; &#x26; <![CDATA[&]]></rss>").repairs.is_empty());
    }

    #[test]
    fn prefixed_rss_loses_its_prefix() {
        let r = repair(
            "<!-- a > b --><r:rss version=\"2.0\" xmlns:r=\"http://backend.userland.com/rss2\"><r:channel><r:item><r:title>x</r:title></r:item></r:channel></r:rss>",
        );
        assert_eq!(
            r.text,
            "<!-- a > b --><rss version=\"2.0\" xmlns:r=\"http://backend.userland.com/rss2\"><channel><item><title>x</title></item></channel></rss>"
        );
    }

    #[test]
    fn atom_03_becomes_atom_10() {
        let r = repair(
            r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><title type="text/html" mode="escaped">&lt;b&gt;x</title><issued>2004-01-01T00:00:00Z</issued><modified>2004-01-02T00:00:00Z</modified></entry></feed>"#,
        );
        assert_eq!(
            r.text,
            r#"<feed version="0.3" xmlns="http://www.w3.org/2005/Atom"><entry><title type="html">&lt;b&gt;x</title><published>2004-01-01T00:00:00Z</published><updated>2004-01-02T00:00:00Z</updated></entry></feed>"#
        );
    }
}
