//! One integration-test binary (links once on a 2-core machine).

mod cli;
mod dates;
mod http;
mod postgres;
mod regression;
mod report;
mod state;
mod util;
