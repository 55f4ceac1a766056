//! `blackout evidence export`: sealed runs as one WARC/1.1 file that a third party's tools
//! open, index and verify (warcio, replay software), and that `blackout replay` reads back.
//!
//! Per run, in order: the manifest (a `metadata` record whose block is the manifest's
//! canonical text, so its `WARC-Block-Digest` is the manifest's digest), the timestamp token
//! if any, the files the rules were read from (`resource`), the run's record (`metadata`:
//! what the history answered, every item as judged), then every capture: each HTTP exchange as
//! a `request` and a `response` (a redirect or an answer whose status is not success as its
//! head only, marked `WARC-Truncated`: its body is not read), a `304` as a
//! `revisit` of the body it confirmed (with that body as a `resource` when no earlier record
//! of the file holds it), a file read from disk as a `resource`, and the capture itself as a
//! `metadata` record (its canonical record, whose digest the manifest names); last, a
//! `metadata` record per judged item (extracted text with its scopes, dates with provenance,
//! timing, matched spans with offsets into that text, findings).

use super::sealed::{SealedRun, kind, urn};
use super::warc::{Record, RecordType, Writer, field_value, http_head, http_response};
use crate::fetch::{Bodies, Captured, ExchangeRecord};
use crate::model::Digest;
use crate::store::ItemRecord;
use std::collections::{HashMap, HashSet};
use std::io::Write;

/// What an export wrote.
#[derive(Debug, Clone, Default)]
pub struct Exported {
    pub runs: usize,
    pub captures: usize,
    pub items: usize,
    pub records: usize,
}

/// Which part of a run to export: all of it, or what one finding rests on.
#[derive(Debug, Clone)]
pub enum Part<'a> {
    All,
    /// The item of this finding (source, url) and the captures it was read from.
    Item {
        source: &'a str,
        url: &'a str,
    },
}

/// Writes `runs` to `out`, bodies from `bodies`.
pub fn export<W: Write>(runs: &[SealedRun], part: &Part, bodies: &dyn Bodies, out: W) -> Result<(W, Exported), ExportError> {
    let mut w = Writer::new(out);
    let mut done = Exported::default();
    let put = |w: &mut Writer<W>, r: &Record, done: &mut Exported| -> Result<(), ExportError> {
        w.append(r).map_err(ExportError::Write)?;
        done.records += 1;
        Ok(())
    };
    let first = runs.first().map_or_else(chrono::Utc::now, |r| r.evaluated_at());
    put(&mut w, &warcinfo(runs, first), &mut done)?;
    let mut written: HashSet<Digest> = HashSet::new();
    for run in runs {
        done.runs += 1;
        let n = run.manifest.run;
        let at = run.evaluated_at();
        let manifest = Record::new(RecordType::Metadata, at, run.text.clone().into_bytes())
            .field("WARC-Target-URI", &urn(n, "manifest"))
            .field("Content-Type", "application/json")
            .field("WARC-Blackout-Kind", kind::MANIFEST);
        put(&mut w, &manifest, &mut done)?;
        if let Some(token) = &run.token {
            let t = Record::new(RecordType::Metadata, at, token.clone().into_bytes())
                .field("WARC-Target-URI", &urn(n, "timestamp"))
                .field("WARC-Refers-To", &manifest.id)
                .field("Content-Type", "text/plain; profile=\"rfc3161-token-base64\"")
                .field("WARC-Blackout-Kind", kind::TIMESTAMP);
            put(&mut w, &t, &mut done)?;
        }
        for (input, bytes) in &run.inputs {
            let uri = url::Url::from_file_path(&input.path).map_or_else(|()| input.path.clone(), |u| u.to_string());
            let r = Record::new(RecordType::Resource, at, bytes.clone())
                .field("WARC-Target-URI", &uri)
                .field(
                    "Content-Type",
                    if input.role == "rules" {
                        "application/toml"
                    } else {
                        "application/octet-stream"
                    },
                )
                .field("WARC-Blackout-Kind", kind::INPUT)
                .field("WARC-Blackout-Role", &input.role);
            put(&mut w, &r, &mut done)?;
        }
        // One finding's export carries the lines of the record about its item only: not the
        // texts and verdicts of every other outlet the run read.
        let (record, what) = match (part, run.whole_record) {
            (Part::All, true) => (run.record_bytes.clone(), kind::RECORD),
            (Part::Item { source, url }, _) => (
                crate::store::RunRecord::lines_about(&run.record_bytes, source, url),
                kind::RECORD_PART,
            ),
            (Part::All, false) => (run.record_bytes.clone(), kind::RECORD_PART),
        };
        let r = Record::new(RecordType::Metadata, at, record)
            .field("WARC-Target-URI", &urn(n, "record"))
            .field("Content-Type", "application/x-ndjson")
            .field("WARC-Refers-To", &manifest.id)
            .field("WARC-Blackout-Kind", what);
        put(&mut w, &r, &mut done)?;
        let captures: Vec<&Captured> = match part {
            Part::All => run.captures.iter().collect(),
            Part::Item { source, url } => run.captures_of(source, url),
        };
        let mut responses: HashMap<&str, String> = HashMap::new();
        for c in captures {
            done.captures += 1;
            let records = capture_records(c, bodies, &mut written).map_err(|why| ExportError::Body {
                run: n,
                url: c.url.clone(),
                why,
            })?;
            if let Some(answer) = records.iter().rev().find(|r| r.kind != RecordType::Request) {
                responses.insert(c.url.as_str(), answer.id.clone());
                responses.insert(c.final_url.as_str(), answer.id.clone());
            }
            for r in &records {
                put(&mut w, r, &mut done)?;
            }
        }
        let items: Vec<&ItemRecord> = match part {
            Part::All => run.record.items.iter().collect(),
            Part::Item { source, url } => run.record.items.iter().filter(|i| i.source == *source && i.url == *url).collect(),
        };
        for item in items {
            done.items += 1;
            let r = item_record(
                n,
                at,
                item,
                bodies,
                responses.get(item.documents.first().map_or("", String::as_str)),
            );
            put(&mut w, &r, &mut done)?;
        }
    }
    let out = w.finish().map_err(ExportError::Write)?;
    Ok((out, done))
}

impl SealedRun {
    pub fn evaluated_at(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(&self.manifest.evaluated_at).map_or_else(|_| chrono::Utc::now(), |d| d.to_utc())
    }
}

/// The file's `warcinfo`: the exporting tool, and each run's tool, tzdb, inputs and options.
fn warcinfo(runs: &[SealedRun], at: chrono::DateTime<chrono::Utc>) -> Record {
    let mut fields = vec![
        ("software".to_string(), crate::report::TOOL_BUILD.to_string()),
        ("format".to_string(), "WARC File Format 1.1".to_string()),
        (
            "conformsTo".to_string(),
            "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/".to_string(),
        ),
        (
            "description".to_string(),
            "Evidence of blackout runs: captures as fetched, each run's manifest (SHA-256 chained), the rules as read, what was judged"
                .to_string(),
        ),
    ];
    for run in runs {
        let n = run.manifest.run;
        fields.extend(
            run_fields(run)
                .into_iter()
                .map(|(name, value)| (format!("blackout-run-{n}-{name}"), value)),
        );
    }
    let mut block = String::new();
    for (name, value) in fields {
        block.push_str(&format!("{name}: {}\r\n", field_value(&value)));
    }
    Record::new(RecordType::Warcinfo, at, block.into_bytes())
        .field("WARC-Filename", "blackout-evidence.warc.gz")
        .field("Content-Type", "application/warc-fields")
}

/// What a `warcinfo` says of a run (`blackout-run-N-` and each name): its manifest's digest,
/// and what the manifest says of the tool, the clock, the tz database, the files read and the
/// options. `evidence verify` checks each against the manifest.
pub(crate) fn run_fields(run: &SealedRun) -> Vec<(String, String)> {
    let m = &run.manifest;
    let mut fields = vec![
        ("manifest".to_string(), run.digest.to_string()),
        ("tool".to_string(), m.tool.clone()),
        ("evaluated-at".to_string(), m.evaluated_at.clone()),
        ("tzdb".to_string(), m.tzdb.clone()),
    ];
    for i in &m.inputs {
        fields.push((i.role.clone(), format!("{} {}", i.sha256, i.path)));
    }
    fields.push(("options".to_string(), m.options.to_string()));
    fields
}

/// The records of one capture.
pub(crate) fn capture_records(c: &Captured, bodies: &dyn Bodies, written: &mut HashSet<Digest>) -> Result<Vec<Record>, String> {
    let body = match c.body {
        Some(d) => Some((d, bodies.body(&d)?)),
        None => None,
    };
    let mut out = Vec::new();
    let last = c.exchanges.len().saturating_sub(1);
    for (i, e) in c.exchanges.iter().enumerate() {
        let request = Record::new(RecordType::Request, e.started, request_block(e))
            .field("WARC-Target-URI", &e.url)
            .field("Content-Type", "application/http; msgtype=request");
        let request = with_peer(request, e);
        let reason = reqwest::StatusCode::from_u16(e.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let answer = match (i == last, c.revisit, &body) {
            // The 304: a revisit of the body it confirmed.
            (true, true, Some((digest, bytes))) => {
                let (head, _) = http_response(e.status, reason, &e.headers, &[]);
                let r = Record::new(RecordType::Revisit, e.started, head)
                    .field("WARC-Target-URI", &e.url)
                    .field("Content-Type", "application/http; msgtype=response")
                    .field("WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/server-not-modified")
                    .field("WARC-Refers-To-Target-URI", &e.url)
                    .field("WARC-Payload-Digest", &digest.to_string());
                if written.insert(*digest) {
                    // The file may hold no earlier response with these bytes: they go with it.
                    out.push(
                        Record::new(RecordType::Resource, c.fetched_at, bytes.clone())
                            .field("WARC-Target-URI", &c.final_url)
                            .field("Content-Type", content_type(c))
                            .field("WARC-Blackout-Kind", kind::CONFIRMED_BODY),
                    );
                }
                r
            }
            (true, false, Some((digest, bytes))) => {
                written.insert(*digest);
                let (block, payload) = http_response(e.status, reason, &e.headers, bytes);
                let r = Record::new(RecordType::Response, e.started, block)
                    .field("WARC-Target-URI", &e.url)
                    .field("Content-Type", "application/http; msgtype=response")
                    .field("WARC-Payload-Digest", &payload);
                // Cut at the size cap: the record says so, as web archives do.
                match c.truncated {
                    true => r.field("WARC-Truncated", "length"),
                    false => r,
                }
            }
            // A redirect, or an answer whose status is not success: its head, the body not
            // read (the record says it holds none, rather than an empty one).
            _ => Record::new(RecordType::Response, e.started, http_head(e.status, reason, &e.headers))
                .field("WARC-Target-URI", &e.url)
                .field("Content-Type", "application/http; msgtype=response")
                .field("WARC-Truncated", "unspecified"),
        };
        let answer = with_peer(answer, e).field("WARC-Concurrent-To", &request.id);
        out.push(request);
        out.push(answer);
    }
    // A file read from disk: the bytes as read.
    if c.exchanges.is_empty()
        && let Some((digest, bytes)) = &body
    {
        written.insert(*digest);
        out.push(
            Record::new(RecordType::Resource, c.fetched_at, bytes.clone())
                .field("WARC-Target-URI", &c.url)
                .field("Content-Type", content_type(c)),
        );
    }
    let json = crate::store::capture_json(c);
    let mut meta = Record::new(RecordType::Metadata, c.fetched_at, json)
        .field("WARC-Target-URI", &c.url)
        .field("Content-Type", "application/json")
        .field("WARC-Blackout-Kind", kind::CAPTURE);
    if let Some(last) = out.last() {
        meta = meta.field("WARC-Refers-To", &last.id.clone());
    }
    out.push(meta);
    Ok(out)
}

fn with_peer(r: Record, e: &ExchangeRecord) -> Record {
    match e.peer {
        Some(ip) => r.field("WARC-IP-Address", &ip.to_string()),
        None => r,
    }
}

/// The request as blackout sent it: method, target, `Host`, and the headers it set (the HTTP
/// client adds its own defaults, such as `Accept-Encoding`, which are not recorded).
fn request_block(e: &ExchangeRecord) -> Vec<u8> {
    let url = url::Url::parse(&e.url).ok();
    let target = url.as_ref().map_or_else(
        || "/".to_string(),
        |u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
    );
    let host = url
        .as_ref()
        .and_then(|u| u.host_str().map(|h| (h.to_string(), u.port())))
        .map_or_else(String::new, |(h, p)| match p {
            Some(p) => format!("{h}:{p}"),
            None => h,
        });
    // Captures made before the method was recorded were all GET.
    let method = e.method.unwrap_or(crate::fetch::Method::Get).as_str();
    let mut block = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in &e.request_headers {
        block.push_str(&format!("{}: {}\r\n", field_value(name), field_value(value)));
    }
    block.push_str("\r\n");
    block.into_bytes()
}

fn content_type(c: &Captured) -> &str {
    c.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map_or("application/octet-stream", |(_, v)| v.as_str())
}

/// What blackout made of an item, as a `metadata` record referring to its page's response.
pub(crate) fn item_record(
    run: i64,
    at: chrono::DateTime<chrono::Utc>,
    item: &ItemRecord,
    bodies: &dyn Bodies,
    page: Option<&String>,
) -> Record {
    let text = item
        .page
        .as_ref()
        .map(|p| bodies.body(&p.text).map(|t| String::from_utf8_lossy(&t).into_owned()));
    let mut value = serde_json::to_value(item).expect("an item serialises");
    if let Some(o) = value.as_object_mut() {
        o.insert("run".into(), run.into());
        match text {
            Some(Ok(t)) => {
                o.insert("text".into(), t.into());
            }
            Some(Err(why)) => {
                o.insert("text_missing".into(), why.into());
            }
            None => {}
        }
    }
    let block = serde_json::to_vec_pretty(&value).expect("JSON serialises");
    let r = Record::new(RecordType::Metadata, at, block)
        .field("WARC-Target-URI", &item.url)
        .field("Content-Type", "application/json")
        .field("WARC-Blackout-Kind", kind::ITEM);
    match page {
        Some(id) => r.field("WARC-Refers-To", id),
        None => r,
    }
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write the WARC file: {0}")]
    Write(std::io::Error),
    #[error("run {run}'s capture of {url} cannot be exported: {why} (`blackout evidence verify --run {run}` says more)")]
    Body { run: i64, url: String, why: String },
}
