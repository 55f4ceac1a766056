//! The report as one self-contained HTML page, for an editor in the morning and a regulator
//! forwarding it: inline CSS, no script, nothing fetched (a Content-Security-Policy forbids
//! it, so even a string that escaped escaping could not run or call out). A summary first,
//! then per outlet its timeline ([`super::timeline`]), its findings with the rule's message,
//! the legal basis, the timing and the matched passages highlighted, and its health. Every
//! web-sourced string goes through [`Html`]; only http(s) addresses become links.

use super::escape::{Html, link};
use super::text::{minute, problem_summary, timing_line};
use super::timeline::{self, Kind, Mark, slug};
use super::{Excerpts, Render, Report, SourceStatus, SourceSummary, WindowReport};
use crate::judge::{Finding, SpanReport};
use crate::model::{FindingState, Resolution, Severity, stamp, wire_name};
use crate::problem::Problem;
use std::fmt::Write as _;

/// The HTML renderer; `fail_on` is the threshold the summary calls failing.
pub struct Html5 {
    pub fail_on: Severity,
}

impl Render for Html5 {
    fn render(&self, report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.to_string(report).as_bytes())
    }
}

const STYLE: &str = include_str!("report.css");

impl Html5 {
    pub fn to_string(&self, r: &Report) -> String {
        let mut out = String::with_capacity(64 * 1024);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
             <meta name=\"referrer\" content=\"no-referrer\">\
             <title>{}</title><style>{STYLE}</style></head><body>",
            Html(&super::headline(r, self.fail_on))
        );
        self.summary(&mut out, r);
        for s in &r.sources {
            source(&mut out, r, s);
        }
        let _ = writeln!(
            out,
            "<footer><p>{} · rule files: {} · evaluated as of {}</p></footer></body></html>",
            Html(&r.tool),
            Html(&r.rule_files.join(", ")),
            stamp(r.evaluated_at)
        );
        out
    }

    fn summary(&self, out: &mut String, r: &Report) {
        let _ = write!(
            out,
            "<header><p class=\"kicker\">blackout report · {}</p><h1>{}</h1><p>Evaluated as of <time datetime=\"{}\">{}</time>",
            Html(&r.election),
            Html(&verdict_line(r, self.fail_on)),
            stamp(r.evaluated_at),
            stamp(r.evaluated_at),
        );
        if let Some(st) = &r.state {
            let _ = write!(out, "; run {} of the state store", st.run);
        }
        out.push_str(".</p></header><section class=\"summary\" aria-label=\"Summary\"><div class=\"cards\">");
        for (severity, label) in [
            (Severity::Violation, "violations"),
            (Severity::Warning, "warnings"),
            (Severity::Notice, "notices"),
        ] {
            let n = r.count(severity);
            let _ = write!(
                out,
                "<div class=\"card {}{}\"><span class=\"n\">{n}</span> {}</div>",
                wire_name(&severity),
                if n == 0 { " zero" } else { "" },
                if n == 1 { label.trim_end_matches('s') } else { label }
            );
        }
        if let Some(st) = &r.state {
            let _ = write!(
                out,
                "<div class=\"card\"><span class=\"n\">{}</span> new since last run</div>\
                 <div class=\"card\"><span class=\"n\">{}</span> resolved</div>",
                st.new, st.resolved
            );
        }
        let (not_checked, in_part) = r.unchecked_sources();
        let _ = write!(
            out,
            "<div class=\"card{}\"><span class=\"n\">{}</span> of {} outlets not checked whole</div></div>",
            if not_checked + in_part > 0 { " warning" } else { " zero" },
            not_checked + in_part,
            r.sources.len()
        );
        if let Some(st) = r.state.as_ref().filter(|s| s.new_only) {
            let _ = write!(
                out,
                "<p class=\"note\">Only findings new since the last run are listed ({} open ones are not).</p>",
                st.open
            );
        }
        if r.excerpts == Excerpts::Redacted {
            out.push_str(
                "<p class=\"note\">Matched passages are cut to their first words so that this report does not \
                 spread the material it reports; offsets and document ids say where they are. \
                 <code>--show-excerpts</code> shows them whole.</p>",
            );
        }
        let unchecked: Vec<&SourceSummary> = r.sources.iter().filter(|s| s.status != SourceStatus::Checked).collect();
        if !unchecked.is_empty() {
            out.push_str("<h2>Outlets not checked whole</h2><ul class=\"unchecked\">");
            for s in unchecked {
                let status = match s.status {
                    SourceStatus::NotChecked => "not checked",
                    _ => "checked in part",
                };
                let _ = write!(
                    out,
                    "<li><a href=\"#src-{}\">{}</a>: <strong>{status}</strong> — {}",
                    slug(&s.id),
                    Html(s.name.as_deref().unwrap_or(&s.id)),
                    Html(s.status_reason.as_deref().unwrap_or_default())
                );
                if let Some(since) = &s.failing_since {
                    let _ = write!(out, " (since run {}, {})", since.run, minute(since.at));
                }
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
        windows(out, r);
        out.push_str("</section>");
    }
}

/// "4 violations and 1 notice in 3 outlets (2 new)", the page's headline.
fn verdict_line(r: &Report, fail_on: Severity) -> String {
    let mut counts = Vec::new();
    for severity in [Severity::Violation, Severity::Warning, Severity::Notice] {
        let n = r.count(severity);
        if n > 0 {
            counts.push(format!("{n} {}{}", wire_name(&severity), if n == 1 { "" } else { "s" }));
        }
    }
    let outlets = match r.sources.len() {
        1 => "1 outlet".to_string(),
        n => format!("{n} outlets"),
    };
    let mut line = match counts.len() {
        0 => format!("No findings in {outlets}"),
        1 => format!("{} in {outlets}", counts[0]),
        _ => {
            let last = counts.pop().unwrap_or_default();
            format!("{} and {last} in {outlets}", counts.join(", "))
        }
    };
    if let Some(st) = &r.state {
        line.push_str(&format!(" ({} new)", st.new));
    }
    let (not_checked, in_part) = r.unchecked_sources();
    match not_checked + in_part {
        0 if !r.fails(fail_on) => line.push_str(", all checked"),
        0 => {}
        n => line.push_str(&format!("; {n} not checked whole")),
    }
    line
}

/// How the windows table writes a local time.
const DAY_TIME: &str = "%a %-d %b %Y %H:%M";

/// The windows the run's findings (or, without any, its items) were judged against, in every
/// zone in local time: zones whose window starts and ends at the same instants and the same
/// local hours share a row.
fn windows(out: &mut String, r: &Report) {
    let mut named: Vec<&str> = r.findings.iter().map(|f| f.window.as_str()).collect();
    named.extend(r.cleared.iter().map(|c| c.timing.window.as_str()));
    if named.is_empty() {
        named.extend(r.items.iter().flat_map(|i| i.timings.iter().map(|t| t.window.as_str())));
    }
    let shown: Vec<&WindowReport> = r.windows.iter().filter(|w| named.contains(&w.id.as_str())).collect();
    if shown.is_empty() {
        return;
    }
    out.push_str(
        "<h2>Windows</h2><div class=\"scroll\"><table class=\"windows\"><thead><tr><th scope=\"col\">window</th>\
         <th scope=\"col\">local time</th><th scope=\"col\">zones</th><th scope=\"col\">UTC</th></tr></thead><tbody>",
    );
    for w in shown {
        let mut first_row = true;
        for span in w.shared_spans(|_| true) {
            // Zones sharing a span may still read it at different local hours: a row per reading.
            let mut rows: Vec<(String, Vec<&super::ZoneWindow>)> = Vec::new();
            for z in &span.zones {
                let local = format!("{}<br>→ {}", z.local(span.start, DAY_TIME), z.local(span.end, DAY_TIME));
                match rows.iter_mut().find(|(l, _)| *l == local) {
                    Some((_, zones)) => zones.push(z),
                    None => rows.push((local, vec![z])),
                }
            }
            for (local, zones) in rows {
                let names: Vec<String> = zones
                    .iter()
                    .map(|z| format!("{} <small>{}</small>", Html(z.name()), Html(&z.tz)))
                    .collect();
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{local}</td><td>{}</td><td>{}<br>→ {}</td></tr>",
                    if first_row {
                        format!("<code>{}</code>", Html(&w.id))
                    } else {
                        String::new()
                    },
                    names.join(", "),
                    minute(span.start),
                    minute(span.end)
                );
                first_row = false;
            }
        }
    }
    out.push_str("</tbody></table></div>");
}

fn source(out: &mut String, r: &Report, s: &SourceSummary) {
    let findings: Vec<&Finding> = r.findings.iter().filter(|f| f.source == s.id).collect();
    let _ = write!(
        out,
        "<section class=\"outlet\" id=\"src-{}\"><h2>{}{} <small>{}</small></h2>",
        slug(&s.id),
        Html(s.name.as_deref().unwrap_or(&s.id)),
        if s.foreign {
            " <span class=\"tag\">foreign outlet</span>"
        } else {
            ""
        },
        Html(&s.id)
    );
    let status = match s.status {
        SourceStatus::Checked => "<span class=\"ok\">checked</span>".to_string(),
        SourceStatus::Incomplete => format!(
            "<strong class=\"bad\">checked in part</strong>: {}",
            Html(s.status_reason.as_deref().unwrap_or_default())
        ),
        SourceStatus::NotChecked => format!(
            "<strong class=\"bad\">not checked</strong>: {}",
            Html(s.status_reason.as_deref().unwrap_or_default())
        ),
    };
    let _ = write!(
        out,
        "<p class=\"health\">{status} · {} item(s) · {} document(s) fetched, {} unchanged since the last run, {} failed · {:.1} s fetching",
        s.items, s.documents, s.cached, s.failed, s.fetch_seconds
    );
    if let Some(last) = &s.last_checked {
        let _ = write!(out, " · last checked whole in run {} ({})", last.run, minute(last.at));
    }
    out.push_str("</p>");
    let items: Vec<_> = r.items.iter().filter(|i| i.source == s.id).collect();
    let mut marks: Vec<Mark> = items
        .iter()
        .map(|item| {
            let numbers: Vec<String> = (1..=findings.len())
                .filter(|n| findings[n - 1].url == item.url)
                .map(|n| n.to_string())
                .collect();
            let kind = match findings.iter().find(|f| f.url == item.url) {
                Some(f) => Kind::Finding(f.severity),
                None if r.cleared.iter().any(|c| c.source == s.id && c.url == item.url) => Kind::Cleared,
                None => Kind::Item(None),
            };
            Mark {
                item,
                kind,
                label: Some(numbers.join(",")).filter(|l| !l.is_empty()),
            }
        })
        .collect();
    timeline::place_items(r, s, &mut marks);
    if !marks.is_empty() {
        out.push_str("<figure class=\"timeline\">");
        timeline::svg(out, r, s, &marks);
        out.push_str(LEGEND);
        out.push_str("</figure>");
    }
    if findings.is_empty() {
        out.push_str(match r.state.as_ref().is_some_and(|st| st.new_only) {
            true => "<p class=\"clean\">No new finding for this outlet (open ones are not listed: <code>--new-only</code>).</p>",
            false => "<p class=\"clean\">No finding for this outlet.</p>",
        });
    }
    for (n, f) in findings.iter().enumerate() {
        finding(out, r, f, n + 1);
    }
    let resolved: Vec<_> = r.resolved.iter().filter(|g| g.key.source == s.id).collect();
    let dismissed: Vec<_> = r.suppressed.iter().filter(|d| d.key.source == s.id).collect();
    let cleared: Vec<_> = r.cleared.iter().filter(|c| c.source == s.id).collect();
    let unchecked: Vec<_> = r.not_checked.iter().filter(|n| n.source == s.id).collect();
    let problems: Vec<&Problem> = r.problems.iter().filter(|p| p.source == s.id).collect();
    if resolved.len() + dismissed.len() + cleared.len() + unchecked.len() + problems.len() > 0 {
        out.push_str("<ul class=\"other\">");
        for g in resolved {
            let why = match g.resolution {
                Resolution::NoLongerMatching => "read again, it no longer matches",
                Resolution::NoLongerListed => "no longer listed by the outlet (it may still be online)",
            };
            let _ = write!(
                out,
                "<li><span class=\"tag\">resolved</span> {} at {} — finding {}, reported from run {} to run {}: {why}</li>",
                Html(&g.key.rule),
                page(&g.key.url, None),
                Html(&g.id),
                g.first_run,
                g.last_run
            );
        }
        for d in dismissed {
            let _ = write!(
                out,
                "<li><span class=\"tag\">dismissed</span> {} at {} — judged a false positive by {} ({}); content unchanged since{}</li>",
                Html(&d.key.rule),
                page(&d.key.url, None),
                Html(&d.reviewer),
                minute(d.reviewed_at),
                d.note.as_deref().map(|n| format!(": {}", Html(n))).unwrap_or_default()
            );
        }
        for c in cleared {
            let _ = write!(
                out,
                "<li><span class=\"tag\">ok</span> {} at {}: matched, but {}</li>",
                Html(&c.rule),
                page(&c.url, c.title.as_deref()),
                Html(&timing_line(&c.timing).replace('`', ""))
            );
        }
        for n in unchecked {
            let _ = write!(
                out,
                "<li><span class=\"tag\">not checked</span> {}: {}</li>",
                page(&n.url, n.title.as_deref()),
                Html(&n.reason)
            );
        }
        for line in problem_summary(&problems) {
            let _ = write!(out, "<li><span class=\"tag bad\">problem</span> {}</li>", Html(&line));
        }
        out.push_str("</ul>");
    }
    item_table(out, &marks);
    out.push_str("</section>");
}

const LEGEND: &str = "<figcaption class=\"legend\">\
<span><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><path class=\"violation\" d=\"M8 1 l7 7 l-7 7 l-7 -7 z\"/></svg> violation</span>\
<span><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><path class=\"warning\" d=\"M2 2 h12 v12 h-12 z\"/></svg> warning</span>\
<span><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><path class=\"notice\" d=\"M1 8 l3.5 -6 h7 l3.5 6 l-3.5 6 h-7 z\"/></svg> notice (findings are numbered)</span>\
<span><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><path class=\"cleared\" d=\"M8 2 l6 11 h-12 z\"/></svg> matched, timing does not count</span>\
<span><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><circle class=\"inside\" cx=\"8\" cy=\"8\" r=\"5\"/></svg> other item, inside a window</span>\
<span><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><circle class=\"outside\" cx=\"8\" cy=\"8\" r=\"5\"/></svg> outside</span>\
<span><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><circle class=\"undated\" cx=\"8\" cy=\"8\" r=\"5\"/></svg> no usable date (placed when first seen)</span>\
<span><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><path class=\"seen\" d=\"M8 12 l5 -8 h-10 z\"/></svg> first seen by blackout</span>\
<span><svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><rect class=\"changed\" x=\"1\" y=\"6\" width=\"14\" height=\"5\"/></svg> changed between two runs</span>\
<span>shaded band: a window, in the zones named on its left</span></figcaption>";

fn finding(out: &mut String, r: &Report, f: &Finding, n: usize) {
    let state = match &f.tracking {
        None => String::new(),
        Some(t) if t.state == FindingState::New => "<span class=\"tag new\">new</span>".into(),
        Some(t) => format!(
            "<span class=\"tag\">open since run {} ({})</span>",
            t.first_run,
            minute(t.first_reported)
        ),
    };
    let _ = write!(
        out,
        "<article class=\"finding {sev}\" id=\"f-{id}\"><header><span class=\"num\">{n}</span>\
         <span class=\"sev\">{label}</span>{state}<h3>{title}</h3></header>\
         <p class=\"where\">{page} · rule <code>{rule}</code> · finding <code>{id}</code></p>\
         <p class=\"message\">{message}</p><dl>",
        sev = wire_name(&f.severity),
        id = Html(&f.id),
        label = wire_name(&f.severity).to_uppercase(),
        title = Html(f.title.as_deref().unwrap_or("(no title)")),
        page = page(&f.url, None),
        rule = Html(&f.rule),
        message = Html(&f.message),
    );
    if let Some(w) = r.windows.iter().find(|w| w.id == f.window) {
        basis(out, w);
    }
    let _ = write!(out, "<dt>Timing</dt><dd>{}", Html(&timing_line(&f.timing).replace('`', "")));
    out.push_str("</dd><dt>Matched</dt><dd><ul class=\"spans\">");
    for sp in &f.spans {
        span(out, sp);
    }
    out.push_str("</ul></dd>");
    // With a state store, the run's captures are kept: the finding's evidence is a command away.
    if let Some(state) = &r.state {
        let _ = write!(
            out,
            "<dt>Evidence</dt><dd>the captures it rests on, the rule, the timing and the run's manifest: <code>blackout evidence bundle {id} --state {store} -o {id}.zip</code></dd>",
            id = Html(&f.id),
            store = Html(&shell_word(&state.store)),
        );
    }
    out.push_str("</dl></article>");
}

/// `s` as one shell word, to copy and paste: single-quoted unless it needs no quoting.
fn shell_word(s: &str) -> String {
    match s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-:@%+=,".contains(c)) && !s.is_empty() {
        true => s.to_string(),
        false => format!("'{}'", s.replace('\'', "'\\''")),
    }
}

fn basis(out: &mut String, w: &WindowReport) {
    let _ = write!(
        out,
        "<dt>Legal basis</dt><dd>window <code>{}</code> ({}, {})",
        Html(&w.id),
        wire_name(&w.category).replace('_', " "),
        wire_name(&w.legal_force).replace('_', " ")
    );
    if !w.basis.is_empty() {
        out.push_str("<ul class=\"basis\">");
        for c in &w.basis {
            let title = match c.url.as_deref().and_then(link) {
                Some(u) => format!(
                    "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                    Html(u.as_str()),
                    Html(&c.title)
                ),
                None => Html(&c.title).to_string(),
            };
            let _ = write!(out, "<li>{title} <small>[{}]</small></li>", Html(&c.id));
        }
        out.push_str("</ul>");
    }
    out.push_str("</dd>");
}

fn span(out: &mut String, sp: &SpanReport) {
    let what = format!("{} of <code>{}</code>", wire_name(&sp.matcher), Html(&sp.material));
    if let Some(u) = &sp.url {
        // A link into the dump is shown, never linked.
        let _ = write!(out, "<li>{what}: link <span class=\"url\">{}</span></li>", Html(u));
        return;
    }
    let q = &sp.quote;
    let hidden = match crate::article::hidden_note(q.hidden_words, q.passage.is_empty()) {
        note if note.is_empty() => note,
        note => format!("<span class=\"hidden\">{}</span>", Html(&note)),
    };
    let words = sp
        .words
        .map(|w| format!(", {w} words of {}", Html(&sp.documents.clone().unwrap_or_default().join(", "))))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<li>{what} in {}{} at {}..{}{words}<blockquote>{}<mark>{}{hidden}</mark>{}</blockquote></li>",
        wire_name(&sp.scope),
        sp.teaser
            .as_deref()
            .map(|t| format!(" (the teaser of <span class=\"url\">{}</span>)", Html(t)))
            .unwrap_or_default(),
        sp.start,
        sp.end,
        Html(&q.before),
        Html(&q.passage),
        Html(&q.after)
    );
}

/// A page's address: a link when it is http(s) (shown as its title, if given), text otherwise.
fn page(url: &str, title: Option<&str>) -> String {
    let text = Html(title.unwrap_or(url)).to_string();
    match link(url) {
        Some(u) => format!(
            "<a class=\"url\" href=\"{}\" rel=\"noopener noreferrer\">{text}</a>",
            Html(u.as_str())
        ),
        None => format!("<span class=\"url\">{text}</span>"),
    }
}

/// The timeline's items as a table: its text alternative, and what a printout keeps.
fn item_table(out: &mut String, marks: &[Mark]) {
    if marks.is_empty() {
        return;
    }
    const SHOWN: usize = 200;
    let _ = write!(
        out,
        "<details class=\"items\"{}><summary>Items ({})</summary><div class=\"scroll\"><table><thead><tr>\
         <th scope=\"col\">#</th><th scope=\"col\">published</th><th scope=\"col\">verdict</th><th scope=\"col\">first seen</th>\
         <th scope=\"col\">item</th></tr></thead><tbody>",
        if marks.len() <= 30 { " open" } else { "" },
        marks.len()
    );
    for m in marks.iter().take(SHOWN) {
        let t = m.item.timings.iter().find(|t| t.instant.is_some());
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            m.label.as_deref().unwrap_or_default(),
            match t.filter(|t| t.provenance == Some(crate::article::Provenance::ObservedShown)) {
                // A listing timed by when it was read has no publication date to show.
                Some(shown) => format!("shown {}", shown.instant.map(minute).unwrap_or_default()),
                None => t
                    .and_then(|t| t.instant)
                    .or(m.item.published)
                    .map(minute)
                    .unwrap_or_else(|| "no usable date".into()),
            },
            Html(&m.kind.describe()),
            m.item.first_seen.map(minute).unwrap_or_default(),
            page(&m.item.url, m.item.title.as_deref())
        );
    }
    if marks.len() > SHOWN {
        let _ = write!(
            out,
            "<tr><td colspan=\"5\">… and {} more (the JSON report lists every item)</td></tr>",
            marks.len() - SHOWN
        );
    }
    out.push_str("</tbody></table></div></details>");
}
