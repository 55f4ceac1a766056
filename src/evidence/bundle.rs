//! `blackout evidence bundle FINDING`: what a regulator attaches to a notice — the captures a
//! finding rests on as WARC, the text that was judged with the matched passages marked, the
//! rule as written (with its file's digest and the window's citations), the timing explained,
//! the run's manifest and its timestamp token, and a README saying how to check each piece
//! with standard tools. The finding is first replayed from the kept captures: a bundle is only
//! made of a finding that reproduces.
//!
//! The bundle is evidence, not a report: passages are shown whole (the outlet published them;
//! the regulator must be able to point at them). Handle it as the leak itself.

use super::export::{Part, export};
use super::replay::{With, replay};
use super::sealed::SealedRun;
use crate::fetch::Bodies;
use crate::model::Digest;
use crate::store::SealedFinding;
use base64::Engine as _;
use std::path::{Path, PathBuf};

/// One file of a bundle.
struct Piece {
    name: String,
    bytes: Vec<u8>,
}

/// Why a bundle could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("finding {id} does not come out of a replay of run {run}'s captures: {why}")]
    NotReproduced { id: String, run: i64, why: String },
    #[error(transparent)]
    Replay(#[from] super::replay::ReplayError),
    #[error(transparent)]
    Export(#[from] super::export::ExportError),
    #[error("cannot write the bundle to `{}`: {error}", path.display())]
    Write { path: PathBuf, error: std::io::Error },
}

/// What a bundle holds, by name.
pub struct Bundle {
    pieces: Vec<Piece>,
}

impl Bundle {
    /// The bundle of finding `f`, from `runs` (the run that first reported it, and the last).
    /// The last is the one replayed and shown: the finding as it stands (its timing may have
    /// become certain since the first, as more of the window's dates came in).
    pub fn make(f: &SealedFinding, runs: &[SealedRun], bodies: &dyn Bodies) -> Result<Bundle, BundleError> {
        let shown = runs.last().expect("a finding's runs");
        let n = shown.manifest.run;
        if shown.captures.is_empty() {
            return Err(BundleError::NotReproduced {
                id: f.id.clone(),
                run: n,
                why: "the run kept no capture (`--keep-captures none`): there is nothing to replay it from, nor to bundle".into(),
            });
        }
        let replayed = replay(shown, bodies, &With::default())?;
        let not = |why: &str| BundleError::NotReproduced {
            id: f.id.clone(),
            run: n,
            why: why.to_string(),
        };
        let mut report = replayed.report;
        let finding = report
            .findings
            .iter()
            .find(|x| x.id == f.id)
            .cloned()
            .ok_or_else(|| not("the replay does not find it (`blackout evidence verify` says whether the run was altered)"))?;
        let mut pieces = Vec::new();
        let (warc, _) = export(
            runs,
            &Part::Item {
                source: &f.source,
                url: &f.url,
            },
            bodies,
            Vec::new(),
        )?;
        pieces.push(Piece {
            name: "evidence.warc.gz".into(),
            bytes: warc,
        });
        for run in runs {
            let m = run.manifest.run;
            pieces.push(Piece {
                name: format!("manifest-run-{m}.json"),
                bytes: run.text.clone().into_bytes(),
            });
            if let Some(token) = &run.token
                && let Ok(der) = base64::engine::general_purpose::STANDARD.decode(token.trim())
            {
                pieces.push(Piece {
                    name: format!("manifest-run-{m}.tst"),
                    bytes: der,
                });
            }
        }
        // The rule as written, and the files it was read from.
        let mut rule = None;
        for (input, bytes) in shown.inputs.iter().filter(|(i, _)| i.role == "rules") {
            let text = String::from_utf8_lossy(bytes);
            // A name of plain characters, unique in the bundle (two rule files may share one).
            let base: String = Path::new(&input.path)
                .file_name()
                .map_or("rules.toml".into(), |n| n.to_string_lossy().into_owned())
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
                .collect();
            let taken = |n: &str| pieces.iter().any(|p: &Piece| p.name == format!("rules/{n}"));
            let mut name = base.clone();
            let mut k = 1;
            while taken(&name) {
                k += 1;
                name = format!("{k}-{base}");
            }
            if rule.is_none() {
                rule = rule_as_written(&text, &finding.rule).map(|r| (r, input.path.clone(), input.sha256.clone()));
            }
            pieces.push(Piece {
                name: format!("rules/{name}"),
                bytes: bytes.clone(),
            });
        }
        let window = report.windows.iter().find(|w| w.id == finding.window).cloned();
        let (rule_text, rule_file, rule_digest) = rule.ok_or_else(|| not("its rule is in none of the run's rule files"))?;
        let mut rule_piece = format!("# rule `{}` as written in {rule_file} ({rule_digest})\n", finding.rule);
        if let Some(w) = &window {
            rule_piece.push_str(&format!(
                "# window `{}` ({}, {}); its legal basis:\n",
                w.id,
                crate::model::wire_name(&w.category),
                crate::model::wire_name(&w.legal_force)
            ));
            for c in &w.basis {
                rule_piece.push_str(&format!(
                    "#   [{}] {}{}\n",
                    c.id,
                    c.title,
                    c.url.as_ref().map(|u| format!(" <{u}>")).unwrap_or_default()
                ));
            }
        }
        rule_piece.push('\n');
        rule_piece.push_str(&rule_text);
        pieces.push(Piece {
            name: "rule.toml".into(),
            bytes: rule_piece.into_bytes(),
        });
        // The text judged, the passages marked.
        let item = shown.record.items.iter().find(|i| i.source == f.source && i.url == f.url);
        let mut marked = String::new();
        // The finding's passages in one document's text (a link's span is empty).
        let spans_in = |document: &str| -> Vec<(usize, usize)> {
            finding
                .spans
                .iter()
                .filter(|s| s.document == document && s.start < s.end)
                .map(|s| (s.start, s.end))
                .collect()
        };
        if let Some(page) = item.and_then(|i| i.page.as_ref()) {
            let text = bodies
                .body(&page.text)
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            let spans = spans_in(&page.url);
            marked.push_str(&format!(
                "# the text blackout extracted from {} (decoded as {}), each matched passage between ⟦ and ⟧\n\n",
                page.url, page.encoding
            ));
            marked.push_str(&mark(&text, &spans));
        }
        for feed in item.map(|i| i.feeds.as_slice()).unwrap_or_default() {
            let spans = spans_in(&feed.listing);
            marked.push_str(&format!(
                "\n\n# what the feed {} said of it, as the rules read it, each matched passage between ⟦ and ⟧\n\n",
                feed.listing
            ));
            marked.push_str(&mark(&feed.text, &spans));
        }
        pieces.push(Piece {
            name: "text.txt".into(),
            bytes: marked.into_bytes(),
        });
        // The finding as the replay reports it, shown whole: rule, timing, passages.
        report.findings = vec![finding.clone()];
        report.items.retain(|i| i.source == f.source && i.url == f.url);
        report.cleared.clear();
        report.not_checked.clear();
        report.problems.retain(|p| p.source == f.source && p.url == f.url);
        report.sources.retain(|s| s.id == f.source);
        report.resolved.clear();
        report.suppressed.clear();
        let mut text = Vec::new();
        crate::report::Format::Text
            .renderer(false, crate::model::Severity::Notice)
            .render(&report, &mut text)
            .expect("writing to memory");
        pieces.push(Piece {
            name: "report.txt".into(),
            bytes: text,
        });
        let json = serde_json::json!({
            "finding": finding,
            "item": report.items.first(),
            "window": window,
            "runs": runs.iter().map(|r| serde_json::json!({ "run": r.manifest.run, "manifest": r.digest.to_string() })).collect::<Vec<_>>(),
        });
        pieces.push(Piece {
            name: "finding.json".into(),
            bytes: serde_json::to_vec_pretty(&json).expect("JSON serialises"),
        });
        pieces.push(Piece {
            name: "README.txt".into(),
            bytes: readme(f, runs).into_bytes(),
        });
        let sums: String = pieces
            .iter()
            .map(|p| format!("{}  {}\n", Digest::of(&p.bytes).hex(), p.name))
            .collect();
        pieces.push(Piece {
            name: "SHA256SUMS".into(),
            bytes: sums.into_bytes(),
        });
        Ok(Bundle { pieces })
    }

    /// The names of its files, in order.
    pub fn names(&self) -> Vec<&str> {
        self.pieces.iter().map(|p| p.name.as_str()).collect()
    }

    /// Writes the bundle: as a zip file when `to` ends in `.zip`, else into the directory `to`
    /// (created; one that exists must be empty).
    pub fn write(&self, to: &Path) -> Result<(), BundleError> {
        let fail = |error| BundleError::Write {
            path: to.to_path_buf(),
            error,
        };
        let zip = to.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        if zip {
            // A bundle is not overwritten: one that exists stays as it is.
            if to.exists() {
                return Err(fail(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "it exists: name a new file",
                )));
            }
            return crate::files::write_whole(to, &self.zip(), true).map_err(fail);
        }
        if to.exists() && std::fs::read_dir(to).map_err(fail)?.next().is_some() {
            return Err(fail(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the directory is not empty: name a new one, or a .zip file",
            )));
        }
        for p in &self.pieces {
            let file = to.join(&p.name);
            file.parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| crate::files::write_whole(&file, &p.bytes, true))
                .map_err(fail)?;
        }
        Ok(())
    }

    /// A zip file of the pieces, stored (the WARC is compressed already; the rest is small),
    /// readable by `unzip` and every archive tool.
    fn zip(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for p in &self.pieces {
            let mut crc = flate2::Crc::new();
            crc.update(&p.bytes);
            let (crc, size, name) = (crc.sum(), p.bytes.len() as u32, p.name.as_bytes());
            let offset = out.len() as u32;
            // Version 2.0, UTF-8 names (bit 11), stored, no time (1980-01-01).
            let fixed = |sig: u32| {
                let mut h = sig.to_le_bytes().to_vec();
                if sig == 0x0201_4b50 {
                    // Made by: Unix (its permissions below), version 2.0.
                    h.extend(((3u16 << 8) | 20).to_le_bytes());
                }
                h.extend(20u16.to_le_bytes());
                h.extend(0x0800u16.to_le_bytes());
                h.extend(0u16.to_le_bytes());
                h.extend(0u16.to_le_bytes());
                h.extend(0x0021u16.to_le_bytes());
                h.extend(crc.to_le_bytes());
                h.extend(size.to_le_bytes());
                h.extend(size.to_le_bytes());
                h.extend((name.len() as u16).to_le_bytes());
                h.extend(0u16.to_le_bytes());
                h
            };
            out.extend(fixed(0x0403_4b50));
            out.extend(name);
            out.extend(&p.bytes);
            central.extend(fixed(0x0201_4b50));
            // Comment length, disk, internal and external attributes, offset.
            central.extend(0u16.to_le_bytes());
            central.extend(0u16.to_le_bytes());
            central.extend(0u16.to_le_bytes());
            central.extend((0o100644u32 << 16).to_le_bytes());
            central.extend(offset.to_le_bytes());
            central.extend(name);
        }
        let at = out.len() as u32;
        let count = self.pieces.len() as u16;
        out.extend(&central);
        out.extend(0x0605_4b50u32.to_le_bytes());
        out.extend([0u8; 4]);
        out.extend(count.to_le_bytes());
        out.extend(count.to_le_bytes());
        out.extend((central.len() as u32).to_le_bytes());
        out.extend(at.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }
}

/// The `[[rule]]` table of `id` as the file writes it: from its header to the next table
/// of the file's top level (its `[[rule.test]]` tables go with it).
fn rule_as_written(text: &str, id: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let quoted = [format!("\"{id}\""), format!("'{id}'")];
    let mut start = None;
    for (n, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t == "[[rule]]" {
            start = Some(n);
        } else if let Some(s) = start
            && t.starts_with("id")
            && t.split_once('=')
                .is_some_and(|(k, v)| k.trim() == "id" && quoted.iter().any(|q| v.trim() == q))
        {
            let end = lines[n + 1..]
                .iter()
                .position(|l| {
                    let l = l.trim();
                    l.starts_with('[') && !l.starts_with("[[rule.")
                })
                .map_or(lines.len(), |p| n + 1 + p);
            return Some(lines[s..end].join("\n").trim_end().to_string() + "\n");
        }
    }
    None
}

/// `text` with each `(start, end)` byte span between ⟦ and ⟧ (overlaps merged).
fn mark(text: &str, spans: &[(usize, usize)]) -> String {
    let mut spans: Vec<(usize, usize)> = spans
        .iter()
        .filter(|(s, e)| *e <= text.len() && text.is_char_boundary(*s) && text.is_char_boundary(*e))
        .copied()
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let mut out = String::with_capacity(text.len() + merged.len() * 6);
    let mut at = 0;
    for (s, e) in merged {
        out.push_str(&text[at..s]);
        out.push('⟦');
        out.push_str(&text[s..e]);
        out.push('⟧');
        at = e;
    }
    out.push_str(&text[at..]);
    out
}

/// How to check each piece with standard tools.
fn readme(f: &SealedFinding, runs: &[SealedRun]) -> String {
    let shown = runs.last().expect("a finding's runs");
    let mut s = format!(
        "Evidence of blackout finding {id}: rule `{rule}`, outlet `{source}`\n{url}\n\n\
         Made by {tool} from the state store's run {run} (evaluated at {at}), the last that\n\
         reported it{earlier}.\n\
         The finding was replayed from the kept captures before this bundle was written: the\n\
         same rules, run again over what was fetched then, find it again.\n\n\
         This bundle holds the passages of embargoed material the outlet published, whole.\n\
         Handle it as the material itself.\n\n",
        id = f.id,
        rule = f.rule,
        source = f.source,
        url = f.url,
        tool = crate::report::TOOL_BUILD,
        run = shown.manifest.run,
        at = shown.manifest.evaluated_at,
        earlier = match runs.len() {
            2 => format!("; run {} first reported it, and its manifest is here too", runs[0].manifest.run),
            _ => String::new(),
        },
    );
    s.push_str(
        "FILES\n\
         evidence.warc.gz     the captures the finding rests on (WARC/1.1): each request blackout\n\
         \x20                    sent and the response (status, headers, body after content decoding),\n\
         \x20                    the server's address and the instant, the rule files as read, and\n\
         \x20                    what blackout judged\n\
         manifest-run-N.json  each run's manifest: every capture, rule file and finding by SHA-256\n\
         manifest-run-N.tst   its RFC 3161 timestamp token, when the run asked a TSA for one\n\
         rule.toml            the rule as written, with its file's digest and the window's legal basis\n\
         rules/               the rule files the run read (its fingerprint indexes are in the WARC)\n\
         text.txt             the text blackout extracted from the page, matched passages marked\n\
         report.txt           the finding explained: its timing (every date with where it was\n\
         \x20                    found, when blackout first saw the item, the window in each zone)\n\
         finding.json         the same, as data\n\
         SHA256SUMS           the digest of every file above\n\n\
         HOW TO CHECK\n\
         1. Nothing in the bundle changed:\n\
         \x20     sha256sum -c SHA256SUMS\n\
         2. The WARC file is intact, each record's digests recomputed:\n\
         \x20     pip install warcio && warcio check -v evidence.warc.gz\n\
         \x20  or blackout evidence verify evidence.warc.gz\n\
         3. The manifest is the one the store chained (its digest is in the WARC file's warcinfo,\n\
         \x20  in every report of the run, and in the next run's manifest as `previous`):\n",
    );
    for run in runs {
        let m = run.manifest.run;
        s.push_str(&format!("\x20     sha256sum manifest-run-{m}.json   # {}\n", run.digest.hex()));
    }
    s.push_str("4. The timestamp (when present): the TSA signed the manifest's digest at the time it says:\n");
    for run in runs {
        let m = run.manifest.run;
        s.push_str(&format!(
            "\x20     openssl ts -verify -digest {} -token_in -in manifest-run-{m}.tst -CAfile TSA-CA.pem\n",
            run.digest.hex()
        ));
    }
    s.push_str(&format!(
        "\x20  (TSA-CA.pem: the certificate of the authority's CA, published by the TSA.)\n\
         \x20  openssl ts -reply -token_in -in manifest-run-N.tst -text   prints what it says.\n\
         5. The finding follows from the captures: with blackout,\n\
         \x20     blackout replay evidence.warc.gz --run {run} --show-excerpts\n\
         \x20  runs the same rules over the same captures and reports it again (exit 1; 3 when\n\
         \x20  the run also read outlets whose captures this bundle does not carry: those are\n\
         \x20  reported not checked, which says nothing of this finding).\n\n\
         WHAT THIS PROVES, AND WHAT IT DOES NOT\n\
         blackout records what a server sent to this client, at this time, from this address. It\n\
         does not prove what other readers were sent (a server can answer differently by place,\n\
         time or client), nor who wrote the page. A manifest shows that nothing it names changed\n\
         after it was written; a timestamp token shows it was written no later than its time.\n",
        run = shown.manifest.run
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_is_cut_as_written_with_its_tests() {
        let text = "[election]\nid = \"x\"\n\n[[rule]]\nid = \"a\"\nseverity = \"notice\"\n\n[[rule]]\nid = \"b\" \nmessage = \"B\"\n\n[[rule.test]]\ntext = \"t\"\n\n[[material]]\nid = \"m\"\n";
        assert_eq!(
            rule_as_written(text, "b").unwrap(),
            "[[rule]]\nid = \"b\" \nmessage = \"B\"\n\n[[rule.test]]\ntext = \"t\"\n"
        );
        assert_eq!(rule_as_written(text, "a").unwrap(), "[[rule]]\nid = \"a\"\nseverity = \"notice\"\n");
        assert_eq!(rule_as_written(text, "c"), None);
    }

    #[test]
    fn passages_are_marked_by_their_byte_offsets() {
        let text = "Élection : les courriels disent ceci.";
        let s = text.find("courriels").unwrap();
        assert_eq!(mark(text, &[(s, s + 9), (s + 3, s + 9)]), "Élection : les ⟦courriels⟧ disent ceci.");
    }
}
