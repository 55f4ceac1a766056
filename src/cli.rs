//! The command line: argument definitions (their doc comments are the `--help` text) and the
//! wiring from arguments to library calls. Exit codes: 0 clean, 1 findings at or above
//! `--fail-on`, 2 the run could not be done.

use crate::check::{self, Options};
use crate::fingerprint::{self, Params};
use crate::report;
use crate::rules::{LoadError, RuleSet, Severity};
use crate::ruletest;
use chrono::{DateTime, SubsecRound, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// Check news outlets for compliance with an election-period media blackout.
///
/// Rule files (TOML) define the election's zones and silence windows, the outlets to watch and
/// the embargoed material; `blackout check` reads what the outlets published and reports
/// items that carry that material inside a window.
///
/// Exit status: 0 when no finding reaches `--fail-on`, 1 when one does, 2 when the run could
/// not be done (unreadable or invalid rule files, bad arguments, nothing readable).
#[derive(Debug, Parser)]
#[command(name = "blackout", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log to stderr what is fetched and retried (-v), or more (-vv); `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the sources named in the rule files (or `--input`) against the rules.
    ///
    /// Feeds are read with their items' pages; every item is timed against the windows of its
    /// outlet's audience and scanned for embargoed material. Broken feeds, pages and dates are
    /// reported against their source and the run goes on.
    Check(CheckArgs),
    /// Print every window in every zone, in local time and UTC, and the union per outlet.
    Windows(WindowsArgs),
    /// Show what a check sees in pages: title, decoding, every date with its provenance and
    /// the ones a check would use, the scoped text blocks and the links.
    ///
    /// Inputs are local files or http(s) URLs (fetched once, without the cache or robots.txt:
    /// you asked for them by name).
    Extract(ExtractArgs),
    /// Validate or test rule files.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Build, inspect and try fingerprint indexes of a leaked corpus.
    ///
    /// An index holds keyed hashes of word shingles, not text: a regulator can hand it to
    /// newsrooms without redistributing the leak. Whoever holds it can still confirm a guessed
    /// sentence, so it is not a secret-keeping device (see README).
    #[command(subcommand)]
    Fingerprint(FingerprintCommand),
}

#[derive(Debug, Subcommand)]
enum FingerprintCommand {
    /// Build an index from corpus directories or files.
    ///
    /// Reads .txt/.md, .eml (MIME decoded), .mbox and .html/.htm; PDF and office files are
    /// counted and skipped. Document ids are paths relative to the corpus (Message-IDs for
    /// mbox messages).
    Build(BuildArgs),
    /// Print an index's parameters and counts.
    Info(InfoArgs),
    /// Print the passages of articles (.html or text files) that reproduce indexed documents.
    Match(MatchArgs),
}

#[derive(Debug, clap::Args)]
struct BuildArgs {
    /// Corpus directories or files.
    #[arg(required = true, value_name = "CORPUS")]
    corpus: Vec<PathBuf>,
    /// Where to write the index.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Words per shingle.
    #[arg(long, default_value_t = Params::default().k, value_parser = clap::value_parser!(u32).range(2..=64))]
    k: u32,
    /// Winnowing window, in shingles: any shared run of k + w - 1 words is guaranteed found.
    #[arg(long, default_value_t = Params::default().w, value_parser = clap::value_parser!(u32).range(1..=64))]
    w: u32,
    /// Drop shingles found in more than this many documents (stamps, signatures).
    #[arg(long, default_value_t = Params::default().max_docs, value_parser = clap::value_parser!(u32).range(1..))]
    max_docs: u32,
    /// Ordinary text (same formats as the corpus) whose shingles never count (repeatable).
    #[arg(long, value_name = "DIR")]
    background: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct InfoArgs {
    /// The index file.
    file: PathBuf,
}

#[derive(Debug, clap::Args)]
struct MatchArgs {
    /// The index file.
    file: PathBuf,
    /// Articles: .html/.htm pages (main text extracted) or plain text files.
    #[arg(required = true, value_name = "ARTICLE")]
    articles: Vec<PathBuf>,
    /// Only show spans of at least this many words.
    #[arg(long, default_value_t = 0)]
    min_words: u32,
    /// Print matching throughput (one core, extracted text only) to stderr.
    #[arg(long)]
    stats: bool,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Rule files to combine: a jurisdiction file plus, e.g., a newsroom's sources file.
    #[arg(required = true, value_name = "FILES")]
    files: Vec<PathBuf>,
    /// Read this local feed, page or directory instead of the sources' own locations
    /// (repeatable). Feeds are recognised by extension (.xml .rss .atom .rdf .json), pages by
    /// .html/.htm (other files given here are sniffed); a directory is read recursively.
    #[arg(long, value_name = "PATH")]
    input: Vec<PathBuf>,
    /// Treat `--input` as this source of the rule files (its audience, zone and charset).
    /// Without it, the input's audience is every zone of the election.
    #[arg(long = "as", value_name = "SOURCE", requires = "input")]
    input_source: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Lowest severity that makes the run exit with status 1.
    #[arg(long, value_enum, default_value_t = Severity::Violation, value_name = "SEVERITY")]
    fail_on: Severity,
    /// Evaluate as of this instant (RFC 3339, e.g. `2017-05-07T12:00:00Z`) instead of now.
    /// Dates later than it are set aside as impossible.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    at: Option<DateTime<Utc>>,
    /// Print nothing when no finding reaches `--fail-on` and no source had a problem; print
    /// only what does otherwise (text format).
    #[arg(short, long)]
    quiet: bool,
    /// Fetch the page of every feed entry. By default an entry's page is fetched only when its
    /// feed date is unknown or within `--margin` of a window that a rule could count it for;
    /// the others are judged on their feed data.
    #[arg(long)]
    all: bool,
    /// How near a window, in hours, a feed date must be for its page to be fetched.
    #[arg(long, default_value_t = 12, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(0..=8760))]
    margin: u32,
    /// Dates before this day are implausible and not used (templates, birth dates, `1970`).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day, default_value = "1995-01-01")]
    date_floor: DateTime<Utc>,
    #[command(flatten)]
    http: HttpArgs,
}

/// How feeds and pages are fetched over HTTP(S).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Fetching")]
struct HttpArgs {
    /// Requests in flight at once, all outlets together.
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,
    /// Requests in flight at once to one host.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    per_host: u32,
    /// Least time between two requests to the same host, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    host_delay: u64,
    /// Give up on a request (body included) after this many seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Largest body kept, in bytes, counted after decompression; the rest is cut off and
    /// recorded as a problem.
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    max_body: u64,
    /// Retries after a connection error, a timeout or a 5xx status (with backoff), or a 429/503
    /// (after the server's `Retry-After`).
    #[arg(long, default_value_t = 2, value_name = "N")]
    retries: u32,
    /// A URL where site owners can learn who runs this crawler; added to the User-Agent.
    #[arg(long, value_name = "URL")]
    contact: Option<String>,
    /// Keep ETag/Last-Modified validators and bodies here between runs, so unchanged feeds
    /// and pages are answered "304 Not Modified" and read from it [default:
    /// $XDG_CACHE_HOME/blackout or ~/.cache/blackout].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache: Option<PathBuf>,
    /// Always fetch in full: neither read nor update the cache.
    #[arg(long)]
    no_cache: bool,
    /// Fetch pages even where a site's robots.txt disallows them (for a regulator with a legal
    /// duty to check; a source can also set `ignore_robots = true`).
    #[arg(long)]
    ignore_robots: bool,
    /// Refuse URLs whose host is, or resolves only to, a private, loopback or link-local
    /// address, so feed links cannot reach the network the checker runs in.
    #[arg(long)]
    deny_private_networks: bool,
}

impl HttpArgs {
    fn options(&self) -> crate::http::HttpOptions {
        use std::time::Duration;
        crate::http::HttpOptions {
            concurrency: self.concurrency as usize,
            per_host: self.per_host as usize,
            host_delay: Duration::from_millis(self.host_delay),
            timeout: Duration::from_secs(self.timeout),
            max_body: self.max_body,
            retries: self.retries,
            contact: self.contact.clone(),
            obey_robots: !self.ignore_robots,
            deny_private: self.deny_private_networks,
            // An unusable default cache (no home directory, read-only) only costs full
            // fetches; a `--cache` the user named must work.
            cache: if self.no_cache {
                None
            } else {
                self.cache
                    .clone()
                    .or_else(|| crate::http::Cache::default_dir().filter(|d| std::fs::create_dir_all(d).is_ok()))
            },
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// A report for people, grouped by outlet.
    Text,
    /// One JSON document (the format is described in README.md).
    Json,
    /// One JSON object per line: findings, cleared items, problems, then a summary.
    Jsonl,
}

#[derive(Debug, clap::Args)]
struct ExtractArgs {
    /// Pages to read: paths or http(s) URLs.
    #[arg(required_unless_present = "jsonl", value_name = "PAGE")]
    pages: Vec<String>,
    /// Batch mode for evaluations: every HTML file under DIR (.html/.htm/.xhtml, or any file
    /// without a known extension that starts as HTML), on all cores, one JSON object per line
    /// in path order: `file` (relative to DIR), `title`, `text` (the article's blocks without
    /// title and captions, one per line), `published` and `modified` as written (RFC 3339
    /// with offset, or a bare day), `published_day` (the publisher's calendar day) with their `*_provenance` and `*_confidence` (high, medium, low), `encoding`, `class` (article,
    /// listing, interstitial, empty) and `class_reason`, or `error`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["pages", "format"])]
    jsonl: Option<PathBuf>,
    /// Output format: `text` for people, `json` (one array of pages).
    #[arg(long, value_enum, default_value_t = ExtractFormat::Text)]
    format: ExtractFormat,
    /// IANA zone for dates the page writes without one (as a source's `tz`).
    #[arg(long, value_name = "ZONE")]
    tz: Option<chrono_tz::Tz>,
    /// Dates before this day are implausible and not used (templates, birth dates, `1970`).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day, default_value = "1995-01-01")]
    date_floor: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExtractFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct WindowsArgs {
    /// Rule files to combine.
    #[arg(required = true, value_name = "FILES")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// Validate rule files without reading any source; exit 2 if any is broken.
    ///
    /// Each file with an `[election]` table is validated as its own set, combined with every
    /// given file that has none (e.g. a sources file), so `rules check rules/*.toml` works.
    Check(FilesArgs),
    /// Run the `[[rule.test]]` cases and print TP/TN/FP/FN per rule; exit 1 on a failure.
    ///
    /// Files are grouped as for `rules check`. Each failure is printed with the test's
    /// file:line.
    Test(FilesArgs),
}

#[derive(Debug, clap::Args)]
struct FilesArgs {
    /// Rule files to combine.
    #[arg(required = true, value_name = "FILES")]
    files: Vec<PathBuf>,
}

fn parse_day(s: &str) -> Result<DateTime<Utc>, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
        .map_err(|e| format!("`{s}` is not a day ({e}); write e.g. `1995-01-01`"))
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|e| format!("`{s}` is not an RFC 3339 instant ({e}); write e.g. `2017-05-07T12:00:00Z`"))
}

/// What a command concluded.
pub enum Outcome {
    Clean,
    Findings,
}

/// Why a command stopped.
pub enum Failure {
    /// A message already rendered for the terminal; exit status 2.
    Message(String),
    /// The reader of our output went away (`blackout check … | head`): not an error.
    BrokenPipe,
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(format!("error: cannot write output: {e}"))
        }
    }
}

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome, Failure> {
    crate::progress::init_log(cli.verbose);
    match cli.command {
        Command::Fingerprint(FingerprintCommand::Build(a)) => fingerprint_build(a, out),
        Command::Fingerprint(FingerprintCommand::Info(a)) => {
            let index = load_index(&a.file)?;
            let (fingerprints, excluded) = index.counts();
            let size = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
            writeln!(
                out,
                "{}: blackout fingerprint index, algorithm {}",
                a.file.display(),
                fingerprint::ALGORITHM_VERSION
            )?;
            writeln!(
                out,
                "  k = {} words, w = {} shingles (runs of {}+ words guaranteed), max_docs = {}",
                index.params.k,
                index.params.w,
                index.params.guaranteed_run(),
                index.params.max_docs
            )?;
            writeln!(
                out,
                "  {} documents, {fingerprints} fingerprints, {excluded} excluded shingles, {size} bytes",
                index.docs.len()
            )?;
            Ok(Outcome::Clean)
        }
        Command::Fingerprint(FingerprintCommand::Match(a)) => fingerprint_match(a, out),
        Command::Check(a) => check(a, out),
        Command::Extract(a) => match &a.jsonl {
            Some(dir) => extract_batch(dir, a.tz, a.date_floor, out),
            None => extract_pages(a, out),
        },
        Command::Windows(a) => {
            let rules = load(&a.files)?;
            out.write_all(report::windows_text(&rules).as_bytes())?;
            Ok(Outcome::Clean)
        }
        Command::Rules(RulesCommand::Check(a)) => {
            for files in election_groups(&a.files) {
                let rules = load(&files)?;
                let tests: usize = rules.rules.iter().map(|r| r.tests.len()).sum();
                writeln!(
                    out,
                    "ok: {}: {} zone(s), {} window(s), {} source(s), {} material(s), {} rule(s) with {tests} test(s)",
                    list(&files),
                    rules.zones.len(),
                    rules.windows.len(),
                    rules.sources.len(),
                    rules.materials.len(),
                    rules.rules.len()
                )?;
                if let Some(note) = rules.tzdb_note() {
                    writeln!(out, "note: {note}")?;
                }
            }
            Ok(Outcome::Clean)
        }
        Command::Rules(RulesCommand::Test(a)) => {
            let mut failed = false;
            let (mut passed, mut failures) = (0, 0);
            for files in election_groups(&a.files) {
                let rules = load(&files)?;
                let outcomes = ruletest::run(&rules).map_err(|e| Failure::Message(format!("error: {e}")))?;
                writeln!(out, "{}", list(&files))?;
                writeln!(
                    out,
                    "  {:<38} {:>4} {:>4} {:>4} {:>4} {:>5}",
                    "rule", "TP", "TN", "FP", "FN", "todo"
                )?;
                for o in &outcomes {
                    let t = &o.tally;
                    writeln!(
                        out,
                        "  {:<38} {:>4} {:>4} {:>4} {:>4} {:>5}",
                        o.rule, t.tp, t.tn, t.fp, t.fn_, t.todo
                    )?;
                    for f in &o.failures {
                        writeln!(out, "    FAIL {f}")?;
                        failed = true;
                    }
                    passed += t.tp + t.tn;
                    failures += t.fp + t.fn_;
                }
            }
            writeln!(out, "{passed} passed, {failures} failed")?;
            Ok(if failed { Outcome::Findings } else { Outcome::Clean })
        }
    }
}

/// Splits files for the validation commands: each file with an `[election]` table is its own
/// set, together with every file without one (sources or rules shared across elections).
/// Files that cannot be read or parsed go into every set, so their errors are reported.
fn election_groups(files: &[PathBuf]) -> Vec<Vec<PathBuf>> {
    let has_election = |p: &PathBuf| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| t.parse::<toml::Table>().ok())
            .map(|t| t.contains_key("election"))
    };
    let (elections, shared): (Vec<&PathBuf>, Vec<&PathBuf>) = files.iter().partition(|p| has_election(p) == Some(true));
    if elections.len() <= 1 {
        return vec![files.to_vec()];
    }
    elections
        .into_iter()
        .map(|e| std::iter::once(e).chain(shared.iter().copied()).cloned().collect())
        .collect()
}

fn list(files: &[PathBuf]) -> String {
    files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" + ")
}

fn load_index(path: &std::path::Path) -> Result<fingerprint::Index, Failure> {
    fingerprint::Index::load(path).map_err(|e| Failure::Message(format!("error: {e}")))
}

fn fingerprint_build(a: BuildArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let started = std::time::Instant::now();
    let (docs, report) = fingerprint::read_corpus(&a.corpus).map_err(|e| Failure::Message(format!("error: {e}")))?;
    if docs.is_empty() {
        return Err(Failure::Message(
            "error: no document could be read from the corpus; nothing was written".into(),
        ));
    }
    let (background, _) = fingerprint::read_corpus(&a.background).map_err(|e| Failure::Message(format!("error: background: {e}")))?;
    let background: Vec<String> = background.into_iter().map(|(_, t)| t).collect();
    let read = started.elapsed();
    let key = fingerprint::Key::random().map_err(|e| Failure::Message(format!("error: {e}")))?;
    let params = fingerprint::Params {
        k: a.k,
        w: a.w,
        max_docs: a.max_docs,
    };
    let (index, stats) = fingerprint::Index::build(docs, &background, params, key);
    index
        .save(&a.output)
        .map_err(|e| Failure::Message(format!("error: cannot write the index: {e}")))?;
    let size = std::fs::metadata(&a.output).map(|m| m.len()).unwrap_or(0);
    let kinds: Vec<String> = report.read.iter().map(|(k, n)| format!("{n} {k}")).collect();
    writeln!(
        out,
        "read {} documents ({}) in {:.2} s",
        stats.documents,
        kinds.join(", "),
        read.as_secs_f64()
    )?;
    for (reason, n) in &report.skipped {
        writeln!(out, "skipped {n} file(s): {reason}")?;
    }
    for (path, why) in &report.failed {
        writeln!(
            out,
            "could not read {}: {}",
            report::inert(&path.display().to_string()),
            report::inert(why)
        )?;
    }
    writeln!(
        out,
        "wrote {}: {} shingles, {} fingerprints, {} excluded (in more than {} documents or in the background), {size} bytes, {:.2} s in all",
        a.output.display(),
        stats.kgrams,
        stats.fingerprints,
        stats.excluded,
        params.max_docs,
        started.elapsed().as_secs_f64()
    )?;
    Ok(Outcome::Clean)
}

fn fingerprint_match(a: MatchArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let index = load_index(&a.file)?;
    let mut texts = Vec::new();
    for path in &a.articles {
        let bytes = std::fs::read(path).map_err(|e| Failure::Message(format!("error: cannot read `{}`: {e}", path.display())))?;
        let decoded = crate::charset::decode(&bytes, None, None, None).text;
        let is_html = matches!(path.extension().and_then(|e| e.to_str()), Some("html" | "htm" | "xhtml"));
        let text = if is_html {
            let base = crate::fetch::Location::File(path.clone()).url();
            crate::extract::extract(&decoded, &base, None)
                .map_err(|e| Failure::Message(format!("error: `{}`: {e}", path.display())))?
                .article
                .text
        } else {
            decoded
        };
        texts.push(text);
    }
    let started = std::time::Instant::now();
    let matches: Vec<fingerprint::FingerprintMatch> = texts.iter().map(|t| fingerprint::find(&index, t)).collect();
    let elapsed = started.elapsed();
    let mut any = false;
    for ((path, text), m) in a.articles.iter().zip(&texts).zip(&matches) {
        let spans: Vec<&fingerprint::Span> = m.spans.iter().filter(|s| s.words >= a.min_words).collect();
        writeln!(out, "{}: {} span(s), best coverage {} words", path.display(), spans.len(), m.best())?;
        for sp in spans {
            any = true;
            let docs: Vec<&str> = sp.docs.iter().take(5).map(|d| index.docs[*d as usize].as_str()).collect();
            let more = if sp.docs.len() > 5 {
                format!(" (+{} more)", sp.docs.len() - 5)
            } else {
                String::new()
            };
            writeln!(
                out,
                "  {}..{} ({} words) from {}{more}",
                sp.start,
                sp.end,
                sp.words,
                report::inert(&docs.join(", "))
            )?;
            writeln!(out, "    \"{}\"", report::inert(&report::excerpt(text, sp.start..sp.end, 0)))?;
        }
    }
    if a.stats {
        let bytes: usize = texts.iter().map(String::len).sum();
        let words: usize = matches.iter().map(|m| m.words).sum();
        eprintln!(
            "matched {} bytes ({words} words) of extracted text in {:.3} s on one core: {:.1} MB/s",
            bytes,
            elapsed.as_secs_f64(),
            bytes as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9)
        );
    }
    Ok(if any { Outcome::Findings } else { Outcome::Clean })
}

fn extract_batch(dir: &std::path::Path, tz: Option<chrono_tz::Tz>, floor: DateTime<Utc>, out: &mut dyn Write) -> Result<Outcome, Failure> {
    use rayon::prelude::*;
    let pages = crate::fetch::scan_pages(dir).map_err(|e| Failure::Message(format!("error: {e}")))?;
    let now = Utc::now();
    let lines: Vec<String> = pages
        .par_iter()
        .map(|path| {
            let file = path.strip_prefix(dir).unwrap_or(path).to_string_lossy().replace('\\', "/");
            let line = match crate::fetch::LocalFetcher.fetch(&crate::fetch::Location::File(path.clone())) {
                Err(e) => serde_json::json!({ "file": file, "error": e.to_string() }),
                Ok(doc) => {
                    let decoded = doc.decode(None);
                    match crate::extract::extract(&decoded.text, &doc.url, tz) {
                        Err(e) => serde_json::json!({ "file": file, "error": e.to_string() }),
                        Ok(x) => {
                            let a = &x.article;
                            let text: Vec<&str> = a
                                .blocks
                                .iter()
                                .filter(|b| !matches!(b.scope, crate::rules::Scope::Title | crate::rules::Scope::Caption))
                                .map(|b| &a.text[b.range.clone()])
                                .collect();
                            let dates = crate::timing::ItemDates::choose(&a.dates, now, floor);
                            let written = |d: &Option<crate::timing::DateRef>| d.as_ref().and_then(|d| d.when.as_written());
                            let provenance = |d: &Option<crate::timing::DateRef>| d.as_ref().map(|d| d.provenance.name());
                            let confidence = |d: &Option<crate::timing::DateRef>| d.as_ref().map(|d| d.provenance.confidence());
                            serde_json::json!({
                                "file": file,
                                "title": a.title,
                                "text": text.join("\n"),
                                "published": written(&dates.published),
                                "published_day": dates.publisher_day().map(|d| d.to_string()),
                                "published_provenance": provenance(&dates.published),
                                "published_confidence": confidence(&dates.published),
                                "modified": written(&dates.modified),
                                "modified_provenance": provenance(&dates.modified),
                                "modified_confidence": confidence(&dates.modified),
                                "encoding": decoded.encoding.name(),
                                "class": a.kind.class,
                                "class_reason": a.kind.reason,
                            })
                        }
                    }
                }
            };
            line.to_string()
        })
        .collect();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(Outcome::Clean)
}

fn extract_pages(a: ExtractArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    use crate::fetch::{Fetcher, Location, Request};
    let here = std::env::current_dir().unwrap_or_default();
    let mut requests = Vec::new();
    for p in &a.pages {
        let location = Location::parse(p, &here).map_err(|why| Failure::Message(format!("error: `{p}`: {why}")))?;
        requests.push(Request {
            location,
            obey_robots: false,
            max_body: None,
        });
    }
    let fetcher =
        crate::http::HttpFetcher::new(crate::http::HttpOptions::default()).map_err(|e| Failure::Message(format!("error: {e}")))?;
    let views: crate::fetch::Slots<Result<crate::inspect::PageView, String>> = crate::fetch::Slots::new(requests.len());
    let now = Utc::now();
    fetcher.fetch_each(&requests, &|i, fetched| {
        let view = fetched.map_err(|e| e.to_string()).and_then(|doc| {
            let decoded = doc.decode(None);
            let x = crate::extract::extract(&decoded.text, &doc.url, a.tz).map_err(|e| e.to_string())?;
            Ok(crate::inspect::PageView::new(
                &doc.url,
                &x.article,
                &decoded,
                x.problems,
                now,
                a.date_floor,
            ))
        });
        views.put(i, view);
    });
    let mut pages = Vec::new();
    let mut failed = String::new();
    for (p, v) in a.pages.iter().zip(views.into_values()) {
        match v.expect("every page answered") {
            Ok(view) => pages.push(view),
            Err(e) => failed.push_str(&format!("error: `{}`: {}\n", report::inert(p), report::inert(&e))),
        }
    }
    match a.format {
        ExtractFormat::Text => {
            for (n, view) in pages.iter().enumerate() {
                if n > 0 {
                    writeln!(out)?;
                }
                out.write_all(view.to_text().as_bytes())?;
            }
        }
        ExtractFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&pages).expect("views serialise"))?,
    }
    if failed.is_empty() {
        Ok(Outcome::Clean)
    } else if pages.is_empty() {
        Err(Failure::Message(failed))
    } else {
        eprint!("{failed}");
        Ok(Outcome::Clean)
    }
}

fn load(files: &[PathBuf]) -> Result<RuleSet, Failure> {
    RuleSet::load(files).map_err(|e: LoadError| Failure::Message(e.to_string()))
}

fn check(a: CheckArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let rules = load(&a.files)?;
    let options = Options {
        at: a.at.unwrap_or_else(|| Utc::now().trunc_subsecs(0)),
        inputs: a.input,
        input_source: a.input_source,
        fetch_all: a.all,
        margin: chrono::Duration::hours(a.margin as i64),
        date_floor: a.date_floor,
    };
    let fetcher = crate::http::HttpFetcher::new(a.http.options()).map_err(|e| Failure::Message(format!("error: {e}")))?;
    let bar;
    let progress: &dyn check::Progress = if a.quiet {
        &check::Quiet
    } else {
        bar = crate::progress::Bar::new();
        &bar
    };
    let report = check::run(&rules, &options, &fetcher, progress, &a.files).map_err(|e| Failure::Message(format!("error: {e}")))?;
    if report.sources.iter().all(|s| s.documents == 0) {
        let mut msg = String::from("error: no source could be read, so nothing was checked\n");
        for p in &report.problems {
            msg.push_str(&format!("  {}: {}\n", report::inert(&p.url), report::inert(&p.message)));
        }
        return Err(Failure::Message(msg));
    }
    let text = match a.format {
        Format::Text => report.to_text(a.quiet, a.fail_on),
        Format::Json => report.to_json() + "\n",
        Format::Jsonl => report.to_jsonl(),
    };
    out.write_all(text.as_bytes())?;
    Ok(if report.fails(a.fail_on) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
