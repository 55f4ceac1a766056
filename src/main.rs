//! `blackout`: the command line. All work happens in the library; this only maps the outcome
//! to an exit status (0 clean, 1 findings, 2 the run could not be done, 3 no finding but some
//! source not checked, or only in part).

use blackout::cli::Failure;
use blackout::report::Outcome;
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = blackout::cli::Cli::parse();
    // Buffered: reports are written in many small pieces, and a line-buffered stdout would make
    // a system call of each line of a JSON report.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let result = blackout::cli::run(cli, &mut out);
    // What was written reaches stdout before any error reaches stderr.
    let flushed = out.flush().map_err(Failure::from);
    let result = result.and_then(|o| flushed.map(|()| o));
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Ok(Outcome::Incomplete) => ExitCode::from(3),
        Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Err(Failure::Message(msg)) => {
            eprint!("{msg}");
            if !msg.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(2)
        }
    }
}
