//! Where the article's own text is in a page, and which parts of it are furniture.
//!
//! One post-order pass measures every element: its visible characters, the characters inside
//! links, and a content score. Each paragraph of real prose (at least 25 characters, mostly not
//! links) scores by its length and commas, and hands that score to its parent in full, its
//! grandparent in half and further ancestors in smaller shares, so the container that holds
//! most of the article's prose ends up with the highest score. Class and id names move the
//! score (`article-body` up, `comments` down), link density scales it down, and
//! `itemprop=articleBody` is trusted. Siblings of the winner that hold prose too (articles
//! split by advert slots) are kept beside it.
//!
//! The walker then prunes inside the chosen containers: blocks made mostly of links
//! (related-article lists, tag clouds, share bars) and blocks whose names say they are
//! chrome, unless they hold most of the text.

use super::guide::Guide;
use ego_tree::NodeId;
use rustc_hash::FxHashMap;
use scraper::{ElementRef, Node};
use std::sync::LazyLock;

/// The measures of one element, its descendants included.
#[derive(Debug, Clone, Copy, Default)]
pub struct Measure {
    /// Visible characters (whitespace excluded).
    pub text: u32,
    /// Of those, characters inside links.
    pub links: u32,
}

impl Measure {
    pub fn link_density(self) -> f32 {
        if self.text == 0 {
            0.0
        } else {
            self.links as f32 / self.text as f32
        }
    }
}

/// The outcome of the analysis: the containers holding the article, in document order.
pub struct Layout {
    measures: FxHashMap<NodeId, Measure>,
    pub parts: Vec<NodeId>,
    /// Characters in the chosen containers.
    pub main_text: u32,
    /// Paragraphs of prose in the chosen containers.
    pub paragraphs: u32,
    /// The whole page's measures (its `<body>`).
    pub page: Measure,
    /// Headings that are links (teasers of other articles), anywhere in the page.
    pub headline_links: u32,
    /// The paragraphs of prose anywhere in the page, in document order, with their own
    /// characters (a container's text written straight into it, not its children's).
    paragraphs_found: Vec<(NodeId, u32)>,
}

/// Elements whose content is never article text (and is not measured).
pub const SKIP: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "canvas", "head", "title", "button", "select", "textarea", "iframe", "object",
    "embed", "input", "option", "math",
];

impl Layout {
    pub fn analyse(body: ElementRef, guide: Option<&Guide>) -> Layout {
        let mut a = Analysis::default();
        a.visit(body, false);
        let Analysis {
            measures,
            scores,
            scored,
            suspect,
            headline_links,
            scored_chars,
            ..
        } = a;
        let page_text = measures.get(&body.id()).map_or(0, |m| m.text);
        let final_score = |id: NodeId, el: ElementRef, raw: f32| {
            let ld = measures.get(&id).copied().unwrap_or_default().link_density();
            let s = raw * (1.0 - ld) + weight(el);
            // Candidates in comments, or in furniture that is not most of the page (a
            // `has-sidebar` layout class on the page's main column), win only by a wide margin.
            let doubtful = suspect
                .get(&id)
                .is_some_and(|&(root, kind)| kind == Unlikely::Comments || measures.get(&root).map_or(0, |m| m.text) * 2 < page_text);
            if doubtful { s / 3.0 } else { s }
        };
        let element = |id: NodeId| body.tree().get(id).and_then(ElementRef::wrap);
        let mut ranked: Vec<(NodeId, f32)> = scores
            .iter()
            .filter_map(|(&id, &raw)| element(id).map(|el| (id, final_score(id, el, raw))))
            .collect();
        // Ties go to the earlier element, so the choice does not depend on hash order.
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let Some(&(mut top, mut top_score)) = ranked.first() else {
            return Layout::of(body, vec![body.id()], measures, (scored, scored_chars), headline_links);
        };
        // An article cut into many small boxes (one per paragraph) has several near-equal
        // winners: their closest common container is the article.
        let rivals: Vec<NodeId> = ranked[1..ranked.len().min(5)]
            .iter()
            .filter(|(_, s)| *s >= 0.75 * top_score)
            .map(|(id, _)| *id)
            .collect();
        if rivals.len() >= 3 {
            let mut up = element(top).and_then(|e| e.parent()).and_then(ElementRef::wrap);
            while let Some(a) = up.filter(|a| a.id() != body.id()) {
                if rivals.iter().filter(|r| is_within(body, **r, a.id())).count() >= 3 {
                    top = a.id();
                    top_score = scores
                        .get(&a.id())
                        .map_or(top_score, |&raw| final_score(a.id(), a, raw).max(top_score));
                    break;
                }
                up = a.parent().and_then(ElementRef::wrap);
            }
        }
        // Climb while an ancestor scores higher: the winner was one column of a wider article.
        let threshold = top_score / 3.0;
        let mut last = top_score;
        let mut up = element(top).and_then(|e| e.parent()).and_then(ElementRef::wrap);
        while let Some(parent) = up {
            if parent.id() == body.id() {
                break;
            }
            let Some(&raw) = scores.get(&parent.id()) else { break };
            let s = final_score(parent.id(), parent, raw);
            if s < threshold {
                break;
            }
            if s > last {
                (top, top_score) = (parent.id(), s);
                break;
            }
            last = s;
            up = parent.parent().and_then(ElementRef::wrap);
        }
        // The scoring's choice stands unless it misses the article the page states.
        if let Some(container) = guide.and_then(|g| guided(body, &scored, g, &measures))
            && !is_within(body, container, top)
        {
            return Layout::of(body, vec![container], measures, (scored, scored_chars), headline_links);
        }
        let top_el = element(top).expect("the top candidate is an element");
        let sibling_floor = (top_score * 0.2).max(10.0);
        let mut parts = Vec::new();
        match top_el.parent().and_then(ElementRef::wrap) {
            Some(parent) if top != body.id() => {
                for sib in parent.child_elements() {
                    let keep = sib.id() == top
                        || (unlikely(sib).is_none()
                            && scores
                                .get(&sib.id())
                                .is_some_and(|&raw| final_score(sib.id(), sib, raw) >= sibling_floor))
                        || (sib.value().name() == "p" && {
                            let m = measures.get(&sib.id()).copied().unwrap_or_default();
                            m.text >= 80 && m.link_density() < 0.25
                        });
                    if keep {
                        parts.push(sib.id());
                    }
                }
            }
            _ => parts.push(top),
        }
        Layout::of(body, parts, measures, (scored, scored_chars), headline_links)
    }

    fn of(
        body: ElementRef,
        parts: Vec<NodeId>,
        measures: FxHashMap<NodeId, Measure>,
        (scored, chars): (Vec<NodeId>, Vec<u32>),
        headline_links: u32,
    ) -> Layout {
        let main_text = parts.iter().map(|id| measures.get(id).map_or(0, |m| m.text)).sum();
        let paragraphs = scored
            .iter()
            .filter(|p| parts.iter().any(|part| is_within(body, **p, *part)))
            .count() as u32;
        let page = measures.get(&body.id()).copied().unwrap_or_default();
        Layout {
            measures,
            parts,
            main_text,
            paragraphs,
            page,
            headline_links,
            paragraphs_found: scored.into_iter().zip(chars).collect(),
        }
    }

    /// The paragraphs of prose anywhere in the page (in comments and sidebars too), with their
    /// own characters.
    pub fn paragraph_nodes(&self) -> &[(NodeId, u32)] {
        &self.paragraphs_found
    }

    pub fn measure(&self, id: NodeId) -> Measure {
        self.measures.get(&id).copied().unwrap_or_default()
    }

    /// Whether an element inside the chosen containers is furniture rather than article, and
    /// which: page chrome first, then a block made of links.
    pub fn furniture(&self, el: ElementRef) -> Option<Furniture> {
        if self.measure(el.id()).text * 2 > self.main_text {
            // It holds most of the main text: never furniture, whatever its name.
            return None;
        }
        if is_chrome(el.value()) {
            return Some(Furniture::Chrome);
        }
        self.is_link_block(el).then_some(Furniture::Links)
    }

    /// A block made mostly of links: a link list, "read it here: <link>".
    fn is_link_block(&self, el: ElementRef) -> bool {
        let m = self.measure(el.id());
        let name = el.value().name();
        let container = matches!(
            name,
            "div" | "section" | "ul" | "ol" | "dl" | "table" | "p" | "li" | "span" | "aside" | "figure" | "header" | "footer" | "nav"
        );
        if container && m.text > 0 && m.link_density() > 0.5 {
            return true;
        }
        matches!(name, "div" | "section" | "ul" | "ol" | "table") && m.text < 300 && m.link_density() > 0.3
    }
}

/// Furniture inside the chosen containers: its text is not the article's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Furniture {
    /// Named or marked as page chrome (share bars, banners…): its links are the site's too.
    Chrome,
    /// A block made mostly of links: no prose, but the page shows what it links to.
    Links,
}

const CHROME_WORDS: &[&str] = &[
    "cookie",
    "consent",
    "gdpr",
    "rgpd",
    "banner",
    "newsletter",
    "related",
    "share",
    "sharing",
    "social",
    "advert",
    "promo",
    "breadcrumb",
    "most-read",
    "mostread",
    "popular",
    "sidebar",
    "menu",
    "paywall",
    "subscribe",
    "comments",
];

/// Whether the element's role or class/id names say it is page chrome (banners, share bars…).
fn is_chrome(e: &scraper::node::Element) -> bool {
    if let Some(role) = e.attr("role")
        && matches!(
            role,
            "navigation" | "banner" | "contentinfo" | "complementary" | "dialog" | "alertdialog"
        )
    {
        return true;
    }
    let class_id = format!("{} {}", e.attr("class").unwrap_or(""), e.attr("id").unwrap_or("")).to_ascii_lowercase();
    class_id.split(|c: char| c.is_whitespace() || c == '_').any(|token| {
        CHROME_WORDS.iter().any(|w| {
            token == *w
                || token.strip_prefix(w).is_some_and(|r| r.starts_with('-'))
                || token.strip_suffix(w).is_some_and(|r| r.ends_with('-'))
        })
    })
}

#[derive(Default)]
struct Analysis {
    measures: FxHashMap<NodeId, Measure>,
    scores: FxHashMap<NodeId, f32>,
    /// The open elements, innermost last.
    ancestors: Vec<NodeId>,
    /// Paragraphs score only the open elements from this index on (see [`is_unlikely`]).
    barrier: usize,
    /// The outermost open element named as comments, a sidebar… (see [`unlikely`]).
    unlikely: Option<(NodeId, Unlikely)>,
    /// Candidates inside such subtrees, and that subtree.
    suspect: FxHashMap<NodeId, (NodeId, Unlikely)>,
    /// Paragraphs that scored, for [`Layout::paragraphs`], and their own characters.
    scored: Vec<NodeId>,
    scored_chars: Vec<u32>,
    headline_links: u32,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    text: u32,
    links: u32,
    commas: u32,
}

impl Analysis {
    fn visit(&mut self, el: ElementRef, in_link: bool) -> Counts {
        let name = el.value().name();
        if SKIP.contains(&name) || super::is_hidden(el.value()) {
            return Counts::default();
        }
        // Prose inside comments or a sidebar scores only within it, never for the page
        // around it: a long comment thread must not pull the choice up to include itself.
        let (barrier, outer) = (self.barrier, self.unlikely);
        if let Some(kind) = unlikely(el) {
            self.barrier = self.ancestors.len();
            self.unlikely = self.unlikely.or(Some((el.id(), kind)));
        }
        let in_link = in_link || name == "a";
        let mut all = Counts::default();
        let mut direct = Counts::default();
        self.ancestors.push(el.id());
        for child in el.children() {
            match child.value() {
                Node::Text(t) => {
                    let n = visible_chars(t);
                    direct.text += n;
                    direct.commas += t.chars().filter(|c| matches!(c, ',' | '،' | '、' | '，')).count() as u32;
                    if in_link {
                        direct.links += n;
                    }
                }
                Node::Element(_) => {
                    if let Some(c) = ElementRef::wrap(child) {
                        let c = self.visit(c, in_link);
                        all.text += c.text;
                        all.links += c.links;
                        all.commas += c.commas;
                    }
                }
                _ => {}
            }
        }
        self.ancestors.pop();
        (self.barrier, self.unlikely) = (barrier, outer);
        all.text += direct.text;
        all.links += direct.links;
        all.commas += direct.commas;
        if all.text > 0 {
            self.measures.insert(
                el.id(),
                Measure {
                    text: all.text,
                    links: all.links,
                },
            );
        }
        if matches!(name, "h1" | "h2" | "h3" | "h4") && all.text > 0 && all.links * 2 > all.text {
            self.headline_links += 1;
        }
        // A paragraph of prose: a text element, or the text written straight into a container
        // (then the container is the paragraph's parent, as if the text were wrapped in `<p>`).
        let (para, own) = match name {
            "p" | "pre" | "td" | "blockquote" => (all, false),
            "div" | "section" | "article" | "main" | "font" | "center" => (direct, true),
            _ => return all,
        };
        if para.text >= 25 && (para.links as f32) < 0.5 * para.text as f32 {
            let score = 1.0 + para.commas as f32 + (para.text / 100).min(3) as f32;
            self.scored.push(el.id());
            self.scored_chars.push(para.text);
            let own = own.then_some(el.id());
            let open = &self.ancestors[self.barrier.min(self.ancestors.len())..];
            for (level, id) in own.into_iter().chain(open.iter().rev().copied()).take(5).enumerate() {
                let share = match level {
                    0 => 1.0,
                    1 => 2.0,
                    n => 3.0 * n as f32,
                };
                *self.scores.entry(id).or_default() += score / share;
                if let Some(root) = self.unlikely {
                    self.suspect.insert(id, root);
                }
            }
        }
        all
    }
}

/// The closest container of the paragraphs the page's stated article body (JSON-LD) contains,
/// when that container is about the stated body's size (not the whole page).
fn guided(body: ElementRef, scored: &[NodeId], guide: &Guide, measures: &FxHashMap<NodeId, Measure>) -> Option<NodeId> {
    let tree = body.tree();
    let mut common: Option<Vec<NodeId>> = None;
    let mut matched = 0;
    for &p in scored {
        let el = tree.get(p).and_then(ElementRef::wrap)?;
        let text: String = if matches!(el.value().name(), "p" | "pre" | "td" | "blockquote") {
            el.text().collect()
        } else {
            el.children().filter_map(|c| c.value().as_text().map(|t| &**t)).collect()
        };
        if guide.coverage(&text).is_none_or(|c| c < 0.6) {
            continue;
        }
        matched += measures.get(&p).map_or(0, |m| m.text);
        let mut path: Vec<NodeId> = el.ancestors().map(|a| a.id()).collect();
        path.reverse();
        path.push(p);
        common = Some(match common {
            None => path,
            Some(mut c) => {
                let same = c.iter().zip(&path).take_while(|(a, b)| a == b).count();
                c.truncate(same);
                c
            }
        });
    }
    let lca = *common?.last()?;
    let size = measures.get(&lca).map_or(0, |m| m.text);
    (lca != body.id() && 2 * matched >= guide.chars && size <= 2 * guide.chars + 2_000).then_some(lca)
}

/// Whether `id` is `ancestor` or inside it.
fn is_within(body: ElementRef, id: NodeId, ancestor: NodeId) -> bool {
    let mut node = body.tree().get(id);
    while let Some(n) = node {
        if n.id() == ancestor {
            return true;
        }
        node = n.parent();
    }
    false
}

fn visible_chars(t: &str) -> u32 {
    t.chars().filter(|c| !c.is_whitespace()).count() as u32
}

/// Class and id names that mark a subtree as never the article (comments, sidebars, related
/// links…) unless they also say it is the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlikely {
    Comments,
    Furniture,
}

/// The first patterns of the list name reader comments.
const COMMENT_WORDS: usize = 4;

pub fn unlikely(el: ElementRef) -> Option<Unlikely> {
    static UNLIKELY: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
        names_automaton([
            "comment",
            "disqus",
            "respond",
            "replies",
            "sidebar",
            "related",
            "footer",
            "social",
            "share",
            "sponsor",
            "popup",
            "banner",
            "cookie",
            "consent",
            "newsletter",
            "outbrain",
            "taboola",
            "recommend",
            "breadcrumb",
            "pagination",
            "masthead",
            "menu",
            "skyscraper",
            "advert",
            "promo",
        ])
        .expect("static patterns")
    });
    static MAYBE: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
        names_automaton(["article", "body", "column", "content", "main", "story", "entry", "text"]).expect("static patterns")
    });
    let hit = find_in_names(&UNLIKELY, el)?;
    if find_in_names(&MAYBE, el).is_some() || matches!(el.value().name(), "body" | "a" | "html") {
        return None;
    }
    Some(if hit.pattern().as_usize() < COMMENT_WORDS {
        Unlikely::Comments
    } else {
        Unlikely::Furniture
    })
}

/// An automaton over class and id names, which are matched without regard to case.
fn names_automaton<const N: usize>(patterns: [&str; N]) -> Result<aho_corasick::AhoCorasick, aho_corasick::BuildError> {
    aho_corasick::AhoCorasick::builder().ascii_case_insensitive(true).build(patterns)
}

/// The first pattern found in the element's class, else in its id (no copy of either).
fn find_in_names(ac: &aho_corasick::AhoCorasick, el: ElementRef) -> Option<aho_corasick::Match> {
    let e = el.value();
    [e.attr("class"), e.attr("id")]
        .into_iter()
        .flatten()
        .find_map(|names| ac.find(names))
}

/// Class and id names, the tag, and microdata as a score adjustment.
fn weight(el: ElementRef) -> f32 {
    static POSITIVE: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
        names_automaton([
            "article", "body", "content", "entry", "hentry", "main", "page", "post", "text", "blog", "story", "corps", "inhalt", "texto",
            "testo",
        ])
        .expect("static patterns")
    });
    static NEGATIVE: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
        names_automaton([
            "comment",
            "disqus",
            "foot",
            "masthead",
            "meta",
            "outbrain",
            "taboola",
            "promo",
            "related",
            "recommend",
            "share",
            "sharing",
            "social",
            "sidebar",
            "sponsor",
            "widget",
            "newsletter",
            "subscribe",
            "signup",
            "banner",
            "cookie",
            "consent",
            "gdpr",
            "breadcrumb",
            "pagination",
            "pager",
            "popup",
            "modal",
            "tags",
            "toolbar",
            "advert",
            "-ad-",
            "teaser",
            "most-",
            "trending",
        ])
        .expect("static patterns")
    });
    let e = el.value();
    let mut w = 0.0;
    if find_in_names(&POSITIVE, el).is_some() {
        w += 25.0;
    }
    if find_in_names(&NEGATIVE, el).is_some() {
        w -= 25.0;
    }
    if e.attr("itemprop").is_some_and(|p| p.eq_ignore_ascii_case("articleBody")) {
        w += 50.0;
    }
    w + match e.name() {
        "article" | "main" => 10.0,
        "div" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Scope;
    use url::Url;

    fn scoped(html: &str) -> Vec<(Scope, String)> {
        let x = super::super::extract(html, &Url::parse("https://www.example.fr/a").unwrap(), None).unwrap();
        let a = x.article;
        a.blocks.iter().map(|b| (b.scope, a.text[b.range.clone()].to_string())).collect()
    }

    fn para(n: usize) -> String {
        format!("<p>Paragraphe {n} de l'article, avec une phrase assez longue, des virgules, et un peu de contenu réel.</p>")
    }

    #[test]
    fn the_container_with_the_prose_wins_over_the_first_article_element() {
        let html = format!(
            "<html><body><article class=teaser><a href=/x>Lire aussi : un autre sujet</a></article>\
             <div class=story-body>{}{}{}</div><div class=sidebar>{}</div></body></html>",
            para(1),
            para(2),
            para(3),
            para(9)
        );
        let texts: Vec<String> = scoped(&html).into_iter().map(|(_, t)| t).collect();
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert!(texts.iter().all(|t| !t.contains("Lire aussi") && !t.contains("Paragraphe 9")));
    }

    #[test]
    fn a_long_comment_thread_does_not_pull_the_choice_up() {
        let comments: String = (10..30).map(para).collect();
        let html = format!(
            "<html><body><div id=page><div class=content>{}{}</div><section id=comments>{comments}</section></div></body></html>",
            para(1),
            para(2)
        );
        let texts: Vec<String> = scoped(&html).into_iter().map(|(_, t)| t).collect();
        assert_eq!(texts.len(), 2, "{texts:?}");
    }

    #[test]
    fn an_article_cut_into_boxes_is_taken_whole() {
        let boxes: String = (1..=6)
            .map(|i| format!("<div class=card><div class=card-content>{}</div></div>", para(i)))
            .collect();
        let html = format!(
            "<html><body><nav><a href=/>Accueil</a></nav><div id=article-body>{boxes}</div><footer>Mentions légales</footer></body></html>"
        );
        assert_eq!(scoped(&html).len(), 6);
    }

    #[test]
    fn link_lists_inside_the_article_are_dropped_and_captions_scoped() {
        let html = format!(
            "<html><body><article>{}<figure><img src=a.jpg><figcaption>Le candidat à Albi. Photo AFP</figcaption></figure>{}\
             <ul><li><a href=/1>Un autre article à lire</a></li><li><a href=/2>Et encore un autre</a></li></ul>{}</article></body></html>",
            para(1),
            para(2),
            para(3)
        );
        let blocks = scoped(&html);
        assert!(
            blocks.contains(&(Scope::Caption, "Le candidat à Albi. Photo AFP".into())),
            "{blocks:?}"
        );
        assert!(blocks.iter().all(|(_, t)| !t.contains("autre article")), "{blocks:?}");
        assert_eq!(blocks.iter().filter(|(s, _)| *s == Scope::Body).count(), 3);
    }

    #[test]
    fn the_stated_article_body_guides_the_choice() {
        // The prose the scoring prefers is a long "about" box; the JSON-LD says which text is
        // the article.
        let article = "Les bureaux de vote ferment à vingt heures et les premiers résultats sont attendus peu après, \
            selon le ministère de l'Intérieur qui publiera les chiffres commune par commune dans la soirée.";
        let about: String = (1..=6).map(para).collect();
        let html = format!(
            "<html><head><script type=application/ld+json>{{\"@type\":\"NewsArticle\",\"articleBody\":\"{article} {article}\"}}</script></head>\
             <body><div class=main-content>{about}</div><div class=x><p>{article}</p><p>{article}</p></div></body></html>"
        );
        let texts: Vec<String> = scoped(&html).into_iter().map(|(_, t)| t).collect();
        assert_eq!(texts, vec![article.to_string(), article.to_string()]);
    }
}
