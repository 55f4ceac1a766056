//! What makes an item the same item, and its content the same version, from one run to the
//! next — the lessons feed readers learned the hard way:
//!
//! * an item is its page's address without fragment or tracking parameters (`article::
//!   normalize_url`), never its GUID: some CMSs mint a new GUID on every fetch, re-posts get a
//!   new one, and unrelated articles have shared one; an entry without a link is a digest of
//!   what it says ([`entry_digest`]);
//! * a version is a digest of the item's text as a reader sees it, without what changes on
//!   every view — view and comment counters, "updated 5 minutes ago" — so a
//!   page does not become a new version each night ([`version_digest`]).

use crate::feed::FeedItem;

/// What a run's captures of content can be compared with: this blackout, and the scheme of
/// [`version_digest`] — raised whenever what it hashes changes, so that an upgrade is never
/// taken for a change of every page.
pub const CAPTURES: &str = concat!("blackout ", env!("CARGO_PKG_VERSION"), "; version digest 2");
use crate::model::Digest;
use std::sync::LazyLock;

/// What identifies an entry without a link: a digest of its title, summary, content and dates
/// (each field marked, so no two different entries share it), the same in every run.
pub fn entry_digest(entry: &FeedItem) -> String {
    let mut said = String::new();
    for (mark, part) in [("t", &entry.title), ("s", &entry.summary), ("c", &entry.content)] {
        said.push_str(mark);
        if let Some(part) = part {
            said.push(':');
            said.push_str(part);
        }
        said.push('\u{1f}');
    }
    for d in &entry.dates {
        said.push_str(&format!("d:{}={}\u{1f}", d.provenance.name(), d.raw));
    }
    Digest::of(said.as_bytes()).hex()[..12].to_string()
}

/// Counters and relative times, in the languages the rule files cover: what a page shows
/// differently on every view without its content changing. Matched on bytes with ASCII word
/// boundaries and ASCII case folding: the whole text of every page goes through it, and
/// Unicode boundaries would make the regex engine give up its DFA on the first accented
/// letter (a third of a check's time on the fetch benchmark). Accented words are matched as
/// written, in lower case, as they appear in running text.
static VOLATILE: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    const UNIT: &str = r"(?:s|sec|seconds?|secondes?|min|mins|minutes?|minuten|minutos|minuti|h|hrs?|hours?|heures?|stunden?|horas?|ore|days?|jours?|tagen?|d(?:i|í)as?|giorni)";
    const UPDATED: &str = r"(?:(?:updated|mis à jour|modifié|actualisé|aktualisiert|actualizado|aggiornato)\s+)?";
    let patterns = [
        // 1 234 vues (spaces or no-break spaces between thousands), 56 comments, 7 partages,
        // 3 réactions, 12 lectures, 1,2k views
        r"\b\d(?:[\d\s.,]|\xC2\xA0|\xE2\x80\xAF)*k?\s*(?:views?|vues?|lectures?|reads?|comments?|commentaires?|shares?|partages?|reactions?|réactions?|likes?|kommentare?|visualizaciones|comentarios|visualizzazioni|commenti)\b".to_string(),
        // (mis à jour) il y a 5 minutes, (aktualisiert) vor 3 Stunden, hace 2 horas
        format!(r"(?:\b|\s){UPDATED}(?:il y a|vor|hace)\s+\d+\s*{UNIT}\b"),
        // (updated) 5 minutes ago, 3 ore fa, updated 5 min
        format!(r"(?:\b|\s){UPDATED}\d+\s*{UNIT}\s+(?:ago|fa)\b"),
        format!(r"\b(?:updated|mis à jour|aktualisiert|actualizado|aggiornato)\s+\d+\s*{UNIT}\b"),
        // (updated) just now, à l'instant
        format!(r"(?:\b|\s){UPDATED}(?:just now|à l(?:'|’)instant|gerade eben|ahora mismo)\b"),
    ];
    regex::bytes::RegexBuilder::new(&patterns.join("|"))
        .unicode(false)
        .case_insensitive(true)
        .build()
        .expect("static regex")
});

/// Blocks longer than this are prose, hashed as they are: counters and relative times live in
/// the short blocks of bylines, toolbars and footers. Sparing the long ones the regex (about
/// 600 MB/s) keeps versions from costing the fetch benchmark 4 % of its time.
const SHORT_BLOCK: usize = 400;

/// The digest of an item's content as its versions are told apart: its documents' texts, each
/// match of [`VOLATILE`] in a short block hashed as one space. Streamed into the hash: every
/// page's whole text passes through here, so nothing is copied. (The texts' spacing is
/// already collapsed by extraction; blocks are separated by a blank line.)
pub fn version_digest<'a>(texts: impl IntoIterator<Item = &'a str>) -> Digest {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    for text in texts {
        for block in text.split("\n\n") {
            let bytes = block.as_bytes();
            let mut from = 0;
            if bytes.len() <= SHORT_BLOCK {
                for m in VOLATILE.find_iter(bytes) {
                    hash.update(&bytes[from..m.start()]);
                    hash.update(b" ");
                    from = m.end();
                }
            }
            hash.update(&bytes[from..]);
            hash.update(b"\n\n");
        }
        hash.update([0x1f]);
    }
    Digest(hash.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_relative_times_do_not_make_a_new_version() {
        let a = version_digest(["Le texte de l'article.\n\n1 234 vues · 56 commentaires · Mis à jour il y a 5 minutes"]);
        let b = version_digest(["Le texte de l'article.\n\n1\u{202f}301 vues · 58 commentaires · Mis à jour il y a 2 heures"]);
        assert_eq!(a, b);
        let c = version_digest(["Updated 3 minutes ago. The article's text. 12 comments"]);
        let d = version_digest(["Updated just now. The article's text. 13 comments"]);
        assert_eq!(c, d);
        // A changed sentence is a new version; so is a changed number in the text.
        assert_ne!(a, version_digest(["Le texte modifié de l'article.\n\n1 234 vues"]));
        assert_ne!(
            version_digest(["Le virement de 500 000 euros"]),
            version_digest(["Le virement de 900 000 euros"])
        );
        // Prose is hashed as it is: a counter inside a long paragraph is content.
        let long = "Le texte. ".repeat(50);
        assert_ne!(
            version_digest([format!("{long}12 vues").as_str()]),
            version_digest([format!("{long}13 vues").as_str()])
        );
        // A time of day is content, not a counter.
        assert_ne!(
            version_digest(["Le meeting commence à 18 h"]),
            version_digest(["Le meeting commence à 19 h"])
        );
        // The same words in two documents are not one document.
        assert_ne!(version_digest(["a", "b"]), version_digest(["a b"]));
    }
}
