//! Views of a leaked document that an article may quote: the text as it stands, and, for an
//! e-mail thread, the text of its messages without the header blocks between them.
//!
//! A journalist quoting a thread copies what the people wrote: a passage that runs from the
//! end of one message into the quoted message below it skips the `-----Original Message-----`,
//! `From:`, `Sent:`, `To:`, `Subject:` lines in between. In the document as written those lines
//! cut the passage in two runs shorter than it, which may each be too short to be found. The
//! bodies view removes them, so the passage is one run there. Both views are indexed; of the
//! bodies view only the shingles around the junctions are new (see `Index::build`).

/// The bodies view: the text without header blocks, and the byte offsets in it where blocks
/// were removed.
#[derive(Debug, PartialEq, Eq)]
pub struct Bodies {
    pub text: String,
    pub junctions: Vec<usize>,
}

/// Header field names that open or continue the header block of a quoted or forwarded message,
/// in the languages of the mail clients most likely to be met (lower case, without the colon).
const FIELDS: &[&str] = &[
    "from",
    "sent",
    "date",
    "to",
    "cc",
    "bcc",
    "subject",
    "reply-to",
    "importance",
    "attachments",
    "de",
    "envoyé",
    "à",
    "a",
    "cci",
    "objet",
    "pièces jointes",
    "von",
    "gesendet",
    "an",
    "betreff",
    "enviado",
    "para",
    "asunto",
];

/// Separator lines that announce a quoted or forwarded message, in lower case.
const SEPARATORS: &[&str] = &[
    "original message",
    "forwarded message",
    "message d'origine",
    "message d’origine",
    "message transféré",
    "début du message réexpédié",
    "ursprüngliche nachricht",
    "mensaje original",
];

/// The document without header blocks of messages, or `None` when it has none. A block starts
/// at a separator line or a header field line and runs to the next blank line, as the header
/// of a message does (a long address wraps onto lines of its own).
pub fn bodies(text: &str) -> Option<Bodies> {
    let mut out = Bodies {
        text: String::new(),
        junctions: Vec::new(),
    };
    let mut in_header = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if !in_header && (is_separator(trimmed) || is_field(trimmed)) {
            in_header = true;
            if out.junctions.last() != Some(&out.text.len()) {
                out.junctions.push(out.text.len());
            }
            continue;
        }
        if in_header {
            in_header = !trimmed.is_empty();
            continue;
        }
        out.text.push_str(line);
    }
    (!out.junctions.is_empty()).then_some(out)
}

fn is_separator(line: &str) -> bool {
    let core = line.trim_matches(|c: char| c == '-' || c == '_' || c == '=' || c == ':' || c.is_whitespace());
    core.len() < 40 && SEPARATORS.contains(&core.to_lowercase().as_str())
}

fn is_field(line: &str) -> bool {
    let line = line.trim_start_matches(|c: char| c == '>' || c.is_whitespace());
    let Some((name, _)) = line.split_once(':') else {
        return false;
    };
    let name = name.trim_end();
    name.len() <= 16 && FIELDS.contains(&name.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_blocks_of_a_thread_are_removed_up_to_the_blank_line() {
        let thread = "Thanks for the headsup. I look forward to seeing him.\n\n    Original Message\nFrom: Madeleine Albright [mailto:\nmadeleine@example.org]\nSent: Tuesday, January 31, 2012 03:21 PM\nTo: H\nSubject: Spanish Foreign Minister\n\nFYI. You are going to see him.\n";
        let b = bodies(thread).unwrap();
        assert_eq!(
            b.text,
            "Thanks for the headsup. I look forward to seeing him.\n\nFYI. You are going to see him.\n"
        );
        assert_eq!(b.junctions, vec![55]);
    }

    #[test]
    fn french_headers_and_separators() {
        let thread = "Merci, on en parle demain.\n\n-------- Message d'origine --------\nDe : Alice\nEnvoyé : jeudi 27 avril 2017 18:02\nÀ : Bob\nObjet : Budget\n\nVoici le budget.\n";
        assert_eq!(bodies(thread).unwrap().text, "Merci, on en parle demain.\n\nVoici le budget.\n");
    }

    #[test]
    fn plain_text_has_no_second_view() {
        assert_eq!(bodies("A note: nothing here is a header.\nTo be continued.\n"), None);
    }
}
