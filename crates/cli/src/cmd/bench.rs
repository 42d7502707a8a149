//! `restore-doctor bench ...`: benchmarks that measure the program against peers in the same
//! run. `bench policies` compares the diagnosis engine with the fixed published checklist and
//! with the exact optimum on cases simulated from the knowledge base's own model; `bench logs`
//! (in `bench_logs`) scores the log reader against a labelled corpus.

use crate::output::{ACCENT, BOLD, CmdResult, DIM, HEADING, Out, bad_input, paint};
use engine::Role;
use engine::sim::{self, BenchReport, SimConfig};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Simulate cases and compare the troubleshooting policies: seed_tree (the fixed published
    /// checklist), engine, and optimal (exact, on reduced problems).
    #[command(
        after_help = "Examples:\n  restore-doctor bench policies\n  restore-doctor bench policies --cases 2000 --seed 7 --json\n  restore-doctor bench policies --role technician"
    )]
    Policies(PoliciesArgs),
    /// Read every log of a labelled corpus (a directory with a labels.jsonl) and report outcome
    /// agreement, whether the failure point is the labelled line, stage coverage and speed.
    #[command(
        after_help = "Examples:\n  restore-doctor bench logs --corpus ../shared/logs/real\n  restore-doctor bench logs --corpus ../shared/logs/real --json"
    )]
    Logs(crate::cmd::bench_logs::LogsArgs),
}

#[derive(clap::Args, Debug)]
pub struct PoliciesArgs {
    /// How many cases to simulate.
    #[arg(long, default_value_t = 500)]
    pub cases: usize,
    /// Seed of the simulation (same seed, same cases and outcomes).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Who does the work in the simulated cases: owner or technician.
    #[arg(long, default_value = "owner")]
    pub role: String,
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    match args.command {
        BenchCommand::Policies(a) => policies(a, out),
        BenchCommand::Logs(a) => crate::cmd::bench_logs::run(a, out),
    }
}

fn policies(a: PoliciesArgs, out: &Out) -> CmdResult {
    if a.cases == 0 {
        return bad_input("--cases: give at least 1 case");
    }
    if a.cases > 1_000_000 {
        return bad_input("--cases: at most 1000000 cases");
    }
    let Some(role) = Role::parse(&a.role) else {
        return bad_input(format!(
            "--role: unknown role {:?}; accepted: owner, technician",
            a.role
        ));
    };
    let report = sim::run(
        kb::kb(),
        SimConfig {
            cases: a.cases,
            seed: a.seed,
            role,
        },
    );
    if out.json {
        out.json(&report)?;
    } else {
        anstream::print!("{}", render(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// The human table.
pub fn render(r: &BenchReport) -> String {
    let mut s = format!(
        "{}\n{}\n\n",
        paint(
            HEADING,
            format!("Policy benchmark: {} simulated cases", r.cases)
        ),
        paint(
            DIM,
            format!(
                "seed {}, role {}; cost = minutes + dollars + skill weight",
                r.seed,
                r.role.as_str()
            )
        )
    );
    s.push_str(&format!(
        "  {:<10} {:>6} {:>10} {:>8} {:>8} {:>6} {:>9} {:>9}\n",
        "policy", "cases", "mean cost", "minutes", "USD", "steps", "correct", "data loss"
    ));
    for name in ["seed_tree", "engine", "optimal"] {
        if let Some(p) = r.policies.get(name) {
            s.push_str(&format!(
                "  {:<10} {:>6} {:>10.1} {:>8.1} {:>8.1} {:>6.2} {:>8.1}% {:>9}\n",
                name,
                p.cases,
                p.mean_cost,
                p.mean_minutes,
                p.mean_usd,
                p.mean_steps,
                p.correct_verdict_rate * 100.0,
                p.data_loss_events
            ));
        }
    }
    s.push('\n');
    s.push_str(&format!(
        "{} engine costs {} of seed_tree ({} lower)\n",
        paint(BOLD, "Engine vs checklist:"),
        paint(ACCENT, format!("{:.1}%", r.engine_vs_seed_tree * 100.0)),
        format_args!("{:.1}%", (1.0 - r.engine_vs_seed_tree) * 100.0)
    ));
    match r.engine_vs_optimal {
        Some(x) => s.push_str(&format!(
            "{} engine costs {} of optimal on the {} reduced problems optimal solves exactly (engine {:.1} vs optimal {:.1})\n",
            paint(BOLD, "Engine vs optimal:"),
            paint(ACCENT, format!("{:.1}%", x * 100.0)),
            r.engine_on_optimal_cases.cases,
            r.engine_on_optimal_cases.mean_cost,
            r.policies.get("optimal").map_or(0.0, |p| p.mean_cost)
        )),
        None => s.push_str("Engine vs optimal: no case was small enough to solve exactly\n"),
    }
    let x = &r.expected_on_optimal_cases;
    s.push_str(&format!(
        "{} engine {:.1} vs optimal {:.1} ({} of optimal, exact, no sampling noise)\n",
        paint(BOLD, "Expected cost on the reduced problems:"),
        x.engine,
        x.optimal,
        paint(ACCENT, format!("{:.1}%", x.ratio * 100.0))
    ));
    s
}
