//! Looking inside the store (`blackout state …`), reviewing a finding, checking and pruning.

use super::db::{Conn, DbError, Exec, vals};
use super::{Store, StoreError, instant};
use crate::report::Tabular;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A run, as `state runs` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub run: i64,
    pub started_at: String,
    /// Absent for a run that was killed, or is under way.
    pub finished_at: Option<String>,
    pub evaluated_at: String,
    /// The share of the sources it checked (`--shard K/N`), when not all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub election: String,
    pub outcome: Option<String>,
    pub sources: i64,
    pub items: i64,
    pub rule_files: serde_json::Value,
}

/// A source's health, as `state sources` lists it: its last run, and when not checked in it,
/// since when it has not been and when it last was.
#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    pub source: String,
    pub last_run: i64,
    pub status: String,
    pub reason: Option<String>,
    pub failing_since: Option<i64>,
    pub last_checked: Option<i64>,
}

/// A finding, as `state findings` lists it, with its latest review.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub id: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    pub rule: String,
    pub source: String,
    pub url: String,
    pub first_run: i64,
    pub first_reported: String,
    pub last_run: i64,
    pub last_reported: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewRow>,
}

/// The latest review of a finding.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewRow {
    pub verdict: String,
    pub reviewer: String,
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An item, as `state items` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub source: String,
    pub url: String,
    pub title: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub versions: i64,
}

impl Tabular for RunRow {
    const HEADERS: &'static [&'static str] = &[
        "run",
        "evaluated at",
        "started at",
        "finished at",
        "outcome",
        "shard",
        "sources",
        "items",
        "rule files",
    ];
    fn cells(&self) -> Vec<String> {
        let files: Vec<&str> = self
            .rule_files
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.get("path").and_then(|p| p.as_str()))
            .collect();
        vec![
            self.run.to_string(),
            self.evaluated_at.clone(),
            self.started_at.clone(),
            self.finished_at.clone().unwrap_or_else(|| "-".into()),
            self.outcome.clone().unwrap_or_else(|| "unfinished".into()),
            self.shard.clone().unwrap_or_else(|| "all".into()),
            self.sources.to_string(),
            self.items.to_string(),
            files.join(" "),
        ]
    }
}

impl Tabular for SourceRow {
    const HEADERS: &'static [&'static str] = &["source", "last run", "status", "failing since", "last checked", "reason"];
    fn cells(&self) -> Vec<String> {
        let run = |r: Option<i64>| r.map_or("-".into(), |r| format!("run {r}"));
        vec![
            self.source.clone(),
            self.last_run.to_string(),
            self.status.clone(),
            run(self.failing_since),
            run(self.last_checked),
            self.reason.clone().unwrap_or_default(),
        ]
    }
}

impl Tabular for FindingRow {
    const HEADERS: &'static [&'static str] = &["finding", "status", "rule", "source", "first run", "last run", "review", "url"];
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            match &self.resolution {
                Some(why) => format!("{} ({why})", self.status),
                None => self.status.clone(),
            },
            self.rule.clone(),
            self.source.clone(),
            self.first_run.to_string(),
            self.last_run.to_string(),
            self.review
                .as_ref()
                .map_or("-".into(), |r| format!("{} ({})", r.verdict, r.reviewer)),
            self.url.clone(),
        ]
    }
}

impl Tabular for ItemRow {
    const HEADERS: &'static [&'static str] = &["source", "first seen", "last seen", "versions", "url"];
    fn cells(&self) -> Vec<String> {
        vec![
            self.source.clone(),
            self.first_seen.clone(),
            self.last_seen.clone(),
            self.versions.to_string(),
            self.url.clone(),
        ]
    }
}

/// A reviewer's verdict on a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewVerdict {
    FalsePositive,
    Confirmed,
}

impl ReviewVerdict {
    /// As the store writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewVerdict::FalsePositive => "false_positive",
            ReviewVerdict::Confirmed => "confirmed",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewVerdict> {
        [ReviewVerdict::FalsePositive, ReviewVerdict::Confirmed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// What `state prune` did.
#[derive(Debug)]
pub struct Pruned {
    pub runs: usize,
    pub items: usize,
    /// The finding whose last report held runs back from the cut (its evidence), and that run.
    pub held: Option<(i64, String)>,
}

impl Store {
    /// The run evaluated latest, and its instant: a run evaluated before it is told findings
    /// against runs as they were made, not as of its own instant.
    pub fn latest_evaluated(&mut self) -> Result<Option<(i64, DateTime<Utc>)>, StoreError> {
        let row = self
            .conn
            .query_opt("SELECT id, evaluated_at FROM runs ORDER BY evaluated_at DESC, id DESC LIMIT 1", &[])
            .map_err(|e| self.error(e))?;
        match row {
            None => Ok(None),
            Some(r) => {
                let run = r.int(0).map_err(|e| self.error(e))?;
                let at = r.text(1).map_err(|e| self.error(e))?;
                Ok(super::parse_instant(&at).map(|at| (run, at)))
            }
        }
    }

    /// The runs, oldest first; with a source, those that read it.
    pub fn runs(&mut self, source: Option<&str>) -> Result<Vec<RunRow>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT r.id, r.started_at, r.evaluated_at, r.election, r.outcome, r.rule_files,
                        COUNT(h.source), CAST(COALESCE(SUM(h.items), 0) AS BIGINT), r.finished_at, r.options
                 FROM runs r LEFT JOIN source_health h ON h.run = r.id
                 WHERE CAST(?1 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM source_health s WHERE s.run = r.id AND s.source = ?1)
                 GROUP BY r.id ORDER BY r.id",
                vals![source],
            )
            .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|r| {
                let options: serde_json::Value = serde_json::from_str(&r.text(9)?).unwrap_or_default();
                Ok(RunRow {
                    run: r.int(0)?,
                    started_at: r.text(1)?,
                    finished_at: r.opt_text(8)?,
                    evaluated_at: r.text(2)?,
                    shard: options.get("shard").and_then(|s| s.as_str()).map(str::to_string),
                    election: r.text(3)?,
                    outcome: r.opt_text(4)?,
                    rule_files: serde_json::from_str(&r.text(5)?).unwrap_or_default(),
                    sources: r.int(6)?,
                    items: r.int(7)?,
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(|e| self.error(e))
    }

    /// Each source's health in its latest run.
    pub fn sources(&mut self, source: Option<&str>) -> Result<Vec<SourceRow>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT h.source, h.run, h.status, h.reason,
                    (SELECT MAX(c.run) FROM source_health c WHERE c.source = h.source AND c.status = 'checked')
                 FROM source_health h
                 WHERE h.run = (SELECT MAX(run) FROM source_health l WHERE l.source = h.source)
                   AND (CAST(?1 AS TEXT) IS NULL OR h.source = ?1)
                 ORDER BY h.source",
                vals![source],
            )
            .map_err(|e| self.error(e))?;
        let mut out: Vec<SourceRow> = rows
            .iter()
            .map(|r| {
                Ok(SourceRow {
                    source: r.text(0)?,
                    last_run: r.int(1)?,
                    status: r.text(2)?,
                    reason: r.opt_text(3)?,
                    failing_since: None,
                    last_checked: r.opt_int(4)?,
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(|e| self.error(e))?;
        for s in out.iter_mut().filter(|s| s.status != "checked") {
            s.failing_since = self
                .conn
                .query_one(
                    "SELECT MIN(run) FROM source_health WHERE source = ?1 AND run > ?2",
                    vals![&s.source, s.last_checked.unwrap_or(0)],
                )
                .and_then(|r| r.opt_int(0))
                .map_err(|e| self.error(e))?;
        }
        Ok(out)
    }

    /// The findings, by source and first run, with their latest review.
    pub fn findings(&mut self, source: Option<&str>) -> Result<Vec<FindingRow>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT f.id, f.status, f.rule, f.source, f.url, f.first_run, f.first_reported, f.last_run, f.last_reported,
                        v.verdict, v.reviewer, v.at, v.note, f.resolution
                 FROM findings f
                 LEFT JOIN reviews v ON v.id = (SELECT MAX(l.id) FROM reviews l WHERE l.finding = f.id)
                 WHERE CAST(?1 AS TEXT) IS NULL OR f.source = ?1 ORDER BY f.source, f.first_run, f.id",
                vals![source],
            )
            .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|r| {
                Ok(FindingRow {
                    id: r.text(0)?,
                    status: r.text(1)?,
                    resolution: r.opt_text(13)?,
                    rule: r.text(2)?,
                    source: r.text(3)?,
                    url: r.text(4)?,
                    first_run: r.int(5)?,
                    first_reported: r.text(6)?,
                    last_run: r.int(7)?,
                    last_reported: r.text(8)?,
                    review: match r.opt_text(9)? {
                        Some(verdict) => Some(ReviewRow {
                            verdict,
                            reviewer: r.text(10)?,
                            at: r.text(11)?,
                            note: r.opt_text(12)?,
                        }),
                        None => None,
                    },
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(|e| self.error(e))
    }

    /// The items seen, by source and first seen.
    pub fn items(&mut self, source: Option<&str>) -> Result<Vec<ItemRow>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT i.source, i.url, i.title, i.first_seen, i.last_seen, (SELECT COUNT(*) FROM versions v WHERE v.item = i.id)
                 FROM items i WHERE CAST(?1 AS TEXT) IS NULL OR i.source = ?1 ORDER BY i.source, i.first_seen, i.url",
                vals![source],
            )
            .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|r| {
                Ok(ItemRow {
                    source: r.text(0)?,
                    url: r.text(1)?,
                    title: r.opt_text(2)?,
                    first_seen: r.text(3)?,
                    last_seen: r.text(4)?,
                    versions: r.int(5)?,
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(|e| self.error(e))
    }

    /// Records a reviewer's verdict on a finding, for the version it was last found in: a
    /// false positive is not reported again unless the content it matched changes.
    pub fn review(
        &mut self,
        id: &str,
        verdict: ReviewVerdict,
        note: Option<&str>,
        reviewer: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let version = self
            .conn
            .query_opt("SELECT version FROM findings WHERE id = ?1", vals![id])
            .and_then(|r| r.map(|r| r.text(0)).transpose())
            .map_err(|e| self.error(e))?;
        let Some(version) = version else {
            return Err(StoreError::UnknownFinding {
                id: id.to_string(),
                path: self.path.clone(),
            });
        };
        self.conn
            .execute(
                "INSERT INTO reviews (finding, verdict, note, reviewer, at, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                vals![id, verdict.as_str(), note, reviewer, instant(at), version],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The integrity check (`ok`, or what is wrong) and the schema version. SQLite checks its
    /// file; a PostgreSQL server checks its own pages, so it answers `ok` once it answers.
    pub fn check(&mut self) -> Result<(Vec<String>, u32), StoreError> {
        let found = match self.conn {
            Conn::Sqlite(_) => self.conn.query("PRAGMA integrity_check", &[]),
            Conn::Postgres(_) => self.conn.query("SELECT 'ok'::TEXT", &[]),
        }
        .and_then(|rows| rows.iter().map(|r| r.text(0)).collect::<Result<Vec<String>, _>>())
        .map_err(|e| self.error(e))?;
        let postgres = matches!(self.conn, Conn::Postgres(_));
        let version = super::migrate::version(&mut self.conn, postgres).map_err(|e| self.error(e))?;
        Ok((found, version))
    }

    /// Forgets runs evaluated before `before` (with their sources' health), items last seen
    /// before it that no finding names (with their versions), documents fetched and listings
    /// read before it, and every kept body no document names; findings and the items and
    /// versions they rest on are kept, and so is the last run that reported each finding (its
    /// evidence: the runs from the earliest of those on stay). Returns how many runs and items
    /// went, and the finding that held runs back, with its run, if one did.
    pub fn prune(&mut self, before: DateTime<Utc>) -> Result<Pruned, StoreError> {
        let cut = instant(before);
        let bodies_dir = self.bodies.clone();
        let db = super::db_error(&self.path);
        let mut tx = self.conn.transaction().map_err(&db)?;
        let held = tx
            .query_opt("SELECT last_run, id FROM findings ORDER BY last_run, id LIMIT 1", &[])
            .and_then(|r| r.map(|r| Ok::<_, DbError>((r.int(0)?, r.text(1)?))).transpose())
            .map_err(&db)?;
        let keep_from = held.as_ref().map_or(i64::MAX, |(run, _)| *run);
        let cut_runs = tx
            .query_one(
                "SELECT COUNT(*) FROM runs WHERE evaluated_at < ?1 AND id >= ?2",
                vals![&cut, keep_from],
            )
            .and_then(|r| r.int(0))
            .map_err(&db)?;
        // Only a prefix of the runs goes (those before the first run evaluated after the cut,
        // and before the last evidence of any finding), so that the manifests left still form
        // one chain, the first naming the last pruned.
        let prefix =
            "evaluated_at < ?1 AND id < ?2 AND NOT EXISTS (SELECT 1 FROM runs later WHERE later.evaluated_at >= ?1 AND later.id < runs.id)";
        let last = tx
            .query_opt(
                &format!("SELECT m.run, m.digest FROM manifests m JOIN runs ON runs.id = m.run WHERE {prefix} ORDER BY m.run DESC LIMIT 1"),
                vals![&cut, keep_from],
            )
            .and_then(|r| r.map(|r| Ok::<_, DbError>((r.int(0)?, r.text(1)?))).transpose())
            .map_err(&db)?;
        if let Some((run, digest)) = last {
            tx.execute(
                "INSERT INTO pruned_manifests (through_run, last_digest, pruned_at) VALUES (?1, ?2, ?3)",
                vals![run, digest, instant(chrono::Utc::now())],
            )
            .map_err(&db)?;
            tx.execute(
                &format!("DELETE FROM manifests WHERE run IN (SELECT id FROM runs WHERE {prefix})"),
                vals![&cut, keep_from],
            )
            .map_err(&db)?;
        }
        let runs = tx
            .execute(&format!("DELETE FROM runs WHERE {prefix}"), vals![&cut, keep_from])
            .map_err(&db)?;
        let items = tx
            .execute(
                "DELETE FROM items WHERE last_seen < ?1
                 AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.source = items.source AND f.url = items.url)",
                vals![&cut],
            )
            .map_err(&db)?;
        tx.execute("DELETE FROM documents WHERE fetched_at < ?1", vals![&cut])
            .map_err(&db)?;
        tx.execute("DELETE FROM listings WHERE last_read < ?1", vals![&cut]).map_err(&db)?;
        let bodies = super::kept::sweep(&mut tx, &bodies_dir).map_err(&db)?;
        tx.commit().map_err(&db)?;
        tracing::info!(bodies, "bodies no document names removed");
        Ok(Pruned {
            runs,
            items,
            held: held.filter(|_| cut_runs > 0),
        })
    }
}
