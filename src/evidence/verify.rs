//! `blackout evidence verify`: everything a store's runs sealed, hashed again. Each manifest
//! against its digest and the chain (each names the one before; the first the last pruned);
//! each run's capture records and bodies, its record and the files it read its rules from
//! against the manifest; each finding row against the manifest of the last run that reported
//! it; each timestamp token against its manifest. What does not hold is named, with its run
//! and what to look at.
//!
//! What this cannot show: a last run removed whole (nothing names its manifest yet — a copy
//! of its digest kept elsewhere, a report mailed, a timestamp token, does).

use super::sealed::{Seen, WarcEvidence};
use super::warc::{Record, RecordType};
use crate::fetch::Captured;
use crate::model::Digest;
use crate::store::{Blobs, RunRecord, Store, StoreError, evidence_digest, manifest::Manifest};
use std::collections::HashMap;

/// What was checked in one run, and what did not hold.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunCheck {
    pub run: i64,
    pub manifest: String,
    pub captures: usize,
    pub findings: usize,
    /// What the token says (time, signer, whether its chain was checked), `none` (no TSA was
    /// asked), or why it could not be had or does not hold.
    pub token: String,
    pub problems: Vec<String>,
}

/// The verification of a store.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Verification {
    pub runs: Vec<RunCheck>,
    /// Problems of no one run (the chain's start, runs without a manifest, finding rows).
    pub problems: Vec<String>,
    /// What is worth knowing and is not a problem (runs from before evidence was kept).
    pub notes: Vec<String>,
}

impl Verification {
    pub fn holds(&self) -> bool {
        self.problems.is_empty() && self.runs.iter().all(|r| r.problems.is_empty())
    }
}

/// Checks a token over a manifest digest: what it says when it holds, else why not.
pub type TokenCheck<'a> = &'a dyn Fn(&str, &Digest) -> Result<String, String>;

/// Verifies the store's evidence: every run's, or run `only`'s (with the chain up to it).
pub fn verify_store(store: &mut Store, only: Option<i64>, check_token: TokenCheck) -> Result<Verification, StoreError> {
    let blobs = store.blobs();
    let manifests = store.manifests(None)?;
    let runs = store.run_ids()?;
    let mut out = Verification::default();
    if let Some(n) = only
        && !manifests.iter().any(|m| m.run == n)
    {
        out.problems.push(match runs.contains(&n) {
            true => format!("run {n} has no manifest: it was recorded before evidence was kept, or its manifest was removed"),
            false => format!("there is no run {n} in this store (`blackout state runs` lists them)"),
        });
        return Ok(out);
    }
    // Each manifest hashed and parsed once, for the chain and for its run.
    let read: Vec<(String, Result<Manifest, String>)> = manifests
        .iter()
        .map(|m| (Digest::of(m.text.as_bytes()).to_string(), m.parse().map_err(|e| e.to_string())))
        .collect();
    let links: Vec<Link> = manifests
        .iter()
        .zip(&read)
        .map(|(m, (digest, parsed))| Link {
            run: m.run,
            digest: digest.clone(),
            previous: parsed.as_ref().ok().and_then(|p| p.previous.clone()),
        })
        .collect();
    chain(store, &links, &runs, &mut out)?;
    let findings = store.sealed_findings(None)?;
    let mut parsed: HashMap<i64, Manifest> = HashMap::new();
    for (row, (actual, read)) in manifests.iter().zip(read) {
        if only.is_some_and(|n| n != row.run) {
            continue;
        }
        let mut check = RunCheck {
            run: row.run,
            manifest: row.digest.clone(),
            captures: 0,
            findings: 0,
            token: "none".into(),
            problems: Vec::new(),
        };
        if actual != row.digest {
            check.problems.push(format!(
                "its manifest was altered: the text hashes to {actual}, the store says {}",
                row.digest
            ));
        }
        // The TSA the manifest says its run asked, if any.
        let mut asked = None;
        match read {
            Ok(m) => {
                asked = m.options["tsa"].as_str().map(str::to_string);
                if m.run != row.run {
                    check.problems.push(format!("its manifest is run {}'s", m.run));
                }
                if m.previous != row.previous {
                    check
                        .problems
                        .push("the store's `previous` column differs from the previous manifest its text names: it was edited".into());
                }
                run_contents(store, &blobs, &m, &mut check)?;
                parsed.insert(row.run, m);
            }
            Err(e) => check.problems.push(format!("its manifest does not parse: {e}")),
        }
        check.token = match (&row.token, &row.token_error) {
            (Some(token), _) => match Digest::from_hex(row.digest.trim_start_matches("sha256:")) {
                Some(d) => match check_token(token, &d) {
                    Ok(said) => said,
                    Err(why) => {
                        check.problems.push(format!("its timestamp token does not hold: {why}"));
                        format!("does not hold: {why}")
                    }
                },
                None => "not checked (the stored digest is not one)".into(),
            },
            (None, Some(why)) => format!("not obtained: {why}"),
            (None, None) => match asked {
                Some(tsa) => {
                    check.problems.push(format!(
                        "its manifest says a timestamp was asked of {tsa}, but the store holds neither a token nor why there is none: the token was removed"
                    ));
                    "removed".into()
                }
                None => "none".into(),
            },
        };
        out.runs.push(check);
    }
    // Every finding a manifest lists is in the store (findings are never pruned), and the run
    // the store says first reported it (since it was last resolved) lists it, the one before
    // does not.
    let mut listed: HashMap<&str, std::collections::BTreeSet<i64>> = HashMap::new();
    for (run, m) in &parsed {
        for f in &m.findings {
            listed.entry(f.id.as_str()).or_default().insert(*run);
        }
    }
    for (id, runs) in &listed {
        let Some(f) = findings.iter().find(|f| f.id == *id) else {
            out.problems.push(format!(
                "finding {id}, which the manifest of run {} lists, is not in the store: it was removed",
                runs.iter().next().copied().unwrap_or_default()
            ));
            continue;
        };
        let sealed = |run: i64| parsed.contains_key(&run);
        let first_wrong =
            (sealed(f.first_run) && !runs.contains(&f.first_run)) || (sealed(f.first_run - 1) && runs.contains(&(f.first_run - 1)));
        if first_wrong {
            out.problems.push(format!(
                "finding {id} was edited: the store says run {} first reported it, which the manifests do not (they list it in runs {})",
                f.first_run,
                runs.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    // Each finding as the manifest of the last run that reported it has it.
    for f in &findings {
        if only.is_some_and(|n| n != f.last_run) {
            continue;
        }
        let Some(m) = parsed.get(&f.last_run) else { continue };
        match m.findings.iter().find(|e| e.id == f.id) {
            Some(e) if (e.rule.as_str(), e.source.as_str(), e.url.as_str()) == (f.rule.as_str(), f.source.as_str(), f.url.as_str()) => {}
            Some(e) => out.problems.push(format!(
                "finding {} was edited: the store says rule `{}`, source `{}`, {}; run {}'s manifest says rule `{}`, source `{}`, {}",
                f.id, f.rule, f.source, f.url, f.last_run, e.rule, e.source, e.url
            )),
            // Reported by the run but not sealed with it: dismissed by a review (a suppressed
            // finding is not in the report), or added by hand.
            None => out.notes.push(format!(
                "finding {} (last reported by run {}) is not in that run's manifest: dismissed by a review, or added to the store by hand",
                f.id, f.last_run
            )),
        }
    }
    Ok(out)
}

/// A manifest as the chain sees it: its run, the digest of its text, and the previous one its
/// text names (never the `previous` column, which no digest covers).
struct Link {
    run: i64,
    digest: String,
    previous: Option<String>,
}

/// The chain: each manifest names the digest of the one before (recomputed from its text), the
/// first the last one pruned; every run after the first manifest has one.
fn chain(store: &mut Store, links: &[Link], runs: &[i64], out: &mut Verification) -> Result<(), StoreError> {
    let pruned = store.pruned_through()?;
    let Some(first) = links.first() else {
        if !runs.is_empty() {
            out.notes.push(format!(
                "no run of this store has a manifest ({} runs recorded before evidence was kept)",
                runs.len()
            ));
        }
        return Ok(());
    };
    let before = runs.iter().filter(|r| **r < first.run).count();
    if before > 0 {
        out.notes.push(format!(
            "{before} runs before run {} have no manifest: recorded before evidence was kept",
            first.run
        ));
    }
    let anchor = pruned.as_ref().map(|(_, d)| d.clone());
    if first.previous != anchor {
        out.problems.push(match (&first.previous, &pruned) {
            (Some(named), Some((run, d))) => format!(
                "run {}'s manifest names a previous manifest {named}, but the last pruned (run {run}) was {d}: runs were removed",
                first.run
            ),
            (Some(named), None) => format!(
                "run {}'s manifest names a previous manifest {named} that is not in the store, and no prune took one: runs were removed",
                first.run
            ),
            (None, _) => format!(
                "run {}'s manifest names no previous one, though a prune left the chain's start",
                first.run
            ),
        });
    }
    for pair in links.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        match &b.previous {
            Some(named) if *named == a.digest => {}
            Some(named) => out.problems.push(format!(
                "run {}'s manifest names a previous manifest {named}, but run {}'s hashes to {}: a run was altered or removed in between",
                b.run, a.run, a.digest
            )),
            None => out.problems.push(format!(
                "run {}'s manifest names no previous one, though run {} comes before it",
                b.run, a.run
            )),
        }
    }
    let sealed: std::collections::HashSet<i64> = links.iter().map(|m| m.run).collect();
    for r in runs.iter().filter(|r| **r > first.run && !sealed.contains(r)) {
        out.problems
            .push(format!("run {r} has no manifest, though runs before it have: it was removed"));
    }
    for m in links.iter().filter(|m| !runs.contains(&m.run)) {
        out.problems
            .push(format!("run {}'s manifest is there but the run is not: the run was removed", m.run));
    }
    Ok(())
}

/// One run's captures, record, inputs and findings against its manifest.
fn run_contents(store: &mut Store, blobs: &Blobs, m: &Manifest, check: &mut RunCheck) -> Result<(), StoreError> {
    let rows = store.capture_rows(m.run)?;
    check.captures = rows.len();
    check.findings = m.findings.len();
    // Rows by their number in the run: the manifest lists captures in that order.
    let by_seq: HashMap<i64, &crate::store::CaptureRow> = rows.iter().map(|r| (r.seq, r)).collect();
    for (seq, entry) in (0i64..).zip(&m.captures) {
        if !by_seq.contains_key(&seq) {
            check.problems.push(format!(
                "capture {seq} ({}) is in its manifest but not in the store: it was removed",
                crate::report::inert(&entry.url)
            ));
        }
    }
    for row in rows
        .iter()
        .filter(|r| usize::try_from(r.seq).map_or(true, |s| s >= m.captures.len()))
    {
        check.problems.push(format!(
            "capture {} ({}) is in the store but not in its manifest: it was added",
            row.seq,
            crate::report::inert(&row.url)
        ));
    }
    let mut bodies: HashMap<String, Digest> = HashMap::new();
    for (seq, entry) in (0i64..).zip(&m.captures) {
        let Some(row) = by_seq.get(&seq) else { continue };
        let at = format!("capture {} ({})", row.seq, crate::report::inert(&row.url));
        let record = Digest::of(row.record.as_bytes()).to_string();
        if record != entry.record {
            check.problems.push(format!(
                "{at} was altered: its record hashes to {record}, the manifest says {}",
                entry.record
            ));
        }
        if row.url != entry.url {
            check.problems.push(format!(
                "{at}: the store's address was edited (the manifest says {})",
                crate::report::inert(&entry.url)
            ));
        }
        let body = row.body.as_deref().map(|h| format!("sha256:{h}")).unwrap_or_default();
        if body != entry.body {
            check.problems.push(format!("{at} names body {body}, the manifest {}", entry.body));
        }
        if let Ok(c) = serde_json::from_str::<Captured>(&row.record)
            && let Some(d) = c.body
        {
            bodies.insert(c.url.clone(), d);
            bodies.insert(c.final_url.clone(), d);
        }
        if let Some(d) = entry.body.parse::<Digest>().ok()
            && let Err(e) = blobs.get(&d)
        {
            check.problems.push(format!("{at}: {e}"));
        }
    }
    for input in &m.inputs {
        if let Ok(d) = input.sha256.parse::<Digest>()
            && let Err(e) = blobs.get(&d)
        {
            check
                .problems
                .push(format!("the {} file `{}` it read: {e}", input.role, input.path));
        }
    }
    let record = m.record.parse::<Digest>().map_err(|e| e.to_string()).and_then(|d| {
        let bytes = blobs.get(&d).map_err(|e| e.to_string())?;
        RunRecord::parse(&bytes)
    });
    if let Ok(record) = &record {
        for page in record.items.iter().filter_map(|i| i.page.as_ref()) {
            if let Err(e) = blobs.get(&page.text) {
                check
                    .problems
                    .push(format!("the text judged of {}: {e}", crate::report::inert(&page.url)));
            }
        }
    }
    match record {
        Ok(record) => findings_evidence(m, &record, &bodies, true, check),
        Err(e) => check.problems.push(format!("its record: {e}")),
    }
    Ok(())
}

/// Each finding's evidence digest, recomputed from the run's record (`whole`, or the lines
/// about one item: then only that item's findings) and the bodies its kept captures hold.
pub fn findings_evidence(m: &Manifest, record: &RunRecord, bodies: &HashMap<String, Digest>, whole: bool, check: &mut RunCheck) {
    for f in &m.findings {
        let item = record.items.iter().find(|i| i.source == f.source && i.url == f.url);
        if item.is_none() && !whole {
            continue;
        }
        let judged = item.and_then(|i| {
            i.judged["findings"]
                .as_array()
                .and_then(|fs| fs.iter().find(|j| j["id"].as_str() == Some(f.id.as_str())))
        });
        let (Some(item), Some(judged)) = (item, judged) else {
            check
                .problems
                .push(format!("finding {} is in the manifest but not in the run's record", f.id));
            continue;
        };
        // The bodies the manifest says it rests on; those kept must be the item's.
        let kept: Vec<&Digest> = item.documents.iter().filter_map(|d| bodies.get(d)).collect();
        if let Some(b) = f.bodies.iter().find(|b| !kept.is_empty() && !kept.contains(b)) {
            check.problems.push(format!(
                "finding {} rests on body {b} by its manifest, which no kept capture of its item holds",
                f.id
            ));
        }
        let rests_on = &f.bodies;
        let actual = evidence_digest(judged, rests_on).to_string();
        if actual != f.evidence {
            check.problems.push(format!(
                "finding {}'s evidence hashes to {actual}, its manifest says {}: its record or a capture it rests on changed",
                f.id, f.evidence
            ));
        }
    }
}

/// What WARC files written by `evidence export` hold, checked: each run's pieces against its
/// manifest (done as they were read), every body its captures name, every finding's evidence,
/// the chain between the runs they hold, their tokens, the `warcinfo`'s naming of each
/// manifest, and every request, response, revisit, resource and item record against what the
/// captures and the record say it must be (a record's own digests do not stop someone who
/// rewrites a status line and recomputes them).
pub fn verify_warc(evidence: &WarcEvidence, check_token: TokenCheck) -> Verification {
    let mut v = Verification::default();
    v.problems.extend(evidence.unreadable.iter().cloned());
    v.problems.extend(
        evidence
            .strays
            .iter()
            .map(|s| format!("the file holds {s}, which blackout's exports never write (added after the export?)")),
    );
    v.problems.extend(warcinfo_problems(evidence));
    // Which records of the file a capture or an item of its runs accounts for; the records by
    // their place (kind, address, date), so that each expected one is looked up, not searched
    // for among all.
    let mut accounted = vec![false; evidence.seen.len()];
    let mut places: Places = HashMap::new();
    for (i, s) in evidence.seen.iter().enumerate() {
        places.entry((s.kind, s.target.as_str(), s.date)).or_default().push(i);
    }
    let mut written = std::collections::HashSet::new();
    for (i, run) in evidence.runs.iter().enumerate() {
        let mut check = RunCheck {
            run: run.manifest.run,
            manifest: run.digest.to_string(),
            captures: run.captures.len(),
            findings: run.manifest.findings.len(),
            token: "none".into(),
            problems: Vec::new(),
        };
        if i > 0 {
            let before = &evidence.runs[i - 1];
            if before.manifest.run == run.manifest.run - 1 && run.manifest.previous.as_deref() != Some(&before.digest.to_string()) {
                check.problems.push(format!(
                    "its manifest does not name run {}'s ({}) as the previous one",
                    before.manifest.run, before.digest
                ));
            }
        }
        let mut bodies = HashMap::new();
        for c in &run.captures {
            if let Some(d) = c.body {
                if !evidence.bodies.contains_key(&d) {
                    check.problems.push(format!(
                        "its capture of {} names the body {d}, which no record of the file holds",
                        crate::report::inert(&c.url)
                    ));
                }
                bodies.insert(c.url.clone(), d);
                bodies.insert(c.final_url.clone(), d);
            }
            match super::export::capture_records(c, evidence, &mut written) {
                Ok(expected) => {
                    for r in expected.iter().filter(|r| r.kind != RecordType::Metadata) {
                        seen_as_written(evidence, &places, r, Seen::of(r), &mut accounted, &mut check);
                    }
                }
                Err(why) => check
                    .problems
                    .push(format!("its capture of {}: {why}", crate::report::inert(&c.url))),
            }
        }
        let at = run.evaluated_at();
        for item in &run.record.items {
            let expected = super::export::item_record(run.manifest.run, at, item, evidence, None);
            match Seen::of_item(&expected) {
                Ok(want) => seen_as_written(evidence, &places, &expected, want, &mut accounted, &mut check),
                Err(why) => check.problems.push(format!("its item {}: {why}", crate::report::inert(&item.url))),
            }
        }
        findings_evidence(&run.manifest, &run.record, &bodies, run.whole_record, &mut check);
        if !run.whole_record {
            v.notes.push(format!(
                "run {}: the file holds the lines of its record about one item (an export of one finding's): that item's findings were checked",
                run.manifest.run
            ));
        }
        if let Some(token) = &run.token {
            check.token = match check_token(token, &run.digest) {
                Ok(said) => said,
                Err(why) => {
                    check.problems.push(format!("its timestamp token does not hold: {why}"));
                    format!("does not hold: {why}")
                }
            };
        }
        if run.left_out > 0 {
            v.notes.push(format!(
                "run {}: {} of its {} captures are in the file (an export of one finding's); those present hold",
                run.manifest.run,
                run.captures.len(),
                run.captures.len() + run.left_out
            ));
        }
        v.runs.push(check);
    }
    // A 304's body travels with the file that holds the revisit when no earlier record of that
    // file holds it: files verified together may each carry it, whichever came first here.
    let confirmed: std::collections::HashSet<(&str, Digest)> = evidence
        .runs
        .iter()
        .flat_map(|r| &r.captures)
        .filter(|c| c.revisit)
        .filter_map(|c| c.body.map(|d| (c.final_url.as_str(), d)))
        .collect();
    for (seen, a) in evidence.seen.iter().zip(accounted.iter_mut()) {
        let kind = seen.fields.iter().find(|(n, _)| n == "warc-blackout-kind").map(|(_, v)| v.as_str());
        if seen.kind == RecordType::Resource
            && kind == Some(super::sealed::kind::CONFIRMED_BODY)
            && confirmed.contains(&(seen.target.as_str(), seen.block))
        {
            *a = true;
        }
    }
    for (seen, _) in evidence.seen.iter().zip(&accounted).filter(|(_, a)| !**a) {
        v.problems.push(format!(
            "the file holds a {} record of {} at {} that no capture or item of its runs accounts for (added after the export?)",
            seen.kind.name(),
            crate::report::inert(&seen.target),
            seen.date.to_rfc3339()
        ));
    }
    v.notes.push(
        "every record's digests were recomputed, and every record checked against the manifest of its run: captures, bodies, requests and responses, items, findings, the warcinfo; no record is left that none of them accounts for".into(),
    );
    v
}

/// What the `warcinfo` records say of each run against what its manifest says (an edited
/// rule-file line or option would otherwise go unseen: readers take them from there).
fn warcinfo_problems(evidence: &WarcEvidence) -> Vec<String> {
    use std::collections::BTreeSet;
    let mut problems = Vec::new();
    for run in &evidence.runs {
        let n = run.manifest.run;
        let said: BTreeSet<(&str, &str)> = evidence
            .named
            .iter()
            .filter(|(m, _, _)| *m == n)
            .map(|(_, f, v)| (f.as_str(), v.as_str()))
            .collect();
        let fields: Vec<(String, String)> = super::export::run_fields(run)
            .into_iter()
            .map(|(f, v)| (f, super::warc::field_value(&v).trim().to_string()))
            .collect();
        let want: BTreeSet<(&str, &str)> = fields.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect();
        for (f, v) in said.difference(&want) {
            problems.push(format!(
                "the warcinfo says run {n}'s {} is `{}`, which its manifest does not",
                crate::report::inert(f),
                crate::report::inert(v)
            ));
        }
        for (f, _) in want.difference(&said) {
            problems.push(format!("the warcinfo does not say run {n}'s {f} as its manifest does"));
        }
    }
    let strangers: BTreeSet<i64> = evidence
        .named
        .iter()
        .map(|(n, _, _)| *n)
        .filter(|n| !evidence.runs.iter().any(|r| r.manifest.run == *n))
        .collect();
    for n in strangers {
        problems.push(format!("the warcinfo names run {n}, which the files do not hold"));
    }
    problems
}

/// The file's records by their place: kind, address and date.
type Places<'a> = HashMap<(RecordType, &'a str, chrono::DateTime<chrono::Utc>), Vec<usize>>;

/// Whether the file holds `expected` as written: a record of its type, address and date, with
/// the same block and fields; every record that does is accounted for.
fn seen_as_written(evidence: &WarcEvidence, places: &Places, expected: &Record, want: Seen, accounted: &mut [bool], check: &mut RunCheck) {
    let at = places
        .get(&(want.kind, want.target.as_str(), want.date))
        .map_or(&[][..], Vec::as_slice);
    let mut found = false;
    for &i in at {
        let s = &evidence.seen[i];
        if s.block == want.block && s.fields == want.fields {
            accounted[i] = true;
            found = true;
        }
    }
    if found {
        return;
    }
    let what = match !at.is_empty() {
        true => "was altered: its block or its fields are not what its capture says",
        false => "is missing, or its address or date was altered",
    };
    check.problems.push(format!(
        "the {} record of {} at {} {what}",
        expected.kind.name(),
        crate::report::inert(&want.target),
        want.date.to_rfc3339()
    ));
}
