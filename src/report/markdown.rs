//! The report in Markdown, for a ticket, a chat or a wiki: the text report's content with
//! headings and lists. Web text goes through [`Markdown`], so a title cannot become a link, an
//! image or HTML; links are autolinks of re-serialised http(s) URLs only.

use super::escape::{Markdown, link};
use super::text::{minute, problem_summary, severity_label, timing_line};
use super::{Render, Report, SourceStatus, SourceSummary};
use crate::judge::Finding;
use crate::model::{FindingState, Severity, stamp, wire_name};
use crate::problem::Problem;
use std::fmt::Write as _;

/// The Markdown renderer.
pub struct MarkdownReport;

impl Render for MarkdownReport {
    fn render(&self, r: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(to_string(r).as_bytes())
    }
}

fn to_string(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# blackout report: {}\n\nEvaluated as of {} by {}.\n",
        Markdown(&r.election),
        stamp(r.evaluated_at),
        Markdown(&r.tool)
    );
    let (not_checked, in_part) = r.unchecked_sources();
    let _ = writeln!(
        out,
        "**{} violation(s), {} warning(s), {} notice(s)** from {} outlet(s); {} not checked, {} checked in part; {} problem(s).",
        r.count(Severity::Violation),
        r.count(Severity::Warning),
        r.count(Severity::Notice),
        r.sources.len(),
        not_checked,
        in_part,
        r.problems.len()
    );
    if let Some(state) = &r.state {
        let _ = writeln!(
            out,
            "\nRun {} of the state store: {} new, {} open, {} resolved, {} dismissed by review{}.",
            state.run,
            state.new,
            state.open,
            state.resolved,
            state.dismissed,
            if state.new_only { " (only the new ones are listed)" } else { "" }
        );
    }
    if r.excerpts == super::Excerpts::Redacted {
        let _ = writeln!(
            out,
            "\nMatched passages are cut to their first words so that this report does not spread them (`--show-excerpts` shows them whole)."
        );
    }
    for s in &r.sources {
        source(&mut out, r, s);
    }
    out
}

fn source(out: &mut String, r: &Report, s: &SourceSummary) {
    let name = s.name.as_deref().unwrap_or(&s.id);
    let foreign = if s.foreign { " (foreign outlet)" } else { "" };
    let _ = writeln!(out, "\n## {}{foreign}\n", Markdown(name));
    let status = match s.status {
        SourceStatus::Checked => "checked".to_string(),
        SourceStatus::Incomplete => format!("**checked in part**: {}", Markdown(s.status_reason.as_deref().unwrap_or_default())),
        SourceStatus::NotChecked => format!("**not checked**: {}", Markdown(s.status_reason.as_deref().unwrap_or_default())),
    };
    let _ = writeln!(
        out,
        "Source {}: {status}; {} item(s), {} document(s) fetched ({} unchanged, {} failed).\n",
        Markdown(&s.id),
        s.items,
        s.documents,
        s.cached,
        s.failed
    );
    for f in r.findings.iter().filter(|f| f.source == s.id) {
        finding(out, f);
    }
    for g in r.resolved.iter().filter(|g| g.key.source == s.id) {
        let _ = writeln!(
            out,
            "- resolved: {} at {} (finding {}, reported from run {} to run {}, {})",
            Markdown(&g.key.rule),
            url(&g.key.url),
            Markdown(&g.id),
            g.first_run,
            g.last_run,
            minute(g.last_reported)
        );
    }
    for c in r.cleared.iter().filter(|c| c.source == s.id) {
        let _ = writeln!(
            out,
            "- ok: {} at {}: matched, but {}",
            Markdown(&c.rule),
            url(&c.url),
            Markdown(&timing_line(&c.timing))
        );
    }
    for n in r.not_checked.iter().filter(|n| n.source == s.id) {
        let _ = writeln!(out, "- not checked: {}: {}", url(&n.url), Markdown(&n.reason));
    }
    let problems: Vec<&Problem> = r.problems.iter().filter(|p| p.source == s.id).collect();
    for line in problem_summary(&problems) {
        let _ = writeln!(out, "- problem: {}", Markdown(&line));
    }
}

fn finding(out: &mut String, f: &Finding) {
    let state = match &f.tracking {
        None => String::new(),
        Some(t) if t.state == FindingState::New => " — **new**".into(),
        Some(t) => format!(" — open since run {} ({})", t.first_run, minute(t.first_reported)),
    };
    let _ = writeln!(
        out,
        "### {} {} — {}{state}\n",
        severity_label(f.severity),
        Markdown(&f.rule),
        Markdown(f.title.as_deref().unwrap_or("(no title)"))
    );
    let _ = writeln!(out, "- page: {}", url(&f.url));
    let _ = writeln!(out, "- finding {}: {}", Markdown(&f.id), Markdown(&f.message));
    let _ = writeln!(out, "- timing: {}", Markdown(&timing_line(&f.timing)));
    for sp in &f.spans {
        let what = match &sp.url {
            // In a code span, which Markdown never turns into a link: a link into the dump is
            // shown, not handed over (a URL's serialisation holds no backtick).
            Some(u) => format!("link `{}`", crate::report::inert(u).replace('`', "%60")),
            None => format!(
                "{} {}..{}{}: “{}”",
                wire_name(&sp.scope),
                sp.start,
                sp.end,
                sp.teaser
                    .as_deref()
                    .map(|t| format!(" (the teaser of `{}`)", crate::report::inert(t).replace('`', "%60")))
                    .unwrap_or_default(),
                Markdown(&sp.excerpt)
            ),
        };
        let _ = writeln!(out, "- match ({} of {}): {what}", wire_name(&sp.matcher), Markdown(&sp.material));
    }
    out.push('\n');
}

/// An http(s) address as an autolink; anything else (a local path) as escaped text.
fn url(u: &str) -> String {
    match link(u) {
        Some(u) => format!("<{u}>"),
        None => Markdown(u).to_string(),
    }
}
