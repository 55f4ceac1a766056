//! Pages to articles with scraper: the main text as scoped blocks, outbound links, every
//! publication / modification date the page states, and what kind of page it is.
//!
//! The main containers are chosen by where the prose is (`content`, guided by JSON-LD's
//! `articleBody`). Inside them, chrome is skipped: navigation, header, footer, aside, forms,
//! scripts and styles, link lists, and anything whose class or id names a cookie banner,
//! sharing bar, related-links box or advert. Blockquotes and `<pre>` keep their own scopes so
//! a rule can treat a quoted passage differently from the author's prose. A listing page (a
//! homepage, a section front: `teaser`, `class`) is read on its teasers besides: each item's
//! headline and standfirst in `teaser` blocks, with its links and the date it shows.
//!
//! This is a pure, synchronous function over a string: the scraper DOM is `!Send` and never
//! leaves it.

mod class;
mod content;
mod guide;
mod page_dates;
mod prescan;
mod teaser;

use crate::article::{Article, Link, PageClass, Teaser, TextBuilder, collapse_whitespace, normalize_url};
use crate::model::Scope;
use chrono_tz::Tz;
use content::{Furniture, Layout};
use ego_tree::NodeId;
use guide::Guide;
use rustc_hash::FxHashSet;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

/// Deeper nesting than this is refused before parsing: html5ever's cost grows roughly with
/// the square of the depth (60k nested divs take seconds), and no real article needs it.
pub const MAX_DEPTH: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("page nesting deeper than {MAX_DEPTH} elements; extraction skipped")]
    TooDeep,
}

/// An extracted page and the problems met on the way (kept, not fatal).
#[derive(Debug)]
pub struct Extracted {
    pub article: Article,
    pub problems: Vec<String>,
}

macro_rules! selector {
    ($s:expr) => {{
        static SEL: std::sync::LazyLock<scraper::Selector> =
            std::sync::LazyLock::new(|| scraper::Selector::parse($s).expect("static selector"));
        &*SEL
    }};
}
use selector;

pub fn extract(html: &str, base: &Url, tz: Option<Tz>) -> Result<Extracted, ExtractError> {
    let pre = prescan::prescan(html);
    if pre.depth > MAX_DEPTH {
        return Err(ExtractError::TooDeep);
    }
    let doc = Html::parse_document(&pre.html);
    let mut problems = Vec::new();
    let title = page_title(&doc);
    let json_ld = json_ld(&doc, &mut problems);
    let guide = json_ld.iter().filter_map(article_body).max_by_key(|b| b.len()).and_then(Guide::new);
    let body = doc.select(selector!("body")).next().unwrap_or_else(|| doc.root_element());
    let layout = Layout::analyse(body, guide.as_ref());

    let none = FxHashSet::default();
    let (out, links) = read_main(&doc, &layout, title.as_deref(), base, &none);
    let (text, blocks) = out.finish();
    let dates = page_dates::found(&doc, &json_ld, base, tz);
    let body_words = blocks
        .iter()
        .filter(|b| b.scope != Scope::Title)
        .map(|b| text[b.range.clone()].split_whitespace().count())
        .sum();
    let found = teaser::Teasers::find(body, base, &layout);
    let items: FxHashSet<NodeId> = found.items.iter().map(|t| t.node).collect();
    let kind = class::classify(
        &layout,
        &found,
        body_words,
        class::Texts {
            main: &text,
            outside_teasers: &|| read_main(&doc, &layout, None, base, &items).0.finish().0,
            visible: &|| visible_text(body, None, None, usize::MAX),
        },
        declares_article(&doc, &json_ld),
    );
    let mut article = Article {
        title,
        text,
        blocks,
        links,
        dates,
        kind,
        teasers: Vec::new(),
    };
    if article.kind.class == PageClass::Listing && class::enough_teasers(&layout, &found) {
        read_teasers(&doc, &layout, &found, &items, base, tz, &mut article);
    }
    Ok(Extracted { article, problems })
}

/// The page's title and the text of its main containers, leaving out the elements `skip`.
fn read_main(doc: &Html, layout: &Layout, title: Option<&str>, base: &Url, skip: &FxHashSet<NodeId>) -> (TextBuilder, Vec<Link>) {
    let mut walker = Walker {
        out: TextBuilder::default(),
        buf: String::new(),
        links: Vec::new(),
        base,
        title,
        layout,
        skip,
    };
    if let Some(t) = title {
        walker.out.push(Scope::Title, t);
    }
    for part in &layout.parts {
        let el = doc.tree.get(*part).and_then(ElementRef::wrap).expect("parts are elements");
        // A main container that is (or lies in) a left-out element is left out whole.
        if !skip.is_empty() && el.ancestors().map(|a| a.id()).chain([el.id()]).any(|id| skip.contains(&id)) {
            continue;
        }
        walker.walk(el, Scope::Body);
        walker.flush(Scope::Body);
    }
    (walker.out, walker.links)
}

/// A listing page's text: its title, what its main containers say outside the teasers (a
/// section's introduction), then each teaser — its headline, then what is written beside it —
/// in `teaser` blocks, with the links it holds and the date it shows.
fn read_teasers(
    doc: &Html,
    layout: &Layout,
    found: &teaser::Teasers,
    skip: &FxHashSet<NodeId>,
    base: &Url,
    tz: Option<Tz>,
    article: &mut Article,
) {
    let (out, links) = read_main(doc, layout, article.title.as_deref(), base, skip);
    let mut walker = Walker {
        out,
        buf: String::new(),
        links,
        base,
        title: None,
        layout,
        skip,
    };
    let order = page_dates::slash_order(doc);
    for t in &found.items {
        let item = doc.tree.get(t.node).and_then(ElementRef::wrap).expect("teasers are elements");
        let link = doc.tree.get(t.link).and_then(ElementRef::wrap).expect("teaser links are elements");
        let mut held: Vec<&scraper::node::Element> = vec![item.value()];
        let headline = walker
            .out
            .push(Scope::Teaser, &teaser::read_item(link, None, &mut |e| held.push(e)));
        let beside = match t.node != t.link {
            true => {
                let beside = walker
                    .out
                    .push(Scope::Teaser, &teaser::read_item(item, Some(t.link), &mut |e| held.push(e)));
                held.push(link.value());
                beside
            }
            false => None,
        };
        for e in held {
            walker.collect_link(e, Scope::Teaser);
        }
        // A headline reads as one, so it has text; an item without is no teaser.
        let Some(headline) = headline else { continue };
        article.teasers.push(Teaser {
            range: headline.start..beside.map_or(headline.end, |b| b.end),
            url: t.url.clone(),
            date: page_dates::of_teaser(item, t.link, order, tz),
        });
    }
    (article.text, article.blocks) = walker.out.finish();
    article.links = walker.links;
}

/// The text a reader would see under `root`, unfiltered by the article choice, from the
/// element `from` on (the whole of `root` without it) up to where the element `until` opens,
/// stopping once past `limit` bytes. One walk over the tree: never-text elements (scripts,
/// styles…) are skipped whole.
fn visible_text(root: ElementRef, from: Option<ego_tree::NodeId>, until: Option<ego_tree::NodeId>, limit: usize) -> String {
    use ego_tree::iter::Edge;
    let mut out = String::new();
    let mut started = from.is_none();
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) if Some(node.id()) == until => break,
            Edge::Open(node) => {
                started |= Some(node.id()) == from;
                match node.value() {
                    Node::Element(e) if skipping.is_none() && content::SKIP.contains(&e.name()) => skipping = Some(node.id()),
                    Node::Text(t) if started && skipping.is_none() => {
                        out.push_str(t);
                        out.push(' ');
                        if out.len() > limit {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) if skipping == Some(node.id()) => skipping = None,
            Edge::Close(_) => {}
        }
    }
    out
}

/// Whether the page's own metadata calls it an article (`og:type`, JSON-LD `@type`).
fn declares_article(doc: &Html, json_ld: &[serde_json::Value]) -> bool {
    fn typed(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Array(items) => items.iter().any(typed),
            serde_json::Value::Object(map) => {
                let is = |t: &serde_json::Value| {
                    t.as_str()
                        .is_some_and(|t| t.ends_with("Article") || t == "BlogPosting" || t == "Report")
                };
                map.get("@type")
                    .is_some_and(|t| is(t) || t.as_array().is_some_and(|a| a.iter().any(is)))
                    || map.get("@graph").is_some_and(typed)
            }
            _ => false,
        }
    }
    json_ld.iter().any(typed)
        || doc
            .select(selector!("meta[property='og:type']"))
            .any(|m| m.value().attr("content").is_some_and(|c| c.trim().eq_ignore_ascii_case("article")))
}

/// Every JSON-LD block of the page, parsed once (dates and the article body come from them).
fn json_ld(doc: &Html, problems: &mut Vec<String>) -> Vec<serde_json::Value> {
    let mut blocks = Vec::new();
    for script in doc.select(selector!("script[type='application/ld+json']")) {
        let body = script.text().collect::<String>();
        match serde_json::from_str::<serde_json::Value>(body.trim()) {
            Ok(v) => blocks.push(v),
            Err(e) => problems.push(format!("invalid JSON-LD block: {e}")),
        }
    }
    blocks
}

/// The longest `articleBody` anywhere in a JSON-LD block (objects, arrays, `@graph`).
fn article_body(v: &serde_json::Value) -> Option<&str> {
    match v {
        serde_json::Value::Array(items) => items.iter().filter_map(article_body).max_by_key(|b| b.len()),
        serde_json::Value::Object(map) => {
            let own = map.get("articleBody").and_then(|b| b.as_str());
            own.into_iter()
                .chain(map.values().filter(|v| v.is_object() || v.is_array()).filter_map(article_body))
                .max_by_key(|b| b.len())
        }
        _ => None,
    }
}

fn page_title(doc: &Html) -> Option<String> {
    let meta = |sel: &Selector| {
        doc.select(sel)
            .next()
            .and_then(|e| e.value().attr("content"))
            .map(collapse_whitespace)
            .filter(|s| !s.is_empty())
    };
    let text = |sel: &Selector| {
        doc.select(sel)
            .next()
            .map(|e| collapse_whitespace(&e.text().collect::<String>()))
            .filter(|s| !s.is_empty())
    };
    text(selector!("article h1"))
        .or_else(|| meta(selector!("meta[property='og:title']")))
        .or_else(|| text(selector!("h1")))
        .or_else(|| text(selector!("title")))
}

struct Walker<'a> {
    out: TextBuilder,
    buf: String,
    links: Vec<Link>,
    base: &'a Url,
    title: Option<&'a str>,
    layout: &'a Layout,
    /// Elements left out (a listing's teasers, read apart).
    skip: &'a FxHashSet<NodeId>,
}

/// Whether an element stands on lines of its own (a block, a quotation, a line break), as
/// the walker reads it; anything else flows within the line.
fn breaks_line(name: &str) -> bool {
    BLOCKS.contains(&name) || matches!(name, "br" | "blockquote" | "pre" | "body")
}

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "tr",
    "td",
    "th",
    "figure",
    "figcaption",
    "hr",
    "article",
    "main",
    "center",
    "address",
    "details",
    "summary",
];
/// Page structure around an article, skipped inside the chosen containers too (beside
/// [`content::SKIP`], what is never text at all).
const CHROME_TAGS: &[&str] = &["nav", "header", "footer", "aside", "form", "menu", "dialog"];

impl Walker<'_> {
    fn flush(&mut self, scope: Scope) {
        if !self.buf.trim().is_empty() {
            let text = std::mem::take(&mut self.buf);
            // The page's H1 is already the title block.
            if scope == Scope::Body && self.title.is_some_and(|t| text.split_whitespace().eq(t.split_whitespace())) {
                return;
            }
            if scope == Scope::Body && is_furniture_label(&text) {
                return;
            }
            self.out.push(scope, &text);
        }
        self.buf.clear();
    }

    fn walk(&mut self, el: ElementRef, scope: Scope) {
        for child in el.children() {
            match child.value() {
                Node::Text(t) => self.buf.push_str(t),
                Node::Element(e) => {
                    let Some(child_el) = ElementRef::wrap(child) else { continue };
                    let name = e.name();
                    if !self.shown(child_el) {
                        continue;
                    }
                    // No text in these, but a frame or an object shows what it embeds: a leaked
                    // document embedded from the dump is published as surely as one linked.
                    if content::SKIP.contains(&name) {
                        self.collect_link(e, scope);
                        continue;
                    }
                    match self.layout.furniture(child_el) {
                        Some(Furniture::Chrome) => continue,
                        // A block made of links is no prose, but the page still links what it
                        // lists ("the full set can be read here: <link>"), in the scope the
                        // block would have been read in.
                        Some(Furniture::Links) => {
                            self.collect_links_within(child_el, scope_within(child_el, scope));
                            continue;
                        }
                        None => {}
                    }
                    self.collect_link(e, scope);
                    match name {
                        // A line break inside a paragraph is whitespace: passages re-wrapped
                        // with `<br>` must still match as one run of text.
                        "br" => self.buf.push('\n'),
                        "pre" => {
                            self.flush(scope);
                            self.buf.push_str(&child_el.text().collect::<String>());
                            self.flush(Scope::Pre);
                        }
                        _ => {
                            // A quotation or a caption is read in its own scope, on lines of its
                            // own as a block is.
                            let inner = scope_within(child_el, scope);
                            if inner != scope || name == "blockquote" || BLOCKS.contains(&name) {
                                self.flush(scope);
                                self.walk(child_el, inner);
                                self.flush(inner);
                            } else {
                                // Inline markup renders without spaces: `<b>W</b>hile` is one word.
                                self.walk(child_el, scope);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Whether an element inside the chosen containers is something the page shows as its
    /// own: not site structure, not read apart (a teaser), not hidden, not comments or a
    /// sidebar by name.
    fn shown(&self, el: ElementRef) -> bool {
        let e = el.value();
        !(CHROME_TAGS.contains(&e.name()) || self.skip.contains(&el.id()) || is_hidden(e) || content::unlikely(el).is_some())
    }

    /// The links of a block whose text is not read: every one it shows, what
    /// [`Walker::walk`] would leave out (hidden parts, nested chrome) left out here too.
    fn collect_links_within(&mut self, el: ElementRef, within: Scope) {
        for child in el.children() {
            let Some(child_el) = ElementRef::wrap(child) else { continue };
            if !self.shown(child_el) || self.layout.furniture(child_el) == Some(Furniture::Chrome) {
                continue;
            }
            let within = scope_within(child_el, within);
            self.collect_link(child_el.value(), within);
            self.collect_links_within(child_el, within);
        }
    }

    fn collect_link(&mut self, e: &scraper::node::Element, within: Scope) {
        // Not a script's source: scripts are the site's machinery (analytics, adverts,
        // players), and reading them as links would set every page's trackers beside its
        // article. A paste site's embed script showing a document is left out with them: a
        // known limit.
        let attr = match e.name() {
            "a" | "area" => "href",
            "iframe" | "embed" | "img" | "source" | "video" | "audio" => "src",
            "object" => "data",
            _ => return,
        };
        let Some(href) = e.attr(attr) else { return };
        if let Ok(url) = self.base.join(href.trim())
            && matches!(url.scheme(), "http" | "https" | "file")
        {
            self.links.push(Link {
                url: normalize_url(&url),
                within,
            });
        }
    }
}

/// The scope an element's text and links are read in inside `scope`: a quotation is quoted,
/// a figure or caption is a caption. One decision for [`Walker::walk`] and the links of blocks
/// whose text is not read.
fn scope_within(el: ElementRef, scope: Scope) -> Scope {
    match el.value().name() {
        "blockquote" => Scope::Quote,
        _ if scope != Scope::Caption && is_caption(el) => Scope::Caption,
        _ => scope,
    }
}

/// Labels that page furniture leaves between paragraphs: advert slots, gallery counters
/// (`1 / 4`), buttons rendered as text. Too short to carry a quotation, so nothing a rule
/// looks for is lost with them.
fn is_furniture_label(block: &str) -> bool {
    const LABELS: &[&str] = &[
        "advertisement",
        "advert",
        "ad",
        "sponsored",
        "anzeige",
        "werbung",
        "publicité",
        "publicidad",
        "pubblicità",
        "caption",
        "close",
        "comments",
        "subscribe",
        "share",
        "share this",
        "read more",
        "lire aussi",
        "lire plus",
        "mehr zum thema",
        "leer más",
        "leggi anche",
        "back to gallery",
        "skip advert",
        "continue reading",
    ];
    let label = block.trim().trim_end_matches([':', '.', '…']).trim().to_lowercase();
    if label.len() > 24 {
        return false;
    }
    let counter = label.split('/').map(str::trim).collect::<Vec<_>>();
    LABELS.contains(&label.as_str())
        || (counter.len() == 2 && counter.iter().all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())))
}

/// Figures, their captions and photo credits.
fn is_caption(el: ElementRef) -> bool {
    let e = el.value();
    if matches!(e.name(), "figure" | "figcaption") {
        return true;
    }
    let named = [e.attr("class"), e.attr("id")].into_iter().flatten().any(|n| {
        n.as_bytes()
            .windows(6)
            .any(|w| w.eq_ignore_ascii_case(b"captio") || w.eq_ignore_ascii_case(b"credit"))
    });
    named && BLOCKS.contains(&e.name())
}

fn is_hidden(e: &scraper::node::Element) -> bool {
    e.attr("hidden").is_some() || e.attr("aria-hidden") == Some("true")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::Provenance;

    const PAGE: &str = r#"<!doctype html><html><head><title>Site | Titre</title>
<meta property="article:published_time" content="2017-05-06T10:00:00+02:00">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"NewsArticle","datePublished":"2017-05-06T09:00:00+02:00","dateModified":"2017-05-06T23:00:00+02:00"}]}</script>
</head><body><div class="cookie-banner">Nous utilisons des cookies</div><header><nav><a href="/">Accueil</a></nav></header>
<article><h1>Le titre</h1><p>Premier <b>paragraphe</b>.</p><blockquote><p>Une citation <a href="https://archive.org/details/EMLEAKS/x.eml?utm_source=a">lien</a></p></blockquote>
<pre>  code
  ici</pre><aside class="related"><a href="/autre">Autre</a></aside><p>Fin.</p><time datetime="2017-05-06">6 mai</time></article>
<footer>Mentions légales</footer></body></html>"#;

    #[test]
    fn scopes_links_and_chrome() {
        let x = extract(
            PAGE,
            &Url::parse("https://www.example.fr/a.html").unwrap(),
            Some(chrono_tz::Europe::Paris),
        )
        .unwrap();
        let a = &x.article;
        let scoped: Vec<(Scope, &str)> = a.blocks.iter().map(|b| (b.scope, &a.text[b.range.clone()])).collect();
        assert_eq!(
            scoped,
            vec![
                (Scope::Title, "Le titre"),
                (Scope::Body, "Premier paragraphe."),
                (Scope::Quote, "Une citation lien"),
                (Scope::Pre, "  code\n  ici"),
                (Scope::Body, "Fin."),
                (Scope::Body, "6 mai")
            ]
        );
        assert!(!a.text.contains("cookies") && !a.text.contains("Accueil") && !a.text.contains("Autre") && !a.text.contains("Mentions"));
        assert_eq!(a.links.len(), 1);
        assert_eq!(
            (a.links[0].url.as_str(), a.links[0].within),
            ("https://archive.org/details/EMLEAKS/x.eml", Scope::Quote)
        );
        let provs: Vec<Provenance> = a.dates.iter().map(|d| d.provenance).collect();
        assert_eq!(
            provs,
            vec![
                Provenance::JsonLdPublished,
                Provenance::JsonLdModified,
                Provenance::MetaPublished,
                Provenance::TimeElement
            ]
        );
    }

    #[test]
    fn common_meta_names_for_the_publication_date() {
        for name in [
            "date",
            "dc.date",
            "DC.date.issued",
            "dcterms.date",
            "parsely-pub-date",
            "sailthru.date",
            "citation_publication_date",
        ] {
            let html =
                format!("<html><head><meta name=\"{name}\" content=\"2017-05-06T11:30:00+02:00\"></head><body><p>x</p></body></html>");
            let x = extract(&html, &Url::parse("https://www.example.fr/").unwrap(), None).unwrap();
            let provs: Vec<Provenance> = x.article.dates.iter().map(|d| d.provenance).collect();
            assert_eq!(provs, vec![Provenance::MetaPublished], "{name}");
        }
        let x = extract(
            "<html><head><meta name=\"description\" content=\"2017-05-06\"></head><body></body></html>",
            &Url::parse("https://www.example.fr/").unwrap(),
            None,
        )
        .unwrap();
        assert!(x.article.dates.is_empty(), "other meta names are not dates");
    }

    #[test]
    fn meta_names_of_a_publishers_coining_that_date_the_publication() {
        let dates = |metas: &str| {
            let html = format!("<html><head>{metas}</head><body><p>x</p></body></html>");
            let x = extract(&html, &Url::parse("https://www.example.fr/").unwrap(), None).unwrap();
            x.article.dates.iter().map(|d| (d.provenance, d.raw.clone())).collect::<Vec<_>>()
        };
        let coined = |raw: &str| vec![(Provenance::MetaCoined, raw.to_string())];
        assert_eq!(dates(r#"<meta name="published" content="July 17, 2025">"#), coined("July 17, 2025"));
        assert_eq!(
            dates(r#"<meta name="w-published-date" content="2025-05-27T06:03:43Z">"#),
            coined("2025-05-27T06:03:43Z")
        );
        // Names that only look the part, another moment, a change (a site-wide stamp could be
        // one), and less than a day: none is read.
        for metas in [
            r#"<meta name="publisher" content="2019-01-01">"#,
            r#"<meta name="publish-end-date" content="2025-07-20">"#,
            r#"<meta name="w-last-updated" content="2025-07-20">"#,
            r#"<meta name="published" content="2019">"#,
        ] {
            assert!(dates(metas).is_empty(), "{metas}");
        }
        // A known name comes first: the coined one beside it is not read, unless the known one
        // holds no date.
        assert_eq!(
            dates(r#"<meta name="published-time" content="2026-03-09T08:45:32Z"><meta name="publish-date" content="2021-02-16">"#),
            vec![(Provenance::MetaPublished, "2021-02-16".to_string())]
        );
        let empty_known = dates(r#"<meta name="date" content=""><meta name="published" content="2025-07-17">"#);
        assert_eq!(empty_known.last(), Some(&(Provenance::MetaCoined, "2025-07-17".to_string())));
    }

    #[test]
    fn furniture_labels_between_paragraphs_are_dropped() {
        let x = extract(
            "<article><p>Premier paragraphe.</p><div>Advertisement</div><p>1 / 4</p><p>Lire aussi :</p><p>Second paragraphe.</p>\
             <p>Ad hoc, the committee met.</p></article>",
            &Url::parse("file:///x").unwrap(),
            None,
        )
        .unwrap();
        assert_eq!(
            x.article.text,
            "Premier paragraphe.\n\nSecond paragraphe.\n\nAd hoc, the committee met."
        );
    }

    #[test]
    fn embedded_frames_and_link_only_paragraphs_keep_their_links() {
        let page = r#"<html><body><article><h1>Des documents en ligne</h1>
<p>Des milliers de documents présentés comme issus de la campagne ont été diffusés vendredi soir sur les réseaux sociaux.</p>
<p>Le tout est ici : <a href="https://leakdump.example.net/files/C05778263.eml">leakdump.example.net/files/C05778263.eml</a>.</p>
<figure><iframe src="https://pastebin.com/raw/C05792917"></iframe><figcaption>Pièce jointe</figcaption></figure>
<div class="share"><a href="https://facebook.com/sharer?u=x">Partager sur Facebook</a></div>
<div class="most-read"><a href="https://www.example.fr/autre">Le plus lu du jour sur le site</a></div>
<ul><li><a href="https://archive.org/details/EMLEAKS/liste.txt">La liste</a></li><li hidden><a href="https://www.example.fr/cache">Caché</a></li>
<li><div class="share-buttons"><a href="https://twitter.com/intent/tweet">Tweeter</a></div></li></ul>
<figure><img src="https://www.example.fr/photo.jpg"><figcaption><a href="https://www.example.fr/credits">Crédits photo</a></figcaption></figure>
<div><a href="https://www.example.fr/dossier">Le dossier</a><blockquote><a href="https://archive.org/details/EMLEAKS/cite.eml">archive.org/details/EMLEAKS/cite.eml</a></blockquote></div>
<script src="https://cdn.example.net/app.js"></script>
<p>La commission a demandé aux médias de ne pas relayer le contenu de ces documents, dont une partie pourrait être fausse.</p>
</article></body></html>"#;
        let x = extract(page, &Url::parse("https://www.example.fr/a.html").unwrap(), None).unwrap();
        let a = &x.article;
        let links: Vec<(&str, Scope)> = a.links.iter().map(|l| (l.url.as_str(), l.within)).collect();
        assert_eq!(
            links,
            vec![
                ("https://leakdump.example.net/files/C05778263.eml", Scope::Body),
                // A figure is read as a caption, the frame in it too.
                ("https://pastebin.com/raw/C05792917", Scope::Caption),
                // A list of links is no prose: its shown links are kept, not a hidden one, not
                // a share bar inside it.
                ("https://archive.org/details/EMLEAKS/liste.txt", Scope::Body),
                ("https://www.example.fr/photo.jpg", Scope::Caption),
                ("https://www.example.fr/credits", Scope::Caption),
                // A quotation in a block of links: its link is quoted, as its text would be.
                ("https://www.example.fr/dossier", Scope::Body),
                ("https://archive.org/details/EMLEAKS/cite.eml", Scope::Quote),
            ]
        );
        // The link paragraph is still no prose; the share bar and the "most read" box, chrome
        // by name, hold no link of the article.
        assert!(!a.text.contains("Le tout est ici"), "{}", a.text);
    }

    #[test]
    fn line_breaks_do_not_split_a_paragraph() {
        let x = extract(
            "<article><p>un passage<br>secret<br/>ici</p></article>",
            &Url::parse("file:///x").unwrap(),
            None,
        )
        .unwrap();
        assert_eq!(x.article.text, "un passage secret ici");
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let html = "<div>".repeat(MAX_DEPTH + 10);
        assert!(matches!(
            extract(&html, &Url::parse("file:///x").unwrap(), None),
            Err(ExtractError::TooDeep)
        ));
    }
}
