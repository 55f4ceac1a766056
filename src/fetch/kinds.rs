//! What kind of input a local file is (a feed or a page), and listing a directory's inputs.

use super::FetchError;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What kind of input a file in a directory is, judged by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Feed,
    Page,
}

/// Lists the feeds and pages in a directory (recursively), sorted for reproducible runs.
pub fn scan_dir(dir: &Path) -> Result<Vec<(InputKind, PathBuf)>, FetchError> {
    Ok(files_under(dir)?.into_iter().filter_map(|p| kind_of(&p).map(|k| (k, p))).collect())
}

/// The HTML pages under `dir`, sorted: files named as pages, and files without a known
/// extension whose first bytes are HTML (saved pages keep whatever name their URL had).
pub fn scan_pages(dir: &Path) -> Result<Vec<PathBuf>, FetchError> {
    Ok(files_under(dir)?
        .into_iter()
        .filter(|p| match kind_of(p) {
            Some(kind) => kind == InputKind::Page,
            None => starts_as_html(p),
        })
        .collect())
}

fn starts_as_html(path: &Path) -> bool {
    let mut head = Vec::with_capacity(8192);
    let _ = std::fs::File::open(path).and_then(|f| f.take(8192).read_to_end(&mut head));
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    ["<!doctype html", "<html", "<head", "<body"].iter().any(|t| text.contains(t))
}

/// Every file under `dir` (see [`crate::walk`]).
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>, FetchError> {
    crate::walk::files_under(dir).map_err(|error| FetchError::Io {
        path: dir.to_path_buf(),
        error,
    })
}

/// Classifies a file given explicitly: by extension, else by its first bytes (an XML or
/// JSON document is a feed, anything else a page).
pub fn kind_of_file(path: &Path) -> InputKind {
    if let Some(kind) = kind_of(path) {
        return kind;
    }
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    kind_of_bytes(&head[..n])
}

/// Classifies a document by its first bytes: an XML or JSON document is a feed, anything else
/// a page.
pub fn kind_of_bytes(bytes: &[u8]) -> InputKind {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let feed_roots = ["<?xml", "<rss", "<feed", "<rdf:RDF", "{"];
    let is_feed = feed_roots.iter().any(|r| start.starts_with(r)) && !start.to_ascii_lowercase().contains("<html");
    if is_feed { InputKind::Feed } else { InputKind::Page }
}

/// Classifies a path by extension; `None` for files that are neither feeds nor pages.
pub fn kind_of(path: &Path) -> Option<InputKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "xml" | "rss" | "atom" | "rdf" | "json" | "feed" => Some(InputKind::Feed),
        "html" | "htm" | "xhtml" => Some(InputKind::Page),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_files_are_sniffed_when_the_extension_says_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("rss");
        std::fs::write(&feed, "\u{feff}  <?xml version=\"1.0\"?><rss version=\"2.0\"></rss>").unwrap();
        let page = dir.path().join("index");
        std::fs::write(&page, "<!doctype html><html><p>x</p></html>").unwrap();
        assert_eq!((kind_of_file(&feed), kind_of_file(&page)), (InputKind::Feed, InputKind::Page));
    }
}
