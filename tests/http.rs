//! Fetching over HTTP against real servers on 127.0.0.1: wiremock, and for concurrency a
//! small server that counts the connections it is serving at once.

use crate::util::{Server, check_json};
use blackout::fetch::{Document, FetchError, Fetcher, Location, NetStage, Request};
use blackout::http::{HttpFetcher, HttpOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::path;
use wiremock::{Mock, ResponseTemplate};

fn quick() -> HttpOptions {
    HttpOptions {
        timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(50),
        ..Default::default()
    }
}

fn request(url: url::Url, obey_robots: bool) -> Request {
    Request {
        location: Location::Http(url),
        obey_robots,
        max_body: None,
    }
}

fn fetch(options: HttpOptions, urls: &[url::Url]) -> Vec<Result<Document, FetchError>> {
    let requests: Vec<Request> = urls.iter().map(|u| request(u.clone(), true)).collect();
    fetch_requests(options, &requests)
}

fn fetch_requests(options: HttpOptions, requests: &[Request]) -> Vec<Result<Document, FetchError>> {
    let fetcher = HttpFetcher::new(options).unwrap();
    let slots: Vec<Mutex<Option<Result<Document, FetchError>>>> = requests.iter().map(|_| Mutex::new(None)).collect();
    fetcher.fetch_each(requests, &|i, r| *slots[i].lock().unwrap() = Some(r));
    slots
        .into_iter()
        .map(|s| s.into_inner().unwrap().expect("every location answered"))
        .collect()
}

fn stage(r: &Result<Document, FetchError>) -> Option<NetStage> {
    match r {
        Err(FetchError::Network { stage, .. }) => Some(*stage),
        _ => None,
    }
}

/// `check --format json` with the French rules and a sources file of this text, as of the day
/// after the second round, without the cache.
fn check_sources(sources: &str) -> (i32, serde_json::Value) {
    check_sources_with(sources, &[])
}

fn check_sources_with(sources: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = sources_file(&dir, sources);
    let mut args = vec![
        "rules/fr-2017-presidentielle.toml",
        path.to_str().unwrap(),
        "--at",
        "2017-05-08T00:00:00Z",
        "--no-cache",
    ];
    args.extend_from_slice(extra);
    check_json(&args)
}

fn sources_file(dir: &tempfile::TempDir, sources: &str) -> std::path::PathBuf {
    let path = dir.path().join("sources.toml");
    std::fs::write(&path, format!("schema = 1\n{sources}")).unwrap();
    path
}

#[test]
fn feed_and_pages_end_to_end() {
    let server = Server::start();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/demo");
    let feed = std::fs::read(demo.join("feeds/le-quotidien.xml")).unwrap();
    server.serve(
        "/feeds/le-quotidien.xml",
        ResponseTemplate::new(200).set_body_raw(feed, "application/rss+xml"),
    );
    for page in ["quotidien-courriels", "quotidien-piratage", "quotidien-meeting", "quotidien-apres"] {
        let html = std::fs::read(demo.join(format!("pages/{page}.html"))).unwrap();
        server.serve(
            &format!("/pages/{page}.html"),
            ResponseTemplate::new(200).set_body_raw(html, "text/html; charset=utf-8"),
        );
    }
    let sources = format!(
        "[[source]]\nid = \"lq\"\nfeed = \"{}\"\naudience = \"all\"\ntz = \"Europe/Paris\"\n",
        server.url("/feeds/le-quotidien.xml")
    );
    let (code, report) = check_sources(&sources);
    assert_eq!(code, 1, "{report}");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"macronleaks-content"), "{rules:?}");
    // The entry published the day after the election is clearly after every window, and no
    // rule counts what comes after: its page is not fetched, the entry is judged on its feed.
    assert_eq!(report["sources"][0]["documents"], 4, "the feed and three of its four pages");
    assert_eq!(server.hits("/pages/quotidien-courriels.html"), 1);
    assert_eq!(server.hits("/pages/quotidien-apres.html"), 0);
    assert_eq!(report["items"].as_array().unwrap().len(), 4);
    let (_, all) = check_sources_with(&sources, &["--all"]);
    assert_eq!(all["sources"][0]["documents"], 5, "--all fetches every page");
}

#[test]
fn failures_are_recorded_and_the_rest_goes_on() {
    let server = Server::start();
    server.serve("/ok", ResponseTemplate::new(200).set_body_string("fine"));
    server.serve("/missing", ResponseTemplate::new(404));
    server.serve("/broken", ResponseTemplate::new(500));
    let r = fetch(quick(), &[server.url("/missing"), server.url("/broken"), server.url("/ok")]);
    assert_eq!(stage(&r[0]), Some(NetStage::Status));
    assert!(r[0].as_ref().unwrap_err().to_string().contains("404"));
    assert_eq!(stage(&r[1]), Some(NetStage::Status));
    assert_eq!(r[2].as_ref().unwrap().bytes, b"fine");
    // 404 is final; 500 is retried (twice by default).
    assert_eq!(server.hits("/missing"), 1);
    assert_eq!(server.hits("/broken"), 3);
}

#[test]
fn too_many_requests_waits_as_retry_after_says() {
    let server = Server::start();
    server.runtime.block_on(
        Mock::given(path("/busy"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server.mock),
    );
    server.serve("/busy", ResponseTemplate::new(200).set_body_string("now"));
    let started = Instant::now();
    let r = fetch(quick(), &[server.url("/busy")]);
    let waited = started.elapsed();
    assert_eq!(r[0].as_ref().unwrap().bytes, b"now");
    assert!(waited >= Duration::from_millis(950), "retried after {waited:?}");
    assert!(waited < Duration::from_secs(4), "retried after {waited:?}");
}

#[test]
fn a_slow_response_hits_the_timeout() {
    let server = Server::start();
    server.serve(
        "/slow",
        ResponseTemplate::new(200).set_body_string("late").set_delay(Duration::from_secs(3)),
    );
    let options = HttpOptions {
        timeout: Duration::from_millis(500),
        retries: 0,
        ..quick()
    };
    let r = fetch(options, &[server.url("/slow")]);
    assert_eq!(stage(&r[0]), Some(NetStage::Timeout), "{:?}", r[0].as_ref().err());
}

#[test]
fn a_huge_body_is_cut_at_the_cap() {
    let server = Server::start();
    server.serve("/huge", ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 3 * 1024 * 1024]));
    let options = HttpOptions {
        max_body: 1024 * 1024,
        ..quick()
    };
    let r = fetch(options.clone(), &[server.url("/huge")]);
    let doc = r[0].as_ref().unwrap();
    assert!(doc.truncated);
    assert_eq!(doc.bytes.len(), 1024 * 1024);
    // A source's own cap wins over the default.
    let own = Request {
        max_body: Some(1000),
        ..request(server.url("/huge"), true)
    };
    let r = fetch_requests(options, &[own]);
    assert_eq!((r[0].as_ref().unwrap().bytes.len(), r[0].as_ref().unwrap().max_bytes), (1000, 1000));
}

#[test]
fn a_gzip_bomb_is_cut_after_decompression() {
    use flate2::{Compression, write::GzEncoder};
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20, "256 MiB of zeros compress to {} bytes", bomb.len());
    let server = Server::start();
    server.serve(
        "/bomb",
        ResponseTemplate::new(200)
            .insert_header("content-encoding", "gzip")
            .set_body_bytes(bomb),
    );
    let options = HttpOptions {
        max_body: 2 * 1024 * 1024,
        ..quick()
    };
    let started = Instant::now();
    let r = fetch(options, &[server.url("/bomb")]);
    let doc = r[0].as_ref().unwrap();
    assert!(doc.truncated);
    assert_eq!(doc.bytes.len(), 2 * 1024 * 1024);
    // Stopping at the cap means not inflating the other 254 MiB.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn redirects_are_followed_and_recorded_and_a_loop_is_a_problem() {
    let server = Server::start();
    let to = |route: &str| ResponseTemplate::new(301).insert_header("location", route);
    server.serve("/old", to("/new"));
    server.serve("/new", ResponseTemplate::new(200).set_body_string("moved"));
    server.serve("/a", to("/b"));
    server.serve("/b", to("/a"));
    let r = fetch(quick(), &[server.url("/old"), server.url("/a")]);
    let doc = r[0].as_ref().unwrap();
    assert_eq!((&doc.url, &doc.final_url), (&server.url("/old"), &server.url("/new")));
    assert_eq!(doc.redirects, vec![server.url("/old")]);
    assert_eq!(stage(&r[1]), Some(NetStage::RedirectLoop), "{:?}", r[1].as_ref().err());
    // Each hop is kept for the record: the 301 with its Location, then the answer.
    let hops: Vec<(&str, u16)> = doc.exchanges.iter().map(|e| (e.url.path(), e.status)).collect();
    assert_eq!(hops, [("/old", 301), ("/new", 200)]);
    let first = &doc.exchanges[0];
    assert!(
        first.headers.iter().any(|(k, v)| k == "location" && v == "/new"),
        "{:?}",
        first.headers
    );
    assert!(
        first
            .request_headers
            .iter()
            .any(|(k, v)| k == "user-agent" && v.starts_with("blackout/")),
        "{:?}",
        first.request_headers
    );
    for e in &doc.exchanges {
        assert_eq!(e.peer, Some(std::net::IpAddr::from([127, 0, 0, 1])));
        assert!(e.started <= e.ended);
    }
    assert!(doc.exchanges[0].ended <= doc.exchanges[1].started);
}

/// A server that answers every request after `hold`, counting per `Host` how many it is
/// serving at once, and the most it ever did.
struct CountingServer {
    port: u16,
    most: std::sync::Arc<Mutex<std::collections::HashMap<String, usize>>>,
    total_most: std::sync::Arc<AtomicUsize>,
}

fn counting_server(hold: Duration) -> CountingServer {
    use std::collections::HashMap;
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let now: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let most: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let (total_now, total_most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (m, tm) = (most.clone(), total_most.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (now, most, total_now, total_most) = (now.clone(), m.clone(), total_now.clone(), tm.clone());
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request).to_lowercase();
                let host = text.lines().find_map(|l| l.strip_prefix("host:")).unwrap_or("").trim().to_string();
                {
                    let mut n = now.lock().unwrap();
                    let c = n.entry(host.clone()).or_default();
                    *c += 1;
                    let mut m = most.lock().unwrap();
                    let e = m.entry(host.clone()).or_default();
                    *e = (*e).max(*c);
                }
                let t = total_now.fetch_add(1, Ordering::SeqCst) + 1;
                total_most.fetch_max(t, Ordering::SeqCst);
                std::thread::sleep(hold);
                *now.lock().unwrap().get_mut(&host).unwrap() -= 1;
                total_now.fetch_sub(1, Ordering::SeqCst);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            });
        }
    });
    CountingServer { port, most, total_most }
}

#[test]
fn never_more_than_the_per_host_limit_in_flight() {
    let server = counting_server(Duration::from_millis(100));
    let hosts = ["one.test", "two.test", "three.test", "four.test"];
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", server.port).parse().unwrap();
    let fetcher = HttpFetcher::with_client(quick(), |b| hosts.iter().fold(b, |b, h| b.resolve(h, addr))).unwrap();
    let locations: Vec<Request> = (0..24)
        .map(|i| {
            request(
                url::Url::parse(&format!("http://{}:{}/p{i}", hosts[i % 4], server.port)).unwrap(),
                false,
            )
        })
        .collect();
    let ok = AtomicUsize::new(0);
    fetcher.fetch_each(&locations, &|_, r| {
        if r.is_ok() {
            ok.fetch_add(1, Ordering::SeqCst);
        }
    });
    assert_eq!(ok.load(Ordering::SeqCst), 24);
    let most = server.most.lock().unwrap();
    assert_eq!(most.len(), 4, "{most:?}");
    assert!(most.values().all(|m| *m == 1), "per host: {most:?}");
    // The hosts were fetched side by side, not one after another.
    assert!(server.total_most.load(Ordering::SeqCst) > 1);
}

#[test]
fn a_page_linked_from_two_feeds_is_fetched_once() {
    let server = Server::start();
    let feed = |n: u32| {
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>F{n}</title>\
             <item><title>Shared</title><link>/shared.html</link><pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item>\
             </channel></rss>"
        )
    };
    server.serve("/f1.xml", ResponseTemplate::new(200).set_body_raw(feed(1), "application/rss+xml"));
    server.serve("/f2.xml", ResponseTemplate::new(200).set_body_raw(feed(2), "application/rss+xml"));
    server.serve(
        "/shared.html",
        ResponseTemplate::new(200).set_body_raw("<html><body><article><p>Rien.</p></article></body></html>", "text/html"),
    );
    let (code, report) = check_sources(&format!(
        "[[source]]\nid = \"one\"\nfeed = \"{}\"\naudience = \"all\"\n\
             [[source]]\nid = \"two\"\nfeed = \"{}\"\naudience = \"all\"\n",
        server.url("/f1.xml"),
        server.url("/f2.xml")
    ));
    assert_eq!(code, 0, "{report}");
    assert_eq!(server.hits("/shared.html"), 1);
    // Judged for both outlets all the same.
    assert_eq!(report["items"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(server.hits("/f1.xml") + server.hits("/f2.xml"), 2);
}

#[test]
fn an_unchanged_document_is_revalidated_and_read_from_the_cache() {
    use wiremock::matchers::header;
    let server = Server::start();
    server.runtime.block_on(
        Mock::given(path("/feed.xml"))
            .and(header("if-none-match", "\"v1\""))
            .respond_with(ResponseTemplate::new(304))
            .with_priority(1)
            .mount(&server.mock),
    );
    server.serve(
        "/feed.xml",
        ResponseTemplate::new(200)
            .insert_header("etag", "\"v1\"")
            .set_body_raw("<rss version=\"2.0\"/>", "application/rss+xml"),
    );
    server.runtime.block_on(
        Mock::given(path("/dated.html"))
            // (wiremock's `header` matcher splits values at commas, which dates contain.)
            .and(|r: &wiremock::Request| {
                r.headers
                    .get("if-modified-since")
                    .is_some_and(|v| v == "Sat, 06 May 2017 10:00:00 GMT")
            })
            .respond_with(ResponseTemplate::new(304))
            .with_priority(1)
            .mount(&server.mock),
    );
    server.serve(
        "/dated.html",
        ResponseTemplate::new(200)
            .insert_header("last-modified", "Sat, 06 May 2017 10:00:00 GMT")
            .set_body_string("page"),
    );
    let keeper = Arc::new(Memory::default());
    let options = || HttpOptions {
        keep: Some(keeper.clone()),
        ..quick()
    };
    let urls = [server.url("/feed.xml"), server.url("/dated.html")];
    let first = fetch(options(), &urls);
    assert!(first.iter().all(|r| !r.as_ref().unwrap().from_cache));
    let second = fetch(options(), &urls);
    for (a, b) in first.iter().zip(&second) {
        let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
        assert!(b.from_cache);
        assert_eq!(a.bytes, b.bytes);
        assert_eq!(a.content_type(), b.content_type());
    }
    // Without the cache, no validators are sent: a full 200 again.
    let third = fetch(quick(), &urls);
    assert!(third.iter().all(|r| !r.as_ref().unwrap().from_cache));
    let requests = server.runtime.block_on(server.mock.received_requests()).unwrap();
    let conditional = requests
        .iter()
        .filter(|r| r.headers.contains_key("if-none-match") || r.headers.contains_key("if-modified-since"))
        .count();
    assert_eq!(conditional, 2);
}

#[test]
fn robots_txt_is_obeyed_for_pages_unless_told_otherwise() {
    let server = Server::start();
    server.serve(
        "/robots.txt",
        ResponseTemplate::new(200).set_body_string("User-agent: *\nDisallow: /private/\n"),
    );
    server.serve("/private/leak.html", ResponseTemplate::new(200).set_body_string("secret"));
    server.serve("/public/news.html", ResponseTemplate::new(200).set_body_string("news"));
    let r = fetch_requests(
        quick(),
        &[
            request(server.url("/private/leak.html"), true),
            request(server.url("/public/news.html"), true),
            request(server.url("/private/leak.html"), false),
        ],
    );
    assert_eq!(stage(&r[0]), Some(NetStage::Robots), "{:?}", r[0].as_ref().err());
    assert_eq!(r[1].as_ref().unwrap().bytes, b"news");
    assert_eq!(
        r[2].as_ref().unwrap().bytes,
        b"secret",
        "a feed, or a source that ignores robots.txt"
    );
    assert_eq!(server.hits("/robots.txt"), 1, "read once per site");
    assert_eq!(server.hits("/private/leak.html"), 1);
    let ignoring = HttpOptions {
        obey_robots: false,
        ..quick()
    };
    assert!(fetch(ignoring, &[server.url("/private/leak.html")])[0].is_ok());
}

#[test]
fn the_user_agent_names_the_tool() {
    let server = Server::start();
    server.serve("/ua", ResponseTemplate::new(200));
    let options = HttpOptions {
        contact: Some("https://regulator.example/crawler".into()),
        ..quick()
    };
    fetch(options, &[server.url("/ua")]);
    let requests = server.runtime.block_on(server.mock.received_requests()).unwrap();
    let ua = requests.iter().find(|r| r.url.path() == "/ua").unwrap().headers["user-agent"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        ua.starts_with("blackout/") && ua.contains("+https://regulator.example/crawler"),
        "{ua}"
    );
}

#[test]
fn a_wrong_charset_header_loses_to_the_document_and_to_the_source() {
    let server = Server::start();
    // UTF-8 bytes that declare themselves, served as ISO-8859-1 by a misconfigured server.
    let page = "<html><head><meta charset=\"utf-8\"><title>\u{c9}lection</title></head>\
                <body><article><h1>\u{c9}lection pr\u{e9}sidentielle</h1><p>Le d\u{e9}bat a eu lieu.</p></article></body></html>";
    server.serve(
        "/page.html",
        ResponseTemplate::new(200).set_body_raw(page, "text/html; charset=ISO-8859-1"),
    );
    // windows-1252 bytes declared as UTF-8 everywhere: only the source setting can fix them.
    let legacy = b"<html><body><article><h1>Cl\xf4ture du scrutin</h1><p>R\xe9sultats \xe0 20 h.</p></article></body></html>".to_vec();
    server.serve(
        "/legacy.html",
        ResponseTemplate::new(200).set_body_raw(legacy, "text/html; charset=utf-8"),
    );
    let (_, report) = check_sources(&format!(
        "[[source]]\nid = \"declared\"\npages = [\"{}\"]\naudience = \"all\"\n\
             [[source]]\nid = \"legacy\"\npages = [\"{}\"]\naudience = \"all\"\ncharset = \"windows-1252\"\n",
        server.url("/page.html"),
        server.url("/legacy.html")
    ));
    let titles: Vec<&str> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["title"].as_str())
        .collect();
    assert!(titles.contains(&"\u{c9}lection pr\u{e9}sidentielle"), "{titles:?}");
    assert!(titles.contains(&"Cl\u{f4}ture du scrutin"), "{titles:?}");
    // Which encoding was used, and why, is recorded with each item.
    let basis: Vec<(&str, &str)> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["charset"]["encoding"].as_str().unwrap(), i["charset"]["basis"].as_str().unwrap()))
        .collect();
    assert!(basis.contains(&("UTF-8", "declared")), "{basis:?}");
    assert!(basis.contains(&("windows-1252", "source_override")), "{basis:?}");
}

#[test]
fn stderr_stays_empty_without_a_terminal_and_logs_with_verbose() {
    let server = Server::start();
    server.serve("/gone.html", ResponseTemplate::new(404));
    server.serve(
        "/here.html",
        ResponseTemplate::new(200).set_body_raw("<html><body><p>Rien.</p></body></html>", "text/html"),
    );
    let dir = tempfile::tempdir().unwrap();
    let sources = sources_file(
        &dir,
        &format!(
            "[[source]]\nid = \"s\"\npages = [\"{}\", \"{}\"]\naudience = \"all\"\n",
            server.url("/gone.html"),
            server.url("/here.html")
        ),
    );
    let args = [
        "check",
        "rules/fr-2017-presidentielle.toml",
        sources.to_str().unwrap(),
        "--no-cache",
    ];
    let quiet = crate::util::run(&args);
    assert_eq!(quiet.stderr, "", "no progress bar and no log when stderr is not a terminal");
    assert!(quiet.stdout.contains("HTTP 404"), "{}", quiet.stdout);
    let verbose = crate::util::run(&[&args[..], &["-v"]].concat());
    assert!(
        verbose.stderr.contains("not fetched") && verbose.stderr.contains("404"),
        "{}",
        verbose.stderr
    );
}

#[test]
fn private_networks_can_be_refused() {
    let server = Server::start();
    server.serve("/internal", ResponseTemplate::new(200).set_body_string("admin"));
    let deny = || HttpOptions {
        deny_private: true,
        ..quick()
    };
    let by_name = server.url("/internal").as_str().replace("127.0.0.1", "localhost");
    let r = fetch(deny(), &[server.url("/internal"), url::Url::parse(&by_name).unwrap()]);
    assert_eq!(stage(&r[0]), Some(NetStage::Denied), "{:?}", r[0].as_ref().err());
    assert_eq!(stage(&r[1]), Some(NetStage::Denied), "{:?}", r[1].as_ref().err());
    assert_eq!(server.hits("/internal"), 0);
    assert!(fetch(quick(), &[server.url("/internal")])[0].is_ok(), "allowed by default");
}

/// The feeds a homepage advertises are read; the homepage itself is judged, as a listing on its
/// teasers, from the read that found them (it is not fetched twice, even for another source
/// that lists it among its pages). A homepage advertising no feed is judged too, its source
/// checked in part.
#[test]
fn feeds_are_discovered_from_a_homepage() {
    let server = Server::start();
    let teasers: String = (0..9)
        .map(|i| {
            format!("<div class=card><h2><a href=\"/t{i}.html\">Le titre numéro {i} de la une du jour</a></h2><p>Un chapeau.</p></div>")
        })
        .collect();
    server.serve(
        "/",
        ResponseTemplate::new(200).set_body_raw(
            format!(
                "<html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/rss/politique.xml\"></head>\
                 <body><h1>Accueil</h1>{teasers}</body></html>"
            ),
            "text/html",
        ),
    );
    server.serve(
        "/rss/politique.xml",
        ResponseTemplate::new(200).set_body_raw(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Politique</title>\
             <item><title>Un article</title><link>/a.html</link><pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item>\
             </channel></rss>",
            "application/rss+xml",
        ),
    );
    server.serve(
        "/a.html",
        ResponseTemplate::new(200).set_body_raw(
            "<html><body><article><h1>Un article</h1><p>Texte.</p></article></body></html>",
            "text/html",
        ),
    );
    server.serve(
        "/bare",
        ResponseTemplate::new(200).set_body_raw("<html><body>No feed here</body></html>", "text/html"),
    );
    let (_, report) = check_sources(&format!(
        "[[source]]\nid = \"home\"\nhome = \"{}\"\naudience = \"all\"\n\
         [[source]]\nid = \"bare\"\nhome = \"{}\"\naudience = \"all\"\n\
         [[source]]\nid = \"also\"\npages = [\"{}\"]\naudience = \"all\"\n",
        server.url("/"),
        server.url("/bare"),
        server.url("/")
    ));
    let requests = server.runtime.block_on(server.mock.received_requests()).unwrap();
    assert_eq!(
        requests.iter().filter(|r| r.url.path() == "/").count(),
        1,
        "the homepage is fetched once"
    );
    let status = |id: &str| {
        report["sources"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        (status("home"), status("bare"), status("also")),
        ("checked".into(), "incomplete".into(), "checked".into())
    );
    assert!(
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["source"] == "also" && i["class"] == "listing"),
        "{report}"
    );
    assert_eq!(report["sources"][0]["documents"], 3, "homepage, feed, page: {report}");
    let items = report["items"].as_array().unwrap();
    let home = items
        .iter()
        .find(|i| i["source"] == "home" && i["title"] == "Accueil")
        .expect("the homepage is an item");
    assert_eq!(home["class"], "listing", "{home}");
    assert!(items.iter().any(|i| i["title"] == "Un article"), "{report}");
    let unchecked = crate::util::strings(&report, "not_checked", "url");
    assert!(!unchecked.contains(&home["url"].as_str().unwrap()), "{unchecked:?}");
    let problems = report["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["source"] == "bare" && p["message"].as_str().unwrap().contains("advertises no feed")),
        "{problems:?}"
    );
}

#[test]
fn a_news_sitemap_index_is_an_item_source() {
    let server = Server::start();
    server.serve(
        "/sitemap.xml",
        ResponseTemplate::new(200).set_body_raw(
            format!(
                "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                 <sitemap><loc>{}</loc></sitemap></sitemapindex>",
                server.url("/news.xml")
            ),
            "application/xml",
        ),
    );
    server.serve(
        "/news.xml",
        ResponseTemplate::new(200).set_body_raw(
            "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
             xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\
             <url><loc>/a.html</loc><news:news><news:publication_date>2017-05-06T11:30:00+02:00</news:publication_date>\
             <news:title>Les courriels</news:title></news:news></url>\
             <url><loc>/old.html</loc><lastmod>2016-01-01</lastmod></url></urlset>",
            "application/xml",
        ),
    );
    server.serve(
        "/a.html",
        ResponseTemplate::new(200).set_body_raw(
            "<html><body><article><h1>Les courriels</h1><p>Le texte des courriels #MacronLeaks circule.</p></article></body></html>",
            "text/html",
        ),
    );
    server.serve("/old.html", ResponseTemplate::new(200).set_body_string("old"));
    let (_, report) = check_sources(&format!(
        "[[source]]\nid = \"sm\"\nsitemap = \"{}\"\naudience = \"all\"\n",
        server.url("/sitemap.xml")
    ));
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{report}");
    assert_eq!(server.hits("/a.html"), 1);
    // Listed, and last modified, years before the window: judged on the sitemap's data alone.
    assert_eq!(server.hits("/old.html"), 0);
    assert_eq!(report["sources"][0]["feed_only"]["before_windows"], 1, "{report}");
    let dates: Vec<&str> = items
        .iter()
        .flat_map(|i| i["dates"].as_array().unwrap())
        .filter_map(|d| d["provenance"].as_str())
        .collect();
    assert!(
        dates.contains(&"sitemap:publication_date") && dates.contains(&"sitemap:lastmod"),
        "{dates:?}"
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "macronleaks-mention"),
        "{report}"
    );
}

#[test]
fn a_feed_from_the_web_never_leads_to_a_local_file() {
    let server = Server::start();
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), "<html><body><p>SECRET #MacronLeaks</p></body></html>").unwrap();
    let local = url::Url::from_file_path(secret.path()).unwrap();
    server.serve(
        "/feed.xml",
        ResponseTemplate::new(200).set_body_raw(
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>\
                 <item><title>Trap</title><link>{local}</link><pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item>\
                 </channel></rss>"
            ),
            "application/rss+xml",
        ),
    );
    let (_, report) = check_sources(&format!(
        "[[source]]\nid = \"web\"\nfeed = \"{}\"\naudience = \"all\"\n",
        server.url("/feed.xml")
    ));
    assert_eq!(report["sources"][0]["documents"], 1, "only the feed: {report}");
    assert!(!report.to_string().contains("SECRET"));
}

/// A server that answers every request with an endless chunked body.
fn endless_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/html\r\n\r\n");
                let chunk = [b'x'; 65536];
                loop {
                    let ok =
                        stream.write_all(b"10000\r\n").is_ok() && stream.write_all(&chunk).is_ok() && stream.write_all(b"\r\n").is_ok();
                    if !ok {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn an_endless_body_is_cut_at_the_cap() {
    let port = endless_server();
    let options = HttpOptions {
        max_body: 4 * 1024 * 1024,
        ..quick()
    };
    let started = Instant::now();
    let r = fetch(options, &[url::Url::parse(&format!("http://127.0.0.1:{port}/forever")).unwrap()]);
    let doc = r[0].as_ref().unwrap();
    assert!(doc.truncated);
    assert_eq!(doc.bytes.len(), 4 * 1024 * 1024);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn an_unusable_default_store_does_not_stop_the_run_but_a_named_one_must_work() {
    let demo = [
        "check",
        "rules/fr-2017-presidentielle.toml",
        "rules/demo/sources.toml",
        "--at",
        "2026-01-01T00:00:00Z",
    ];
    let out = crate::util::blackout()
        .args(demo)
        .env("XDG_DATA_HOME", "/proc/blackout-cannot-write-here")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("this run remembers nothing"), "{stderr}");
    let named = crate::util::blackout()
        .args(demo)
        .args(["--state", "/proc/blackout-cannot-write-here/state.db"])
        .output()
        .unwrap();
    assert_eq!(named.status.code(), Some(2), "a store the user named must work");
    assert!(
        String::from_utf8_lossy(&named.stderr).contains("cannot create the directory of the state store"),
        "{}",
        String::from_utf8_lossy(&named.stderr)
    );
}

/// Keeps documents in memory: the fetcher's side of conditional GET, without a store.
#[derive(Debug, Default)]
struct Memory(Mutex<std::collections::HashMap<String, (blackout::http::Validators, Vec<u8>)>>);

impl blackout::http::Keep for Memory {
    fn validators(&self, url: &url::Url) -> Option<blackout::http::Validators> {
        self.0.lock().unwrap().get(url.as_str()).map(|(v, _)| v.clone())
    }
    fn body(&self, url: &url::Url, cap: u64) -> Option<(Vec<u8>, bool)> {
        let (_, body) = self.0.lock().unwrap().get(url.as_str())?.clone();
        Some((body[..body.len().min(cap as usize)].to_vec(), body.len() as u64 > cap))
    }
    fn keep(&self, url: &url::Url, validators: blackout::http::Validators, body: &[u8]) {
        self.0.lock().unwrap().insert(url.to_string(), (validators, body.to_vec()));
    }
    fn revalidated(&self, _: &url::Url) {}
}

/// Issue 14: a section front is checked on its teasers, not skipped. A teaser naming a file of
/// the dump is a finding, timed by when the run saw the page (it shows no date of its own);
/// the same front with nothing of the leak in its teasers is checked and clean, not "not
/// checked".
#[test]
fn a_section_front_is_checked_on_its_teasers() {
    let server = Server::start();
    server.serve(
        "/rss.xml",
        ResponseTemplate::new(200).set_body_raw(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Politique</title>\
             <item><title>Rubrique</title><link>/politique/</link><pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item>\
             <item><title>Rubrique</title><link>/monde/</link><pubDate>Sat, 06 May 2017 11:30:00 +0200</pubDate></item>\
             </channel></rss>",
            "application/rss+xml",
        ),
    );
    let front = |leak: &str| -> String {
        let teasers: String = (0..10)
            .map(|i| {
                let standfirst = if i == 3 { leak } else { "Les enjeux du second tour, expliqués par notre rédaction." };
                format!("<div class=card><h2><a href=\"/a{i}.html\">Épisode {i} de notre enquête sur la campagne</a></h2><p>{standfirst}</p></div>")
            })
            .collect();
        format!("<html><body><h1>Politique</h1>{teasers}</body></html>")
    };
    server.serve(
        "/politique/",
        ResponseTemplate::new(200).set_body_raw(front("Dans le fichier ardoise-2017-04.eml, un virement."), "text/html"),
    );
    server.serve(
        "/monde/",
        ResponseTemplate::new(200).set_body_raw(front("Rien du dossier ici, seulement la campagne."), "text/html"),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = sources_file(
        &dir,
        &format!(
            "[[source]]\nid = \"front\"\nfeed = \"{}\"\naudience = \"all\"\n",
            server.url("/rss.xml")
        ),
    );
    let (code, report) = check_json(&[
        "rules/fr-2017-presidentielle.toml",
        path.to_str().unwrap(),
        "--at",
        "2017-05-06T12:00:00Z",
        "--no-cache",
        "--no-state",
    ]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["not_checked"].as_array().unwrap().len(), 0, "{report}");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report}");
    let f = &findings[0];
    assert_eq!(f["rule"], "macronleaks-content");
    assert!(f["url"].as_str().unwrap().ends_with("/politique/"));
    assert_eq!(f["spans"][0]["scope"], "teaser");
    assert_eq!(f["timing"]["provenance"], "observed:shown");
    assert_eq!(f["timing"]["verdict"], "inside");
    // Fetched now, evaluated as of 2017: seen at the run's instant, as everything the run sees.
    assert_eq!(f["timing"]["instant"], "2017-05-06T12:00:00Z");
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["class"] == "listing"), "{report}");
}

/// Issue 10, bug 4: a source whose feed answers 404 ended with `failed 0`-like health and exit
/// 0 when another source was fine. It is not checked, and the run is incomplete (exit 3).
#[test]
fn a_source_whose_feed_is_missing_is_not_checked() {
    let server = Server::start();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/demo/feeds/le-quotidien.xml");
    server.serve(
        "/ok.xml",
        ResponseTemplate::new(200).set_body_raw(std::fs::read(demo).unwrap(), "application/rss+xml"),
    );
    server.serve("/gone.xml", ResponseTemplate::new(404));
    let sources = format!(
        "[[source]]\nid = \"ok\"\nfeed = \"{}\"\naudience = \"all\"\n\n[[source]]\nid = \"gone\"\nfeed = \"{}\"\naudience = \"all\"\n",
        server.url("/ok.xml"),
        server.url("/gone.xml")
    );
    let (code, report) = check_sources_with(&sources, &["--margin", "0"]);
    assert_eq!(code, 3, "{report:#}");
    let gone = &report["sources"][1];
    assert_eq!(
        (gone["status"].as_str(), gone["failed"].as_u64()),
        (Some("not_checked"), Some(1)),
        "{gone}"
    );
    assert!(gone["status_reason"].as_str().unwrap().contains("HTTP 404"), "{gone}");
    assert_eq!(report["sources"][0]["status"], "checked");
}

/// Issue 10, bug 7: every entry's page was fetched, even entries dated years before the window
/// (20,000 pages of entries dated 2000-01-01). Such an entry is judged on its feed data, and
/// the report says so, unless its feed says it was updated near the window.
#[test]
fn entries_dated_long_before_the_window_are_not_fetched() {
    let server = Server::start();
    let item = |n: u32, dates: &str| {
        format!(
            "<entry><title>n{n}</title><id>urn:{n}</id><link href=\"{}\"/>{dates}</entry>",
            server.url(&format!("/p/{n}.html"))
        )
    };
    let entries = [
        item(1, "<published>2000-01-01T00:00:00Z</published>"),
        item(
            2,
            "<published>2000-01-01T00:00:00Z</published><updated>2000-01-02T00:00:00Z</updated>",
        ),
        // Published long before, updated inside the window: the page may show the change.
        item(
            3,
            "<published>2000-01-01T00:00:00Z</published><updated>2017-05-06T10:00:00Z</updated>",
        ),
        item(4, "<published>2017-05-06T10:00:00Z</published>"),
    ]
    .concat();
    let feed = format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><id>urn:f</id>{entries}</feed>");
    server.serve("/feed.xml", ResponseTemplate::new(200).set_body_raw(feed, "application/atom+xml"));
    for n in 1..=4 {
        server.serve(
            &format!("/p/{n}.html"),
            ResponseTemplate::new(200).set_body_raw("<html><body><article><p>texte</p></article></body></html>", "text/html"),
        );
    }
    let (_, report) = check_sources(&format!(
        "[[source]]\nid = \"s\"\nfeed = \"{}\"\naudience = \"all\"\n",
        server.url("/feed.xml")
    ));
    let hits: Vec<usize> = (1..=4).map(|n| server.hits(&format!("/p/{n}.html"))).collect();
    assert_eq!(hits, vec![0, 0, 1, 1]);
    assert_eq!(report["sources"][0]["feed_only"]["before_windows"], 2, "{report:#}");
    assert_eq!(report["items"].as_array().unwrap().len(), 4);
}
