//! A run's manifest: what the run was (tool, rule files and indexes with their digests,
//! options, evaluation instant), every capture it rests on and every finding with the digest
//! of its evidence, chained to the previous run's manifest by its SHA-256. Canonical JSON
//! (RFC 8785's rules for the values used here: object keys sorted by their UTF-16 code units,
//! no insignificant whitespace, integers only), so that the same manifest always hashes the
//! same, and anyone can recompute the digest with a JSON canonicaliser and `sha256sum` —
//! Python's `json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes
//! the same bytes (tests/evidence.rs checks it).

use crate::model::Digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A file the run read its rules from (a rule file, a fingerprint index), with its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// `rules` (a rule file) or `fingerprints` (an index a material names).
    pub role: String,
    /// Absolute, so that a replay can put the file back where the rules expect it.
    pub path: String,
    pub sha256: String,
}

/// A capture the run kept: the address asked for, the SHA-256 of the body, and the SHA-256 of
/// its canonical record (the `record` column of `captures`: statuses, headers, exchanges,
/// instants), so that neither can change unseen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureEntry {
    pub url: String,
    pub body: String,
    pub record: String,
}

/// A finding and the digest of the evidence it rests on (its captures and spans).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingEvidence {
    pub id: String,
    pub rule: String,
    pub source: String,
    pub url: String,
    /// The bodies it rests on (its page's, its feeds'), whether or not their captures were
    /// kept (`--keep-captures none` keeps none).
    pub bodies: Vec<Digest>,
    /// The digest of the finding (key, timing, spans) and those bodies.
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub tool: String,
    pub run: i64,
    pub evaluated_at: String,
    pub tzdb: String,
    pub inputs: Vec<Input>,
    pub options: serde_json::Value,
    /// Every capture the run kept, in the order fetched.
    pub captures: Vec<CaptureEntry>,
    /// The digest of the run's record (a blob: the items as judged, the history's answers).
    pub record: String,
    pub findings: Vec<FindingEvidence>,
    /// The digest of the previous run's manifest (`None` for the first run of a store).
    pub previous: Option<String>,
}

impl Manifest {
    /// The canonical bytes: what is hashed, stored and timestamped.
    pub fn canonical(&self) -> Vec<u8> {
        canonical_json(&serde_json::to_value(self).expect("a manifest serialises"))
    }
}

/// The canonical bytes of any JSON value: what blackout hashes (manifests, capture records,
/// a finding's evidence).
pub fn canonical_json(v: &serde_json::Value) -> Vec<u8> {
    let mut out = String::new();
    canonical(v, &mut out);
    out.into_bytes()
}

/// Writes `v` canonically. Object keys sorted by UTF-16 code units, as RFC 8785 says (for
/// the ASCII keys of a manifest, the same as byte order).
fn canonical(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let sorted: BTreeMap<Vec<u16>, (&String, &Value)> = map.iter().map(|(k, v)| (k.encode_utf16().collect(), (k, v))).collect();
            out.push('{');
            for (n, (k, v)) in sorted.values().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("a string serialises"));
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).expect("a scalar serialises")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(run: i64, previous: Option<String>) -> Manifest {
        Manifest {
            tool: "blackout 0.1.0".into(),
            run,
            evaluated_at: "2017-05-06T12:00:00Z".into(),
            tzdb: "2025b".into(),
            inputs: vec![Input {
                role: "rules".into(),
                path: "rules/fr-2017-presidentielle.toml".into(),
                sha256: Digest::of(b"rules").to_string(),
            }],
            options: serde_json::json!({ "margin": 12, "all": false }),
            captures: vec![CaptureEntry {
                url: "https://e.fr/a".into(),
                body: Digest::of(b"page").to_string(),
                record: Digest::of(b"record").to_string(),
            }],
            record: Digest::of(b"run record").to_string(),
            findings: vec![FindingEvidence {
                id: "b9394e817130".into(),
                rule: "macronleaks-content".into(),
                source: "le-quotidien".into(),
                url: "https://e.fr/a".into(),
                bodies: vec![Digest::of(b"page")],
                evidence: Digest::of(b"spans").to_string(),
            }],
            previous,
        }
    }

    #[test]
    fn the_canonical_form_sorts_keys_and_has_no_whitespace() {
        let text = String::from_utf8(manifest(1, None).canonical()).unwrap();
        assert!(text.starts_with(r#"{"captures":[{"body":"sha256:"#), "{text}");
        assert!(text.contains(r#""options":{"all":false,"margin":12}"#), "{text}");
        assert!(text.contains(r#""previous":null"#));
        assert!(
            !text.contains('\n') && !text.contains("\": ") && !text.contains(", \""),
            "no whitespace between tokens: {text}"
        );
        assert_eq!(
            Digest::of(&manifest(1, None).canonical()),
            Digest::of(&manifest(2 - 1, None).canonical()),
            "the same manifest, the same digest"
        );
    }
}
