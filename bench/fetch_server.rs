//! A synthetic news web for `bench/fetch.sh`: outlets on their own loopback addresses, each
//! with RSS feeds of items whose article pages are generated on the fly (60–150 KB of HTML,
//! deterministic from the path), and a count of the requests each host is serving at once.
//!
//! Usage: fetch-bench-server PORT OUTLETS FEEDS_PER_OUTLET ITEMS_PER_FEED
//! Listens on 127.0.0.2..=127.0.0.(OUTLETS+1):PORT; prints `ready` once listening; on stdin's
//! end prints `max-in-flight-per-host N`, `requests N` and `not-modified N`, then exits. With
//! `NIGHT=n` in the environment it serves the web as of the n-th night of `bench/state.sh`:
//! each night, one article in 20 has changed since the night before. Every response carries an
//! `ETag` (of the path and its revision), and a request whose `If-None-Match` names the current
//! one is answered `304 Not Modified`, as a news site's CDN does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct Stats {
    in_flight: Vec<AtomicUsize>,
    most: AtomicUsize,
    requests: AtomicUsize,
    not_modified: AtomicUsize,
}

const WORDS: &[&str] = &[
    "le",
    "gouvernement",
    "a",
    "annoncé",
    "mardi",
    "une",
    "réforme",
    "des",
    "retraites",
    "qui",
    "suscite",
    "débat",
    "parmi",
    "les",
    "syndicats",
    "et",
    "élus",
    "locaux",
    "selon",
    "plusieurs",
    "sources",
    "proches",
    "du",
    "dossier",
    "ministre",
    "économie",
    "budget",
    "région",
    "conseil",
    "municipal",
    "projet",
    "loi",
    "vote",
    "assemblée",
    "nationale",
    "sénat",
    "candidat",
    "campagne",
    "électorale",
    "sondage",
    "opinion",
    "publique",
    "semaine",
    "prochaine",
    "rencontre",
    "presse",
];

/// A deterministic pseudo-random generator (xorshift), seeded by the path.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

fn seed_of(s: &str) -> u64 {
    s.bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

fn feed(host: &str, feed: usize, items: usize) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>Outlet {host} feed {feed}</title><link>http://{host}/</link><description>News</description>\n"
    );
    for i in 0..items {
        // Between 5 May 2017 20:00 and 7 May 2017 19:00 (+02:00): around the second round.
        let minutes = 20 * 60 + (i * 71 + feed * 13) % (47 * 60);
        let (day, hour, minute) = (5 + minutes / (24 * 60), (minutes / 60) % 24, minutes % 60);
        out.push_str(&format!(
            "<item><title>Article {feed}-{i}</title><link>http://{host}/articles/{feed}-{i}.html</link>\
             <guid>{host}-{feed}-{i}</guid><pubDate>{} May 2017 {hour:02}:{minute:02}:00 +0200</pubDate>\
             <description>Résumé de l'article {feed}-{i}.</description></item>\n",
            ["Fri, 05", "Sat, 06", "Sun, 07"][day - 5]
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

/// How many times an article has changed by night `night`: each night, one in 20 does.
fn revision(path: &str, night: u64) -> u64 {
    (1..=night).filter(|n| seed_of(&format!("{path}#{n}")).is_multiple_of(20)).count() as u64
}

fn article(host: &str, path: &str, night: u64) -> String {
    let mut next = rng(seed_of(path) ^ revision(path, night).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let target = 60_000 + (next() % 90_000) as usize;
    let mut body = String::with_capacity(target + 4096);
    body.push_str(&format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{path}</title>\
         <meta property=\"article:published_time\" content=\"2017-05-06T12:00:00+02:00\">\
         <style>body{{font-family:serif}} .nav a{{margin:0 1em}}</style></head><body>\
         <header><div class=\"cookie\">Nous utilisons des cookies.</div><nav class=\"nav\">"
    ));
    for n in 0..40 {
        body.push_str(&format!("<a href=\"http://{host}/rubrique/{n}\">Rubrique {n}</a>"));
    }
    body.push_str("</nav></header><main><article><h1>Un article de la campagne</h1><p class=\"byline\">Par la rédaction</p>");
    // One article in 25 quotes the stand-in leaked material of the French rules.
    if next().is_multiple_of(25) {
        body.push_str("<p>Selon un courriel, « le virement Ardoise doit rester confidentiel jusqu'au 8 mai » #MacronLeaks</p>");
    }
    while body.len() < target {
        body.push_str("<p>");
        for _ in 0..60 {
            body.push_str(WORDS[(next() % WORDS.len() as u64) as usize]);
            body.push(' ');
        }
        body.push_str("</p>\n");
    }
    body.push_str("</article></main><footer>© Outlet</footer></body></html>\n");
    body
}

async fn serve(listener: TcpListener, host_index: usize, host: String, feeds: usize, items: usize, night: u64, stats: Arc<Stats>) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else { continue };
        let (host, stats) = (host.clone(), stats.clone());
        tokio::spawn(async move {
            let mut buf = Vec::with_capacity(4096);
            loop {
                // One request head (GET has no body).
                let head_end = loop {
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                    let mut chunk = [0u8; 4096];
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                buf.drain(..head_end);
                let now = stats.in_flight[host_index].fetch_add(1, Ordering::SeqCst) + 1;
                stats.most.fetch_max(now, Ordering::SeqCst);
                stats.requests.fetch_add(1, Ordering::SeqCst);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let etag = format!("\"{:x}-{}\"", seed_of(&path), revision(&path, night));
                let asked = head.lines().find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("if-none-match").then(|| value.trim().to_string())
                });
                let (status, kind, body) = if asked.as_deref() == Some(etag.as_str()) {
                    stats.not_modified.fetch_add(1, Ordering::SeqCst);
                    ("304 Not Modified", "text/html; charset=utf-8", String::new())
                } else if let Some(n) = path.strip_prefix("/feeds/").and_then(|f| f.strip_suffix(".xml")) {
                    match n.parse::<usize>() {
                        Ok(n) if n < feeds => ("200 OK", "application/rss+xml; charset=utf-8", feed(&host, n, items)),
                        _ => ("404 Not Found", "text/plain", String::from("no such feed")),
                    }
                } else if path.starts_with("/articles/") {
                    ("200 OK", "text/html; charset=utf-8", article(&host, &path, night))
                } else {
                    ("404 Not Found", "text/plain", String::from("not found"))
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\netag: {etag}\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let ok = socket.write_all(response.as_bytes()).await.is_ok() && socket.write_all(body.as_bytes()).await.is_ok();
                stats.in_flight[host_index].fetch_sub(1, Ordering::SeqCst);
                if !ok {
                    return;
                }
            }
        });
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("numbers")).collect();
    let [port, outlets, feeds, items] = args[..] else {
        eprintln!("usage: fetch-bench-server PORT OUTLETS FEEDS_PER_OUTLET ITEMS_PER_FEED");
        std::process::exit(2);
    };
    let night: u64 = std::env::var("NIGHT").ok().and_then(|n| n.parse().ok()).unwrap_or(0);
    let stats = Arc::new(Stats {
        in_flight: (0..outlets).map(|_| AtomicUsize::new(0)).collect(),
        most: AtomicUsize::new(0),
        requests: AtomicUsize::new(0),
        not_modified: AtomicUsize::new(0),
    });
    for o in 0..outlets {
        let addr = format!("127.0.0.{}:{port}", o + 2);
        let listener = TcpListener::bind(&addr)
            .await
            .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
        tokio::spawn(serve(listener, o, addr, feeds, items, night, stats.clone()));
    }
    println!("ready");
    // Runs until stdin closes.
    let _ = tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink())).await;
    println!("max-in-flight-per-host {}", stats.most.load(Ordering::SeqCst));
    println!("requests {}", stats.requests.load(Ordering::SeqCst));
    println!("not-modified {}", stats.not_modified.load(Ordering::SeqCst));
}
