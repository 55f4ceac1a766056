//! Recording a run: its row, each source's health, the items seen and their versions, and the
//! findings with their state across runs — all in one transaction, so that a run killed before
//! it commits leaves the store as it was, and one that commits has reported exactly its
//! findings. The report is told what the store knows as the rows are written: each finding new
//! or open since an earlier run, the findings resolved since, those a reviewer dismissed, and
//! for a source not checked how long it has not been.

use super::db::{BATCH, DbError, Exec, Row, Tx, Value, tuples, vals};
use super::{ReviewVerdict, Store, StoreError, instant, parse_instant};
use crate::judge::Finding;
use crate::model::{FindingKey, FindingState, Resolution, Severity, Tracking};
use crate::report::{Outcome, Report, Resolved, RunRef, SourceStatus, StateRun, Suppressed};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// What a run was, beyond its report: when it started, its rule files with their digests, and
/// the options that shape its verdicts.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub started_at: DateTime<Utc>,
    /// `(path as given, SHA-256 of its bytes)`.
    pub rule_files: Vec<(String, String)>,
    pub options: serde_json::Value,
    /// The severity that fails the run, for the outcome recorded.
    pub fail_on: Severity,
    /// The ids of the rules the run evaluated: only their findings can it resolve (another
    /// election's rule files may share an outlet and a store).
    pub rules: Vec<String>,
    /// The files the run read its rules from (rule files, fingerprint indexes), as read:
    /// kept with its evidence.
    pub inputs: Vec<RunInput>,
}

/// A file a run read its rules from.
#[derive(Debug, Clone)]
pub struct RunInput {
    /// `rules` or `fingerprints`.
    pub role: &'static str,
    /// Absolute.
    pub path: std::path::PathBuf,
    pub bytes: Vec<u8>,
}

impl Store {
    /// Records a run and annotates its report with the findings' state, and the documents it
    /// fetched whole (`kept`); one transaction. In PostgreSQL, a transaction that lost a
    /// deadlock to another machine's commit is tried again (twice at most).
    ///
    /// `present` is given the annotated report before the transaction commits, makes it what
    /// is told and delivers it (prints, writes, mails): when it fails, the transaction is rolled back, so that a
    /// run whose report reached no one does not count its findings as told — the next run
    /// reports them as new again rather than as open (`--new-only` would never tell them).
    pub fn commit(
        &mut self,
        report: &mut Report,
        meta: &RunMeta,
        kept: Option<&super::Kept>,
        recorded: Option<&super::Recorded>,
        present: &mut dyn FnMut(&mut Report) -> Result<(), String>,
    ) -> Result<i64, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly { path: self.path.clone() });
        }
        let started = std::time::Instant::now();
        let db = super::db_error(&self.path);
        let mut attempts = 0;
        let (run, replaced, items, findings) = loop {
            attempts += 1;
            let mut annotated = report.clone();
            let mut tx = self.conn.transaction().map_err(&db)?;
            let written = chain_lock(&mut tx, self.commit_wait)
                .and_then(|()| record(&mut tx, &mut annotated, meta))
                .and_then(|run| {
                    let replaced = match kept {
                        Some(kept) => kept.record(&mut tx, run)?,
                        None => Vec::new(),
                    };
                    let sealed = match recorded {
                        Some(recorded) => Some(recorded.seal(
                            &mut tx,
                            &super::recorded::Header {
                                run,
                                evaluated_at: report.evaluated_at,
                                inputs: &meta.inputs,
                                options: &meta.options,
                                findings: &report.findings,
                            },
                        )?),
                        None => None,
                    };
                    Ok((run, replaced, sealed))
                });
            match written {
                Ok((run, replaced, sealed)) => {
                    let mut state = state_run(&self.path, run, &annotated);
                    if let Some(sealed) = sealed {
                        state.manifest = Some(sealed.digest.to_string());
                        state.timestamp = sealed.timestamp;
                    }
                    annotated.state = Some(state);
                    let counted = (annotated.items.len(), annotated.findings.len());
                    *report = annotated;
                    if let Err(why) = present(report) {
                        drop(tx);
                        return Err(StoreError::Undelivered {
                            path: self.path.clone(),
                            why,
                        });
                    }
                    tx.commit().map_err(&db)?;
                    break (run, replaced, counted.0, counted.1);
                }
                Err(e) if e.is_transient() && attempts < 3 => tracing::info!("state: {e}; trying the transaction again"),
                Err(e) if e.is_lock_timeout() => {
                    return Err(StoreError::Locked {
                        path: self.path.clone(),
                        holder: None,
                        waited: self.commit_wait.as_secs(),
                    });
                }
                Err(e) => return Err(db(e)),
            }
        };
        // Bodies no document names any longer go once nothing can roll the names back.
        for file in replaced {
            let _ = std::fs::remove_file(file);
        }
        tracing::info!(run, items, findings, seconds = started.elapsed().as_secs_f64(), "state recorded");
        Ok(run)
    }
}

/// Machines sharing a PostgreSQL store commit one at a time, from their first statement: the
/// order of the runs' numbers is then the order of the manifests' chain (a lock taken later, at
/// the seal, let a run numbered later seal first, and the chain fork). SQLite's transaction
/// holds the write lock from its first write, the run's row, which gives the same order.
///
/// A commit holds its turn while its report is delivered (see [`Store::commit`]), which a
/// reader that does not read, or a mail server that does not answer, can make long: the turn
/// is waited for `wait` at most (the run's `--lock-timeout`), and so is every other lock the
/// transaction asks for, never for ever.
fn chain_lock(tx: &mut Tx, wait: std::time::Duration) -> Result<(), DbError> {
    if matches!(tx, Tx::Postgres { .. }) {
        // PostgreSQL takes at most 2^31 - 1 ms (24 days): a longer wait is that.
        let wait = format!("{}ms", wait.as_millis().clamp(1, i32::MAX as u128));
        tx.execute("SELECT set_config('lock_timeout', ?1, true)", vals![wait])?;
        tx.execute("SELECT pg_advisory_xact_lock(7453600013)", &[])?;
    }
    Ok(())
}

/// How the run stands in the store: its number, and its findings new, open, resolved and
/// dismissed.
fn state_run(path: &std::path::Path, run: i64, report: &Report) -> StateRun {
    let new = report
        .findings
        .iter()
        .filter(|f| f.tracking.as_ref().is_some_and(|t| t.state == FindingState::New))
        .count();
    StateRun {
        store: path.display().to_string(),
        run,
        new,
        open: report.findings.len() - new,
        resolved: report.resolved.len(),
        dismissed: report.suppressed.len(),
        new_only: false,
        manifest: None,
        timestamp: None,
    }
}

fn record(tx: &mut Tx, report: &mut Report, meta: &RunMeta) -> Result<i64, DbError> {
    let at = report.evaluated_at;
    let rule_files: Vec<serde_json::Value> = meta
        .rule_files
        .iter()
        .map(|(path, sha256)| serde_json::json!({ "path": path, "sha256": sha256 }))
        .collect();
    let run = tx
        .query_one(
            "INSERT INTO runs (started_at, evaluated_at, election, rule_files, options, tool) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             RETURNING id",
            vals![
                instant(meta.started_at),
                instant(at),
                &report.election,
                serde_json::Value::from(rule_files).to_string(),
                meta.options.to_string(),
                crate::identity::CAPTURES
            ],
        )?
        .int(0)?;
    health(tx, report, run)?;
    problems(tx, report, run)?;
    items(tx, report, run, at)?;
    listings(tx, report, run, at)?;
    findings(tx, report, meta, run, at)?;
    let outcome = match (report.nothing_checked(), report.outcome(meta.fail_on)) {
        (true, _) => "nothing_checked",
        (false, Outcome::Clean) => "clean",
        (false, Outcome::Findings) => "findings",
        (false, Outcome::Incomplete) => "incomplete",
    };
    tx.execute(
        "UPDATE runs SET finished_at = ?1, outcome = ?2 WHERE id = ?3",
        vals![instant(Utc::now()), outcome, run],
    )?;
    Ok(run)
}

/// Each source's health this run; for one not checked whole, since when it has not been and
/// when it last was.
fn health(tx: &mut Tx, report: &mut Report, run: i64) -> Result<(), DbError> {
    let mut stages: HashMap<&str, std::collections::BTreeMap<String, usize>> = HashMap::new();
    for p in &report.problems {
        *stages
            .entry(p.source.as_str())
            .or_default()
            .entry(crate::model::wire_name(&p.stage))
            .or_default() += 1;
    }
    let stages: HashMap<String, String> = stages
        .into_iter()
        .map(|(source, by)| (source.to_string(), serde_json::json!(by).to_string()))
        .collect();
    for s in &mut report.sources {
        let status = crate::model::wire_name(&s.status);
        tx.execute(
            "INSERT INTO source_health (run, source, status, reason, documents, cached, failed, items, stages)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            vals![
                run,
                &s.id,
                status,
                &s.status_reason,
                s.documents as i64,
                s.cached as i64,
                s.failed as i64,
                s.items as i64,
                stages.get(&s.id).cloned()
            ],
        )?;
        if s.status == SourceStatus::Checked {
            continue;
        }
        let mut run_at = |sql: &str, arg: i64| -> Result<Option<RunRef>, DbError> {
            Ok(match tx.query_opt(sql, vals![&s.id, arg])? {
                Some(r) => {
                    let run = r.int(0)?;
                    parse_instant(&r.text(1)?).map(|at| RunRef { run, at })
                }
                None => None,
            })
        };
        let last_checked = run_at(
            "SELECT h.run, r.evaluated_at FROM source_health h JOIN runs r ON r.id = h.run
             WHERE h.source = ?1 AND h.status = 'checked' AND h.run < ?2 ORDER BY h.run DESC LIMIT 1",
            run,
        )?;
        let after = last_checked.as_ref().map_or(0, |r| r.run);
        s.failing_since = run_at(
            "SELECT h.run, r.evaluated_at FROM source_health h JOIN runs r ON r.id = h.run
             WHERE h.source = ?1 AND h.run > ?2 ORDER BY h.run LIMIT 1",
            after,
        )?;
        s.last_checked = last_checked;
    }
    Ok(())
}

/// Each problem's series of runs: continued when the source's previous run met it too, else
/// begun with this one.
fn problems(tx: &mut Tx, report: &mut Report, run: i64) -> Result<(), DbError> {
    let mut previous_runs: HashMap<String, Option<i64>> = HashMap::new();
    for p in &mut report.problems {
        let before = match previous_runs.get(&p.source) {
            Some(r) => *r,
            None => {
                let r = tx
                    .query_one(
                        "SELECT MAX(run) FROM source_health WHERE source = ?1 AND run < ?2",
                        vals![&p.source, run],
                    )?
                    .opt_int(0)?;
                previous_runs.insert(p.source.clone(), r);
                r
            }
        };
        let code = p.code.to_string();
        let series = tx
            .query_opt(
                "SELECT first_run, last_run FROM problems WHERE source = ?1 AND url = ?2 AND code = ?3",
                vals![&p.source, &p.url, &code],
            )?
            .map(|r| Ok::<_, DbError>((r.int(0)?, r.int(1)?)))
            .transpose()?;
        let since = match series {
            Some((first, last)) if before == Some(last) || last == run => first,
            _ => run,
        };
        tx.execute(
            "INSERT INTO problems (source, url, code, first_run, last_run) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (source, url, code) DO UPDATE SET first_run = excluded.first_run, last_run = excluded.last_run",
            vals![&p.source, &p.url, &code, since, run],
        )?;
        p.since_run = Some(since);
    }
    Ok(())
}

/// The items seen this run (first and last seen, the publisher's dates, the capture of their
/// content) and their versions; each item of the report learns when it was first seen (now,
/// if never before). A capture with the page replaces any other; one from the feed alone only
/// another from the feed alone, so a night the page could not be read does not pass for a
/// change on the next.
fn items(tx: &mut Tx, report: &mut Report, run: i64, at: DateTime<Utc>) -> Result<(), DbError> {
    // Rows go by the hundred, one statement each: for PostgreSQL every statement is a round
    // trip to the server, and one per item made a 20,000-item run's writes take 13 s.
    for chunk in report.items.chunks_mut(BATCH) {
        // ?1 and ?2 are the run and its instant; then 12 values per item.
        let mut params = vec![Value::from(run), Value::from(instant(at))];
        for item in chunk.iter() {
            // The publisher's date of each role, of the highest precedence, as written.
            let written = |role: crate::article::Role| {
                item.dates
                    .iter()
                    .filter(|d| d.provenance.role() == role && d.instant.is_some())
                    .min_by_key(|d| d.provenance.rank())
                    .map(|d| d.raw.clone())
            };
            params.extend([
                Value::from(&item.source),
                Value::from(&item.url),
                Value::from(&item.guid),
                Value::from(&item.title),
                Value::from(written(crate::article::Role::Published)),
                Value::from(written(crate::article::Role::Modified)),
                Value::from(item.absent_at.map(instant)),
                Value::from(item.entries.join(",")),
                Value::from(&item.version),
                Value::from(item.read_page()),
                Value::from(item.changed.map(|c| instant(c.after))),
                Value::from(item.changed.map(|c| instant(c.by))),
            ]);
        }
        let rows = tuples(chunk.len(), 3, 12, |n| {
            format!(
                "(?{}, ?{}, ?{}, ?{}, ?1, ?2, ?1, ?2, ?{}, ?{}, ?{}, ?{}, ?{}, ?2, ?1, ?{}, ?{}, ?{})",
                n,
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7,
                n + 8,
                n + 9,
                n + 10,
                n + 11
            )
        });
        // A capture with the page replaces any other; one from the feed alone only another
        // from the feed alone (the condition of each `CASE`). The entries read go with it: an
        // entry is "read unchanged with its page" only if the page was read with it.
        let sql = format!(
            "INSERT INTO items (source, url, guid, title, first_run, first_seen, last_run, last_seen, published, modified, absent_at,
                                entries, capture, capture_at, capture_run, capture_page, changed_after, changed_by)
             VALUES {rows}
             ON CONFLICT (source, url) DO UPDATE SET guid = excluded.guid, title = excluded.title, last_run = excluded.last_run,
                 last_seen = excluded.last_seen, published = excluded.published, modified = excluded.modified,
                 entries = {replace} excluded.entries ELSE items.entries END,
                 capture = {replace} excluded.capture ELSE items.capture END,
                 capture_at = {replace} excluded.capture_at ELSE items.capture_at END,
                 capture_run = {replace} excluded.capture_run ELSE items.capture_run END,
                 capture_page = {replace} excluded.capture_page ELSE items.capture_page END,
                 changed_after = {replace} excluded.changed_after ELSE items.changed_after END,
                 changed_by = {replace} excluded.changed_by ELSE items.changed_by END
             RETURNING id, first_seen, source, url",
            replace = "CASE WHEN items.capture_page IS NULL OR items.capture_page <= excluded.capture_page THEN"
        );
        let mut ids: HashMap<(String, String), (i64, String)> = HashMap::with_capacity(chunk.len());
        for r in tx.query(&sql, &params)? {
            ids.insert((r.text(2)?, r.text(3)?), (r.int(0)?, r.text(1)?));
        }
        let mut params = vec![Value::from(run), Value::from(instant(at))];
        for item in chunk.iter_mut() {
            let (id, first_seen) = ids.remove(&(item.source.clone(), item.url.clone())).ok_or(DbError::NoRow)?;
            item.first_seen = parse_instant(&first_seen);
            params.extend([Value::from(id), Value::from(&item.version)]);
        }
        let rows = tuples(chunk.len(), 3, 2, |n| format!("(?{n}, ?{}, ?1, ?2)", n + 1));
        tx.execute(
            &format!("INSERT INTO versions (item, digest, first_run, first_seen) VALUES {rows} ON CONFLICT (item, digest) DO NOTHING"),
            &params,
        )?;
    }
    Ok(())
}

/// The feeds and sitemaps read whole this run: the reads an item first listed later was
/// absent from.
fn listings(tx: &mut Tx, report: &Report, run: i64, at: DateTime<Utc>) -> Result<(), DbError> {
    for l in &report.listings_read {
        tx.execute(
            "INSERT INTO listings (source, url, last_run, last_read) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (source, url) DO UPDATE SET last_run = excluded.last_run, last_read = excluded.last_read",
            vals![&l.source, &l.url, run, instant(at)],
        )?;
    }
    Ok(())
}

/// The findings' state: new (not reported before, or resolved and back), open (reported before
/// and still there), resolved (reported before, gone now — only where the source was checked
/// whole, since an unread source proves nothing gone), suppressed (found again in the version a
/// reviewer judged a false positive).
fn findings(tx: &mut Tx, report: &mut Report, meta: &RunMeta, run: i64, at: DateTime<Utc>) -> Result<(), DbError> {
    let mut kept = Vec::with_capacity(report.findings.len());
    let mut found: HashSet<String> = HashSet::new();
    // Items whose page should have been read and was not (it failed, this once).
    let failed: HashSet<(String, String)> = report
        .items
        .iter()
        .filter(|i| !i.read_page() && i.feed_only.is_none())
        .map(|i| (i.source.clone(), i.url.clone()))
        .collect();
    for mut f in std::mem::take(&mut report.findings) {
        found.insert(f.id.clone());
        let seen = !failed.contains(&(f.source.clone(), f.url.clone()));
        let before = tx
            .query_opt("SELECT version FROM findings WHERE id = ?1", vals![&f.id])?
            .map(|r| r.text(0))
            .transpose()?;
        let (mut state, first_run, first_reported) = upsert(tx, &f, seen, run, at)?;
        match review(tx, &f)? {
            // Dismissed in this very content; or the page, which the review saw, could not be
            // read this time (the feed's text is no sign of a change).
            Some((ReviewVerdict::FalsePositive, version, s)) if version == f.version || !seen => {
                report.suppressed.push(s);
                continue;
            }
            // Dismissed in the content it had until now, and that content changed: the
            // finding is told again as new (with `--new-only` too), once.
            Some((ReviewVerdict::FalsePositive, version, _)) if before.as_ref() == Some(&version) => {
                state = FindingState::New;
            }
            _ => {}
        }
        f.tracking = Some(Tracking {
            state,
            first_run,
            first_reported,
        });
        kept.push(f);
    }
    report.findings = kept;
    let checked: Vec<String> = report
        .sources
        .iter()
        .filter(|s| s.status == SourceStatus::Checked)
        .map(|s| s.id.clone())
        .collect();
    let read: HashSet<(&str, &str)> = report.items.iter().map(|i| (i.source.as_str(), i.url.as_str())).collect();
    // Items whose page should have been read and was not (it failed, this once): what their
    // findings rest on was not seen, so they stay as they are.
    // So are pages read that could not all be seen (a consent wall, an empty page), and items
    // whose judging failed.
    let unseen: HashSet<(&str, &str)> = report
        .items
        .iter()
        .filter(|i| !i.read_page() && i.feed_only.is_none())
        .map(|i| (i.source.as_str(), i.url.as_str()))
        .chain(report.not_checked.iter().map(|n| (n.source.as_str(), n.url.as_str())))
        .chain(
            report
                .problems
                .iter()
                .filter(|p| p.code == crate::problem::Code::JudgingCrashed)
                .map(|p| (p.source.as_str(), p.url.as_str())),
        )
        .collect();
    let rules: HashSet<&str> = meta.rules.iter().map(String::as_str).collect();
    // Only a source whose feed or sitemap was read whole can have stopped listing an item (a
    // run over one saved page, `--input page.html --as SOURCE`, proves nothing gone).
    let listed: HashSet<&str> = report.listings_read.iter().map(|l| l.source.as_str()).collect();
    let mut resolved = Vec::new();
    for source in checked {
        let rows = tx.query(
            "SELECT id, rule, source, url, materials, first_run, first_reported, last_run, last_reported
             FROM findings WHERE source = ?1 AND status IN ('new', 'open')",
            vals![&source],
        )?;
        for r in rows {
            let gone = resolution(&r, &read)?;
            let key = (gone.key.source.as_str(), gone.key.url.as_str());
            let proved = gone.resolution == Resolution::NoLongerMatching || listed.contains(gone.key.source.as_str());
            if !found.contains(&gone.id) && rules.contains(gone.key.rule.as_str()) && !unseen.contains(&key) && proved {
                resolved.push(gone);
            }
        }
    }
    for r in &resolved {
        tx.execute(
            "UPDATE findings SET status = 'resolved', resolution = ?2 WHERE id = ?1",
            vals![&r.id, crate::model::wire_name(&r.resolution)],
        )?;
    }
    report.resolved = resolved;
    Ok(())
}

/// A finding of a checked source that this run did not report: why it is resolved.
fn resolution(r: &Row, read: &HashSet<(&str, &str)>) -> Result<Resolved, DbError> {
    let key = FindingKey {
        rule: r.text(1)?,
        source: r.text(2)?,
        url: r.text(3)?,
        materials: split(&r.text(4)?),
    };
    let resolution = match read.contains(&(key.source.as_str(), key.url.as_str())) {
        true => Resolution::NoLongerMatching,
        false => Resolution::NoLongerListed,
    };
    Ok(Resolved {
        id: r.text(0)?,
        state: FindingState::Resolved,
        resolution,
        key,
        first_run: r.int(5)?,
        first_reported: parse_instant(&r.text(6)?).unwrap_or_default(),
        last_run: r.int(7)?,
        last_reported: parse_instant(&r.text(8)?).unwrap_or_default(),
    })
}

/// Writes a finding and says what it is now: new (never reported, or resolved since), or open
/// since its first run. One statement decides, on the findings' unique key: of two runs that
/// commit the same finding at once (two machines of a PostgreSQL store), the second waits for
/// the first's row and finds it open, so the finding is reported new exactly once.
/// The version recorded is this run's only when the item was `seen` as it should be: a night
/// its page failed, the finding keeps the version it was found in, not its feed's.
fn upsert(tx: &mut Tx, f: &Finding, seen: bool, run: i64, at: DateTime<Utc>) -> Result<(FindingState, i64, DateTime<Utc>), DbError> {
    let row = tx.query_one(
        "INSERT INTO findings (id, rule, source, url, materials, status, first_run, first_reported, last_run, last_reported, version)
         VALUES (?1, ?2, ?3, ?4, ?5, 'new', ?6, ?7, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET
             status = CASE WHEN findings.status = 'resolved' THEN 'new' ELSE 'open' END,
             first_run = CASE WHEN findings.status = 'resolved' THEN excluded.first_run ELSE findings.first_run END,
             first_reported = CASE WHEN findings.status = 'resolved' THEN excluded.first_reported ELSE findings.first_reported END,
             resolution = NULL, last_run = excluded.last_run, last_reported = excluded.last_reported,
             version = CASE WHEN CAST(?9 AS BIGINT) = 1 THEN excluded.version ELSE findings.version END
         RETURNING status, first_run, first_reported",
        vals![
            &f.id,
            &f.key.rule,
            &f.key.source,
            &f.key.url,
            f.key.materials.join(","),
            run,
            instant(at),
            &f.version,
            seen
        ],
    )?;
    let state = match row.text(0)?.as_str() {
        "new" => FindingState::New,
        _ => FindingState::Open,
    };
    Ok((state, row.int(1)?, parse_instant(&row.text(2)?).unwrap_or(at)))
}

/// The latest review of a finding: its verdict, the version it was given for, and the finding
/// as dismissed by it.
fn review(tx: &mut Tx, f: &Finding) -> Result<Option<(ReviewVerdict, String, Suppressed)>, DbError> {
    let Some(r) = tx.query_opt(
        "SELECT verdict, reviewer, at, note, version FROM reviews WHERE finding = ?1 ORDER BY id DESC LIMIT 1",
        vals![&f.id],
    )?
    else {
        return Ok(None);
    };
    let Some(verdict) = ReviewVerdict::parse(&r.text(0)?) else {
        return Ok(None);
    };
    let dismissed = Suppressed {
        id: f.id.clone(),
        key: f.key.clone(),
        reviewer: r.text(1)?,
        reviewed_at: parse_instant(&r.text(2)?).unwrap_or_default(),
        note: r.opt_text(3)?,
    };
    Ok(Some((verdict, r.text(4)?, dismissed)))
}

fn split(materials: &str) -> Vec<String> {
    materials.split(',').filter(|m| !m.is_empty()).map(str::to_string).collect()
}
