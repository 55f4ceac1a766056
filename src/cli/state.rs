//! The state store on the command line: which store a check uses, what it records of the run
//! beyond its report, and the `state` and `review` commands.

use super::args::{CheckArgs, ReviewArgs, StateArgs, StateCommand, StateListArgs, StoreArg};
use super::{Failure, fail};
use crate::report::{Outcome, Tabular, table};
use crate::store::{Lock, ReviewVerdict, RunMeta, Store};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// The store a check records its run in: the one named (which must work), else the default
/// one when it can be used, else none — with a notice, since nothing will be remembered. With
/// `--new-only` a store is needed: without one every finding would be "new" each night.
pub fn open_for_check(a: &StateArgs) -> Result<Option<Store>, Failure> {
    if a.no_state {
        return Ok(None);
    }
    if let Some(path) = &a.state {
        return Store::open(path).map(Some).map_err(fail);
    }
    let unusable = match Store::default_path() {
        Some(path) => match Store::open(&path) {
            Ok(store) if !store.read_only() => return Ok(Some(store)),
            Ok(_) => format!("the default state store `{}` is read-only", path.display()),
            Err(e) => e.to_string(),
        },
        None => "no default state store: neither XDG_DATA_HOME nor HOME is set".to_string(),
    };
    if a.new_only {
        return Err(Failure::Message(format!(
            "error: {unusable}\n  `--new-only` needs a state store to tell new findings from old: name one with `--state PATH`"
        )));
    }
    eprintln!("note: {unusable}; this run remembers nothing (`--state PATH` names a store, `--no-state` silences this note)");
    Ok(None)
}

/// Takes the store's lock for a check (a read-only store, which cannot record the run, is not
/// locked), saying so when it is taken over from a run that died.
pub fn lock(store: &mut Store, a: &CheckArgs) -> Result<Option<Lock>, Failure> {
    let shown = crate::report::inert(&store.path().display().to_string());
    if store.read_only() {
        eprintln!(
            "note: state store `{shown}` is read-only: this run recalls what earlier runs saw, but cannot be recorded (it will exit 2)"
        );
        return Ok(None);
    }
    take_lock(store, a.shard, a.state.lock_timeout).map(Some)
}

/// Takes the store's lock, within `timeout_s` seconds, saying so when it is taken over from a
/// process that died holding it: a check's and `state prune`'s.
fn take_lock(store: &mut Store, shard: Option<crate::sources::Shard>, timeout_s: u64) -> Result<Lock, Failure> {
    let shown = crate::report::inert(&store.path().display().to_string());
    store
        .lock(shard, std::time::Duration::from_secs(timeout_s), &mut |dead| {
            eprintln!(
                "note: state store `{shown}`: took over the lock of process {} on `{}` (since {}), which ended without giving it back",
                dead.pid,
                crate::report::inert(&dead.host),
                crate::model::stamp(dead.since)
            );
        })
        .map_err(fail)
}

/// What the store keeps of a run beyond its report: the rule files with their digests (which
/// rules produced these findings) and the options that shape verdicts.
pub fn run_meta(a: &CheckArgs, engine: &crate::rules::Engine, started_at: DateTime<Utc>) -> Result<RunMeta, Failure> {
    let rules: Vec<String> = engine.rules().rules.iter().map(|r| r.id.clone()).collect();
    let indexes = engine
        .rules()
        .materials
        .iter()
        .filter_map(|m| m.fingerprints.as_ref())
        .map(|f| ("fingerprints", &f.path));
    let mut rule_files = Vec::new();
    let mut inputs = Vec::new();
    for (role, path) in a.files.iter().map(|f| ("rules", f)).chain(indexes) {
        let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read `{}` again to record it: {e}", path.display())))?;
        if role == "rules" {
            rule_files.push((path.display().to_string(), crate::model::Digest::of(&bytes).hex()));
        }
        inputs.push(crate::store::RunInput {
            role,
            path: std::path::absolute(path).unwrap_or_else(|_| path.clone()),
            bytes,
        });
    }
    let options = serde_json::json!({
        "at": a.at,
        "all": a.all,
        "margin_hours": a.margin,
        "date_floor": a.dates.date_floor.format("%Y-%m-%d").to_string(),
        "fail_on": crate::model::wire_name(&crate::model::Severity::from(a.fail_on)),
        // Absolute, so that a replay finds them among the captures.
        "input": a.input.iter().map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())).collect::<Vec<_>>(),
        "as": a.input_source,
        "max_body": a.fetch.max_body,
        "shard": a.shard.map(|s| s.to_string()),
        "new_only": a.state.new_only,
        "keep_captures": clap::ValueEnum::to_possible_value(&a.state.keep_captures).map(|v| v.get_name().to_string()),
        // A run that asked a TSA says so in its manifest: a token removed later shows.
        "tsa": a.state.tsa.as_ref().map(|u| u.as_str()),
    });
    Ok(RunMeta {
        started_at,
        rule_files,
        options,
        fail_on: a.fail_on.into(),
        rules,
        inputs,
    })
}

/// `blackout state …`.
pub fn command(c: StateCommand, out: &mut dyn Write) -> Result<Outcome, Failure> {
    match c {
        StateCommand::Runs(a) => list(&a, out, |s, source| s.runs(source)),
        StateCommand::Sources(a) => list(&a, out, |s, source| s.sources(source)),
        StateCommand::Findings(a) => list(&a, out, |s, source| s.findings(source)),
        StateCommand::Items(a) => list(&a, out, |s, source| s.items(source)),
        StateCommand::Check(a) => {
            let mut store = existing(&a)?;
            let (problems, version) = store.check().map_err(fail)?;
            let ok = problems.len() == 1 && problems[0] == "ok";
            writeln!(out, "{}: schema version {version}", store.path().display())?;
            for p in &problems {
                writeln!(out, "integrity: {p}")?;
            }
            match ok {
                true => Ok(Outcome::Clean),
                false => Err(Failure::Message(format!(
                    "error: state store `{}` is damaged (above); keep a copy, then start a new one or restore a backup",
                    store.path().display()
                ))),
            }
        }
        StateCommand::Prune(a) => {
            let mut store = existing(&a.store)?;
            let lock = take_lock(&mut store, None, a.lock_timeout)?;
            let pruned = store.prune(a.before);
            store.release(lock);
            let pruned = pruned.map_err(fail)?;
            writeln!(
                out,
                "pruned {} run(s) and {} item(s) from before {}; findings and their versions are kept",
                pruned.runs,
                pruned.items,
                a.before.format("%Y-%m-%d")
            )?;
            if let Some((run, finding)) = &pruned.held {
                writeln!(
                    out,
                    "kept run {run} and the runs after it: finding {finding} was last reported in run {run}, which is its evidence (`blackout evidence bundle {finding}`)"
                )?;
            }
            Ok(Outcome::Clean)
        }
    }
}

/// Prints rows of the store as a table, or as one JSON array.
fn list<T: Tabular + Serialize>(
    a: &StateListArgs,
    out: &mut dyn Write,
    rows: impl Fn(&mut Store, Option<&str>) -> Result<Vec<T>, crate::store::StoreError>,
) -> Result<Outcome, Failure> {
    let mut store = existing(&a.store)?;
    let rows = rows(&mut store, a.source.as_deref()).map_err(fail)?;
    if a.json {
        serde_json::to_writer_pretty(&mut *out, &rows).map_err(|e| fail(format!("cannot write output: {e}")))?;
        writeln!(out)?;
    } else {
        out.write_all(table(&rows).as_bytes())?;
    }
    Ok(Outcome::Clean)
}

/// `blackout review FINDING …`.
pub fn review(a: ReviewArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let mut store = existing(&a.store)?;
    let verdict = match a.false_positive {
        true => ReviewVerdict::FalsePositive,
        false => ReviewVerdict::Confirmed,
    };
    let reviewer = a
        .reviewer
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .or_else(|| std::env::var("LOGNAME").ok().filter(|u| !u.is_empty()))
        .ok_or_else(|| Failure::Message("error: who reviews? `$USER` is not set: name the reviewer with `--reviewer NAME`".into()))?;
    store
        .review(&a.finding, verdict, a.note.as_deref(), &reviewer, Utc::now())
        .map_err(fail)?;
    let said = match verdict {
        ReviewVerdict::FalsePositive => "a false positive: not reported again while its content is unchanged",
        ReviewVerdict::Confirmed => "confirmed",
    };
    writeln!(out, "finding {}: {said} (reviewer {reviewer})", a.finding)?;
    Ok(Outcome::Clean)
}

pub(super) fn existing(a: &StoreArg) -> Result<Store, Failure> {
    let path: PathBuf = match &a.state {
        Some(p) => p.clone(),
        None => Store::default_path().ok_or_else(|| {
            Failure::Message("error: no default state store: neither XDG_DATA_HOME nor HOME is set; name one with `--state PATH`".into())
        })?,
    };
    Store::open_existing(&path).map_err(fail)
}
