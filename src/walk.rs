//! The one directory walker: every regular file under a root, in path order, for `check
//! --input DIR`, `extract --jsonl DIR` and the leak corpus reader alike.
//!
//! Symbolic links to directories are not followed: a link such as `again -> .` would read the
//! same files again and again (one page became 41 items), and a link out of the tree reads what
//! the user did not name. Links to files are read, as files. A root that is itself a link is
//! followed: the user named it.

use std::path::{Path, PathBuf};

/// Every file under `root` (or `root` itself when it is a file), sorted by path.
pub fn files_under(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false) {
        let entry = entry.map_err(|e| {
            let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| root.to_path_buf());
            let error = e.into_io_error().unwrap_or_else(|| std::io::Error::other("filesystem loop"));
            std::io::Error::new(error.kind(), format!("`{}`: {error}", path.display()))
        })?;
        let kind = entry.file_type();
        if kind.is_file() || (kind.is_symlink() && entry.path().is_file()) {
            out.push(entry.into_path());
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn links_to_directories_are_not_followed() {
        // Issue 10, bug 9: an `again -> .` link turned one page into 41 items.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.html"), "<p>a</p>").unwrap();
        std::fs::write(dir.path().join("b.xml"), "<rss/>").unwrap();
        std::os::unix::fs::symlink(".", dir.path().join("sub/again")).unwrap();
        std::os::unix::fs::symlink("b.xml", dir.path().join("c.xml")).unwrap();
        let names: Vec<String> = files_under(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["b.xml", "c.xml", "sub/a.html"]);
        // A root that is a link is followed.
        let link = dir.path().join("root-link");
        std::os::unix::fs::symlink(dir.path().join("sub"), &link).unwrap();
        assert_eq!(files_under(&link).unwrap().len(), 1);
    }
}
