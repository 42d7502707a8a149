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
    // The device's FAILURE:14 is not the code iTunes showed (log_formats.md §9): no code is
    // assumed; the log's own evidence does the work.
    assert_eq!(v["error_code"], Value::Null);
    assert_eq!(
        v["causes"][0]["id"], "device_storage_full",
        "{}",
        v["causes"]
    );
    assert_eq!(v["next_step"]["action"], "free_storage");
    assert_eq!(v["next_step"]["erases_data"], false);
}

/// futurerestore refused the saved blob (its nonce does not match the device's): the person's
/// own signing set-up, which the engine had spread over the network, security software and
/// signing when it only heard "failed at the signing stage".
#[test]
fn r_futurerestore_apnonce_mismatch_points_at_the_signing_set_up() {
    let log =
        format!("{FIXTURES}futurerestore_2021_apnonce_mismatch_error_code_minus20_iphone10_3.log");
    let v = diagnose(&["--log", &log]);
    assert_eq!(
        v["causes"][0]["id"], "signing_or_downgrade",
        "{}",
        v["causes"]
    );
    assert!(
        v["causes"][0]["probability"].as_f64().unwrap() > 0.8,
        "{}",
        v["causes"]
    );
}

/// A damaged IPSW download (checksum mismatch before the device is touched): the firmware file.
#[test]
fn r_ipsw_checksum_mismatch_points_at_the_firmware_file() {
    let log = format!(
        "{FIXTURES}idevicerestore_2024_latest_ipsw_download_checksum_mismatch_iphone14_5.log"
    );
    let v = diagnose(&["--log", &log]);
    assert_eq!(v["causes"][0]["id"], "firmware_or_ipsw", "{}", v["causes"]);
}

/// 3uTools' "error code (-1)" after a late `failed to install splat`: not the modem that iTunes'
/// -1 means; the device's system software leads.
#[test]
fn r_3utools_splat_failure_is_not_the_modem() {
    let log = format!(
        "{FIXTURES}3utools_2026_utf8_bom_embedded_idevicerestore_failed_to_install_splat_iphone11_8.log"
    );
    let v = diagnose(&["--log", &log]);
    assert_eq!(v["error_code"], Value::Null);
    assert_eq!(
        v["causes"][0]["id"], "ios_system_software",
        "{}",
        v["causes"]
    );
    let top3: Vec<&str> = v["causes"].as_array().unwrap()[..3]
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(!top3.contains(&"baseband"), "{top3:?}");
}

/// "request for LLB data returned NULL": the restore tool is too old for this iOS; the engine
/// puts the computer's software first, not a part.
#[test]
fn r_llb_data_returned_null_points_at_the_restore_software() {
    let log = format!(
        "{FIXTURES}idevicerestore_2024_llb_data_returned_null_outdated_build_iphone16_1.log"
    );
    let v = diagnose(&["--log", &log]);
    assert_eq!(
        v["causes"][0]["id"], "host_software_outdated",
        "{}",
        v["causes"]
    );
}

/// The same code without the log keeps the connection first: the log is what moved it.
#[test]
fn code_14_alone_starts_with_the_connection() {
    let v = diagnose(&["--device", "iPhone 11", "--error", "14"]);
    assert_ne!(v["causes"][0]["id"], "device_storage_full");
}

/// A Face ID camera firmware update (Savage) that fails with -1 is the Face ID module or its
/// flex, not the modem that a bare -1 suggests: the flex, which a technician disconnects first,
/// leads and the verdict says to test it first (the Face ID module itself is other hardware).
#[test]
fn r_savage_failure_points_at_the_face_id_parts() {
    let log = format!("{FIXTURES}restored_device_log_savage_faceid_update_failed_iphone10_6.log");
    let v = diagnose(&["--log", &log]);
    // FAILURE:-1 is the step's generic failure, not iTunes' -1 (the modem): no code assumed.
    assert_eq!(v["error_code"], Value::Null);
    let top3: Vec<&str> = v["causes"].as_array().unwrap()[..3]
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(top3[0], "earpiece_faceid_flex", "{top3:?}");
    assert!(!top3.contains(&"baseband"), "{top3:?}");
    assert_eq!(v["verdict"]["cause"], "earpiece_faceid_flex");
}

/// The secure element (NFC), U1 and Touch ID updaters failing are other hardware, not the
/// modem that a bare -1 suggests.
#[test]
fn r_sensor_updater_failures_are_not_read_as_the_modem() {
    for fixture in [
        "restored_device_log_secure_element_update_failed_iphone10_1.log",
        "restored_device_log_rose_u1_updater_1017_iphone13_2.log",
        "idevicerestore_2024_yonkers_firmware_verification_error_iphone12_8.log",
    ] {
        let v = diagnose(&["--log", &format!("{FIXTURES}{fixture}")]);
        assert_eq!(
            v["causes"][0]["id"], "other_hardware",
            "{fixture}: {}",
            v["causes"]
        );
        assert!(v["groups"]["hardware"].as_f64().unwrap() > 0.5, "{fixture}");
    }
}

/// A log of a restore that worked is no evidence of a failure, and diagnose says so.
#[test]
fn a_successful_log_is_called_out() {
    let log = format!("{FIXTURES}idevicerestore_2024_success_iphone10_3_dfu_erase.log");
    let v = diagnose(&["--log", &log]);
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("finished successfully"), "{warnings}");
}

/// One paste holding three runs of the same restore, each dropping off USB while updating the
/// NAND firmware (operation 58): every run counts as an attempt at that point, so a fourth
/// restore is not proposed (the device is not worn down by repeating what failed three times).
#[test]
fn three_runs_at_the_same_point_in_one_paste_stop_restores() {
    let one = std::fs::read_to_string(format!(
        "{FIXTURES}idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log"
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paste = dir.path().join("three_runs.log");
    std::fs::write(&paste, format!("{one}\n{one}\n{one}")).unwrap();
    let single = diagnose(&[
        "--log",
        &format!("{FIXTURES}idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log"),
    ]);
    let three = diagnose(&["--log", paste.to_str().unwrap()]);
    let stop_warning = |v: &Value| {
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("3 times at the same point"))
    };
    assert!(!stop_warning(&single), "{}", single["warnings"]);
    assert!(stop_warning(&three), "{}", three["warnings"]);
    let step = three["next_step"]["action"].as_str().unwrap();
    assert!(
        !step.contains("restore") && !step.contains("update"),
        "{step}"
    );
    assert_eq!(three["causes"][0]["id"], "nand", "{}", three["causes"]);
}

/// A panic log handed over by the device (`Panic log is available:`) is hardware evidence: the
/// same log without it leaves the hardware causes less likely.
#[test]
fn a_panic_log_in_the_restore_log_raises_the_hardware_causes() {
    let name = "idevicerestore_2024_panic_log_available_storage_controller_timeout_waiting_for_nand_iphone12_1.log";
    let text = std::fs::read_to_string(format!("{FIXTURES}{name}")).unwrap();
    // The same log with the panic block left out (up to the reverse proxy starting).
    let start = text.find("Panic log is available:").unwrap();
    let end = start + text[start..].find("Starting Reverse Proxy").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let without = dir.path().join("without_panic.log");
    std::fs::write(&without, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let hardware = |v: &Value| -> f64 {
        v["causes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                matches!(
                    c["id"].as_str().unwrap(),
                    "nand"
                        | "cpu_or_board_solder"
                        | "baseband"
                        | "earpiece_faceid_flex"
                        | "audio_ic"
                        | "tristar_hydra_charging_ic"
                        | "other_hardware"
                )
            })
            .map(|c| c["probability"].as_f64().unwrap())
            .sum()
    };
    let with_panic = diagnose(&["--log", &format!("{FIXTURES}{name}")]);
    let no_panic = diagnose(&["--log", without.to_str().unwrap()]);
    assert!(
        hardware(&with_panic) > hardware(&no_panic) + 0.05,
        "with {} vs without {}",
        hardware(&with_panic),
        hardware(&no_panic)
    );
    assert_eq!(
        with_panic["causes"][0]["id"], "nand",
        "{}",
        with_panic["causes"]
    );
}
