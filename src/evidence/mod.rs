//! Evidence that holds up months later, read back from what the state store sealed (see
//! `store::recorded`): a run's evidence whole (`sealed`), verified (`verify`), exported as
//! WARC (`export`, `warc`), replayed offline (`replay`), gathered for one finding (`bundle`),
//! and its trusted timestamp (`tsa`).

pub mod bundle;
pub mod export;
pub mod replay;
pub mod sealed;
pub mod tsa;
pub mod verify;
pub mod warc;
