//! What kind of page this is. An article is checked on its text; a listing (a homepage or a
//! section front) on its teasers, what it shows of the items it lists. A consent or
//! subscription wall, or a page whose text is drawn by JavaScript, says nothing about whether
//! the outlet republished anything, so it is reported "not checked" with the reason rather
//! than counted as clean.

use super::content::Layout;
use super::teaser::Teasers;
use crate::article::{PageClass, PageKind};

/// A page with fewer visible characters, and fewer words than this besides its title, has
/// nothing to read (script-only pages show at most a "loading" line).
const EMPTY_PAGE: u32 = 250;
const EMPTY_WORDS: usize = 5;
/// A wall is a short page: an article behind it shows at most a lede.
const WALL_TEXT: u32 = 1_500;
/// Less than this is not even a lede: a banner on such a page is all there is.
const BARE_LEDE: u32 = 300;
/// A section front: many teaser headlines, little prose, and no block holding a fifth of
/// the page's text.
const LISTING_HEADLINES: u32 = 8;
const LISTING_PARAGRAPHS: u32 = 4;
/// A page made of teasers: at least this many, and outside them, both in its prose and in its
/// main containers, less than a quarter of their text and less than this many characters (an
/// article's own text outweighs the related-links box beside it: prose outside teasers is at
/// least 5.4 times their text for three quarters of wcxb-dev's articles, 1.8 and 1.3 times on
/// the article benchmark and the date set, and under 0.12 of it for a quarter of wcxb-dev's
/// listing pages).
const LISTING_TEASERS: usize = 8;
const LISTING_OUTSIDE: u32 = 500;

/// Whether a listing's teasers stand for it: enough of them to be what it shows (a section
/// front with ten headlines of which one reads as a teaser was not read, and is not checked).
pub fn enough_teasers(layout: &Layout, teasers: &Teasers) -> bool {
    let n = teasers.items.len() as u32;
    n > 0 && (n >= LISTING_TEASERS as u32 || n * 2 >= layout.headline_links)
}

/// Words of consent banners and subscription walls, in the languages the reference covers.
const WALL_PHRASES: &[&str] = &[
    "accept all cookies",
    "accept cookies",
    "we value your privacy",
    "your privacy choices",
    "subscribe to continue reading",
    "subscribe to read",
    "this article is for subscribers",
    "to continue reading",
    "already a subscriber",
    "accepter et continuer",
    "tout accepter",
    "nous respectons votre vie privée",
    "réservé aux abonnés",
    "réservée aux abonnés",
    "abonnez-vous pour lire",
    "pour lire la suite",
    "déjà abonné",
    "alle akzeptieren",
    "zustimmen und weiter",
    "jetzt abonnieren",
    "weiterlesen mit",
    "aceptar todas",
    "suscríbete para seguir leyendo",
    "contenido exclusivo para suscriptores",
    "accetta tutti",
    "abbonati per continuare",
    "contenuto riservato agli abbonati",
];

/// The texts a page's class may be read from: the main containers', the same without the
/// teasers, and all the page shows (the last two read only when needed).
pub struct Texts<'a> {
    pub main: &'a str,
    pub outside_teasers: &'a dyn Fn() -> String,
    pub visible: &'a dyn Fn() -> String,
}

/// Classifies a page from its layout and teasers, its texts and whether its own metadata says
/// it is an article (`og:type`, JSON-LD `@type`).
pub fn classify(layout: &Layout, teasers: &Teasers, body_words: usize, texts: Texts, declared_article: bool) -> PageKind {
    let page = layout.page.text;
    let outside = teasers.prose_outside.max(teasers.main_outside);
    let made_of_teasers = teasers.items.len() >= LISTING_TEASERS && outside < LISTING_OUTSIDE && outside * 4 < teasers.text;
    // Most pages carry a consent banner beside the article: a wall is when the banner's words
    // are what the page offers instead of (or at the end of) a short text. On a page made of
    // teasers, the words are read outside them: "Réservé aux abonnés" on a premium teaser is a
    // label, not a wall.
    if layout.main_text < WALL_TEXT {
        let main = if made_of_teasers {
            (texts.outside_teasers)()
        } else {
            texts.main.to_string()
        }
        .to_lowercase();
        let in_main = WALL_PHRASES.iter().find(|p| main.contains(*p));
        let on_page = || {
            let all = (texts.visible)().to_lowercase();
            WALL_PHRASES.iter().find(|p| all.contains(*p))
        };
        if let Some(phrase) = in_main.or_else(|| {
            if layout.main_text < BARE_LEDE && !made_of_teasers {
                on_page()
            } else {
                None
            }
        }) {
            return PageKind::other(
                PageClass::Interstitial,
                format!(
                    "consent or subscription wall (\u{201c}{phrase}\u{201d}, {} characters of article text)",
                    layout.main_text
                ),
            );
        }
    }
    if page < EMPTY_PAGE && body_words < EMPTY_WORDS {
        return PageKind::other(
            PageClass::Empty,
            format!("{body_words} word(s) of text besides the title: empty, or drawn by JavaScript"),
        );
    }
    let section_front = !declared_article
        && layout.headline_links >= LISTING_HEADLINES
        && layout.paragraphs < LISTING_PARAGRAPHS
        && (layout.paragraphs == 0 || layout.main_text * 5 < layout.page.text);
    if made_of_teasers || section_front {
        return PageKind::other(
            PageClass::Listing,
            format!(
                "listing or section page ({} teasers holding {} characters, {} outside them; {} linked headlines, {} paragraph(s) of prose)",
                teasers.items.len(),
                teasers.text,
                outside,
                layout.headline_links,
                layout.paragraphs
            ),
        );
    }
    PageKind::article()
}

#[cfg(test)]
mod tests {
    use crate::article::PageClass;
    use url::Url;

    fn class_of(html: &str) -> (PageClass, Option<String>) {
        let x = super::super::extract(html, &Url::parse("https://www.example.fr/a").unwrap(), None).unwrap();
        (x.article.kind.class, x.article.kind.reason)
    }

    const PROSE: &str = "<p>Le candidat a tenu samedi un dernier meeting à Albi, devant trois mille personnes réunies sous la halle, \
        avant la fin de la campagne officielle, et il a promis de revenir dans le Tarn après le second tour.</p>";

    #[test]
    fn an_article_with_a_consent_banner_is_an_article() {
        let html = format!(
            "<html><body><div class=cookie-banner>Nous respectons votre vie privée. Tout accepter</div>\
             <article><h1>Meeting à Albi</h1>{}</article></body></html>",
            PROSE.repeat(3)
        );
        assert_eq!(class_of(&html), (PageClass::Article, None));
    }

    #[test]
    fn a_section_front_is_a_listing() {
        let teasers: String = (0..12)
            .map(|i| {
                format!("<div class=teaser><h3><a href=/article-{i}>Titre de l'article numéro {i}</a></h3><span>Politique</span></div>")
            })
            .collect();
        let html = format!("<html><body><h1>Politique</h1>{teasers}</body></html>");
        let (class, reason) = class_of(&html);
        assert_eq!(class, PageClass::Listing);
        assert!(reason.unwrap().contains("12 linked headlines"));
        // The same teasers under a page that says it is an article: still an article.
        let declared = format!("<html><head><meta property=og:type content=article></head><body>{teasers}{PROSE}</body></html>");
        assert_eq!(class_of(&declared).0, PageClass::Article);
    }

    #[test]
    fn walls_are_interstitials() {
        let paywall = "<html><body><article><h1>Les coulisses</h1><p>Le premier paragraphe seulement est visible ici.</p>\
            <p>Il vous reste 80 % de cet article à lire. La suite est réservée aux abonnés. Déjà abonné ? Se connecter</p>\
            </article></body></html>";
        let (class, reason) = class_of(paywall);
        assert_eq!(class, PageClass::Interstitial);
        assert!(reason.unwrap().contains("réservée aux abonnés"));
        let consent = "<html><body><div id=consent><p>We value your privacy</p><button>Accept all cookies</button></div></body></html>";
        assert_eq!(class_of(consent).0, PageClass::Interstitial);
    }

    #[test]
    fn script_only_pages_are_empty() {
        let html = "<html><body><div id=root></div><noscript>You need to enable JavaScript to run this app.</noscript>\
            <script>window.app = {}</script></body></html>";
        let (class, reason) = class_of(html);
        assert_eq!(class, PageClass::Empty);
        assert!(reason.unwrap().starts_with("0 word(s)"));
    }
}
