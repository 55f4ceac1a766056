//! WARC/1.1 (ISO 28500:2017), the web archivists' format, written and read back: evidence is
//! exported in it so that a third party's tools (`warcio check`, `warcio index`, replay
//! software) can open, index and verify it without trusting blackout.
//!
//! Each record is its own gzip member, so that `(offset, length)` opens exactly one record;
//! every record carries `WARC-Block-Digest` (SHA-256 of its block) and an HTTP response also
//! `WARC-Payload-Digest` (SHA-256 of its body), written `sha256:` and hex — the form
//! `sha256sum` prints, which warcio accepts as well as base32. The `warc` crate was not used:
//! it writes WARC/1.0 without digests, one gzip stream for the whole file, and overwrites an
//! existing file from its first byte (rust-stack.md §3.12).

use crate::model::Digest;
use chrono::{DateTime, SecondsFormat, Utc};
use std::io::{BufRead, Read, Write};

/// The kinds of record blackout writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    Warcinfo,
    Request,
    Response,
    /// A `304 Not Modified`: the capture refers to the earlier one whose bytes it reuses.
    Revisit,
    /// What blackout made of a capture (extracted text, dates, verdicts, findings).
    Metadata,
    /// A file read from disk, with no HTTP exchange around it.
    Resource,
}

impl RecordType {
    pub fn name(self) -> &'static str {
        match self {
            RecordType::Warcinfo => "warcinfo",
            RecordType::Request => "request",
            RecordType::Response => "response",
            RecordType::Revisit => "revisit",
            RecordType::Metadata => "metadata",
            RecordType::Resource => "resource",
        }
    }

    fn named(name: &str) -> Option<RecordType> {
        [
            RecordType::Warcinfo,
            RecordType::Request,
            RecordType::Response,
            RecordType::Revisit,
            RecordType::Metadata,
            RecordType::Resource,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }
}

/// One record: its type, id, date, the other named fields in order, and its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: RecordType,
    /// `<urn:uuid:…>`, angle brackets included.
    pub id: String,
    pub date: DateTime<Utc>,
    /// Named fields besides type, id, date, length and block digest.
    pub fields: Vec<(String, String)>,
    pub block: Vec<u8>,
}

/// A value made safe for a named field: no line break can end the field early (a URI or a
/// header from the web must not add a field of its own).
pub fn field_value(value: &str) -> String {
    value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

impl Record {
    /// A record with a fresh random id (UUID v4).
    pub fn new(kind: RecordType, date: DateTime<Utc>, block: Vec<u8>) -> Record {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).expect("the system's random source");
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let id = format!(
            "<urn:uuid:{}-{}-{}-{}-{}>",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        Record {
            kind,
            id,
            date,
            fields: Vec::new(),
            block,
        }
    }

    /// Adds a named field (its value cleaned of line breaks).
    pub fn field(mut self, name: &str, value: &str) -> Record {
        self.fields.push((name.to_string(), field_value(value)));
        self
    }

    /// The value of a named field, the first if repeated.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The record as the file holds it, before compression.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "WARC/1.1\r\nWARC-Type: {}\r\nWARC-Record-ID: {}\r\nWARC-Date: {}\r\n",
            self.kind.name(),
            self.id,
            self.date.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        );
        for (name, value) in &self.fields {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "WARC-Block-Digest: {}\r\nContent-Length: {}\r\n\r\n",
            Digest::of(&self.block),
            self.block.len()
        ));
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.block);
        out.extend_from_slice(b"\r\n\r\n");
        out
    }
}

/// An HTTP response as a WARC `response` block: the status line and headers as received, then
/// the body. The body is kept decoded (blackout reads bodies after content decoding), so the
/// headers that described the encoding on the wire are renamed `X-Archive-Orig-…` and a
/// `Content-Length` of the body as kept is given, the convention web archives follow; the
/// payload digest is of that body.
pub fn http_response(status: u16, reason: &str, headers: &[(String, String)], body: &[u8]) -> (Vec<u8>, String) {
    let mut block = status_and_headers(status, reason, headers);
    block.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    block.extend_from_slice(body);
    (block, Digest::of(body).to_string())
}

/// The head of an HTTP response whose body was not read (a redirect, an answer whose status is
/// not success): the status line and headers as received, the ones about the body on the wire
/// renamed as in [`http_response`], and no `Content-Length` of blackout's: the record is marked
/// `WARC-Truncated` by its writer, since it holds no body, not an empty one.
pub fn http_head(status: u16, reason: &str, headers: &[(String, String)]) -> Vec<u8> {
    let mut block = status_and_headers(status, reason, headers);
    block.extend_from_slice(b"\r\n");
    block
}

fn status_and_headers(status: u16, reason: &str, headers: &[(String, String)]) -> Vec<u8> {
    let mut block = format!("HTTP/1.1 {status} {}\r\n", field_value(reason)).into_bytes();
    for (name, value) in headers {
        let renamed = match name.to_ascii_lowercase().as_str() {
            "content-encoding" | "transfer-encoding" | "content-length" => format!("X-Archive-Orig-{name}"),
            _ => name.clone(),
        };
        block.extend_from_slice(format!("{}: {}\r\n", field_value(&renamed), field_value(value)).as_bytes());
    }
    block
}

/// The payload of an HTTP message block: what follows its head.
pub fn payload(block: &[u8]) -> &[u8] {
    block
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(&block[..0], |at| &block[at + 4..])
}

/// Writes records, one gzip member each, and says where each went.
pub struct Writer<W: Write> {
    out: W,
    offset: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Writer<W> {
        Writer { out, offset: 0 }
    }

    /// Appends a record; its offset and compressed length in the file.
    pub fn append(&mut self, record: &Record) -> std::io::Result<(u64, u64)> {
        // The fastest level: an export of a night is gigabytes of pages (at the default level,
        // 20,000 pages took 150 s to export; bench/evidence.sh).
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&record.to_bytes())?;
        let member = gz.finish()?;
        self.out.write_all(&member)?;
        let at = self.offset;
        self.offset += member.len() as u64;
        Ok((at, member.len() as u64))
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Why a WARC file could not be read, naming the record (by its offset in the file, and its
/// id once known).
#[derive(Debug, thiserror::Error)]
pub enum WarcError {
    #[error("the record at byte {offset} is not a gzip member: {error}")]
    Gzip { offset: u64, error: std::io::Error },
    #[error("the record at byte {offset} is not a WARC record: {}", crate::report::inert(what))]
    Syntax { offset: u64, what: String },
    #[error(
        "the record {} at byte {offset} was altered: its {which} digest does not match its bytes",
        crate::report::inert(id)
    )]
    Digest { offset: u64, id: String, which: &'static str },
}

/// Reads the records of a file written one gzip member per record, checking every digest.
pub struct Reader<R: BufRead> {
    input: CountingReader<R>,
    /// Set after a record too large to read: what follows cannot be found.
    stopped: bool,
}

/// The largest record read (uncompressed): far above any body (the fetch cap is 10 MiB by
/// default) and a run's whole record, which grows with its items.
const MAX_RECORD: u64 = 1 << 30;

/// Counts the bytes the gzip decoder takes, so each record's offset is known.
struct CountingReader<R: BufRead> {
    inner: R,
    taken: u64,
}

impl<R: BufRead> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.taken += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.taken += n as u64;
        self.inner.consume(n);
    }
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Reader<R> {
        Reader {
            input: CountingReader { inner: input, taken: 0 },
            stopped: false,
        }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    /// A record and its offset in the file.
    type Item = Result<(u64, Record), WarcError>;

    fn next(&mut self) -> Option<Self::Item> {
        let offset = self.input.taken;
        match self.input.fill_buf() {
            Ok([]) => return None,
            Ok(_) => {}
            Err(error) => return Some(Err(WarcError::Gzip { offset, error })),
        }
        if self.stopped {
            return None;
        }
        let mut bytes = Vec::new();
        // A record past the cap is refused, and the reading stops (a gzip member that
        // inflates without end is a way to exhaust memory, not a record).
        let read = flate2::bufread::GzDecoder::new(&mut self.input)
            .take(MAX_RECORD + 1)
            .read_to_end(&mut bytes);
        if let Err(error) = read {
            return Some(Err(WarcError::Gzip { offset, error }));
        }
        if bytes.len() as u64 > MAX_RECORD {
            self.stopped = true;
            return Some(Err(WarcError::Syntax {
                offset,
                what: format!("a record larger than {} MiB", MAX_RECORD >> 20),
            }));
        }
        Some(parse(offset, &bytes).map(|r| (offset, r)))
    }
}

fn parse(offset: u64, bytes: &[u8]) -> Result<Record, WarcError> {
    let syntax = |what: &str| WarcError::Syntax {
        offset,
        what: what.to_string(),
    };
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| syntax("no end to its named fields"))?;
    let head = std::str::from_utf8(&bytes[..end]).map_err(|_| syntax("named fields that are not UTF-8"))?;
    let mut lines = head.split("\r\n");
    if lines.next() != Some("WARC/1.1") {
        return Err(syntax("not WARC/1.1"));
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(|| syntax("a field without a colon"))?;
        fields.push((name.trim().to_string(), value.trim().to_string()));
    }
    let take = |name: &str| -> Option<String> { fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()) };
    let kind = take("WARC-Type")
        .and_then(|t| RecordType::named(&t))
        .ok_or_else(|| syntax("no known WARC-Type"))?;
    let id = take("WARC-Record-ID").ok_or_else(|| syntax("no WARC-Record-ID"))?;
    let date = take("WARC-Date")
        .and_then(|d| DateTime::parse_from_rfc3339(&d).ok())
        .ok_or_else(|| syntax("no WARC-Date"))?
        .to_utc();
    let length: usize = take("Content-Length")
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| syntax("no Content-Length"))?;
    let start = end + 4;
    let block = bytes
        .get(start..start + length)
        .ok_or_else(|| syntax("a block shorter than its Content-Length"))?
        .to_vec();
    let altered = |which| WarcError::Digest {
        offset,
        id: id.clone(),
        which,
    };
    if take("WARC-Block-Digest").is_none_or(|d| d != Digest::of(&block).to_string()) {
        return Err(altered("block"));
    }
    // A revisit's payload digest is of the body it refers to, which it does not hold.
    if kind == RecordType::Response
        && let Some(payload) = take("WARC-Payload-Digest")
        && payload != Digest::of(self::payload(&block)).to_string()
    {
        return Err(altered("payload"));
    }
    let fields = fields
        .into_iter()
        .filter(|(n, _)| {
            !["WARC-Type", "WARC-Record-ID", "WARC-Date", "Content-Length", "WARC-Block-Digest"]
                .iter()
                .any(|k| n.eq_ignore_ascii_case(k))
        })
        .collect();
    Ok(Record {
        kind,
        id,
        date,
        fields,
        block,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2017-05-06T09:30:00Z").unwrap().to_utc()
    }

    fn response() -> Record {
        let headers = vec![
            ("Content-Type".to_string(), "text/html; charset=utf-8".to_string()),
            ("Content-Encoding".to_string(), "gzip".to_string()),
        ];
        let (block, payload) = http_response(200, "OK", &headers, "<p>Le virement</p>".as_bytes());
        Record::new(RecordType::Response, at(), block)
            .field("WARC-Target-URI", "https://e.fr/a\r\nWARC-Type: forged")
            .field("WARC-IP-Address", "127.0.0.1")
            .field("WARC-Payload-Digest", &payload)
    }

    #[test]
    fn records_are_written_one_gzip_member_each_and_read_back_whole() {
        let records = [
            Record::new(RecordType::Warcinfo, at(), b"software: blackout\r\n".to_vec()).field("Content-Type", "application/warc-fields"),
            response(),
        ];
        let mut w = Writer::new(Vec::new());
        let places: Vec<(u64, u64)> = records.iter().map(|r| w.append(r).unwrap()).collect();
        let file = w.finish().unwrap();
        assert_eq!(places[1].0, places[0].1, "the second member starts where the first ends");
        let read: Vec<(u64, Record)> = Reader::new(&file[..]).map(Result::unwrap).collect();
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].0, places[1].0);
        assert_eq!(read[0].1, records[0]);
        assert_eq!(read[1].1, records[1]);
        assert_eq!(
            read[1].1.get("WARC-Target-URI"),
            Some("https://e.fr/a  WARC-Type: forged"),
            "no line break in a field"
        );
        // One record alone opens at its offset.
        let (at, len) = places[1];
        let one: Vec<_> = Reader::new(&file[at as usize..(at + len) as usize]).collect();
        assert_eq!(one.len(), 1);
        let block = String::from_utf8(read[1].1.block.clone()).unwrap();
        assert!(
            block.contains("X-Archive-Orig-Content-Encoding: gzip\r\nContent-Length: 18\r\n\r\n<p>Le virement</p>"),
            "{block}"
        );
    }

    #[test]
    fn an_altered_record_is_refused_by_name() {
        let r = response();
        let mut bytes = r.to_bytes();
        let at = bytes.len() - 10;
        bytes[at] ^= 1;
        // The fastest level: an export of a night is gigabytes of pages (at the default level,
        // 20,000 pages took 150 s to export; bench/evidence.sh).
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes).unwrap();
        let file = gz.finish().unwrap();
        match Reader::new(&file[..]).next().unwrap() {
            Err(WarcError::Digest { id, which, offset: 0 }) => {
                assert_eq!(id, r.id);
                assert_eq!(which, "block");
            }
            other => panic!("{other:?}"),
        }
        let err = Reader::new(&b"not gzip"[..]).next().unwrap().unwrap_err();
        assert!(err.to_string().contains("at byte 0 is not a gzip member"), "{err}");
    }

    #[test]
    fn ids_are_uuid_v4() {
        let id = Record::new(RecordType::Metadata, at(), Vec::new()).id;
        assert_eq!(id.len(), "<urn:uuid:>".len() + 36);
        assert_eq!(&id[id.len() - 23..id.len() - 22], "4", "{id}");
    }
}
