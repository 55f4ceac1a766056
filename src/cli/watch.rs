//! `blackout watch`: checks again and again while a window is open, sleeps between windows,
//! and stops cleanly on a signal.

use super::args::WatchArgs;
use super::{Failure, fail};
use crate::report::Outcome;
use crate::schedule::{self, Watch};
use chrono::{DateTime, SubsecRound, Utc};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The watch's clock: now, or with `--at` an instant that started there and runs at the real
/// pace.
struct Clock {
    offset: chrono::Duration,
}

impl Clock {
    fn now(&self) -> DateTime<Utc> {
        (Utc::now() + self.offset).trunc_subsecs(0)
    }

    /// Sleeps until the clock reads `until`, or a signal asks to stop.
    fn sleep_until(&self, until: DateTime<Utc>, stop: &AtomicBool) {
        const STEP: std::time::Duration = std::time::Duration::from_millis(200);
        while !stop.load(Ordering::SeqCst) {
            let Ok(left) = (until - (Utc::now() + self.offset)).to_std() else {
                return;
            };
            std::thread::sleep(left.min(STEP));
        }
    }
}

pub fn watch(a: WatchArgs, out: &mut dyn Write) -> Result<Outcome, Failure> {
    // Broken rule files, or a store that cannot be used, stop the watch before its first run,
    // as they stop a check: a watch that can record nothing must not run for days.
    let rules = super::load(&a.check.files)?;
    if let Some(store) = super::state::open_for_check(&a.check.state)?
        && store.read_only()
    {
        return Err(Failure::Message(format!(
            "error: state store `{}` is read-only: a watch could record none of its runs (make it writable, or name another with `--state PATH`)",
            crate::report::inert(&store.path().display().to_string())
        )));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let signals = Arc::new(AtomicUsize::new(0));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let (stop, signals) = (Arc::clone(&stop), Arc::clone(&signals));
        // The first signal asks the watch to stop after the run under way; a second ends the
        // process at once, unless the run is being recorded and printed (then the watch stops
        // as soon as that is done); a third ends it whatever it is doing (a stalled output).
        let handler = move || {
            stop.store(true, Ordering::SeqCst);
            let n = signals.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= 3 || (n == 2 && !super::RECORDING.load(Ordering::SeqCst)) {
                signal_hook::low_level::exit(0);
            }
        };
        // SAFETY: the handler only reads and writes atomics and calls `_exit`, all of which
        // are async-signal-safe.
        unsafe { signal_hook::low_level::register(signal, handler) }.map_err(fail)?;
    }
    let clock = Clock {
        offset: a.check.at.map_or(chrono::Duration::zero(), |at| at - Utc::now()),
    };
    let margin = chrono::Duration::hours(i64::from(a.check.margin));
    let stamp = crate::model::stamp;
    let mut runs = 0;
    while !stop.load(Ordering::SeqCst) {
        let now = clock.now();
        match schedule::watch(&rules, now, margin) {
            Watch::Over => {
                eprintln!(
                    "watch: no window of the rule files is open at {} or opens later (margin {} h): nothing left to watch",
                    stamp(now),
                    a.check.margin
                );
                break;
            }
            Watch::Next { at, window } => {
                eprintln!(
                    "watch: no window open at {}; sleeping until {} ({} h before window `{window}` opens)",
                    stamp(now),
                    stamp(at),
                    a.check.margin
                );
                clock.sleep_until(at, &stop);
            }
            Watch::Open => {
                runs += 1;
                let mut check = a.check.clone();
                check.at = Some(now);
                // One run's failure (an outlet down, the store locked by a hung run) is said
                // and the watch goes on; the next run may succeed.
                match super::check(check, out) {
                    Ok(outcome) => tracing::info!(run = runs, at = %stamp(now), ?outcome, "watch: run done"),
                    Err(Failure::BrokenPipe) => return Ok(Outcome::Clean),
                    Err(Failure::Message(msg)) => eprintln!(
                        "watch: run at {} failed: {}",
                        stamp(now),
                        msg.trim_end().trim_start_matches("error: ")
                    ),
                }
                out.flush()?;
                clock.sleep_until(now + a.every, &stop);
            }
        }
    }
    if stop.load(Ordering::SeqCst) {
        eprintln!("watch: stopped by a signal after {runs} run(s)");
    }
    Ok(Outcome::Clean)
}
