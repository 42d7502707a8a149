//! `restore-doctor`: the command-line front end.
//!
//! A thin layer: it parses arguments with clap, calls the pure crates (`kb`, `engine`) and the
//! I/O crates (`logs`, `usb`, `store`, `web`), and prints either human text (coloured where the
//! terminal supports it, respecting `NO_COLOR`) or JSON (`--json`). Exit codes follow
//! design.md §6: 0 success, 2 bad usage or bad input, 1 other failures.

mod cmd;
mod output;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

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
    /// More tracing output on stderr (-v info, -vv debug, -vvv trace).
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
    /// Print shell completions or the man page (generated from this CLI's definition).
    #[command(hide = true)]
    Completions(cmd::completions::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.verbose);
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

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RESTORE_DOCTOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}
