//! The article body a page states in its JSON-LD (`articleBody`), as a guide to which DOM
//! container holds the article. It is never the output itself: it has no scopes (quotes,
//! code), often no paragraph breaks, and can be a stale or shortened copy.

use rustc_hash::{FxHashSet, FxHasher};
use std::hash::Hasher;

/// Word trigrams of the stated body.
pub struct Guide {
    shingles: FxHashSet<u64>,
    /// Visible characters of the stated body.
    pub chars: u32,
}

/// Stated bodies shorter than this are teasers, not the article.
const MIN_WORDS: usize = 50;

impl Guide {
    pub fn new(body: &str) -> Option<Guide> {
        let words = words(body);
        if words.len() < MIN_WORDS {
            return None;
        }
        Some(Guide {
            shingles: trigrams(&words).collect(),
            chars: body.chars().filter(|c| !c.is_whitespace()).count() as u32,
        })
    }

    /// The share of a text's word trigrams found in the stated body; `None` for texts too
    /// short to say.
    pub fn coverage(&self, text: &str) -> Option<f32> {
        let words = words(text);
        if words.len() < 3 {
            return None;
        }
        let (mut total, mut found) = (0u32, 0u32);
        for t in trigrams(&words) {
            total += 1;
            found += u32::from(self.shingles.contains(&t));
        }
        Some(found as f32 / total as f32)
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn trigrams(words: &[String]) -> impl Iterator<Item = u64> + '_ {
    words.windows(3).map(|w| {
        let mut h = FxHasher::default();
        for word in w {
            h.write(word.as_bytes());
            h.write_u8(0xff);
        }
        h.finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_of_paragraphs_against_the_stated_body() {
        let body = "Le candidat a tenu un meeting à Albi devant trois mille personnes. ".repeat(8);
        let g = Guide::new(&body).expect("long enough");
        assert_eq!(g.coverage("Le candidat a tenu un meeting à Albi"), Some(1.0));
        assert_eq!(g.coverage("Abonnez-vous à notre lettre d'information quotidienne"), Some(0.0));
        assert_eq!(g.coverage("Albi"), None);
        assert!(Guide::new("trop court").is_none());
    }
}
