//! `blackout` checks news outlets for compliance with election-period media blackouts.
//!
//! Data flow (each arrow hands on a plain type; no stage reaches back):
//!
//! ```text
//! rules/*.toml ─► rules::RuleSet ─► check: for each Source ─► fetch::Document
//!                   │ windows resolved per zone (window)        │ charset ─► feed / extract
//!                   │                                           ▼
//!                   │                                   article::Article (scoped text, links, dates)
//!                   ├─ windows ─────────────► timing::Timing (before/inside/after/changed/unknown)
//!                   └─ materials ─► detect::Detector ─► Hit ─► rule conditions ─► report::Finding
//! ```

pub mod article;
pub mod charset;
pub mod check;
pub mod cli;
pub mod dates;
pub mod detect;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod fingerprint;
pub mod http;
pub mod inspect;
pub mod progress;
pub mod report;
pub mod rules;
pub mod ruletest;
pub mod sitemap;
pub mod timing;
pub mod window;

/// The name a value has in the JSON output (`"jsonld:datePublished"`, `"changed_inside"`), for
/// messages and text reports, so that both always say the same thing.
pub(crate) fn wire_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
