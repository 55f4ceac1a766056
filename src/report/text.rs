//! The report for people, grouped by outlet. Problems that repeat (a feed of 20,000 entries
//! whose pages all answer 404) are counted, with the first few addresses, rather than listed
//! one per line; the JSON report keeps every one.

use super::{Render, Report, SourceStatus, SourceSummary, inert};
use crate::article::Provenance;
use crate::judge::{Cleared, Finding};
use crate::model::stamp;
use crate::model::{FindingState, Resolution, Severity, wire_name};
use crate::problem::{Code, Problem};
use crate::timing::{DateRef, Timing};
use std::fmt::Write as _;

/// How many problems of one kind a source lists before counting the rest.
const SHOWN_PER_KIND: usize = 3;

/// The text renderer. `quiet` prints nothing for a clean, complete run, and otherwise only
/// what fails; `fail_on` is the threshold of a failing finding. After `--new-only`, a source
/// that was already failing in the previous run counts as said (its streak began earlier and
/// was reported then).
pub struct Text {
    pub quiet: bool,
    pub fail_on: Severity,
}

impl Render for Text {
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.to_string(report).as_bytes())
    }
}

impl Text {
    pub fn to_string(&self, r: &Report) -> String {
        let mut out = String::new();
        if self.quiet && r.nothing_to_report(self.fail_on) {
            return out;
        }
        let _ = writeln!(
            out,
            "blackout: election `{}`, evaluated as of {}",
            r.election,
            stamp(r.evaluated_at)
        );
        for s in &r.sources {
            self.source(&mut out, r, s);
        }
        if !self.quiet {
            health(&mut out, r);
        }
        summary(&mut out, r);
        out
    }

    fn source(&self, out: &mut String, r: &Report, s: &SourceSummary) {
        let findings: Vec<&Finding> = r.findings.iter().filter(|f| f.source == s.id).collect();
        let problems: Vec<&Problem> = r.problems.iter().filter(|p| p.source == s.id).collect();
        let quiet_ok = findings.iter().all(|f| f.severity < self.fail_on)
            && problems.is_empty()
            && (s.status == SourceStatus::Checked || r.known_failure(s));
        if self.quiet && quiet_ok {
            return;
        }
        let name = s.name.as_deref().map(|n| format!(" ({})", inert(n))).unwrap_or_default();
        let foreign = if s.foreign { " [foreign outlet]" } else { "" };
        let _ = writeln!(
            out,
            "\n== {}{name}{foreign}: {} item(s), {} finding(s), {} problem(s)",
            s.id,
            s.items,
            findings.len(),
            problems.len()
        );
        if let Some(why) = &s.status_reason {
            let status = match s.status {
                SourceStatus::NotChecked => "NOT CHECKED",
                _ => "CHECKED IN PART",
            };
            let _ = writeln!(out, "  {status}: {}", inert(why));
        }
        if let Some(since) = &s.failing_since {
            let last = match &s.last_checked {
                Some(r) => format!("last checked whole in run {} ({})", r.run, minute(r.at)),
                None => "never checked whole".into(),
            };
            let _ = writeln!(
                out,
                "  {:<9} not checked whole since run {} ({}); {last}",
                "",
                since.run,
                minute(since.at)
            );
        }
        for f in findings.iter().filter(|f| !self.quiet || f.severity >= self.fail_on) {
            finding(out, f);
        }
        if !self.quiet {
            for g in r.resolved.iter().filter(|g| g.key.source == s.id) {
                let _ = writeln!(out, "  {:<9} {}  {}", "resolved", g.key.rule, inert(&g.key.url));
                let _ = writeln!(
                    out,
                    "            finding {}: reported from run {} ({}) to run {} ({}); {}",
                    g.id,
                    g.first_run,
                    minute(g.first_reported),
                    g.last_run,
                    minute(g.last_reported),
                    match g.resolution {
                        Resolution::NoLongerMatching => "read again, it no longer matches",
                        Resolution::NoLongerListed => "no longer listed by the outlet, so not read again (it may still be online)",
                    }
                );
            }
            for d in r.suppressed.iter().filter(|d| d.key.source == s.id) {
                let _ = writeln!(out, "  {:<9} {}  {}", "dismissed", d.key.rule, inert(&d.key.url));
                let note = d.note.as_deref().map(|n| format!(": {}", inert(n))).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "            finding {}: a false positive for {} ({}), content unchanged since{note}",
                    d.id,
                    inert(&d.reviewer),
                    minute(d.reviewed_at)
                );
            }
        }
        for n in r.not_checked.iter().filter(|n| n.source == s.id) {
            let _ = writeln!(out, "  {:<9} {}: {}", "unchecked", inert(&n.url), inert(&n.reason));
        }
        if !self.quiet {
            for c in r.cleared.iter().filter(|c| c.source == s.id) {
                cleared(out, c);
            }
            for (why, n) in &s.feed_only {
                let _ = writeln!(out, "  {:<9} {n} item(s) judged on their feed alone: {}", "note", why.explain());
            }
        }
        problem_lines(out, &problems);
    }
}

fn finding(out: &mut String, f: &Finding) {
    let _ = writeln!(out, "  {:<9} {}  {}", severity_label(f.severity), f.rule, inert(&f.url));
    let state = match &f.tracking {
        None => String::new(),
        Some(t) if t.state == FindingState::New => ", NEW".into(),
        Some(t) => format!(", open since run {} ({})", t.first_run, minute(t.first_reported)),
    };
    let _ = writeln!(out, "            finding {}{state}", f.id);
    if let Some(t) = &f.title {
        let _ = writeln!(out, "            title: {}", inert(t));
    }
    let _ = writeln!(out, "            {}", inert(&f.message));
    let _ = writeln!(out, "            timing: {}", timing_line(&f.timing));
    for sp in &f.spans {
        let what = match &sp.url {
            Some(u) => format!("link {}", inert(u)),
            None => format!("{} {}..{}: \"{}\"", wire_name(&sp.scope), sp.start, sp.end, inert(&sp.excerpt)),
        };
        let what = match &sp.teaser {
            Some(item) => format!("{what} (the teaser of {})", inert(item)),
            None => what,
        };
        let _ = writeln!(out, "            match ({} of `{}`): {what}", wire_name(&sp.matcher), sp.material);
    }
}

fn cleared(out: &mut String, c: &Cleared) {
    let _ = writeln!(out, "  {:<9} {}  {}", "ok", c.rule, inert(&c.url));
    let _ = writeln!(out, "            matched, but {}", timing_line(&c.timing));
}

/// Problems in the order they came, one line each, except that beyond [`SHOWN_PER_KIND`] of
/// one code the rest are counted.
fn problem_lines(out: &mut String, problems: &[&Problem]) {
    for line in problem_summary(problems) {
        let _ = writeln!(out, "  {:<9} {line}", "problem");
    }
}

/// Problems as lines for people (inert), in the order they came, except that beyond
/// [`SHOWN_PER_KIND`] of one code the rest are counted: the same message at many addresses on
/// one line, and then how many more there are. Every report for people says them so.
pub(super) fn problem_summary(problems: &[&Problem]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut codes: Vec<Code> = Vec::new();
    for p in problems {
        if !codes.contains(&p.code) {
            codes.push(p.code);
        }
    }
    for code in codes {
        let of_code: Vec<&&Problem> = problems.iter().filter(|p| p.code == code).collect();
        if of_code.len() <= SHOWN_PER_KIND {
            for p in of_code {
                lines.push(format!("{} at {}: {}", wire_name(&p.stage), inert(&p.url), inert(&p.message)));
            }
            continue;
        }
        let mut messages: Vec<(&str, Vec<&str>)> = Vec::new();
        for p in &of_code {
            match messages.iter_mut().find(|(m, _)| *m == p.message) {
                Some((_, urls)) => urls.push(&p.url),
                None => messages.push((&p.message, vec![&p.url])),
            }
        }
        let stage = wire_name(&of_code[0].stage);
        for (message, urls) in messages.iter().take(SHOWN_PER_KIND) {
            let shown: Vec<String> = urls.iter().take(SHOWN_PER_KIND).map(|u| inert(u)).collect();
            let more = match urls.len().saturating_sub(SHOWN_PER_KIND) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            let count = if urls.len() > 1 {
                format!(" ×{}", urls.len())
            } else {
                String::new()
            };
            lines.push(format!("{stage}{count} at {}{more}: {}", shown.join(", "), inert(message)));
        }
        let hidden: usize = messages.iter().skip(SHOWN_PER_KIND).map(|(_, u)| u.len()).sum();
        if hidden > 0 {
            lines.push(format!(
                "{stage}: {hidden} more of this kind ({code}); `--format json` lists every one"
            ));
        }
    }
    lines
}

fn health(out: &mut String, r: &Report) {
    let width = r.sources.iter().map(|s| s.id.chars().count()).max().unwrap_or(0).max(6);
    let _ = writeln!(out, "\nhealth: {:<width$}  fetched  cached  failed  fetch time  status", "source");
    for s in &r.sources {
        let status = match s.status {
            SourceStatus::Checked => "checked",
            SourceStatus::Incomplete => "IN PART",
            SourceStatus::NotChecked => "NOT CHECKED",
        };
        let _ = writeln!(
            out,
            "        {:<width$}  {:>7}  {:>6}  {:>6}  {:>8.1} s  {status}",
            inert(&s.id),
            s.documents,
            s.cached,
            s.failed,
            s.fetch_seconds
        );
    }
}

fn summary(out: &mut String, r: &Report) {
    let items: usize = r.sources.iter().map(|s| s.items).sum();
    let (not_checked, in_part) = r.unchecked_sources();
    let incomplete = match (not_checked, in_part) {
        (0, 0) => String::new(),
        (n, p) => format!("; INCOMPLETE: {n} source(s) not checked, {p} checked in part"),
    };
    if let Some(replay) = &r.replay {
        let rules = match replay.own_rules {
            true => "its own rules",
            false => "the rule files named",
        };
        let _ = writeln!(
            out,
            "\nreplay: run {} (manifest {}) judged again over its captures, with {rules}; nothing recorded",
            replay.run, replay.manifest
        );
    }
    if let Some(state) = &r.state {
        let only = if state.new_only {
            " (only the new ones are listed: --new-only)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "\nstate: run {} in {}: {} new finding(s), {} open, {} resolved, {} dismissed by review{only}",
            state.run,
            inert(&state.store),
            state.new,
            state.open,
            state.resolved,
            state.dismissed
        );
        if let Some(manifest) = &state.manifest {
            let stamped = match &state.timestamp {
                None => String::new(),
                Some(crate::report::TimestampState::Obtained) => ", timestamped".into(),
                Some(crate::report::TimestampState::Failed { why }) => format!("; NOT timestamped: {}", inert(why)),
            };
            let _ = writeln!(
                out,
                "evidence: manifest {manifest}{stamped} (`blackout evidence verify --run {}`)",
                state.run
            );
        }
    }
    let _ = writeln!(
        out,
        "\nsummary: {} violation(s), {} warning(s), {} notice(s); {} item(s) from {} source(s), {} page(s) not checked (walls, empty pages, unreadable listings); {} problem(s){incomplete}",
        r.count(Severity::Violation),
        r.count(Severity::Warning),
        r.count(Severity::Notice),
        items,
        r.sources.len(),
        r.not_checked.len(),
        r.problems.len()
    );
}

pub(super) fn minute(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%MZ").to_string()
}

pub(super) fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Violation => "VIOLATION",
        Severity::Warning => "warning",
        Severity::Notice => "notice",
    }
}

/// How a timing was reached, in one line for people (web text made inert).
pub(super) fn timing_line(t: &Timing) -> String {
    let verdict = wire_name(&t.verdict).replace('_', " ");
    let Some(d) = &t.date else {
        return format!("{verdict} window `{}` (no usable date)", t.window);
    };
    let zones = match (t.zones_inside.len(), t.zones_outside.len()) {
        (0, _) => String::new(),
        (n, 0) => format!("; inside for every zone of the audience ({n})"),
        (n, m) if n <= m => format!("; inside for {} only", t.zones_inside.join(", ")),
        (n, m) => format!("; inside for {n} of {} zones, not for {}", n + m, t.zones_outside.join(", ")),
    };
    if let Some(line) = observed_line(t, d, &verdict, &zones) {
        return line;
    }
    let precision = if d.when.is_exact() {
        String::new()
    } else {
        format!(
            ", {} precision, between {} and {}",
            d.when.precision,
            d.when.earliest.format("%Y-%m-%dT%H:%MZ"),
            d.when.latest.format("%Y-%m-%dT%H:%MZ")
        )
    };
    format!(
        "{verdict} window `{}`: {} from {} \"{}\"{precision}{zones}",
        t.window,
        stamp(d.when.instant()),
        d.provenance.name(),
        inert(&d.raw)
    )
}

/// A timing that rests on what blackout saw itself, beside what the publisher says: "the page
/// says 5 May 21:30; first seen by blackout 6 May 02:00, absent at 5 May 23:00".
fn observed_line(t: &Timing, d: &DateRef, verdict: &str, zones: &str) -> Option<String> {
    let says = |what: &str| match &t.stated {
        Some(s) => format!(
            "the {} says {} ({} \"{}\")",
            if s.provenance.from_feed() { "feed" } else { "page" },
            stamp(s.when.instant()),
            s.provenance.name(),
            inert(&s.raw)
        ),
        None => format!("the publisher states no {what} date"),
    };
    let (after, by) = (stamp(d.when.earliest), stamp(d.when.latest));
    let w = &t.window;
    match d.provenance {
        Provenance::ObservedFirstSeen => Some(format!(
            "{verdict} window `{w}` by observation: {}; first seen by blackout {by}, absent at {after}{zones}",
            says("publication")
        )),
        Provenance::ObservedChanged => Some(format!(
            "{verdict} window `{w}` by observation: its content changed after {after} and by {by}; {}{zones}",
            says("modification")
        )),
        Provenance::ObservedShown => Some(format!(
            "{verdict} window `{w}` by observation: the listing showed it when blackout read it, {by} ({}){zones}",
            inert(&d.raw)
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Code;

    fn problem(code: Code, url: &str, message: &str) -> Problem {
        Problem::new("s", &url::Url::parse(url).unwrap(), code, message)
    }

    #[test]
    fn repeated_problems_are_counted_not_listed() {
        // Issue 10, bug 5: 20,000 entries whose pages answer 404 gave a 20,129-line report.
        let mut ps: Vec<Problem> = (0..20_000)
            .map(|i| problem(Code::HttpStatus, &format!("https://e.fr/{i}"), "HTTP 404 Not Found"))
            .collect();
        ps.push(problem(Code::HttpStatus, "https://e.fr/x", "HTTP 500 Internal Server Error"));
        ps.push(problem(Code::DateUnparseable, "https://e.fr/d", "pubDate `hier`: not a date"));
        let refs: Vec<&Problem> = ps.iter().collect();
        let mut out = String::new();
        problem_lines(&mut out, &refs);
        assert_eq!(
            out,
            "  problem   http ×20000 at https://e.fr/0, https://e.fr/1, https://e.fr/2 and 19997 more: HTTP 404 Not Found\n\
             \x20 problem   http at https://e.fr/x: HTTP 500 Internal Server Error\n\
             \x20 problem   date at https://e.fr/d: pubDate `hier`: not a date\n"
        );
    }

    #[test]
    fn many_kinds_of_one_code_are_counted_after_the_first_few() {
        let ps: Vec<Problem> = (0..10)
            .map(|i| problem(Code::DateUnparseable, &format!("https://e.fr/{i}"), &format!("`{i}`: not a date")))
            .collect();
        let refs: Vec<&Problem> = ps.iter().collect();
        let mut out = String::new();
        problem_lines(&mut out, &refs);
        assert_eq!(out.lines().count(), 4, "{out}");
        assert!(
            out.ends_with("  problem   date: 7 more of this kind (D001); `--format json` lists every one\n"),
            "{out}"
        );
    }
}
