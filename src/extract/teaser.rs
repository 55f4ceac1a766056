//! The teasers of a page: the repeated items a homepage or section front is made of, each a
//! headline linking to another page of the site, with what is written beside it (a standfirst,
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
use rustc_hash::FxHashMap;
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
    base: &'a Url,
    layout: &'a Layout,
    /// Distinct headline addresses, in the order first met.
    urls: Vec<Url>,
    /// Headline links: the `<a>` and the index of its address.
    links: Vec<(NodeId, usize, u32)>,
    holds: FxHashMap<NodeId, Holds>,
}

impl Teasers {
    pub fn find(body: ElementRef, base: &Url, layout: &Layout) -> Teasers {
        let mut f = Finder {
            base,
            layout,
            urls: Vec::new(),
            links: Vec::new(),
            holds: FxHashMap::default(),
        };
        f.visit(body);
        let mut items: Vec<Teaser> = Vec::new();
        for &(link, url, chars) in &f.links {
            let limit = ITEM_CHARS.max(ITEM_TIMES_HEADLINE * chars);
            let mut node = link;
            let mut up = body.tree().get(link).and_then(|n| n.parent());
            while let Some(parent) = up.filter(|p| p.id() != body.id()) {
                if f.holds.get(&parent.id()) != Some(&Holds::One(url)) || layout.measure(parent.id()).text > limit {
                    break;
                }
                node = parent.id();
                up = parent.parent();
            }
            // The image link and the title link of one item climb to the same element.
            if !items.iter().any(|t| t.node == node) {
                items.push(Teaser {
                    node,
                    link,
                    url: f.urls[url].clone(),
                });
            }
        }
        let text = items.iter().map(|t| layout.measure(t.node).text).sum();
        let inside: rustc_hash::FxHashSet<NodeId> = items.iter().map(|t| t.node).collect();
        let prose_outside = layout
            .paragraph_nodes()
            .iter()
            .filter(|p| {
                let mut n = body.tree().get(**p);
                while let Some(node) = n {
                    if inside.contains(&node.id()) {
                        return false;
                    }
                    n = node.parent();
                }
                true
            })
            .map(|p| layout.measure(*p).text)
            .sum();
        let within = |id: NodeId, set: &dyn Fn(NodeId) -> bool| {
            let mut n = body.tree().get(id);
            while let Some(node) = n {
                if set(node.id()) {
                    return true;
                }
                n = node.parent();
            }
            false
        };
        let main_outside = layout
            .parts
            .iter()
            .map(|&part| {
                if within(part, &|n| inside.contains(&n)) {
                    return 0;
                }
                let held: u32 = items
                    .iter()
                    .filter(|t| within(t.node, &|n| n == part))
                    .map(|t| layout.measure(t.node).text)
                    .sum();
                layout.measure(part).text.saturating_sub(held)
            })
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
        // A headline stands on its own line: the link is its block's text (or holds the
        // block). A link inside a sentence is a reference, not a teaser.
        let block = a
            .ancestors()
            .filter_map(ElementRef::wrap)
            .find(|e| !INLINE.contains(&e.value().name()))
            .map_or(own, |b| self.layout.measure(b.id()).text as usize);
        if own * 2 < block {
            return None;
        }
        let href = a.value().attr("href")?.trim();
        let mut url = self.base.join(href).ok()?;
        url.set_fragment(None);
        if !matches!(url.scheme(), "http" | "https" | "file") || url.as_str() == without_fragment(self.base).as_str() {
            return None;
        }
        let text = visible_except(a, None);
        let chars = text.chars().count();
        if !HEADLINE_CHARS.contains(&chars) || text.split(' ').count() < HEADLINE_WORDS {
            return None;
        }
        let index = match self.urls.iter().position(|u| *u == url) {
            Some(i) => i,
            None => {
                self.urls.push(url);
                self.urls.len() - 1
            }
        };
        self.links.push((a.id(), index, chars as u32));
        self.holds.insert(a.id(), Holds::One(index));
        Some(index)
    }
}

/// The text a reader sees in an element (never-text elements such as an icon's `<svg>` left
/// out), without the element `except` (a teaser's headline), whitespace collapsed.
pub fn visible_except(el: ElementRef, except: Option<NodeId>) -> String {
    fn push(el: ElementRef, except: Option<NodeId>, out: &mut String) {
        for child in el.children() {
            match child.value() {
                Node::Text(t) => {
                    out.push_str(t);
                    out.push(' ');
                }
                Node::Element(e) if !SKIP.contains(&e.name()) && !super::is_hidden(e) && Some(child.id()) != except => {
                    if let Some(c) = ElementRef::wrap(child) {
                        push(c, except, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = String::new();
    push(el, except, &mut out);
    collapse_whitespace(&out)
}

/// Elements that flow within a line of text.
const INLINE: &[&str] = &[
    "span", "b", "strong", "i", "em", "u", "small", "font", "mark", "abbr", "cite", "q", "time", "sup", "sub", "bdi", "bdo", "label", "s",
];

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
        let a = read(&format!(
            "<html><body><article><h1>Participation</h1>{paragraphs}</article></body></html>"
        ));
        assert_eq!(a.kind.class, PageClass::Article);
        assert!(a.teasers.is_empty());
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
        assert!(a.teasers.is_empty(), "an article's teasers are not read as its text");
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
