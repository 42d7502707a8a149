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
    // The Face ID parts lead: the flex and the module (other hardware). Which of the two comes
    // first depends on how often the real cases confirm other hardware (the fitted prior); the
    // knowledge base alone and a technician's diagnosis put the flex first
    // (engine/tests/domain.rs).
    let mut two = top3[..2].to_vec();
    two.sort();
    assert_eq!(two, ["earpiece_faceid_flex", "other_hardware"], "{top3:?}");
    assert!(!top3.contains(&"baseband"), "{top3:?}");
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

fn host_and_connection_against_hardware(v: &Value) -> (f64, f64) {
    let g = &v["groups"];
    let f = |k: &str| g[k].as_f64().unwrap_or(0.0);
    (f("host") + f("connection"), f("hardware"))
}

/// Every failure before the restore proper (the boot chain, the ramdisk, entering Recovery,
/// finding the device) puts the computer and the connection above the device's parts: the
/// `reboot` stage had sent them to the earpiece flex and the audio chip. The first fixture reads
/// like the virtual machine whose USB filter dropped the device when it entered restore mode.
#[test]
fn r_failures_before_the_restore_put_host_and_connection_above_hardware() {
    for file in [
        "futurerestore_2017_restore_mode_never_connects_errorcode_minus11.log",
        "idevicerestore_2011_waiting_for_restore_mode_unable_to_connect_shell_prompt.log",
        "idevicerestore_2018_restore_kernelcache_sent_back_in_recovery_failed_to_enter_restore_mode.log",
        "idevicerestore_2016_applelogo_unable_to_find_device_place_into_restore_mode.log",
        "futurerestore_2019_recovery_ibec_upload_unable_to_find_device_iphone6_1.log",
        "futurerestore_gui_exception_what_device_did_not_disconnect_board_in_file_names_ipad8_1.log",
        "idevicerestore_2017_dfu_ibss_sent_unable_to_connect_in_dfu_mode_iphone10_1.log",
        "futurerestore_windows_ibec_sent_device_in_invalid_state_nonce_failed_iphone10_6.log",
        "futurerestore_windows_normal_to_recovery_unable_to_connect_fail_code_minus2_iphone10_3.log",
        "idevicerestore_2013_linux_irecv_open_cant_connect_entering_recovery_ipad2_5.log",
        "idevicerestore_2024_dfu_device_invalid_state_before_upload_version_from_log_not_ipsw_name.log",
        "idevicerestore_2025_logfile_debug_ibss_did_not_reconnect_iphone11_8.log",
        "idevicerestore_2024_debug_failed_to_enter_restore_mode_usbmuxd_iphone13_2.log",
    ] {
        let v = diagnose(&["--log", &format!("{FIXTURES}{file}")]);
        let (host_conn, hardware) = host_and_connection_against_hardware(&v);
        assert!(
            host_conn > hardware,
            "{file}: host+connection {host_conn:.2} vs hardware {hardware:.2}: {}",
            v["causes"]
        );
        let top = v["causes"][0]["group"].as_str().unwrap_or("");
        assert!(
            matches!(top, "host" | "connection"),
            "{file}: {}",
            v["causes"]
        );
    }
}

/// The same for the shared real logs (read from `../shared/logs/real` when it is beside the
/// checkout, as in CI): every failure the reader puts before the restore proper, the virtual
/// machine's among them. The fixtures above keep the rule tested without them.
#[test]
fn r_real_failures_before_the_restore_put_host_and_connection_above_hardware() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/logs/real");
    let Ok(labels) = std::fs::read_to_string(dir.join("labels.jsonl")) else {
        eprintln!("shared/logs/real is not beside the checkout: checked on the fixtures only");
        return;
    };
    let mut checked = 0;
    for line in labels.lines().filter(|l| !l.trim().is_empty()) {
        let label: Value = serde_json::from_str(line).unwrap();
        let path = dir.join(label["file"].as_str().unwrap());
        let log = logs::analyze_path(&path, &mut |_| {}).unwrap();
        if !log.failed_before_restore() {
            continue;
        }
        checked += 1;
        let v = diagnose(&["--log", path.to_str().unwrap()]);
        let (host_conn, hardware) = host_and_connection_against_hardware(&v);
        assert!(
            host_conn > hardware,
            "{}: host+connection {host_conn:.2} vs hardware {hardware:.2}",
            path.display()
        );
    }
    assert!(
        checked >= 10,
        "only {checked} real failures before the restore"
    );
}

/// The FDR exchange's connection breaking is the computer side first (the `fdr` stage's parts
/// are for a device the factory-data server refuses).
#[test]
fn r_fdr_channel_loss_is_the_computer_side() {
    let v = diagnose(&[
        "--log",
        &format!(
            "{FIXTURES}idevicerestore_windows_fdr_receive_error_minus7_after_checking_filesystems_board_n71.log"
        ),
    ]);
    let (host_conn, hardware) = host_and_connection_against_hardware(&v);
    assert!(host_conn > 2.0 * hardware, "{}", v["causes"]);
    assert_eq!(v["causes"][0]["group"], "host", "{}", v["causes"]);
}

/// ASR could not repartition: a downgrade over a newer storage layout, not the storage chip.
/// The downgrade and the tool that attempts it lead, neck and neck (a downgrade is also what
/// outdated tools are used for), far ahead of the NAND.
#[test]
fn r_asr_could_not_repartition_points_at_the_downgrade() {
    let v = diagnose(&[
        "--log",
        &format!(
            "{FIXTURES}futurerestore_device_log_asr_could_not_repartition_apfs_downgrade_errorcode_minus11.log"
        ),
    ]);
    let p = |id: &str| {
        v["causes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .and_then(|c| c["probability"].as_f64())
            .unwrap_or(0.0)
    };
    let top2: Vec<&str> = v["causes"].as_array().unwrap()[..2]
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(top2.contains(&"signing_or_downgrade"), "{}", v["causes"]);
    assert!(
        p("signing_or_downgrade") > 10.0 * p("nand"),
        "{}",
        v["causes"]
    );
}

/// A person (or the web form) naming a step before the restore proper as the failure stage is
/// heard as the log fact `failed_before_restore`: the stage has no row in `failure_stage`.
#[test]
fn a_stage_before_the_restore_named_by_hand_moves_the_diagnosis() {
    let plain = diagnose(&["--device", "iPhone 8", "--error", "4013"]);
    for stage in ["boot_chain", "ramdisk", "detection"] {
        let v = diagnose(&[
            "--device",
            "iPhone 8",
            "--error",
            "4013",
            "--observed",
            &format!("failure_stage={stage}"),
        ]);
        let (host_conn, hardware) = host_and_connection_against_hardware(&v);
        let (plain_host_conn, _) = host_and_connection_against_hardware(&plain);
        assert!(host_conn > plain_host_conn, "{stage}: {}", v["groups"]);
        assert!(host_conn > hardware, "{stage}: {}", v["groups"]);
    }
}
