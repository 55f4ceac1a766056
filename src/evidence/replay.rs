//! `blackout replay`: a sealed run's pipeline run again over its captures, with no network.
//! The captures stand in for the web (statuses, redirects and failures included), the run's
//! recorded history answers stand in for the store (first seen, versions, which pages were
//! read), and the evaluation instant is the run's: the same rules give the same findings —
//! same keys, spans and timing. Newer rule files answer "what would these rules have said then".
//!
//! The files the run read (rule files, fingerprint indexes, pages and feeds read from disk)
//! are put back under a temporary directory at their original absolute paths, and known by
//! those paths (see [`crate::fetch::set_replay_root`]), so that relative references in the
//! rules resolve as they did and file items keep their addresses.

use super::sealed::{SealedRun, under};
use crate::fetch::{Bodies, Replayer};
use crate::report::Report;
use crate::rules::{Engine, RuleSet};
use crate::run::{History, Hooks, Options, Recalled, Run};
use crate::sources::{Replacement, Selection, Shard};
use crate::timing::Observed;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::PathBuf;
use url::Url;

/// The history a run was told, answered again.
#[derive(Debug, Default)]
pub struct Answers {
    observed: HashMap<(String, String, Vec<String>), Option<Observed>>,
    unchanged: HashMap<(String, String, String), DateTime<Utc>>,
}

impl Answers {
    pub fn new(recalled: &[Recalled]) -> Answers {
        let mut out = Answers::default();
        for r in recalled {
            match r {
                Recalled::Observe {
                    source,
                    url,
                    listings,
                    answer,
                } => {
                    out.observed.insert((source.clone(), url.clone(), listings.clone()), answer.clone());
                }
                Recalled::Unchanged { source, url, entry, read } => {
                    out.unchanged.insert((source.clone(), url.clone(), entry.clone()), *read);
                }
            }
        }
        out
    }
}

impl History for Answers {
    /// A question the run never asked (newer rules reading more) is answered as a store that
    /// never saw the item would: first seen now.
    fn observe(&self, source: &str, url: &Url, listings: &mut dyn Iterator<Item = &Url>, at: DateTime<Utc>) -> Option<Observed> {
        let listings: Vec<String> = listings.map(Url::to_string).collect();
        match self.observed.get(&(source.to_string(), url.to_string(), listings)) {
            Some(answer) => answer.clone(),
            None => Some(Observed {
                first_seen: at,
                absent_at: None,
                capture: None,
            }),
        }
    }

    fn unchanged(&self, source: &str, url: &Url, entry: &crate::feed::FeedItem) -> Option<DateTime<Utc>> {
        let key = (source.to_string(), url.to_string(), crate::identity::entry_digest(entry));
        self.unchanged.get(&key).copied()
    }
}

/// Why a replay could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot put the run's files back under {}: {error}", dir.display())]
    Materialise { dir: PathBuf, error: std::io::Error },
    #[error("{0}")]
    Rules(String),
    #[error("the run's options cannot be read back: {0}")]
    Options(String),
    #[error(transparent)]
    Plan(#[from] crate::sources::PlanError),
}

/// What to replay with.
#[derive(Debug, Clone, Default)]
pub struct With {
    /// Rule files to judge with instead of the run's own.
    pub rules: Vec<PathBuf>,
    /// The instant to evaluate as of, instead of the run's.
    pub at: Option<DateTime<Utc>>,
}

/// A replay's report, and how the rules it judged with cut matched passages.
pub struct Replayed {
    pub report: Report,
    pub redaction: crate::report::Redaction,
}

/// Replays `run` over its captures; the report, as the run's pipeline makes it again.
pub fn replay(run: &SealedRun, bodies: &dyn Bodies, with: &With) -> Result<Replayed, ReplayError> {
    let dir = tempfile::tempdir().map_err(|error| ReplayError::Materialise {
        dir: std::env::temp_dir(),
        error,
    })?;
    let root = dir.path().to_path_buf();
    let put = |original: &std::path::Path, bytes: &[u8]| -> Result<(), ReplayError> {
        let at = under(&root, original);
        at.parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&at, bytes))
            .map_err(|error| ReplayError::Materialise { dir: at.clone(), error })
    };
    for (input, bytes) in &run.inputs {
        put(std::path::Path::new(&input.path), bytes)?;
    }
    // Files read from disk (their bodies, where kept): a directory source lists them again.
    for c in &run.captures {
        if let (Some(file), Some(d)) = (&c.file, &c.body)
            && let Ok(bytes) = bodies.body(d)
        {
            put(std::path::Path::new(file), &bytes)?;
        }
    }
    let (rule_files, labels): (Vec<PathBuf>, Vec<String>) = match with.rules.is_empty() {
        false => (with.rules.clone(), with.rules.iter().map(|p| p.display().to_string()).collect()),
        true => run
            .inputs
            .iter()
            .filter(|(i, _)| i.role == "rules")
            .map(|(i, _)| (under(&root, std::path::Path::new(&i.path)), i.path.clone()))
            .unzip(),
    };
    // Files below the root are known by their run's paths while the replay runs, however it
    // ends.
    struct Rooted;
    impl Drop for Rooted {
        fn drop(&mut self) {
            crate::fetch::set_replay_root(None);
        }
    }
    crate::fetch::set_replay_root(Some(root.clone()));
    let _rooted = Rooted;
    let rules = RuleSet::load(&rule_files).map_err(|e| ReplayError::Rules(e.to_string()))?;
    let redaction = crate::report::Redaction::of(&rules);
    let engine = Engine::compile(rules).map_err(|e| ReplayError::Rules(e.to_string()))?;
    let options = options(run, &root, with.at)?;
    let replayer = Replayer::new(run.captures.iter().cloned(), bodies);
    let answers = Answers::new(&run.record.recalled);
    let hooks = Hooks {
        history: &answers,
        ..Hooks::default()
    };
    let mut report = Run::new(&engine, &replayer, hooks).check(&options, &rule_files)?;
    report.rule_files = labels;
    report.replay = Some(crate::report::ReplayOf {
        run: run.manifest.run,
        manifest: run.digest.to_string(),
        own_rules: with.rules.is_empty(),
    });
    Ok(Replayed { report, redaction })
}

/// The run's options, as its manifest recorded them.
fn options(run: &SealedRun, root: &std::path::Path, at: Option<DateTime<Utc>>) -> Result<Options, ReplayError> {
    let o = &run.manifest.options;
    let bad = |what: &str| ReplayError::Options(format!("`{what}` in {o}"));
    let date_floor = o["date_floor"]
        .as_str()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| bad("date_floor"))?;
    let inputs = o["input"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str())
                .map(|p| under(root, std::path::Path::new(p)))
                .collect()
        })
        .unwrap_or_default();
    let shard = match o["shard"].as_str() {
        Some(s) => Some(Shard::parse(s).map_err(ReplayError::Options)?),
        None => None,
    };
    Ok(Options {
        at: at.unwrap_or_else(|| run.evaluated_at()),
        date_floor,
        replacement: Replacement {
            inputs,
            as_source: o["as"].as_str().map(str::to_string),
        },
        selection: Selection {
            all: o["all"].as_bool().unwrap_or(false),
            margin: chrono::Duration::hours(o["margin_hours"].as_i64().ok_or_else(|| bad("margin_hours"))?),
        },
        shard,
        max_body: o["max_body"].as_u64().ok_or_else(|| bad("max_body"))?,
    })
}
