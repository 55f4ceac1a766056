//! What a run rests on, kept as evidence (issue 13): every fetch (a [`Captured`] and its body,
//! kept as a blob as it arrives), every answer the history gave, every item as judged (its
//! texts as blobs). At the commit, in the run's transaction, the captures become rows, the
//! rest the run's record (a blob), and the run gets its manifest, chained to the one before
//! (see [`super::manifest`]). Every blob is written before the transaction commits, so a
//! committed run never names a blob that is not there.

use super::blobs::Blobs;
use super::db::{BATCH, DbError, Exec, Tx, Value, tuples, vals};
use super::manifest::{self, CaptureEntry, FindingEvidence, Manifest};
use crate::fetch::{Captured, Document, FetchError, Location};
use crate::judge::{Item, Judged};
use crate::model::{Digest, Scope};
use crate::report::TimestampState;
use crate::run::Recalled;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// Which captures a run keeps (`--keep-captures`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Retention {
    /// Every capture.
    All,
    /// All but the pages of items that no finding and no new version needs, fetched outside
    /// every window.
    #[default]
    Evidence,
    /// No capture (the manifest still names every finding, with the digests of what it rests
    /// on).
    None,
}

/// The evidence of one run, gathered as it goes.
pub struct Recorded {
    blobs: Blobs,
    retention: Retention,
    /// The spans of time (UTC) any window of the rules covers: what is fetched in one is kept.
    windows: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    captures: Mutex<Vec<Captured>>,
    /// The run's record as it is told: one JSON line per history answer and per item judged,
    /// compressed as it comes (a run of 20,000 items would hold hundreds of megabytes of texts
    /// and verdicts in memory otherwise).
    journal: Mutex<Journal>,
    /// What sealing needs of each item: where it was read, whether it is new content.
    items: Mutex<Vec<ItemSeal>>,
    /// Asks a timestamp authority for a token over the manifest's digest (`--tsa`).
    stamp: Option<Box<Stamper>>,
}

/// An item as sealing needs it: where it was read (its page first, when read), whether its
/// content is new, its page's text.
#[derive(Debug, Clone)]
struct ItemSeal {
    source: String,
    url: String,
    documents: Vec<String>,
    new_version: bool,
    text: Option<Digest>,
}

/// A record written as it is told: JSON lines, their SHA-256 and their compression taken as
/// they come.
struct Journal {
    packer: Option<super::blobs::Packer>,
    sha: sha2::Sha256,
    /// Once finished: the record's digest and its compressed bytes (a transaction tried again
    /// keeps them).
    done: Option<(Digest, Vec<u8>)>,
}

impl Journal {
    fn new() -> Journal {
        Journal {
            packer: Some(super::blobs::Packer::new()),
            sha: sha2::Digest::new(),
            done: None,
        }
    }

    /// A line's bytes, made outside the journal's lock (judging threads serialise in parallel).
    fn bytes(value: &impl Serialize) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(value).expect("a record line serialises");
        bytes.push(b'\n');
        bytes
    }

    fn append(&mut self, bytes: &[u8]) {
        use std::io::Write;
        sha2::Digest::update(&mut self.sha, bytes);
        if let Some(packer) = &mut self.packer {
            packer.write_all(bytes).expect("writing to memory");
        }
    }

    fn finish(&mut self) -> (Digest, Vec<u8>) {
        if let (None, Some(packer)) = (&self.done, self.packer.take()) {
            let digest = Digest(sha2::Digest::finalize(std::mem::take(&mut self.sha)).into());
            self.done = Some((digest, packer.finish()));
        }
        self.done.clone().expect("a finished record")
    }
}

/// One line of a run's record.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line<R, I> {
    Recalled(R),
    Item(I),
}

/// An item's line as the run writes it (borrowing what was judged).
#[derive(Serialize)]
struct ItemLine<'a> {
    source: &'a str,
    url: String,
    documents: &'a [String],
    page: Option<PageText>,
    feeds: Vec<FeedText>,
    new_version: bool,
    judged: JudgedLine<'a>,
}

#[derive(Serialize)]
struct JudgedLine<'a> {
    item: &'a Option<crate::judge::ItemReport>,
    findings: &'a [crate::judge::Finding],
    cleared: &'a [crate::judge::Cleared],
    not_checked: &'a Option<crate::judge::NotChecked>,
}

/// Obtains an RFC 3161 token (base64 of its DER) over a digest, or says why not.
pub type Stamper = dyn Fn(&Digest) -> Result<String, String> + Send + Sync;

/// What sealing a run gave: its manifest's digest, and the timestamp if one was asked for.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub digest: Digest,
    pub timestamp: Option<TimestampState>,
}

/// An item as the run judged it: where it was read, the texts the rules ran over, and the
/// verdicts (the item's report, its findings, what was cleared or not checked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub source: String,
    pub url: String,
    /// The addresses of the documents it was read from: its page, then its feeds.
    pub documents: Vec<String>,
    pub page: Option<PageText>,
    /// What its feed entries say, per listing, as the rules read it (the text a span whose
    /// document is that listing indexes).
    pub feeds: Vec<FeedText>,
    /// Its content differs from what an earlier run last captured (or none did).
    pub new_version: bool,
    /// `{ item, findings, cleared, not_checked }` as the JSON report has them, unredacted.
    pub judged: serde_json::Value,
}

/// A page's extracted text: kept as a blob (`text`), with its blocks' scopes by byte range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageText {
    pub url: String,
    pub encoding: String,
    pub title: Option<String>,
    pub text: Digest,
    pub blocks: Vec<(Scope, usize, usize)>,
    /// On a listing page, each teaser: its byte range, the page it links to, the date it
    /// shows (as written), so a bundle can tell which item a matched teaser stood for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teasers: Vec<TeaserText>,
}

/// One teaser of a listing page, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeaserText {
    pub start: usize,
    pub end: usize,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// A listing's text of an item, with its blocks' scopes by byte range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedText {
    pub listing: String,
    pub text: String,
    pub blocks: Vec<(Scope, usize, usize)>,
}

/// A run's record, kept as one blob of JSON lines (`{"recalled": …}` for each answer of the
/// history, `{"item": …}` for each item judged): what a replay needs beside the captures, and
/// what an export writes as metadata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunRecord {
    pub recalled: Vec<Recalled>,
    pub items: Vec<ItemRecord>,
}

impl RunRecord {
    /// Reads a record's bytes.
    pub fn parse(bytes: &[u8]) -> Result<RunRecord, String> {
        let mut out = RunRecord::default();
        for (n, line) in bytes.split(|b| *b == b'\n').enumerate().filter(|(_, l)| !l.is_empty()) {
            match serde_json::from_slice::<Line<Recalled, ItemRecord>>(line) {
                Ok(Line::Recalled(r)) => out.recalled.push(r),
                Ok(Line::Item(i)) => out.items.push(i),
                Err(e) => return Err(format!("line {} of the run's record does not parse: {e}", n + 1)),
            }
        }
        Ok(out)
    }

    /// The lines of a record's bytes about one item: the item's own, and what the history
    /// answered of it.
    pub fn lines_about(bytes: &[u8], source: &str, url: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            let about = ["item", "recalled"]
                .iter()
                .any(|k| v[k]["source"].as_str() == Some(source) && v[k]["url"].as_str() == Some(url));
            if about {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
        }
        out
    }
}

impl super::Store {
    /// What this run will keep as evidence; `None` for a store that cannot be written.
    pub fn recorded(&self, retention: Retention, rules: &crate::rules::RuleSet) -> Option<Recorded> {
        if self.read_only {
            return None;
        }
        let windows = rules
            .windows
            .iter()
            .flat_map(|w| w.spans.iter().map(|s| (s.start, s.end)))
            .collect();
        Some(Recorded {
            blobs: Blobs::new(self.bodies.clone()),
            retention,
            windows: crate::window::union(windows),
            captures: Mutex::default(),
            journal: Mutex::new(Journal::new()),
            items: Mutex::default(),
            stamp: None,
        })
    }

    /// The store's blobs.
    pub fn blobs(&self) -> Blobs {
        Blobs::new(self.bodies.clone())
    }
}

impl Recorded {
    /// Each sealed manifest is timestamped by `stamp`, in the run's transaction: a token
    /// obtained is stored with it, a failure is said and the run recorded all the same.
    pub fn stamp_with(&mut self, stamp: Box<Stamper>) {
        self.stamp = Some(stamp);
    }
}

impl std::fmt::Debug for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorded")
            .field("blobs", &self.blobs)
            .field("retention", &self.retention)
            .field("captures", &self.captures.lock().map(|c| c.len()).unwrap_or_default())
            .field("timestamped", &self.stamp.is_some())
            .finish()
    }
}

impl crate::fetch::Witness for Recorded {
    /// The body is kept at once; a body that cannot be written leaves its capture out (with a
    /// warning): a manifest names only what is there.
    fn fetched(&self, location: &Location, fetched: &Result<Document, FetchError>) {
        let captured = Captured::of(location, fetched);
        if let (Some(digest), Ok(doc)) = (&captured.body, fetched)
            && self.retention != Retention::None
            && let Err(e) = self.blobs.put_new(digest, &doc.bytes)
        {
            tracing::warn!(url = %doc.url, "the capture's body cannot be kept, so the run's evidence lacks it: {e}");
            return;
        }
        self.captures.lock().expect("recorded lock").push(captured);
    }
}

impl crate::run::Recorder for Recorded {
    fn recalled(&self, answer: Recalled) {
        let bytes = Journal::bytes(&Line::<&Recalled, ()>::Recalled(&answer));
        self.journal.lock().expect("recorded lock").append(&bytes);
    }

    fn judged(&self, item: &Item, judged: &Judged) {
        let page = item.page.and_then(|p| {
            let text = self
                .blobs
                .put_new_content(p.article.text.as_bytes())
                .inspect_err(|e| tracing::warn!(url = %p.url, "the page's text cannot be kept: {e}"))
                .ok()?;
            Some(PageText {
                url: p.url.to_string(),
                encoding: p.encoding.to_string(),
                title: p.article.title.clone(),
                text,
                blocks: p.article.blocks.iter().map(|b| (b.scope, b.range.start, b.range.end)).collect(),
                teasers: p
                    .article
                    .teasers
                    .iter()
                    .map(|t| TeaserText {
                        start: t.range.start,
                        end: t.range.end,
                        url: t.url.to_string(),
                        date: t.date.as_ref().map(|d| d.raw.clone()),
                    })
                    .collect(),
            })
        });
        let mut documents: Vec<String> = page.iter().map(|p| p.url.clone()).collect();
        for e in item.entries {
            let l = e.listing.to_string();
            if !documents.contains(&l) {
                documents.push(l);
            }
        }
        let version = judged.item.as_ref().map(|i| i.version.as_str());
        let before = item.observed.and_then(|o| o.capture.as_ref()).map(|c| c.version.as_str());
        let new_version = version.is_some() && version != before;
        let text = page.as_ref().map(|p| p.text);
        let line = ItemLine {
            source: &item.source.id,
            url: item.url.to_string(),
            documents: &documents,
            page,
            feeds: crate::judge::feed_texts(item)
                .into_iter()
                .map(|(listing, a)| FeedText {
                    listing: listing.to_string(),
                    blocks: a.blocks.iter().map(|b| (b.scope, b.range.start, b.range.end)).collect(),
                    text: a.text,
                })
                .collect(),
            new_version,
            judged: JudgedLine {
                item: &judged.item,
                findings: &judged.findings,
                cleared: &judged.cleared,
                not_checked: &judged.not_checked,
            },
        };
        let bytes = Journal::bytes(&Line::<(), &ItemLine>::Item(&line));
        self.journal.lock().expect("recorded lock").append(&bytes);
        self.items.lock().expect("recorded lock").push(ItemSeal {
            source: item.source.id.clone(),
            url: line.url,
            documents,
            new_version,
            text,
        });
    }
}

/// What the manifest says of the run beyond its evidence.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    pub run: i64,
    pub evaluated_at: DateTime<Utc>,
    pub inputs: &'a [super::commit::RunInput],
    pub options: &'a serde_json::Value,
    pub findings: &'a [crate::judge::Finding],
}

impl Recorded {
    /// Writes the run's captures, record and manifest, in its transaction, and timestamps the
    /// manifest if asked.
    pub(super) fn seal(&self, tx: &mut Tx, header: &Header) -> Result<Sealed, DbError> {
        let items = self.items.lock().expect("recorded lock");
        // Every capture of the run, borrowed (a run of 20,000 pages has as many).
        let all = self.captures.lock().expect("recorded lock");
        let captures = self.kept(&all, &items, header.findings);
        let (record_digest, packed) = self.journal.lock().expect("recorded lock").finish();
        self.blobs.put_packed(&record_digest, &packed).map_err(DbError::Evidence)?;
        let mut inputs = Vec::new();
        for i in header.inputs {
            let digest = self.blobs.put(&i.bytes).map_err(DbError::Evidence)?;
            inputs.push(manifest::Input {
                role: i.role.to_string(),
                path: i.path.display().to_string(),
                sha256: digest.to_string(),
            });
        }
        let mut named: std::collections::BTreeSet<String> = items.iter().filter_map(|i| i.text.map(|t| t.hex())).collect();
        named.insert(record_digest.hex());
        named.extend(inputs.iter().filter_map(|i| i.sha256.strip_prefix("sha256:").map(str::to_string)));
        let named: Vec<String> = named.into_iter().collect();
        for chunk in named.chunks(BATCH) {
            let mut params = vec![Value::from(header.run)];
            params.extend(chunk.iter().map(Value::from));
            let values = tuples(chunk.len(), 2, 1, |n| format!("(?1, ?{n})"));
            tx.execute(&format!("INSERT INTO run_blobs (run, digest) VALUES {values}"), &params)?;
        }
        let mut entries = Vec::with_capacity(captures.len());
        let mut rows = Vec::with_capacity(captures.len());
        for c in captures.iter().copied() {
            let canonical = capture_json(c);
            entries.push(CaptureEntry {
                url: c.url.clone(),
                body: c.body.map(|d| d.to_string()).unwrap_or_default(),
                record: Digest::of(&canonical).to_string(),
            });
            rows.push((c, String::from_utf8(canonical).expect("JSON is UTF-8")));
        }
        for (at, chunk) in rows.chunks(BATCH).enumerate() {
            let mut params = vec![Value::from(header.run)];
            for (n, (c, json)) in chunk.iter().enumerate() {
                params.extend([
                    Value::from((at * BATCH + n) as i64),
                    Value::from(&c.url),
                    Value::from(c.body.map(|d| d.hex())),
                    Value::from(json.as_str()),
                ]);
            }
            let values = tuples(chunk.len(), 2, 4, |n| format!("(?1, ?{n}, ?{}, ?{}, ?{})", n + 1, n + 2, n + 3));
            tx.execute(
                &format!("INSERT INTO captures (run, seq, url, body, record) VALUES {values}"),
                &params,
            )?;
        }
        // What each finding rests on, from every capture (kept or not).
        let bodies = bodies_by_url(&all);
        let findings = header
            .findings
            .iter()
            .map(|f| {
                let rests_on = rests_on(f, &items, &bodies);
                FindingEvidence {
                    id: f.id.clone(),
                    rule: f.rule.clone(),
                    source: f.source.clone(),
                    url: f.url.clone(),
                    evidence: evidence_digest(&serde_json::to_value(f).expect("a finding serialises"), &rests_on).to_string(),
                    bodies: rests_on,
                }
            })
            .collect();
        // One chain: the commit holds the lock that orders runs (see `commit::chain_lock`).
        let previous = tx
            .query_opt("SELECT digest FROM manifests ORDER BY run DESC LIMIT 1", &[])?
            .map(|r| r.text(0))
            .transpose()?;
        let previous = match previous {
            Some(p) => Some(p),
            // The first manifest after a prune names the last one pruned.
            None => tx
                .query_opt("SELECT last_digest FROM pruned_manifests ORDER BY through_run DESC LIMIT 1", &[])?
                .map(|r| r.text(0))
                .transpose()?,
        };
        let manifest = Manifest {
            tool: crate::report::TOOL_BUILD.to_string(),
            run: header.run,
            evaluated_at: crate::model::stamp(header.evaluated_at),
            tzdb: chrono_tz::IANA_TZDB_VERSION.to_string(),
            inputs,
            options: header.options.clone(),
            captures: entries,
            record: record_digest.to_string(),
            findings,
            previous,
        };
        let canonical = manifest.canonical();
        let digest = Digest::of(&canonical);
        if self.blobs.dir().exists() {
            self.blobs.sync().map_err(DbError::Evidence)?;
        }
        tx.execute(
            "INSERT INTO manifests (run, digest, previous, manifest) VALUES (?1, ?2, ?3, ?4)",
            vals![
                header.run,
                digest.to_string(),
                &manifest.previous,
                String::from_utf8(canonical).expect("JSON is UTF-8")
            ],
        )?;
        let timestamp = match &self.stamp {
            None => None,
            Some(stamp) => Some(match stamp(&digest) {
                Ok(token) => {
                    tx.execute("UPDATE manifests SET token = ?2 WHERE run = ?1", vals![header.run, token])?;
                    TimestampState::Obtained
                }
                Err(why) => {
                    tracing::warn!("no timestamp for run {}: {why}", header.run);
                    tx.execute("UPDATE manifests SET token_error = ?2 WHERE run = ?1", vals![header.run, &why])?;
                    TimestampState::Failed { why }
                }
            }),
        };
        Ok(Sealed { digest, timestamp })
    }

    /// The captures the retention keeps. Under `evidence`, what goes is only the pages of
    /// items that no finding and no new version needs, fetched outside every window: every
    /// listing, homepage and robots.txt stays (small beside the pages, and a replay needs the
    /// whole path to an item: a sitemap index, the sitemap it names, the page).
    fn kept<'a>(&self, captures: &'a [Captured], items: &[ItemSeal], findings: &[crate::judge::Finding]) -> Vec<&'a Captured> {
        match self.retention {
            Retention::All => captures.iter().collect(),
            Retention::None => Vec::new(),
            Retention::Evidence => {
                use std::collections::HashSet;
                let found: HashSet<(&str, &str)> = findings.iter().map(|f| (f.source.as_str(), f.url.as_str())).collect();
                let mut pages: HashSet<&str> = HashSet::new();
                let mut needed: HashSet<&str> = HashSet::new();
                for i in items {
                    if let (Some(_), Some(page)) = (i.text, i.documents.first()) {
                        pages.insert(page);
                    }
                    if i.new_version || found.contains(&(i.source.as_str(), i.url.as_str())) {
                        needed.extend(i.documents.iter().map(String::as_str));
                    }
                }
                let among = |set: &HashSet<&str>, c: &Captured| set.contains(c.url.as_str()) || set.contains(c.final_url.as_str());
                captures
                    .iter()
                    .filter(|c| {
                        !among(&pages, c) || among(&needed, c) || self.windows.iter().any(|(s, e)| *s <= c.fetched_at && c.fetched_at < *e)
                    })
                    .collect()
            }
        }
    }
}

/// A capture's record as kept and hashed: canonical JSON.
pub fn capture_json(c: &Captured) -> Vec<u8> {
    manifest::canonical_json(&serde_json::to_value(c).expect("a capture serialises"))
}

/// The body each address's last capture holds, by the address asked and the final one.
fn bodies_by_url(captures: &[Captured]) -> HashMap<&str, Digest> {
    let mut out = HashMap::new();
    for c in captures {
        if let Some(d) = c.body {
            out.insert(c.url.as_str(), d);
            out.insert(c.final_url.as_str(), d);
        }
    }
    out
}

/// The bodies a finding rests on: those of the documents its item was read from.
fn rests_on(f: &crate::judge::Finding, items: &[ItemSeal], bodies: &HashMap<&str, Digest>) -> Vec<Digest> {
    items
        .iter()
        .filter(|i| i.source == f.source && i.url == f.url)
        .flat_map(|i| i.documents.iter())
        .filter_map(|d| bodies.get(d.as_str()).copied())
        .collect()
}

/// The digest of a finding's evidence: its key, timing and spans (the JSON report's finding,
/// without what the store adds) and the digests of the bodies it rests on, canonical.
pub fn evidence_digest(finding: &serde_json::Value, bodies: &[Digest]) -> Digest {
    let mut finding = finding.clone();
    if let Some(o) = finding.as_object_mut() {
        for tracked in ["state", "first_run", "first_reported"] {
            o.remove(tracked);
        }
    }
    let evidence = serde_json::json!({ "finding": finding, "bodies": bodies });
    Digest::of(&manifest::canonical_json(&evidence))
}
