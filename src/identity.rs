//! What makes an item the same item, and its content the same version, from one run to the
//! next — the lessons feed readers learned the hard way:
//!
//! * an item is its page's address without fragment or tracking parameters (`article::
//!   normalize_url`), never its GUID: some CMSs mint a new GUID on every fetch, re-posts get a
//!   new one, and unrelated articles have shared one; an entry without a link is a digest of
//!   what it says ([`entry_digest`]);
//! * a version is a digest of the item's text as a reader sees it, normalised (typography,
//!   case, spacing) and without what changes on every view — view and comment counters,
//!   "updated 5 minutes ago" — so a page does not become a new version each night
//!   ([`version_digest`]).

use crate::feed::FeedItem;
use crate::model::Digest;
use regex::Regex;
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
/// differently on every view without its content changing.
static VOLATILE: LazyLock<Regex> = LazyLock::new(|| {
    const UNIT: &str = r"(?:s|sec|seconds?|secondes?|min|mins|minutes?|minuten|minutos|minuti|h|hrs?|hours?|heures?|stunden?|horas?|ore|days?|jours?|tagen?|d[ií]as?|giorni)";
    const UPDATED: &str = r"(?:(?:updated|mis à jour|modifié|actualisé|aktualisiert|actualizado|aggiornato)\s+)?";
    let patterns = [
        // 1 234 vues, 56 comments, 7 partages, 3 réactions, 12 lectures, 1,2k views
        r"\b\d[\d\s.,]*k?\s*(?:views?|vues?|lectures?|reads?|comments?|commentaires?|shares?|partages?|reactions?|réactions?|likes?|kommentare?|visualizaciones|comentarios|visualizzazioni|commenti)\b".to_string(),
        // (mis à jour) il y a 5 minutes, (aktualisiert) vor 3 Stunden, hace 2 horas
        format!(r"\b{UPDATED}(?:il y a|vor|hace)\s+\d+\s*{UNIT}\b"),
        // (updated) 5 minutes ago, 3 ore fa, updated 5 min
        format!(r"\b{UPDATED}\d+\s*{UNIT}\s+(?:ago|fa)\b"),
        format!(r"\b(?:updated|mis à jour|aktualisiert|actualizado|aggiornato)\s+\d+\s*{UNIT}\b"),
        // (updated) just now, à l'instant
        format!(r"\b{UPDATED}(?:just now|à l'instant|gerade eben|ahora mismo)\b"),
    ];
    Regex::new(&patterns.join("|")).expect("static regex")
});

/// The digest of an item's content as its versions are told apart: its documents' texts,
/// normalised, with counters and relative times removed.
pub fn version_digest<'a>(texts: impl IntoIterator<Item = &'a str>) -> Digest {
    let mut all = String::new();
    for text in texts {
        let normalised = crate::normalize::normalize(text).text;
        let steady = VOLATILE.replace_all(&normalised, " ");
        all.extend(steady.split_whitespace().flat_map(|w| [w, " "]));
        all.push('\u{1f}');
    }
    Digest::of(all.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_relative_times_do_not_make_a_new_version() {
        let a = version_digest(["Le texte de l'article.\n\n1 234 vues · 56 commentaires · Mis à jour il y a 5 minutes"]);
        let b = version_digest(["Le texte de l’article.\n\n1 301 vues · 58 commentaires · Mis à jour il y a 2 heures"]);
        assert_eq!(a, b);
        let c = version_digest(["Updated 3 minutes ago. The article's text. 12 comments"]);
        let d = version_digest(["Updated just now. The article’s  text. 13 comments"]);
        assert_eq!(c, d);
        // A changed sentence is a new version; so is a changed number in the text.
        assert_ne!(a, version_digest(["Le texte modifié de l'article.\n\n1 234 vues"]));
        assert_ne!(
            version_digest(["Le virement de 500 000 euros"]),
            version_digest(["Le virement de 900 000 euros"])
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
