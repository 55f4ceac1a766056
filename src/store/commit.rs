//! Recording a run: its row, each source's health, the items seen and their versions, and the
//! findings with their state across runs — all in one transaction, so that a run killed before
//! it commits leaves the store as it was, and one that commits has reported exactly its
//! findings. The report is told what the store knows as the rows are written: each finding new
//! or open since an earlier run, the findings resolved since, those a reviewer dismissed, and
//! for a source not checked how long it has not been.

use super::{Store, StoreError, instant, parse_instant};
use crate::judge::Finding;
use crate::model::{FindingKey, FindingState, Resolution, Severity, Tracking};
use crate::report::{Outcome, Report, Resolved, RunRef, SourceStatus, StateRun, Suppressed};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
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
}

impl Store {
    /// Records a run and annotates its report with the findings' state, and the documents it
    /// fetched whole (`kept`); one transaction.
    pub fn commit(&self, report: &mut Report, meta: &RunMeta, kept: Option<&super::Kept>) -> Result<i64, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly { path: self.path.clone() });
        }
        let started = std::time::Instant::now();
        let sqlite = super::sqlite(&self.path);
        // Unchecked: the run holds the store's lock (a shared borrow) while it commits; the
        // connection is used by this thread alone, so no other transaction can be open on it.
        let tx = self.conn.unchecked_transaction().map_err(&sqlite)?;
        let run = record(&tx, report, meta).map_err(&sqlite)?;
        let replaced = match kept {
            Some(kept) => kept.record(&tx, run).map_err(&sqlite)?,
            None => Vec::new(),
        };
        tx.commit().map_err(&sqlite)?;
        // Bodies no document names any longer go once nothing can roll the names back.
        for file in replaced {
            let _ = std::fs::remove_file(file);
        }
        tracing::info!(
            run,
            items = report.items.len(),
            findings = report.findings.len(),
            seconds = started.elapsed().as_secs_f64(),
            "state recorded"
        );
        let new = report
            .findings
            .iter()
            .filter(|f| f.tracking.as_ref().is_some_and(|t| t.state == FindingState::New))
            .count();
        report.state = Some(StateRun {
            store: self.path.display().to_string(),
            run,
            new,
            open: report.findings.len() - new,
            resolved: report.resolved.len(),
            dismissed: report.suppressed.len(),
            new_only: false,
        });
        Ok(run)
    }
}

fn record(tx: &Transaction, report: &mut Report, meta: &RunMeta) -> rusqlite::Result<i64> {
    let at = report.evaluated_at;
    let rule_files: Vec<serde_json::Value> = meta
        .rule_files
        .iter()
        .map(|(path, sha256)| serde_json::json!({ "path": path, "sha256": sha256 }))
        .collect();
    tx.execute(
        "INSERT INTO runs (started_at, evaluated_at, election, rule_files, options, tool) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            instant(meta.started_at),
            instant(at),
            report.election,
            serde_json::Value::from(rule_files).to_string(),
            meta.options.to_string(),
            report.tool
        ],
    )?;
    let run = tx.last_insert_rowid();
    health(tx, report, run)?;
    problems(tx, report, run)?;
    items(tx, report, run, at)?;
    listings(tx, report, run, at)?;
    findings(tx, report, run, at)?;
    let outcome = match (report.nothing_checked(), report.outcome(meta.fail_on)) {
        (true, _) => "nothing_checked",
        (false, Outcome::Clean) => "clean",
        (false, Outcome::Findings) => "findings",
        (false, Outcome::Incomplete) => "incomplete",
    };
    tx.execute(
        "UPDATE runs SET finished_at = ?1, outcome = ?2 WHERE id = ?3",
        params![instant(Utc::now()), outcome, run],
    )?;
    Ok(run)
}

/// Each source's health this run; for one not checked whole, since when it has not been and
/// when it last was.
fn health(tx: &Transaction, report: &mut Report, run: i64) -> rusqlite::Result<()> {
    for s in &mut report.sources {
        let status = crate::model::wire_name(&s.status);
        tx.execute(
            "INSERT INTO source_health (run, source, status, reason, documents, cached, failed, items) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![run, s.id, status, s.status_reason, s.documents as i64, s.cached as i64, s.failed as i64, s.items as i64],
        )?;
        if s.status == SourceStatus::Checked {
            continue;
        }
        let run_at = |sql: &str, arg: i64| -> rusqlite::Result<Option<RunRef>> {
            tx.query_row(sql, params![s.id, arg], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .optional()
                .map(|row| {
                    row.and_then(|(run, at)| {
                        Some(RunRef {
                            run,
                            at: parse_instant(&at)?,
                        })
                    })
                })
        };
        s.last_checked = run_at(
            "SELECT h.run, r.evaluated_at FROM source_health h JOIN runs r ON r.id = h.run
             WHERE h.source = ?1 AND h.status = 'checked' AND h.run < ?2 ORDER BY h.run DESC LIMIT 1",
            run,
        )?;
        let after = s.last_checked.as_ref().map_or(0, |r| r.run);
        s.failing_since = run_at(
            "SELECT h.run, r.evaluated_at FROM source_health h JOIN runs r ON r.id = h.run
             WHERE h.source = ?1 AND h.run > ?2 ORDER BY h.run LIMIT 1",
            after,
        )?;
    }
    Ok(())
}

/// Each problem's series of runs: continued when the source's previous run met it too, else
/// begun with this one.
fn problems(tx: &Transaction, report: &mut Report, run: i64) -> rusqlite::Result<()> {
    let mut previous_runs: HashMap<String, Option<i64>> = HashMap::new();
    let mut previous = tx.prepare("SELECT MAX(run) FROM source_health WHERE source = ?1 AND run < ?2")?;
    let mut known = tx.prepare("SELECT first_run, last_run FROM problems WHERE source = ?1 AND url = ?2 AND code = ?3")?;
    let mut upsert = tx.prepare(
        "INSERT INTO problems (source, url, code, first_run, last_run) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (source, url, code) DO UPDATE SET first_run = excluded.first_run, last_run = excluded.last_run",
    )?;
    for p in &mut report.problems {
        let before = match previous_runs.get(&p.source) {
            Some(r) => *r,
            None => {
                let r: Option<i64> = previous.query_row(params![p.source, run], |r| r.get(0))?;
                previous_runs.insert(p.source.clone(), r);
                r
            }
        };
        let code = p.code.to_string();
        let series: Option<(i64, i64)> = known
            .query_row(params![p.source, p.url, code], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let since = match series {
            Some((first, last)) if before == Some(last) || last == run => first,
            _ => run,
        };
        upsert.execute(params![p.source, p.url, code, since, run])?;
        p.since_run = Some(since);
    }
    Ok(())
}

/// The items seen this run (first and last seen, the publisher's dates, the capture of their
/// content) and their versions; each item of the report learns when it was first seen (now,
/// if never before). A capture with the page replaces any other; one from the feed alone only
/// another from the feed alone, so a night the page could not be read does not pass for a
/// change on the next.
fn items(tx: &Transaction, report: &mut Report, run: i64, at: DateTime<Utc>) -> rusqlite::Result<()> {
    let mut upsert = tx.prepare(
        "INSERT INTO items (source, url, guid, title, first_run, first_seen, last_run, last_seen, published, modified, absent_at, entries)
         VALUES (?1, ?2, ?8, ?3, ?4, ?5, ?4, ?5, ?6, ?7, ?9, ?10)
         ON CONFLICT (source, url) DO UPDATE SET guid = excluded.guid, title = excluded.title, last_run = excluded.last_run,
             last_seen = excluded.last_seen, published = excluded.published, modified = excluded.modified,
             entries = excluded.entries
         RETURNING id, first_seen",
    )?;
    let mut capture = tx.prepare(
        "UPDATE items SET capture = ?2, capture_at = ?3, capture_run = ?4, capture_page = ?5, changed_after = ?6, changed_by = ?7
         WHERE id = ?1 AND (capture_page IS NULL OR capture_page <= ?5)",
    )?;
    let mut version = tx.prepare(
        "INSERT INTO versions (item, digest, first_run, first_seen) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (item, digest) DO NOTHING",
    )?;
    for item in &mut report.items {
        // The publisher's date of each role, of the highest precedence, as written.
        let written = |role: crate::article::Role| {
            item.dates
                .iter()
                .filter(|d| d.provenance.role() == role && d.instant.is_some())
                .min_by_key(|d| d.provenance.rank())
                .map(|d| d.raw.clone())
        };
        let (id, first_seen): (i64, String) = upsert.query_row(
            params![
                item.source,
                item.url,
                item.title,
                run,
                instant(at),
                written(crate::article::Role::Published),
                written(crate::article::Role::Modified),
                item.guid,
                item.absent_at.map(instant),
                item.entries.join(",")
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        capture.execute(params![
            id,
            item.version,
            instant(at),
            run,
            item.read_page(),
            item.changed.map(|c| instant(c.after)),
            item.changed.map(|c| instant(c.by))
        ])?;
        item.first_seen = parse_instant(&first_seen);
        version.execute(params![id, item.version, run, instant(at)])?;
    }
    Ok(())
}

/// The feeds and sitemaps read whole this run: the reads an item first listed later was
/// absent from.
fn listings(tx: &Transaction, report: &Report, run: i64, at: DateTime<Utc>) -> rusqlite::Result<()> {
    let mut upsert = tx.prepare(
        "INSERT INTO listings (source, url, last_run, last_read) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (source, url) DO UPDATE SET last_run = excluded.last_run, last_read = excluded.last_read",
    )?;
    for l in &report.listings_read {
        upsert.execute(params![l.source, l.url, run, instant(at)])?;
    }
    Ok(())
}

/// The findings' state: new (not reported before, or resolved and back), open (reported before
/// and still there), resolved (reported before, gone now — only where the source was checked
/// whole, since an unread source proves nothing gone), suppressed (found again in the version a
/// reviewer judged a false positive).
fn findings(tx: &Transaction, report: &mut Report, run: i64, at: DateTime<Utc>) -> rusqlite::Result<()> {
    let mut kept = Vec::with_capacity(report.findings.len());
    let mut found: HashSet<String> = HashSet::new();
    for mut f in std::mem::take(&mut report.findings) {
        found.insert(f.id.clone());
        let (state, first_run, first_reported) = earlier(tx, &f, run, at)?;
        write(tx, &f, state, first_run, first_reported, run, at)?;
        if let Some(s) = dismissed(tx, &f)? {
            report.suppressed.push(s);
            continue;
        }
        f.tracking = Some(Tracking {
            state,
            first_run,
            first_reported,
        });
        kept.push(f);
    }
    report.findings = kept;
    let checked: Vec<&str> = report
        .sources
        .iter()
        .filter(|s| s.status == SourceStatus::Checked)
        .map(|s| s.id.as_str())
        .collect();
    let read: HashSet<(&str, &str)> = report.items.iter().map(|i| (i.source.as_str(), i.url.as_str())).collect();
    let mut gone = tx.prepare(
        "SELECT id, rule, source, url, materials, first_run, first_reported, last_run, last_reported
         FROM findings WHERE source = ?1 AND status IN ('new', 'open')",
    )?;
    let mut resolved = Vec::new();
    for source in checked {
        let rows = gone.query_map([source], |r| {
            let key = FindingKey {
                rule: r.get(1)?,
                source: r.get(2)?,
                url: r.get(3)?,
                materials: split(&r.get::<_, String>(4)?),
            };
            let resolution = match read.contains(&(key.source.as_str(), key.url.as_str())) {
                true => Resolution::NoLongerMatching,
                false => Resolution::NoLongerListed,
            };
            Ok(Resolved {
                id: r.get(0)?,
                state: FindingState::Resolved,
                resolution,
                key,
                first_run: r.get(5)?,
                first_reported: parse_instant(&r.get::<_, String>(6)?).unwrap_or_default(),
                last_run: r.get(7)?,
                last_reported: parse_instant(&r.get::<_, String>(8)?).unwrap_or_default(),
            })
        })?;
        for r in rows {
            let r = r?;
            if !found.contains(&r.id) {
                resolved.push(r);
            }
        }
    }
    drop(gone);
    for r in &resolved {
        tx.execute(
            "UPDATE findings SET status = 'resolved', resolution = ?2 WHERE id = ?1",
            params![r.id, crate::model::wire_name(&r.resolution)],
        )?;
    }
    report.resolved = resolved;
    Ok(())
}

/// What the store knew of a finding before this run: new, or open since when.
fn earlier(tx: &Transaction, f: &Finding, run: i64, at: DateTime<Utc>) -> rusqlite::Result<(FindingState, i64, DateTime<Utc>)> {
    let row: Option<(String, i64, String)> = tx
        .query_row(
            "SELECT status, first_run, first_reported FROM findings WHERE id = ?1",
            [&f.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        Some((status, first_run, first)) if status != "resolved" => (FindingState::Open, first_run, parse_instant(&first).unwrap_or(at)),
        _ => (FindingState::New, run, at),
    })
}

fn write(
    tx: &Transaction,
    f: &Finding,
    state: FindingState,
    first_run: i64,
    first_reported: DateTime<Utc>,
    run: i64,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO findings (id, rule, source, url, materials, status, first_run, first_reported, last_run, last_reported, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, resolution = NULL, first_run = excluded.first_run,
             first_reported = excluded.first_reported, last_run = excluded.last_run,
             last_reported = excluded.last_reported, version = excluded.version",
        params![
            f.id,
            f.key.rule,
            f.key.source,
            f.key.url,
            f.key.materials.join(","),
            crate::model::wire_name(&state),
            first_run,
            instant(first_reported),
            run,
            instant(at),
            f.version
        ],
    )?;
    Ok(())
}

/// The latest review of a finding, if it dismissed this very version as a false positive.
fn dismissed(tx: &Transaction, f: &Finding) -> rusqlite::Result<Option<Suppressed>> {
    let row: Option<(String, String, String, Option<String>, String)> = tx
        .query_row(
            "SELECT verdict, reviewer, at, note, version FROM reviews WHERE finding = ?1 ORDER BY id DESC LIMIT 1",
            [&f.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    Ok(row.and_then(|(verdict, reviewer, at, note, version)| {
        (verdict == "false_positive" && version == f.version).then(|| Suppressed {
            id: f.id.clone(),
            key: f.key.clone(),
            reviewer,
            reviewed_at: parse_instant(&at).unwrap_or_default(),
            note,
        })
    }))
}

fn split(materials: &str) -> Vec<String> {
    materials.split(',').filter(|m| !m.is_empty()).map(str::to_string).collect()
}
