//! Reading local files as documents, under the same body cap as the web.

use super::{DEFAULT_MAX_BODY, Document, FetchError, Fetcher, Location, Request};
use chrono::Utc;
use std::io::Read;

/// Reads local files; refuses network locations.
#[derive(Debug, Clone, Copy)]
pub struct LocalFetcher {
    /// Largest body kept when a request names none.
    pub max_body: u64,
}

impl Default for LocalFetcher {
    fn default() -> LocalFetcher {
        LocalFetcher {
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

impl LocalFetcher {
    /// Reads `location`, at most `max_body` bytes (default: the fetcher's cap).
    pub fn fetch(&self, location: &Location, max_body: Option<u64>) -> Result<Document, FetchError> {
        let Location::File(path) = location else {
            return Err(FetchError::HttpUnavailable);
        };
        let started = std::time::Instant::now();
        let cap = max_body.unwrap_or(self.max_body);
        let io = |error| FetchError::Io { path: path.clone(), error };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(cap.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
        let truncated = bytes.len() as u64 > cap;
        bytes.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
        let url = location.url();
        Ok(Document {
            final_url: url.clone(),
            url,
            status: None,
            headers: Vec::new(),
            bytes,
            fetched_at: Utc::now(),
            truncated,
            max_bytes: cap,
            redirects: Vec::new(),
            from_cache: false,
            elapsed: started.elapsed(),
            exchanges: Vec::new(),
        })
    }
}

impl Fetcher for LocalFetcher {
    fn reaches(&self, location: &Location) -> bool {
        matches!(location, Location::File(_))
    }

    fn fetch_each(&self, requests: &[Request], each: &(dyn Fn(usize, Result<Document, FetchError>) + Sync)) {
        use rayon::prelude::*;
        requests
            .par_iter()
            .enumerate()
            .for_each(|(i, r)| each(i, self.fetch(&r.location, r.max_body)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_cut_at_the_same_cap_as_the_web() {
        // Issue 10: files were read up to 16 MiB, the web up to 10 MiB or `max_body`, so a
        // replay from files could read more than the live run did.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.html");
        std::fs::write(&path, vec![b'a'; 1000]).unwrap();
        let local = LocalFetcher { max_body: 600 };
        let doc = local.fetch(&Location::File(path.clone()), None).unwrap();
        assert_eq!((doc.bytes.len(), doc.truncated, doc.max_bytes), (600, true, 600));
        let doc = local.fetch(&Location::File(path), Some(1000)).unwrap();
        assert_eq!((doc.bytes.len(), doc.truncated), (1000, false));
        assert_eq!(LocalFetcher::default().max_body, DEFAULT_MAX_BODY);
    }
}
