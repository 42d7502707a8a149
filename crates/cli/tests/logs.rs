//! End-to-end runs of `restore-doctor logs` on the fixtures of `crates/logs/tests/fixtures`:
//! human output snapshotted with colour off, JSON checked against design.md §6, bad input
//! (missing file, directory, binary) exits 2 while the other files are still read.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../logs/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn rd() -> Command {
    let mut cmd = Command::cargo_bin("restore-doctor").unwrap();
    cmd.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    // Fixture paths are absolute; run from the fixture directory so snapshots show bare names.
    cmd.current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../logs/tests/fixtures"));
    cmd
}

fn human(file: &str) -> String {
    let out = rd().args(["logs", file]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(files: &[&str]) -> (Value, i32) {
    let mut args = vec!["logs", "--json"];
    args.extend_from_slice(files);
    let out = rd().args(&args).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (v, out.status.code().unwrap_or(-1))
}

#[test]
fn human_nand_op58_disconnect() {
    insta::assert_snapshot!(human(
        "idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log"
    ));
}

#[test]
fn human_finder_ndjson_4013() {
    insta::assert_snapshot!(human("finder_unified_log_ndjson_4013_op58_iphone12_3.log"));
}

/// Two runs in one paste: the last one is read, the first is listed as an earlier run.
#[test]
fn human_two_runs_in_one_paste() {
    insta::assert_snapshot!(human(
        "idevicerestore_2024_two_attempts_one_paste_ibec_then_nand_op58_iphone10_4.log"
    ));
}

#[test]
fn human_tss_refusal() {
    insta::assert_snapshot!(human(
        "idevicerestore_2023_tss_status94_unsigned_iphone9_1.log"
    ));
}

#[test]
fn json_has_the_contract_fields() {
    let (v, code) = json(&["idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log"]);
    assert_eq!(code, 0);
    let log = &v["logs"][0];
    assert_eq!(
        log["file"],
        "idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log"
    );
    assert_eq!(log["tool"], "idevicerestore");
    assert_eq!(log["device"]["product_type"], "iPhone11,2");
    assert_eq!(log["outcome"], "failure");
    let f = &log["failure"];
    assert_eq!(f["operation"]["id"], 58);
    assert_eq!(f["operation"]["label"], "Updating NAND Firmware");
    assert_eq!(f["checkpoint"]["id"], "0x60E");
    assert_eq!(f["checkpoint"]["name"], "update_NAND_firmware");
    assert_eq!(f["stage"], "nand");
    assert!(f["error_code"].is_null());
    assert_eq!(f["message"], "ERROR: Unable to restore device");
    assert!(v["same_failure_point"].is_null());
    let ecid = log["device"]["ecid"].as_str().unwrap();
    assert!(
        ecid.starts_with("****") && ecid.len() == 8,
        "redacted like every id: {ecid}"
    );
}

#[test]
fn json_compares_failures_of_one_device() {
    let (v, code) = json(&[
        "same_device_a_attempt1_bench1_idevicerestore_original_cable_op58.log",
        "same_device_a_attempt2_bench1_idevicerestore_new_cable_debug_op58.log",
        "same_device_a_attempt3_windows_itunes_other_computer_4013_op58.log",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["logs"].as_array().unwrap().len(), 3);
    assert_eq!(v["same_failure_point"], true);
    let (v, _) = json(&[
        "same_device_b_attempt1_windows_pc_front_hub_itunes_4013_op13.log",
        "same_device_b_attempt2_macbook_finder_compact_log_error9_op18.log",
    ]);
    assert_eq!(v["same_failure_point"], false);
    assert_eq!(v["error_varies"], true);
}

#[test]
fn show_ids_keeps_the_ecid() {
    let file = "idevicerestore_2024_debug_update_success_with_identifiers_to_redact_iphone9_1.log";
    let out = rd().args(["logs", "--json", file]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("F17SX3LKHG7K") && !text.contains("A3F7C91E25B4D"),
        "{text}"
    );
    let out = rd()
        .args(["logs", "--json", "--show-ids", file])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["logs"][0]["device"]["ecid"], "0xA3F7C91E25B4D");
}

#[test]
fn bad_files_exit_2_and_the_others_still_print() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("photo.log");
    std::fs::write(&binary, [0x89u8, b'P', b'N', b'G', 0, 0, 0, 13, 0, 1, 2, 3]).unwrap();
    let missing = dir.path().join("missing.log");
    let good = fixture("idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log");
    let out = rd()
        .args([
            "logs",
            missing.to_str().unwrap(),
            dir.path().to_str().unwrap(),
            binary.to_str().unwrap(),
            &good,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing.log: no such file"), "{stderr}");
    assert!(stderr.contains("is a directory"), "{stderr}");
    assert!(
        stderr.contains("photo.log: looks like a binary file"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("outcome FAILURE at stage nand"), "{stdout}");

    let out = rd()
        .args(["logs", "--json", missing.to_str().unwrap(), &good])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["logs"].as_array().unwrap().len(), 1);
    assert_eq!(v["errors"][0]["file"], missing.to_str().unwrap());
}

#[test]
fn dash_reads_standard_input() {
    let text = std::fs::read(fixture(
        "idevicerestore_2023_tss_status94_unsigned_iphone9_1.log",
    ))
    .unwrap();
    let out = rd()
        .args(["logs", "--json", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["logs"][0]["file"], "-");
    assert_eq!(v["logs"][0]["failure"]["stage"], "tss");
    assert_eq!(v["logs"][0]["failure"]["error_code"], 3194);
}

/// futurerestore's own exit code is shown as the tool's, apart from Apple's error codes.
#[test]
fn a_wrapper_exit_code_is_shown_as_the_tools() {
    let text = human("futurerestore_2017_restore_mode_never_connects_errorcode_minus11.log");
    assert!(
        text.contains("outcome FAILURE at stage ramdisk, futurerestore exit code -11"),
        "{text}"
    );
    assert!(!text.contains("error -11"), "{text}");
}
