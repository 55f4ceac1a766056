//! Delivery: where a finished report goes besides stdout — files (`--output`), e-mail
//! (`mail`) and a webhook (`webhook`). Downstream of `report`: it renders the report it is
//! given (already redacted) and never decides what the report says.

pub mod mail;
pub mod webhook;

use crate::report::Format;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file the report is written to, in one format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub path: PathBuf,
    pub format: Format,
}

impl Output {
    /// `FILE` with a known extension (`report.html`, `findings.csv`), or `FORMAT:FILE`.
    pub fn parse(s: &str) -> Result<Output, String> {
        if let Some((name, path)) = s.split_once(':')
            && let Some((_, format)) = Format::NAMES.iter().find(|(n, _)| *n == name)
        {
            if path.is_empty() {
                return Err(format!("`{s}` names no file after `{name}:`"));
            }
            return Ok(Output {
                path: PathBuf::from(path),
                format: *format,
            });
        }
        let path = PathBuf::from(s);
        match Format::from_extension(&path) {
            Some(format) => Ok(Output { path, format }),
            None => Err(format!(
                "cannot tell the format of `{s}` from its extension; use .txt .json .jsonl .csv .html or .md, \
                 or name it: `html:{s}`"
            )),
        }
    }
}

/// Writes `bytes` to `path` all at once: into a new file beside it, synced, then renamed over
/// it, so a reader (a web server, the next cron job) sees the old report or the new one,
/// never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut n = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    };
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// An error with its causes, as one line (lettre's own message says "permanent error", the
/// server's reply is in its source), made inert: it may quote a server.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    crate::report::inert(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_take_their_format_from_the_extension_or_a_prefix() {
        assert_eq!(Output::parse("r/report.html").unwrap().format, Format::Html);
        assert_eq!(Output::parse("findings.CSV").unwrap().format, Format::Csv);
        assert_eq!(
            Output::parse("markdown:/tmp/x").unwrap(),
            Output {
                path: "/tmp/x".into(),
                format: Format::Markdown
            }
        );
        assert!(Output::parse("report.pdf").unwrap_err().contains("html:report.pdf"));
        assert!(Output::parse("html:").is_err());
    }

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_atomic(&dir.path().join("missing/r.txt"), b"x").is_err());
    }
}
