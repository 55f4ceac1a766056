//! Helpers shared by the CLI tests.

use assert_cmd::Command;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The `blackout` binary, run from the package root so relative paths in output are stable,
/// with a default state store of its own (empty: no test sees another's runs, nor the user's).
pub fn blackout() -> Command {
    Command::from_std(blackout_process())
}

/// The same, as a process to spawn (and kill).
pub fn blackout_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("blackout"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env("XDG_DATA_HOME", fresh_data_home());
    cmd
}

/// A directory of its own for each run of the binary, under cargo's scratch directory.
pub fn fresh_data_home() -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("data-{}-{n}", std::process::id()))
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

/// A mock server on its own runtime, so the code under test runs on a plain thread.
pub struct Server {
    pub runtime: tokio::runtime::Runtime,
    pub mock: MockServer,
}

impl Server {
    pub fn start() -> Server {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let mock = runtime.block_on(MockServer::start());
        Server { runtime, mock }
    }

    pub fn serve(&self, route: &str, response: ResponseTemplate) {
        self.runtime
            .block_on(Mock::given(method("GET")).and(path(route)).respond_with(response).mount(&self.mock));
    }

    /// Answers the first `n` GETs of `route` so; later ones go to the next mock of the route.
    pub fn serve_times(&self, route: &str, response: ResponseTemplate, n: u64) {
        self.runtime.block_on(
            Mock::given(method("GET"))
                .and(path(route))
                .respond_with(response)
                .up_to_n_times(n)
                .mount(&self.mock),
        );
    }

    /// Answers every GET whose path matches `pattern` (a regex).
    pub fn serve_matching(&self, pattern: &str, response: ResponseTemplate) {
        self.runtime.block_on(
            Mock::given(method("GET"))
                .and(wiremock::matchers::path_regex(pattern))
                .respond_with(response)
                .mount(&self.mock),
        );
    }

    /// Mounts any mock (a POST endpoint, a custom matcher).
    pub fn mount(&self, mock: Mock) {
        self.runtime.block_on(mock.mount(&self.mock));
    }

    /// The requests received, in order.
    pub fn requests(&self) -> Vec<wiremock::Request> {
        self.runtime.block_on(self.mock.received_requests()).unwrap_or_default()
    }

    pub fn url(&self, route: &str) -> url::Url {
        url::Url::parse(&format!("{}{route}", self.mock.uri())).unwrap()
    }

    pub fn hits(&self, route: &str) -> usize {
        let requests = self.runtime.block_on(self.mock.received_requests()).unwrap_or_default();
        requests.iter().filter(|r| r.url.path() == route).count()
    }
}

/// Runs `openssl ARGS` in `dir`, failing the test with what it said.
pub fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A test certificate authority in `dir`: `ca.key` and `ca.pem`, its key made with `key`
/// (`openssl req -newkey` arguments, e.g. `["-newkey", "rsa:2048"]`).
pub fn test_ca(dir: &std::path::Path, key: &[&str]) {
    let mut args = vec!["req", "-x509"];
    args.extend(key);
    args.extend([
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=blackout test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &args);
}

/// A certificate the test CA of `dir` signs: `NAME.key` and `NAME.pem` for `subject`, with the
/// extensions `ext` (an `openssl x509 -extfile` text).
pub fn signed_by_test_ca(dir: &std::path::Path, key: &[&str], name: &str, subject: &str, ext: &str) {
    let (key_file, csr, pem, ext_file) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    let mut req = vec!["req"];
    req.extend(key);
    req.extend(["-nodes", "-keyout", &key_file, "-out", &csr, "-subj", subject]);
    openssl(dir, &req);
    std::fs::write(dir.join(&ext_file), ext).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            &ext_file,
        ],
    );
}
