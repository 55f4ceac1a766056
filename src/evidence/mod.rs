//! Evidence that holds up months later: captures kept with their digests, exported as WARC,
//! replayed offline, and a run log that shows tampering (issue 13; built in steps — this
//! step is the WARC format itself).

pub mod bundle;
pub mod export;
pub mod replay;
pub mod sealed;
pub mod tsa;
pub mod verify;
pub mod warc;
