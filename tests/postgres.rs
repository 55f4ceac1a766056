//! The state store in PostgreSQL, against a real server: `.ci/run` starts one on loopback
//! (`.ci/postgres`) and names it in `BLACKOUT_TEST_POSTGRES`, with the password in
//! `BLACKOUT_TEST_PGPASSWORD`. Each test works in a database of its own. Without a server the
//! tests say they were skipped and pass.

use crate::util::{blackout_process, run};
use serde_json::Value;
use std::time::Duration;

const FR: &str = "rules/fr-2017-presidentielle.toml";
const DEMO: &str = "rules/demo/sources.toml";

/// A database of its own on the test server, dropped at the end.
struct Database {
    admin: String,
    password: String,
    name: String,
    url: String,
    /// The data directory of "this machine": where its runs keep their blobs.
    data: std::path::PathBuf,
}

impl Database {
    fn new(test: &str) -> Option<Database> {
        let (Ok(admin), Ok(password)) = (std::env::var("BLACKOUT_TEST_POSTGRES"), std::env::var("BLACKOUT_TEST_PGPASSWORD")) else {
            eprintln!("skipped {test}: no PostgreSQL server (BLACKOUT_TEST_POSTGRES is not set; `. .ci/postgres` starts one)");
            return None;
        };
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("blackout_test_{}_{n}", std::process::id());
        let db = Database {
            url: admin.replace("/postgres", &format!("/{name}")),
            admin,
            password,
            name,
            data: crate::util::fresh_data_home(),
        };
        db.sql(&format!("CREATE DATABASE {}", db.name));
        Some(db)
    }

    /// Runs SQL on the server as the administrator.
    fn sql(&self, sql: &str) {
        self.sql_on(&self.admin, sql);
    }

    fn sql_on(&self, url: &str, sql: &str) {
        self.client(url).batch_execute(sql).unwrap();
    }

    fn client(&self, url: &str) -> postgres::Client {
        let mut config: postgres::Config = url.parse().unwrap();
        config.password(&self.password);
        config.connect(postgres::NoTls).unwrap()
    }

    /// Waits until a run holds a lock of this store (its holder is written down).
    fn wait_for_lock(&self) {
        let mut client = self.client(&self.url);
        for _ in 0..200 {
            let held = client
                .query_opt("SELECT 1 FROM information_schema.tables WHERE table_name = 'run_locks'", &[])
                .unwrap()
                .is_some()
                && client.query_one("SELECT COUNT(*) FROM run_locks", &[]).unwrap().get::<_, i64>(0) > 0;
            if held {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no run took the lock");
    }

    /// `blackout ARGS… --state URL` with the password in the environment.
    fn blackout(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = blackout_process();
        cmd.args(args)
            .args(["--state", &self.url])
            .env("PGPASSWORD", &self.password)
            .env("XDG_DATA_HOME", &self.data);
        cmd
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.blackout(args).output().unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    }

    fn json(&self, args: &[&str]) -> Value {
        let (_, stdout, stderr) = self.run(args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"))
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        self.sql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

#[test]
fn the_demo_on_postgresql_is_new_then_open_and_the_state_commands_read_it() {
    let Some(db) = Database::new("the_demo_on_postgresql") else {
        return;
    };
    let check = ["check", FR, DEMO, "--at", "2026-01-01T00:00:00Z", "--format", "json"];
    let (code, stdout, stderr) = db.run(&check);
    assert_eq!(code, 1, "{stderr}");
    let first: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (first["state"]["new"].as_u64(), first["state"]["run"].as_i64()),
        (Some(5), Some(1)),
        "{stderr}"
    );
    let second = db.json(&check);
    assert_eq!(
        (second["state"]["new"].as_u64(), second["state"]["open"].as_u64()),
        (Some(0), Some(5))
    );
    let findings = db.json(&["state", "findings", "--json"]);
    assert_eq!(findings.as_array().unwrap().len(), 5);
    let id = findings[0]["id"].as_str().unwrap().to_string();
    let (code, _, stderr) = db.run(&["review", &id, "--false-positive", "--reviewer", "alice"]);
    assert_eq!(code, 0, "{stderr}");
    let third = db.json(&check);
    assert_eq!(third["suppressed"][0]["id"], id.as_str());
    let (code, stdout, stderr) = db.run(&["state", "check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("schema version 3") && stdout.contains("integrity: ok"), "{stdout}");
    let runs = db.json(&["state", "runs", "--json"]);
    assert_eq!(runs.as_array().unwrap().len(), 3);
    // Each run sealed, chained, and replayable from what it kept.
    let (code, stdout, stderr) = db.run(&["evidence", "verify"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("3 runs checked, all hold"), "{stdout}");
    let replayed = db.json(&["replay", "--run", "1", "--format", "json"]);
    let ids = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&replayed), ids(&first));
    let (code, _, stderr) = db.run(&["state", "prune", "--before", "2000-01-01"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn two_machines_on_one_store_never_report_a_finding_twice_and_shards_split_the_sources() {
    let Some(db) = Database::new("two_machines_on_one_store") else {
        return;
    };
    // Two runs over the same sources at once, under different lock scopes (a run of all the
    // sources and a shard 1/1 of them), so neither waits for the other: the findings' unique
    // key decides which reports each finding new.
    let check = |extra: &[&str]| {
        let mut args = vec!["check", FR, DEMO, "--at", "2026-01-01T00:00:00Z", "--format", "json"];
        args.extend_from_slice(extra);
        db.blackout(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    for round in 0..3 {
        // Both read at once: a run delivers its report holding its turn to commit, and one
        // whose pipe is not read would hold the other's commit up (to its `--lock-timeout`).
        let (a, b) = (check(&[]), check(&["--shard", "1/1"]));
        let reports: Vec<Value> = [a, b]
            .map(|c| std::thread::spawn(move || c.wait_with_output().unwrap()))
            .into_iter()
            .map(|reader| {
                let out = reader.join().unwrap();
                serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
            })
            .collect();
        let new: u64 = reports.iter().map(|r| r["state"]["new"].as_u64().unwrap()).sum();
        assert_eq!(new, if round == 0 { 5 } else { 0 }, "round {round}: each finding new exactly once");
        for r in &reports {
            assert_eq!(r["findings"].as_array().unwrap().len(), 5, "both report every finding");
        }
    }
    assert_eq!(db.json(&["state", "findings", "--json"]).as_array().unwrap().len(), 5);

    // Shards: two machines split the sources, each source in exactly one shard.
    let ids = |r: &Value| -> Vec<String> {
        r["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    let shard = |k: &str| db.json(&["check", FR, DEMO, "--at", "2026-01-01T00:00:00Z", "--format", "json", "--shard", k]);
    let mut all: Vec<String> = [ids(&shard("1/2")), ids(&shard("2/2"))].concat();
    let runs = db.json(&["state", "runs", "--json"]);
    let shards: Vec<&str> = runs.as_array().unwrap().iter().filter_map(|r| r["shard"].as_str()).collect();
    assert_eq!(
        shards,
        vec!["1/1", "1/1", "1/1", "1/2", "2/2"],
        "each run says its share of the sources"
    );
    all.sort();
    assert_eq!(all, vec!["le-quotidien", "le-veilleur-be", "radio-caraibes"]);
    let (code, _, stderr) = db.run(&["check", FR, DEMO, "--shard", "3/2"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("`3/2` is not a shard"), "{stderr}");
}

#[test]
fn a_commit_waits_for_another_machines_no_longer_than_the_lock_timeout() {
    let Some(db) = Database::new("a_commit_waits") else {
        return;
    };
    let check = ["check", FR, DEMO, "--at", "2026-01-01T00:00:00Z", "--format", "json"];
    assert_eq!(db.run(&check).0, 1, "the store is made");
    // Another machine's commit holds the turn (as one does while its report is delivered).
    let mut other = db.client(&db.url);
    let mut turn = other.transaction().unwrap();
    turn.execute("SELECT pg_advisory_xact_lock(7453600013)", &[]).unwrap();
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = db.run(&[&check[..], &["--lock-timeout", "2"]].concat());
    let waited = started.elapsed();
    assert_eq!(code, 2, "{stderr}");
    assert!(waited >= Duration::from_secs(2) && waited < Duration::from_secs(30), "{waited:?}");
    assert!(
        stderr.contains("the run was not recorded")
            && stderr.contains("is in use by another run or command (waited 2 s; `--lock-timeout` waits longer)"),
        "{stderr}"
    );
    // The report is told all the same, unmarked.
    let told: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(told["findings"].as_array().unwrap().len(), 5);
    assert!(told["state"].is_null(), "{}", told["state"]);
    turn.rollback().unwrap();
    let next = db.json(&check);
    assert_eq!((next["state"]["run"].as_i64(), next["state"]["open"].as_u64()), (Some(2), Some(5)));
}

#[test]
fn a_run_of_the_same_scope_waits_then_names_the_holder() {
    let Some(db) = Database::new("a_run_of_the_same_scope_waits") else {
        return;
    };
    let (_server, _dir, sources) = crate::state::slow_outlet(Duration::from_secs(30));
    let args = ["check", FR, sources.to_str().unwrap(), "--no-cache", "-q", "--timeout", "60"];
    let mut holder = db.blackout(&args).spawn().unwrap();
    db.wait_for_lock();
    let (code, _, stderr) = db.run(&[&args[..], &["--lock-timeout", "1"]].concat());
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("is in use by process {} on `", holder.id())), "{stderr}");
    holder.kill().unwrap();
    holder.wait().unwrap();
    // The server gave the lock back when the killed run's connection ended; its row is left.
    let (_, _, stderr) = db.run(&["check", FR, DEMO, "-q", "--lock-timeout", "5"]);
    assert!(
        stderr.contains(&format!("took over the lock of process {}", holder.id())),
        "{stderr}"
    );
}

#[test]
fn the_password_comes_from_the_environment_never_the_command_line() {
    let Some(db) = Database::new("the_password_comes_from_the_environment") else {
        return;
    };
    let with_password = db.url.replace("blackout@", "blackout:hunter2@");
    let r = run(&["check", FR, DEMO, "--state", &with_password]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("carries a password") && !r.stderr.contains("hunter2"),
        "{}",
        r.stderr
    );
    let out = blackout_process()
        .args(["check", FR, DEMO, "--state", &db.url])
        .env("PGPASSWORD", "wrong")
        .env("PGPASSFILE", "/nonexistent")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("cannot connect") && stderr.contains("PGPASSWORD"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing fetched before the store works");
    // A password file instead of the environment, readable by its owner only.
    let dir = tempfile::tempdir().unwrap();
    let pgpass = dir.path().join("pgpass");
    std::fs::write(&pgpass, format!("127.0.0.1:*:*:blackout:{}\n", db.password)).unwrap();
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = blackout_process()
        .args(["check", FR, DEMO, "--at", "2026-01-01T00:00:00Z", "-q", "--state", &db.url])
        .env("PGPASSFILE", &pgpass)
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_postgresql_store_of_schema_1_is_migrated_keeping_its_rows() {
    let Some(db) = Database::new("a_postgresql_store_of_schema_1") else {
        return;
    };
    db.sql_on(
        &db.url,
        &format!(
            "{}
             CREATE TABLE blackout_schema (version BIGINT NOT NULL);
             INSERT INTO blackout_schema VALUES (1);
             INSERT INTO runs (started_at, evaluated_at, election, rule_files, options, outcome)
                 VALUES ('2017-05-06T00:00:00Z', '2017-05-06T00:00:00Z', 'e', '[]', '{{}}', 'findings');",
            blackout::store::schema_step(1, true)
        ),
    );
    let (code, stdout, stderr) = db.run(&["state", "check"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("schema version 3"), "{stdout}");
    let runs = db.json(&["state", "runs", "--json"]);
    assert_eq!(runs[0]["evaluated_at"], "2017-05-06T00:00:00Z");
    let report = db.json(&["check", FR, DEMO, "--at", "2026-01-01T00:00:00Z", "--format", "json"]);
    assert_eq!(report["state"]["run"].as_i64(), Some(2));
}
