//! What embargoed material looks like to the matchers: phrases, regex patterns, hashtags, dump
//! locations and a fingerprint index, each already validated and compiled when the rule files
//! load (a regex is compiled once, an index read and checked once).

use crate::fingerprint::Index;
use std::path::PathBuf;
use std::sync::Arc;

/// One `[[material]]` of the rule files, ready to match.
#[derive(Debug)]
pub struct Material {
    pub id: String,
    pub name: Option<String>,
    pub phrases: Vec<String>,
    pub patterns: Vec<Pattern>,
    pub hashtags: Vec<String>,
    pub links: Vec<LinkPrefix>,
    pub fingerprints: Option<Fingerprints>,
    /// Words of a passage matched against it that an outgoing report shows (`redact_words`):
    /// a report must not spread what it reports.
    pub redact_words: usize,
}

/// Words of a matched passage shown by default: enough to recognise the passage, too few to
/// republish it.
pub const REDACT_WORDS: usize = 6;

/// A regex as written in the rule file and as compiled (case-insensitive).
#[derive(Debug, Clone)]
pub struct Pattern {
    pub written: String,
    pub regex: regex::Regex,
}

/// A material's fingerprint index: where it was read from, and its contents, loaded once per
/// run and shared by every worker.
#[derive(Debug, Clone)]
pub struct Fingerprints {
    pub path: PathBuf,
    pub index: Arc<Index>,
}

/// A dump location: links whose host is `host` (or a subdomain) and whose path starts with
/// `path` match. Schemes and a leading `www.` are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPrefix {
    pub host: String,
    pub path: String,
}

impl LinkPrefix {
    pub fn parse(s: &str) -> Option<LinkPrefix> {
        let s = s.trim();
        let rest = s.split_once("://").map_or(s, |(_, r)| r);
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = host.trim_start_matches("www.").to_lowercase();
        if host.is_empty() || host.contains(char::is_whitespace) || !host.contains('.') {
            return None;
        }
        Some(LinkPrefix {
            host,
            path: path.to_string(),
        })
    }

    pub fn matches(&self, url: &url::Url) -> bool {
        let Some(host) = url.host_str() else { return false };
        let host = host.trim_start_matches("www.");
        let host_ok = host
            .strip_suffix(self.host.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'));
        host_ok && url.path().starts_with(if self.path.is_empty() { "/" } else { &self.path })
    }

    /// The prefix as people write it (`archive.org/details/EMLEAKS/`).
    pub fn written(&self) -> String {
        format!("{}{}", self.host, self.path)
    }
}
