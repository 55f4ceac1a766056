//! One integration-test binary (links once on a 2-core machine).

mod browser;
mod cli;
mod dates;
mod evidence;
mod http;
mod mail;
mod postgres;
mod regression;
mod report;
mod state;
mod util;
mod webhook;
