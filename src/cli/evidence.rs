//! `blackout evidence …` and `blackout replay`: reading sealed runs back.

use super::args::{BundleArgs, EvidenceCommand, ExportArgs, FailOn, ReplayArgs, VerifyArgs};
use super::state::existing;
use super::{Failure, fail};
use crate::evidence::export::{Part, export};
use crate::evidence::replay::{With, replay};
use crate::evidence::sealed::{SealedError, SealedRun, WarcEvidence};
use crate::evidence::verify::{Verification, verify_store};
use crate::model::Digest;
use crate::report::{self, Outcome};
use std::io::Write;
use std::path::PathBuf;

pub fn command(c: EvidenceCommand, out: &mut dyn Write) -> Result<Outcome, Failure> {
    match c {
        EvidenceCommand::Verify(a) => verify(&a, out),
        EvidenceCommand::Export(a) => export_runs(&a, out),
        EvidenceCommand::Bundle(a) => bundle(&a, out),
    }
}

/// The finding of this id, and the runs that first and last reported it.
fn finding_runs(store: &mut crate::store::Store, id: &str) -> Result<(crate::store::SealedFinding, Vec<SealedRun>), Failure> {
    let f = store
        .sealed_findings(Some(id))
        .map_err(fail)?
        .pop()
        .ok_or_else(|| fail(format!("no finding `{id}` in this store (`blackout state findings` lists them)")))?;
    let mut runs = Vec::new();
    for n in [f.first_run, f.last_run] {
        match SealedRun::from_store(store, n) {
            Ok(r) if !runs.iter().any(|x: &SealedRun| x.manifest.run == n) => runs.push(r),
            Ok(_) => {}
            // The first run pruned (`state prune` keeps findings, not their first runs): the
            // last run that reported it stands alone.
            Err(SealedError::NoManifest { .. }) if n == f.first_run && f.last_run != n => {
                eprintln!(
                    "note: run {n}, which first reported finding {id}, is no longer in the store; its evidence comes from run {}",
                    f.last_run
                );
            }
            Err(e) => return Err(fail(e)),
        }
    }
    Ok((f, runs))
}

fn bundle(a: &BundleArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let mut store = existing(&a.store)?;
    let (f, runs) = finding_runs(&mut store, &a.finding)?;
    let bundle = crate::evidence::bundle::Bundle::make(&f, &runs, &store.blobs()).map_err(fail)?;
    bundle.write(&a.output).map_err(fail)?;
    writeln!(out, "wrote {}: {}", a.output.display(), bundle.names().join(", "))?;
    writeln!(
        out,
        "its README.txt says how to check each piece; it holds the passages whole: handle it as the leak"
    )?;
    Ok(Outcome::Clean)
}

/// The TSA CA certificates `--tsa-ca` names (none: chains are not checked).
fn trusted(a: &VerifyArgs) -> Result<Vec<Vec<u8>>, Failure> {
    let Some(path) = &a.tsa_ca else { return Ok(Vec::new()) };
    let pem = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read `{}`: {e}", path.display())))?;
    let certs = crate::evidence::tsa::pem_certificates(&pem);
    match certs.is_empty() {
        true => Err(fail(format!(
            "`{}` holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ))),
        false => Ok(certs),
    }
}

/// How a timestamp token is checked, and what the verification says of it.
fn token_check(trusted: &[Vec<u8>]) -> impl Fn(&str, &Digest) -> Result<String, String> + '_ {
    move |token, digest| {
        let stamp = crate::evidence::tsa::check(token, digest, trusted)?;
        Ok(format!(
            "{} by {} ({})",
            stamp.time,
            stamp.signer,
            match stamp.chain {
                true => "chain checked",
                false => "chain not checked: name the TSA's CA with --tsa-ca",
            }
        ))
    }
}

fn verify(a: &VerifyArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let trusted = trusted(a)?;
    let check = token_check(&trusted);
    let v = match a.warc.is_empty() {
        true => {
            let mut store = existing(&a.store)?;
            // A run that is not there is a question asked wrong, not a finding of tampering.
            if let Some(n) = a.run
                && !store.run_ids().map_err(fail)?.contains(&n)
            {
                return Err(fail(format!(
                    "there is no run {n} in this store (`blackout state runs` lists them)"
                )));
            }
            verify_store(&mut store, a.run, &check).map_err(fail)?
        }
        false => verify_warc(&a.warc, &check)?,
    };
    if a.json {
        serde_json::to_writer_pretty(&mut *out, &v).map_err(|e| fail(format!("cannot write JSON: {e}")))?;
        writeln!(out)?;
    } else {
        write_verification(&v, out)?;
    }
    Ok(match v.holds() {
        true => Outcome::Clean,
        false => Outcome::Findings,
    })
}

/// A WARC file's runs: every record's digests, every run's pieces against its manifest (both
/// by reading it), the chain between the runs it holds, their tokens. An altered record is a
/// finding of the verification, not an error.
fn verify_warc(files: &[PathBuf], token_check: &dyn Fn(&str, &Digest) -> Result<String, String>) -> Result<Verification, Failure> {
    match WarcEvidence::read(files) {
        Ok(evidence) => Ok(crate::evidence::verify::verify_warc(&evidence, token_check)),
        Err(e @ (SealedError::Io { .. } | SealedError::NotBlackout { .. })) => Err(fail(e)),
        // Not one record could be read: not a WARC file of blackout's (a zip, a text), which is
        // a question asked wrong, not tampering.
        Err(SealedError::Warc {
            path,
            error: crate::evidence::warc::WarcError::Gzip { offset: 0, .. } | crate::evidence::warc::WarcError::Syntax { offset: 0, .. },
        }) => Err(fail(format!(
            "`{}` is not a WARC file written by `blackout evidence export` (one gzip member per record){}",
            path.display(),
            match path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
                true => ": a bundle is a zip; unzip it and verify its evidence.warc.gz",
                false => "",
            }
        ))),
        Err(e) => Ok(Verification {
            problems: vec![e.to_string()],
            ..Verification::default()
        }),
    }
}

fn plural(n: usize, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

fn write_verification(v: &Verification, out: &mut dyn Write) -> std::io::Result<()> {
    for r in &v.runs {
        let verdict = match r.problems.is_empty() {
            true => "holds",
            false => "DOES NOT HOLD",
        };
        writeln!(
            out,
            "run {}: {verdict} — manifest {}, {} captures, {} findings, timestamp {}",
            r.run,
            r.manifest,
            r.captures,
            r.findings,
            report::inert(&r.token)
        )?;
        for p in &r.problems {
            writeln!(out, "  {}", report::inert(p))?;
        }
    }
    for p in &v.problems {
        writeln!(out, "problem: {}", report::inert(p))?;
    }
    for n in &v.notes {
        writeln!(out, "note: {}", report::inert(n))?;
    }
    let bad = v.problems.len() + v.runs.iter().map(|r| r.problems.len()).sum::<usize>();
    match bad {
        0 => writeln!(out, "evidence verify: {} checked, all hold", plural(v.runs.len(), "run")),
        n => writeln!(
            out,
            "evidence verify: {} checked, {} not hold",
            plural(v.runs.len(), "run"),
            match n {
                1 => "1 thing does".to_string(),
                n => format!("{n} things do"),
            }
        ),
    }
}

fn export_runs(a: &ExportArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let mut store = existing(&a.store)?;
    let mut finding = None;
    let mut sealed = Vec::new();
    let runs: Vec<i64> = match (a.run, &a.finding, a.since) {
        (Some(n), _, _) => vec![n],
        (_, Some(id), _) => {
            let (f, runs) = finding_runs(&mut store, id)?;
            finding = Some(f);
            sealed = runs;
            Vec::new()
        }
        (_, _, Some(since)) => store.runs_since(since).map_err(fail)?,
        _ => unreachable!("clap requires one of --run, --finding, --since"),
    };
    for n in runs {
        match SealedRun::from_store(&mut store, n) {
            Ok(r) => sealed.push(r),
            // `--since` spans runs from before evidence was kept: they are left out, said so.
            Err(SealedError::NoManifest { run }) if a.since.is_some() => {
                eprintln!("note: run {run} has no manifest (recorded before evidence was kept); left out");
            }
            Err(e) => return Err(fail(e)),
        }
    }
    if sealed.is_empty() {
        return Err(fail("nothing to export: no sealed run matches"));
    }
    let part = match &finding {
        Some(f) => Part::Item {
            source: &f.source,
            url: &f.url,
        },
        None => Part::All,
    };
    // Evidence is not overwritten: an export that exists stays as it is.
    if a.output.exists() {
        return Err(fail(format!("`{}` exists: name a new file", a.output.display())));
    }
    let blobs = store.blobs();
    let written = crate::files::write_with(&a.output, true, |file| {
        export(&sealed, &part, &blobs, std::io::BufWriter::new(file))
            .map_err(std::io::Error::other)
            .and_then(|(w, done)| w.into_inner().map_err(|e| e.into_error()).map(|_| done))
    })
    .map_err(|e| fail(format!("cannot export to `{}`: {e}", a.output.display())))?;
    writeln!(
        out,
        "wrote {}: {}, {}, {} judged, {}\ncheck it with `blackout evidence verify {0}` or `warcio check {0}`",
        a.output.display(),
        plural(written.runs, "run"),
        plural(written.captures, "capture"),
        plural(written.items, "item"),
        plural(written.records, "WARC record")
    )?;
    Ok(Outcome::Clean)
}

pub fn replay_run(a: ReplayArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    let (warcs, rules): (Vec<PathBuf>, Vec<PathBuf>) = a.files.iter().cloned().partition(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        name.ends_with(".warc.gz")
    });
    let with = With { rules, at: a.at };
    // The run's own threshold, unless told another.
    let run_fail_on = |sealed: &SealedRun| {
        sealed.manifest.options["fail_on"]
            .as_str()
            .and_then(|s| <FailOn as clap::ValueEnum>::from_str(s, true).ok())
    };
    let (replayed, theirs) = match warcs.is_empty() {
        true => {
            let run = a.run.ok_or_else(|| {
                fail("name the run to replay: `--run N` (from the state store), or WARC files written by `evidence export`")
            })?;
            let mut store = existing(&a.store)?;
            let sealed = SealedRun::from_store(&mut store, run).map_err(fail)?;
            (replay(&sealed, &store.blobs(), &with).map_err(fail)?, run_fail_on(&sealed))
        }
        false => {
            let evidence = WarcEvidence::read(&warcs).map_err(fail)?;
            let sealed = evidence.run(a.run).map_err(fail)?;
            (replay(sealed, &evidence, &with).map_err(fail)?, run_fail_on(sealed))
        }
    };
    let mut report = replayed.report;
    if !a.show_excerpts {
        replayed.redaction.apply(&mut report);
    }
    if report.nothing_checked() {
        // As a check: a replay that could read nothing is no clean result (rules naming other
        // sources than the run read, or a run that kept no capture).
        return Err(fail(
            "nothing was checked: no source of these rules could be read from the run's captures (do the rule files name the run's sources? was it recorded with --keep-captures none?)",
        ));
    }
    let fail_on = a.fail_on.or(theirs).unwrap_or(FailOn::Violation).into();
    a.format.renderer(false, fail_on).render(&report, out)?;
    Ok(report.outcome(fail_on))
}
