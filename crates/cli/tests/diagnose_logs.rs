//! `diagnose --log`: what a restore log proves moves the verdict. One test per misreading found
//! (ripgrep's habit: a regression test named after the log that showed it).

use assert_cmd::Command;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../logs/tests/fixtures/");

fn diagnose(args: &[&str]) -> Value {
    let out = Command::cargo_bin("restore-doctor")
        .unwrap()
        .env_remove("RESTORE_DOCTOR_DB")
        .args(["diagnose", "--json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The device's own log says ASR ran out of room ("No space left on device", FAILURE 14): a
/// full device, not the cable the bare code 14 would suggest, and the next step frees space.
#[test]
fn r_storage_full_log_points_at_a_full_device() {
    let log = format!("{FIXTURES}restored_device_log_update_no_space_left_iphone12_1.log");
    let v = diagnose(&["--log", &log]);
    assert_eq!(v["error_code"], 14);
    assert_eq!(
        v["causes"][0]["id"], "device_storage_full",
        "{}",
        v["causes"]
    );
    assert_eq!(v["next_step"]["action"], "free_storage");
    assert_eq!(v["next_step"]["erases_data"], false);
}

/// The same code without the log keeps the connection first: the log is what moved it.
#[test]
fn code_14_alone_starts_with_the_connection() {
    let v = diagnose(&["--device", "iPhone 11", "--error", "14"]);
    assert_ne!(v["causes"][0]["id"], "device_storage_full");
}
