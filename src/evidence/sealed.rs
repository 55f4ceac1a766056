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
    /// The record as kept (its digest is the manifest's `record`).
    pub record_bytes: Vec<u8>,
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
    #[error("run {run}'s evidence does not hold: {what} (`blackout evidence verify --run {run}` says more)")]
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
        let row = store.manifests(Some(&[run]))?.pop().ok_or(SealedError::NoManifest { run })?;
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

impl WarcEvidence {
    /// Reads WARC files written by `blackout evidence export`, every record's digests
    /// checked (an altered record stops the read, named by its file, offset and id), every
    /// piece of a run checked against its manifest.
    pub fn read(paths: &[PathBuf]) -> Result<WarcEvidence, SealedError> {
        let mut manifests: Vec<String> = Vec::new();
        let mut records: HashMap<i64, Vec<u8>> = HashMap::new();
        let mut captures: HashMap<String, Captured> = HashMap::new();
        let mut files: HashMap<Digest, Vec<u8>> = HashMap::new();
        let mut tokens: HashMap<i64, String> = HashMap::new();
        let mut bodies: HashMap<Digest, Vec<u8>> = HashMap::new();
        for path in paths {
            let file = std::fs::File::open(path).map_err(|error| SealedError::Io { path: path.clone(), error })?;
            for read in Reader::new(std::io::BufReader::new(file)) {
                let (_, r) = read.map_err(|error| SealedError::Warc { path: path.clone(), error })?;
                take(r, &mut manifests, &mut records, &mut captures, &mut files, &mut tokens, &mut bodies);
            }
        }
        if manifests.is_empty() {
            return Err(SealedError::NotBlackout {
                path: paths.first().cloned().unwrap_or_default(),
            });
        }
        let mut runs = Vec::new();
        let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
        for text in manifests {
            let digest = Digest::of(text.as_bytes());
            let manifest: Manifest = serde_json::from_str(&text).map_err(|e| SealedError::Damaged {
                run: 0,
                what: format!("a manifest does not parse: {e}"),
            })?;
            let run = manifest.run;
            let damaged = |what: String| SealedError::Damaged { run, what };
            let record_bytes = manifest
                .record
                .parse::<Digest>()
                .ok()
                .and_then(|d| records.values().find(|r| Digest::of(r) == d))
                .ok_or_else(|| damaged("the WARC files hold no record of the run whose digest its manifest names".into()))?
                .clone();
            let record = RunRecord::parse(&record_bytes).map_err(damaged)?;
            // Captures are named by their canonical record's digest: one left out (an export of
            // one finding's) is missing here, one altered is a record no manifest names.
            let mut run_captures = Vec::new();
            let mut left_out = 0;
            for entry in &manifest.captures {
                match captures.get(&entry.record) {
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
                    .and_then(|d| files.get(&d))
                    .ok_or_else(|| damaged(format!("the {} file `{}` is not in the WARC files", input.role, input.path)))?;
                inputs.push((input.clone(), bytes.clone()));
            }
            runs.push(SealedRun {
                token: tokens.get(&run).cloned(),
                manifest,
                text,
                digest,
                captures: run_captures,
                left_out,
                record,
                record_bytes,
                inputs,
            });
        }
        if let Some((_, c)) = captures.iter().find(|(d, _)| !used.contains(*d)) {
            return Err(SealedError::Damaged {
                run: runs.first().map_or(0, |r: &SealedRun| r.manifest.run),
                what: format!("the capture of {} matches no manifest's: it was altered", c.url),
            });
        }
        runs.sort_by_key(|r| r.manifest.run);
        runs.dedup_by_key(|r| r.manifest.run);
        Ok(WarcEvidence { runs, bodies })
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

/// Sorts one record into what a replay needs.
fn take(
    r: Record,
    manifests: &mut Vec<String>,
    records: &mut HashMap<i64, Vec<u8>>,
    captures: &mut HashMap<String, Captured>,
    files: &mut HashMap<Digest, Vec<u8>>,
    tokens: &mut HashMap<i64, String>,
    bodies: &mut HashMap<Digest, Vec<u8>>,
) {
    let target = r.get("WARC-Target-URI").unwrap_or_default().to_string();
    let blackout = r.get("WARC-Blackout-Kind").map(str::to_string);
    let run = || -> i64 {
        target
            .strip_prefix("urn:blackout:run:")
            .and_then(|t| t.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    match (r.kind, blackout.as_deref()) {
        (RecordType::Metadata, Some("manifest")) => {
            if let Ok(text) = String::from_utf8(r.block) {
                manifests.push(text);
            }
        }
        (RecordType::Metadata, Some("record")) => {
            records.insert(run(), r.block);
        }
        (RecordType::Metadata, Some("capture")) => {
            if let Ok(c) = serde_json::from_slice::<Captured>(&r.block) {
                let digest = Digest::of(&r.block).to_string();
                captures.insert(digest, c);
            }
        }
        (RecordType::Metadata, Some("timestamp")) => {
            if let Ok(t) = String::from_utf8(r.block) {
                tokens.insert(run(), t);
            }
        }
        (RecordType::Resource, Some("input")) => {
            files.insert(Digest::of(&r.block), r.block);
        }
        (RecordType::Resource, _) => {
            bodies.insert(Digest::of(&r.block), r.block);
        }
        (RecordType::Response, _) => {
            let body = r
                .block
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(&r.block[..0], |at| &r.block[at + 4..]);
            bodies.insert(Digest::of(body), body.to_vec());
        }
        _ => {}
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
