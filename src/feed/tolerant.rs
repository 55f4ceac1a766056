//! The feed read entry by entry, for when the strict parser refuses the document or misses
//! entries: a connection cut mid-document, an unclosed CDATA section, one entry with markup the
//! parser rejects, a dialect it does not know. A feed is never lost whole because of one flaw.
//!
//! A small lexer walks the markup (comments, CDATA sections, processing instructions and
//! declarations are skipped as units) and cuts out every `<item>` / `<entry>` element with its
//! matching end tag. Each is then parsed alone, wrapped in a minimal document of the feed's own
//! kind that keeps the root's namespace declarations, so a broken entry costs only itself. An
//! entry cut off by the end of the document is closed: the unfinished tag or section at the cut
//! is dropped and the elements still open are closed in order, so its title and link survive.

use regex::Regex;
use std::sync::LazyLock;

/// The root of a feed document, as the lexer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// Local name: `rss`, `RDF`, `feed`, `channel`…
    pub name: String,
    /// The whole start tag's attributes, as written (namespace declarations among them).
    pub attributes: String,
}

/// An entry element found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The markup of the whole element, closed if the document was cut inside it.
    pub markup: String,
    /// The document ended inside this entry; `markup` was closed by hand.
    pub cut: bool,
    /// An Atom `entry` (else an RSS `item`).
    pub atom: bool,
}

/// What the lexer found: the root element and the entries, in order.
#[derive(Debug, Default)]
pub struct Split {
    pub root: Option<Root>,
    pub entries: Vec<Entry>,
    /// The text ends before the root element is closed.
    pub cut: bool,
}

/// The elements a feed's entries are: RSS `item`s and Atom `entry`s, with any prefix.
pub const FEED_ENTRIES: &[&str] = &["item", "entry"];

/// How many feed entries the markup holds (entries inside entries not counted).
pub fn count(text: &str) -> usize {
    let mut lexer = Lexer { text, at: 0 };
    let (mut entries, mut depth) = (0, 0usize);
    while let Some(token) = lexer.next() {
        match token {
            Token::Start { name, empty: false, .. } if FEED_ENTRIES.contains(&local_name(name)) => {
                entries += usize::from(depth == 0);
                depth += 1;
            }
            Token::End { name, .. } if depth > 0 && FEED_ENTRIES.contains(&local_name(name)) => depth -= 1,
            Token::Cut { .. } => break,
            _ => {}
        }
    }
    entries
}

/// The local name of the document's first element.
pub fn root_name(text: &str) -> Option<String> {
    let mut lexer = Lexer { text, at: 0 };
    match lexer.next()? {
        Token::Start { name, .. } => Some(local_name(name).to_string()),
        _ => None,
    }
}

/// Cuts the entries (elements whose local name is one of `names`: [`FEED_ENTRIES`] for a
/// feed, `url` for a sitemap) out of a document's text.
pub fn split(text: &str, names: &[&str]) -> Split {
    let mut out = Split::default();
    let mut lexer = Lexer { text, at: 0 };
    let mut current: Option<InEntry> = None;
    let mut root_closed = false;
    while let Some(token) = lexer.next() {
        match token {
            Token::Start {
                name,
                attributes,
                empty,
                at,
            } => {
                let local = local_name(name);
                if out.root.is_none() {
                    out.root = Some(Root {
                        name: local.to_string(),
                        attributes: attributes.to_string(),
                    });
                }
                match &mut current {
                    Some(e) if !empty => e.open.push((name.to_string(), at)),
                    Some(_) => {}
                    None if names.contains(&local) && !empty => {
                        current = Some(InEntry {
                            start: at,
                            name: name.to_string(),
                            open: Vec::new(),
                        })
                    }
                    None => {}
                }
            }
            Token::End { name, end } => {
                root_closed |= current.is_none() && out.root.as_ref().is_some_and(|r| r.name == local_name(name));
                if let Some(e) = &mut current {
                    // The entry's end tag closes it, whatever was left open inside (an element
                    // of the same name nested in it excepted).
                    if name == e.name && !e.open.iter().any(|(o, _)| o == name) {
                        out.entries.push(whole(text[e.start..end].to_string(), &e.name));
                        current = None;
                    } else if let Some(i) = e.open.iter().rposition(|(o, _)| o == name) {
                        e.open.truncate(i);
                    }
                }
            }
            Token::Cut { at } => {
                out.cut = true;
                if let Some(e) = current.take() {
                    out.entries.push(cut(text, at, e));
                }
                break;
            }
        }
    }
    if let Some(e) = current {
        // The text ended between two tags, inside the entry.
        out.entries.push(cut(text, text.len(), e));
    }
    out.cut |= out.root.is_some() && !root_closed;
    out
}

fn whole(markup: String, name: &str) -> Entry {
    Entry {
        markup,
        cut: false,
        atom: local_name(name) == "entry",
    }
}

/// The entry being read: where it starts, its name, and the elements open inside it with
/// where each starts.
struct InEntry {
    start: usize,
    name: String,
    open: Vec<(String, usize)>,
}

/// An entry the document was cut inside, at `end`: the element the cut fell in is dropped
/// (what it held is incomplete: half a title, `2017-05-0`, half an address), and the elements
/// still open around it and the entry itself are closed, in order.
fn cut(text: &str, end: usize, mut e: InEntry) -> Entry {
    let end = e.open.pop().map_or(end, |(_, at)| at);
    let mut markup = text[e.start..end].to_string();
    for element in e.open.iter().rev().map(|(o, _)| o.as_str()).chain(std::iter::once(e.name.as_str())) {
        markup.push_str(&format!("</{element}>"));
    }
    Entry {
        markup,
        cut: true,
        atom: local_name(&e.name) == "entry",
    }
}

/// A minimal document around one entry, so that it parses on its own, keeping the root's
/// prefixed namespace declarations: an Atom feed for an `entry`, RSS 2.0 for an `item` of any
/// dialect — RSS 1.0 and 0.90 included, whose items have RSS 2.0's elements but a default
/// namespace the RSS 2.0 reader does not expect (and whose strict reader drops an item without
/// a `link`, which RSS 2.0 allows).
pub fn wrap(root: Option<&Root>, entry: &Entry) -> String {
    static PREFIXED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"\bxmlns:[\w.-]+\s*=\s*("[^"]*"|'[^']*')"#).expect("static regex"));
    let attributes = root.map_or("", |r| r.attributes.as_str());
    let namespaces: String = PREFIXED.find_iter(attributes).map(|m| format!(" {}", m.as_str())).collect();
    match (entry.atom, root.map(|r| r.name.as_str())) {
        (true, Some("feed")) => format!("<feed{attributes}>{}</feed>", entry.markup),
        (true, _) => format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"{namespaces}>{}</feed>", entry.markup),
        (false, _) => format!(
            "<rss version=\"2.0\"{namespaces}><channel><title></title>{}</channel></rss>",
            entry.markup
        ),
    }
}

fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

enum Token<'a> {
    Start {
        name: &'a str,
        attributes: &'a str,
        empty: bool,
        at: usize,
    },
    End {
        name: &'a str,
        end: usize,
    },
    /// The text ends inside markup (a tag, a CDATA section, a comment) that starts at `at`.
    Cut {
        at: usize,
    },
}

struct Lexer<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Lexer<'a> {
    fn next(&mut self) -> Option<Token<'a>> {
        loop {
            let rel = self.text[self.at..].find('<')?;
            let start = self.at + rel;
            let rest = &self.text[start..];
            // Comments, CDATA, processing instructions and declarations are skipped whole.
            let skip = [("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"), ("<!", ">")]
                .into_iter()
                .find(|(open, _)| rest.starts_with(open));
            if let Some((open, close)) = skip {
                match rest[open.len()..].find(close) {
                    Some(i) => self.at = start + open.len() + i + close.len(),
                    None => return Some(Token::Cut { at: start }),
                }
                continue;
            }
            let Some(end) = tag_end(rest) else {
                return Some(Token::Cut { at: start });
            };
            self.at = start + end + 1;
            let inner = &rest[1..end];
            if let Some(name) = inner.strip_prefix('/') {
                return Some(Token::End {
                    name: name.trim(),
                    end: self.at,
                });
            }
            let empty = inner.ends_with('/');
            let inner = inner.trim_end_matches('/');
            let name_end = inner.find(|c: char| c.is_whitespace()).unwrap_or(inner.len());
            if name_end == 0 {
                continue;
            }
            return Some(Token::Start {
                name: &inner[..name_end],
                attributes: &inner[name_end..],
                empty,
                at: start,
            });
        }
    }
}

/// The offset of the `>` that closes the tag opening `tag` (quoted attribute values may hold
/// `>`), if the text holds it.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in tag.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i),
            (None, '<') => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_cut_out_whole_whatever_they_hold() {
        let text = r#"<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
            <!-- <item>not an item</item> -->
            <item><title><![CDATA[a </item> b]]></title><description>x &gt; y</description></item>
            <item><title a="1>2">two</title><item>nested</item></item>
            <dc:creator/></channel></rss>"#;
        let split = split(text, FEED_ENTRIES);
        assert_eq!(split.root.as_ref().unwrap().name, "rss");
        let markup: Vec<&str> = split.entries.iter().map(|e| e.markup.as_str()).collect();
        assert_eq!(
            markup,
            vec![
                "<item><title><![CDATA[a </item> b]]></title><description>x &gt; y</description></item>",
                "<item><title a=\"1>2\">two</title><item>nested</item></item>",
            ]
        );
        assert!(split.entries.iter().all(|e| !e.cut));
    }

    #[test]
    fn a_document_cut_mid_entry_keeps_what_came_before_and_closes_the_rest() {
        let whole =
            "<rss><channel><item><title>one</title></item><item><title>two</title><link>https://e.fr/2</link><description><![CDATA[cut her";
        let split = split(whole, FEED_ENTRIES);
        assert_eq!(split.entries.len(), 2);
        assert!(!split.entries[0].cut && split.entries[1].cut);
        // The description the cut fell in is dropped; what came whole before it is kept.
        assert_eq!(
            split.entries[1].markup,
            "<item><title>two</title><link>https://e.fr/2</link></item>"
        );
        // Cut inside a start tag, and inside nested elements.
        let split = super::split("<feed><entry><title>t</title><link href=\"https://e", FEED_ENTRIES);
        assert_eq!(split.entries[0].markup, "<entry><title>t</title></entry>");
        let split = super::split("<urlset><url><loc>/a</loc><news:news><news:title>Ab", &["url"]);
        assert_eq!(split.entries[0].markup, "<url><loc>/a</loc><news:news></news:news></url>");
    }

    #[test]
    fn wrappers_keep_the_prefixed_namespaces() {
        let root = Root {
            name: "RDF".into(),
            attributes: r#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/""#.into(),
        };
        let item = whole("<item/>".into(), "item");
        assert_eq!(
            wrap(Some(&root), &item),
            r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title></title><item/></channel></rss>"#
        );
        let atom = Root {
            name: "feed".into(),
            attributes: r#" xmlns="http://www.w3.org/2005/Atom" xml:lang="fr""#.into(),
        };
        let e = whole("<entry/>".into(), "entry");
        assert_eq!(
            wrap(Some(&atom), &e),
            r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr"><entry/></feed>"#
        );
    }
}
