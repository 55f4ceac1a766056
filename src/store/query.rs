//! Looking inside the store (`blackout state …`), reviewing a finding, checking and pruning.

use super::{Store, StoreError, instant};
use crate::report::Tabular;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

/// A run, as `state runs` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub run: i64,
    pub started_at: String,
    pub evaluated_at: String,
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
    const HEADERS: &'static [&'static str] = &["run", "evaluated at", "started at", "outcome", "sources", "items", "rule files"];
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
            self.outcome.clone().unwrap_or_else(|| "unfinished".into()),
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

impl Store {
    /// The runs, oldest first; with a source, those that read it.
    pub fn runs(&self, source: Option<&str>) -> Result<Vec<RunRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id, r.started_at, r.evaluated_at, r.election, r.outcome, r.rule_files,
                        COUNT(h.source), COALESCE(SUM(h.items), 0)
                 FROM runs r LEFT JOIN source_health h ON h.run = r.id
                 WHERE ?1 IS NULL OR EXISTS (SELECT 1 FROM source_health s WHERE s.run = r.id AND s.source = ?1)
                 GROUP BY r.id ORDER BY r.id",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([source], |r| {
                Ok(RunRow {
                    run: r.get(0)?,
                    started_at: r.get(1)?,
                    evaluated_at: r.get(2)?,
                    election: r.get(3)?,
                    outcome: r.get(4)?,
                    rule_files: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
                    sources: r.get(6)?,
                    items: r.get(7)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Each source's health in its latest run.
    pub fn sources(&self, source: Option<&str>) -> Result<Vec<SourceRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT h.source, h.run, h.status, h.reason,
                    (SELECT MAX(c.run) FROM source_health c WHERE c.source = h.source AND c.status = 'checked')
                 FROM source_health h
                 WHERE h.run = (SELECT MAX(run) FROM source_health l WHERE l.source = h.source)
                   AND (?1 IS NULL OR h.source = ?1)
                 ORDER BY h.source",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([source], |r| {
                Ok(SourceRow {
                    source: r.get(0)?,
                    last_run: r.get(1)?,
                    status: r.get(2)?,
                    reason: r.get(3)?,
                    failing_since: None,
                    last_checked: r.get(4)?,
                })
            })
            .map_err(|e| self.error(e))?;
        let mut out: Vec<SourceRow> = rows.collect::<Result<_, _>>().map_err(|e| self.error(e))?;
        for s in out.iter_mut().filter(|s| s.status != "checked") {
            s.failing_since = self
                .conn
                .query_row(
                    "SELECT MIN(run) FROM source_health WHERE source = ?1 AND run > ?2",
                    params![s.source, s.last_checked.unwrap_or(0)],
                    |r| r.get(0),
                )
                .map_err(|e| self.error(e))?;
        }
        Ok(out)
    }

    /// The findings, by source and first run, with their latest review.
    pub fn findings(&self, source: Option<&str>) -> Result<Vec<FindingRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT f.id, f.status, f.rule, f.source, f.url, f.first_run, f.first_reported, f.last_run, f.last_reported,
                        v.verdict, v.reviewer, v.at, v.note, f.resolution
                 FROM findings f
                 LEFT JOIN reviews v ON v.id = (SELECT MAX(l.id) FROM reviews l WHERE l.finding = f.id)
                 WHERE ?1 IS NULL OR f.source = ?1 ORDER BY f.source, f.first_run, f.id",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([source], |r| {
                let verdict: Option<String> = r.get(9)?;
                Ok(FindingRow {
                    id: r.get(0)?,
                    status: r.get(1)?,
                    resolution: r.get(13)?,
                    rule: r.get(2)?,
                    source: r.get(3)?,
                    url: r.get(4)?,
                    first_run: r.get(5)?,
                    first_reported: r.get(6)?,
                    last_run: r.get(7)?,
                    last_reported: r.get(8)?,
                    review: match verdict {
                        Some(verdict) => Some(ReviewRow {
                            verdict,
                            reviewer: r.get(10)?,
                            at: r.get(11)?,
                            note: r.get(12)?,
                        }),
                        None => None,
                    },
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The items seen, by source and first seen.
    pub fn items(&self, source: Option<&str>) -> Result<Vec<ItemRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT i.source, i.url, i.title, i.first_seen, i.last_seen, (SELECT COUNT(*) FROM versions v WHERE v.item = i.id)
                 FROM items i WHERE ?1 IS NULL OR i.source = ?1 ORDER BY i.source, i.first_seen, i.url",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([source], |r| {
                Ok(ItemRow {
                    source: r.get(0)?,
                    url: r.get(1)?,
                    title: r.get(2)?,
                    first_seen: r.get(3)?,
                    last_seen: r.get(4)?,
                    versions: r.get(5)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
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
        let version: Option<String> = self
            .conn
            .query_row("SELECT version FROM findings WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.error(e))?;
        let Some(version) = version else {
            return Err(StoreError::UnknownFinding(id.to_string()));
        };
        let verdict = match verdict {
            ReviewVerdict::FalsePositive => "false_positive",
            ReviewVerdict::Confirmed => "confirmed",
        };
        self.conn
            .execute(
                "INSERT INTO reviews (finding, verdict, note, reviewer, at, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, verdict, note, reviewer, instant(at), version],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// SQLite's integrity check (`ok`, or what is wrong) and the schema version.
    pub fn check(&self) -> Result<(Vec<String>, u32), StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check").map_err(|e| self.error(e))?;
        let found: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| self.error(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.error(e))?;
        let version: u32 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.error(e))?;
        Ok((found, version))
    }

    /// Forgets runs evaluated before `before` (with their sources' health), items last seen
    /// before it that no finding names (with their versions), documents fetched and listings
    /// read before it, and every kept body no document names; findings and the items and
    /// versions they rest on are kept. Returns how many runs and items went.
    pub fn prune(&mut self, before: DateTime<Utc>) -> Result<(usize, usize), StoreError> {
        let cut = instant(before);
        let sqlite = super::sqlite(&self.path);
        let tx = self.conn.transaction().map_err(&sqlite)?;
        let runs = tx.execute("DELETE FROM runs WHERE evaluated_at < ?1", [&cut]).map_err(&sqlite)?;
        let items = tx
            .execute(
                "DELETE FROM items WHERE last_seen < ?1
                 AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.source = items.source AND f.url = items.url)",
                [&cut],
            )
            .map_err(&sqlite)?;
        tx.execute("DELETE FROM documents WHERE fetched_at < ?1", [&cut]).map_err(&sqlite)?;
        tx.execute("DELETE FROM listings WHERE last_read < ?1", [&cut]).map_err(&sqlite)?;
        let bodies = super::kept::sweep(&tx, &self.path).map_err(&sqlite)?;
        tx.commit().map_err(&sqlite)?;
        tracing::info!(bodies, "bodies no document names removed");
        Ok((runs, items))
    }
}
