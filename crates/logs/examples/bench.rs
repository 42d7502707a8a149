//! Throughput and memory of the log analyser on a large log, against ripgrep in the same run.
//!
//!     cargo run --release -p logs --example bench -- --size-mb 400 [--file PATH] [--runs 3]
//!
//! Builds a log of the given size from the realistic lines of every fixture (all formats,
//! mixed), then times, on the same file and in the same run, (a) our analyser in a child
//! process (so its peak memory, VmHWM, is its own) and (b) `rg -c -F -f <signatures>` with the
//! very signatures our prefilter uses. Each side runs `--runs` times after a warm-up read; the
//! best time counts. Prints MB/s, peak memory and the ratio ours/ripgrep. No assertions: the
//! goals (peak < 100 MB on 400 MB, time <= 1.5x ripgrep) are reported, not enforced.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn vm_hwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(file) = arg(&args, "--analyze") {
        // Child mode: analyse one file, print seconds and peak memory.
        let start = Instant::now();
        let log = logs::analyze_path(Path::new(&file), &mut |_| {}).expect("bench file readable");
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{secs} {} {} {} {}",
            vm_hwm_kb().unwrap_or(0),
            log.lines,
            log.matched_lines,
            log.outcome.as_str()
        );
        return;
    }
    let size_mb: u64 = arg(&args, "--size-mb")
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let runs: usize = arg(&args, "--runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let file = PathBuf::from(arg(&args, "--file").unwrap_or_else(|| {
        std::env::temp_dir()
            .join(format!("restore-doctor-bench-{size_mb}mb.log"))
            .display()
            .to_string()
    }));
    let target = size_mb * 1024 * 1024;
    if std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) < target {
        build_log(&file, target);
    }
    let size = std::fs::metadata(&file).expect("bench file").len();
    let mb = size as f64 / (1024.0 * 1024.0);

    let patterns = std::env::temp_dir().join("restore-doctor-bench-signatures.txt");
    std::fs::write(&patterns, logs::signatures().join("\n") + "\n").expect("write signatures");

    // Warm-up: bring the file into the page cache for both sides.
    let mut sink = vec![0u8; 1 << 20];
    let mut f = std::fs::File::open(&file).unwrap();
    while f.read(&mut sink).unwrap_or(0) > 0 {}

    let exe = std::env::current_exe().expect("own path");
    let mut ours = f64::MAX;
    let mut peak_kb = 0u64;
    let mut summary = String::new();
    let mut rg = f64::MAX;
    let mut rg_count = String::new();
    let rg_ok = Command::new("rg")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    for _ in 0..runs {
        let out = Command::new(&exe)
            .arg("--analyze")
            .arg(&file)
            .output()
            .expect("run child");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut it = text.split_whitespace();
        let secs: f64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(f64::MAX);
        let kb: u64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        ours = ours.min(secs);
        peak_kb = peak_kb.max(kb);
        summary = it.collect::<Vec<_>>().join(" ");
        if rg_ok {
            let start = Instant::now();
            let out = Command::new("rg")
                .args(["-c", "-F", "--no-config", "-f"])
                .arg(&patterns)
                .arg(&file)
                .output()
                .expect("run rg");
            rg = rg.min(start.elapsed().as_secs_f64());
            rg_count = String::from_utf8_lossy(&out.stdout).trim().to_string();
        }
    }
    let mut parts = summary.split(' ');
    let lines = parts.next().unwrap_or("?");
    let matched = parts.next().unwrap_or("?");
    println!(
        "file: {} ({mb:.0} MB, {lines} lines; {matched} lines matched our signatures)",
        file.display()
    );
    println!(
        "restore-doctor logs: {ours:.3} s, {:.0} MB/s, peak memory {:.1} MB (VmHWM of the analysing process)",
        mb / ours,
        peak_kb as f64 / 1024.0
    );
    if rg_ok {
        println!(
            "ripgrep (rg -c -F -f signatures, {} patterns): {rg:.3} s, {:.0} MB/s, {rg_count} matching lines",
            logs::signatures().len(),
            mb / rg
        );
        println!("ratio ours/ripgrep: {:.2}x (goal <= 1.5x)", ours / rg);
    } else {
        println!("ripgrep not found: install it (scripts/bench_logs.sh does) to get the ratio");
    }
    println!(
        "peak memory goal (< 100 MB): {}",
        if peak_kb < 100 * 1024 {
            "met"
        } else {
            "NOT met"
        }
    );
}

/// Write a log of about `target` bytes by cycling through the lines of every fixture.
fn build_log(path: &Path, target: u64) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut lines: Vec<String> = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&fixtures)
        .expect("fixtures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    names.sort();
    for p in names {
        let bytes = std::fs::read(&p).unwrap_or_default();
        if let Ok(text) = String::from_utf8(bytes) {
            lines.extend(text.lines().map(|l| l.to_string()));
        }
    }
    assert!(
        !lines.is_empty(),
        "no fixture lines in {}",
        fixtures.display()
    );
    let mut w = BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).expect("create bench file"),
    );
    let mut written = 0u64;
    'outer: loop {
        for l in &lines {
            w.write_all(l.as_bytes()).unwrap();
            w.write_all(b"\n").unwrap();
            written += l.len() as u64 + 1;
            if written >= target {
                break 'outer;
            }
        }
    }
    w.flush().unwrap();
}
