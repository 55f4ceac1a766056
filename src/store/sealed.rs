//! Reading back what runs sealed (see [`super::recorded`]): manifests, captures, findings, for
//! `blackout evidence` to verify, export and replay.

use super::db::{DbError, Exec, Row, vals};
use super::manifest::Manifest;
use super::{Store, StoreError};

/// A run's manifest as the store holds it.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    pub run: i64,
    /// The digest stored beside it (`sha256:…`).
    pub digest: String,
    pub previous: Option<String>,
    /// The canonical JSON, as written.
    pub text: String,
    /// An RFC 3161 timestamp token over the digest (DER, base64), when a TSA gave one.
    pub token: Option<String>,
    pub token_error: Option<String>,
}

impl ManifestRow {
    /// The manifest its text says, when it parses.
    pub fn parse(&self) -> Result<Manifest, serde_json::Error> {
        serde_json::from_str(&self.text)
    }
}

/// A capture row: its record (canonical JSON of a [`crate::fetch::Captured`]) as written.
#[derive(Debug, Clone)]
pub struct CaptureRow {
    pub seq: i64,
    pub url: String,
    pub body: Option<String>,
    pub record: String,
}

/// What a finding row says, for checking it against the manifests.
#[derive(Debug, Clone)]
pub struct SealedFinding {
    pub id: String,
    pub rule: String,
    pub source: String,
    pub url: String,
    pub first_run: i64,
    pub last_run: i64,
}

impl Store {
    /// The manifests, in run order (only run `run`'s, when given).
    pub fn manifests(&mut self, run: Option<i64>) -> Result<Vec<ManifestRow>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT run, digest, previous, manifest, token, token_error FROM manifests
                 WHERE CAST(?1 AS BIGINT) IS NULL OR run = ?1 ORDER BY run",
                vals![run],
            )
            .map_err(|e| self.error(e))?;
        let read = |r: &Row| -> Result<ManifestRow, DbError> {
            Ok(ManifestRow {
                run: r.int(0)?,
                digest: r.text(1)?,
                previous: r.opt_text(2)?,
                text: r.text(3)?,
                token: r.opt_text(4)?,
                token_error: r.opt_text(5)?,
            })
        };
        rows.iter().map(read).collect::<Result<Vec<_>, _>>().map_err(|e| self.error(e))
    }

    /// A run's capture rows, in the order fetched.
    pub fn capture_rows(&mut self, run: i64) -> Result<Vec<CaptureRow>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT seq, url, body, record FROM captures WHERE run = ?1 ORDER BY seq",
                vals![run],
            )
            .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|r| {
                Ok(CaptureRow {
                    seq: r.int(0)?,
                    url: r.text(1)?,
                    body: r.opt_text(2)?,
                    record: r.text(3)?,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()
            .map_err(|e| self.error(e))
    }

    /// The ids of the runs recorded, in order.
    pub fn run_ids(&mut self) -> Result<Vec<i64>, StoreError> {
        let rows = self.conn.query("SELECT id FROM runs ORDER BY id", &[]).map_err(|e| self.error(e))?;
        rows.iter()
            .map(|r| r.int(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// The digest the first manifest left after a prune names, and the run it was of.
    pub fn pruned_through(&mut self) -> Result<Option<(i64, String)>, StoreError> {
        self.conn
            .query_opt(
                "SELECT through_run, last_digest FROM pruned_manifests ORDER BY through_run DESC LIMIT 1",
                &[],
            )
            .and_then(|r| r.map(|r| Ok((r.int(0)?, r.text(1)?))).transpose())
            .map_err(|e| self.error(e))
    }

    /// Every finding row, or the one of this id.
    pub fn sealed_findings(&mut self, id: Option<&str>) -> Result<Vec<SealedFinding>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT id, rule, source, url, first_run, last_run FROM findings
                 WHERE CAST(?1 AS TEXT) IS NULL OR id = ?1 ORDER BY id",
                vals![id],
            )
            .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|r| {
                Ok(SealedFinding {
                    id: r.text(0)?,
                    rule: r.text(1)?,
                    source: r.text(2)?,
                    url: r.text(3)?,
                    first_run: r.int(4)?,
                    last_run: r.int(5)?,
                })
            })
            .collect::<Result<Vec<_>, DbError>>()
            .map_err(|e| self.error(e))
    }

    /// The runs evaluated at or after `since`, in order.
    pub fn runs_since(&mut self, since: chrono::DateTime<chrono::Utc>) -> Result<Vec<i64>, StoreError> {
        let rows = self
            .conn
            .query(
                "SELECT id FROM runs WHERE evaluated_at >= ?1 ORDER BY id",
                vals![super::instant(since)],
            )
            .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|r| r.int(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }
}
