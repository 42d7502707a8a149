//! `restore-doctor bench ...`: benchmarks that measure the program against peers in the same
//! run. `bench policies` compares the diagnosis engine with the fixed published checklist and
//! with the exact optimum on cases simulated from the knowledge base's own model; `bench logs`
//! (in `bench_logs`) scores the log reader against a labelled corpus.

use crate::output::{ACCENT, BOLD, CmdResult, DIM, HEADING, Out, WARN, bad_input, paint};
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
    /// Score the diagnosis and the advice on real cases (the corpus in knowledge/cases, or
    /// --corpus files), in cross-validation by source, beside the knowledge base alone and the
    /// seeds' checklist.
    #[command(
        after_help = "Examples:\n  restore-doctor bench cases\n  restore-doctor bench cases --folds 5 --json\n  restore-doctor bench cases --corpus more_cases.jsonl --mode text --misses\n\nA corpus file holds one case a line (JSON): id, source_url, language, device, product_type,\nerror_code, host, ios_from, ios_to, report, tried, log_excerpt, resolution,\nresolution_category, confidence (see knowledge/cases/README.md)."
    )]
    Cases(CasesArgs),
    /// Read every log of a labelled corpus (a directory with a labels.jsonl) and report outcome
    /// agreement, whether the failure point is the labelled line, stage coverage and speed.
    #[command(
        after_help = "Examples:\n  restore-doctor bench logs --corpus ../shared/logs/real\n  restore-doctor bench logs --corpus ../shared/logs/real --json"
    )]
    Logs(crate::cmd::bench_logs::LogsArgs),
}

#[derive(clap::Args, Debug)]
pub struct CasesArgs {
    /// Corpus files (JSON lines); repeatable. Default: the corpus built into the knowledge base.
    #[arg(long = "corpus", value_name = "FILE")]
    pub corpus: Vec<std::path::PathBuf>,
    /// Cross-validation folds, by source (1: score the knowledge base alone, nothing fitted).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Which input the diagnosis gets: text (the report alone), flags (plus device, code,
    /// program and steps tried) or both.
    #[arg(long, default_value = "both", value_parser = ["text", "flags", "both"])]
    pub mode: String,
    /// Skip following the advice (faster; diagnosis figures only).
    #[arg(long)]
    pub no_advice: bool,
    /// List the scored cases whose confirmed cause is not in the top three.
    #[arg(long)]
    pub misses: bool,
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
        BenchCommand::Cases(a) => cases(a, out),
        BenchCommand::Logs(a) => crate::cmd::bench_logs::run(a, out),
    }
}

/// Read corpus files: one case a line; a bad line is named by file and line.
fn read_corpus(paths: &[std::path::PathBuf]) -> anyhow::Result<Vec<kb::RealCase>> {
    let mut cases = Vec::new();
    for path in paths {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return bad_input(format!("--corpus {}: {e}", path.display())),
        };
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<kb::RealCase>(line) {
                Ok(c) => cases.push(c),
                Err(e) => {
                    return bad_input(format!(
                        "--corpus {}:{}: not a case: {e}",
                        path.display(),
                        i + 1
                    ));
                }
            }
        }
    }
    if cases.is_empty() {
        return bad_input("--corpus: no cases in the files given");
    }
    Ok(cases)
}

fn cases(a: CasesArgs, out: &Out) -> CmdResult {
    use engine::casebench;
    use engine::corpus::Mode;
    if a.folds == 0 || a.folds > 50 {
        return bad_input("--folds: give 1 to 50 folds");
    }
    let kb = kb::kb();
    let corpus = if a.corpus.is_empty() {
        kb.cases().to_vec()
    } else {
        read_corpus(&a.corpus)?
    };
    let unknown: Vec<&str> = corpus
        .iter()
        .filter(|c| {
            c.resolution_category != "unresolved" && kb.cause(&c.resolution_category).is_none()
        })
        .map(|c| c.id.as_str())
        .collect();
    if !unknown.is_empty() {
        return bad_input(format!(
            "--corpus: resolution_category is not a cause id in: {}",
            unknown.join(", ")
        ));
    }
    let config = casebench::Config {
        folds: a.folds,
        modes: match a.mode.as_str() {
            "text" => vec![Mode::Text],
            "flags" => vec![Mode::Flags],
            _ => Mode::ALL.to_vec(),
        },
        advice: !a.no_advice,
    };
    let bar = crate::progress::bar(
        (corpus.len() * config.modes.len()) as u64,
        "diagnosing real cases",
        out.json,
    );
    let report = casebench::run_with_progress(kb, &corpus, &config, &mut |done, _| {
        bar.set_position(done as u64)
    });
    bar.finish_and_clear();
    if out.json {
        out.json(&report)?;
    } else {
        anstream::print!("{}", render_cases(&report, a.misses));
    }
    Ok(ExitCode::SUCCESS)
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The human report of `bench cases`.
pub fn render_cases(r: &engine::casebench::Report, misses: bool) -> String {
    let mut s = format!(
        "{}\n{}\n",
        paint(
            HEADING,
            format!("Real cases: {} ({} scored)", r.cases, r.scored)
        ),
        paint(
            DIM,
            if r.folds > 1 {
                format!(
                    "{}-fold cross-validation by source: each case diagnosed by a model fitted on the other folds",
                    r.folds
                )
            } else {
                "no cross-validation: the knowledge base alone".to_string()
            }
        )
    );
    for m in &r.modes {
        s.push_str(&format!(
            "\n{}\n",
            paint(
                BOLD,
                match m.mode.as_str() {
                    "text" => "Text mode (the report alone)",
                    _ => "Flags mode (device, code, program, steps tried, and the report)",
                }
            )
        ));
        s.push_str(&format!(
            "  {:<16} {:>6} {:>6} {:>6} {:>8} {:>6} {:>6} {:>10}\n",
            "model", "top-1", "top-3", "group", "log-loss", "Brier", "ECE", "conf.wrong"
        ));
        for (name, d) in [("learned", &m.learned), ("knowledge base", &m.kb_only)] {
            if r.folds == 1 && name == "learned" {
                continue;
            }
            s.push_str(&format!(
                "  {:<16} {:>6} {:>6} {:>6} {:>8.2} {:>6.2} {:>6.3} {:>10}\n",
                name,
                pct(d.top1),
                pct(d.top3),
                pct(d.group),
                d.log_loss,
                d.brier,
                d.ece,
                format!("{}/{}", d.confident_wrong, d.all_cases)
            ));
        }
        let d = if r.folds > 1 { &m.learned } else { &m.kb_only };
        s.push_str(&format!(
            "  {}\n",
            paint(DIM, "calibration (top cause's probability: cases, right)")
        ));
        let bins: Vec<String> = d
            .calibration
            .iter()
            .map(|b| {
                format!(
                    "{:.1}-{:.1}: {} {}",
                    b.low,
                    b.high,
                    b.cases,
                    pct(b.accuracy)
                )
            })
            .collect();
        for chunk in bins.chunks(4) {
            s.push_str(&format!("    {}\n", chunk.join("   ")));
        }
        if !m.advice.is_empty() {
            s.push_str(&format!(
                "  {:<16} {:>12} {:>14} {:>10} {:>6}\n",
                "advice", "fix first", "wasted repair", "mean cost", "steps"
            ));
            for name in ["engine", "engine_kb_only", "seed_tree"] {
                if let Some(a) = m.advice.get(name) {
                    s.push_str(&format!(
                        "  {:<16} {:>12} {:>14} {:>10.0} {:>6.1}\n",
                        match name {
                            "engine" => "engine",
                            "engine_kb_only" => "engine (kb only)",
                            _ => "seed checklist",
                        },
                        pct(a.fix_before_repair),
                        pct(a.wasted_repair),
                        a.mean_cost,
                        a.mean_steps
                    ));
                }
            }
            if let Some(x) = m.cost_vs_seed_tree {
                s.push_str(&format!(
                    "  {} {:.2}× the checklist's cost (fix first and wasted repair: cases whose cause is not hardware)\n",
                    paint(DIM, "engine:"),
                    x
                ));
            }
        }
        if misses {
            for c in r.results.iter().filter(|c| c.mode == m.mode && c.scored) {
                if c.top.iter().any(|(id, _)| *id == c.cause) {
                    continue;
                }
                let top: Vec<String> = c
                    .top
                    .iter()
                    .map(|(id, p)| format!("{id} {}", pct(*p)))
                    .collect();
                s.push_str(&format!(
                    "  {} {} [{}] → {}\n",
                    paint(WARN, "miss"),
                    c.id,
                    c.cause,
                    top.join(", ")
                ));
            }
        }
    }
    s
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
    let started = std::time::Instant::now();
    let report = sim::run(
        kb::kb(),
        SimConfig {
            cases: a.cases,
            seed: a.seed,
            role,
        },
    );
    tracing::info!(
        "simulated {} cases (seed {}, role {}) in {:.0} ms",
        a.cases,
        a.seed,
        role.as_str(),
        crate::trace::ms(started.elapsed())
    );
    if out.json {
        out.json(&report)?;
    } else {
        crate::say!("{}", render(&report));
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
