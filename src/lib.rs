//! `blackout` checks news outlets for compliance with election-period media blackouts.
//!
//! Data flow (each arrow hands on a plain type; no stage reaches back):
//!
//! ```text
//! rules/*.toml ─► rules::RuleSet ─► rules::Engine (materials compiled once)
//!                   │                     │
//!   sources::Plan ◄─┘                     │
//!        │ homepages ─► feeds, sitemaps   │
//!        ▼                                ▼
//!   fetch::Document ─► feed / extract ─► sources::Worklist ─► judge (timing + Engine::evaluate)
//!                                                               │
//!                      run: orchestration, History and Recorder hooks
//!                                                               ▼
//!                                  report::Report ─► Text | Json | JsonLines
//! ```

pub mod article;
pub mod charset;
pub mod cli;
pub mod dates;
pub mod deliver;
pub mod detect;
pub mod evidence;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod files;
pub mod fingerprint;
pub mod host;
pub mod http;
pub mod identity;
pub mod inspect;
pub mod judge;
pub mod model;
pub mod normalize;
pub mod problem;
pub mod progress;
pub mod report;
pub mod rules;
pub mod ruletest;
pub mod run;
pub mod schedule;
pub mod sources;
pub mod store;
pub mod timing;
pub mod walk;
pub mod window;
