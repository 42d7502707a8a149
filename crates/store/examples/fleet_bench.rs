//! Benchmark driver for the fleet path, built from the `store` crate alone (so it builds in
//! release without the rest of the workspace). `scripts/bench-fleet.sh` runs each phase as its
//! own process under `/usr/bin/time -v`:
//!
//! ```text
//! fleet_bench simulate --db DB --attempts N [--stations S] [--cables C] [--devices D] [--seed X] --truth FILE
//! fleet_bench report --db DB --truth FILE
//! ```
//!
//! Both print one JSON object on stdout.

use std::time::Instant;
use store::Store;
use store::fleet::{self, FleetOptions};
use store::simulate::{SimConfig, SimWorld, Truth};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    match arg(args, name) {
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("{name} {v}: not a number");
            std::process::exit(2)
        }),
        None => default,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(cmd), Some(db), Some(truth_path)) = (
        args.first().cloned(),
        arg(&args, "--db"),
        arg(&args, "--truth"),
    ) else {
        eprintln!("usage: fleet_bench simulate|report --db DB --truth FILE [--attempts N ...]");
        std::process::exit(2);
    };
    let mut store = Store::open(Some(&db)).unwrap_or_else(|e| {
        eprintln!("{db}: {e}");
        std::process::exit(1)
    });
    match cmd.as_str() {
        "simulate" => {
            let mut cfg = SimConfig::new(num(&args, "--attempts", 1_000_000));
            cfg.stations = num(&args, "--stations", cfg.stations);
            cfg.cables = num(&args, "--cables", cfg.cables);
            cfg.devices = num(&args, "--devices", cfg.devices);
            cfg.seed = num(&args, "--seed", cfg.seed);
            if let Err(e) = cfg.validate() {
                eprintln!("{e}");
                std::process::exit(2);
            }
            let world = SimWorld::new(cfg.clone());
            let t = Instant::now();
            let truth = store
                .import_simulation(&world, &mut |_, _| {})
                .expect("import");
            let secs = t.elapsed().as_secs_f64();
            std::fs::write(&truth_path, serde_json::to_string(&truth).unwrap()).expect("truth");
            println!(
                "{}",
                serde_json::json!({
                    "backend": store.backend_name(),
                    "attempts": cfg.attempts, "stations": cfg.stations, "cables": cfg.cables,
                    "devices": cfg.devices, "seconds": secs,
                    "attempts_per_second": cfg.attempts as f64 / secs,
                })
            );
        }
        "report" => {
            let truth: Truth =
                serde_json::from_str(&std::fs::read_to_string(&truth_path).expect("truth"))
                    .expect("truth json");
            let t = Instant::now();
            let data = store.fleet_data(&mut |_, _| {}).expect("read");
            let load = t.elapsed().as_secs_f64();
            let report = fleet::fit(&data, &FleetOptions::default());
            let total = t.elapsed().as_secs_f64();
            let scores = fleet::score(&report, &truth);
            println!(
                "{}",
                serde_json::json!({
                    "backend": store.backend_name(),
                    "report_seconds": total, "read_seconds": load, "fit_seconds": total - load,
                    "model": report.model, "scores": scores,
                })
            );
        }
        other => {
            eprintln!("unknown command {other}: use simulate or report");
            std::process::exit(2);
        }
    }
}
