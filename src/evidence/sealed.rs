//! A sealed run, read whole: its manifest, captures, record and the files it read its rules
//! from, from the state store or from an exported WARC file, every piece checked against its
//! digest as it is read. Export, replay and the bundle all start from one.

use super::warc::{Reader, Record, RecordType};
use crate::fetch::{Bodies, Captured};
use crate::model::Digest;
use crate::store::manifest::{Input, Manifest};
use crate::store::{Blobs, RunRecord, Store, StoreError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One run's evidence.
#[derive(Debug, Clone)]
pub struct SealedRun {
    pub manifest: Manifest,
    /// The manifest's canonical text, and its digest.
    pub text: String,
    pub digest: Digest,
    /// The timestamp token over the digest (DER, base64), when there is one.
    pub token: Option<String>,
    pub captures: Vec<Captured>,
    /// How many of the manifest's captures are not here (an export of one finding's).
    pub left_out: usize,
    pub record: RunRecord,
    /// The record as kept (its digest is the manifest's `record`), or, from an export of one
    /// finding's, the lines about its item (`whole_record` false).
    pub record_bytes: Vec<u8>,
    pub whole_record: bool,
    pub inputs: Vec<(Input, Vec<u8>)>,
}

/// Why a run's evidence cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SealedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "run {run} has no manifest: it was recorded before evidence was kept, or is not in the store (`blackout state runs` lists them)"
    )]
    NoManifest { run: i64 },
    // `what` may quote the files' own words (addresses, paths): made inert for a terminal.
    #[error(
        "run {run}'s evidence does not hold: {} (`blackout evidence verify --run {run}` says more)",
        crate::report::inert(what)
    )]
    Damaged { run: i64, what: String },
    #[error("cannot read `{}`: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("`{}`: {error}", path.display())]
    Warc { path: PathBuf, error: super::warc::WarcError },
    #[error("`{}` holds no blackout run (no manifest record): was it written by `blackout evidence export`?", path.display())]
    NotBlackout { path: PathBuf },
    #[error("the WARC files hold runs {runs:?}: name one with `--run N`")]
    Ambiguous { runs: Vec<i64> },
    #[error("the WARC files hold no run {run}; they hold {runs:?}")]
    NoSuchRun { run: i64, runs: Vec<i64> },
}

impl SealedRun {
    /// Run `run` from the store, each piece checked against the manifest.
    pub fn from_store(store: &mut Store, run: i64) -> Result<SealedRun, SealedError> {
        let blobs = store.blobs();
        let row = store.manifests(Some(run))?.pop().ok_or(SealedError::NoManifest { run })?;
        let damaged = |what: String| SealedError::Damaged { run, what };
        let digest = Digest::of(row.text.as_bytes());
        if digest.to_string() != row.digest {
            return Err(damaged("its manifest was altered".into()));
        }
        let manifest = row.parse().map_err(|e| damaged(format!("its manifest does not parse: {e}")))?;
        let rows = store.capture_rows(run)?;
        if rows.len() != manifest.captures.len() {
            return Err(damaged("captures were added or removed".into()));
        }
        let mut captures = Vec::with_capacity(rows.len());
        for (row, entry) in rows.iter().zip(&manifest.captures) {
            if Digest::of(row.record.as_bytes()).to_string() != entry.record {
                return Err(damaged(format!("capture {} ({}) was altered", row.seq, row.url)));
            }
            captures.push(serde_json::from_str(&row.record).map_err(|e| damaged(format!("capture {}: {e}", row.seq)))?);
        }
        let (record, record_bytes) = read_record(&blobs, &manifest).map_err(damaged)?;
        let mut inputs = Vec::new();
        for input in &manifest.inputs {
            let bytes = input
                .sha256
                .parse::<Digest>()
                .map_err(&damaged)
                .and_then(|d| blobs.get(&d).map_err(|e| damaged(e.to_string())))?;
            inputs.push((input.clone(), bytes));
        }
        Ok(SealedRun {
            manifest,
            text: row.text,
            digest,
            token: row.token,
            captures,
            left_out: 0,
            record,
            record_bytes,
            whole_record: true,
            inputs,
        })
    }

    /// The captures an item rests on: those of the documents it was read from.
    pub fn captures_of(&self, source: &str, url: &str) -> Vec<&Captured> {
        let documents: Vec<&String> = self
            .record
            .items
            .iter()
            .filter(|i| i.source == source && i.url == url)
            .flat_map(|i| i.documents.iter())
            .collect();
        self.captures
            .iter()
            .filter(|c| documents.iter().any(|d| **d == c.url || **d == c.final_url))
            .collect()
    }
}

fn read_record(blobs: &Blobs, m: &Manifest) -> Result<(RunRecord, Vec<u8>), String> {
    let d: Digest = m.record.parse()?;
    let bytes = blobs.get(&d).map_err(|e| format!("its record: {e}"))?;
    Ok((RunRecord::parse(&bytes)?, bytes))
}

/// The store's blobs as a replay's bodies.
impl Bodies for Blobs {
    fn body(&self, digest: &Digest) -> Result<Vec<u8>, String> {
        self.get(digest).map_err(|e| e.to_string())
    }
}

/// What WARC files exported by blackout hold: the runs, and every body by its digest.
pub struct WarcEvidence {
    pub runs: Vec<SealedRun>,
    pub bodies: HashMap<Digest, Vec<u8>>,
    /// Records of blackout's that could not be read (a verification names each).
    pub unreadable: Vec<String>,
    /// Every other record, as a verification compares it with what the captures say it must be.
    pub seen: Vec<Seen>,
    /// What the `warcinfo` records say of each run: `(run, field, value)`, as
    /// [`super::export::run_fields`] writes them.
    pub named: Vec<(i64, String, String)>,
    /// Records of a kind blackout's exports never hold (added to the file after it was
    /// written), described.
    pub strays: Vec<String>,
}

/// A record as a verification compares it: what it is, of what, when, its named fields (but
/// the ids linking it to others, which each export draws anew) and the digest of its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub kind: RecordType,
    pub target: String,
    pub date: chrono::DateTime<chrono::Utc>,
    /// Sorted, names in lower case: `WARC-IP-Address`, `WARC-Truncated`, `WARC-Payload-Digest`,
    /// `WARC-Profile`, `Content-Type`, …
    pub fields: Vec<(String, String)>,
    pub block: Digest,
}

impl Seen {
    pub fn of(r: &Record) -> Seen {
        let mut fields: Vec<(String, String)> = r
            .fields
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
            .filter(|(n, _)| !matches!(n.as_str(), "warc-concurrent-to" | "warc-refers-to"))
            .collect();
        fields.sort();
        Seen {
            kind: r.kind,
            target: r.get("WARC-Target-URI").unwrap_or_default().to_string(),
            date: r.date,
            fields,
            block: Digest::of(&r.block),
        }
    }

    /// An item's record, compared without the page's text (which the file holds only there):
    /// the text is checked against the digest the run's record names for it instead.
    pub fn of_item(r: &Record) -> Result<Seen, String> {
        let mut v: serde_json::Value = serde_json::from_slice(&r.block).map_err(|e| format!("it does not parse: {e}"))?;
        let named = v["page"]["text"].as_str().map(str::to_string);
        if let (Some(text), Some(named)) = (v["text"].as_str(), &named)
            && Digest::of(text.as_bytes()).to_string() != *named
        {
            return Err(format!("its text is not the one the run's record names ({named})"));
        }
        if let Some(o) = v.as_object_mut() {
            o.remove("text");
            o.remove("text_missing");
        }
        Ok(Seen {
            block: Digest::of(&crate::store::manifest::canonical_json(&v)),
            ..Seen::of(r)
        })
    }
}

impl Bodies for WarcEvidence {
    fn body(&self, digest: &Digest) -> Result<Vec<u8>, String> {
        self.bodies
            .get(digest)
            .cloned()
            .ok_or_else(|| format!("no record of the WARC files holds the body {digest}"))
    }
}

/// The URI blackout's own records carry: `urn:blackout:run:N:WHAT`.
pub fn urn(run: i64, what: &str) -> String {
    format!("urn:blackout:run:{run}:{what}")
}

/// What blackout's exports say of a record, in `WARC-Blackout-Kind`.
pub mod kind {
    pub const MANIFEST: &str = "manifest";
    pub const TIMESTAMP: &str = "timestamp";
    pub const INPUT: &str = "input";
    /// The run's whole record.
    pub const RECORD: &str = "record";
    /// The lines of the record about one item (an export of one finding's).
    pub const RECORD_PART: &str = "record-part";
    pub const CAPTURE: &str = "capture";
    pub const ITEM: &str = "item";
    /// The body a 304 confirmed, when no earlier record of the file holds it.
    pub const CONFIRMED_BODY: &str = "confirmed-body";
}

/// The records of WARC files, sorted by what a run needs.
#[derive(Default)]
struct Gathered {
    manifests: Vec<(u64, String)>,
    /// Whole run records, by their digest (the manifest's `record`).
    records: HashMap<Digest, Vec<u8>>,
    parts: HashMap<i64, Vec<u8>>,
    captures: HashMap<String, Captured>,
    files: HashMap<Digest, Vec<u8>>,
    tokens: HashMap<i64, String>,
    bodies: HashMap<Digest, Vec<u8>>,
    unreadable: Vec<String>,
    seen: Vec<Seen>,
    named: Vec<(i64, String, String)>,
    strays: Vec<String>,
}

impl WarcEvidence {
    /// Reads WARC files written by `blackout evidence export`, every record's digests
    /// checked (an altered record stops the read, named by its file, offset and id), every
    /// piece of a run checked against its manifest.
    pub fn read(paths: &[PathBuf]) -> Result<WarcEvidence, SealedError> {
        let mut g = Gathered::default();
        for path in paths {
            let file = std::fs::File::open(path).map_err(|error| SealedError::Io { path: path.clone(), error })?;
            for read in Reader::new(std::io::BufReader::new(file)) {
                let (offset, r) = read.map_err(|error| SealedError::Warc { path: path.clone(), error })?;
                g.take(offset, r);
            }
        }
        if g.manifests.is_empty() {
            return Err(SealedError::NotBlackout {
                path: paths.first().cloned().unwrap_or_default(),
            });
        }
        let mut runs: Vec<SealedRun> = Vec::new();
        let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
        for (offset, text) in std::mem::take(&mut g.manifests) {
            let digest = Digest::of(text.as_bytes());
            let manifest: Manifest = match serde_json::from_str(&text) {
                Ok(m) => m,
                Err(e) => {
                    g.unreadable.push(format!("the manifest at byte {offset} does not parse: {e}"));
                    continue;
                }
            };
            let run = manifest.run;
            // The same run in two files (an export of it, and of one of its findings) is one run;
            // two different manifests of one run are not.
            if let Some(other) = runs.iter().find(|r| r.manifest.run == run) {
                if other.digest != digest {
                    g.unreadable.push(format!(
                        "two different manifests of run {run} (the second at byte {offset} of its file)"
                    ));
                }
                continue;
            }
            let damaged = |what: String| SealedError::Damaged { run, what };
            let whole = manifest.record.parse::<Digest>().ok().and_then(|d| g.records.get(&d));
            let (record_bytes, whole_record) = match (whole, g.parts.get(&run)) {
                (Some(r), _) => (r.clone(), true),
                (None, Some(part)) => (part.clone(), false),
                (None, None) => {
                    return Err(damaged(
                        "the WARC files hold no record of the run whose digest its manifest names".into(),
                    ));
                }
            };
            let record = RunRecord::parse(&record_bytes).map_err(damaged)?;
            // Captures are named by their canonical record's digest: one left out (an export of
            // one finding's) is missing here, one altered is a record no manifest names.
            let mut run_captures = Vec::new();
            let mut left_out = 0;
            for entry in &manifest.captures {
                match g.captures.get(&entry.record) {
                    Some(c) => {
                        used.insert(entry.record.clone());
                        run_captures.push(c.clone());
                    }
                    None => left_out += 1,
                }
            }
            let mut inputs = Vec::new();
            for input in &manifest.inputs {
                let bytes = input
                    .sha256
                    .parse::<Digest>()
                    .ok()
                    .and_then(|d| g.files.get(&d))
                    .ok_or_else(|| damaged(format!("the {} file `{}` is not in the WARC files", input.role, input.path)))?;
                inputs.push((input.clone(), bytes.clone()));
            }
            runs.push(SealedRun {
                token: g.tokens.get(&run).cloned(),
                manifest,
                text,
                digest,
                captures: run_captures,
                left_out,
                record,
                record_bytes,
                whole_record,
                inputs,
            });
        }
        // Every run's piece is named by its manifest; one no manifest names was added.
        let named_inputs: std::collections::HashSet<Digest> = runs
            .iter()
            .flat_map(|r| r.manifest.inputs.iter().filter_map(|i| i.sha256.parse().ok()))
            .collect();
        for d in g.files.keys().filter(|d| !named_inputs.contains(d)) {
            g.strays
                .push(format!("a resource record (`{}`) {d} that no manifest names", kind::INPUT));
        }
        let named_records: std::collections::HashSet<Digest> = runs.iter().filter_map(|r| r.manifest.record.parse().ok()).collect();
        for r in g.records.keys().filter(|d| !named_records.contains(d)) {
            g.strays
                .push(format!("a metadata record (`{}`) {r} that no manifest names", kind::RECORD));
        }
        let held = |n: &i64| runs.iter().any(|r| r.manifest.run == *n);
        for n in g.parts.keys().filter(|n| !held(n)) {
            g.strays.push(format!(
                "a metadata record (`{}`) of run {n}, whose manifest the files do not hold",
                kind::RECORD_PART
            ));
        }
        for n in g.tokens.keys().filter(|n| !held(n)) {
            g.strays.push(format!(
                "a metadata record (`{}`) of run {n}, whose manifest the files do not hold",
                kind::TIMESTAMP
            ));
        }
        if let Some((_, c)) = g.captures.iter().find(|(d, _)| !used.contains(*d)) {
            return Err(SealedError::Damaged {
                run: runs.first().map_or(0, |r| r.manifest.run),
                what: format!("the capture of {} matches no manifest's: it was altered", c.url),
            });
        }
        runs.sort_by_key(|r| r.manifest.run);
        Ok(WarcEvidence {
            runs,
            bodies: g.bodies,
            unreadable: g.unreadable,
            seen: g.seen,
            named: g.named,
            strays: g.strays,
        })
    }

    /// The run to replay: `run`, or the only one.
    pub fn run(&self, run: Option<i64>) -> Result<&SealedRun, SealedError> {
        let runs: Vec<i64> = self.runs.iter().map(|r| r.manifest.run).collect();
        match run {
            Some(n) => self
                .runs
                .iter()
                .find(|r| r.manifest.run == n)
                .ok_or(SealedError::NoSuchRun { run: n, runs }),
            None if self.runs.len() == 1 => Ok(&self.runs[0]),
            None => Err(SealedError::Ambiguous { runs }),
        }
    }
}

impl Gathered {
    /// Sorts one record into what a run needs.
    fn take(&mut self, offset: u64, r: Record) {
        let target = r.get("WARC-Target-URI").unwrap_or_default().to_string();
        let said = r.get("WARC-Blackout-Kind").map(str::to_string);
        let run = || -> i64 {
            target
                .strip_prefix("urn:blackout:run:")
                .and_then(|t| t.split(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        let unreadable = |what: &str| format!("the {what} record {} at byte {offset} cannot be read", r.id);
        // One arm per kind of record blackout writes; any other is a stray.
        match (r.kind, said.as_deref()) {
            (RecordType::Request | RecordType::Response | RecordType::Revisit | RecordType::Resource, s) if s != Some(kind::INPUT) => {
                self.seen.push(Seen::of(&r));
                match r.kind {
                    RecordType::Resource => {
                        self.bodies.insert(Digest::of(&r.block), r.block);
                    }
                    RecordType::Response => {
                        let body = super::warc::payload(&r.block);
                        self.bodies.insert(Digest::of(body), body.to_vec());
                    }
                    _ => {}
                }
            }
            (RecordType::Resource, Some(kind::INPUT)) => {
                self.files.insert(Digest::of(&r.block), r.block);
            }
            (RecordType::Metadata, Some(kind::ITEM)) => match Seen::of_item(&r) {
                Ok(seen) => self.seen.push(seen),
                Err(why) => self.unreadable.push(format!("the item record {} at byte {offset}: {why}", r.id)),
            },
            (RecordType::Warcinfo, _) => {
                for line in String::from_utf8_lossy(&r.block).lines() {
                    let Some((name, value)) = line.split_once(": ") else { continue };
                    if let Some((n, field)) = name.strip_prefix("blackout-run-").and_then(|n| n.split_once('-'))
                        && let Ok(n) = n.parse()
                    {
                        self.named.push((n, field.to_string(), value.trim().to_string()));
                    }
                }
            }
            (RecordType::Metadata, Some(kind::MANIFEST)) => match String::from_utf8(r.block.clone()) {
                Ok(text) => self.manifests.push((offset, text)),
                Err(_) => self.unreadable.push(unreadable("manifest")),
            },
            (RecordType::Metadata, Some(kind::RECORD)) => {
                self.records.insert(Digest::of(&r.block), r.block);
            }
            // Two exports of findings of one run carry a part each: the lines of both.
            (RecordType::Metadata, Some(kind::RECORD_PART)) => {
                let part = self.parts.entry(run()).or_default();
                for line in r.block.split_inclusive(|b| *b == b'\n') {
                    if !part.split_inclusive(|b| *b == b'\n').any(|l| l == line) {
                        part.extend_from_slice(line);
                    }
                }
            }
            (RecordType::Metadata, Some(kind::CAPTURE)) => match serde_json::from_slice::<Captured>(&r.block) {
                Ok(c) => {
                    self.captures.insert(Digest::of(&r.block).to_string(), c);
                }
                Err(_) => self.unreadable.push(unreadable("capture")),
            },
            (RecordType::Metadata, Some(kind::TIMESTAMP)) => match String::from_utf8(r.block.clone()) {
                Ok(t) => {
                    self.tokens.insert(run(), t);
                }
                Err(_) => self.unreadable.push(unreadable("timestamp")),
            },
            _ => self.strays.push(format!(
                "a {} record{} of {} at byte {offset}",
                r.kind.name(),
                said.as_deref().map(|k| format!(" (`{k}`)")).unwrap_or_default(),
                if target.is_empty() {
                    "nothing".into()
                } else {
                    crate::report::inert(&target)
                }
            )),
        }
    }
}

/// Where a path the run read from goes under a replay's root: the same absolute path, below it.
pub fn under(root: &Path, original: &Path) -> PathBuf {
    let relative: PathBuf = original
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect();
    root.join(relative)
}
