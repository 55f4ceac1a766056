//! The findings as a spreadsheet: one row per finding (and per finding resolved since the last
//! run), with the columns an editor filters on. RFC 4180 (CRLF, quoting), UTF-8 with a
//! byte-order mark, every web-sourced field defused by [`super::escape::csv`].

use super::escape::csv;
use super::{Render, Report};
use crate::judge::Finding;
use crate::model::{stamp, wire_name};

/// The CSV renderer.
pub struct Csv;

const COLUMNS: &[&str] = &[
    "finding",
    "status",
    "severity",
    "rule",
    "outlet",
    "url",
    "title",
    "verdict",
    "instant",
    "provenance",
    "date_as_written",
    "window",
    "zones_inside",
    "matched_words",
    "matches",
    "first_reported",
];

impl Render for Csv {
    fn render(&self, r: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        // UTF-8's byte-order mark: without it, Excel reads the accents of titles as Latin-1.
        out.write_all("\u{FEFF}".as_bytes())?;
        let mut row = |fields: Vec<String>| -> std::io::Result<()> {
            let cells: Vec<String> = fields.iter().map(|f| csv(f)).collect();
            out.write_all(cells.join(",").as_bytes())?;
            out.write_all(b"\r\n")
        };
        row(COLUMNS.iter().map(|c| c.to_string()).collect())?;
        for f in &r.findings {
            row(finding(f))?;
        }
        for g in &r.resolved {
            let mut cells = vec![String::new(); COLUMNS.len()];
            cells[0].clone_from(&g.id);
            cells[1] = "resolved".into();
            cells[3].clone_from(&g.key.rule);
            cells[4].clone_from(&g.key.source);
            cells[5].clone_from(&g.key.url);
            cells[15] = stamp(g.first_reported);
            row(cells)?;
        }
        Ok(())
    }
}

fn finding(f: &Finding) -> Vec<String> {
    let t = &f.timing;
    // Fingerprint spans say how many words they reproduce; other passages count their own.
    let words: usize = f
        .spans
        .iter()
        .filter(|sp| sp.url.is_none())
        .map(|sp| match sp.words {
            Some(w) => w as usize,
            None => sp.quote.passage.split_whitespace().count() + sp.hidden_words.unwrap_or(0),
        })
        .sum();
    let matches: Vec<String> = f
        .spans
        .iter()
        .map(|sp| format!("{} of {}: {}", wire_name(&sp.matcher), sp.material, sp.excerpt))
        .collect();
    vec![
        f.id.clone(),
        f.tracking.as_ref().map(|t| wire_name(&t.state)).unwrap_or_default(),
        wire_name(&f.severity),
        f.rule.clone(),
        f.source.clone(),
        f.url.clone(),
        f.title.clone().unwrap_or_default(),
        wire_name(&t.verdict),
        t.instant.map(stamp).unwrap_or_default(),
        t.provenance.map(|p| wire_name(&p)).unwrap_or_default(),
        t.date.as_ref().map(|d| d.raw.clone()).unwrap_or_default(),
        f.window.clone(),
        t.zones_inside.join(" "),
        words.to_string(),
        matches.join(" | "),
        f.tracking.as_ref().map(|t| stamp(t.first_reported)).unwrap_or_default(),
    ]
}
