//! `cargo run -p engine --release --example variety -- [N]`: the request mix of
//! `scripts/load-web.sh` (every device × every documented code × subsets of the `tried`
//! vocabulary, some observations and hosts; request m of the run as the script numbers it)
//! diagnosed and serialised to JSON as the web API does, N requests (default 3000) on one
//! thread, once to warm up and once timed. Prints the µs per request and a digest of every answer's JSON: the engine's CPU per
//! request without HTTP in the way, and a check that a change to make it faster left every
//! answer byte for byte as it was (the digest must not move).

use engine::api::{DiagnoseRequest, diagnose_request};
use std::hash::Hasher;
use std::time::Instant;

/// Request `m` of the load script's "variety" run (its Lua, in Rust).
fn request(m: u64, devices: &[String], codes: &[i64], hosts: &[&str]) -> DiagnoseRequest {
    const OBSERVATIONS: [&str; 5] = [
        "recent_drop",
        "liquid_exposure=no",
        "same_failure_point",
        "boot_loop=no",
        "detected_in_dfu",
    ];
    let (d, c) = (devices.len() as u64, codes.len() as u64);
    let tried_words = kb::vocab::TRIED;
    let subset = (m / (d * c) * 40503 + 12345) % (1 << tried_words.len());
    let tried: Vec<String> = (0..tried_words.len())
        .filter(|i| subset >> i & 1 == 1)
        .take(5)
        .map(|i| tried_words[i].to_string())
        .collect();
    let observed = if m.is_multiple_of(3) {
        vec![OBSERVATIONS[(m % OBSERVATIONS.len() as u64) as usize].to_string()]
    } else {
        Vec::new()
    };
    DiagnoseRequest {
        device: Some(devices[(m % d) as usize].clone()),
        error: Some(codes[(m / d % c) as usize]),
        host: Some(hosts[(m % hosts.len() as u64) as usize].to_string()),
        tried,
        observed,
        ..DiagnoseRequest::default()
    }
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let kb = kb::kb();
    let devices: Vec<String> = kb
        .devices()
        .iter()
        .map(|d| d.product_type.clone())
        .collect();
    let codes: Vec<i64> = kb::report::code_list()
        .iter()
        .filter_map(|c| c.code)
        .collect();
    let hosts: Vec<&str> = kb::vocab::HOSTS
        .iter()
        .copied()
        .filter(|h| !h.is_empty())
        .collect();
    // Spread the requests over the whole space as a long run does: requests m and m+1 differ
    // in device, and every few thousand the code moves on.
    let stride = 7919;
    let reqs: Vec<DiagnoseRequest> = (0..n)
        .map(|i| request(i * stride, &devices, &codes, &hosts))
        .collect();
    // One pass to warm what a long-running server has warm: the knowledge base's lazy tables,
    // the regexes and the planner's tables for every device kind and code family.
    for req in &reqs {
        let _ = diagnose_request(req);
    }
    let mut digest = std::collections::hash_map::DefaultHasher::new();
    let (mut bytes, mut errors) = (0usize, 0usize);
    let start = Instant::now();
    for req in &reqs {
        match diagnose_request(req) {
            Ok(r) => {
                let json = serde_json::to_vec(&r).expect("a response serialises");
                bytes += json.len();
                digest.write(&json);
            }
            Err(e) => {
                errors += 1;
                digest.write(e.to_string().as_bytes());
            }
        }
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
    println!(
        "{n} requests: {us:.1} µs per request, {} bytes of JSON on average, {errors} errors, digest {:016x}",
        bytes / n.max(1) as usize,
        digest.finish()
    );
}
