//! What a person at a terminal sees while a check runs, and the log for those who ask.
//!
//! The bar draws on stderr only when it is a terminal (indicatif hides itself otherwise), so a
//! cron job gets nothing on stderr but errors. `-v` (or `RUST_LOG`) turns the log on.

use crate::run::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A progress bar per stage: documents done out of the total, and how many failed.
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
    failed: AtomicUsize,
}

impl Bar {
    pub fn new() -> Bar {
        Bar {
            bar: Mutex::new(None),
            failed: AtomicUsize::new(0),
        }
    }
}

impl Default for Bar {
    fn default() -> Bar {
        Bar::new()
    }
}

impl Progress for Bar {
    fn stage(&self, name: &'static str, total: usize) {
        let mut slot = self.bar.lock().expect("progress lock");
        if let Some(done) = slot.take() {
            done.finish_and_clear();
        }
        self.failed.store(0, Ordering::Relaxed);
        let bar = ProgressBar::new(total as u64).with_prefix(name);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>5} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .expect("static template")
                .progress_chars("=> "),
        );
        *slot = Some(bar);
    }

    fn done(&self, failed: bool) {
        let slot = self.bar.lock().expect("progress lock");
        let Some(bar) = slot.as_ref() else { return };
        if failed {
            let n = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
            bar.set_message(format!("{n} failed"));
        }
        bar.inc(1);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
    }
}

/// Sends `tracing` events to stderr: `RUST_LOG` if set, else by `-v` count (none: errors only;
/// `-v`: what is fetched and retried; `-vv`: debug detail).
pub fn init_log(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(match verbose {
            0 => "error",
            1 => "blackout=info",
            _ => "blackout=debug",
        })
    });
    // A second initialisation (tests calling `run` twice) is harmless. Colours only on a
    // terminal: a log in a file or a cron mail must not carry escape codes.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
