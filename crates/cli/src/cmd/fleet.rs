//! `restore-doctor fleet ...`: shop-wide analytics over the case history (design.md §8):
//! `report` tells faulty stations, cables and ports from faulty devices; `simulate` writes a
//! synthetic history with planted faults; `bench` times import and report and scores the flags.

use crate::cmd::cases::{open_store, store_err};
use crate::output::{BAD, CmdResult, HEADING, Out, bad_input, paint};
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;
use std::time::Instant;
use store::fleet::{self, FleetOptions, FleetReport, ItemReport};
use store::simulate::{SimConfig, SimWorld};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor fleet report\n  restore-doctor fleet simulate --attempts 1000000 --db /tmp/shop.sqlite3 --truth /tmp/truth.json\n  restore-doctor fleet report --db /tmp/shop.sqlite3 --json\n  restore-doctor fleet bench --attempts 1000000"
)]
pub struct Args {
    /// Database: a SQLite file path or a postgres:// URL (default: the platform data directory).
    #[arg(
        long,
        global = true,
        env = "RESTORE_DOCTOR_DB",
        value_name = "PATH|postgres://..."
    )]
    pub db: Option<String>,
    #[command(subcommand)]
    pub command: FleetCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum FleetCommand {
    /// Per station, cable, port and device: failure rates, excess over what the devices
    /// explain, probability of being faulty, flags.
    Report(ReportArgs),
    /// Write a synthetic history with planted faulty stations, cables, ports and devices.
    Simulate(SimulateArgs),
    /// Simulate into a fresh database, then time the import and the report and score the flags.
    Bench(BenchArgs),
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// List every station, cable and port (default: the flagged ones and the 10 worst).
    #[arg(long)]
    pub all: bool,
    /// Flag an item when P(faulty) reaches this.
    #[arg(long, default_value_t = 0.9)]
    pub flag_probability: f64,
    /// Score the flags against planted faults (`fleet simulate --truth FILE`): adds `scores`
    /// (precision and recall per kind) to the output.
    #[arg(long)]
    pub truth: Option<std::path::PathBuf>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct WorldArgs {
    /// Attempts to generate.
    #[arg(long)]
    pub attempts: u64,
    #[arg(long, default_value_t = 40)]
    pub stations: u32,
    #[arg(long, default_value_t = 200)]
    pub cables: u32,
    /// Devices (default: 50 000, or attempts/20 when fewer attempts).
    #[arg(long)]
    pub devices: Option<u32>,
    #[arg(long, default_value_t = 4)]
    pub ports_per_station: u32,
    #[arg(long, default_value_t = 7413)]
    pub seed: u64,
}

#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub world: WorldArgs,
    /// Write the planted faults here as JSON ({"stations", "cables", "ports", "devices"}).
    #[arg(long)]
    pub truth: Option<std::path::PathBuf>,
    /// Write the simulated history even into a database that holds real cases.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub world: WorldArgs,
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    let db = args.db.as_deref();
    match args.command {
        FleetCommand::Report(a) => report(a, db, out),
        FleetCommand::Simulate(a) => simulate(a, db, out),
        FleetCommand::Bench(a) => bench(a, db, out),
    }
}

fn world_config(w: &WorldArgs) -> anyhow::Result<SimConfig> {
    let mut cfg = SimConfig::new(w.attempts);
    cfg.stations = w.stations;
    cfg.cables = w.cables;
    cfg.devices = w
        .devices
        .unwrap_or_else(|| (w.attempts / 20).clamp(1, 50_000) as u32);
    cfg.ports_per_station = w.ports_per_station;
    cfg.seed = w.seed;
    if w.attempts == 0 {
        return bad_input("--attempts must be at least 1");
    }
    cfg.validate().or_else(bad_input)?;
    Ok(cfg)
}

fn bar(total: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg:>10} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Import a world, with a progress bar; returns (truth, seconds).
fn import(
    store: &mut store::Store,
    world: &SimWorld,
) -> anyhow::Result<(store::simulate::Truth, f64)> {
    let pb = bar(world.config.attempts, "importing");
    let t = Instant::now();
    let truth = store
        .import_simulation(world, &mut |done, _| pb.set_position(done))
        .map_err(store_err)?;
    let secs = t.elapsed().as_secs_f64();
    pb.finish_and_clear();
    tracing::info!(
        "imported {} simulated attempts in {secs:.2} s",
        world.config.attempts
    );
    Ok((truth, secs))
}

fn simulate(a: SimulateArgs, db: Option<&str>, out: &Out) -> CmdResult {
    let cfg = world_config(&a.world)?;
    if let Some(path) = &a.truth {
        // Fail before the import, not after it.
        std::fs::write(path, b"")
            .or_else(|e| bad_input(format!("--truth {}: cannot write it: {e}", path.display())))?;
    }
    let world = SimWorld::new(cfg.clone());
    let mut s = open_store(db)?;
    let real = s.count_real_cases().map_err(store_err)?;
    if real > 0 && !a.force {
        return bad_input(format!(
            "{} holds {real} real case(s); refusing to mix a simulated history into it. \
             Use --db with a new file (or --force)",
            s.describe()
        ));
    }
    let (truth, secs) = import(&mut s, &world)?;
    if let Some(path) = &a.truth {
        std::fs::write(path, serde_json::to_string_pretty(&truth)?)
            .map_err(|e| anyhow::anyhow!("--truth {}: {e}", path.display()))?;
    }
    let summary = serde_json::json!({
        "database": s.describe(),
        "attempts": cfg.attempts,
        "stations": cfg.stations,
        "cables": cfg.cables,
        "ports": cfg.stations * cfg.ports_per_station,
        "devices": cfg.devices,
        "seed": cfg.seed,
        "seconds": secs,
        "attempts_per_second": cfg.attempts as f64 / secs.max(1e-9),
        "planted": {
            "stations": truth.stations.len(),
            "cables": truth.cables.len(),
            "ports": truth.ports.len(),
            "devices": truth.devices.len(),
        },
        "truth_file": a.truth.as_ref().map(|p| p.display().to_string()),
    });
    if out.json {
        out.json(&summary)?;
    } else {
        crate::sayln!(
            "wrote {} attempts ({} stations, {} cables, {} devices) into {} in {:.1} s ({:.0} attempts/s)",
            cfg.attempts,
            cfg.stations,
            cfg.cables,
            cfg.devices,
            s.describe(),
            secs,
            cfg.attempts as f64 / secs.max(1e-9)
        );
        crate::sayln!(
            "planted: {} stations, {} cables, {} ports, {} devices{}",
            truth.stations.len(),
            truth.cables.len(),
            truth.ports.len(),
            truth.devices.len(),
            a.truth
                .as_ref()
                .map(|p| format!(" (listed in {})", p.display()))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Load the cells and fit the model, with progress bars; returns (report, load s, fit s).
fn build_report(
    s: &mut store::Store,
    opts: &FleetOptions,
) -> anyhow::Result<(FleetReport, f64, f64)> {
    let t = Instant::now();
    let pb = bar(0, "reading");
    let data = s
        .fleet_data(&mut |done, total| {
            pb.set_length(total);
            pb.set_position(done);
        })
        .map_err(store_err)?;
    pb.finish_and_clear();
    let load = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let pb = bar(u64::from(opts.max_sweeps), "fitting");
    let report =
        fleet::fit_with_progress(&data, opts, &mut |sweep, _| pb.set_position(sweep.into()));
    pb.finish_and_clear();
    tracing::info!(
        "fleet model: {} attempts in {} cells read in {load:.2} s, fitted in {:.2} s ({} sweeps, converged: {})",
        report.model.attempts,
        report.model.cells,
        t.elapsed().as_secs_f64(),
        report.model.sweeps,
        report.model.converged
    );
    Ok((report, load, t.elapsed().as_secs_f64()))
}

fn report(a: ReportArgs, db: Option<&str>, out: &Out) -> CmdResult {
    if !(0.0..=1.0).contains(&a.flag_probability) {
        return bad_input(format!(
            "--flag-probability {} must be between 0 and 1",
            a.flag_probability
        ));
    }
    let opts = FleetOptions {
        flag_probability: a.flag_probability,
        ..FleetOptions::default()
    };
    let truth: Option<store::simulate::Truth> = match &a.truth {
        Some(path) => {
            let text = std::fs::read_to_string(path).or_else(|e| {
                bad_input(format!("--truth {}: cannot read it: {e}", path.display()))
            })?;
            Some(serde_json::from_str(&text).or_else(|e| {
                bad_input(format!(
                    "--truth {}: not a truth file from `fleet simulate --truth`: {e}",
                    path.display()
                ))
            })?)
        }
        None => None,
    };
    let mut s = open_store(db)?;
    let (report, _, _) = build_report(&mut s, &opts)?;
    let scores = truth.as_ref().map(|t| fleet::score(&report, t));
    if out.json {
        let mut v = serde_json::to_value(&report)?;
        if let (Some(sc), Some(obj)) = (&scores, v.as_object_mut()) {
            obj.insert("scores".into(), serde_json::to_value(sc)?);
        }
        out.json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::sayln!(
        "{} {} attempts, {} failures ({:.1}%), baseline failure rate {:.1}%",
        paint(HEADING, "Fleet report:"),
        report.model.attempts,
        report.model.failures,
        100.0 * report.model.failures as f64 / (report.model.attempts.max(1)) as f64,
        100.0 * report.model.baseline_failure_rate
    );
    for (title, items) in [
        ("Stations", &report.stations),
        ("Cables", &report.cables),
        ("Ports", &report.ports),
    ] {
        print_items(title, items, a.all);
    }
    let flagged: Vec<&ItemReport> = report.devices.iter().filter(|d| d.flagged).collect();
    crate::sayln!(
        "\n{} {} of {} devices flagged as faulty themselves (they fail wherever they are tried)",
        paint(HEADING, "Devices:"),
        flagged.len(),
        report.devices.len()
    );
    let mut shown = flagged.clone();
    shown.sort_by(|x, y| y.p_faulty.total_cmp(&x.p_faulty));
    let mut table =
        crate::output::Table::new(&["device", "label", ">failed", ">stations", ">P(faulty)"]);
    table.indent = 2;
    for d in shown.iter().take(if a.all { usize::MAX } else { 10 }) {
        table.row(vec![
            d.id.clone(),
            d.label.clone().unwrap_or_default(),
            format!("{}/{}", d.failures, d.attempts),
            d.stations_tried.unwrap_or(0).to_string(),
            format!("{:.2}", d.p_faulty),
        ]);
    }
    if !shown.is_empty() {
        crate::say!("{}", table.render());
    }
    if let Some(sc) = &scores {
        crate::sayln!(
            "\n{} precision {:.3}, recall {:.3} ({} planted, {} flagged, {} correct)",
            paint(HEADING, "Against the truth file:"),
            sc.all.precision,
            sc.all.recall,
            sc.all.planted,
            sc.all.flagged,
            sc.all.true_positives
        );
    }
    if !report.model.converged {
        crate::sayln!(
            "{}",
            paint(
                BAD,
                "warning: the model did not converge; treat the flags with care"
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_items(title: &str, items: &[ItemReport], all: bool) {
    let mut v: Vec<&ItemReport> = items.iter().collect();
    v.sort_by(|x, y| y.p_faulty.total_cmp(&x.p_faulty).then(x.id.cmp(&y.id)));
    let n_flagged = v.iter().filter(|i| i.flagged).count();
    crate::sayln!(
        "\n{} {} flagged of {}",
        paint(HEADING, format!("{title}:")),
        n_flagged,
        v.len()
    );
    let keep = if all {
        v.len()
    } else {
        n_flagged.max(10).min(v.len())
    };
    let mut table = crate::output::Table::new(&[
        "id",
        ">attempts",
        ">fail",
        "95% interval",
        ">excess",
        ">P(faulty)",
        "",
    ]);
    table.indent = 2;
    for i in v.iter().take(keep) {
        table.row(vec![
            i.id.clone(),
            i.attempts.to_string(),
            format!("{:.1}%", 100.0 * i.failure_rate),
            format!(
                "{:.1}–{:.1}%",
                100.0 * i.failure_rate_ci[0],
                100.0 * i.failure_rate_ci[1]
            ),
            format!("{:+.1}%", 100.0 * i.excess_failure_rate),
            format!("{:.2}", i.p_faulty),
            if i.flagged {
                paint(BAD, "FLAGGED")
            } else {
                String::new()
            },
        ]);
    }
    crate::say!("{}", table.render());
}

/// Peak resident memory of this process (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn bench(a: BenchArgs, db: Option<&str>, out: &Out) -> CmdResult {
    let cfg = world_config(&a.world)?;
    // A fresh database: the given one must be empty; by default a temporary SQLite file.
    let tmp = tempfile::tempdir()?;
    let default_db = tmp.path().join("bench.sqlite3").display().to_string();
    let db = db.unwrap_or(&default_db);
    let mut s = open_store(Some(db))?;
    if s.count_attempts().map_err(store_err)? > 0 {
        return bad_input(format!(
            "--db {}: fleet bench needs an empty database (it already holds attempts)",
            s.describe()
        ));
    }
    let world = SimWorld::new(cfg.clone());
    let (truth, import_s) = import(&mut s, &world)?;
    let rss_after_import = peak_rss_mib();
    let t = Instant::now();
    let (report, load_s, fit_s) = build_report(&mut s, &FleetOptions::default())?;
    let report_s = t.elapsed().as_secs_f64();
    let scores = fleet::score(&report, &truth);
    let result = serde_json::json!({
        "backend": s.backend_name(),
        "database": s.describe(),
        "attempts": cfg.attempts,
        "stations": cfg.stations,
        "cables": cfg.cables,
        "ports": cfg.stations * cfg.ports_per_station,
        "devices": cfg.devices,
        "seed": cfg.seed,
        "import_seconds": import_s,
        "import_attempts_per_second": cfg.attempts as f64 / import_s.max(1e-9),
        "report_seconds": report_s,
        "report_load_seconds": load_s,
        "report_fit_seconds": fit_s,
        "cells": report.model.cells,
        "sweeps": report.model.sweeps,
        "converged": report.model.converged,
        "peak_rss_mib_after_import": rss_after_import,
        "peak_rss_mib": peak_rss_mib(),
        "scores": scores,
    });
    if out.json {
        out.json(&result)?;
    } else {
        crate::sayln!(
            "{}",
            paint(HEADING, format!("fleet bench ({})", s.backend_name()))
        );
        crate::sayln!(
            "  import  {} attempts in {:.1} s: {:.0} attempts/s",
            cfg.attempts,
            import_s,
            cfg.attempts as f64 / import_s.max(1e-9)
        );
        crate::sayln!(
            "  report  {:.1} s (read {:.1} s, fit {:.1} s, {} cells, {} sweeps)",
            report_s,
            load_s,
            fit_s,
            report.model.cells,
            report.model.sweeps
        );
        if let Some(m) = peak_rss_mib() {
            crate::sayln!("  peak memory {m:.0} MiB");
        }
        crate::sayln!(
            "  flags   precision {:.3}, recall {:.3} ({} planted, {} flagged)",
            scores.all.precision,
            scores.all.recall,
            scores.all.planted,
            scores.all.flagged
        );
    }
    Ok(ExitCode::SUCCESS)
}
