//! The command line as clap sees it: every flag defined once, its doc comment the `--help`
//! text; groups of flags (fetching, dates) flattened into each command that takes them.

use crate::fingerprint::Params;
use crate::model::Severity;
use crate::report::Format;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Check news outlets for compliance with an election-period media blackout.
///
/// Rule files (TOML) define the election's zones and silence windows, the outlets to watch and
/// the embargoed material; `blackout check` reads what the outlets published and reports
/// items that carry that material inside a window.
///
/// Exit status: 0 when no finding reaches `--fail-on` and every source was checked, 1 when a
/// finding does (with `--new-only`, a new one), 2 when the run could not be done (unreadable
/// or invalid rule files, bad arguments, nothing readable, a state store that cannot be used
/// or written) or its report not delivered (an `--output` file, the mail or the webhook
/// failed: the run is then not recorded, and the next one tells its findings again), 3 when no
/// finding reaches `--fail-on` but some source could not be checked, or only in part. `watch` exits 0 when a signal stops it or no window is left, 2 when it cannot
/// start.
#[derive(Debug, Parser)]
#[command(name = "blackout", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log to stderr what is fetched and retried (-v), or more (-vv); `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the sources named in the rule files (or `--input`) against the rules.
    ///
    /// Feeds are read with their items' pages; every item is timed against the windows of its
    /// outlet's audience and scanned for embargoed material: an article on its text, a listing
    /// page (a homepage, a section front) on its teasers, timed by the dates they show or by
    /// when the page was seen. Broken feeds, pages and dates are reported against their source
    /// and the run goes on; a page whose content could not be read (a wall, an empty page) and
    /// a source from which nothing could be read are reported not checked, never clean. The report goes to stdout, and to files, mail
    /// and a webhook as asked (see "Delivery"), its matched passages cut unless
    /// `--show-excerpts`.
    ///
    /// Exit status: 0 nothing at `--fail-on` and every source checked; 1 a finding at
    /// `--fail-on` (with `--new-only`, a new one); 2 the run could not be done or its report
    /// not delivered (then the run is not recorded); 3 some source not checked whole.
    Check(CheckArgs),
    /// Print every window in every zone, in local time and UTC, and the union per outlet.
    Windows(FilesArgs),
    /// Show what a check sees in pages and feeds: for a page its title, class (a listing is
    /// checked on its teasers, each shown with its address and the date it shows; a wall or an
    /// empty page is not checked), decoding, every date with its provenance and the ones a check
    /// would use, the scoped text blocks and the links; for a feed its entries and what had to
    /// be repaired to read them.
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
    /// Look inside the state store: runs, sources' health, findings, items; check or prune it.
    #[command(subcommand)]
    State(StateCommand),
    /// Check again and again while a window of the rule files is open: every `--every`, from
    /// `--margin` hours before a window opens in its first zone until `--margin` hours after it
    /// closes in its last; between windows, sleep until the next (saying when), and stop when
    /// none is left.
    ///
    /// Each run is a `check` with the same options, recorded in the state store, so the
    /// instant an item was first seen is as fine as the interval; each run's report is
    /// printed as it ends (with `--new-only -q`, only what is new). SIGTERM or SIGINT lets the
    /// run under way finish and be recorded, then exits 0; a second signal aborts it at once
    /// (the store keeps nothing of it: the next run sees its findings as new) and exits 0.
    /// With `--at`, the watch's clock starts at that instant and runs at the real pace, to
    /// replay a window.
    Watch(WatchArgs),
    /// Evidence a regulator can stand behind: check that the store's runs were not altered,
    /// export them as WARC, gather what a finding rests on.
    ///
    /// Every run of a check with a state store is sealed: what it fetched (bodies kept under
    /// their SHA-256, statuses, headers, addresses, instants), the files it read its rules from,
    /// what it judged, and a manifest naming all of it by digest, chained to the previous
    /// run's. See README, "Evidence".
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Run a sealed run's check again over what it fetched, with no network: the same rules
    /// give the same findings (same keys, passages and timing), newer ones say what they would
    /// have found then.
    ///
    /// The run comes from the state store (`--run N`) or from WARC files written by `evidence
    /// export`; the history it knew (when items were first seen) and its instant come with it.
    /// Rule files named here replace the run's own. The report and the exit status are a
    /// check's; nothing is recorded.
    Replay(ReplayArgs),
    /// Record a reviewer's verdict on a finding (its id is in every report).
    ///
    /// A finding judged a false positive is no longer reported while the content it matched
    /// stays the same; when that content changes (a new version of the item), it is reported
    /// again. A confirmation is recorded and shown in `state findings`.
    Review(ReviewArgs),
    /// Print a shell completion script: `blackout completions bash > ~/.local/share/bash-completion/completions/blackout`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command into a directory.
    ///
    /// `blackout man | man -l -` reads it at once; `blackout man --dir /usr/local/share/man/man1`
    /// installs blackout.1, blackout-check.1, blackout-state-runs.1, …
    Man(ManArgs),
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write blackout.1 and a page per command here instead of printing blackout.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// The runs: when, with which rule files, what came out.
    Runs(StateListArgs),
    /// Each source's health in its latest run, and since when it has not been checked.
    Sources(StateListArgs),
    /// The findings with their state (new, open, resolved) and latest review.
    Findings(StateListArgs),
    /// The items seen: first and last seen, and how many versions of their content.
    Items(StateListArgs),
    /// Check the store's integrity and print its schema version; exit 2 if damaged.
    Check(StoreArg),
    /// Forget runs before a day, items last seen before it that no finding names, documents
    /// fetched and listings read before it, and the kept bodies no document names; the
    /// findings, their reviews and the items and versions they rest on are kept.
    Prune(PruneArgs),
}

#[derive(Debug, clap::Subcommand)]
pub enum EvidenceCommand {
    /// Hash everything again: each run's manifest and the chain of manifests, its captures'
    /// records and bodies, its record, the files it read its rules from, each finding against
    /// the manifest of the last run that reported it, each timestamp token; or a WARC file
    /// written by `evidence export`. Names whatever does not hold; exit 1 if anything does not,
    /// 0 if all holds.
    Verify(VerifyArgs),
    /// Write sealed runs as one WARC/1.1 file (one gzip member per record, SHA-256 block and
    /// payload digests): the manifest, the rule files, every capture as request and response
    /// (a 304 as a revisit, a file as a resource), and what was judged of every item.
    Export(ExportArgs),
    /// Gather what a finding rests on, for a notice: the captures as WARC, the text judged with
    /// the passages marked, the rule as written with its file's digest and the window's legal
    /// basis, the timing explained, the run's manifest and timestamp token, SHA256SUMS and a
    /// README saying how to check each piece with sha256sum, warcio and openssl. The finding is
    /// replayed from the captures first; passages are whole (handle the bundle as the leak).
    Bundle(BundleArgs),
}

#[derive(Debug, clap::Args)]
pub struct BundleArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// The finding's id (in every report, and `blackout state findings`).
    #[arg(value_name = "FINDING")]
    pub finding: String,
    /// Where to write it: a `.zip` file, or a new (or empty) directory.
    #[arg(short, long, value_name = "DIR|FILE.zip")]
    pub output: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Only this run (and the chain up to it).
    #[arg(long, value_name = "N", conflicts_with = "warc")]
    pub run: Option<i64>,
    /// A WARC file written by `evidence export`, to verify instead of the store.
    #[arg(value_name = "FILE.warc.gz")]
    pub warc: Vec<PathBuf>,
    /// The CA certificates (PEM) a timestamp authority's certificate must chain to; without
    /// it, a token's signature and digest are checked but not whom it chains to.
    #[arg(long, value_name = "FILE")]
    pub tsa_ca: Option<PathBuf>,
    /// One JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["run", "finding", "since"])))]
pub struct ExportArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// This run.
    #[arg(long, value_name = "N")]
    pub run: Option<i64>,
    /// What this finding rests on, in the run that first reported it (and the last, if later).
    #[arg(long, value_name = "ID")]
    pub finding: Option<String>,
    /// Every run evaluated on or after this day (YYYY-MM-DD) or instant (RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = parse_day_or_instant)]
    pub since: Option<DateTime<Utc>>,
    /// The file to write (`.warc.gz`); written whole or not at all.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// The run to replay from the store (or, with WARC files holding several, which one).
    #[arg(long, value_name = "N")]
    pub run: Option<i64>,
    /// WARC files written by `evidence export` (`.warc.gz`, one gzip member per record), then
    /// rule files to judge with instead of the run's own (any other name).
    #[arg(value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Evaluate as of this instant instead of the run's.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub at: Option<DateTime<Utc>>,
    /// Format of the report: as `check --format`.
    #[arg(long, default_value = "text", value_name = "FORMAT", value_parser = format_parser())]
    pub format: Format,
    /// Show matched passages whole (as `check --show-excerpts`).
    #[arg(long)]
    pub show_excerpts: bool,
    /// Lowest severity that makes the replay exit with status 1 [default: the run's].
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

#[derive(Debug, clap::Args)]
pub struct StoreArg {
    /// The state store [default: $XDG_DATA_HOME/blackout/state.db or
    /// ~/.local/share/blackout/state.db].
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct StateListArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Only this source (its id in the rule files).
    #[arg(long, value_name = "ID")]
    pub source: Option<String>,
    /// One JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Forget what is older than this day (UTC midnight).
    #[arg(long, required = true, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub before: DateTime<Utc>,
    /// Seconds to wait for a run holding the store: a prune takes the store's lock, so that
    /// it sweeps no blob from under a run that has not committed yet.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub lock_timeout: u64,
}

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("verdict").required(true).args(["false_positive", "confirm"]))]
pub struct ReviewArgs {
    /// The finding's id, as reports and `state findings` show it.
    #[arg(value_name = "FINDING")]
    pub finding: String,
    /// The finding is not a violation: do not report it again while its content is unchanged.
    #[arg(long)]
    pub false_positive: bool,
    /// The finding is a violation: record it so.
    #[arg(long)]
    pub confirm: bool,
    /// Why, in a few words (kept with the review).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Who reviews [default: $USER].
    #[arg(long, value_name = "NAME")]
    pub reviewer: Option<String>,
    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Debug, Subcommand)]
pub enum FingerprintCommand {
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
pub struct BuildArgs {
    /// Corpus directories or files.
    #[arg(required = true, value_name = "CORPUS")]
    pub corpus: Vec<PathBuf>,
    /// Where to write the index.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Words per shingle.
    #[arg(long, default_value_t = Params::default().k, value_parser = clap::value_parser!(u32).range(2..=64))]
    pub k: u32,
    /// Winnowing window, in shingles: any shared run of k + w - 1 words is guaranteed found.
    #[arg(long, default_value_t = Params::default().w, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub w: u32,
    /// Drop shingles found in more than this many documents (stamps, signatures).
    #[arg(long, default_value_t = Params::default().max_docs, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_docs: u32,
    /// Ordinary text (same formats as the corpus) whose shingles never count (repeatable).
    #[arg(long, value_name = "DIR")]
    pub background: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The index file.
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct MatchArgs {
    /// The index file.
    pub file: PathBuf,
    /// Articles: .html/.htm pages (main text extracted) or plain text files.
    #[arg(required = true, value_name = "ARTICLE")]
    pub articles: Vec<PathBuf>,
    /// Only show spans of at least this many words.
    #[arg(long, default_value_t = 0)]
    pub min_words: u32,
    /// Print matching throughput (one core, extracted text only) to stderr.
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Rule files to combine: a jurisdiction file plus, e.g., a newsroom's sources file.
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Read this local feed, page or directory instead of the sources' own locations
    /// (repeatable). Feeds are recognised by extension (.xml .rss .atom .rdf .json .feed), pages
    /// by .html/.htm/.xhtml (other files given here are sniffed); a directory is read recursively
    /// (links to directories are not followed).
    #[arg(long, value_name = "PATH")]
    pub input: Vec<PathBuf>,
    /// Treat `--input` as this source of the rule files (its audience, zone and charset).
    /// Without it, the input's audience is every zone of the election.
    #[arg(long = "as", value_name = "SOURCE", requires = "input")]
    pub input_source: Option<String>,
    /// Format of the report on stdout: `text` (for people, grouped by outlet), `json` (one
    /// document, described in README.md), `jsonl` (one JSON object per line: findings, cleared
    /// items, unchecked pages, sources not checked whole, problems, then a summary), `csv` (one
    /// row per finding, for a spreadsheet), `html` (one self-contained page: a summary, then
    /// per outlet a timeline and its findings), `markdown` (for a ticket or a wiki).
    #[arg(long, default_value = "text", value_name = "FORMAT", value_parser = format_parser())]
    pub format: Format,
    /// Also write the report to FILE (repeatable), in the format its extension says (.txt .json
    /// .jsonl .csv .html .md), or the one named before it (`html:/var/www/blackout/latest`).
    /// Each file is replaced whole (written beside it, then renamed), never left half-written.
    #[arg(short, long, value_name = "FILE", value_parser = crate::deliver::Output::parse)]
    pub output: Vec<crate::deliver::Output>,
    /// Show matched passages whole. By default every report, file, mail and webhook cuts each
    /// passage matched against embargoed material to its first words (a material's
    /// `redact_words`, 6 unless set) and `[… N more words]`, and links into the dump after the
    /// rule's prefix, so that the report does not spread what it reports.
    #[arg(long)]
    pub show_excerpts: bool,
    /// Lowest severity that makes the run exit with status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Violation, value_name = "SEVERITY")]
    pub fail_on: FailOn,
    /// Evaluate as of this instant (RFC 3339, e.g. `2017-05-07T12:00:00Z`) instead of now.
    /// Dates later than it are set aside as impossible.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    pub at: Option<DateTime<Utc>>,
    /// Print nothing when no finding reaches `--fail-on`, every source was checked and none
    /// had a problem; print only what does otherwise (text format).
    #[arg(short, long)]
    pub quiet: bool,
    /// Fetch the page of every feed entry. By default an entry's page is fetched only when its
    /// feed date is unknown or within `--margin` of a window that a rule could count it for
    /// (or its feed says it was updated then); the others are judged on their feed data.
    #[arg(long)]
    pub all: bool,
    /// Check only this machine's share K of the rule files' sources, when N machines share
    /// them and one PostgreSQL store (`K/N`, e.g. `2/3`): the sources whose id hashes to
    /// K − 1 modulo N, the same on every machine and every night.
    #[arg(long, value_name = "K/N", value_parser = crate::sources::Shard::parse, conflicts_with = "input")]
    pub shard: Option<crate::sources::Shard>,
    /// How near a window, in hours, a feed date must be for its page to be fetched.
    #[arg(long, default_value_t = 12, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(0..=8760))]
    pub margin: u32,
    #[command(flatten)]
    pub dates: DateArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(flatten)]
    pub crawl: CrawlArgs,
    #[command(flatten)]
    pub deliver: DeliverArgs,
}

/// Where the report goes besides stdout and `--output`: mail and a webhook.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Delivery")]
pub struct DeliverArgs {
    /// Mail the report to ADDR (repeatable): the text report and the HTML report as
    /// alternatives of one message. Sent only when there is something to report (what `-q`
    /// would print) unless `--mail-always`; needs `--smtp` or `--sendmail`.
    #[arg(long, value_name = "ADDR", value_parser = parse_mailbox, requires = "mail_transport")]
    pub mail_to: Vec<lettre::message::Mailbox>,
    /// The sender [default: blackout@HOSTNAME].
    #[arg(long, value_name = "ADDR", value_parser = parse_mailbox, requires = "mail_to")]
    pub mail_from: Option<lettre::message::Mailbox>,
    /// Send through this SMTP server: `smtp://HOST[:PORT]` (STARTTLS required, port 587),
    /// `smtps://HOST[:PORT]` (TLS, 465) or `smtp+insecure://HOST:PORT` (no TLS: for a test
    /// server). The user may be in the URL or BLACKOUT_SMTP_USER; the password only in
    /// BLACKOUT_SMTP_PASSWORD or `--smtp-password-file`.
    #[arg(long, value_name = "URL", group = "mail_transport", requires = "mail_to")]
    pub smtp: Option<String>,
    /// Hand the mail to the local MTA's sendmail program (the usual way under cron):
    /// `--sendmail` runs /usr/sbin/sendmail, `--sendmail=PATH` another.
    #[arg(long, value_name = "PATH", num_args = 0..=1, require_equals = true, default_missing_value = "/usr/sbin/sendmail", group = "mail_transport", requires = "mail_to")]
    pub sendmail: Option<PathBuf>,
    /// Read the SMTP password from this file (its first line), instead of BLACKOUT_SMTP_PASSWORD.
    #[arg(long, value_name = "FILE", requires = "smtp")]
    pub smtp_password_file: Option<PathBuf>,
    /// Trust this certificate authority (PEM) for the SMTP server too, e.g. a company's own.
    #[arg(long, value_name = "FILE", requires = "smtp")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Mail even when there is nothing to report (a nightly "all clear").
    #[arg(long, requires = "mail_to")]
    pub mail_always: bool,
    /// Attach the findings as CSV (`findings.csv`) to the mail.
    #[arg(long, requires = "mail_to")]
    pub mail_csv: bool,
    /// Give up sending the mail (retries included) after this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub mail_timeout: u64,
    /// POST the JSON report (with `--new-only`, the new findings only) to this URL after every
    /// run, signed with `X-Blackout-Signature: sha256=HMAC` of the body when
    /// BLACKOUT_WEBHOOK_SECRET (or `--webhook-secret-file`) holds the shared secret. A URL
    /// holding a token is better given in BLACKOUT_WEBHOOK_URL, out of `ps` and shell history.
    #[arg(long, value_name = "URL", value_parser = parse_web_url)]
    pub webhook: Option<url::Url>,
    /// Read the webhook's secret from this file (its first line).
    #[arg(long, value_name = "FILE", requires = "webhook")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Give up a webhook request after this many seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_timeout: u64,
    /// Retries of a mail or webhook after a transient failure (a 4xx SMTP reply, a 5xx or 429
    /// HTTP answer, a lost connection), waiting 2 s, then 4 s, …
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub delivery_retries: u32,
}

fn parse_mailbox(s: &str) -> Result<lettre::message::Mailbox, String> {
    s.parse()
        .map_err(|e| format!("`{s}` is not a mail address ({e}); write e.g. `desk@example.org` or `Desk <desk@example.org>`"))
}

/// Errors name the scheme at most: a webhook's URL often holds its token.
fn parse_web_url(s: &str) -> Result<url::Url, String> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
        Ok(u) => Err(format!("the webhook must be http:// or https://, not {}:", u.scheme())),
        Err(e) => Err(format!("not a URL ({e})")),
    }
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Time from the start of one run to the start of the next while a window is open: a whole
    /// number and a unit (`90s`, `15m`, `1h`). A run that takes longer is followed at once.
    #[arg(long, default_value = "15m", value_name = "DURATION", value_parser = crate::schedule::parse_every)]
    pub every: chrono::Duration,
}

/// Which state store a check remembers its runs in.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "State across runs")]
pub struct StateArgs {
    /// The state store: the runs, the items seen and when, their versions, the findings new,
    /// open and resolved, and their reviews — a SQLite file, or a shared PostgreSQL database
    /// (`postgres://USER@HOST:PORT/DATABASE`, the password in PGPASSWORD or ~/.pgpass, never
    /// here) [default: $XDG_DATA_HOME/blackout/state.db or ~/.local/share/blackout/state.db;
    /// an unusable default is skipped with a notice, a store named here must work].
    #[arg(long, value_name = "PATH", conflicts_with = "no_state")]
    pub state: Option<PathBuf>,
    /// A one-off run: read and write no state store (every finding is then unmarked).
    #[arg(long)]
    pub no_state: bool,
    /// Report and count only findings new since the previous run (and not dismissed by a
    /// review); exit status 1 then means "new findings". Needs a state store.
    #[arg(long, conflicts_with = "no_state")]
    pub new_only: bool,
    /// Seconds to wait for another run holding the store before giving up (exit 2); on
    /// PostgreSQL, also how long to wait for another machine's run to commit (it holds its
    /// turn while it delivers its report) before printing this run's report unrecorded.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub lock_timeout: u64,
    /// Which captures (documents as fetched: bodies, statuses, headers, addresses, instants)
    /// the store keeps as evidence: `evidence` all but the pages of items that no finding and
    /// no new version needs, fetched outside every window; `all` every one; `none` none (the
    /// run's manifest still names each finding with the digests of the bodies it rests on).
    #[arg(long, value_enum, default_value_t = crate::store::Retention::Evidence, value_name = "WHICH")]
    pub keep_captures: crate::store::Retention,
    /// Ask this RFC 3161 timestamp authority (its http(s) URL, e.g.
    /// `https://freetsa.org/tsr`) to sign the run's manifest digest, and keep the token with
    /// the run. A TSA that fails or does not answer within `--tsa-timeout` is said in the
    /// report and on stderr; the run is recorded all the same.
    #[arg(long, value_name = "URL", conflicts_with = "no_state", value_parser = parse_tsa)]
    pub tsa: Option<url::Url>,
    /// Seconds to wait for the timestamp authority (at least 1).
    #[arg(long, default_value_t = 20, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub tsa_timeout: u64,
}

fn parse_tsa(s: &str) -> Result<url::Url, String> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
        Ok(u) => Err(format!(
            "`{}:` is not a scheme a timestamp authority answers on: give its http(s) URL",
            u.scheme()
        )),
        Err(e) => Err(format!("`{s}` is not a URL ({e}): give the timestamp authority's http(s) URL")),
    }
}

/// How dates are judged plausible.
#[derive(Debug, Clone, clap::Args)]
pub struct DateArgs {
    /// Dates before this day are implausible and not used (templates, birth dates, `1970`).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day, default_value = "1995-01-01")]
    pub date_floor: DateTime<Utc>,
}

/// How documents are fetched over HTTP(S), and how much of one is kept.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Fetching")]
pub struct FetchArgs {
    /// Requests in flight at once, all outlets together.
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Requests in flight at once to one host.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub per_host: u32,
    /// Least time between two requests to the same host, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub host_delay: u64,
    /// Give up on a request (body included) after this many seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Largest body kept, in bytes, from the web (counted after decompression) and from files
    /// alike; the rest is cut off and recorded as a problem.
    #[arg(long, default_value_t = crate::fetch::DEFAULT_MAX_BODY, value_name = "BYTES")]
    pub max_body: u64,
    /// Retries after a connection error, a timeout or a 5xx status (with backoff), or a 429/503
    /// (after the server's `Retry-After`).
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub retries: u32,
    /// A URL where site owners can learn who runs this crawler; added to the User-Agent.
    #[arg(long, value_name = "URL")]
    pub contact: Option<String>,
    /// Refuse URLs whose host is, or resolves only to, a private, loopback or link-local
    /// address, so feed links cannot reach the network the checker runs in.
    #[arg(long)]
    pub deny_private_networks: bool,
}

/// What a check remembers between runs and whom it obeys.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Fetching")]
pub struct CrawlArgs {
    /// Always fetch in full: send no validators from the state store and keep no bodies in it.
    /// By default the store keeps the ETag/Last-Modified validators and the body of every
    /// document fetched whole, so an unchanged feed or page is answered "304 Not Modified" and
    /// read from the store.
    #[arg(long)]
    pub no_cache: bool,
    /// Fetch pages even where a site's robots.txt disallows them (for a regulator with a legal
    /// duty to check; a source can also set `ignore_robots = true`).
    #[arg(long)]
    pub ignore_robots: bool,
}

/// The report formats, by the names `Format::NAMES` gives them (one list for `--format` and
/// for `--output FORMAT:FILE`).
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Format::NAMES.iter().map(|(name, _)| *name))
        .map(|name| Format::named(&name).expect("one of the possible values"))
}

/// The lowest severity that fails a run.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    Violation,
    Warning,
    Notice,
}

impl From<FailOn> for Severity {
    fn from(f: FailOn) -> Severity {
        match f {
            FailOn::Violation => Severity::Violation,
            FailOn::Warning => Severity::Warning,
            FailOn::Notice => Severity::Notice,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// Pages or feeds to read: paths or http(s) URLs. A file is read as a feed when its
    /// extension or its first bytes say so (as `check --input` does), a URL when its first
    /// bytes do (an XML or JSON document).
    #[arg(required_unless_present = "jsonl", value_name = "PAGE|FEED")]
    pub pages: Vec<String>,
    /// Batch mode for evaluations: every HTML file under DIR (.html/.htm/.xhtml, or any file
    /// without a known extension that starts as HTML), on all cores, one JSON object per line
    /// in path order: `file` (relative to DIR), `title`, `text` (the article's blocks without
    /// title and captions, one per line), `published` and `modified` as written (RFC 3339
    /// with offset, or a bare day), `published_day` (the publisher's calendar day) with their
    /// `*_provenance` and `*_confidence` (high, medium, low), `encoding`, `class` (article,
    /// listing, interstitial, empty) and `class_reason`, or `error`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["pages", "format"])]
    pub jsonl: Option<PathBuf>,
    /// Output format: `text` for people, `json` (one array).
    #[arg(long, value_enum, default_value_t = ExtractFormat::Text)]
    pub format: ExtractFormat,
    /// IANA zone for dates the page writes without one (as a source's `tz`).
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<chrono_tz::Tz>,
    #[command(flatten)]
    pub dates: DateArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExtractFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate rule files without reading any source; exit 2 if any is broken.
    ///
    /// Each file with an `[election]` table is validated as its own set, combined with every
    /// given file that has none (e.g. a sources file), so `rules check rules/*.toml` works.
    /// Fingerprint indexes are read and checked too.
    Check(FilesArgs),
    /// Run the `[[rule.test]]` cases and print TP/TN/FP/FN per rule; exit 1 on a failure.
    ///
    /// Files are grouped as for `rules check`. Each failure is printed with the test's
    /// file:line. Tests are evaluated exactly as a check evaluates a page.
    Test(FilesArgs),
}

#[derive(Debug, clap::Args)]
pub struct FilesArgs {
    /// Rule files to combine.
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
}

fn parse_day(s: &str) -> Result<DateTime<Utc>, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|e| format!("`{s}` is not a day ({e}); write e.g. `1995-01-01`"))
}

fn parse_day_or_instant(s: &str) -> Result<DateTime<Utc>, String> {
    parse_day(s)
        .or_else(|_| parse_instant(s))
        .map_err(|_| format!("`{s}` is neither a day (`2017-05-06`) nor an RFC 3339 instant (`2017-05-06T00:00:00Z`)"))
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|e| format!("`{s}` is not an RFC 3339 instant ({e}); write e.g. `2017-05-07T12:00:00Z`"))
}
