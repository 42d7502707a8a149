//! Throughput and memory of the log analyser on a large log, against ripgrep in the same run.
//!
//!     cargo run --release -p logs --example bench -- --size-mb 400 [--density dense|sparse]
//!                                                     [--file PATH] [--runs 3]
//!     cargo run --release -p logs --example bench -- --analyze PATH [--dump]
//!     cargo run --release -p logs --example bench -- --size-mb 400 --from DIR --five
//!
//! `--from DIR` builds the file by repeating the `*.log` files of DIR whole (the real logs of
//! `shared/logs/real`, `scripts/bench_real_logs.sh`) instead of the fixtures' lines; `--five`
//! times ripgrep counting the lines that match any of five patterns (`CHECKPOINT`, `ERROR`,
//! `Status:`, `operation [0-9]+`, `\([0-9]+\)$`) instead of our signature list.
//!
//! Builds a log of the given size from the realistic lines of every fixture (all formats,
//! mixed). `dense` (default) cycles through the fixtures as they are: about two lines in three
//! carry a signature, the worst case for us. `sparse` keeps one signature line in twenty among
//! the fixtures' other lines (plist and hex dumps, debug output), the shape of a long `-d` log.
//! Then it times, on the same file and in the same run, (a) our analyser in a child
//! process (so its peak memory, VmHWM, is its own) and (b) `rg -c -F -f <signatures>` with the
//! very signatures our prefilter uses. Each side runs `--runs` times after a warm-up read; the
//! best time counts. Prints MB/s (wall and CPU time: the machine may be shared), peak memory
//! and the ratio ours/ripgrep. No assertions: the
//! goals (peak < 100 MB on 400 MB, time <= 1.5x ripgrep) are reported, not enforced.
//! `--analyze PATH --dump` prints the full result as JSON (to diff before and after a change).
//!
//! Last measured (2026-11-22, 2 vCPUs, 400 MB files built from the 91 fixtures and 206
//! signatures, best of 5; CPU = user + sys). Dense, two runs: 2 reader threads 0.97-0.98 s wall
//! / 1.88-1.91 s CPU, one thread 1.97-2.03 s; ripgrep 0.77-0.80 s: **1.23-1.25x wall with
//! reader threads** (goal 1.5x met; 1.13-1.29x over five runs this session, on 89-91 fixtures),
//! 2.47-2.63x on one thread. Sparse: 0.39 s wall with reader threads, 0.65 s on one thread;
//! ripgrep 0.85 s: 0.46x wall, 0.77x on one thread. Peak memory 34 MB with reader threads
//! (regions in flight), about 16 MB on one thread. What made the difference last: the
//! signature scan steps the automaton with two walkers over the two halves of a region in turn
//! (each step waits for a state load; two independent walkers overlap them): the scan alone
//! went from about 140 ms to about 100 ms per 100 MB. Where the time goes on one thread now:
//! the scan about 20%, the per-line parsers and prefixes about 40%, the fold (timeline, failure
//! state) about 20%, allocation about 8%.
//! Instruction counts (valgrind cachegrind `--cache-sim=no` on 10 MB of the dense file) are the
//! steadier measure on a noisy machine, but not for the scan: two walkers take more
//! instructions (548 M against 465 M before) and less time; keeping their state in registers
//! and each match's line end brought it to 470 M.
//! Since the 2026-12 speed round four walkers step a table copied from the automaton through
//! four parts of a region, without bounds checks (100 MB of lines that match nothing: 0.07 s
//! of CPU against 0.10 s; the real-log file -7 to -13 % CPU; figures in the README).
//! Since the second 2026-12 round (branch `logspeed2`) the four walkers share sixteen parts
//! (a walker that finishes its part takes the next), the table's sizes are constants, and
//! the fold and parsers allocate and search a little less: -3 to -5 % CPU on the real-log
//! file (figures in the README).
//! Earlier on this file: 1.62-1.64x (2.01x before the readers folded in order themselves).
//! History on the earlier 51-fixture dense file: 2.78 s CPU (3.86x) before the Nov 2026
//! speed-ups, 2.30 s (3.15x), then 1.88 s (about 2.5x) after the parsers' packed guards.

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
        let readers = arg(&args, "--readers")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(logs::default_readers);
        let log = logs::analyze_path_with(Path::new(&file), readers, &mut |_| {})
            .expect("bench file readable");
        let secs = start.elapsed().as_secs_f64();
        if args.iter().any(|a| a == "--dump") {
            // The whole result, to check that a speed-up changed nothing.
            println!(
                "{}",
                serde_json::to_string_pretty(&log).expect("log serialises")
            );
            return;
        }
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
    let sparse = arg(&args, "--density").is_some_and(|d| d == "sparse");
    let from = arg(&args, "--from").map(PathBuf::from);
    let five = args.iter().any(|a| a == "--five");
    let density = match (&from, sparse) {
        (Some(_), _) => "real",
        (None, true) => "sparse",
        (None, false) => "dense",
    };
    let file = PathBuf::from(arg(&args, "--file").unwrap_or_else(|| {
        std::env::temp_dir()
            .join(format!("restore-doctor-bench-{size_mb}mb-{density}.log"))
            .display()
            .to_string()
    }));
    let target = size_mb * 1024 * 1024;
    if std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) < target {
        match &from {
            Some(dir) => build_log_from(dir, &file, target),
            None => build_log(&file, target, sparse),
        }
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
    let rg_ok = Command::new("rg")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    // Ours twice: on one thread, and as `restore-doctor logs` runs it (reader threads).
    let readers = logs::default_readers();
    let mut ours = Timing::worst();
    let mut ours_one = Timing::worst();
    let mut rg = Timing::worst();
    let mut peak_kb = 0u64;
    let mut summary = String::new();
    let mut rg_count = String::new();
    for _ in 0..runs {
        for (n, best) in [(1, &mut ours_one), (readers, &mut ours)] {
            let mut cmd = Command::new(&exe);
            cmd.arg("--analyze")
                .arg(&file)
                .arg("--readers")
                .arg(n.to_string());
            let (t, stdout) = timed(cmd);
            *best = best.best(t);
            let mut it = stdout.split_whitespace();
            let _secs = it.next();
            peak_kb = peak_kb.max(it.next().and_then(|s| s.parse().ok()).unwrap_or(0));
            summary = it.collect::<Vec<_>>().join(" ");
        }
        if rg_ok {
            let mut cmd = Command::new("rg");
            if five {
                cmd.args(["-c", "--no-config"]);
                for p in FIVE_PATTERNS {
                    cmd.args(["-e", p]);
                }
                cmd.arg(&file);
            } else {
                cmd.args(["-c", "-F", "--no-config", "-f"])
                    .arg(&patterns)
                    .arg(&file);
            }
            let (t, stdout) = timed(cmd);
            rg = rg.best(t);
            rg_count = stdout.trim().to_string();
        }
    }
    let mut parts = summary.split(' ');
    let lines = parts.next().unwrap_or("?");
    let matched = parts.next().unwrap_or("?");
    println!(
        "file: {} ({mb:.0} MB, {lines} lines; {matched} lines matched our signatures)",
        file.display()
    );
    for (label, t) in [
        (format!("{readers} reader threads"), ours),
        ("one thread".to_string(), ours_one),
    ] {
        println!(
            "restore-doctor logs ({label}): wall {:.3} s ({:.0} MB/s), cpu {:.3} s ({:.0} MB/s)",
            t.wall,
            mb / t.wall,
            t.cpu,
            mb / t.cpu,
        );
    }
    println!("peak memory: {:.1} MB (VmHWM)", peak_kb as f64 / 1024.0);
    if rg_ok {
        let what = if five {
            format!("rg -c -e {}", FIVE_PATTERNS.join(" -e "))
        } else {
            format!(
                "rg -c -F -f signatures, {} patterns",
                logs::signatures().len()
            )
        };
        println!(
            "ripgrep ({what}): wall {:.3} s ({:.0} MB/s), cpu {:.3} s ({:.0} MB/s), {rg_count} matching lines",
            rg.wall,
            mb / rg.wall,
            rg.cpu,
            mb / rg.cpu
        );
        println!(
            "ratio ours/ripgrep, wall time (what a person waits; goal <= {}x): {:.2}x with {readers} reader threads, {:.2}x on one thread",
            if five { "2.0" } else { "1.5" },
            ours.wall / rg.wall,
            ours_one.wall / rg.wall,
        );
        println!(
            "ratio ours/ripgrep, CPU time (work done): {:.2}x with {readers} reader threads, {:.2}x on one thread",
            ours.cpu / rg.cpu,
            ours_one.cpu / rg.cpu,
        );
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

/// Wall-clock and CPU (user + system) seconds of one child process.
#[derive(Clone, Copy)]
struct Timing {
    wall: f64,
    cpu: f64,
}

impl Timing {
    fn worst() -> Timing {
        Timing {
            wall: f64::MAX,
            cpu: f64::MAX,
        }
    }
    fn best(self, other: Timing) -> Timing {
        Timing {
            wall: self.wall.min(other.wall),
            cpu: self.cpu.min(other.cpu),
        }
    }
}

/// Run `cmd` under `/usr/bin/time` (when present) to get its CPU time; returns its stdout.
/// The machine may be shared: CPU time is the fairer comparison, wall time is what a person sees.
fn timed(cmd: Command) -> (Timing, String) {
    let have_time = Path::new("/usr/bin/time").exists();
    let mut run = if have_time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "@@time %e %U %S"])
            .arg(cmd.get_program())
            .args(cmd.get_args());
        c
    } else {
        cmd
    };
    let start = Instant::now();
    let out = run.output().expect("run benchmark child");
    let wall = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let cpu = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("@@time "))
        .and_then(|l| {
            let v: Vec<f64> = l
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (v.len() == 3).then(|| v[1] + v[2])
        })
        .unwrap_or(wall);
    (
        Timing { wall, cpu },
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

/// The five patterns ripgrep counts against the file built from real logs (the issue's yardstick:
/// the lines a person would grep a restore log for).
const FIVE_PATTERNS: [&str; 5] = [
    "CHECKPOINT",
    "ERROR",
    "Status:",
    "operation [0-9]+",
    r"\([0-9]+\)$",
];

/// Write a log of about `target` bytes by repeating the `*.log` files of `dir` whole, in name
/// order (each ends with a line terminator).
fn build_log_from(dir: &Path, path: &Path, target: u64) {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    names.sort();
    let mut logs: Vec<Vec<u8>> = names
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_default())
        .filter(|b| !b.is_empty())
        .collect();
    assert!(!logs.is_empty(), "no *.log files in {}", dir.display());
    for l in &mut logs {
        if !l.ends_with(b"\n") {
            l.push(b'\n');
        }
    }
    let mut w = BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(path).expect("create bench file"),
    );
    let mut written = 0u64;
    'outer: loop {
        for l in &logs {
            w.write_all(l).unwrap();
            written += l.len() as u64;
            if written >= target {
                break 'outer;
            }
        }
    }
    w.flush().unwrap();
}

/// Write a log of about `target` bytes by cycling through the lines of every fixture
/// (`sparse`: one signature line per nineteen other lines).
fn build_log(path: &Path, target: u64, sparse: bool) {
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
    if sparse {
        let (hits, noise): (Vec<String>, Vec<String>) = lines
            .into_iter()
            .partition(|l| logs::analyze_bytes(l.as_bytes()).matched_lines > 0);
        assert!(!hits.is_empty() && !noise.is_empty());
        lines = Vec::new();
        let mut n = noise.iter().cycle();
        for h in &hits {
            lines.push(h.clone());
            for _ in 0..19 {
                lines.push(n.next().unwrap().clone());
            }
        }
    }
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
