//! Helpers shared by the CLI tests.

use assert_cmd::Command;

/// The `blackout` binary, run from the package root so relative paths in output are stable.
pub fn blackout() -> Command {
    let mut cmd = Command::cargo_bin("blackout").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Run {
    let out = blackout().args(args).output().expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `check … --format json`, parsed.
pub fn check_json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let r = run(&all);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}); stderr:\n{}\nstdout:\n{}", r.stderr, r.stdout));
    (r.code, v)
}

/// Findings of one rule, as `(source, url, verdict)`.
pub fn findings(report: &serde_json::Value) -> Vec<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
                f["source"].as_str().unwrap().into(),
                f["timing"]["verdict"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// The string field `key` of every object in the report's list `list` (`findings`, `problems`…).
pub fn strings<'a>(report: &'a serde_json::Value, list: &str, key: &str) -> Vec<&'a str> {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no `{list}` in {report}"))
        .iter()
        .filter_map(|v| v[key].as_str())
        .collect()
}
