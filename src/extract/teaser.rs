//! The teasers of a page: the repeated items a homepage or section front is made of, each a
//! headline linking to another page, with what is written beside it (a standfirst,
//! a section label, a time).
//!
//! A teaser is found from its link, not from class names: a link whose text reads as a headline
//! (three words or more, 15 to 300 characters), outside the page's navigation and footer, to
//! another page. Its item is the largest element around the link that holds no other such
//! link (an image link and a title link to the same page are one item) and is not much more
//! than a headline and a standfirst. What a page is made of then shows in numbers: how many
//! teasers, how much of its text they hold, how much prose lies outside them — a listing's
//! teasers are most of it; an article's related-links box is a small part beside its prose.

use super::content::{Layout, SKIP};
use crate::article::collapse_whitespace;
use ego_tree::NodeId;
use rustc_hash::{FxHashMap, FxHashSet};
use scraper::{ElementRef, Node};
use url::Url;

/// A headline reads as one: at least this many words…
const HEADLINE_WORDS: usize = 3;
/// …and this many visible characters (a menu entry or "Read more" is shorter), at most the
/// second (a longer link is a paragraph that happens to be linked).
const HEADLINE_CHARS: std::ops::RangeInclusive<usize> = 15..=300;
/// The fewest characters other than spaces the shortest headline has (15 characters, 3 words).
const HEADLINE_VISIBLE: usize = 12;
/// An item is a headline and what is written beside it: at most this many characters, or
/// this many times its headline's, whichever is larger.
const ITEM_CHARS: u32 = 600;
const ITEM_TIMES_HEADLINE: u32 = 6;

/// One teaser: the element holding the item, and its headline link.
#[derive(Debug, Clone)]
pub struct Teaser {
    pub node: NodeId,
    pub link: NodeId,
    pub url: Url,
}

/// The teasers of a page, in document order, and what they tell of its make-up.
#[derive(Debug, Default)]
pub struct Teasers {
    pub items: Vec<Teaser>,
    /// Visible characters inside the items.
    pub text: u32,
    /// Characters of prose paragraphs outside every item (the article, on an article page).
    pub prose_outside: u32,
    /// Characters of the chosen main containers outside every item.
    pub main_outside: u32,
}

/// Which headline links an element holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    One(usize),
    Many,
}

struct Finder<'a> {
    /// The page's own address, without its fragment: a link to it is no teaser.
    page: Url,
    base: &'a Url,
    layout: &'a Layout,
    /// Distinct headline addresses, in the order first met, and their indexes.
    urls: Vec<Url>,
    known: FxHashMap<Url, usize>,
    /// Headline links: the `<a>`, the index of its address, its length in characters.
    links: Vec<(NodeId, usize, u32)>,
    holds: FxHashMap<NodeId, Holds>,
}

impl Teasers {
    pub fn find(body: ElementRef, base: &Url, layout: &Layout) -> Teasers {
        let mut f = Finder {
            page: without_fragment(base),
            base,
            layout,
            urls: Vec::new(),
            known: FxHashMap::default(),
            links: Vec::new(),
            holds: FxHashMap::default(),
        };
        f.visit(body);
        let tree = body.tree();
        let mut items: Vec<Teaser> = Vec::new();
        let mut nodes: FxHashSet<NodeId> = FxHashSet::default();
        for &(link, url, chars) in &f.links {
            let limit = ITEM_CHARS.max(ITEM_TIMES_HEADLINE * chars);
            let mut node = link;
            let mut up = tree.get(link).and_then(|n| n.parent());
            while let Some(parent) = up.filter(|p| p.id() != body.id()) {
                if f.holds.get(&parent.id()) != Some(&Holds::One(url)) || layout.measure(parent.id()).text > limit {
                    break;
                }
                node = parent.id();
                up = parent.parent();
            }
            // The image link and the title link of one item climb to the same element.
            if nodes.insert(node) {
                items.push(Teaser {
                    node,
                    link,
                    url: f.urls[url].clone(),
                });
            }
        }
        // The closest element of `set` around a node (itself included when `own`), if any.
        let closest = |set: &FxHashSet<NodeId>, id: NodeId, own: bool| {
            let mut n = tree.get(id);
            if !own {
                n = n.and_then(|n| n.parent());
            }
            while let Some(node) = n {
                if set.contains(&node.id()) {
                    return Some(node.id());
                }
                n = node.parent();
            }
            None
        };
        // Two links to one page with different reaches can make an item inside another: the
        // outer one holds it.
        items.retain(|t| closest(&nodes, t.node, false).is_none());
        let nodes: FxHashSet<NodeId> = items.iter().map(|t| t.node).collect();
        let inside_an_item = |id: NodeId| closest(&nodes, id, true).is_some();
        let text = items.iter().map(|t| layout.measure(t.node).text).sum();
        let prose_outside = layout
            .paragraph_nodes()
            .iter()
            .filter(|(p, _)| !inside_an_item(*p))
            .map(|(_, chars)| chars)
            .sum();
        // Each item's text counts against the main container it lies in; a container that lies
        // in an item has nothing outside it.
        let parts: FxHashSet<NodeId> = layout.parts.iter().copied().collect();
        let mut held: FxHashMap<NodeId, u32> = FxHashMap::default();
        for t in &items {
            if let Some(part) = closest(&parts, t.node, true) {
                *held.entry(part).or_default() += layout.measure(t.node).text;
            }
        }
        let main_outside = layout
            .parts
            .iter()
            .filter(|part| !inside_an_item(**part))
            .map(|part| layout.measure(*part).text.saturating_sub(held.get(part).copied().unwrap_or(0)))
            .sum();
        Teasers {
            items,
            text,
            prose_outside,
            main_outside,
        }
    }
}

impl Finder<'_> {
    /// Records the headline links under `el` and returns which it holds.
    fn visit(&mut self, el: ElementRef) -> Option<Holds> {
        let e = el.value();
        let name = e.name();
        if SKIP.contains(&name) || super::is_hidden(e) || is_navigation(e) {
            return None;
        }
        if name == "a" {
            return self.headline(el).map(Holds::One);
        }
        let mut holds = None;
        for child in el.children().filter_map(ElementRef::wrap) {
            holds = match (holds, self.visit(child)) {
                (h, None) => h,
                (None, c) => c,
                (Some(Holds::One(a)), Some(Holds::One(b))) if a == b => Some(Holds::One(a)),
                _ => Some(Holds::Many),
            };
        }
        if let Some(h) = holds {
            self.holds.insert(el.id(), h);
        }
        holds
    }

    /// The index of a link's address, when its text reads as a headline to another page.
    fn headline(&mut self, a: ElementRef) -> Option<usize> {
        // The cheap tests first, on the measures the layout already took: most links are menu
        // entries, too short to read as a headline, and most pages hold hundreds of them.
        let own = self.layout.measure(a.id()).text as usize;
        if own < HEADLINE_VISIBLE || own > *HEADLINE_CHARS.end() {
            return None;
        }
        // A headline stands on its own line: the link is most of its block's text (or holds
        // the block), or the block is a row of links. A link inside a sentence is a
        // reference, not a teaser.
        let block = a
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|e| super::breaks_line(e.value().name()))
            .map(|b| self.layout.measure(b.id()));
        if block.is_some_and(|b| own * 2 < b.text as usize && b.links * 5 < b.text * 4) {
            return None;
        }
        let href = a.value().attr("href")?.trim();
        let mut url = self.base.join(href).ok()?;
        url.set_fragment(None);
        // A link to the site's root is its logo or its "home" entry, never an item (`/?p=123`,
        // a plain permalink, is an item).
        if !matches!(url.scheme(), "http" | "https" | "file") || url == self.page || (url.path() == "/" && url.query().is_none()) {
            return None;
        }
        let text = read_item(a, None, &mut |_| {});
        let chars = text.chars().count();
        if !HEADLINE_CHARS.contains(&chars) || text.split(' ').count() < HEADLINE_WORDS {
            return None;
        }
        let index = *self.known.entry(url).or_insert_with_key(|url| {
            self.urls.push(url.clone());
            self.urls.len() - 1
        });
        self.links.push((a.id(), index, chars as u32));
        self.holds.insert(a.id(), Holds::One(index));
        Some(index)
    }
}

/// The text a reader sees in an element, whitespace collapsed, leaving out never-text elements
/// (an icon's `<svg>`, scripts), hidden ones and the element `except` (a teaser's headline);
/// `element` is shown every element read (to collect the links and embeds it holds). Words
/// split by inline markup stay whole (`Macron<em>Leaks</em>`); blocks and line breaks separate.
pub fn read_item<'a>(el: ElementRef<'a>, except: Option<NodeId>, element: &mut dyn FnMut(&'a scraper::node::Element)) -> String {
    fn push<'a>(el: ElementRef<'a>, except: Option<NodeId>, element: &mut dyn FnMut(&'a scraper::node::Element), out: &mut String) {
        for child in el.children() {
            match child.value() {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) if !SKIP.contains(&e.name()) && !super::is_hidden(e) && Some(child.id()) != except => {
                    element(e);
                    let block = super::breaks_line(e.name());
                    if block {
                        out.push(' ');
                    }
                    if let Some(c) = ElementRef::wrap(child) {
                        push(c, except, element, out);
                    }
                    if block {
                        out.push(' ');
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = String::new();
    push(el, except, element, &mut out);
    collapse_whitespace(&out)
}

fn without_fragment(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    u
}

/// The site's menus and footer: their links are the site's sections and fine print, never
/// teasers.
fn is_navigation(e: &scraper::node::Element) -> bool {
    matches!(e.name(), "nav" | "footer" | "menu")
        || e.attr("role")
            .is_some_and(|r| matches!(r, "navigation" | "contentinfo" | "menubar"))
}

#[cfg(test)]
mod tests {
    use crate::article::PageClass;
    use url::Url;

    fn read(html: &str) -> crate::article::Article {
        super::super::extract(html, &Url::parse("https://www.example.fr/politique/").unwrap(), None)
            .unwrap()
            .article
    }

    /// The teasers the finder sees on a page, whatever the page's class.
    fn teasers(html: &str) -> super::Teasers {
        let doc = scraper::Html::parse_document(html);
        let body = doc.select(&scraper::Selector::parse("body").unwrap()).next().unwrap();
        let layout = super::Layout::analyse(body, None);
        super::Teasers::find(body, &Url::parse("https://www.example.fr/politique/").unwrap(), &layout)
    }

    fn card(i: usize, standfirst: &str) -> String {
        format!(
            "<div class=card><a href=/a{i}.html><img src=/i{i}.jpg></a><h3><a href=/a{i}.html>Titre numéro {i} de notre rubrique politique</a></h3>\
             <p>{standfirst}</p></div>"
        )
    }

    #[test]
    fn each_card_is_one_teaser_with_its_standfirst_and_the_menu_is_none() {
        let cards: String = (0..9).map(|i| card(i, "Un chapeau de deux lignes qui résume l'article.")).collect();
        let html = format!(
            "<html><body><nav><a href=/monde/>Toute l'actualité du monde entier</a></nav><h1>Politique</h1>{cards}\
             <footer><a href=/cgu>Conditions générales d'utilisation du site</a></footer></body></html>"
        );
        let a = read(&html);
        assert_eq!(a.kind.class, PageClass::Listing);
        assert_eq!(a.teasers.len(), 9);
        let first = &a.text[a.teasers[0].range.clone()];
        assert_eq!(
            first,
            "Titre numéro 0 de notre rubrique politique\n\nUn chapeau de deux lignes qui résume l'article."
        );
        assert_eq!(a.teasers[8].url.as_str(), "https://www.example.fr/a8.html");
        assert!(!a.text.contains("monde entier") && !a.text.contains("Conditions"));
    }

    #[test]
    fn a_teaser_reads_as_shown_its_words_whole_and_only_what_is_shown() {
        // Bare links in a row: each link is its own item, its headline read once.
        let row: String = (0..9)
            .map(|i| format!("<a href=/b{i}.html>Le titre de la brève numéro {i}</a> "))
            .collect();
        let a = read(&format!("<html><body><h1>Brèves</h1><div class=row>{row}</div></body></html>"));
        assert_eq!(a.kind.class, PageClass::Listing, "{:?}", a.kind);
        assert_eq!(&a.text[a.teasers[2].range.clone()], "Le titre de la brève numéro 2");
        // Inline markup does not split words; scripts, templates and hidden parts are not read
        // and their addresses are not the teaser's links.
        let cards: String = (0..9)
            .map(|i| {
                card(
                    i,
                    &format!(
                        "Les <em>Macron</em>Leaks, épisode {i}.<script src=https://tracker.example/t.js></script>\
                         <span hidden><a href=https://archive.org/details/EMLEAKS/x>caché</a></span>"
                    ),
                )
            })
            .collect();
        let a = read(&format!("<html><body><h1>Politique</h1>{cards}</body></html>"));
        assert!(a.text.contains("Les MacronLeaks, épisode 3."), "{}", a.text);
        assert!(!a.text.contains("caché"));
        assert!(
            a.links
                .iter()
                .all(|l| !l.url.as_str().contains("EMLEAKS") && !l.url.as_str().contains("tracker")),
            "{:?}",
            a.links
        );
    }

    #[test]
    fn links_inside_sentences_are_not_teasers() {
        // An article citing nine sources by linked phrases: references, not a listing.
        let paragraphs: String = (0..9)
            .map(|i| {
                format!(
                    "<p>Selon <a href=/source{i}>le rapport publié par la commission numéro {i}</a>, les chiffres de la participation \
                     sont en baisse, et les instituts de sondage hésitent sur la suite de la campagne électorale.</p>"
                )
            })
            .collect();
        let html = format!("<html><body><article><h1>Participation</h1>{paragraphs}</article></body></html>");
        assert_eq!(read(&html).kind.class, PageClass::Article);
        // Not only the class: the finder itself takes none of the nine for a teaser.
        assert!(teasers(&html).items.is_empty());
    }

    #[test]
    fn an_article_with_a_related_grid_stays_an_article() {
        let prose = "<p>Le candidat a tenu samedi un dernier meeting à Albi, devant trois mille personnes réunies sous la halle, \
            avant la fin de la campagne officielle, et il a promis de revenir dans le Tarn après le second tour.</p>"
            .repeat(6);
        let related: String = (0..12).map(|i| card(i, "À lire aussi.")).collect();
        let a = read(&format!(
            "<html><head><meta property=og:type content=article></head><body><article><h1>Meeting à Albi</h1>{prose}</article>\
             <section>{related}</section></body></html>"
        ));
        assert_eq!(a.kind.class, PageClass::Article);
        assert!(!a.text.contains("Titre numéro"), "an article's teasers are not read as its text");
        // A page made of teasers is a listing even when it calls itself an article (og:type on
        // every page of a site).
        let front: String = (0..12).map(|i| card(i, "Un chapeau qui résume l'article.")).collect();
        let a = read(&format!(
            "<html><head><meta property=og:type content=article></head><body><h1>Politique</h1>{front}</body></html>"
        ));
        assert_eq!(a.kind.class, PageClass::Listing);
        assert!(a.readable());
    }
}
