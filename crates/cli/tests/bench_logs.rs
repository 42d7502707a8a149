//! `restore-doctor bench logs --corpus DIR`: end to end on a corpus of our own fixtures (built
//! here, labelled like `shared/logs/real`), on the shared real logs when they are beside the
//! checkout (as in CI), and on bad corpora.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../logs/tests/fixtures/");

fn rd() -> Command {
    let mut c = Command::cargo_bin("restore-doctor").unwrap();
    c.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    c
}

/// (file, outcome, failure line as a technician would point at it, excerpt)
const OWN: &[(&str, &str, Option<&str>, bool)] = &[
    (
        "futurerestore_2019_recovery_ibec_upload_unable_to_find_device_iphone6_1.log",
        "failure",
        Some("ERROR: Unable to send iBEC component: Unable to find device"),
        true,
    ),
    (
        "futurerestore_2017_restore_mode_never_connects_errorcode_minus11.log",
        "failure",
        Some("ERROR: Unable to connect to device in restore mode"),
        true,
    ),
    (
        "idevicerestore_2013_linux_irecv_open_cant_connect_entering_recovery_ipad2_5.log",
        "failure",
        // The first sign a person sees; the reading's is the failure four lines later, in the
        // same step.
        Some("irecv_open_with_ecid: can't connect to device..."),
        true,
    ),
    (
        "idevicerestore_linux_fdr_trust_data_then_fdr_receive_error_and_read_data_256_board_j97ap.log",
        "failure",
        Some("ERROR: Could not read data (-256). Aborting."),
        true,
    ),
    (
        "idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log",
        "failure",
        Some("ERROR: Could not read data (-256). Aborting."),
        false,
    ),
    (
        "idevicerestore_2024_dfu_device_invalid_state_before_upload_version_from_log_not_ipsw_name.log",
        "failure",
        Some("ERROR: Device is in an invalid state"),
        true,
    ),
    (
        "futurerestore_success_tail_with_fdr_timeouts_and_no_data_to_read.log",
        "success",
        None,
        true,
    ),
    (
        "pymobiledevice3_2021_fdr_thread_exception_during_filesystem_validation_no_verdict.log",
        "success",
        None,
        true,
    ),
    (
        "idevicerestore_2024_success_iphone10_3_dfu_erase.log",
        "success",
        None,
        false,
    ),
];

/// A corpus directory with the given labelled fixtures (copied) and their labels.jsonl.
fn corpus(entries: &[(&str, &str, Option<&str>, bool)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut labels = String::new();
    for (file, outcome, line, excerpt) in entries {
        std::fs::copy(Path::new(FIXTURES).join(file), dir.path().join(file)).unwrap();
        let label = serde_json::json!({
            "file": file,
            "tool": "any",
            "outcome": outcome,
            "failure_line": line,
            "failure_stage": "free words",
            "excerpt_only": excerpt,
        });
        labels.push_str(&label.to_string());
        labels.push('\n');
    }
    std::fs::write(dir.path().join("labels.jsonl"), labels).unwrap();
    dir
}

fn json(dir: &Path) -> (Value, i32) {
    let out = rd()
        .args(["bench", "logs", "--json", "--corpus"])
        .arg(dir)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

#[test]
fn own_corpus_is_read_as_labelled() {
    let dir = corpus(OWN);
    let (v, code) = json(dir.path());
    assert_eq!(code, 0);
    assert_eq!(v["logs"], OWN.len());
    assert_eq!(v["failure_logs"], 6);
    assert_eq!(v["outcome"]["rate"], 1.0, "{v:#}");
    assert_eq!(v["crossed"], 0);
    assert_eq!(v["failure_point"]["rate"], 1.0, "{v:#}");
    assert_eq!(v["same_step"], 2, "{v:#}");
    assert!(v["speed"]["bytes"].as_u64().unwrap() > 0);
    // The stages before the restore proper are counted like the others.
    let stages = v["stages"].as_array().unwrap();
    assert_eq!(stages.len(), kb::Stage::ALL.len());
    let count = |s: &str| {
        stages
            .iter()
            .find(|c| c["stage"] == s)
            .map(|c| c["failures"].as_u64().unwrap())
    };
    assert_eq!(count("boot_chain"), Some(1));
    assert_eq!(count("ramdisk"), Some(1));
    assert_eq!(count("detection"), Some(1));
    assert_eq!(count("nand"), Some(1));
}

/// The scores can fail: a label pointing elsewhere, a success read as a failure.
#[test]
fn a_wrong_label_is_counted_and_named() {
    let dir = corpus(&[
        (
            "idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log",
            "failure",
            // A line that is in the file, but many steps before the failure.
            Some("Found device in Recovery mode"),
            false,
        ),
        (
            "futurerestore_2017_restore_mode_never_connects_errorcode_minus11.log",
            "success",
            None,
            false,
        ),
    ]);
    let (v, code) = json(dir.path());
    assert_eq!(code, 0);
    assert_eq!(v["failure_point"]["right"], 0, "{v:#}");
    assert_eq!(v["crossed"], 1);
    assert_eq!(v["outcome"]["right"], 1);
    let out = rd()
        .args(["bench", "logs", "--corpus"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Read otherwise than labelled"), "{text}");
    assert!(
        text.contains("outcome failure (labelled success)"),
        "{text}"
    );
    assert!(
        text.contains("failure at line 77 (labelled line 2)"),
        "{text}"
    );
}

#[test]
fn human_report() {
    let dir = corpus(OWN);
    let out = rd()
        .args(["bench", "logs", "--corpus"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // The directory and the timing change from run to run.
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("Log reader benchmark: ") {
                "Log reader benchmark: <corpus>".to_string()
            } else if l.trim_start().starts_with("speed ") {
                "  speed            <timing>".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(text);
}

/// The shared real logs, when beside the checkout (CI): the done-when figures.
#[test]
fn shared_real_logs_meet_the_goals() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/logs/real");
    if !dir.join("labels.jsonl").is_file() {
        eprintln!("shared/logs/real is not beside the checkout: the own corpus above still runs");
        return;
    }
    let (v, code) = json(&dir);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["crossed"], 0, "{v:#}");
    assert!(v["outcome"]["rate"].as_f64().unwrap() >= 0.95, "{v:#}");
    assert!(
        v["failure_point"]["rate"].as_f64().unwrap() >= 0.95,
        "{v:#}"
    );
    assert_eq!(v["stages_missing"], serde_json::json!([]), "{v:#}");
}

#[test]
fn bad_corpora_exit_2() {
    let empty = tempfile::tempdir().unwrap();
    let out = rd()
        .args(["bench", "logs", "--corpus"])
        .arg(empty.path().join("nowhere"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such directory"));
    let out = rd()
        .args(["bench", "logs", "--corpus"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("labels.jsonl"));
    std::fs::write(empty.path().join("labels.jsonl"), "{\"file\": 3}\n").unwrap();
    let out = rd()
        .args(["bench", "logs", "--corpus"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1"));
    // A labelled file that is missing: the report is printed, and the exit says bad input.
    std::fs::write(
        empty.path().join("labels.jsonl"),
        "{\"file\": \"gone.log\", \"outcome\": \"failure\", \"failure_line\": \"x\"}\n",
    )
    .unwrap();
    let (v, code) = json(empty.path());
    assert_eq!(code, 2);
    assert_eq!(v["unreadable"], 1);
    let out = rd()
        .args(["bench", "logs", "--readers", "0", "--corpus"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
