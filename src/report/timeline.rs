//! The timeline of one outlet, as inline SVG: the days around its windows on a time axis, each
//! window as a band per group of audience zones sharing its span (labelled in local time),
//! each item a mark at its publication instant — its shape and colour saying its verdict, a
//! finding larger and outlined — and below, when blackout saw each item first and when it saw
//! it change. Every mark carries a `<title>` (its text alternative); the shapes differ, so
//! colour is never the only cue. Items outside the axis are drawn at its edge, with an arrow.

use super::escape::Html;
use super::{Report, SharedSpan as Band, SourceSummary};
use crate::article::Provenance;
use crate::judge::ItemReport;
use crate::model::{Severity, stamp, wire_name};
use chrono::{DateTime, Duration, DurationRound, Utc};
use std::fmt::Write as _;

/// Width of the drawing, in SVG units (it scales to the page).
const WIDTH: f64 = 960.0;
const MARGIN: f64 = 12.0;
/// Left column of the band rows' labels (the zones).
const GUTTER: f64 = 210.0;
const BAND: f64 = 17.0;
const LANE: f64 = 16.0;
/// Most items drawn one by one; beyond, items without a finding are counted in the caption.
pub const MAX_MARKS: usize = 1500;
const MAX_LANES: usize = 10;

/// What a mark stands for. Each has its own shape as well as its colour, so that colour is
/// never the only cue: a finding is a diamond (violation), a square (warning) or a hexagon
/// (notice); a match whose timing does not count a triangle; any other item a dot (inside a
/// window), a ring (outside the windows) or a dashed ring (no usable date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Finding(Severity),
    /// Matched, but its timing did not count.
    Cleared,
    /// Nothing matched: where its date lies against the outlet's windows (`None` until
    /// [`place_items`] says).
    Item(Option<Place>),
}

/// Where an item on which nothing matched lies against the outlet's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Inside the window of some zone of the audience.
    Inside,
    Outside,
    Undated,
}

impl Kind {
    pub fn class(self) -> String {
        match self {
            Kind::Finding(s) => format!("finding {}", wire_name(&s)),
            Kind::Cleared => "cleared".into(),
            Kind::Item(Some(Place::Inside)) => "inside".into(),
            Kind::Item(Some(Place::Outside)) => "outside".into(),
            Kind::Item(_) => "undated".into(),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Kind::Finding(s) => wire_name(&s),
            Kind::Cleared => "matched, timing does not count".into(),
            Kind::Item(Some(Place::Inside)) => "inside a window in some zone of the audience".into(),
            Kind::Item(Some(Place::Outside)) => "outside the windows".into(),
            Kind::Item(_) => "no usable date".into(),
        }
    }
}

/// One item as the timeline draws it.
pub struct Mark<'a> {
    pub item: &'a ItemReport,
    pub kind: Kind,
    /// Its numbers in the outlet's list of findings (`1,2`), shown beside the mark.
    pub label: Option<String>,
}

/// The instant an item is drawn at — the one its verdict rests on, or the publisher's date —
/// and whether it is such a date (or, without one, when blackout first saw or read it: a
/// listing's teasers timed by when it was read are that too).
pub fn placed(item: &ItemReport) -> Option<(DateTime<Utc>, bool)> {
    let verdict = item
        .timings
        .iter()
        .find_map(|t| t.instant.map(|i| (i, t.provenance != Some(Provenance::ObservedShown))));
    match verdict.or(item.published.map(|p| (p, true))) {
        Some(placed) => Some(placed),
        None => item.first_seen.or(item.fetched_at).map(|t| (t, false)),
    }
}

/// Places the items on which nothing matched (and so were timed against no window): inside
/// when their date lies in the window of some zone of the audience, outside when it lies in
/// none, undated without a date.
pub fn place_items(r: &Report, s: &SourceSummary, marks: &mut [Mark]) {
    let bands = bands(r, s, marks);
    for m in marks.iter_mut() {
        if let Kind::Item(None) = m.kind {
            let place = match placed(m.item) {
                Some((at, true)) if bands.iter().any(|b| b.start <= at && at < b.end) => Place::Inside,
                Some((_, true)) => Place::Outside,
                _ => Place::Undated,
            };
            m.kind = Kind::Item(Some(place));
        }
    }
}

pub fn svg(out: &mut String, r: &Report, s: &SourceSummary, marks: &[Mark]) {
    let bands = bands(r, s, marks);
    let (t0, t1) = axis(r, &bands, marks);
    let span = (t1 - t0).num_seconds().max(1) as f64;
    let x = |t: DateTime<Utc>| -> f64 {
        let at = (t - t0).num_seconds() as f64 / span;
        GUTTER + at.clamp(0.0, 1.0) * (WIDTH - GUTTER - MARGIN)
    };
    let shown: Vec<&Mark> = {
        let mut m: Vec<&Mark> = marks.iter().filter(|m| matches!(m.kind, Kind::Finding(_))).collect();
        m.extend(marks.iter().filter(|m| !matches!(m.kind, Kind::Finding(_))));
        m.truncate(MAX_MARKS);
        m
    };
    // Marks near each other are stacked in lanes, findings first so they sit on the axis; past
    // the last lane they overlap.
    let mut lanes: Vec<Vec<f64>> = Vec::new();
    let mut placed_marks = Vec::new();
    for m in &shown {
        let Some((at, dated)) = placed(m.item) else { continue };
        let px = x(at);
        let lane = match lanes.iter().position(|l| l.iter().all(|o| (px - o).abs() >= 26.0)) {
            Some(l) => l,
            None if lanes.len() < MAX_LANES => {
                lanes.push(Vec::new());
                lanes.len() - 1
            }
            None => MAX_LANES - 1,
        };
        lanes[lane].push(px);
        placed_marks.push((m, at, dated, px, lane));
    }
    let top = 22.0;
    let axis_y = top + bands.len() as f64 * BAND + 18.0 + lanes.len().max(1) as f64 * LANE;
    let observed_y = axis_y + 26.0;
    let height = observed_y + 30.0;
    let name = s.name.as_deref().unwrap_or(&s.id);
    let id = format!("tl-{}", slug(&s.id));
    let dated = placed_marks.iter().filter(|p| p.2).count();
    let _ = write!(
        out,
        "<svg class=\"timeline\" viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-t\">Timeline of {}</title>\
         <desc id=\"{id}-d\">{} item(s), {dated} placed at their publication date, from {} to {} (UTC); {} window band(s). \
         The table below lists the same items.</desc>",
        Html(name),
        marks.len(),
        stamp(t0),
        stamp(t1),
        bands.len()
    );
    days(out, t0, t1, &x, axis_y);
    let several = bands.iter().any(|b| b.window != bands[0].window);
    for (row, b) in bands.iter().enumerate() {
        band(out, b, row, &x, top, several);
    }
    let _ = write!(
        out,
        "<line class=\"axis\" x1=\"{GUTTER}\" x2=\"{}\" y1=\"{axis_y}\" y2=\"{axis_y}\"/>\
         <text class=\"lane-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">items, by date</text>\
         <text class=\"lane-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">seen / changed by blackout</text>",
        WIDTH - MARGIN,
        GUTTER - 8.0,
        axis_y - 4.0,
        GUTTER - 8.0,
        observed_y + 12.0
    );
    for (m, at, dated, px, lane) in &placed_marks {
        let y = axis_y - 8.0 - *lane as f64 * LANE;
        observations(out, m.item, *px, y, observed_y, (t0, t1), &x);
        mark(out, m, *at, *dated, *px, y, (t0, t1));
    }
    let hidden = marks.len() - shown.len();
    if hidden > 0 {
        let _ = write!(
            out,
            "<text class=\"lane-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{hidden} more item(s) without a finding not drawn</text>",
            WIDTH - MARGIN,
            observed_y + 22.0
        );
    }
    out.push_str("</svg>");
}

/// The window spans of the outlet's audience, one band per window and span, with the zones
/// that share it: of the windows its findings (or, without any, its items) were timed
/// against, or, when none was, of every window.
fn bands<'a>(r: &'a Report, s: &SourceSummary, marks: &[Mark]) -> Vec<Band<'a>> {
    let mut named: Vec<&str> = r.findings.iter().filter(|f| f.source == s.id).map(|f| f.window.as_str()).collect();
    if named.is_empty() {
        named.extend(marks.iter().flat_map(|m| m.item.timings.iter().map(|t| t.window.as_str())));
    }
    let mut bands: Vec<Band> = r
        .windows
        .iter()
        .filter(|w| named.is_empty() || named.contains(&w.id.as_str()))
        .flat_map(|w| w.shared_spans(|z| s.audience.is_empty() || s.audience.contains(&z.zone)))
        .collect();
    bands.sort_by_key(|b| (b.start, b.end));
    bands
}

/// The axis: whole UTC days from the day before the first band to the day after the last; with
/// no band, around the items.
fn axis(r: &Report, bands: &[Band], marks: &[Mark]) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = Duration::days(1);
    let (lo, hi) = match (bands.iter().map(|b| b.start).min(), bands.iter().map(|b| b.end).max()) {
        (Some(lo), Some(hi)) => (lo, hi),
        _ => {
            let at: Vec<DateTime<Utc>> = marks.iter().filter_map(|m| placed(m.item)).map(|p| p.0).collect();
            (
                at.iter().min().copied().unwrap_or(r.evaluated_at),
                at.iter().max().copied().unwrap_or(r.evaluated_at),
            )
        }
    };
    let t0 = lo.duration_trunc(day).unwrap_or(lo) - day;
    let t1 = hi.duration_trunc(day).unwrap_or(hi) + day + day;
    (t0, t1)
}

fn days(out: &mut String, t0: DateTime<Utc>, t1: DateTime<Utc>, x: &dyn Fn(DateTime<Utc>) -> f64, bottom: f64) {
    let n = (t1 - t0).num_days().max(1);
    let every = (n / 10).max(1);
    let mut d = t0;
    let mut i = 0;
    while d <= t1 {
        let px = x(d);
        let _ = write!(out, "<line class=\"day\" x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"16\" y2=\"{bottom}\"/>");
        if i % every == 0 && d < t1 {
            let _ = write!(
                out,
                "<text class=\"day-label\" x=\"{:.1}\" y=\"12\">{}</text>",
                px + 3.0,
                d.format("%a %-d %b")
            );
        }
        d += Duration::days(1);
        i += 1;
    }
}

/// One row: the zones on the left, the window's span as a bar, its local times in it.
fn band(out: &mut String, b: &Band, row: usize, x: &dyn Fn(DateTime<Utc>) -> f64, top: f64, several: bool) {
    let (x0, x1) = (x(b.start), x(b.end));
    let y = top + row as f64 * BAND;
    let first = b.zones[0];
    let local = |t: DateTime<Utc>| first.local(t, "%a %-d %b %H:%M");
    let mut zones = match b.zones.len() {
        1 => first.name().to_string(),
        n => format!("{} +{}", first.name(), n - 1),
    };
    if several {
        zones = format!("{}: {zones}", b.window);
    }
    let all: Vec<String> = b.zones.iter().map(|z| format!("{} ({})", z.name(), z.tz)).collect();
    let _ = write!(
        out,
        "<g class=\"band\"><title>{} in {}: {} to {} UTC</title>\
         <text class=\"band-zone\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
         <rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{}\" rx=\"2\"/>",
        Html(b.window),
        Html(&all.join(", ")),
        stamp(b.start),
        stamp(b.end),
        GUTTER - 8.0,
        y + 11.5,
        Html(&ellipsis(&zones, 34)),
        (x1 - x0).max(1.0),
        BAND - 3.0
    );
    let label = format!("{} → {} {}", local(b.start), local(b.end), short_tz(&first.tz));
    // Inside the bar when it fits (about 5.6 units a character), else beside it.
    let (tx, anchor) = match (x1 - x0 > label.chars().count() as f64 * 5.6 + 8.0, x1 + 4.0 < WIDTH - 200.0) {
        (true, _) => (x0 + 4.0, "start"),
        (false, true) => (x1 + 4.0, "start"),
        (false, false) => (x0 - 4.0, "end"),
    };
    let _ = write!(
        out,
        "<text class=\"band-label\" x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text></g>",
        y + 11.5,
        Html(&label)
    );
}

/// `Europe/Paris` → `Paris`: the label's clock, short.
fn short_tz(tz: &str) -> String {
    tz.rsplit('/').next().unwrap_or(tz).replace('_', " ")
}

fn ellipsis(s: &str, max: usize) -> String {
    match s.chars().count() > max {
        true => format!("{}…", s.chars().take(max - 1).collect::<String>()),
        false => s.to_string(),
    }
}

/// When blackout saw the item first (a tick) and saw it change (a bar between the two runs),
/// joined to its mark; off the axis, they are left to the mark's title and the table.
fn observations(
    out: &mut String,
    item: &ItemReport,
    px: f64,
    y: f64,
    row: f64,
    range: (DateTime<Utc>, DateTime<Utc>),
    x: &dyn Fn(DateTime<Utc>) -> f64,
) {
    let on_axis = |t: DateTime<Utc>| range.0 <= t && t <= range.1;
    if let Some(seen) = item.first_seen.filter(|t| on_axis(*t)) {
        let sx = x(seen);
        let _ = write!(
            out,
            "<g class=\"seen\"><title>first seen by blackout {}</title>\
             <line class=\"link\" x1=\"{px:.1}\" y1=\"{y:.1}\" x2=\"{sx:.1}\" y2=\"{row}\"/>\
             <path d=\"M{:.1} {} l5 -8 h-10 z\"/></g>",
            stamp(seen),
            sx,
            row + 6.0
        );
    }
    if let Some(changed) = item.changed.as_ref().filter(|c| on_axis(c.after) || on_axis(c.by)) {
        let (a, b) = (x(changed.after), x(changed.by));
        let _ = write!(
            out,
            "<g class=\"changed\"><title>content changed after {} and by {}</title>\
             <rect x=\"{a:.1}\" y=\"{}\" width=\"{:.1}\" height=\"5\"/></g>",
            stamp(changed.after),
            stamp(changed.by),
            row + 10.0,
            (b - a).max(2.0)
        );
    }
}

fn mark(out: &mut String, m: &Mark, at: DateTime<Utc>, dated: bool, px: f64, y: f64, range: (DateTime<Utc>, DateTime<Utc>)) {
    let title = m.item.title.as_deref().unwrap_or(&m.item.url);
    let when = match (dated, at < range.0, at > range.1) {
        (_, true, _) => format!("{}, before the axis", stamp(at)),
        (_, _, true) => format!("{}, after the axis", stamp(at)),
        (true, ..) => stamp(at),
        (false, ..) => format!("no usable date; read by blackout {}", stamp(at)),
    };
    let label = m.label.as_deref().map(|n| format!("finding {n}: ")).unwrap_or_default();
    let _ = write!(
        out,
        "<g class=\"mark {}{}\"><title>{label}{}: {} — {when}</title>",
        m.kind.class(),
        if dated { "" } else { " by-observation" },
        Html(&m.kind.describe()),
        Html(title)
    );
    let shape = match m.kind {
        Kind::Finding(Severity::Violation) => format!("<path d=\"M{px:.1} {:.1} l7 7 l-7 7 l-7 -7 z\"/>", y - 7.0),
        Kind::Finding(Severity::Warning) => format!("<path d=\"M{:.1} {:.1} h12 v12 h-12 z\"/>", px - 6.0, y - 6.0),
        Kind::Finding(Severity::Notice) => format!("<path d=\"M{:.1} {y:.1} l3.5 -6 h7 l3.5 6 l-3.5 6 h-7 z\"/>", px - 7.0),
        Kind::Cleared => format!("<path d=\"M{px:.1} {:.1} l6 10 h-12 z\"/>", y - 6.0),
        Kind::Item(_) => format!("<circle cx=\"{px:.1}\" cy=\"{y:.1}\" r=\"4.5\"/>"),
    };
    out.push_str(&shape);
    if at < range.0 || at > range.1 {
        let dx = if at < range.0 { -1.0 } else { 1.0 };
        let _ = write!(
            out,
            "<path class=\"off\" d=\"M{:.1} {y:.1} l{} -4 v8 z\"/>",
            px + dx * 9.0,
            dx * 5.0
        );
    }
    if let Some(n) = &m.label {
        let _ = write!(
            out,
            "<text class=\"mark-label\" x=\"{:.1}\" y=\"{:.1}\">{n}</text>",
            px + 9.0,
            y + 4.0
        );
    }
    out.push_str("</g>");
}

/// An id-safe form of a source id.
pub fn slug(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}
