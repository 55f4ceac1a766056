//! The command line: arguments (`args`, where their doc comments are the `--help` text) wired
//! to the library's stages. Nothing here decides anything a stage could; it loads, calls and
//! writes, and turns errors into messages. Exit codes: 0 clean, 1 findings at or above
//! `--fail-on`, 2 the run could not be done, 3 no finding but some source not (fully) checked.

pub mod args;
mod deliver;
mod evidence;
mod state;
mod watch;

use crate::fingerprint;
use crate::http::{HttpFetcher, HttpOptions, Keep};
use crate::report::{self, Outcome};
use crate::rules::{Engine, RuleSet};
use crate::run::{Hooks, Options, Run};
use crate::sources::{Replacement, Selection};
use crate::store::{Kept, Recall, Recorded};
pub use args::Cli;
use args::{BuildArgs, CheckArgs, Command, ExtractArgs, ExtractFormat, FetchArgs, FingerprintCommand, MatchArgs, RulesCommand};
use chrono::{SubsecRound, Utc};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// Why a command stopped.
#[derive(Debug)]
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

/// `error: …` for any error of a stage.
fn fail(e: impl std::fmt::Display) -> Failure {
    Failure::Message(format!("error: {e}"))
}

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome, Failure> {
    crate::progress::init_log(cli.verbose);
    match cli.command {
        Command::Check(a) => check(a, out),
        Command::Windows(a) => {
            let rules = load(&a.files)?;
            out.write_all(report::windows_text(&rules).as_bytes())?;
            Ok(Outcome::Clean)
        }
        Command::Extract(a) => match &a.jsonl {
            Some(dir) => extract_batch(dir, &a, out),
            None => extract(a, out),
        },
        Command::Rules(RulesCommand::Check(a)) => rules_check(&a.files, out),
        Command::Rules(RulesCommand::Test(a)) => rules_test(&a.files, out),
        Command::Fingerprint(FingerprintCommand::Build(a)) => fingerprint_build(a, out),
        Command::Fingerprint(FingerprintCommand::Info(a)) => {
            let index = fingerprint::Index::load(&a.file).map_err(fail)?;
            let size = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
            out.write_all(report::fingerprint_info_text(&a.file, &index, size).as_bytes())?;
            Ok(Outcome::Clean)
        }
        Command::Fingerprint(FingerprintCommand::Match(a)) => fingerprint_match(a, out),
        Command::State(c) => state::command(c, out),
        Command::Review(a) => state::review(a, out),
        Command::Evidence(c) => evidence::command(c, out),
        Command::Replay(a) => evidence::replay_run(a, out),
        Command::Watch(a) => watch::watch(a, out),
        Command::Completions(a) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(a.shell, &mut cmd, "blackout", out);
            Ok(Outcome::Clean)
        }
        Command::Man(a) => man(a, out),
    }
}

/// The manual from the clap definition: the top page on stdout, or every page into a directory.
fn man(a: args::ManArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let cmd = <Cli as clap::CommandFactory>::command();
    match a.dir {
        None => clap_mangen::Man::new(cmd).render(out)?,
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .and_then(|()| clap_mangen::generate_to(cmd, &dir))
                .map_err(|e| Failure::Message(format!("error: cannot write manual pages into `{}`: {e}", dir.display())))?;
            writeln!(out, "manual pages written to {}", dir.display())?;
        }
    }
    Ok(Outcome::Clean)
}

fn load(files: &[PathBuf]) -> Result<RuleSet, Failure> {
    RuleSet::load(files).map_err(|e| Failure::Message(e.to_string()))
}

fn engine(files: &[PathBuf]) -> Result<Engine, Failure> {
    Engine::compile(load(files)?).map_err(fail)
}

/// The fetcher's options from the command line; `crawl` only for a check (robots.txt does not
/// apply to pages named on the command line); `keep`, the state store's documents, for
/// conditional GET.
fn http_options(fetch: &FetchArgs, crawl: Option<&args::CrawlArgs>, keep: Option<Arc<dyn Keep>>) -> HttpOptions {
    use std::time::Duration;
    HttpOptions {
        concurrency: fetch.concurrency as usize,
        per_host: fetch.per_host as usize,
        host_delay: Duration::from_millis(fetch.host_delay),
        timeout: Duration::from_secs(fetch.timeout),
        max_body: fetch.max_body,
        retries: fetch.retries,
        contact: fetch.contact.clone(),
        deny_private: fetch.deny_private_networks,
        obey_robots: crawl.is_some_and(|c| !c.ignore_robots),
        keep,
        ..HttpOptions::default()
    }
}

/// Set while a check records its run and writes its report: `blackout watch` lets a second
/// signal end the process at once, except then (a run recorded but never printed would have
/// its new findings told as open the next time).
pub(crate) static RECORDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Clears [`RECORDING`] however the check ends.
struct Recording;

impl Drop for Recording {
    fn drop(&mut self) {
        RECORDING.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

fn check(a: CheckArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let started_at = Utc::now();
    let engine = engine(&a.files)?;
    let delivery = deliver::resolve(&a)?;
    let options = Options {
        at: a.at.unwrap_or_else(|| Utc::now().trunc_subsecs(0)),
        date_floor: a.dates.date_floor,
        replacement: Replacement {
            inputs: a.input.clone(),
            as_source: a.input_source.clone(),
        },
        selection: Selection {
            all: a.all,
            margin: chrono::Duration::hours(i64::from(a.margin)),
        },
        shard: a.shard,
        max_body: a.fetch.max_body,
    };
    // The store is opened and locked before anything is fetched: a run that cannot record
    // what it finds, or that would overlap another, stops before it costs the outlets a fetch.
    // What the record says of the run (its rule files' digests) is read now, as they were
    // loaded.
    let mut store = state::open_for_check(&a.state)?;
    let meta = match &store {
        Some(_) => Some(state::run_meta(&a, &engine, started_at)?),
        None => None,
    };
    let lock = match &mut store {
        Some(store) => state::lock(store, &a)?,
        None => None,
    };
    if let Some(store) = &mut store
        && let Ok(Some((run, latest))) = store.latest_evaluated()
        && options.at < latest
    {
        eprintln!(
            "note: this run is evaluated as of {}, before run {run} (as of {}): what it reports as new, open or resolved is told against the runs in the order they were made",
            crate::model::stamp(options.at),
            crate::model::stamp(latest)
        );
    }
    let gathered = gather(&a, &engine, &options, store.as_mut());
    let (mut report, kept, recorded) = match gathered {
        Ok(gathered) => gathered,
        Err(e) => {
            if let (Some(store), Some(lock)) = (store.as_mut(), lock) {
                store.release(lock);
            }
            return Err(e);
        }
    };
    RECORDING.store(true, std::sync::atomic::Ordering::SeqCst);
    let _recording = Recording;
    let fail_on = a.fail_on.into();
    let redaction = report::Redaction::of(engine.rules());
    // What the run tells, and where: stdout first, then every other destination even if stdout
    // went away (`| head`). With a store, this happens before the run's transaction commits, and
    // a delivery that fails rolls it back (see `Store::commit`).
    // The report becomes what is told (new findings only, passages cut) in place: nothing
    // reads the whole one after.
    let mut printed: std::io::Result<()> = Ok(());
    let presented = std::cell::Cell::new(false);
    let mut present = |told: &mut report::Report| -> Result<(), String> {
        presented.set(true);
        if a.state.new_only {
            told.only_new();
        }
        if !a.show_excerpts {
            redaction.apply(told);
        }
        printed = a.format.renderer(a.quiet, fail_on).render(told, out).and_then(|()| out.flush());
        let undelivered = delivery.deliver(told, fail_on);
        match undelivered.is_empty() {
            true => Ok(()),
            false => Err(undelivered.iter().map(|l| format!("error: {l}")).collect::<Vec<_>>().join("\n")),
        }
    };
    let told = match (&mut store, &meta) {
        (Some(store), Some(meta)) => {
            let recorded = store.commit(&mut report, meta, kept.as_deref(), recorded.as_deref(), &mut present);
            if let Some(lock) = lock {
                store.release(lock);
            }
            match recorded {
                Ok(run) => {
                    // A timestamp that could not be had is said where cron looks, too.
                    if let Some(report::TimestampState::Failed { why }) = report.state.as_ref().and_then(|s| s.timestamp.as_ref()) {
                        eprintln!("warning: run {run} was recorded without a timestamp: {}", report::inert(why));
                    }
                    Ok(())
                }
                Err(e @ crate::store::StoreError::Undelivered { .. }) => Err(e.to_string()),
                // A store that cannot take the run (disk full, read-only) costs the marks, not
                // the report: it is told unmarked (unless it was told before the commit
                // failed), and the error comes after it.
                Err(e) => {
                    let told = match presented.get() {
                        true => Ok(()),
                        false => present(&mut report),
                    };
                    let unrecorded = format!("error: the run was not recorded, so the next run will report its findings as new again: {e}");
                    Err(match told {
                        Ok(()) => unrecorded,
                        Err(undelivered) => format!("{undelivered}\n{unrecorded}"),
                    })
                }
            }
        }
        _ => present(&mut report),
    };
    if let Err(message) = told {
        return Err(Failure::Message(message));
    }
    printed?;
    if report.nothing_checked() {
        // The report says why, source by source; the error says it again where scripts look.
        let mut msg = String::from("error: nothing was checked: no source could be read\n");
        for s in &report.sources {
            let why = s.status_reason.as_deref().unwrap_or_default();
            msg.push_str(&format!("  {}: {}\n", s.id, report::inert(why)));
        }
        return Err(Failure::Message(msg));
    }
    Ok(report.outcome(a.fail_on.into()))
}

/// A run's report, with what the store will record of it: the documents kept for conditional
/// GET, and the evidence.
type Gathered = (report::Report, Option<Arc<Kept>>, Option<Arc<Recorded>>);

/// The check itself, between the store's lock and its record: what earlier runs saw, the
/// documents kept for conditional GET, the fetcher, the run.
fn gather(a: &CheckArgs, engine: &Engine, options: &Options, store: Option<&mut crate::store::Store>) -> Result<Gathered, Failure> {
    let (recall, kept, recorded) = match store {
        Some(store) => {
            let mut ids: Vec<&str> = engine.rules().sources.iter().map(|s| s.id.as_str()).collect();
            ids.extend(
                a.input_source
                    .as_deref()
                    .or(Some(crate::sources::INPUT_SOURCE))
                    .filter(|_| !a.input.is_empty()),
            );
            let recall = store.recall(&ids, crate::identity::CAPTURES).map_err(fail)?;
            let kept = match a.crawl.no_cache {
                true => None,
                false => Some(Arc::new(store.kept().map_err(fail)?)),
            };
            let mut recorded = store.recorded(a.state.keep_captures, engine.rules());
            if let (Some(recorded), Some(tsa)) = (recorded.as_mut(), a.state.tsa.clone()) {
                let timeout = std::time::Duration::from_secs(a.state.tsa_timeout);
                recorded.stamp_with(Box::new(move |digest| crate::evidence::tsa::stamp(&tsa, digest, timeout)));
            }
            (recall, kept, recorded.map(Arc::new))
        }
        None => (Recall::default(), None, None),
    };
    let keep = kept.clone().map(|k| k as Arc<dyn Keep>);
    let mut http = http_options(&a.fetch, Some(&a.crawl), keep);
    // What the fetcher fetches on its own behalf (robots.txt) is evidence too.
    http.witness = recorded.clone().map(|r| r as Arc<dyn crate::fetch::Witness>);
    let fetcher = HttpFetcher::new(http).map_err(fail)?;
    let bar;
    let mut hooks = Hooks {
        history: &recall,
        ..Hooks::default()
    };
    // The store keeps what the run rests on (evidence), beside the bodies.
    if let Some(recorded) = recorded.as_deref() {
        hooks.recorder = recorded;
    }
    if !a.quiet {
        bar = crate::progress::Bar::new();
        hooks.progress = &bar;
    }
    let report = Run::new(engine, &fetcher, hooks).check(options, &a.files).map_err(fail)?;
    Ok((report, kept, recorded))
}

fn rules_check(files: &[PathBuf], out: &mut dyn Write) -> Result<Outcome, Failure> {
    for files in election_groups(files) {
        let engine = engine(&files)?;
        let rules = engine.rules();
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

fn rules_test(files: &[PathBuf], out: &mut dyn Write) -> Result<Outcome, Failure> {
    let (mut passed, mut failed) = (0, 0);
    for files in election_groups(files) {
        let engine = engine(&files)?;
        let (text, p, f) = report::rule_tests_text(&list(&files), &crate::ruletest::run(&engine));
        out.write_all(text.as_bytes())?;
        passed += p;
        failed += f;
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(if failed > 0 { Outcome::Findings } else { Outcome::Clean })
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

fn extract(a: ExtractArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let here = std::env::current_dir().unwrap_or_default();
    let mut locations = Vec::new();
    for p in &a.pages {
        let location = crate::fetch::Location::parse(p, &here).map_err(|why| Failure::Message(format!("error: `{p}`: {why}")))?;
        locations.push(location);
    }
    let fetcher = HttpFetcher::new(http_options(&a.fetch, None, None)).map_err(fail)?;
    let views = crate::inspect::views(&fetcher, &locations, a.tz, Utc::now(), a.dates.date_floor);
    let mut shown = Vec::new();
    let mut failed = String::new();
    for (p, v) in a.pages.iter().zip(views) {
        match v {
            Ok(view) => shown.push(view),
            Err(e) => failed.push_str(&format!("error: `{}`: {}\n", report::inert(p), report::inert(&e.to_string()))),
        }
    }
    match a.format {
        ExtractFormat::Text => {
            for (n, view) in shown.iter().enumerate() {
                if n > 0 {
                    writeln!(out)?;
                }
                out.write_all(view.to_text().as_bytes())?;
            }
        }
        ExtractFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&shown).expect("views serialise"))?,
    }
    match (failed.is_empty(), shown.is_empty()) {
        (true, _) => Ok(Outcome::Clean),
        (false, true) => Err(Failure::Message(failed)),
        (false, false) => {
            eprint!("{failed}");
            Ok(Outcome::Clean)
        }
    }
}

fn extract_batch(dir: &std::path::Path, a: &ExtractArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let pages = crate::fetch::scan_pages(dir).map_err(fail)?;
    let local = crate::fetch::LocalFetcher {
        max_body: a.fetch.max_body,
    };
    for line in crate::inspect::batch(&local, dir, &pages, a.tz, Utc::now(), a.dates.date_floor) {
        writeln!(out, "{line}")?;
    }
    Ok(Outcome::Clean)
}

fn fingerprint_build(a: BuildArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let started = std::time::Instant::now();
    let (docs, corpus) = fingerprint::read_corpus(&a.corpus).map_err(fail)?;
    if docs.is_empty() {
        return Err(Failure::Message(
            "error: no document could be read from the corpus; nothing was written".into(),
        ));
    }
    let (background, _) = fingerprint::read_corpus(&a.background).map_err(|e| fail(format!("background: {e}")))?;
    let background: Vec<String> = background.into_iter().map(|(_, t)| t).collect();
    let read = started.elapsed();
    let key = fingerprint::Key::random().map_err(fail)?;
    let params = fingerprint::Params {
        k: a.k,
        w: a.w,
        max_docs: a.max_docs,
    };
    let (index, stats) = fingerprint::Index::build(docs, &background, params, key);
    index.save(&a.output).map_err(|e| fail(format!("cannot write the index: {e}")))?;
    let size = std::fs::metadata(&a.output).map(|m| m.len()).unwrap_or(0);
    let text = report::fingerprint_build_text(&a.output, &corpus, &stats, params, size, read, started.elapsed());
    out.write_all(text.as_bytes())?;
    Ok(Outcome::Clean)
}

fn fingerprint_match(a: MatchArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let index = fingerprint::Index::load(&a.file).map_err(fail)?;
    let mut texts = Vec::new();
    for path in &a.articles {
        let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read `{}`: {e}", path.display())))?;
        let decoded = crate::charset::decode(&bytes, None, None, None).text;
        let is_html = matches!(path.extension().and_then(|e| e.to_str()), Some("html" | "htm" | "xhtml"));
        let text = match is_html {
            true => {
                let base = crate::fetch::Location::File(path.clone()).url();
                crate::extract::extract(&decoded, &base, None)
                    .map_err(|e| fail(format!("`{}`: {e}", path.display())))?
                    .article
                    .text
            }
            false => decoded,
        };
        texts.push(text);
    }
    let started = std::time::Instant::now();
    let matches: Vec<fingerprint::FingerprintMatch> = texts.iter().map(|t| fingerprint::find(&index, t)).collect();
    let elapsed = started.elapsed();
    let (text, any) = report::fingerprint_match_text(&index, &a.articles, &texts, &matches, a.min_words);
    out.write_all(text.as_bytes())?;
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
