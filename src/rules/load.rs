//! Validation of parsed rule files into a [`RuleSet`]: every reference resolved, every
//! window resolved per zone, every problem collected as a [`Diagnostic`] with its span.

use super::diag::{Diagnostic, SourceFile, did_you_mean};
use super::raw::{self, S};
use super::*;
use crate::fetch::Location;
use crate::model::{MaterialId, RoundId, Scope, WindowId, ZoneId};
use crate::window::{self, AnchorSpec, Base, ClockRef, Policy, ResolveError, Target, ZoneClock, ZoneSpan};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reads one rule file table by table: each top-level key, and each `[[table]]` of an array on
/// its own, so that two broken rules give two diagnostics (serde stops at the first problem of
/// whatever it deserialises). `None` when anything could not be read.
pub(super) fn parse_file(file: &Arc<SourceFile>, diags: &mut Vec<Diagnostic>) -> Option<raw::File> {
    let doc = match toml::de::DeTable::parse(&file.text) {
        Ok(doc) => doc,
        Err(e) => {
            diags.push(toml_diagnostic(file, &e));
            return None;
        }
    };
    let before = diags.len();
    let mut out = raw::File::default();
    for (key, value) in doc.get_ref().iter() {
        match key.get_ref().as_ref() {
            "schema" => out.schema = value_of(file, value, diags),
            "election" => out.election = value_of(file, value, diags),
            "citation" => out.citation = tables(file, value, diags),
            "zone" => out.zone = tables(file, value, diags),
            "zone_group" => out.zone_group = tables(file, value, diags),
            "window" => out.window = tables(file, value, diags),
            "source" => out.source = tables(file, value, diags),
            "material" => out.material = tables(file, value, diags),
            "rule" => out.rule = tables(file, value, diags),
            other => {
                let d = Diagnostic::new("R002", file, key.span(), format!("unknown key `{other}`")).label("not a key of a rule file");
                diags.push(match did_you_mean(other, raw::TOP_LEVEL_KEYS.iter().copied()) {
                    Some(best) => d.hint(format!("did you mean `{best}`?")),
                    None => d.hint(format!("a rule file's keys are {}", ticked(raw::TOP_LEVEL_KEYS))),
                });
            }
        }
    }
    if doc.get_ref().get("schema").is_none() {
        diags.push(
            Diagnostic::new("R003", file, 0..0, "missing key `schema`")
                .label("in this file")
                .hint("start the file with `schema = 1`"),
        );
    }
    (diags.len() == before).then_some(out)
}

/// One value, its errors reported with their spans in the file.
fn value_of<T: serde::de::DeserializeOwned>(
    file: &Arc<SourceFile>,
    value: &S<toml::de::DeValue>,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    T::deserialize(toml::de::ValueDeserializer::from(value.clone()))
        .map_err(|e| diags.push(toml_diagnostic(file, &e)))
        .ok()
}

/// An array of tables, element by element.
fn tables<T: serde::de::DeserializeOwned>(file: &Arc<SourceFile>, value: &S<toml::de::DeValue>, diags: &mut Vec<Diagnostic>) -> Vec<S<T>> {
    match value.get_ref().as_array() {
        Some(items) => items.iter().filter_map(|v| value_of(file, v, diags)).collect(),
        None => value_of(file, value, diags).unwrap_or_default(),
    }
}

fn ticked(words: &[&str]) -> String {
    words.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

/// Turns a TOML/serde error into a diagnostic with a hint.
fn toml_diagnostic(file: &Arc<SourceFile>, e: &toml::de::Error) -> Diagnostic {
    let span = e.span().unwrap_or(0..0);
    let message = e.message().trim().to_string();
    // serde names the offending word and the expected ones in backticks.
    let backticked: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    let wrong = backticked.first().copied().unwrap_or_default();
    let suggestion = || {
        let expected = backticked.get(1..).unwrap_or_default();
        match did_you_mean(wrong, expected.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("expected one of {}", ticked(expected)),
        }
    };
    if message.starts_with("unknown field ") {
        return Diagnostic::new("R002", file, span, format!("unknown key `{wrong}`"))
            .label("not a key of this table")
            .hint(suggestion());
    }
    if message.starts_with("unknown variant ") {
        return Diagnostic::new("R004", file, span, format!("invalid value `{wrong}`"))
            .label("not an allowed value")
            .hint(suggestion());
    }
    if message.starts_with("missing field ") {
        return Diagnostic::new("R003", file, span, format!("missing key `{wrong}`"))
            .label("in this table")
            .hint(format!(
                "add `{wrong} = …` to this table (see the rule-file reference in README.md)"
            ));
    }
    Diagnostic::new("R001", file, span, message.lines().next().unwrap_or("invalid TOML").to_string())
        .label("here")
        .hint("check the TOML syntax at this position")
}

/// Collects diagnostics while building the validated set.
#[derive(Default)]
pub(super) struct Loader {
    pub(super) diags: Vec<Diagnostic>,
    /// Every id seen, by namespace: where it was first defined.
    ids: HashMap<(&'static str, String), Definition>,
    /// Materials whose fingerprint index is missing or broken (already reported).
    unusable_indexes: HashSet<String>,
}

/// Where an id was first defined.
type Definition = (Arc<SourceFile>, Range<usize>);

/// Rule-file values carry their file along during validation.
type At<'a, T> = (&'a Arc<SourceFile>, &'a S<T>);

impl Loader {
    fn error(&mut self, code: &'static str, file: &Arc<SourceFile>, span: Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::new(code, file, span, message));
        self.diags.last_mut().expect("just pushed")
    }

    /// Registers an id in a namespace; a second definition is an error pointing at the first.
    fn define(&mut self, namespace: &'static str, file: &Arc<SourceFile>, id: &S<String>) {
        let key = (namespace, id.get_ref().clone());
        if let Some((first_file, first_span)) = self.ids.get(&key) {
            let (line, col) = first_file.line_col(first_span.start);
            let hint = format!(
                "first defined at {}:{line}:{col}; ids must be unique across all rule files of a run",
                first_file.path.display()
            );
            let d = Diagnostic::new("R013", file, id.span(), format!("duplicate {namespace} id `{}`", id.get_ref()))
                .label("defined again here")
                .hint(hint);
            self.diags.push(d);
            return;
        }
        if id.get_ref().trim().is_empty() {
            self.error("R004", file, id.span(), format!("empty {namespace} id")).hint =
                Some("give it a short stable id such as `metropole`".into());
        }
        self.ids.insert(key, (Arc::clone(file), id.span()));
    }

    fn unknown_ref(&mut self, what: &str, (file, value): At<String>, known: &[&str]) {
        // An id that is defined but failed its own validation was already reported there.
        if self.ids.keys().any(|(ns, id)| id == value.get_ref() && what.contains(ns)) {
            return;
        }
        let mut d = Diagnostic::new("R012", file, value.span(), format!("unknown {what} `{}`", value.get_ref()))
            .label(format!("no {what} has this id"));
        // Ids defined but dropped by their own errors are still candidates for a typo.
        let mut known: Vec<&str> = known.to_vec();
        for (ns, id) in self.ids.keys() {
            if what.contains(ns) && !known.contains(&id.as_str()) {
                known.push(id);
            }
        }
        d = d.hint(match did_you_mean(value.get_ref(), known.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None if known.is_empty() => format!("no {what} is defined in the rule files of this run"),
            None => format!(
                "known: {}",
                known.iter().take(12).map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
        });
        self.diags.push(d);
    }

    fn date(&mut self, (file, value): At<String>) -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(value.get_ref(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(e) => {
                self.error("R011", file, value.span(), format!("invalid date `{}`: {e}", value.get_ref()))
                    .hint = Some("write dates as `YYYY-MM-DD`".into());
                None
            }
        }
    }

    fn time(&mut self, (file, value): At<String>) -> Option<NaiveTime> {
        match NaiveTime::parse_from_str(value.get_ref(), "%H:%M") {
            Ok(t) => Some(t),
            Err(e) => {
                self.error("R011", file, value.span(), format!("invalid time `{}`: {e}", value.get_ref()))
                    .hint = Some("write local times as `HH:MM` (24-hour clock); midnight at the start of a day is `00:00`".into());
                None
            }
        }
    }

    fn tz(&mut self, (file, value): At<String>) -> Option<Tz> {
        let written = value.get_ref();
        if let Ok(tz) = written.parse::<Tz>() {
            return Some(tz);
        }
        let hint = match abbreviation_zones(written) {
            Some(zones) => format!(
                "`{written}` is an abbreviation, not a zone: name a place on that clock (its summer and winter time come with it), such as {}",
                ticked(zones)
            ),
            None => {
                let mut near: Vec<(usize, &str)> = chrono_tz::TZ_VARIANTS
                    .iter()
                    .map(|t| (strsim::levenshtein(&t.name().to_lowercase(), &written.to_lowercase()), t.name()))
                    .collect();
                near.sort();
                let names: Vec<&str> = near.iter().take(3).map(|(_, n)| *n).collect();
                format!("nearest IANA names: {}", ticked(&names))
            }
        };
        let d = self.error("R010", file, value.span(), format!("unknown time zone `{written}`"));
        d.label = "not an IANA time zone name".into();
        d.hint = Some(hint);
        None
    }

    /// Validates the parsed files in dependency order: ids first, then what each table refers
    /// to. Every problem is collected; `None` once something a later step needs is missing.
    pub(super) fn build(&mut self, files: &[(Arc<SourceFile>, raw::File)]) -> Option<RuleSet> {
        self.check_schemas(files);
        let (efile, election) = self.the_election(files)?;
        self.define_ids(files, efile, election);
        let citations: Vec<Citation> = files
            .iter()
            .flat_map(|(_, f)| &f.citation)
            .map(|c| {
                let c = c.get_ref();
                Citation {
                    id: c.id.get_ref().clone(),
                    title: c.title.clone(),
                    url: c.url.clone(),
                }
            })
            .collect();
        let rounds = self.rounds(efile, election)?;
        let zones = self.zones(files, &rounds, &citations);
        let zone_ids: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
        // A reference zone that failed its own checks (say, a misspelt `tz`) was reported there;
        // the other tables are still checked, so every problem is reported at once.
        let reference_zone = self.zone_ref((efile, &election.get_ref().reference_zone), &zone_ids);
        let groups = self.groups(files, &zones);
        let windows = self.windows(files, &rounds, &zones, &groups, &citations);
        let sources = self.sources(files, &zones, &groups);
        let materials = self.materials(files);
        let rules = self.rules(files, &windows, &materials, &citations);
        let e = election.get_ref();
        Some(RuleSet {
            election: Election {
                id: e.id.get_ref().clone(),
                name: e.name.clone(),
                country: e.country.clone(),
                kind: e.kind.clone(),
                reference_zone: reference_zone?,
                tzdb_computed_with: e.tzdb_computed_with.clone(),
            },
            rounds,
            zones,
            windows,
            sources,
            materials,
            rules,
            citations,
        })
    }

    fn check_schemas(&mut self, files: &[(Arc<SourceFile>, raw::File)]) {
        for (file, f) in files {
            if let Some(schema) = f.schema.as_ref().filter(|s| *s.get_ref() != 1) {
                self.error(
                    "R005",
                    file,
                    schema.span(),
                    format!("unsupported schema version {}", schema.get_ref()),
                )
                .hint = Some("this version of blackout reads `schema = 1`".into());
            }
        }
    }

    /// The one `[election]` table of the run.
    fn the_election<'a>(&mut self, files: &'a [(Arc<SourceFile>, raw::File)]) -> Option<(&'a Arc<SourceFile>, &'a S<raw::Election>)> {
        let elections: Vec<(&Arc<SourceFile>, &S<raw::Election>)> = files
            .iter()
            .filter_map(|(file, f)| f.election.as_ref().map(|e| (file, e)))
            .collect();
        match elections.as_slice() {
            [one] => Some(*one),
            [] => {
                let file = &files.first()?.0;
                self.error("R025", file, 0..0, "no `[election]` table in the rule files of this run")
                    .hint =
                    Some("pass the jurisdiction file (e.g. `rules/fr-2017-presidentielle.toml`) together with your sources file".into());
                None
            }
            [_, (file, second), ..] => {
                self.error("R025", file, second.span(), "more than one `[election]` table in this run")
                    .hint = Some("combine one jurisdiction file with sources-only files; run elections separately".into());
                None
            }
        }
    }

    /// Registers every id, in every namespace, before anything refers to them.
    fn define_ids(&mut self, files: &[(Arc<SourceFile>, raw::File)], efile: &Arc<SourceFile>, election: &S<raw::Election>) {
        for (file, f) in files {
            for c in &f.citation {
                self.define("citation", file, &c.get_ref().id);
            }
            for z in &f.zone {
                self.define("zone", file, &z.get_ref().id);
            }
            for g in &f.zone_group {
                self.define("zone group", file, &g.get_ref().id);
                if g.get_ref().id.get_ref() == "all" {
                    self.error("R013", file, g.get_ref().id.span(), "zone group id `all` is reserved")
                        .hint = Some("`all` always means every zone of the election; pick another id".into());
                }
            }
            for w in &f.window {
                self.define("window", file, &w.get_ref().id);
            }
            for s in &f.source {
                self.define("source", file, &s.get_ref().id);
            }
            for m in &f.material {
                self.define("material", file, &m.get_ref().id);
            }
            for r in &f.rule {
                self.define("rule", file, &r.get_ref().id);
            }
        }
        for r in &election.get_ref().rounds {
            self.define("round", efile, &r.get_ref().id);
        }
    }

    fn rounds(&mut self, efile: &Arc<SourceFile>, election: &S<raw::Election>) -> Option<Vec<Round>> {
        let rounds: Vec<Round> = election
            .get_ref()
            .rounds
            .iter()
            .filter_map(|r| {
                Some(Round {
                    id: r.get_ref().id.get_ref().clone(),
                    polling_date: self.date((efile, &r.get_ref().polling_date))?,
                })
            })
            .collect();
        if rounds.len() != election.get_ref().rounds.len() {
            return None;
        }
        if rounds.is_empty() {
            self.error("R003", efile, election.span(), "the election has no rounds").hint =
                Some("add `rounds = [{ id = \"r1\", polling_date = \"YYYY-MM-DD\" }]`".into());
            return None;
        }
        Some(rounds)
    }

    /// Citation references must name a `[[citation]]`.
    fn check_cites(&mut self, file: &Arc<SourceFile>, cites: &[S<String>], citations: &[Citation]) {
        let ids: Vec<&str> = citations.iter().map(|c| c.id.as_str()).collect();
        for c in cites {
            if !ids.contains(&c.get_ref().as_str()) {
                self.unknown_ref("citation", (file, c), &ids);
            }
        }
    }

    fn zones(&mut self, files: &[(Arc<SourceFile>, raw::File)], rounds: &[Round], citations: &[Citation]) -> Vec<Zone> {
        let round_ids: Vec<&str> = rounds.iter().map(|r| r.id.as_str()).collect();
        let mut zones = Vec::new();
        for (file, f) in files {
            for z in &f.zone {
                let z = z.get_ref();
                self.check_cites(file, &z.cite, citations);
                for (round, date) in &z.polling_dates {
                    if !round_ids.contains(&round.as_str()) {
                        let span = date.span();
                        self.error("R012", file, span, format!("`polling_dates` names unknown round `{round}`"))
                            .hint = Some(format!("rounds of this election: {}", round_ids.join(", ")));
                    }
                }
                let tz = self.tz((file, &z.tz));
                let open = self.time((file, &z.polls_open));
                let close = self.time((file, &z.polls_close));
                let close_max = z.polls_close_max.as_ref().map(|t| self.time((file, t)));
                let mut days = Vec::new();
                for r in rounds {
                    days.push(match z.polling_dates.get(&r.id) {
                        Some(d) => self.date((file, d)),
                        None => Some(r.polling_date),
                    });
                }
                if let (Some(tz), Some(open), Some(close), Some(days)) = (tz, open, close, days.into_iter().collect::<Option<Vec<_>>>()) {
                    let close_max = match close_max {
                        Some(Some(t)) => t,
                        Some(None) => continue,
                        None => close,
                    };
                    if close <= open || close_max < close {
                        self.error(
                            "R015",
                            file,
                            z.polls_close.span(),
                            "polls must close after they open, and `polls_close_max` may not be before `polls_close`",
                        )
                        .hint = Some("check the local opening and closing times".into());
                    }
                    zones.push(Zone {
                        id: z.id.get_ref().clone(),
                        label: z.label.clone(),
                        tz,
                        polling_days: days,
                        polls_open: open,
                        polls_close: close,
                        polls_close_max: close_max,
                        confidence: z.confidence,
                    });
                }
            }
        }
        zones
    }

    /// Zone groups by id, with the reserved `all`.
    fn groups(&mut self, files: &[(Arc<SourceFile>, raw::File)], zones: &[Zone]) -> HashMap<String, Vec<ZoneId>> {
        let zone_id_refs: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
        let mut groups: HashMap<String, Vec<ZoneId>> = HashMap::new();
        groups.insert("all".into(), (0..zones.len()).map(ZoneId).collect());
        for (file, f) in files {
            for g in &f.zone_group {
                let g = g.get_ref();
                let members: Vec<ZoneId> = g.zones.iter().filter_map(|z| self.zone_ref((file, z), &zone_id_refs)).collect();
                groups.insert(g.id.get_ref().clone(), members);
            }
        }
        groups
    }

    /// Windows, resolved per zone into UTC and checked against their `expect` instants.
    fn windows(
        &mut self,
        files: &[(Arc<SourceFile>, raw::File)],
        rounds: &[Round],
        zones: &[Zone],
        groups: &HashMap<String, Vec<ZoneId>>,
        citations: &[Citation],
    ) -> Vec<Window> {
        let round_ids: Vec<&str> = rounds.iter().map(|r| r.id.as_str()).collect();
        let zone_id_refs: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
        let clocks = |round: RoundId| -> Vec<ZoneClock> {
            zones
                .iter()
                .map(|z| ZoneClock {
                    id: z.id.clone(),
                    tz: z.tz,
                    polling_day: z.polling_days[round.index()],
                    open: z.polls_open,
                    close: z.polls_close,
                    close_max: z.polls_close_max,
                })
                .collect()
        };
        let mut windows = Vec::new();
        for (file, f) in files {
            for w in &f.window {
                let w = w.get_ref();
                self.check_cites(file, &w.basis, citations);
                let round = match &w.round {
                    Some(r) => match round_ids.iter().position(|id| id == r.get_ref()) {
                        Some(i) => RoundId(i),
                        None => {
                            self.unknown_ref("round", (file, r), &round_ids);
                            continue;
                        }
                    },
                    None if rounds.len() == 1 => RoundId(0),
                    None => {
                        self.error(
                            "R003",
                            file,
                            w.id.span(),
                            format!("window `{}` does not say which round it belongs to", w.id.get_ref()),
                        )
                        .hint = Some(format!("add `round = \"…\"`; rounds: {}", round_ids.join(", ")));
                        continue;
                    }
                };
                let Some(members) = self.zone_sel(file, &w.zones, &zone_id_refs, groups) else {
                    continue;
                };
                let start = self.anchor(file, &w.start, &zone_id_refs, groups);
                let end = self.anchor(file, &w.end, &zone_id_refs, groups);
                let (Some(start), Some(end)) = (start, end) else { continue };
                let policy = Policy {
                    on_gap: w.on_gap.unwrap_or_default(),
                    on_overlap: w.on_overlap.unwrap_or_default(),
                };
                let clocks = clocks(round);
                let mut spans = Vec::new();
                for &zi in &members {
                    let s = self.resolve(file, w, &w.start, &start, zi, &clocks, policy);
                    let e = self.resolve(file, w, &w.end, &end, zi, &clocks, policy);
                    if let (Some(s), Some(e)) = (s, e) {
                        if e <= s {
                            self.error(
                                "R015",
                                file,
                                w.end.span(),
                                format!(
                                    "window `{}` ends at {} in zone `{}`, not after its start {}",
                                    w.id.get_ref(),
                                    e.format("%Y-%m-%dT%H:%MZ"),
                                    zones[zi.index()].id,
                                    s.format("%Y-%m-%dT%H:%MZ")
                                ),
                            )
                            .hint = Some("check `start` and `end`: the end must come after the start in every zone".into());
                        }
                        spans.push(ZoneSpan {
                            zone: zi,
                            start: s,
                            end: e,
                        });
                    }
                }
                for x in &w.expect {
                    self.check_expect(file, w, x.get_ref(), &spans, &zone_id_refs);
                }
                windows.push(Window {
                    id: w.id.get_ref().clone(),
                    round,
                    category: w.category,
                    legal_force: w.legal_force,
                    pre_window_content: w.pre_window_content.unwrap_or_default(),
                    basis: w.basis.iter().map(|b| b.get_ref().clone()).collect(),
                    note: w.note.clone(),
                    spans,
                });
            }
        }
        windows
    }

    fn sources(&mut self, files: &[(Arc<SourceFile>, raw::File)], zones: &[Zone], groups: &HashMap<String, Vec<ZoneId>>) -> Vec<Source> {
        let zone_id_refs: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
        let mut sources = Vec::new();
        for (file, f) in files {
            let dir = file.path.parent().map(Path::to_path_buf).unwrap_or_default();
            for s in &f.source {
                let s = s.get_ref();
                let Some(audience) = self.zone_sel(file, &s.audience, &zone_id_refs, groups) else {
                    continue;
                };
                let tz = s.tz.as_ref().and_then(|t| self.tz((file, t)));
                let charset = s
                    .charset
                    .as_ref()
                    .and_then(|c| match encoding_rs::Encoding::for_label(c.get_ref().as_bytes()) {
                        Some(e) => Some(e),
                        None => {
                            self.error("R022", file, c.span(), format!("unknown character encoding `{}`", c.get_ref()))
                                .hint = Some("use a WHATWG encoding label such as `utf-8`, `windows-1252` or `iso-8859-15`".into());
                            None
                        }
                    });
                let mut location = |v: &S<String>| match Location::parse(v.get_ref(), &dir) {
                    Ok(l) => Some(l),
                    Err(why) => {
                        self.error("R021", file, v.span(), format!("invalid location `{}`: {why}", v.get_ref()))
                            .hint = Some("give a path relative to this rule file, a `file://` URL or an `http(s)://` URL".into());
                        None
                    }
                };
                let feeds: Vec<Location> = s.feed.iter().filter_map(&mut location).collect();
                let homes: Vec<Location> = s.home.iter().filter_map(&mut location).collect();
                let sitemaps: Vec<Location> = s.sitemap.iter().filter_map(&mut location).collect();
                let pages: Vec<Location> = s.pages.iter().filter_map(&mut location).collect();
                let dirs: Vec<PathBuf> = s.path.iter().map(|p| dir.join(p.get_ref())).collect();
                if s.feed.is_none() && s.home.is_none() && s.sitemap.is_none() && s.pages.is_empty() && s.path.is_none() {
                    self.error(
                        "R023",
                        file,
                        s.id.span(),
                        format!("source `{}` has nothing to read", s.id.get_ref()),
                    )
                    .hint = Some("give it a `feed`, a `home` page advertising feeds, a `sitemap`, `pages` or a local `path`".into());
                }
                sources.push(Source {
                    id: s.id.get_ref().clone(),
                    name: s.name.clone(),
                    feeds,
                    homes,
                    sitemaps,
                    pages,
                    dirs,
                    audience,
                    tz,
                    charset,
                    foreign: s.foreign,
                    ignore_robots: s.ignore_robots,
                    max_body: s.max_body,
                });
            }
        }

        sources
    }

    fn materials(&mut self, files: &[(Arc<SourceFile>, raw::File)]) -> Vec<Material> {
        let mut materials = Vec::new();
        for (file, f) in files {
            let dir = file.path.parent().map(Path::to_path_buf).unwrap_or_default();
            for m in &f.material {
                let m = m.get_ref();
                let mut clean = |list: &[S<String>], what: &str| -> Vec<String> {
                    list.iter()
                        .filter_map(|p| {
                            if crate::normalize::normalize(p.get_ref()).text.trim().is_empty() {
                                self.error("R021", file, p.span(), format!("empty {what} in material `{}`", m.id.get_ref()))
                                    .hint = Some("remove it or write the words to match".into());
                                None
                            } else {
                                Some(p.get_ref().clone())
                            }
                        })
                        .collect()
                };
                let phrases = clean(&m.phrases, "phrase");
                let hashtags = clean(&m.hashtags, "hashtag");
                let links: Vec<LinkPrefix> = m
                    .links
                    .iter()
                    .filter_map(|l| match LinkPrefix::parse(l.get_ref()) {
                        Some(p) => Some(p),
                        None => {
                            self.error("R021", file, l.span(), format!("invalid link prefix `{}`", l.get_ref()))
                                .hint = Some("write a host with an optional path prefix, e.g. `archive.org/details/EMLEAKS/`".into());
                            None
                        }
                    })
                    .collect();
                materials.push(Material {
                    id: m.id.get_ref().clone(),
                    name: m.name.clone(),
                    phrases,
                    patterns: m.patterns.iter().filter_map(|p| self.pattern(file, m, p)).collect(),
                    hashtags,
                    links,
                    fingerprints: m.fingerprints.as_ref().and_then(|p| self.fingerprints(file, &dir, m, p)),
                    redact_words: m.redact_words.map_or(crate::detect::REDACT_WORDS, |n| n as usize),
                });
            }
        }
        materials
    }

    /// A material's pattern, compiled once for the whole run.
    fn pattern(&mut self, file: &Arc<SourceFile>, m: &raw::Material, p: &S<String>) -> Option<Pattern> {
        match regex::RegexBuilder::new(p.get_ref()).case_insensitive(true).build() {
            Ok(regex) => Some(Pattern {
                written: p.get_ref().clone(),
                regex,
            }),
            Err(e) => {
                let detail = e.to_string();
                let last = detail
                    .lines()
                    .rfind(|l| l.starts_with("error:"))
                    .unwrap_or("invalid regex")
                    .trim_start_matches("error: ")
                    .to_string();
                // Point the caret at the position inside the pattern when the regex error
                // names one (the string literal's opening quote is 1 byte).
                let span = regex_error_span(&detail, p.span());
                self.error(
                    "R020",
                    file,
                    span,
                    format!("invalid regex in material `{}`: {last}", m.id.get_ref()),
                )
                .hint =
                    Some("patterns use Rust regex syntax (https://docs.rs/regex); escape literal `(`, `.`, `?` with a backslash".into());
                None
            }
        }
    }

    /// A material's fingerprint index, read and checked now, so a missing, truncated or
    /// foreign file stops the run before anything is fetched, with a diagnostic. The material
    /// is remembered, so that its conditions are not reported again as impossible.
    fn fingerprints(&mut self, file: &Arc<SourceFile>, dir: &Path, m: &raw::Material, p: &S<String>) -> Option<Fingerprints> {
        let path = dir.join(p.get_ref());
        if !path.is_file() {
            self.unusable_indexes.insert(m.id.get_ref().clone());
            self.error("R026", file, p.span(), format!("fingerprint file `{}` not found", path.display()))
                .hint = Some("build it with `blackout fingerprint build`, or remove the key".into());
            return None;
        }
        match crate::fingerprint::Index::load(&path) {
            Ok(index) => Some(Fingerprints {
                path,
                index: Arc::new(index),
            }),
            Err(e) => {
                self.unusable_indexes.insert(m.id.get_ref().clone());
                self.error("R027", file, p.span(), format!("unusable fingerprint index: {e}")).hint =
                    Some("`blackout fingerprint info FILE` tells whether an index is intact; `blackout fingerprint build CORPUS -o FILE` makes a new one".into());
                None
            }
        }
    }

    fn rules(
        &mut self,
        files: &[(Arc<SourceFile>, raw::File)],
        windows: &[Window],
        materials: &[Material],
        citations: &[Citation],
    ) -> Vec<Rule> {
        let window_ids: Vec<String> = windows.iter().map(|w| w.id.clone()).collect();
        let window_id_refs: Vec<&str> = window_ids.iter().map(String::as_str).collect();
        let mut rules = Vec::new();
        for (file, f) in files {
            for r in &f.rule {
                let r = r.get_ref();
                let mut wins = Vec::new();
                for w in &r.windows {
                    match window_id_refs.iter().position(|id| id == w.get_ref()) {
                        Some(i) => wins.push(WindowId(i)),
                        None => self.unknown_ref("window", (file, w), &window_id_refs),
                    }
                }
                if r.windows.is_empty() {
                    self.error("R003", file, r.id.span(), format!("rule `{}` names no window", r.id.get_ref()))
                        .hint = Some("add `windows = [\"…\"]` with the windows whose timing the rule applies to".into());
                }
                self.check_cites(file, &r.cite, citations);
                let Some(condition) = self.condition(file, &r.condition, materials) else {
                    continue;
                };
                let tests = r.test.iter().filter_map(|t| self.rule_test(file, t)).collect();
                let mut scopes = r.scope.clone().unwrap_or_else(|| Scope::ALL.to_vec());
                scopes.sort();
                scopes.dedup();
                rules.push(Rule {
                    id: r.id.get_ref().clone(),
                    severity: r.severity,
                    status: r.status,
                    windows: wins,
                    when: r.when.clone(),
                    scopes,
                    evidence: condition.positive_matchers(),
                    condition,
                    message: r.message.clone(),
                    cite: r.cite.iter().map(|c| c.get_ref().clone()).collect(),
                    tests,
                });
            }
        }
        rules
    }

    fn rule_test(&mut self, file: &Arc<SourceFile>, t: &S<raw::RuleTest>) -> Option<RuleTest> {
        let (line, _) = file.line_col(t.span().start);
        let input = match (&t.get_ref().text, &t.get_ref().html) {
            (Some(text), None) => TestInput::Text(text.clone()),
            (None, Some(html)) => TestInput::Html(html.clone()),
            _ => {
                self.error("R024", file, t.span(), "a rule test needs exactly one of `text` or `html`")
                    .hint = Some("write `text = \"…\"` for plain text or `html = \"…\"` for a page".into());
                return None;
            }
        };
        Some(RuleTest {
            input,
            expect: t.get_ref().expect,
            location: format!("{}:{line}", file.path.display()),
        })
    }

    fn zone_ref(&mut self, (file, z): At<String>, zone_ids: &[&str]) -> Option<ZoneId> {
        let i = zone_ids.iter().position(|id| id == z.get_ref()).map(ZoneId);
        if i.is_none() {
            self.unknown_ref("zone", (file, z), zone_ids);
        }
        i
    }

    fn zone_sel(
        &mut self,
        file: &Arc<SourceFile>,
        sel: &S<raw::ZoneSel>,
        zone_ids: &[&str],
        groups: &HashMap<String, Vec<ZoneId>>,
    ) -> Option<Vec<ZoneId>> {
        let names: Vec<&String> = match sel.get_ref() {
            raw::ZoneSel::Group(g) => match groups.get(g) {
                Some(members) => return Some(members.clone()),
                None => vec![g],
            },
            raw::ZoneSel::List(list) => list.iter().collect(),
        };
        let mut out = Vec::new();
        for name in names {
            match zone_ids.iter().position(|id| id == name) {
                Some(i) => out.push(ZoneId(i)),
                None => {
                    let known: Vec<&str> = groups.keys().map(String::as_str).chain(zone_ids.iter().copied()).collect();
                    self.unknown_ref("zone or zone group", (file, &S::new(sel.span(), name.clone())), &known);
                    return None;
                }
            }
        }
        Some(out)
    }

    /// Validates an anchor's key combination and references.
    fn anchor(
        &mut self,
        file: &Arc<SourceFile>,
        a: &S<raw::Anchor>,
        zone_ids: &[&str],
        groups: &HashMap<String, Vec<ZoneId>>,
    ) -> Option<AnchorSpec> {
        let span = a.span();
        let x = a.get_ref();
        let offset = match &x.offset {
            None => Duration::zero(),
            Some(o) => match window::parse_offset(o.get_ref()) {
                Some(d) => d,
                None => {
                    self.error("R011", file, o.span(), format!("invalid offset `{}`", o.get_ref())).hint = Some(format!(
                        "write a signed duration such as `-48h`, `+30m` or `+3h30m`, of at most {} days",
                        window::MAX_OFFSET_DAYS
                    ));
                    return None;
                }
            },
        };
        let bad = |this: &mut Self, what: &str| {
            this.error("R014", file, span.clone(), format!("invalid window anchor: {what}")).hint =
                Some("use `{ day = -1, time = \"00:00\" }`, `{ date = \"YYYY-MM-DD\", time = \"HH:MM\", clock = \"<zone>\" }` or `{ event = \"close\", of = \"zone\" }` (see README)".into());
            None
        };
        match (x.event, &x.day, &x.date) {
            (Some(event), None, None) => {
                if x.time.is_some() || x.clock.is_some() {
                    return bad(self, "an `event` anchor takes `of`, `pick` and `offset`, not `time` or `clock`");
                }
                let of = match &x.of {
                    None => Target::ThisZone,
                    Some(o) if o.get_ref() == "zone" => Target::ThisZone,
                    Some(o) => match groups.get(o.get_ref()) {
                        Some(members) => Target::Zones(members.clone()),
                        None => Target::Zones(vec![self.zone_ref((file, o), zone_ids)?]),
                    },
                };
                let pick = x.pick.unwrap_or(crate::window::Pick::Latest);
                Some(AnchorSpec::Event { event, of, pick, offset })
            }
            (None, day, date) if day.is_some() != date.is_some() => {
                if x.of.is_some() || x.pick.is_some() {
                    return bad(self, "`of` and `pick` belong to `event` anchors");
                }
                let Some(time) = &x.time else {
                    return bad(self, "a `day` or `date` anchor needs `time = \"HH:MM\"`");
                };
                let time = self.time((file, time))?;
                let clock = match &x.clock {
                    None => ClockRef::ThisZone,
                    Some(c) if c.get_ref() == "zone" => ClockRef::ThisZone,
                    Some(c) => ClockRef::Zone(self.zone_ref((file, c), zone_ids)?),
                };
                let base = match (day, date) {
                    (Some(d), _) => Base::Day(*d.get_ref()),
                    (_, Some(d)) => Base::Date(self.date((file, d))?),
                    _ => unreachable!("one of day/date is set"),
                };
                Some(AnchorSpec::Local { base, time, clock, offset })
            }
            _ => bad(self, "give exactly one of `day`, `date` or `event`"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &mut self,
        file: &Arc<SourceFile>,
        w: &raw::Window,
        at: &S<raw::Anchor>,
        spec: &AnchorSpec,
        zone: ZoneId,
        clocks: &[ZoneClock],
        policy: Policy,
    ) -> Option<DateTime<Utc>> {
        match spec.resolve(zone, clocks, policy) {
            Ok(t) => Some(t),
            Err(e) => {
                let (code, hint) = match e {
                    ResolveError::Gap { .. } => (
                        "R016",
                        "set `on_gap = \"shift_forward\"` on the window to use the first instant after the jump, or choose an existing local time",
                    ),
                    ResolveError::Overlap { .. } => (
                        "R017",
                        "set `on_overlap = \"earlier\"` or `\"later\"` on the window to pick one of the two instants",
                    ),
                    ResolveError::OutOfRange => (
                        "R011",
                        "check the anchor's `day`, `date` and `offset`: the instant lies outside the calendar",
                    ),
                };
                self.error(
                    code,
                    file,
                    at.span(),
                    format!("window `{}` in zone `{}`: {e}", w.id.get_ref(), clocks[zone.index()].id),
                )
                .hint = Some(hint.into());
                None
            }
        }
    }

    fn check_expect(&mut self, file: &Arc<SourceFile>, w: &raw::Window, x: &raw::Expect, spans: &[ZoneSpan], zone_ids: &[&str]) {
        let Some(zi) = self.zone_ref((file, &x.zone), zone_ids) else {
            return;
        };
        let Some(span) = spans.iter().find(|s| s.zone == zi) else {
            self.error(
                "R012",
                file,
                x.zone.span(),
                format!("window `{}` does not cover zone `{}`", w.id.get_ref(), x.zone.get_ref()),
            )
            .hint = Some("expect values can only name zones the window covers".into());
            return;
        };
        for (value, computed, which) in [(&x.start_utc, span.start, "start"), (&x.end_utc, span.end, "end")] {
            let Some(value) = value else { continue };
            match DateTime::parse_from_rfc3339(value.get_ref()) {
                Ok(expected) if expected.to_utc() == computed => {}
                Ok(_) => {
                    self.error("R018", file, value.span(), format!("window `{}` {which}s at {} in zone `{}`, not at the expected {}", w.id.get_ref(), computed.format("%Y-%m-%dT%H:%M:%SZ"), x.zone.get_ref(), value.get_ref())).hint =
                        Some("a rule or a tzdb change moved this instant: fix the window's anchors, or update the expectation after checking the law".into());
                }
                Err(e) => {
                    self.error("R011", file, value.span(), format!("invalid instant `{}`: {e}", value.get_ref()))
                        .hint = Some("write UTC instants as `YYYY-MM-DDTHH:MM:SSZ`".into());
                }
            }
        }
    }

    fn condition(&mut self, file: &Arc<SourceFile>, c: &S<raw::Condition>, materials: &[Material]) -> Option<Condition> {
        let x = c.get_ref();
        let set = [
            x.any.is_some(),
            x.all.is_some(),
            x.not.is_some(),
            x.at_least.is_some(),
            x.phrase.is_some(),
            x.pattern.is_some(),
            x.hashtag.is_some(),
            x.link.is_some(),
            x.fingerprint.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        let invalid = |this: &mut Self, what: String| {
            this.error("R024", file, c.span(), format!("invalid condition: {what}")).hint =
                Some("a condition is one of `{ any = [...] }`, `{ all = [...] }`, `{ not = {...} }`, `{ at_least = N, of = [...] }`, `{ phrase | pattern | hashtag | link = \"<material>\" }`, `{ fingerprint = { material = \"<material>\", min_words = 12 } }`".into());
            None
        };
        if set != 1 || (x.of.is_some() != x.at_least.is_some()) {
            return invalid(self, "exactly one operator per table (`of` only with `at_least`)".into());
        }
        let list = |this: &mut Self, v: &[S<raw::Condition>]| -> Option<Vec<Condition>> {
            let out: Vec<Condition> = v.iter().filter_map(|c| this.condition(file, c, materials)).collect();
            (out.len() == v.len()).then_some(out)
        };
        if let Some(v) = &x.any {
            return list(self, v).map(Condition::Any);
        }
        if let Some(v) = &x.all {
            return list(self, v).map(Condition::All);
        }
        if let Some(n) = &x.not {
            return self.condition(file, n, materials).map(|c| Condition::Not(Box::new(c)));
        }
        if let (Some(n), Some(of)) = (&x.at_least, &x.of) {
            let children = list(self, of)?;
            if *n.get_ref() == 0 || *n.get_ref() as usize > children.len() {
                self.error(
                    "R024",
                    file,
                    n.span(),
                    format!("`at_least = {}` with {} condition(s)", n.get_ref(), children.len()),
                )
                .hint = Some("N must be between 1 and the number of conditions in `of`".into());
                return None;
            }
            return Some(Condition::AtLeast(*n.get_ref(), children));
        }
        let (kind, name, min_words) = match (&x.phrase, &x.pattern, &x.hashtag, &x.link, &x.fingerprint) {
            (Some(m), ..) => (MatcherKind::Phrase, m, 0),
            (_, Some(m), ..) => (MatcherKind::Pattern, m, 0),
            (_, _, Some(m), ..) => (MatcherKind::Hashtag, m, 0),
            (_, _, _, Some(m), _) => (MatcherKind::Link, m, 0),
            (_, _, _, _, Some(f)) => {
                if f.get_ref().min_words == 0 {
                    self.error("R024", file, f.span(), "`min_words = 0` would match every article").hint =
                        Some("the index guarantees runs of k + w - 1 words (12 by default); use at least that".into());
                    return None;
                }
                (MatcherKind::Fingerprint, &f.get_ref().material, f.get_ref().min_words)
            }
            _ => return invalid(self, "no operator".into()),
        };
        let ids: Vec<&str> = materials.iter().map(|m| m.id.as_str()).collect();
        let Some(material) = ids.iter().position(|id| id == name.get_ref()) else {
            self.unknown_ref("material", (file, name), &ids);
            return None;
        };
        let m = &materials[material];
        if kind == MatcherKind::Fingerprint && self.unusable_indexes.contains(&m.id) {
            // The index itself was reported (R026, R027); the condition is fine as written.
            return None;
        }
        let empty = match kind {
            MatcherKind::Phrase => m.phrases.is_empty(),
            MatcherKind::Pattern => m.patterns.is_empty(),
            MatcherKind::Hashtag => m.hashtags.is_empty(),
            MatcherKind::Link => m.links.is_empty(),
            MatcherKind::Fingerprint => m.fingerprints.is_none(),
        };
        if empty {
            let key = match kind {
                MatcherKind::Phrase => "phrases",
                MatcherKind::Pattern => "patterns",
                MatcherKind::Hashtag => "hashtags",
                MatcherKind::Link => "links",
                MatcherKind::Fingerprint => "fingerprints",
            };
            self.error(
                "R024",
                file,
                name.span(),
                format!("material `{}` has no `{key}`, so this condition can never match", m.id),
            )
            .hint = Some(format!("add `{key} = [...]` to the material or use another matcher"));
            return None;
        }
        Some(Condition::Match(Matcher {
            kind,
            material: MaterialId(material),
            min_words,
        }))
    }
}

/// Representative IANA zones for the abbreviations people write instead of a zone name. Only
/// abbreviations that are not themselves tzdb names (`CET`, `EST` are, and parse) reach this.
fn abbreviation_zones(written: &str) -> Option<&'static [&'static str]> {
    Some(match written.trim().to_ascii_uppercase().as_str() {
        "CEST" | "MESZ" | "MEZ" | "HEC" | "HNEC" => &["Europe/Paris", "Europe/Berlin", "Europe/Madrid"],
        "WEST" | "WET" | "WEZ" => &["Europe/Lisbon", "Atlantic/Canary"],
        "EEST" | "EEZ" => &["Europe/Athens", "Europe/Bucharest", "Europe/Helsinki"],
        "BST" => &["Europe/London"],
        "IST" => &["Asia/Kolkata", "Europe/Dublin"],
        "MSK" => &["Europe/Moscow"],
        "EDT" | "ET" => &["America/New_York", "America/Toronto"],
        "CDT" | "CT" => &["America/Chicago", "America/Winnipeg"],
        "MDT" | "MT" => &["America/Denver", "America/Edmonton"],
        "PDT" | "PT" | "PST" => &["America/Los_Angeles", "America/Vancouver"],
        "AST" | "ADT" | "AT" => &["America/Halifax", "America/Puerto_Rico"],
        "NST" | "NDT" => &["America/St_Johns"],
        "AKST" | "AKDT" => &["America/Anchorage"],
        "BRT" | "BRST" => &["America/Sao_Paulo"],
        "ART" => &["America/Argentina/Buenos_Aires"],
        "JST" => &["Asia/Tokyo"],
        "KST" => &["Asia/Seoul"],
        "HKT" => &["Asia/Hong_Kong"],
        "SGT" => &["Asia/Singapore"],
        "AEST" | "AEDT" => &["Australia/Sydney", "Australia/Melbourne"],
        "ACST" | "ACDT" => &["Australia/Adelaide"],
        "AWST" => &["Australia/Perth"],
        "NZST" | "NZDT" => &["Pacific/Auckland"],
        "SAST" => &["Africa/Johannesburg"],
        "WAT" => &["Africa/Lagos"],
        "CAT" => &["Africa/Maputo"],
        "EAT" => &["Africa/Nairobi"],
        _ => return None,
    })
}

/// Narrows a regex error to the pattern position it names ("regex parse error: … at N").
fn regex_error_span(detail: &str, literal: Range<usize>) -> Range<usize> {
    // The regex crate prints the pattern with a `^` line under the offending part.
    let lines: Vec<&str> = detail.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if i > 0 && !trimmed.is_empty() && trimmed.chars().all(|c| c == '^') {
            let pattern_line = lines[i - 1];
            let indent = pattern_line.len() - pattern_line.trim_start().len();
            let col = line.find('^').unwrap_or(indent).saturating_sub(indent);
            let start = literal.start + 1 + col;
            return start.min(literal.end)..(start + trimmed.len()).min(literal.end);
        }
    }
    literal
}
