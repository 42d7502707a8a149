//! `restore-doctor`: the command-line front end.
//!
//! A thin layer: it parses arguments with clap, calls the pure crates (`kb`, `engine`) and the
//! I/O crates (`logs`, `usb`, `store`, `web`), and prints either human text (coloured where the
//! terminal supports it, respecting `NO_COLOR`) or JSON (`--json`). Exit codes follow
//! design.md §6: 0 success, 2 bad usage or bad input, 1 other failures.

mod cmd;
mod output;
mod progress;
mod trace;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc rather than the system's malloc: a diagnosis allocates and frees thousands of small
/// strings and vectors (the words of the answer, the model's lists), and with glibc's malloc
/// that was about a fifth of the CPU `serve` spent per request under load
/// (`scripts/load-web.sh`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Why an iPhone, iPad or iPod touch fails to restore, and the cheapest safe fix.
#[derive(Parser, Debug)]
#[command(
    name = "restore-doctor",
    version,
    about = "Find out why an iPhone, iPad or iPod touch fails to restore or update (errors 4013, 9, 4014, 3194...) and the cheapest safe fix.",
    after_help = "Examples:\n  restore-doctor explain 4013\n  restore-doctor guide dfu --device \"iPhone 8\"\n  restore-doctor devices \"iphone 11\"\n  restore-doctor identify \"CPID:8015 CPRV:11 CPFM:03 SCEP:01 BDID:0E ECID:000A1B2C3D4E5F60 IBFL:3C\""
)]
pub struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Trace what the command does on stderr: files read, formats detected, evidence derived,
    /// databases opened, timings (-v; -vv more detail, -vvv everything).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Explain a restore/update error code: meaning, likely causes, what to try first.
    Explain(cmd::explain::Args),
    /// Model-specific button steps: force restart, Recovery Mode, DFU, leaving Recovery.
    Guide(cmd::guide::Args),
    /// List the known devices, optionally filtered by a name, product type or board.
    Devices(cmd::devices::Args),
    /// Read the USB serial string a device shows in DFU or Recovery Mode.
    Identify(cmd::identify::Args),
    /// List iPhones, iPads and iPod touches on USB: mode, model, port, speed (--watch: live).
    Detect(cmd::detect::Args),
    /// Run a restore tool, follow its output and the device on USB, record and diagnose it.
    Watch(cmd::watch::Args),
    /// Read restore logs: timeline, failure point, stage and a reading in plain words.
    Logs(cmd::logs::Args),
    /// Case history: open a case, record attempts and steps, show, list, close, export.
    Cases(cmd::cases::Args),
    /// Shop-wide analytics: faulty stations, cables, ports and devices (report, simulate, bench).
    Fleet(cmd::fleet::Args),
    /// Diagnose a failing restore: likely causes, the next best step, a verdict (no flags on a terminal: a wizard).
    Diagnose(cmd::diagnose::Args),
    /// Serve the web UI and JSON API on this computer (http://127.0.0.1:7413/ by default).
    Serve(cmd::serve::Args),
    /// Benchmarks against peers in the same run (`bench policies`: engine vs checklist vs optimal;
    /// `bench logs`: the log reader against a labelled corpus).
    Bench(cmd::bench::Args),
    /// Print shell completions or the man pages (generated from this CLI's definition).
    Completions(cmd::completions::Args),
}

fn main() -> ExitCode {
    // Help is wrapped to the same width as the output (80 off a terminal, `COLUMNS` honoured).
    let parsed = Cli::command()
        .term_width(output::width())
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.verbose, matches!(cli.command, Command::Serve(_)));
    let out = output::Out::new(cli.json);
    let result = match cli.command {
        Command::Explain(args) => cmd::explain::run(args, &out),
        Command::Guide(args) => cmd::guide::run(args, &out),
        Command::Devices(args) => cmd::devices::run(args, &out),
        Command::Identify(args) => cmd::identify::run(args, &out),
        Command::Detect(args) => cmd::detect::run(args, &out),
        Command::Watch(args) => cmd::watch::run(args, &out),
        Command::Logs(args) => cmd::logs::run(args, &out),
        Command::Cases(args) => cmd::cases::run(args, &out),
        Command::Fleet(args) => cmd::fleet::run(args, &out),
        Command::Diagnose(args) => cmd::diagnose::run(args, &out),
        Command::Serve(args) => cmd::serve::run(args, &out),
        Command::Bench(args) => cmd::bench::run(args, &out),
        Command::Completions(args) => cmd::completions::run(args, Cli::command()),
    };
    output::finish(result)
}

/// The crates of this workspace: `-v` turns up their tracing, not the libraries' (the HTTP and
/// I/O libraries are noisy and say nothing about a restore).
const OUR_CRATES: [&str; 7] = [
    "restore_doctor",
    "kb",
    "engine",
    "logs",
    "usb",
    "store",
    "web",
];

/// The tracing filter for a verbosity: `-v` info (what was read, detected, derived and opened,
/// with timings), `-vv` debug, `-vvv` trace for our crates; the libraries stay at warnings
/// until `-vvv` (info) and `-vvvv` (everything). `serve` logs one line per request by default.
pub fn filter_for(verbose: u8, serve: bool) -> String {
    let ours = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let others = match verbose {
        0..=2 => "warn",
        3 => "info",
        _ => "trace",
    };
    let mut directives = vec![others.to_string()];
    directives.extend(OUR_CRATES.iter().map(|c| format!("{c}={ours}")));
    if serve && verbose == 0 {
        directives.push("web::access=info".to_string());
    }
    directives.join(",")
}

fn init_tracing(verbose: u8, serve: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RESTORE_DOCTOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter_for(verbose, serve)));
    // Colour only on a terminal, and never with NO_COLOR (the same rule as the output).
    let colour = anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .with_target(verbose >= 2)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_turns_up_our_crates_not_the_libraries() {
        let quiet = filter_for(0, false);
        assert!(
            quiet.starts_with("warn,") && quiet.contains("engine=warn"),
            "{quiet}"
        );
        let v = filter_for(1, false);
        assert!(
            v.starts_with("warn,") && v.contains("restore_doctor=info"),
            "{v}"
        );
        assert!(filter_for(2, false).contains("logs=debug"));
        let vvv = filter_for(3, false);
        assert!(
            vvv.starts_with("info,") && vvv.contains("web=trace"),
            "{vvv}"
        );
        assert!(filter_for(4, false).starts_with("trace,"));
        assert!(filter_for(0, true).contains("web::access=info"));
        // Every directive parses.
        for v in 0..5 {
            for serve in [false, true] {
                tracing_subscriber::EnvFilter::try_new(filter_for(v, serve)).unwrap();
            }
        }
    }
}
