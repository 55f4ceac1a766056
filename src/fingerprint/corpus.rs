//! Reading a leaked corpus: text files, e-mails (MIME decoded), mailboxes and HTML pages.
//!
//! Each document gets a stable id: its path relative to the corpus root, or for a message in
//! an mbox, its Message-ID (`path#n` without one). PDF and office files are counted and
//! skipped: no well-kept pure-Rust crate was found to extract their text reliably, and a
//! partial extraction would silently weaken the index.

use crate::charset;
use crate::extract;
use mail_parser::MessageParser;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What reading a corpus found.
#[derive(Debug, Default)]
pub struct CorpusReport {
    /// Documents read, by kind (`txt`, `eml`, `mbox`, `html`).
    pub read: BTreeMap<&'static str, usize>,
    /// Files skipped, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Files that could not be read at all, with the reason.
    pub failed: Vec<(PathBuf, String)>,
}

/// A corpus root that could not be listed.
#[derive(Debug, thiserror::Error)]
#[error("cannot read corpus `{}`: {error}", root.display())]
pub struct CorpusError {
    pub root: PathBuf,
    pub error: std::io::Error,
}

/// Reads every document under `roots` (files or directories, recursively, in path order).
pub fn read_corpus(roots: &[PathBuf]) -> Result<(Vec<(String, String)>, CorpusReport), CorpusError> {
    let mut docs = Vec::new();
    let mut report = CorpusReport::default();
    for root in roots {
        let files = crate::walk::files_under(root).map_err(|error| CorpusError { root: root.clone(), error })?;
        let base = if root.is_dir() {
            root.clone()
        } else {
            root.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        for file in files {
            let id = file.strip_prefix(&base).unwrap_or(&file).to_string_lossy().replace('\\', "/");
            read_file(&file, &id, &mut docs, &mut report);
        }
    }
    Ok((docs, report))
}

fn read_file(path: &Path, id: &str, docs: &mut Vec<(String, String)>, report: &mut CorpusReport) {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let kind: &'static str = match ext.as_str() {
        "txt" | "text" | "md" => "txt",
        "eml" | "msg" => "eml",
        "mbox" | "mbx" => "mbox",
        "html" | "htm" | "xhtml" => "html",
        "pdf" | "doc" | "docx" | "xls" | "xlsx" | "ppt" | "pptx" | "odt" | "ods" | "rtf" => {
            *report.skipped.entry(format!("{ext} (no reliable text extraction)")).or_default() += 1;
            return;
        }
        _ => {
            *report
                .skipped
                .entry(format!(
                    "other file types ({})",
                    if ext.is_empty() { "no extension" } else { "unknown extension" }
                ))
                .or_default() += 1;
            return;
        }
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            report.failed.push((path.to_path_buf(), e.to_string()));
            return;
        }
    };
    let before = docs.len();
    match kind {
        "txt" => docs.push((id.to_string(), charset::decode(&bytes, None, None, None).text)),
        "eml" => match message_text(&bytes) {
            Some((_, text)) => docs.push((id.to_string(), text)),
            None => report.failed.push((path.to_path_buf(), "not a parseable e-mail".into())),
        },
        "mbox" => {
            let reader = std::io::BufReader::new(bytes.as_slice());
            for (n, message) in mail_parser::mailbox::mbox::MessageIterator::new(reader).enumerate() {
                match message.ok().and_then(|m| message_text(m.contents())) {
                    Some((message_id, text)) => docs.push((message_id.unwrap_or_else(|| format!("{id}#{}", n + 1)), text)),
                    None => report
                        .failed
                        .push((path.to_path_buf(), format!("message {} is not parseable", n + 1))),
                }
            }
        }
        _ => {
            let text = charset::decode(&bytes, None, None, None).text;
            let base = url::Url::parse("file:///corpus/").expect("static URL");
            match extract::extract(&text, &base, None) {
                Ok(x) => docs.push((id.to_string(), x.article.text)),
                Err(e) => report.failed.push((path.to_path_buf(), e.to_string())),
            }
        }
    }
    *report.read.entry(kind).or_default() += docs.len() - before;
}

/// The indexed text of an e-mail: its main headers as they would be pasted, then every text
/// part (HTML parts converted to text), with transfer encodings and charsets decoded.
fn message_text(raw: &[u8]) -> Option<(Option<String>, String)> {
    let m = MessageParser::default().parse(raw)?;
    let mut text = String::new();
    let addresses = |a: Option<&mail_parser::Address>| {
        a.map(|a| {
            a.iter().map(|x| match (x.name(), x.address()) {
                (Some(n), Some(e)) => format!("{n} <{e}>"),
                (Some(n), None) => n.to_string(),
                (None, Some(e)) => e.to_string(),
                (None, None) => String::new(),
            })
        })
        .map(|v| v.collect::<Vec<_>>().join(", "))
    };
    for (label, value) in [
        ("From", addresses(m.from())),
        ("To", addresses(m.to())),
        ("Cc", addresses(m.cc())),
        ("Subject", m.subject().map(str::to_string)),
    ] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            text.push_str(&format!("{label}: {v}\n"));
        }
    }
    let mut i = 0;
    while let Some(part) = m.body_text(i) {
        text.push('\n');
        text.push_str(&part);
        i += 1;
    }
    Some((m.message_id().map(str::to_string), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_mail_mbox_and_html_and_counts_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir(p.join("sub")).unwrap();
        std::fs::write(p.join("a.txt"), "Une note interne.").unwrap();
        std::fs::write(
            p.join("sub/b.eml"),
            "From: =?utf-8?q?Ren=C3=A9?= <rene@example.org>\r\nTo: a@example.org\r\nSubject: Budget\r\nMessage-ID: <b@example.org>\r\n\
             Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nLe virement est valid=E9.\r\n",
        )
        .unwrap();
        std::fs::write(
            p.join("box.mbox"),
            "From a@example.org Mon Jan  1 00:00:00 2017\nMessage-ID: <m1@example.org>\nSubject: un\n\nPremier message.\n\n\
             From b@example.org Mon Jan  1 00:00:00 2017\nSubject: deux\nContent-Transfer-Encoding: base64\n\nU2Vjb25kIG1lc3NhZ2Uu\n",
        )
        .unwrap();
        std::fs::write(
            p.join("c.html"),
            "<html><body><nav>menu</nav><article><p>Compte rendu.</p></article></body></html>",
        )
        .unwrap();
        std::fs::write(p.join("d.pdf"), "%PDF-1.4").unwrap();
        let (docs, report) = read_corpus(&[p.to_path_buf()]).unwrap();
        let ids: Vec<&str> = docs.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, vec!["a.txt", "m1@example.org", "box.mbox#2", "c.html", "sub/b.eml"]);
        let b = &docs[4].1;
        assert!(
            b.contains("From: René <rene@example.org>") && b.contains("Subject: Budget") && b.contains("Le virement est validé."),
            "{b}"
        );
        assert!(docs[2].1.contains("Second message."));
        assert_eq!(docs[3].1, "Compte rendu.");
        assert_eq!(report.read.get("mbox"), Some(&2));
        assert_eq!(report.skipped.get("pdf (no reliable text extraction)"), Some(&1));
    }
}
