//! Article side: which passages of a text reproduce which leaked documents.

use super::index::Index;
use super::{kgrams, picks, words};
use std::collections::HashMap;

/// A passage of the article covered for one or more leaked documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Byte offsets in the matched text, from the first to the last shingle known to be
    /// shared (the evidence shown).
    pub start: usize,
    pub end: usize,
    /// Estimated length of the reproduced run: the covered windows, which for a verbatim copy
    /// of at least `k + w - 1` words is at least its length and at most `w - 1` words more at
    /// each end. Rules compare this with `min_words`.
    pub words: u32,
    /// Indices into [`Index::docs`], ascending.
    pub docs: Vec<u32>,
}

/// How many words of the article one leaked document covers, spans of all orders counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub doc: u32,
    pub words: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FingerprintMatch {
    pub spans: Vec<Span>,
    /// Per leaked document, largest first.
    pub coverage: Vec<Coverage>,
    /// Words in the text, for throughput figures.
    pub words: usize,
}

impl FingerprintMatch {
    /// The largest number of article words one leaked document covers.
    pub fn best(&self) -> u32 {
        self.coverage.first().map_or(0, |c| c.words)
    }
}

/// Matches `text` against the index (see the module doc of `fingerprint` for the method).
pub fn find(index: &Index, text: &str) -> FingerprintMatch {
    let (k, w) = (index.params.k as usize, index.params.w as usize);
    let words = words(text, &index.key);
    let word_hashes: Vec<u64> = words.iter().map(|w| w.hash).collect();
    let mut hashes = kgrams(&word_hashes, index.params.k, &index.key);
    // Excluded shingles are skipped as on the leak side; then only the picks (window minima)
    // decide coverage, so only they are looked up (about a third of the shingles).
    index.mark_excluded(&mut hashes);
    let picks = picks(&hashes, w);
    let hits = index.lookup_picks(&hashes, &picks);
    // Covered word intervals per leaked document, from the picks that are its fingerprints:
    // the words of the windows that chose them. Each remembers its pick, a shingle known to
    // be shared.
    let mut covered: HashMap<u32, Vec<(usize, usize, usize)>> = HashMap::new();
    let last_word = words.len().saturating_sub(1);
    let window = w.min(hashes.len());
    for (i, entries) in hits {
        let pick = picks[i];
        let pos = pick.pos;
        let start = pick.first as usize;
        let end = (pick.last as usize + window - 1 + k - 1).min(last_word);
        for &(_, doc) in entries {
            covered.entry(doc).or_default().push((start, end, pos as usize));
        }
    }
    // Merged covered intervals per document, keyed by (certain start, certain end, words).
    let mut by_interval: HashMap<(usize, usize, u32), Vec<u32>> = HashMap::new();
    let mut coverage = Vec::with_capacity(covered.len());
    for (doc, mut intervals) in covered {
        intervals.sort_unstable();
        let mut merged: Vec<(usize, usize, usize, usize)> = Vec::new();
        for (s, e, m) in intervals {
            match merged.last_mut() {
                Some(last) if s <= last.1 + 1 => {
                    last.1 = last.1.max(e);
                    last.2 = last.2.min(m);
                    last.3 = last.3.max(m);
                }
                _ => merged.push((s, e, m, m)),
            }
        }
        coverage.push(Coverage {
            doc,
            words: merged.iter().map(|m| (m.1 - m.0 + 1) as u32).sum(),
        });
        for (s, e, first, last) in merged {
            by_interval
                .entry((first, (last + k - 1).min(last_word), (e - s + 1) as u32))
                .or_default()
                .push(doc);
        }
    }
    coverage.sort_by(|a, b| b.words.cmp(&a.words).then(a.doc.cmp(&b.doc)));
    let mut spans: Vec<Span> = by_interval
        .into_iter()
        .map(|((s, e, n), mut docs)| {
            docs.sort_unstable();
            Span {
                start: words[s].range.start,
                end: words[e].range.end,
                words: n,
                docs,
            }
        })
        .collect();
    spans.sort_by_key(|sp| (sp.start, sp.end));
    FingerprintMatch {
        spans,
        coverage,
        words: words.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::{Key, Params};
    use proptest::prelude::*;

    const KEY: Key = Key([3, 5]);

    fn corpus() -> Vec<(String, String)> {
        vec![
            ("a.txt".into(), "Le virement Ardoise doit rester confidentiel jusqu'au 8 mai, merci de ne pas en parler aux équipes régionales avant la réunion du comité.".into()),
            ("b.txt".into(), "Rendez-vous jeudi avec le prestataire pour la refonte du site, prévoir le budget détaillé et les maquettes validées par la direction générale.".into()),
        ]
    }

    #[test]
    fn finds_a_quoted_passage_with_typography_and_reports_it() {
        let (index, _) = Index::build(corpus(), &[], Params::default(), KEY);
        let article = "Selon nos informations, « le virement ARDOISE doit rester confidentiel jusqu\u{2019}au 8\u{A0}mai, merci de ne pas en parler » a écrit un cadre.";
        let m = find(&index, article);
        assert_eq!(m.coverage.len(), 1);
        assert_eq!(index.docs[m.coverage[0].doc as usize], "a.txt");
        assert!(m.best() >= 12, "{m:?}");
        // The evidence is the part known to be shared: inside the quotation marks.
        let span = &m.spans[0];
        let quote = &article[article.find('«').unwrap()..article.find('»').unwrap()];
        assert!(quote.contains(&article[span.start..span.end]), "{}", &article[span.start..span.end]);
    }

    #[test]
    fn reporting_on_the_leak_is_not_matching_it() {
        let (index, _) = Index::build(corpus(), &[], Params::default(), KEY);
        let m = find(
            &index,
            "Des courriels de l'équipe de campagne ont été piratés et mis en ligne vendredi soir, a annoncé le mouvement.",
        );
        assert!(m.spans.is_empty());
    }

    #[test]
    fn passages_in_any_order_from_two_documents() {
        let (index, _) = Index::build(corpus(), &[], Params::default(), KEY);
        let article = "D'abord : prévoir le budget détaillé et les maquettes validées par la direction générale. Ensuite : \
                       merci de ne pas en parler aux équipes régionales avant la réunion du comité.";
        let m = find(&index, article);
        let docs: Vec<&str> = m.coverage.iter().map(|c| index.docs[c.doc as usize].as_str()).collect();
        assert_eq!(docs.len(), 2, "{m:?}");
        assert!(m.spans[0].start < m.spans[1].start);
    }

    #[test]
    fn a_passage_across_the_header_block_of_a_quoted_message_is_one_run() {
        let thread = "Merci pour le contact, je le rencontrerai avec plaisir la semaine prochaine.\n\n\
                      -------- Message d'origine --------\nDe : Alice <alice@example.org>\nEnvoyé : lundi 1 mai 2017\n\
                      À : Bob\nObjet : Rencontre\n\nTu vas rencontrer le nouveau ministre, un allié précieux pour la suite.\n";
        let (index, _) = Index::build(vec![("t.eml".into(), thread.into())], &[], Params::default(), KEY);
        // Six words from each message: no run of the text as written is longer than seven.
        let m = find(
            &index,
            "Il a écrit : « rencontrerai avec plaisir la semaine prochaine. Tu vas rencontrer le nouveau ministre », selon le document.",
        );
        assert!(m.best() >= 12, "{m:?}");
    }

    proptest! {
        /// The guarantee: any run of at least k + w - 1 normalised words copied from a corpus
        /// document into unrelated text is found, covered for its whole length, whatever the
        /// surrounding text and the typography.
        #[test]
        fn any_guaranteed_run_is_found(
            corpus_words in proptest::collection::vec("[a-z]{3,9}", 40..80),
            noise_before in proptest::collection::vec("[0-9]{2,6}", 0..30),
            noise_after in proptest::collection::vec("[0-9]{2,6}", 0..30),
            start in 0usize..20,
            extra in 0usize..15,
            typo in 0usize..4,
        ) {
            let params = Params::default();
            let len = params.guaranteed_run() as usize + extra;
            let doc = corpus_words.join(" ");
            let (index, _) = Index::build(vec![("d".into(), doc)], &[], params, KEY);
            let start = start.min(corpus_words.len() - len);
            let run = &corpus_words[start..start + len];
            let copied = match typo {
                0 => run.join(" "),
                1 => run.join("\u{A0}").to_uppercase(),
                2 => run.iter().map(|w| format!("{}\u{AD}{}", &w[..1], &w[1..])).collect::<Vec<_>>().join("\u{2019} "),
                _ => run.join(" &nbsp;\n "),
            };
            let article = format!("{} « {copied} » {}", noise_before.join(" "), noise_after.join(" "));
            let m = find(&index, &article);
            prop_assert!(m.best() as usize >= len, "run of {} words covered {}: {:?}", len, m.best(), m);
        }
    }
}
