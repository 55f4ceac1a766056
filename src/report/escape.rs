//! Making web text safe in each output: HTML, CSV, Markdown. Titles, URLs, excerpts and
//! messages come from the outlets' pages and feeds, which an attacker may write; each format
//! has its own way to be broken out of, so each has its own function here, and every renderer
//! passes every such string through one of them.

use super::inert;
use std::fmt;

/// Text for an HTML element or attribute value: made inert (no control characters, no
/// bidirectional overrides), then `& < > " '` escaped.
pub struct Html<'a>(pub &'a str);

impl fmt::Display for Html<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for c in inert(self.0).chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

/// A web address a report may link to: only `http` and `https` (never `javascript:`, `data:`
/// or `file:`), re-serialised by the URL parser, so it cannot carry a quote or a space.
pub fn link(url: &str) -> Option<url::Url> {
    url::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// One CSV field (RFC 4180): made inert, quoted when it holds a comma, a quote or a line
/// break, and prefixed with `'` when it starts like a spreadsheet formula (`= + - @`), so a
/// title cannot run as one.
pub fn csv(field: &str) -> String {
    let mut s = inert(field);
    if s.starts_with(['=', '+', '-', '@']) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Text for Markdown, inside a line (never at its start, where `#`, `-` or `1.` would count):
/// made inert, then every character that means something inline — emphasis, code, links and
/// images, tables, strike-through — backslash-escaped, and `< > &` written as entities, so web
/// text renders as text, never as a link, an image, emphasis or HTML.
pub struct Markdown<'a>(pub &'a str);

impl fmt::Display for Markdown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for c in inert(self.0).chars() {
            match c {
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '&' => f.write_str("&amp;")?,
                '\\' | '`' | '*' | '_' | '[' | ']' | '!' | '|' | '~' => {
                    fmt::Write::write_char(f, '\\')?;
                    fmt::Write::write_char(f, c)?;
                }
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_controls() {
        assert_eq!(
            Html("<script>alert('x')</script>&\u{202e}\u{1b}[31m").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;\u{FFFD}\u{FFFD}[31m"
        );
        assert_eq!(Html("a\r\nb").to_string(), "a  b");
    }

    #[test]
    fn only_web_links_are_links() {
        assert!(link("javascript:alert(1)").is_none());
        assert!(link("data:text/html,<script>").is_none());
        assert!(link("file:///etc/passwd").is_none());
        assert_eq!(link("https://e.fr/a\"b").unwrap().as_str(), "https://e.fr/a%22b");
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv("a, b"), "\"a, b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(csv("-2+3"), "'-2+3");
        assert_eq!(csv("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv("line\nbreak"), "line break");
    }

    #[test]
    fn markdown_text_stays_text() {
        assert_eq!(
            Markdown("[click](javascript:x) <img src=x onerror=y> *b*").to_string(),
            "\\[click\\](javascript:x) &lt;img src=x onerror=y&gt; \\*b\\*"
        );
    }
}
