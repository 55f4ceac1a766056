//! One fast pass over the raw page before html5ever sees it: the deepest element nesting
//! (html5ever's cost grows with the square of the depth, so hostile nesting is refused before
//! parsing), and the contents of `<script>`, `<style>` and `<svg>` elements cut out. On news
//! pages those contents are over half of the bytes, none of them is article text, and the
//! tokenizer would otherwise walk every one of them. JSON scripts (JSON-LD dates and article bodies)
//! are kept; the elements themselves and their attributes (a script's `src`) stay.

use memchr::memchr;
use std::borrow::Cow;

pub struct Prescanned<'a> {
    pub html: Cow<'a, str>,
    /// The deepest nesting of elements, estimated from tags without building a tree. Void
    /// elements and self-closing tags do not nest; an unclosed `<p>` or `<li>` counts,
    /// which only overestimates.
    pub depth: usize,
}

/// Elements that never contain others (plus `p`, `li`, `option`, often left unclosed).
const VOID: &[&[u8]] = &[
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"source", b"track", b"wbr", b"p", b"li",
    b"option",
];

pub fn prescan(html: &str) -> Prescanned<'_> {
    let bytes = html.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while let Some(off) = memchr(b'<', &bytes[i..]) {
        let lt = i + off;
        let rest = &bytes[lt + 1..];
        if rest.starts_with(b"!--") {
            // Comments do not nest, and a `<script` inside one is not a script.
            i = find(bytes, b"-->", lt + 4).map_or(bytes.len(), |e| e + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let start = lt + 1 + usize::from(closing);
        let end = start + bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        if end == start {
            i = lt + 1;
            continue;
        }
        let name = &bytes[start..end];
        if closing {
            depth = depth.saturating_sub(1);
            i = end;
            continue;
        }
        let tag_end = tag_end(bytes, end);
        let self_closing = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
        let raw_text = [&b"script"[..], b"style", b"svg"]
            .into_iter()
            .find(|t| name.eq_ignore_ascii_case(t));
        if let Some(element) = raw_text.filter(|_| !self_closing) {
            let body_start = (tag_end + 1).min(bytes.len());
            let close = closing_tag(bytes, element, body_start).unwrap_or(bytes.len());
            let keep = element == b"script" && contains_ignore_case(&bytes[end..tag_end.min(bytes.len())], b"json");
            if !keep && close > body_start {
                let o = out.get_or_insert_with(|| String::with_capacity(html.len() / 2));
                o.push_str(&html[copied..body_start]);
                copied = close;
            }
            i = close;
            continue;
        }
        if !self_closing && !VOID.iter().any(|v| name.eq_ignore_ascii_case(v)) {
            depth += 1;
            max = max.max(depth);
        }
        i = end;
    }
    let html = match out {
        Some(mut o) => {
            o.push_str(&html[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(html),
    };
    Prescanned { html, depth: max }
}

/// The `>` ending a start tag whose name ends at `from`, skipping quoted attribute values.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut quote = None;
    for (k, &b) in bytes[from..].iter().enumerate() {
        match (quote, b) {
            (None, b'>') => return from + k,
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            _ => {}
        }
    }
    bytes.len()
}

/// Where `</element` starts (followed by whitespace, `/` or `>`, in any case), from `from`.
fn closing_tag(bytes: &[u8], element: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(off) = memchr(b'<', &bytes[i..]) {
        let lt = i + off;
        let name = lt + 2;
        if bytes.get(lt + 1) == Some(&b'/')
            && bytes.len() >= name + element.len()
            && bytes[name..name + element.len()].eq_ignore_ascii_case(element)
            && bytes
                .get(name + element.len())
                .is_none_or(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>')
        {
            return Some(lt);
        }
        i = lt + 1;
    }
    None
}

fn find(bytes: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(&bytes[from.min(bytes.len())..], needle).map(|p| from + p)
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth() {
        assert_eq!(prescan("<p>a<br><img src=x/><div><span>b</span></div>").depth, 2);
        assert_eq!(prescan(&"<div>".repeat(50)).depth, 50);
        assert_eq!(prescan("<div title='a>b'><div></div></div>").depth, 2);
    }

    #[test]
    fn script_and_style_contents_are_cut_json_kept() {
        let html = "<head><STYLE>p{x:1}</STYLE><script src=a.js></script><script>var s = '<div><div>';</script >\
                    <script type=\"application/ld+json\">{\"datePublished\":\"2017\"}</script></head>\
                    <!-- <script> not a script --><body><p>Texte</p></body>";
        let p = prescan(html);
        assert_eq!(
            p.html,
            "<head><STYLE></STYLE><script src=a.js></script><script></script >\
             <script type=\"application/ld+json\">{\"datePublished\":\"2017\"}</script></head>\
             <!-- <script> not a script --><body><p>Texte</p></body>"
        );
        assert_eq!(p.depth, 1, "tags inside a script do not nest");
        assert!(matches!(prescan("<p>rien à couper</p>").html, Cow::Borrowed(_)));
        // An unclosed script swallows the rest, as in a browser.
        assert_eq!(prescan("<p>a</p><script>var x;").html, "<p>a</p><script>");
    }
}
