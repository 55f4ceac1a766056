//! Captures: what one fetch gave, in a form kept as evidence and read back by a replay. A
//! [`Captured`] holds everything a [`Document`] holds but its bytes (kept apart, under their
//! SHA-256), or why the fetch failed; a [`Replayer`] serves captures to a run in place of the
//! web, so that a run over them takes every decision the live run took.

use super::{Document, Exchange, FetchError, Fetcher, Location, NetStage, Request};
use crate::model::Digest;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use url::Url;

/// One fetch as evidence keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Captured {
    /// The address asked for.
    pub url: String,
    /// The address the body came from, after redirects.
    pub final_url: String,
    /// For a file read from disk: its path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The SHA-256 of the body as read (after content decoding, before charset decoding);
    /// `None` when the fetch failed.
    pub body: Option<Digest>,
    pub length: u64,
    /// The body was cut at `max_bytes`.
    pub truncated: bool,
    pub max_bytes: u64,
    /// The server answered `304 Not Modified`: the body is the one an earlier capture holds.
    pub revisit: bool,
    pub status: Option<u16>,
    /// The document's headers (for a revisit, those kept with the earlier body; for a fetch
    /// that failed on its status, the answer's).
    pub headers: Vec<(String, String)>,
    pub redirects: Vec<String>,
    /// Every HTTP exchange, in order: each redirect, then the answer (for a failed fetch, those
    /// made before it failed, an answer whose status is not success among them).
    pub exchanges: Vec<ExchangeRecord>,
    pub fetched_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<Failure>,
}

/// An [`Exchange`] as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeRecord {
    /// `None` in captures made before the method was recorded (all were `GET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<super::Method>,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub peer: Option<std::net::IpAddr>,
}

/// Why a fetch failed, as kept: a replay fails the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// Where a network fetch failed; `None` for a file that could not be read.
    pub stage: Option<NetStage>,
    pub message: String,
}

impl Captured {
    /// The capture of one fetch's outcome.
    pub fn of(location: &Location, fetched: &Result<Document, FetchError>) -> Captured {
        // Absolute, as the run's `--input` is recorded: a replay puts the file back there.
        let file = match location {
            Location::File(path) => Some(std::path::absolute(path).unwrap_or_else(|_| path.clone()).display().to_string()),
            Location::Http(_) => None,
        };
        match fetched {
            Ok(doc) => Captured {
                url: doc.url.to_string(),
                final_url: doc.final_url.to_string(),
                file,
                body: Some(Digest::of(&doc.bytes)),
                length: doc.bytes.len() as u64,
                truncated: doc.truncated,
                max_bytes: doc.max_bytes,
                revisit: doc.from_cache,
                status: doc.status,
                headers: doc.headers.clone(),
                redirects: doc.redirects.iter().map(Url::to_string).collect(),
                exchanges: doc.exchanges.iter().map(ExchangeRecord::of).collect(),
                fetched_at: doc.fetched_at,
                failed: None,
            },
            Err(e) => {
                let url = location.url().to_string();
                let (failed_at, stage, exchanges) = match e {
                    FetchError::Network { url, stage, exchanges, .. } => (url.to_string(), Some(*stage), exchanges.as_slice()),
                    _ => (url.clone(), None, &[][..]),
                };
                // The answer the fetch failed on, when it failed on one (its status, or a
                // redirect it would not follow); the redirects it followed before.
                let answer = exchanges
                    .last()
                    .filter(|x| stage == Some(NetStage::Status) && x.url.as_str() == failed_at);
                let followed = &exchanges[..exchanges.len() - usize::from(answer.is_some())];
                Captured {
                    final_url: failed_at,
                    url,
                    file,
                    body: None,
                    length: 0,
                    truncated: false,
                    max_bytes: 0,
                    revisit: false,
                    status: answer.map(|x| x.status),
                    headers: answer.map(|x| x.headers.clone()).unwrap_or_default(),
                    redirects: followed
                        .iter()
                        .filter(|x| (300..400).contains(&x.status))
                        .map(|x| x.url.to_string())
                        .collect(),
                    exchanges: exchanges.iter().map(ExchangeRecord::of).collect(),
                    fetched_at: Utc::now(),
                    failed: Some(Failure {
                        stage,
                        message: e.to_string(),
                    }),
                }
            }
        }
    }

    /// The document (or the failure) this capture holds, given its body.
    pub fn replay(&self, body: Vec<u8>) -> Result<Document, FetchError> {
        let url = parse(&self.url)?;
        let exchanges = self.exchanges.iter().map(ExchangeRecord::exchange).collect::<Result<_, _>>()?;
        if let Some(f) = &self.failed {
            return Err(match f.stage {
                Some(stage) => FetchError::Network {
                    url: url.into(),
                    stage,
                    message: f.message.clone(),
                    exchanges,
                },
                None => FetchError::Io {
                    path: self.file.clone().unwrap_or_default().into(),
                    error: std::io::Error::other(f.message.clone()),
                },
            });
        }
        Ok(Document {
            final_url: parse(&self.final_url)?,
            url,
            status: self.status,
            headers: self.headers.clone(),
            bytes: body,
            fetched_at: self.fetched_at,
            truncated: self.truncated,
            max_bytes: self.max_bytes,
            redirects: self.redirects.iter().map(|r| parse(r)).collect::<Result<_, _>>()?,
            from_cache: self.revisit,
            elapsed: std::time::Duration::ZERO,
            exchanges,
        })
    }
}

impl ExchangeRecord {
    fn of(e: &Exchange) -> ExchangeRecord {
        ExchangeRecord {
            method: Some(e.method),
            url: e.url.to_string(),
            request_headers: e.request_headers.clone(),
            status: e.status,
            headers: e.headers.clone(),
            started: e.started,
            ended: e.ended,
            peer: e.peer,
        }
    }

    fn exchange(&self) -> Result<Exchange, FetchError> {
        Ok(Exchange {
            method: self.method.unwrap_or(super::Method::Get),
            url: parse(&self.url)?,
            request_headers: self.request_headers.clone(),
            status: self.status,
            headers: self.headers.clone(),
            started: self.started,
            ended: self.ended,
            peer: self.peer,
        })
    }
}

/// A kept address that no longer parses is a capture altered by hand.
fn parse(url: &str) -> Result<Url, FetchError> {
    Url::parse(url).map_err(|e| FetchError::Replay {
        url: url.to_string(),
        why: format!("the capture's address does not parse ({e})"),
    })
}

/// Where a replay's captures' bodies come from (the store's blobs, a WARC file).
pub trait Bodies: Sync {
    fn body(&self, digest: &Digest) -> Result<Vec<u8>, String>;
}

/// Serves captures in place of the web: each location gets its captures in the order they
/// were made (the last one again when asked once more); a location never captured fails, as
/// a fetch that cannot be made.
pub struct Replayer<'a> {
    captures: Mutex<HashMap<String, std::collections::VecDeque<Captured>>>,
    bodies: &'a dyn Bodies,
}

impl<'a> Replayer<'a> {
    pub fn new(captures: impl IntoIterator<Item = Captured>, bodies: &'a dyn Bodies) -> Replayer<'a> {
        let mut by_url: HashMap<String, std::collections::VecDeque<Captured>> = HashMap::new();
        for c in captures {
            by_url.entry(c.url.clone()).or_default().push_back(c);
        }
        Replayer {
            captures: Mutex::new(by_url),
            bodies,
        }
    }

    fn fetch(&self, location: &Location) -> Result<Document, FetchError> {
        let url = location.url().to_string();
        let capture = {
            let mut captures = self.captures.lock().expect("replay lock");
            let queue = captures.get_mut(&url).ok_or_else(|| FetchError::Replay {
                url: url.clone(),
                why: "the run kept no capture of it".into(),
            })?;
            match queue.len() {
                1 => queue[0].clone(),
                _ => queue.pop_front().expect("a capture"),
            }
        };
        let body = match &capture.body {
            Some(d) => self.bodies.body(d).map_err(|why| FetchError::Replay { url: url.clone(), why })?,
            None => Vec::new(),
        };
        capture.replay(body)
    }
}

impl Fetcher for Replayer<'_> {
    /// On every core, as the live run extracted and judged on every core.
    fn fetch_each(&self, requests: &[Request], each: &(dyn Fn(usize, Result<Document, FetchError>) + Sync)) {
        use rayon::prelude::*;
        requests.par_iter().enumerate().for_each(|(i, r)| each(i, self.fetch(&r.location)));
    }

    /// Whatever the live run could reach (the web and files alike).
    fn reaches(&self, _: &Location) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Kept(HashMap<Digest, Vec<u8>>);

    impl Bodies for Kept {
        fn body(&self, d: &Digest) -> Result<Vec<u8>, String> {
            self.0.get(d).cloned().ok_or_else(|| "missing".into())
        }
    }

    fn doc(url: &str, body: &[u8]) -> Document {
        let at = "2017-05-06T10:00:00Z".parse().unwrap();
        let u = Url::parse(url).unwrap();
        Document {
            url: u.clone(),
            final_url: u.join("/final").unwrap(),
            status: Some(200),
            headers: vec![("content-type".into(), "text/html; charset=windows-1252".into())],
            bytes: body.to_vec(),
            fetched_at: at,
            truncated: false,
            max_bytes: 1000,
            redirects: vec![u.clone()],
            from_cache: false,
            elapsed: std::time::Duration::from_millis(12),
            exchanges: vec![Exchange {
                method: crate::fetch::Method::Get,
                url: u,
                request_headers: vec![("user-agent".into(), "blackout".into())],
                status: 301,
                headers: vec![("location".into(), "/final".into())],
                started: at,
                ended: at,
                peer: Some("127.0.0.1".parse().unwrap()),
            }],
        }
    }

    #[test]
    fn a_capture_replays_the_document_and_the_failure_it_kept() {
        let location = Location::Http(Url::parse("https://e.fr/a").unwrap());
        let original = doc("https://e.fr/a", b"caf\xe9");
        let c = Captured::of(&location, &Ok(original.clone()));
        // Kept as JSON and read back: the same capture.
        let back: Captured = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        let replayed = back.replay(b"caf\xe9".to_vec()).unwrap();
        assert_eq!(replayed.final_url, original.final_url);
        assert_eq!(replayed.headers, original.headers);
        assert_eq!(replayed.redirects, original.redirects);
        assert_eq!(replayed.exchanges, original.exchanges);
        assert_eq!(replayed.fetched_at, original.fetched_at);

        // A page taken down behind a redirect: both answers kept, the last one's status and
        // headers as the capture's.
        let at = "2017-05-07T10:00:00Z".parse().unwrap();
        let answer = |url: &str, status, headers: Vec<(String, String)>| Exchange {
            method: crate::fetch::Method::Get,
            url: Url::parse(url).unwrap(),
            request_headers: vec![("user-agent".into(), "blackout".into())],
            status,
            headers,
            started: at,
            ended: at,
            peer: Some("127.0.0.1".parse().unwrap()),
        };
        let failed: Result<Document, FetchError> = Err(FetchError::Network {
            url: Box::new(Url::parse("https://e.fr/gone").unwrap()),
            stage: NetStage::Status,
            message: "HTTP 410 Gone".into(),
            exchanges: vec![
                answer("https://e.fr/b", 301, vec![("location".into(), "/gone".into())]),
                answer(
                    "https://e.fr/gone",
                    410,
                    vec![("date".into(), "Sun, 07 May 2017 10:00:00 GMT".into())],
                ),
            ],
        });
        let b = Location::Http(Url::parse("https://e.fr/b").unwrap());
        let c2 = Captured::of(&b, &failed);
        assert_eq!((c2.status, c2.final_url.as_str()), (Some(410), "https://e.fr/gone"));
        assert_eq!(c2.redirects, ["https://e.fr/b"]);
        assert_eq!(c2.headers, [("date".to_string(), "Sun, 07 May 2017 10:00:00 GMT".to_string())]);
        assert_eq!(c2.exchanges.len(), 2);
        assert_eq!(serde_json::from_str::<Captured>(&serde_json::to_string(&c2).unwrap()).unwrap(), c2);
        // A capture kept before methods were recorded reads back as GET, and its record is
        // written again byte for byte (its digest in the manifest still holds).
        let mut old = serde_json::to_value(&c2).unwrap();
        for e in old["exchanges"].as_array_mut().unwrap() {
            e.as_object_mut().unwrap().remove("method");
        }
        let old_bytes = crate::store::manifest::canonical_json(&old);
        let old: Captured = serde_json::from_slice(&old_bytes).unwrap();
        assert_eq!(old.exchanges[0].method, None);
        assert_eq!(old.exchanges[0].exchange().unwrap().method, crate::fetch::Method::Get);
        assert_eq!(crate::store::capture_json(&old), old_bytes);
        let bodies = Kept(HashMap::from([(Digest::of(b"caf\xe9"), b"caf\xe9".to_vec())]));
        let replayer = Replayer::new([c, c2], &bodies);
        let again = replayer.fetch(&location).unwrap();
        assert_eq!(again.bytes, b"caf\xe9");
        match replayer.fetch(&b) {
            Err(FetchError::Network {
                stage, message, exchanges, ..
            }) => {
                assert_eq!(stage, NetStage::Status);
                assert_eq!(message, "HTTP 410 Gone");
                assert_eq!((exchanges.len(), exchanges[1].status), (2, 410));
            }
            other => panic!("{other:?}"),
        }
        let never = Location::Http(Url::parse("https://e.fr/never").unwrap());
        let err = replayer.fetch(&never).unwrap_err().to_string();
        assert!(err.contains("https://e.fr/never") && err.contains("no capture"), "{err}");
    }
}
