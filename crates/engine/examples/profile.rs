//! `cargo run -p engine --release --example profile -- [RUNS] [REQUEST]`: time fresh diagnoses
//! of a few typical requests (µs per `diagnose_request`, serialised to JSON as the web API
//! does). REQUEST is one of `flags`, `tried_observed`, `text`, `log` (default: all).
//!
//! For repeatable instruction counts on a loaded machine, run it under callgrind, built with
//! the `profiling` profile (release code with line tables and symbols):
//! `cargo build --profile profiling -p engine --example profile && valgrind --tool=callgrind \
//!    --callgrind-out-file=/tmp/cg.out target/profiling/examples/profile 50 flags` and read
//! `callgrind_annotate /tmp/cg.out`.

use engine::api::{DiagnoseRequest, diagnose_request};
use std::time::Instant;

/// The typical requests: (name, request).
fn requests() -> Vec<(&'static str, DiagnoseRequest)> {
    vec![
        (
            "flags",
            DiagnoseRequest {
                device: Some("iPhone 8".into()),
                error: Some(4013),
                ..DiagnoseRequest::default()
            },
        ),
        (
            "tried_observed",
            DiagnoseRequest {
                device: Some("iPhone X".into()),
                error: Some(4013),
                host: Some("macos_finder".into()),
                tried: vec!["cable_swap".into(), "other_computer".into()],
                observed: vec!["recent_drop".into(), "failure_stage=nand".into()],
                ..DiagnoseRequest::default()
            },
        ),
        (
            "text",
            DiagnoseRequest {
                text: Some(
                    "my iphone 7+ fails with error 4013 at the same percentage, tried two cables \
                     and my friend's mac, not water damaged"
                        .into(),
                ),
                ..DiagnoseRequest::default()
            },
        ),
        (
            "log",
            DiagnoseRequest {
                device: Some("iPhone 11".into()),
                log_facts: vec![
                    ("error_code".into(), "4013".into()),
                    ("failure_stage".into(), "nand".into()),
                ],
                ..DiagnoseRequest::default()
            },
        ),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let only = args.get(2).cloned();
    let mut bytes = 0usize;
    for (name, req) in requests() {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        // Warm the knowledge base's lazy tables and the regexes once.
        let warm = serde_json::to_vec(&diagnose_request(&req).expect("request is valid"));
        bytes += warm.map_or(0, |v| v.len());
        let start = Instant::now();
        for _ in 0..runs {
            let r = diagnose_request(&req).expect("request is valid");
            bytes += serde_json::to_vec(&r).map_or(0, |v| v.len());
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(runs.max(1));
        println!("{name:16} {us:9.1} µs per diagnosis");
    }
    // Keep the work observable so nothing is optimised away.
    eprintln!("({bytes} bytes of JSON)");
}
