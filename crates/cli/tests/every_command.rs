//! Every human command, run as a person would, checked for two things the issue asked for:
//! at `COLUMNS=80` no line is wider than 80 columns and no word is broken (the words are the
//! same, in the same order, as at a width of 1000), and `-v` prints at least one useful line
//! on stderr, without colour codes off a terminal.
//!
//! A line may only go over the width when it is a single word longer than the room (a long
//! link): words are never broken. `cases export --format md` is a Markdown document (its
//! tables cannot fold) and `cases log` prints a stored log byte for byte: neither is checked.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use unicode_width::UnicodeWidthStr;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("restore-doctor")
}

fn manifest(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// One command line of the check.
struct Run {
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    /// What `-v` must say about it on stderr.
    verbose_says: &'static str,
    /// Same output whatever the run (no timings, no clock).
    deterministic: bool,
}

fn run(args: &[&str], verbose_says: &'static str) -> Run {
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        env: Vec::new(),
        verbose_says,
        deterministic: true,
    }
}

fn exec(r: &Run, dir: &Path, columns: &str, extra: &[&str], colour_env: bool) -> Output {
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir)
        .env("COLUMNS", columns)
        .env("TZ", "UTC")
        .env("HOME", dir)
        .env_remove("RESTORE_DOCTOR_DB")
        .env_remove("RESTORE_DOCTOR_LOG")
        .env_remove("RESTORE_DOCTOR_USB_REPLAY")
        .env_remove("CLICOLOR_FORCE")
        .stdin(std::process::Stdio::null());
    if colour_env {
        // Off a terminal there must be no colour even without NO_COLOR.
        cmd.env_remove("NO_COLOR");
    } else {
        cmd.env("NO_COLOR", "1");
    }
    for (k, v) in &r.env {
        cmd.env(k, v);
    }
    // Extra flags (-v) first: some command lines end with `-- ...`.
    cmd.args(extra).args(&r.args).output().unwrap()
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A case database with one case, two attempts, a step and a note; two short-named logs.
fn setup(dir: &Path) -> Vec<Run> {
    let db = dir.join("shop.sqlite3").display().to_string();
    let cli = |args: &[&str]| {
        let out = Command::new(bin())
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("RESTORE_DOCTOR_DB")
            .args(args)
            .args(["--db", &db])
            .output()
            .unwrap();
        ok(&out, &format!("{args:?}"));
    };
    cli(&[
        "cases",
        "new",
        "--device",
        "iPhone X",
        "--error",
        "4013",
        "--customer",
        "A. Owner",
    ]);
    for (computer, cable) in [("bench-1", "c1"), ("bench-2", "c2")] {
        cli(&[
            "cases",
            "attempt",
            "--case",
            "1",
            "--computer",
            computer,
            "--cable",
            cable,
            "--result",
            "4013",
            "--stage",
            "nand",
            "--progress",
            "60",
        ]);
    }
    cli(&[
        "cases",
        "step",
        "--case",
        "1",
        "--action",
        "cable_swap",
        "--outcome",
        "failed",
    ]);
    cli(&[
        "cases",
        "note",
        "--case",
        "1",
        "--text",
        "The customer says the phone was dropped in a puddle two weeks before the update failed.",
    ]);
    let logs = manifest("../logs/tests/fixtures");
    for (from, to) in [
        (
            "idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log",
            "nand.log",
        ),
        (
            "3utools_flash_chinese_ui_4013_waiting_for_nand_op28_iphone10_4.log",
            "3u.log",
        ),
        (
            "finder_unified_log_ndjson_4013_op58_iphone12_3.log",
            "finder.log",
        ),
    ] {
        std::fs::copy(logs.join(from), dir.join(to)).unwrap();
    }
    let usb = |f: &str| manifest("tests/fixtures/usb").join(f).display().to_string();
    let d = db.as_str();
    let mut runs = vec![
        run(&["explain", "4013"], "documented as code"),
        run(&["explain", "--", "-1"], "family baseband"),
        run(&["explain", "3456"], "documented as range"),
        run(&["explain", "53"], "code 53"),
        run(&["explain", "--list"], "documented codes and ranges"),
        run(&["explain", "4013", "--db", d], "case database"),
        run(&["guide", "dfu", "--device", "iPhone 8"], "button scheme"),
        run(
            &["guide", "recovery", "--device", "iPad Pro 11-inch (M4)"],
            "button scheme",
        ),
        run(
            &["guide", "force-restart", "--device", "iPod touch 7"],
            "button scheme",
        ),
        run(
            &["guide", "exit-recovery", "--device", "iPhone10,3"],
            "button scheme",
        ),
        run(&["devices"], "devices match"),
        run(&["devices", "ipad pro"], "devices match `ipad pro`"),
        run(
            &[
                "identify",
                "CPID:8015 CPRV:11 CPFM:03 SCEP:01 BDID:0E ECID:000A1B2C3D4E5F60 IBFL:3C SRTG:[iBoot-3332.0.0.1.23]",
            ],
            "CPID/BDID found",
        ),
        run(
            &[
                "identify",
                "CPID:8030 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:001A2B3C4D5E6F70 IBFL:3C",
            ],
            "board id 0x0C not in the device table",
        ),
        run(&["logs", "nand.log"], "format idevicerestore"),
        run(&["logs", "3u.log", "finder.log"], "evidence derived"),
        run(
            &[
                "diagnose",
                "--device",
                "iPhone X",
                "--error",
                "4013",
                "--tried",
                "cable_swap,other_computer",
                "--observed",
                "liquid_exposure",
            ],
            "posterior over",
        ),
        run(
            &[
                "diagnose",
                "--text",
                "my iphone 7 plus fails with error 4013 at the same percentage, tried two cables and a mac, no backup",
            ],
            "free text understood",
        ),
        run(
            &["diagnose", "--log", "nand.log", "--role", "technician"],
            "read nand.log",
        ),
        run(&["diagnose", "--case", "1", "--db", d], "read as evidence"),
        run(&["cases", "show", "1", "--db", d], "case database"),
        run(
            &["cases", "show", "--case", "1", "--db", d],
            "case database",
        ),
        run(&["cases", "list", "--db", d], "case database"),
        Run {
            // Each run records one more step: its id changes.
            deterministic: false,
            ..run(
                &[
                    "cases",
                    "step",
                    "--case",
                    "1",
                    "--action",
                    "remove_hub",
                    "--outcome",
                    "failed",
                    "--db",
                    d,
                ],
                "case database",
            )
        },
        run(
            &["bench", "policies", "--cases", "40"],
            "simulated 40 cases",
        ),
        run(
            &["diagnose", "--device", "Nokia 3310", "--error", "4013"],
            "",
        ),
    ];
    let mut with_env = |args: &[&str], k: &'static str, v: String, says: &'static str| {
        let mut r = run(args, says);
        r.env.push((k, v));
        runs.push(r);
    };
    with_env(
        &["detect"],
        "RESTORE_DOCTOR_USB_REPLAY",
        usb("bench_examples.jsonl"),
        "recorded sequence",
    );
    with_env(
        &["detect"],
        "RESTORE_DOCTOR_USB_REPLAY",
        usb("permission_denied.jsonl"),
        "Apple devices",
    );
    with_env(
        &["detect", "--watch"],
        "RESTORE_DOCTOR_USB_REPLAY",
        usb("restore_drop_at_34.jsonl"),
        "recorded sequence",
    );
    runs.push(run(&["detect"], "USB backend"));
    let fleet_db = dir.join("fleet.sqlite3").display().to_string();
    let mut sim = run(
        &["fleet", "simulate", "--attempts", "3000", "--db", &fleet_db],
        "imported 3000 simulated attempts",
    );
    sim.deterministic = false;
    runs.push(sim);
    runs.push(run(&["fleet", "report", "--db", &fleet_db], "fleet model"));
    let mut watch = run(
        &["watch", "--no-usb", "--db", d, "--station", "bench-3", "--"],
        "started `",
    );
    watch.args.push(
        manifest("tests/fixtures/restore/fake_idevicerestore_nand_drop.sh")
            .display()
            .to_string(),
    );
    watch.env.push(("FAKE_RESTORE_PAUSE", "0".into()));
    watch.deterministic = false;
    runs.push(watch);
    runs
}

/// Every subcommand's `--help`.
fn help_runs() -> Vec<Run> {
    let mut runs = vec![run(&["--help"], "")];
    for sub in [
        "explain",
        "guide",
        "devices",
        "identify",
        "detect",
        "watch",
        "logs",
        "cases",
        "fleet",
        "diagnose",
        "serve",
        "bench",
        "completions",
    ] {
        runs.push(run(&[sub, "--help"], ""));
    }
    for sub in [
        "new", "attempt", "step", "note", "show", "list", "close", "export", "log",
    ] {
        runs.push(run(&["cases", sub, "--help"], ""));
    }
    for sub in ["report", "simulate", "bench"] {
        runs.push(run(&["fleet", sub, "--help"], ""));
    }
    runs.push(run(&["bench", "policies", "--help"], ""));
    runs
}

/// Lines wider than `width`, except one word alone on its line (it cannot be wrapped
/// without breaking it).
fn too_wide(text: &str, width: usize) -> Vec<String> {
    text.lines()
        .filter(|l| l.width() > width && l.split_whitespace().count() > 1)
        .map(str::to_string)
        .collect()
}

fn words(out: &Output) -> Vec<String> {
    let all = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    all.split_whitespace()
        .filter(|w| *w != "·")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_human_command_fits_80_columns_without_breaking_a_word() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = setup(dir.path());
    runs.extend(help_runs());
    let mut problems = Vec::new();
    for r in &runs {
        let narrow = exec(r, dir.path(), "80", &[], false);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&narrow.stdout),
            String::from_utf8_lossy(&narrow.stderr)
        );
        assert!(!text.trim().is_empty(), "{:?} printed nothing", r.args);
        for line in too_wide(&text, 80) {
            problems.push(format!("{:?}: {} columns: {line}", r.args, line.width()));
        }
        if r.deterministic {
            let wide = exec(r, dir.path(), "1000", &[], false);
            let (n, w) = (words(&narrow), words(&wide));
            if n != w {
                let at = n
                    .iter()
                    .zip(&w)
                    .position(|(a, b)| a != b)
                    .unwrap_or(n.len().min(w.len()));
                problems.push(format!(
                    "{:?}: the words differ from the unwrapped output at word {at}: {:?} vs {:?}",
                    r.args,
                    &n[at.saturating_sub(3)..(at + 3).min(n.len())],
                    &w[at.saturating_sub(3)..(at + 3).min(w.len())]
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn wrapping_follows_columns() {
    // At 60 columns too, and a heading's words are the same.
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["explain", "4013"], "");
    let out = exec(&r, dir.path(), "60", &[], false);
    ok(&out, "explain at 60");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(too_wide(&text, 60).is_empty(), "{text}");
    assert!(
        text.lines().any(|l| l.width() > 50),
        "uses the width: {text}"
    );
}

#[test]
fn verbose_says_what_each_command_did_without_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let runs = setup(dir.path());
    let mut problems = Vec::new();
    for r in runs.iter().filter(|r| !r.verbose_says.is_empty()) {
        let out = exec(r, dir.path(), "80", &["-v"], true);
        let err = String::from_utf8_lossy(&out.stderr);
        let info: Vec<&str> = err.lines().filter(|l| l.contains(" INFO ")).collect();
        if info.is_empty() {
            problems.push(format!("{:?}: no INFO line on stderr:\n{err}", r.args));
        } else if !info.iter().any(|l| l.contains(r.verbose_says)) {
            problems.push(format!(
                "{:?}: -v does not say {:?}:\n{}",
                r.args,
                r.verbose_says,
                info.join("\n")
            ));
        }
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        if all.contains(&0x1b) {
            problems.push(format!("{:?}: colour codes off a terminal", r.args));
        }
        // Quiet by default: no tracing without -v.
        let quiet = exec(r, dir.path(), "80", &[], true);
        if String::from_utf8_lossy(&quiet.stderr).contains(" INFO ") {
            problems.push(format!("{:?}: INFO lines without -v", r.args));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
