//! A store in PostgreSQL (`--state postgres://USER@HOST:PORT/DATABASE`), for a team whose
//! machines share one state: the same schema and migrations as SQLite's, one connection per
//! run.
//!
//! The password never comes from the command line, where every user of the machine can read
//! it (`ps`): an address that carries one is refused, and the password is taken, as libpq
//! does, from `PGPASSWORD` or from the password file (`PGPASSFILE`, else `~/.pgpass`,
//! ignored when others can read it). TLS is used when the server offers it (`sslmode=prefer`,
//! the default) or demanded (`sslmode=require`), with the system's certificate authorities.

use super::db::{Conn, Pg};
use super::{Store, StoreError, data_home};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The PostgreSQL address `--state` names, if it names one.
pub(super) fn address(path: &Path) -> Option<&str> {
    let s = path.to_str()?;
    (s.starts_with("postgres://") || s.starts_with("postgresql://")).then_some(s)
}

pub(super) fn open(url: &str) -> Result<Store, StoreError> {
    let path = PathBuf::from(without_password(url));
    let fail = |message: String| StoreError::Postgres {
        path: path.clone(),
        message,
    };
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| fail(format!("not a PostgreSQL address ({e}): write postgres://USER@HOST:PORT/DATABASE")))?;
    if config.get_password().is_some() {
        return Err(fail(
            "the address carries a password, which every user of this machine can read on the command line: remove it, and set `PGPASSWORD` or a line of `~/.pgpass` instead".into(),
        ));
    }
    if config.get_user().is_none()
        && let Some(user) = std::env::var("PGUSER").ok().or_else(|| std::env::var("USER").ok())
    {
        config.user(&user);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(10));
    }
    if let Some(password) = password(&config) {
        config.password(password);
    }
    let client = config.connect(tls()).map_err(|e| {
        fail(format!(
            "cannot connect: {} (is the server running and reachable at that address? is the password in `PGPASSWORD` or `~/.pgpass`?)",
            super::db::DbError::from(e)
        ))
    })?;
    let mut conn = Conn::Postgres(Box::new(Pg::new(client)));
    super::migrate::up(&mut conn, &path)?;
    let digest = crate::model::Digest::of(url.as_bytes()).hex();
    // Not a shared temporary directory, where another user could plant files: without a home
    // of its own the store is refused.
    let bodies = data_home()
        .ok_or_else(|| fail("no directory for the bodies of fetched documents: set XDG_DATA_HOME or HOME".into()))?
        .join(format!("blackout/postgres-bodies-{}", &digest[..12]));
    Ok(Store {
        conn,
        path,
        bodies,
        read_only: false,
        commit_wait: super::COMMIT_WAIT,
    })
}

/// The address as messages show it: a password in it (refused anyway), before the host or as
/// a `password=` parameter, masked.
fn without_password(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        return "(an address that does not parse)".to_string();
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if u.query_pairs().any(|(k, _)| k == "password") {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| (k.to_string(), if k == "password" { "***".to_string() } else { v.to_string() }))
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// TLS with the system's certificate authorities, through the same rustls as the fetcher.
fn tls() -> tokio_postgres_rustls::MakeRustlsConnect {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("the provider's default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

/// The password for this connection: `PGPASSWORD`, else the first matching line of the
/// password file.
fn password(config: &postgres::Config) -> Option<String> {
    if let Some(p) = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()) {
        return Some(p);
    }
    let file = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let text = std::fs::read_to_string(&file).ok()?;
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                "`{}` can be read by other users, so it is not used (as libpq does): `chmod 600` it",
                file.display()
            );
            return None;
        }
    }
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432).to_string();
    let database = config.get_dbname().or(config.get_user()).unwrap_or_default().to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    pgpass_lookup(&text, [&host, &port, &database, &user])
}

/// The password of the first line of a password file whose four fields match (`*` matches
/// anything; `\:` and `\\` are a colon and a backslash).
fn pgpass_lookup(text: &str, want: [&str; 4]) -> Option<String> {
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let fields = split_pgpass(line);
        if fields.len() != 5 {
            continue;
        }
        if fields[..4].iter().zip(want).all(|(f, w)| f == "*" || f == w) {
            return Some(fields[4].clone());
        }
    }
    None
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().expect("one field").extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            _ => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_file_line_matches_with_wildcards_and_escapes() {
        let text = "# comment\nother:5432:db:u:wrong\n127.0.0.1:*:blackout:alice:s3cr\\:et\n*:*:*:*:fallback\n";
        assert_eq!(
            pgpass_lookup(text, ["127.0.0.1", "5433", "blackout", "alice"]).as_deref(),
            Some("s3cr:et")
        );
        assert_eq!(pgpass_lookup(text, ["10.0.0.1", "5432", "x", "bob"]).as_deref(), Some("fallback"));
        assert_eq!(pgpass_lookup("h:1:d:u:p\n", ["h", "2", "d", "u"]), None);
    }

    #[test]
    fn an_address_with_a_password_is_refused_before_connecting() {
        let err = open("postgres://alice:secret@127.0.0.1:1/blackout").err().unwrap().to_string();
        assert!(err.contains("carries a password") && err.contains("PGPASSWORD"), "{err}");
        assert!(!err.contains("secret"), "the password is never shown: {err}");
        let err = open("postgres://alice@127.0.0.1:1/blackout?password=s3cret&sslmode=disable")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("carries a password") && !err.contains("s3cret"), "{err}");
        assert_eq!(address(Path::new("/var/lib/state.db")), None);
        assert!(address(Path::new("postgresql://h/db")).is_some());
    }
}
