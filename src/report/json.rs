//! The report for programs: one JSON document (the documented contract), or JSON Lines — one
//! object per finding, cleared match, unchecked page, source not (fully) checked, problem,
//! resolved and dismissed finding, each with its `type`, then a summary line with the counts
//! (and the run's `state` when a store recorded it).

use super::{FORMAT_VERSION, Render, Report, SourceStatus};
use crate::model::Severity;
use serde::Serialize;

/// One JSON document, pretty-printed.
pub struct Json;

impl Render for Json {
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        out.write_all(b"\n")
    }
}

/// One JSON object per line.
pub struct JsonLines;

impl Render for JsonLines {
    fn render(&self, r: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut line = |kind: &str, mut value: serde_json::Value| -> std::io::Result<()> {
            if let Some(map) = value.as_object_mut() {
                map.insert("type".into(), kind.into());
            }
            serde_json::to_writer(&mut *out, &value)?;
            out.write_all(b"\n")
        };
        for f in &r.findings {
            line("finding", value(f))?;
        }
        for c in &r.cleared {
            line("cleared", value(c))?;
        }
        for n in &r.not_checked {
            line("not_checked", value(n))?;
        }
        for s in r.sources.iter().filter(|s| s.status != SourceStatus::Checked) {
            line("source", value(s))?;
        }
        for p in &r.problems {
            line("problem", value(p))?;
        }
        for g in &r.resolved {
            line("resolved", value(g))?;
        }
        for d in &r.suppressed {
            line("dismissed", value(d))?;
        }
        let (not_checked, in_part) = r.unchecked_sources();
        let mut summary = serde_json::json!({
            "format_version": FORMAT_VERSION, "tool": r.tool, "election": r.election, "evaluated_at": r.evaluated_at,
            "violations": r.count(Severity::Violation), "warnings": r.count(Severity::Warning), "notices": r.count(Severity::Notice),
            "items": r.sources.iter().map(|s| s.items).sum::<usize>(), "not_checked": r.not_checked.len(),
            "problems": r.problems.len(), "sources_not_checked": not_checked, "sources_checked_in_part": in_part,
        });
        if let Some(state) = &r.state {
            summary["state"] = value(state);
        }
        line("summary", summary)
    }
}

fn value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("report values serialise")
}
