//! Fetching over HTTP(S) the way a careful crawler does: one shared client, a global limit on
//! requests in flight and a per-host one (with an optional minimum delay between requests to
//! the same host), timeouts, a body cap counted after decompression, retries with backoff that
//! honour `Retry-After`, and redirects followed by hand so the chain is recorded and a loop is
//! reported.
//!
//! The network side is asynchronous (tokio, reqwest); everything after it is not. Documents
//! are handed to the caller's function as they arrive, on a rayon pool: parsing and extraction
//! overlap the fetching. A request's global permit is released only once the caller has
//! processed its document, so at most `concurrency` bodies are in memory, being fetched or
//! waiting, whatever the speed of the consumers.

mod keep;
mod private;

pub use keep::{Keep, Validators};

use crate::fetch::{DEFAULT_MAX_BODY, Document, Exchange, FetchError, LocalFetcher, Location, NetStage, Request};
use chrono::{DateTime, Utc};
use rayon::iter::{ParallelBridge, ParallelIterator};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

/// How politely and how far to fetch.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Requests in flight at once, all hosts together.
    pub concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host: usize,
    /// Least time between the starts of two requests to the same host.
    pub host_delay: Duration,
    pub connect_timeout: Duration,
    /// For a whole request, body included.
    pub timeout: Duration,
    /// Largest body kept, counted after decompression.
    pub max_body: u64,
    /// Attempts after the first for connection errors, timeouts and 5xx.
    pub retries: u32,
    /// First backoff delay; doubled at each retry, with jitter.
    pub backoff: Duration,
    /// Longest `Retry-After` honoured; a longer one gives up.
    pub max_retry_after: Duration,
    pub max_redirects: usize,
    /// A URL where site owners can learn about the crawler, added to the User-Agent.
    pub contact: Option<String>,
    /// What keeps validators and bodies between runs for conditional GET (the state
    /// store); none to always fetch in full.
    pub keep: Option<Arc<dyn Keep>>,
    /// Whether robots.txt is consulted for requests that ask for it.
    pub obey_robots: bool,
    /// Told of what the fetcher fetches on its own behalf (robots.txt), for the evidence.
    pub witness: Option<Arc<dyn crate::fetch::Witness>>,
    /// Refuse addresses that are not on the public internet (loopback, private, link-local).
    pub deny_private: bool,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            concurrency: 16,
            per_host: 1,
            host_delay: Duration::ZERO,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body: DEFAULT_MAX_BODY,
            retries: 2,
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(120),
            max_redirects: 10,
            contact: None,
            keep: None,
            obey_robots: true,
            witness: None,
            deny_private: false,
        }
    }
}

impl HttpOptions {
    pub fn user_agent(&self) -> String {
        let base = format!("blackout/{} (election-silence compliance checker", env!("CARGO_PKG_VERSION"));
        match &self.contact {
            Some(c) => format!("{base}; +{c})"),
            None => format!("{base})"),
        }
    }
}

/// Fetches local files and HTTP(S) URLs.
pub struct HttpFetcher {
    runtime: tokio::runtime::Runtime,
    shared: Arc<Shared>,
}

struct Shared {
    client: reqwest::Client,
    options: HttpOptions,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    /// robots.txt per origin, fetched once; `None` when there is none to obey.
    robots: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Option<texting_robots::Robot>>>>>,
}

/// The product token robots.txt groups are matched against.
const ROBOTS_AGENT: &str = "blackout";

/// Largest robots.txt read (Google reads 500 KiB).
const ROBOTS_MAX_BYTES: u64 = 512 * 1024;

/// The longest Crawl-delay honoured; a site asking for more gets this.
const MAX_CRAWL_DELAY: Duration = Duration::from_secs(30);

/// The per-host limit: permits for requests in flight, and when the next may start.
struct HostGate {
    permits: Semaphore,
    next_start: tokio::sync::Mutex<Instant>,
    /// The configured delay, or the site's Crawl-delay if longer.
    delay: Mutex<Duration>,
}

/// Why the fetcher could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs `work` (a delivery, a timestamp request) on a runtime of its own, within `timeout`
/// (`None` when it timed out). The runtime is shut down without waiting for its blocking
/// threads, so a name lookup that hangs cannot hold the process past the timeout.
pub fn bounded<T>(timeout: std::time::Duration, work: impl std::future::Future<Output = T>) -> Result<Option<T>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a network runtime: {e}"))?;
    let done = runtime.block_on(async { tokio::time::timeout(timeout, work).await.ok() });
    runtime.shutdown_background();
    Ok(done)
}

/// Makes ring the process's TLS crypto provider, once, for every rustls client that takes the
/// default (reqwest's, the webhook's). One provider for the whole program: ring, rather than
/// aws-lc-rs, whose C build took a minute of a newcomer's first build (README → Performance).
pub fn install_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only when a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl HttpFetcher {
    pub fn new(options: HttpOptions) -> Result<HttpFetcher, SetupError> {
        HttpFetcher::with_client(options, |b| b)
    }

    /// As [`HttpFetcher::new`], letting the caller adjust the client (tests point host names
    /// at loopback addresses with `resolve`).
    pub fn with_client(
        options: HttpOptions,
        adjust: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
    ) -> Result<HttpFetcher, SetupError> {
        install_crypto();
        let builder = reqwest::Client::builder()
            .user_agent(options.user_agent())
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .gzip(true)
            .brotli(true)
            .deflate(true);
        let builder = match options.deny_private {
            true => builder.dns_resolver(Arc::new(private::PublicOnly)),
            false => builder,
        };
        let client = adjust(builder).build()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(SetupError::Runtime)?;
        Ok(HttpFetcher {
            runtime,
            shared: Arc::new(Shared {
                client,
                global: Arc::new(Semaphore::new(options.concurrency.max(1))),
                options,
                hosts: Mutex::new(HashMap::new()),
                robots: Mutex::new(HashMap::new()),
            }),
        })
    }
}

impl crate::fetch::Fetcher for HttpFetcher {
    fn reaches(&self, _location: &Location) -> bool {
        true
    }

    fn fetch_each(&self, requests: &[Request], each: &(dyn Fn(usize, Result<Document, FetchError>) + Sync)) {
        let (files, urls): (Vec<_>, Vec<_>) = requests
            .iter()
            .enumerate()
            .partition(|(_, r)| matches!(r.location, Location::File(_)));
        let local = LocalFetcher {
            max_body: self.shared.options.max_body,
        };
        files
            .into_iter()
            .par_bridge()
            .for_each(|(i, r)| each(i, local.fetch(&r.location, r.max_body)));
        if urls.is_empty() {
            return;
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Result<Document, FetchError>, Option<OwnedSemaphorePermit>)>();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                self.runtime.block_on(async {
                    let mut tasks = tokio::task::JoinSet::new();
                    for (i, request) in urls {
                        let Location::Http(url) = &request.location else { continue };
                        let (shared, url, tx) = (self.shared.clone(), url.clone(), tx.clone());
                        let obey = request.obey_robots && self.shared.options.obey_robots;
                        let cap = request.max_body.unwrap_or(self.shared.options.max_body);
                        tasks.spawn(async move {
                            let fetched = match obey {
                                true => shared.fetch_allowed(url, cap).await,
                                false => shared.fetch(url, cap).await,
                            };
                            // The permit travels with the document (see the module doc).
                            let _ = match fetched {
                                Ok((doc, permit)) => tx.send((i, Ok(doc), Some(permit))),
                                Err(e) => tx.send((i, Err(e), None)),
                            };
                        });
                    }
                    drop(tx);
                    while tasks.join_next().await.is_some() {}
                });
            });
            std::iter::from_fn(|| rx.blocking_recv()).par_bridge().for_each(|(i, r, permit)| {
                each(i, r);
                drop(permit);
            });
        });
    }
}

impl Shared {
    fn gate(&self, host: &str) -> Arc<HostGate> {
        let mut hosts = self.hosts.lock().expect("host table lock");
        hosts
            .entry(host.to_string())
            .or_insert_with(|| {
                Arc::new(HostGate {
                    permits: Semaphore::new(self.options.per_host.max(1)),
                    next_start: tokio::sync::Mutex::new(Instant::now()),
                    delay: Mutex::new(self.options.host_delay),
                })
            })
            .clone()
    }

    /// [`Shared::fetch`], if the site's robots.txt allows it.
    async fn fetch_allowed(&self, url: Url, cap: u64) -> Result<Fetched, FetchError> {
        let origin = url.origin().ascii_serialization();
        let cell = self.robots.lock().expect("robots lock").entry(origin.clone()).or_default().clone();
        let robot = cell
            .get_or_init(|| async {
                let robots_url = Url::parse(&format!("{origin}/robots.txt")).ok()?;
                let fetched = self.fetch(robots_url.clone(), ROBOTS_MAX_BYTES).await.map(|(doc, _)| doc);
                if let Some(w) = &self.options.witness {
                    w.fetched(&Location::Http(robots_url), &fetched);
                }
                // Missing (4xx) or unreachable: nothing to obey.
                let doc = fetched.ok()?;
                let robot = texting_robots::Robot::new(ROBOTS_AGENT, &doc.bytes).ok()?;
                if let Some(d) = robot.delay.filter(|d| d.is_finite() && *d > 0.0) {
                    let gate = self.gate(url.host_str().unwrap_or(""));
                    let mut delay = gate.delay.lock().expect("delay lock");
                    *delay = (*delay).max(Duration::from_secs_f32(d).min(MAX_CRAWL_DELAY));
                }
                Some(robot)
            })
            .await;
        if robot.as_ref().is_some_and(|r| !r.allowed(url.as_str())) {
            return Err(FetchError::Network {
                url: url.into(),
                stage: NetStage::Robots,
                message: "disallowed by the site's robots.txt; not fetched (a source can set `ignore_robots = true`)".into(),
                exchanges: Vec::new(),
            });
        }
        self.fetch(url, cap).await
    }

    /// One document: redirects followed by hand, each hop under the host's and the global
    /// limits, with retries.
    async fn fetch(&self, url: Url, cap: u64) -> Result<Fetched, FetchError> {
        let started = Instant::now();
        let mut chain: Vec<Url> = Vec::new();
        let mut exchanges: Vec<Exchange> = Vec::new();
        let mut current = url;
        loop {
            // What a failure records begins with the redirects that led to it.
            let hop = self
                .attempts(&current, cap)
                .await
                .map_err(|e| e.after(std::mem::take(&mut exchanges)))?;
            match hop {
                Hop::Redirect(next, hop) => {
                    exchanges.extend(hop);
                    chain.push(current.clone());
                    if chain.contains(&next) {
                        return Err(FetchError::Network {
                            url: current.into(),
                            stage: NetStage::RedirectLoop,
                            message: format!("redirect loop back to {next}"),
                            exchanges,
                        });
                    }
                    if chain.len() > self.options.max_redirects {
                        return Err(FetchError::Network {
                            url: current.into(),
                            stage: NetStage::RedirectLoop,
                            message: format!("more than {} redirects", self.options.max_redirects),
                            exchanges,
                        });
                    }
                    current = next;
                }
                Hop::Done(doc, permit) => {
                    let mut doc = *doc;
                    if let Some(first) = chain.first() {
                        doc.url = first.clone();
                    }
                    doc.redirects = chain;
                    exchanges.append(&mut doc.exchanges);
                    doc.exchanges = exchanges;
                    doc.elapsed = started.elapsed();
                    return Ok((doc, permit));
                }
            }
        }
    }

    /// One URL with retries: connection errors, timeouts and 5xx are retried with backoff;
    /// 429 and 503 wait as `Retry-After` says. Every answer is kept, the ones retried first.
    async fn attempts(&self, url: &Url, cap: u64) -> Result<Hop, FetchError> {
        let mut attempt = 0;
        let mut tried: Vec<Exchange> = Vec::new();
        loop {
            let wait = match self.once(url, cap).await {
                Ok(hop) => return Ok(hop.after(tried)),
                Err(Failure::Retryable(e)) if attempt < self.options.retries => {
                    tried.extend(e.into_exchanges());
                    self.backoff(attempt)
                }
                Err(Failure::RetryAfter(mut e, Some(after))) if attempt < self.options.retries => {
                    if after > self.options.max_retry_after {
                        if let FetchError::Network { stage, message, .. } = &mut e {
                            *stage = NetStage::Status;
                            *message = format!(
                                "asked to retry after {} s, longer than the {} s allowed",
                                after.as_secs(),
                                self.options.max_retry_after.as_secs()
                            );
                        }
                        return Err(e.after(tried));
                    }
                    tried.extend(e.into_exchanges());
                    after
                }
                Err(Failure::RetryAfter(e, None)) if attempt < self.options.retries => {
                    tried.extend(e.into_exchanges());
                    self.backoff(attempt)
                }
                Err(Failure::Retryable(e) | Failure::Final(e) | Failure::RetryAfter(e, _)) => return Err(e.after(tried)),
            };
            tracing::info!(%url, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.options.backoff * 2u32.saturating_pow(attempt);
        // Up to half again, so that many clients do not retry in step.
        let jitter = getrandom::u32().unwrap_or(0) as f64 / u32::MAX as f64 * 0.5;
        base.mul_f64(1.0 + jitter)
    }

    /// One request under the host's and the global limits (two when a `304` confirms a body
    /// blackout no longer has: both answers are kept). `cap`: the largest body kept.
    async fn once(&self, url: &Url, cap: u64) -> Result<Hop, Failure> {
        let mut earlier = Vec::new();
        match self.request(url, cap, &mut earlier).await {
            Ok(hop) => Ok(hop.after(earlier)),
            Err(failure) => Err(failure.after(earlier)),
        }
    }

    /// [`Shared::once`]; a `304` whose body is gone is put in `earlier` before the request
    /// asking for the whole document.
    async fn request(&self, url: &Url, cap: u64, earlier: &mut Vec<Exchange>) -> Result<Hop, Failure> {
        if self.options.deny_private {
            let literal = match url.host() {
                Some(url::Host::Ipv4(a)) => Some(std::net::IpAddr::V4(a)),
                Some(url::Host::Ipv6(a)) => Some(std::net::IpAddr::V6(a)),
                _ => None,
            };
            if literal.is_some_and(private::is_private) {
                return Err(Failure::Final(FetchError::Network {
                    url: url.clone().into(),
                    stage: NetStage::Denied,
                    message: format!("a private or loopback address; {}", private::REFUSED),
                    exchanges: Vec::new(),
                }));
            }
        }
        let gate = self.gate(url.host_str().unwrap_or(""));
        // The host's permit first: a request waiting for its host must not hold a global one.
        let _host = gate.permits.acquire().await.expect("semaphore never closed");
        {
            let mut next = gate.next_start.lock().await;
            let now = Instant::now();
            if *next > now {
                tokio::time::sleep(*next - now).await;
            }
            *next = Instant::now() + *gate.delay.lock().expect("delay lock");
        }
        let global = self.global.clone().acquire_owned().await.expect("semaphore never closed");
        let net = |stage, message: String| FetchError::Network {
            url: url.clone().into(),
            stage,
            message,
            exchanges: Vec::new(),
        };
        let mut request = self.client.get(url.clone());
        let keep = self.options.keep.as_deref();
        let known = keep.and_then(|k| k.validators(url));
        let mut request_headers = vec![("user-agent".to_string(), self.options.user_agent())];
        if let Some(v) = &known {
            // ETag is exact; Last-Modified only to the second, so it is the fallback.
            if let Some(etag) = &v.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
                request_headers.push(("if-none-match".into(), etag.clone()));
            } else if let Some(lm) = &v.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
                request_headers.push(("if-modified-since".into(), lm.clone()));
            }
        }
        let mut sent_at = Utc::now();
        let sent = |request: reqwest::RequestBuilder| async {
            request.send().await.map_err(|e| {
                let (stage, message) = classify(&e);
                let retry = matches!(stage, NetStage::Connect | NetStage::Timeout | NetStage::Dns);
                let error = net(stage, message);
                if retry { Failure::Retryable(error) } else { Failure::Final(error) }
            })
        };
        let mut response = sent(request).await?;
        let mut status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            let head = exchange(url, &request_headers, sent_at, &response);
            // The headers that describe the body are the stored response's; the body is read
            // off the event loop's thread, like any file.
            let stored = known.zip(keep).and_then(|(validators, keep)| {
                let headers: Vec<(String, String)> = validators
                    .content_type
                    .iter()
                    .map(|ct| ("content-type".to_string(), ct.clone()))
                    .collect();
                tokio::task::block_in_place(|| keep.body(url, cap)).map(|body| (headers, body))
            });
            if let Some((headers, (bytes, truncated))) = stored {
                if let Some(keep) = keep {
                    keep.revalidated(url);
                }
                let body = Body { bytes, truncated, cap };
                let mut doc = answered(url, status, headers, body, true);
                doc.exchanges.push(head);
                return Ok(Hop::Done(Box::new(doc), global));
            }
            // The kept body went missing or was damaged since its validators were read: ask
            // again for the whole document.
            tracing::debug!(%url, "304, but the kept body is gone: fetching in full");
            earlier.push(head);
            request_headers.retain(|(name, _)| !name.starts_with("if-"));
            sent_at = Utc::now();
            response = sent(self.client.get(url.clone())).await?;
            status = response.status();
        }
        if status.is_redirection() {
            let head = exchange(url, &request_headers, sent_at, &response);
            let Some(target) = response.headers().get(reqwest::header::LOCATION) else {
                return Err(Failure::Final(refused(url, head, format!("HTTP {status} without a Location"))));
            };
            let Some(target) = target.to_str().ok().and_then(|t| url.join(t).ok()) else {
                return Err(Failure::Final(refused(
                    url,
                    head,
                    format!("HTTP {status} with an unusable Location"),
                )));
            };
            if !matches!(target.scheme(), "http" | "https") {
                let message = format!("redirect to a `{}` URL, which is not followed", target.scheme());
                return Err(Failure::Final(refused(url, head, message)));
            }
            return Ok(Hop::Redirect(target, vec![head]));
        }
        if !status.is_success() {
            let error = refused(url, exchange(url, &request_headers, sent_at, &response), format!("HTTP {status}"));
            return Err(match status.as_u16() {
                429 | 503 => Failure::RetryAfter(error, retry_after(response.headers())),
                500..=599 => Failure::Retryable(error),
                _ => Failure::Final(error),
            });
        }
        let mut head = exchange(url, &request_headers, sent_at, &response);
        let headers = head.headers.clone();
        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let validators = Validators {
            etag: header("etag"),
            last_modified: header("last-modified"),
            content_type: header("content-type"),
        };
        let mut bytes = Vec::new();
        let mut truncated = false;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = cap.saturating_sub(bytes.len() as u64) as usize;
                    if chunk.len() > room {
                        bytes.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let (stage, message) = classify(&e);
                    return Err(Failure::Retryable(net(stage, message).after(vec![head])));
                }
            }
        }
        tracing::debug!(%url, %status, bytes = bytes.len(), truncated, "fetched");
        if let Some(keep) = keep
            && !truncated
            && (validators.etag.is_some() || validators.last_modified.is_some())
        {
            tokio::task::block_in_place(|| keep.keep(url, validators, &bytes));
        }
        head.ended = Utc::now();
        let body = Body { bytes, truncated, cap };
        let mut doc = answered(url, status, headers, body, false);
        doc.exchanges.push(head);
        Ok(Hop::Done(Box::new(doc), global))
    }
}

/// A fetch that failed on what the server answered: the answer's head goes with the error.
fn refused(url: &Url, head: Exchange, message: String) -> FetchError {
    FetchError::Network {
        url: url.clone().into(),
        stage: NetStage::Status,
        message,
        exchanges: vec![head],
    }
}

/// An exchange as the response head shows it; `ended` is when the head was in (the caller sets
/// it again once the body is).
fn exchange(url: &Url, request_headers: &[(String, String)], started: DateTime<Utc>, response: &reqwest::Response) -> Exchange {
    Exchange {
        method: crate::fetch::Method::Get,
        url: url.clone(),
        request_headers: request_headers.to_vec(),
        status: response.status().as_u16(),
        headers: response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        started,
        ended: Utc::now(),
        peer: response.remote_addr().map(|a| a.ip()),
    }
}

/// A body as read: its bytes, whether they were cut, at which cap.
struct Body {
    bytes: Vec<u8>,
    truncated: bool,
    cap: u64,
}

/// The document of one answered request (redirects and timing are filled in by the caller),
/// its body fetched now or, `from_cache`, kept from an earlier run.
fn answered(url: &Url, status: reqwest::StatusCode, headers: Vec<(String, String)>, body: Body, from_cache: bool) -> Document {
    Document {
        url: url.clone(),
        final_url: url.clone(),
        status: Some(status.as_u16()),
        headers,
        bytes: body.bytes,
        fetched_at: Utc::now(),
        truncated: body.truncated,
        max_bytes: body.cap,
        redirects: Vec::new(),
        from_cache,
        elapsed: Duration::ZERO,
        exchanges: Vec::new(),
    }
}

/// A document and the global permit it holds until the caller has processed it.
type Fetched = (Document, OwnedSemaphorePermit);

enum Hop {
    /// Where to go next, and the answers that said so (the attempts retried, then the redirect).
    Redirect(Url, Vec<Exchange>),
    Done(Box<Document>, OwnedSemaphorePermit),
}

enum Failure {
    Retryable(FetchError),
    /// 429 or 503, with the server's `Retry-After` if it gave a usable one.
    RetryAfter(FetchError, Option<Duration>),
    Final(FetchError),
}

impl Hop {
    /// The hop with `earlier` exchanges before its own.
    fn after(self, mut earlier: Vec<Exchange>) -> Hop {
        match self {
            Hop::Redirect(next, hop) => {
                earlier.extend(hop);
                Hop::Redirect(next, earlier)
            }
            Hop::Done(mut doc, permit) => {
                doc.exchanges.splice(0..0, earlier);
                Hop::Done(doc, permit)
            }
        }
    }
}

impl Failure {
    /// The failure with `earlier` exchanges before its own.
    fn after(self, earlier: Vec<Exchange>) -> Failure {
        match self {
            Failure::Retryable(e) => Failure::Retryable(e.after(earlier)),
            Failure::RetryAfter(e, wait) => Failure::RetryAfter(e.after(earlier), wait),
            Failure::Final(e) => Failure::Final(e.after(earlier)),
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// The stage of a reqwest error, and a one-line message naming the cause.
fn classify(e: &reqwest::Error) -> (NetStage, String) {
    let mut causes = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        let text = s.to_string();
        if causes.last() != Some(&text) {
            causes.push(text);
        }
        source = s.source();
    }
    let all = causes.join(": ").to_lowercase();
    let stage = if all.contains(private::REFUSED) {
        NetStage::Denied
    } else if e.is_timeout() || all.contains("timed out") {
        NetStage::Timeout
    } else if all.contains("dns error") || all.contains("failed to lookup address") {
        NetStage::Dns
    } else if all.contains("certificate") || all.contains("tls") || all.contains("handshake") {
        NetStage::Tls
    } else if e.is_connect() {
        NetStage::Connect
    } else {
        NetStage::Body
    };
    let message = causes.into_iter().skip(1).collect::<Vec<_>>().join(": ");
    (stage, if message.is_empty() { e.to_string() } else { message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        let later = std::time::SystemTime::now() + Duration::from_secs(90);
        h.insert(reqwest::header::RETRY_AFTER, httpdate::fmt_http_date(later).parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(85) && d <= Duration::from_secs(90), "{d:?}");
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn user_agent_names_the_tool_and_the_contact() {
        let o = HttpOptions {
            contact: Some("https://regulator.example/crawler".into()),
            ..Default::default()
        };
        assert!(o.user_agent().starts_with("blackout/"));
        assert!(o.user_agent().ends_with("+https://regulator.example/crawler)"));
    }
}
