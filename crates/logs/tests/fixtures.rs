//! Every fixture in `tests/fixtures/expected.toml` is read as the manifest says, plus named
//! tests for the important ones (one per real-world shape, ripgrep-style regression names).

use logs::{Outcome, RestoreKind, RestoreLog, analyze_path};
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
    let text =
        std::fs::read_to_string(dir().join("expected.toml")).expect("expected.toml readable");
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
        bad.push(format!(
            "outcome {} != {}",
            log.outcome.as_str(),
            exp.outcome
        ));
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
    if let Some(pt) = &exp.product_type
        && log.device.product_type.as_deref() != Some(pt.as_str())
    {
        bad.push(format!(
            "product_type {:?} != {pt}",
            log.device.product_type
        ));
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
                assert!(
                    bad.iter().any(|b| b == mismatch),
                    "{file}: the manifest now agrees ({mismatch}); drop it from MANIFEST_DISAGREEMENTS"
                );
                bad.retain(|b| b != mismatch);
            }
        }
        if !bad.is_empty() {
            failures.push(format!(
                "{}: {}\n    reading: {}",
                exp.file,
                bad.join("; "),
                log.reading
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures misread:\n{}",
        failures.len(),
        m.log.len(),
        failures.join("\n")
    );
}

#[test]
fn every_fixture_file_has_a_manifest_entry() {
    let m = manifest();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name == "expected.toml" || name.ends_with(".md") || name.starts_with('.') {
            continue;
        }
        assert!(
            m.log.iter().any(|e| e.file == name),
            "{name} is not in expected.toml"
        );
    }
}

// ---- Named readings of the important fixtures (one per real-world shape).

fn facts(log: &RestoreLog) -> Vec<(String, String)> {
    log.facts()
}

/// The operation ids of the timeline, in order.
fn timeline_operations(log: &RestoreLog) -> Vec<u32> {
    log.timeline
        .iter()
        .filter_map(|e| match &e.kind {
            logs::EventKind::Operation { operation, .. } => Some(operation.id),
            _ => None,
        })
        .collect()
}

/// The proving line of where the failure started.
fn first_sign(log: &RestoreLog) -> &logs::EvidenceLine {
    log.evidence
        .iter()
        .find(|e| e.why == "first sign of the failure")
        .expect("a first sign of the failure")
}

fn has_fact(log: &RestoreLog, k: &str, v: &str) -> bool {
    facts(log).iter().any(|(a, b)| a == k && b == v)
}

/// The classic 4013: the device vanishes during the storage-firmware step (op 58).
#[test]
fn r_nand_firmware_op58_disconnect() {
    let log = read("idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log");
    let f = log.failure.as_ref().unwrap();
    assert!(f.disconnect);
    assert_eq!(
        f.operation.as_ref().map(|o| o.label.as_ref()),
        Some("Updating NAND Firmware")
    );
    assert_eq!(
        f.checkpoint.as_ref().and_then(|c| c.name.as_deref()),
        Some("update_NAND_firmware")
    );
    assert!(has_fact(&log, "failure_stage", "nand"));
    assert!(has_fact(&log, "usb_dropout", "yes"));
    let root = first_sign(&log);
    assert!(root.text.contains("Could not read data"), "{root:?}");
    let text = std::fs::read_to_string(
        dir().join("idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log"),
    )
    .unwrap();
    let line = text.lines().nth(root.line as usize - 1).unwrap();
    assert!(
        line.contains("Could not read data"),
        "evidence line number {} points at {line:?}",
        root.line
    );
    assert!(log.reading.contains("NAND"), "{}", log.reading);
}

/// TSS STATUS=94: not signed, iTunes 3194; the device is not at fault.
#[test]
fn r_tss_status94_unsigned() {
    let log = read("idevicerestore_2023_tss_status94_unsigned_iphone9_1.log");
    assert!(has_fact(&log, "tss_refused", "yes"));
    assert!(has_fact(&log, "error_code", "3194"));
    assert!(!has_fact(&log, "usb_dropout", "yes"));
    assert!(log.reading.contains("no longer signs"), "{}", log.reading);
}

/// futurerestore's nonce check: the saved blob does not fit the device's nonce (the generator was
/// not set). A signing set-up error of the person's own: the reading must not send them to
/// their network, and the engine hears `blob_mismatch`.
#[test]
fn r_futurerestore_apnonce_mismatch_is_the_blob_not_the_network() {
    let log = read("futurerestore_2021_apnonce_mismatch_error_code_minus20_iphone10_3.log");
    assert!(has_fact(&log, "blob_mismatch", "yes"));
    assert!(has_fact(&log, "failure_stage", "tss"));
    assert!(!has_fact(&log, "tss_refused", "yes"));
    assert!(log.reading.contains("nonce generator"), "{}", log.reading);
    assert!(!log.reading.contains("network, VPN"), "{}", log.reading);
}

/// idevicerestore -l downloaded a damaged IPSW: the file, not the device or a step of the
/// restore (the reading had nothing to say about a failure "outside the main restore stages").
#[test]
fn r_ipsw_download_checksum_mismatch_is_the_file() {
    let log = read("idevicerestore_2024_latest_ipsw_download_checksum_mismatch_iphone14_5.log");
    assert!(has_fact(&log, "ipsw_corrupt_in_log", "yes"));
    assert!(
        log.reading
            .starts_with("The firmware file (IPSW) failed its checksum."),
        "{}",
        log.reading
    );
    assert!(log.reading.contains("download it again"), "{}", log.reading);
}

/// A firmware updater that fails names its part in the reading (Savage is the Face ID camera,
/// on its flex cable; the secure element sits on the board), not "a part".
#[test]
fn r_failed_firmware_updater_is_named_in_the_reading() {
    let savage = read("restored_device_log_savage_faceid_update_failed_iphone10_6.log");
    assert!(
        savage.reading.contains("Face ID camera (Savage)") && savage.reading.contains("flex cable"),
        "{}",
        savage.reading
    );
    let se = read("restored_device_log_secure_element_update_failed_iphone10_1.log");
    assert!(se.reading.contains("secure element"), "{}", se.reading);
    assert!(!se.reading.contains("flex"), "{}", se.reading);
}

/// The device dropping off USB during a firmware step is a connection question first, not "a
/// part's firmware update failed".
#[test]
fn r_disconnect_during_flashing_firmware_points_at_the_connection_first() {
    let log = read(
        "bat_line_numbers_idevicerestore_2024_disconnect_flashing_firmware_update_iboot_iphone12_8.log",
    );
    assert!(log.reading.contains("dropped off USB"), "{}", log.reading);
    assert!(log.reading.contains("connection first"), "{}", log.reading);
    assert!(
        !log.reading.contains("firmware update failed"),
        "{}",
        log.reading
    );
}

/// TSS requests sent again and again with no answer, then ^C: no verdict, but the signing
/// server was not reached (the reading had nothing: "no restore steps and no verdict").
#[test]
fn r_tss_retries_without_answer_point_at_the_network() {
    let log = read("idevicerestore_2024_tss_retries_without_answer_interrupted_iphone14_5.log");
    assert!(log.flags.tss_unreachable);
    assert!(!log.flags.tss_refused);
    assert!(has_fact(&log, "failure_stage", "tss"));
    assert!(
        log.reading
            .contains("Apple's signing server could not be reached"),
        "{}",
        log.reading
    );
}

/// 3uTools repeats the failing checkpoint's result as its own code ("Flash failed, error code
/// (-1)" after `0x648 result=-1: failed to install splat`): the device's number, not iTunes'
/// error -1 (the modem). The engine gets no code, and hears the late boot-configuration step.
#[test]
fn r_3utools_splat_failure_code_is_the_checkpoint_result_not_the_modem() {
    let log = read(
        "3utools_2026_utf8_bom_embedded_idevicerestore_failed_to_install_splat_iphone11_8.log",
    );
    assert_eq!(log.error_code_for_engine(), None);
    assert!(has_fact(&log, "late_boot_config_failed", "yes"));
    assert!(!has_fact(&log, "error_code", "-1"));
    assert!(
        log.reading.contains("failed to install splat"),
        "{}",
        log.reading
    );
    // The reading still shows the number the tool printed.
    assert_eq!(log.failure.as_ref().and_then(|f| f.error_code), Some(-1));
}

/// update_iBoot asks the host for the boot loader and gets nothing: the restore tool is too old
/// (log_formats.md §6), not a part of the phone ("a part's firmware update failed").
#[test]
fn r_llb_data_returned_null_is_the_restore_tool() {
    let log = read("idevicerestore_2024_llb_data_returned_null_outdated_build_iphone16_1.log");
    assert!(has_fact(&log, "host_tool_lacked_data", "yes"));
    assert_eq!(log.failed_component(), None);
    assert!(
        log.reading.contains("restore software is too old"),
        "{}",
        log.reading
    );
    assert!(
        !log.reading.contains("suspect that part"),
        "{}",
        log.reading
    );
}

/// FDR 53 through a proxy: the child checkpoint is the root, not its parent 0x67B.
#[test]
fn r_fdr53_proxy_first_failure_is_the_child() {
    let log = read("idevicerestore_2024_fdr53_proxy_with_device_log_iphone8_1.log");
    let f = log.failure.as_ref().unwrap();
    assert_eq!(f.checkpoint.as_ref().map(|c| c.num), Some(0x634));
    assert_eq!(f.checkpoint_result, Some(53));
    assert!(log.reading.contains("proxy"), "{}", log.reading);
}

/// ASR "No space left on device": storage full, not broken.
#[test]
fn r_update_no_space_left() {
    let log = read("restored_device_log_update_no_space_left_iphone12_1.log");
    assert!(has_fact(&log, "storage_full_in_log", "yes"));
    assert!(has_fact(&log, "failure_stage", "image_transfer"));
    assert!(
        log.evidence
            .iter()
            .any(|e| e.text.contains("No space left on device"))
    );
}

/// futurerestore's `code=` in the exception block is a source line, not an error code.
#[test]
fn r_futurerestore_exception_code_is_ignored() {
    let log = read("futurerestore_2023_baseband_checkpoint4867_iphone9_3.log");
    assert!(!log.error_codes.contains(&91291694));
    assert_eq!(log.failure.as_ref().and_then(|f| f.error_code), Some(-1));
    let old =
        read("futurerestore_2018_debug_restore_mode_never_appears_errorcode_minus11_iphone9_1.log");
    assert_eq!(old.tool_code, Some(-11));
    assert_ne!(old.failure.as_ref().and_then(|f| f.error_code), Some(-11));
}

/// Three attempts of one device, cable and computer changed: same point, same stage.
#[test]
fn r_same_device_a_fails_at_the_same_point() {
    let logs: Vec<RestoreLog> = [
        "same_device_a_attempt1_bench1_idevicerestore_original_cable_op58.log",
        "same_device_a_attempt2_bench1_idevicerestore_new_cable_debug_op58.log",
        "same_device_a_attempt3_windows_itunes_other_computer_4013_op58.log",
    ]
    .iter()
    .map(|f| read(f))
    .collect();
    let c = logs::compare(logs.iter());
    assert_eq!(c.same_failure_point, Some(true));
    let facts = logs::facts_for_logs(&logs);
    assert!(
        facts.contains(&("same_failure_point".into(), "yes".into())),
        "{facts:?}"
    );
    assert!(
        facts.contains(&("failure_stage".into(), "nand".into())),
        "{facts:?}"
    );
}

/// Device B: op 13 on one computer, op 18 with error 9 on another: different points, error varies.
#[test]
fn r_same_device_b_fails_at_different_points() {
    let logs: Vec<RestoreLog> = [
        "same_device_b_attempt1_windows_pc_front_hub_itunes_4013_op13.log",
        "same_device_b_attempt2_macbook_finder_compact_log_error9_op18.log",
    ]
    .iter()
    .map(|f| read(f))
    .collect();
    let c = logs::compare(logs.iter());
    assert_eq!(c.same_failure_point, Some(false));
    assert_eq!(c.error_varies, Some(true));
    let facts = logs::facts_for_logs(&logs);
    assert!(
        facts.contains(&("error_varies".into(), "yes".into())),
        "{facts:?}"
    );
    assert!(
        facts.contains(&("same_failure_point".into(), "no".into())),
        "{facts:?}"
    );
}

/// Identifiers in the log never reach the output unless asked for.
#[test]
fn r_identifiers_are_redacted() {
    let log =
        read("idevicerestore_2024_debug_update_success_with_identifiers_to_redact_iphone9_1.log");
    assert!(log.device.ecid.is_some());
    let json = serde_json::to_string(&log.redacted()).unwrap();
    for id in [
        "2884554023131981",
        "A3F7C91E25B4D",
        "a3f7c91e25b4d",
        "F17SX3LKHG7K",
        "355331081234567",
        "8c2f0e7d4b1a9c6e3f5d2b8a7c4e1f0a9d6b3c2e",
    ] {
        assert!(!json.contains(id), "{id} leaked into {json}");
    }
    let shown = serde_json::to_string(&log).unwrap();
    assert!(
        shown.contains("A3F7C91E25B4D"),
        "ECID kept in the unredacted log"
    );
}

/// UTF-16LE with a BOM, CRLF (Windows iTunes): 4014 after the device fell back to DFU.
#[test]
fn r_utf16le_bom_itunes_log() {
    let log = read("itunes_windows_updater_log_utf16le_bom_4014_back_in_dfu_iphone9_4.log");
    assert_eq!(log.outcome, Outcome::Failure);
    assert_eq!(log.failure.as_ref().and_then(|f| f.error_code), Some(4014));
}

/// 3uTools wraps long lines; the CPID/BDID of a wrapped `personalizing:` line still reads.
#[test]
fn r_3utools_wrapped_lines_join() {
    let log = read("3utools_flash_success_iphone14_7_wrapped_lines.log");
    assert_eq!(log.device.cpid, Some(0x8110));
    assert_eq!(log.device.bdid, Some(0x18));
    assert_eq!(log.target_build.as_deref(), Some("22D63"));
}

/// A paste that ends in the middle of a line, with no verdict: incomplete, not failure.
#[test]
fn r_paste_ends_mid_line_is_incomplete() {
    let log = read("paste_ends_mid_line_idevicerestore_no_verdict_iphone12_3.log");
    assert_eq!(log.outcome, Outcome::Incomplete);
    assert!(log.reading.contains("without a verdict"), "{}", log.reading);
}

#[test]
fn firmware_updater_failures_name_their_part() {
    for (file, part) in [
        (
            "restored_device_log_savage_faceid_update_failed_iphone10_6.log",
            "face_id_camera",
        ),
        (
            "restored_device_log_secure_element_update_failed_iphone10_1.log",
            "secure_element",
        ),
        (
            "restored_device_log_rose_u1_updater_1017_iphone13_2.log",
            "u1_chip",
        ),
        (
            "idevicerestore_2024_yonkers_firmware_verification_error_iphone12_8.log",
            "touch_id_sensor",
        ),
    ] {
        let bytes = std::fs::read(format!(
            "{}/tests/fixtures/{file}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let log = logs::analyze_bytes(&bytes);
        assert_eq!(log.failed_component(), Some(part), "{file}");
    }
    // A baseband failure names no sensor part.
    let bytes = std::fs::read(format!(
        "{}/tests/fixtures/restored_device_log_bbupdater_error50_no_transport_iphone9_1.log",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(logs::analyze_bytes(&bytes).failed_component(), None);
}

/// One paste, two runs: the first stops at the iBEC hand-off, the cable is changed and the
/// second dies at op 58. The reading is of the last run; the first is kept as an earlier
/// attempt, and the two stopped at different points.
#[test]
fn r_two_attempts_one_paste_reads_the_last() {
    let log = read("idevicerestore_2024_two_attempts_one_paste_ibec_then_nand_op58_iphone10_4.log");
    let f = log.failure.as_ref().expect("the last run failed");
    assert_eq!(f.stage, Some(logs::Stage::Nand));
    assert_eq!(log.earlier_attempts.len(), 1, "{:?}", log.earlier_attempts);
    let first = &log.earlier_attempts[0];
    assert_eq!(first.outcome, logs::Outcome::Failure);
    // (the device did not come back after its iBEC upload: the boot chain, before the restore)
    assert_eq!(first.stage, Some(logs::Stage::BootChain));
    // Each run says what it was (here both erase restores): the earlier one keeps its own.
    assert_eq!(first.kind, Some(logs::RestoreKind::Restore));
    let ended = first.ended.as_ref().expect("how it ended");
    assert!(ended.text.contains("did not reconnect"), "{ended:?}");
    assert!(
        has_fact(&log, "same_failure_point", "no"),
        "{:?}",
        facts(&log)
    );
    assert!(has_fact(&log, "failure_stage", "nand"));
    assert!(log.reading.contains("earlier"), "{}", log.reading);
}

/// The same command run twice, both times without a device: two runs, one failure point.
#[test]
fn r_two_runs_without_a_device_fail_at_the_same_point() {
    let log = read("idevicerestore_2025_windows_powershell_no_device_found.log");
    assert_eq!(log.earlier_attempts.len(), 1);
    assert_eq!(log.earlier_attempts[0].stage, Some(logs::Stage::Detection));
    assert!(
        has_fact(&log, "same_failure_point", "yes"),
        "{:?}",
        facts(&log)
    );
}

/// A run's banner after a success is a new attempt too, but a banner before any verdict is
/// not (a wrapper prints its own banner, then the Apple library's header).
#[test]
fn r_a_single_run_with_two_banners_is_one_attempt() {
    let log = read("3utools_flash_4014_back_in_dfu_at_18_percent_iphone9_4.log");
    assert!(
        log.earlier_attempts.is_empty(),
        "{:?}",
        log.earlier_attempts
    );
}

/// A checkpoint that completed is not called "in progress" among the proving lines.
#[test]
fn r_pymobiledevice3_completed_checkpoint_is_not_in_progress() {
    let log = read("pymobiledevice3_2024_restore_fdr_recover_53_iphone12_1.log");
    let cp = log
        .evidence
        .iter()
        .find(|e| {
            e.text
                .contains("CHECKPOINT_COMPLETE': True, 'CHECKPOINT_RESULT': 0")
        })
        .expect("the completed checkpoint is a proving line");
    assert_eq!(cp.why, "last checkpoint completed");
}

/// ASR going silent during verification is a disconnect there, not a checksum mismatch.
#[test]
fn r_asr_silent_during_verify_is_not_called_a_checksum_failure() {
    let log = read("idevicerestore_2023_plain_progress_P_flag_asr_unable_to_receive_ipad13_1.log");
    assert!(log.failure.as_ref().is_some_and(|f| f.disconnect));
    assert!(!log.reading.contains("checksum"), "{}", log.reading);
    assert!(log.reading.contains("cable"), "{}", log.reading);
}

/// FDR 53 with Apple's server answering 403 is the parts, not the network: the reading says
/// so and quotes the server; with a proxy in the log it stays the proxy.
#[test]
fn r_fdr_403_reads_as_refused_parts_not_the_network() {
    for f in [
        "restored_device_log_fdr_recover_53_http403_iphone11_6.log",
        "pymobiledevice3_2024_restore_fdr_recover_53_iphone12_1.log",
    ] {
        let log = read(f);
        assert!(log.reading.contains("HTTP 403"), "{f}: {}", log.reading);
        assert!(log.reading.contains("parts"), "{f}: {}", log.reading);
    }
    let log = read("idevicerestore_2024_fdr53_proxy_with_device_log_iphone8_1.log");
    assert!(log.reading.contains("proxy"), "{}", log.reading);
    assert!(!log.reading.contains("HTTP 403"), "{}", log.reading);
}

/// pymobiledevice3 prints operations by their constant names: the timeline has them, in order,
/// with the knowledge base's labels, and the failure names the step the device vanished in.
#[test]
fn r_pymobiledevice3_operations_by_constant_name() {
    let log = read(
        "pymobiledevice3_2024_verbose_device_vanished_update_nand_firmware_connection_aborted_iphone14_5.log",
    );
    assert_eq!(timeline_operations(&log), vec![28, 58]);
    let f = log.failure.as_ref().expect("a failure");
    assert!(f.disconnect);
    assert_eq!(
        f.operation.as_ref().map(|o| o.label.as_ref()),
        Some("Updating NAND Firmware")
    );
    assert!(has_fact(&log, "usb_dropout", "yes"));
    assert!(has_fact(&log, "failure_stage", "nand"));
    let fdr = read("pymobiledevice3_2024_restore_fdr_recover_53_iphone12_1.log");
    assert_eq!(timeline_operations(&fdr), vec![28, 58, 11, 13, 50]);
}

/// `Panic log is available:` (restored's saved debug info from the previous boot) is read:
/// the device panicked, strong hardware evidence, and the reading stays at the NAND.
#[test]
fn r_panic_log_available_is_flagged() {
    let log = read(
        "idevicerestore_2024_panic_log_available_storage_controller_timeout_waiting_for_nand_iphone12_1.log",
    );
    assert!(log.flags.panic_log);
    assert!(has_fact(&log, "failure_stage", "nand"));
    assert!(has_fact(&log, "panic_in_log", "yes"));
    // The panic text itself is not read as this run's failure.
    let root = first_sign(&log);
    assert!(root.text.contains("Could not read data"), "{root:?}");
    // The reading tells the person what the panic log means.
    assert!(log.reading.contains("panic log"), "{}", log.reading);
    assert!(log.reading.contains("suspect hardware"), "{}", log.reading);
}

/// The device's on-screen bar as restored draws it (`ramrod_display_set_granular_progress_forced`)
/// is the last progress the device showed, also when no `restore-step-user-progress` line
/// follows (a device log cut short during the image stream).
#[test]
fn r_on_screen_progress_from_the_granular_display_lines() {
    let log = logs::analyze_bytes(
        b"[09:12:01.0101-GMT]{3>7} CHECKPOINT BEGIN: RESTORED:[0x065B] asr_and_invert_image\n\
ASR RESTORE PROGRESS: 40%\n\
ramrod_display_set_granular_progress_forced: 30.400000\n\
ASR RESTORE PROGRESS: 50%\n\
ramrod_display_set_granular_progress_forced: 38.000000\n\
ASR RESTORE PROGRESS: 60%\n",
    );
    assert_eq!(log.device_progress, Some(38));
    assert_eq!(log.outcome, Outcome::Incomplete);
}

/// pymobiledevice3 quotes the previous attempt's device log after `PreviousRestoreLog: `: its
/// failure is history (`previous_restore_failed`), and this run's status 0 is the reading.
#[test]
fn r_pymobiledevice3_previous_restore_log_is_history() {
    let log = read(
        "pymobiledevice3_2024_verbose_success_after_previous_restore_log_checksum_1100_iphone13_2.log",
    );
    assert_eq!(log.outcome, Outcome::Success);
    assert!(log.failure.is_none());
    assert!(log.flags.previous_restore_failed);
    assert_eq!(
        log.device_progress, None,
        "the older attempt's screen is not this one's"
    );
    assert!(
        !log.evidence.iter().any(|e| e.text.contains("1100")),
        "{:?}",
        log.evidence
    );
}

/// Update or erase restore, as the tool printed it: idevicerestore's `Variant:` and
/// `This restore will …` lines, Apple's `requested restore behavior:`. A failed update's reading
/// keeps the data-safe order (Update again before Restore).
#[test]
fn r_update_or_erase_restore_is_read() {
    let kind = |f: &str| read(f).restore_kind;
    assert_eq!(
        kind("idevicerestore_2024_debug_update_success_with_identifiers_to_redact_iphone9_1.log"),
        Some(RestoreKind::Update)
    );
    let update_failed =
        read("imazing_restore_log_script_tag_in_device_name_tss_unreachable_3014_iphone12_1.log");
    assert_eq!(update_failed.restore_kind, Some(RestoreKind::Update));
    assert_eq!(update_failed.outcome, Outcome::Failure);
    assert!(
        update_failed.reading.contains("try Update again"),
        "{}",
        update_failed.reading
    );
    assert_eq!(
        kind("idevicerestore_2024_fdr53_proxy_with_device_log_iphone8_1.log"),
        Some(RestoreKind::Restore)
    );
    // A fragment that never says which is left unknown.
    assert_eq!(
        kind("forum_nested_quote_reply_itunes_windows_2019_error9_op18_fragment.log"),
        None
    );
}

// ---- Real-world patterns before the restore proper, FDR and pymobiledevice3 (2026-12): each
// fixture reproduces, in our own text, a pattern the shared real logs show.

/// The line a fixture's failure points at (its first sign), as the file has it.
fn failure_line_text(file: &str, log: &RestoreLog) -> String {
    let n = log
        .failure
        .as_ref()
        .and_then(|f| f.line)
        .unwrap_or_else(|| panic!("{file}: no failure line"));
    let text = std::fs::read_to_string(dir().join(file)).unwrap();
    text.lines().nth(n as usize - 1).unwrap_or("").to_string()
}

fn stage_of(log: &RestoreLog) -> Option<logs::Stage> {
    log.failure.as_ref().and_then(|f| f.stage)
}

/// A failure before the restore proper goes to the engine as `failed_before_restore`, never as
/// a restore stage (`reboot`'s likelihoods point at parts that fail when a device restarts
/// mid-restore).
fn heard_as_before_restore(log: &RestoreLog) {
    assert!(
        has_fact(log, "failed_before_restore", "yes"),
        "{:?}",
        facts(log)
    );
    assert!(
        !facts(log).iter().any(|(k, _)| k == "failure_stage"),
        "{:?}",
        facts(log)
    );
}

/// The device vanished while its iBEC was sent: the component line is the first sign, not the
/// callers' summaries after it.
#[test]
fn r_ibec_upload_unable_to_find_device_is_the_boot_chain() {
    for file in [
        "futurerestore_2019_recovery_ibec_upload_unable_to_find_device_iphone6_1.log",
        "idevicerestore_windows_dfu_ibec_component_unable_to_find_device_after_reconnect.log",
        "futurerestore_exception_what_ibec_upload_failed_unable_to_upload_data_wrapper_notes.log",
    ] {
        let log = read(file);
        assert_eq!(log.outcome, Outcome::Failure, "{file}");
        assert_eq!(stage_of(&log), Some(logs::Stage::BootChain), "{file}");
        assert!(log.failure.as_ref().unwrap().disconnect, "{file}");
        assert!(
            failure_line_text(file, &log).contains("Unable to send iBEC component"),
            "{file}"
        );
        heard_as_before_restore(&log);
        assert!(has_fact(&log, "usb_dropout", "yes"), "{file}");
        assert!(log.reading.contains("computer side"), "{}", log.reading);
    }
}

/// The device did not come back after its boot chain (did not disconnect, could not be reached
/// in DFU or Recovery mode, came back in a state the tool cannot use): the boot chain, read as
/// the computer and the connection before the device.
#[test]
fn r_mode_change_right_after_an_upload_is_the_boot_chain() {
    for (file, first) in [
        (
            "futurerestore_gui_exception_what_device_did_not_disconnect_board_in_file_names_ipad8_1.log",
            "Device did not disconnect",
        ),
        (
            "idevicerestore_2017_dfu_ibss_sent_unable_to_connect_in_dfu_mode_iphone10_1.log",
            "Unable to connect to device in DFU mode",
        ),
        (
            "legacy_ios_kit_dfu_ibss_ibec_dfu_files_unable_to_connect_to_recovery_device.log",
            "Unable to connect to recovery device",
        ),
        (
            "futurerestore_windows_ibec_sent_device_in_invalid_state_nonce_failed_iphone10_6.log",
            "Device is in an invalid state",
        ),
    ] {
        let log = read(file);
        assert_eq!(stage_of(&log), Some(logs::Stage::BootChain), "{file}");
        assert!(failure_line_text(file, &log).contains(first), "{file}");
        heard_as_before_restore(&log);
        assert!(
            log.reading.contains("before the device"),
            "{file}: {}",
            log.reading
        );
    }
}

/// `Device is in an invalid state` with nothing sent yet is the device's detection; the target
/// is the log's own `IPSW Product Version`, not the `5.5` of the IPSW's name.
#[test]
fn r_invalid_state_before_any_upload_is_detection_and_the_version_is_the_logs() {
    let file = "idevicerestore_2024_dfu_device_invalid_state_before_upload_version_from_log_not_ipsw_name.log";
    let log = read(file);
    assert_eq!(log.outcome, Outcome::Failure);
    assert_eq!(stage_of(&log), Some(logs::Stage::Detection));
    assert_eq!(log.target_version.as_deref(), Some("16.7.10"));
    assert_eq!(log.target_build.as_deref(), Some("20H350"));
    heard_as_before_restore(&log);
}

/// The restore ramdisk never came up on USB, or the images that start it could not be sent:
/// `ramdisk`, before the restore proper (the virtual machine whose USB filter dropped the device
/// in restore mode reads like the first).
#[test]
fn r_restore_mode_never_reached_is_the_ramdisk() {
    for (file, first, lost) in [
        (
            "futurerestore_2017_restore_mode_never_connects_errorcode_minus11.log",
            "Unable to connect to device in restore mode",
            false,
        ),
        (
            "idevicerestore_2011_waiting_for_restore_mode_unable_to_connect_shell_prompt.log",
            "Unable to connect to device in restore mode",
            false,
        ),
        (
            "idevicerestore_2018_restore_kernelcache_sent_back_in_recovery_failed_to_enter_restore_mode.log",
            "Device failed to enter restore mode",
            false,
        ),
        (
            "idevicerestore_2016_applelogo_unable_to_find_device_place_into_restore_mode.log",
            "Unable to send AppleLogo component",
            true,
        ),
        (
            "idevicerestore_2021_iboot_loaded_firmware_unable_to_find_device_board_d16.log",
            "Unable to send WCHFirmwareUpdater component",
            true,
        ),
    ] {
        let log = read(file);
        assert_eq!(log.outcome, Outcome::Failure, "{file}");
        assert_eq!(stage_of(&log), Some(logs::Stage::Ramdisk), "{file}");
        assert_eq!(log.failure.as_ref().unwrap().disconnect, lost, "{file}");
        assert!(failure_line_text(file, &log).contains(first), "{file}");
        heard_as_before_restore(&log);
    }
    // futurerestore's -11 is its own code, not an Apple one.
    let log = read("futurerestore_2017_restore_mode_never_connects_errorcode_minus11.log");
    assert_eq!(log.tool_code, Some(-11));
    assert!(!facts(&log).iter().any(|(k, _)| k == "error_code"));
    assert!(log.reading.contains("virtual machine"), "{}", log.reading);
}

/// Entering Recovery from normal mode failed before the restore: `reboot`, but the engine hears
/// that it came before the restore, not the restore's reboot stage. A USB device the computer
/// could not open is a warning on the way.
#[test]
fn r_entering_recovery_from_normal_mode_is_heard_as_before_the_restore() {
    for file in [
        "futurerestore_windows_normal_to_recovery_unable_to_connect_fail_code_minus2_iphone10_3.log",
        "idevicerestore_2013_linux_irecv_open_cant_connect_entering_recovery_ipad2_5.log",
    ] {
        let log = read(file);
        assert_eq!(stage_of(&log), Some(logs::Stage::Reboot), "{file}");
        assert!(
            failure_line_text(file, &log).contains("Unable to connect to device in recovery mode"),
            "{file}"
        );
        heard_as_before_restore(&log);
    }
    let log =
        read("idevicerestore_2013_linux_irecv_open_cant_connect_entering_recovery_ipad2_5.log");
    // `Identified device as iPad2,5` (no board before 2014).
    assert_eq!(log.device.product_type.as_deref(), Some("iPad2,5"));
    assert!(
        log.timeline
            .iter()
            .any(|e| e.stage() == Some(logs::Stage::Usb) && e.text.contains("irecv_open")),
        "{:?}",
        log.timeline
    );
}

/// The FDR exchange's own connection breaking is a failure at `fdr` unless the restore goes on;
/// the engine hears the channel (`fdr_connection_lost`), not the FDR stage's parts.
#[test]
fn r_fdr_receive_error_is_the_fdr_channel() {
    for (file, pt) in [
        (
            "fdr_receive_error_minus2_then_no_data_to_read_three_line_excerpt.log",
            None,
        ),
        (
            "idevicerestore_windows_fdr_receive_error_minus7_after_checking_filesystems_board_n71.log",
            Some("iPhone8,1"),
        ),
        (
            "idevicerestore_linux_fdr_trust_data_then_fdr_receive_error_and_read_data_256_board_j97ap.log",
            Some("iPad5,2"),
        ),
    ] {
        let log = read(file);
        assert_eq!(log.outcome, Outcome::Failure, "{file}");
        assert_eq!(stage_of(&log), Some(logs::Stage::Fdr), "{file}");
        assert!(
            failure_line_text(file, &log).contains("Unable to receive message from FDR"),
            "{file}"
        );
        assert!(has_fact(&log, "fdr_connection_lost", "yes"), "{file}");
        assert!(!has_fact(&log, "failure_stage", "fdr"), "{file}");
        assert_eq!(log.device.product_type.as_deref(), pt, "{file}");
    }
    // FDR noise in a run that goes on and succeeds is overruled.
    let log = read("futurerestore_success_tail_with_fdr_timeouts_and_no_data_to_read.log");
    assert_eq!(log.outcome, Outcome::Success);
}

/// The tool did not know what the device asked for: the tool is too old, not the part.
#[test]
fn r_unknown_request_or_updater_is_the_tool_too_old() {
    let log = read("idevicerestore_2014_unknown_data_request_fdrtrustdata_old_labels.log");
    assert_eq!(stage_of(&log), Some(logs::Stage::Fdr));
    assert!(has_fact(&log, "host_tool_lacked_data", "yes"));
    assert!(log.reading.contains("too old"), "{}", log.reading);
    let file = "idevicerestore_unknown_firmware_updater_name_glued_bracket_timestamps.log";
    let log = read(file);
    assert_eq!(stage_of(&log), Some(logs::Stage::Firmware));
    assert!(failure_line_text(file, &log).contains("unknown updater name 'Rose'"));
    assert!(has_fact(&log, "host_tool_lacked_data", "yes"));
    // The U1 chip was never flashed: no failed part goes to the engine.
    assert_eq!(log.failed_component(), None);
    assert!(
        log.reading.contains("part is not at fault"),
        "{}",
        log.reading
    );
}

/// `ASR: Could not repartition target device`: a downgrade over a newer storage layout, not a
/// broken image stream.
#[test]
fn r_asr_could_not_repartition_is_a_downgrade() {
    let log = read(
        "futurerestore_device_log_asr_could_not_repartition_apfs_downgrade_errorcode_minus11.log",
    );
    assert_eq!(stage_of(&log), Some(logs::Stage::Partition));
    assert!(
        has_fact(&log, "downgrade_attempt", "yes"),
        "{:?}",
        facts(&log)
    );
    assert!(log.reading.contains("downgrade"), "{}", log.reading);
    assert!(
        !log.reading.contains("image stream broke"),
        "{}",
        log.reading
    );
}

/// The firmware file lacks the baseband file asked for: the file, not the modem.
#[test]
fn r_missing_file_in_the_ipsw_is_the_firmware_file() {
    let file = "futurerestore_2019_latest_baseband_missing_from_older_ipsw_zip_name_locate.log";
    let log = read(file);
    assert_eq!(stage_of(&log), Some(logs::Stage::Other));
    assert!(failure_line_text(file, &log).contains("zip_name_locate"));
    assert!(has_fact(&log, "ipsw_corrupt_in_log", "yes"));
    assert!(!has_fact(&log, "failure_stage", "baseband"));
}

/// A download futurerestore needed timed out (curl 28): the network; device, version and build
/// from the blob's and the IPSW's names (`iPhone_5.5_P3_16.7_20H19`: not 5.5).
#[test]
fn r_curl_timeout_is_the_network_and_names_give_the_target() {
    let log =
        read("futurerestore_2023_latest_sep_firmwares_json_download_curl_timeout_iphone10_5.log");
    assert_eq!(stage_of(&log), Some(logs::Stage::Tss));
    assert!(log.flags.download_failed);
    assert_eq!(log.device.product_type.as_deref(), Some("iPhone10,5"));
    assert_eq!(log.target_version.as_deref(), Some("16.7"));
    assert_eq!(log.target_build.as_deref(), Some("20H19"));
    assert!(log.reading.contains("network"), "{}", log.reading);
}

/// pymobiledevice3 4.x: an `ERROR` line of the tool is a failure; after the root ticket was
/// sent the signing server had answered, so the engine does not hear the tss stage.
#[test]
fn r_pymobiledevice3_error_after_root_ticket() {
    let file = "pymobiledevice3_2024_rootticket_sent_error_unknown_error_traceback.log";
    let log = read(file);
    assert_eq!(log.outcome, Outcome::Failure);
    assert_eq!(stage_of(&log), Some(logs::Stage::Tss));
    assert!(failure_line_text(file, &log).contains("ERROR unknown error"));
    assert!(!has_fact(&log, "failure_stage", "tss"), "{:?}", facts(&log));
    assert!(
        !log.reading.contains("check the network"),
        "{}",
        log.reading
    );
    // A thread's traceback in an older run is not the restore failing.
    let log = read(
        "pymobiledevice3_2021_fdr_thread_exception_during_filesystem_validation_no_verdict.log",
    );
    assert_eq!(log.outcome, Outcome::Incomplete);
}

/// The device stopped answering right after the system image's own data was sent: the step the
/// send names.
#[test]
fn r_read_error_after_system_image_metadata_is_the_image_transfer() {
    let log = read(
        "idevicerestore_2022_read_data_256_after_system_image_canonical_metadata_iphone14_6.log",
    );
    assert_eq!(stage_of(&log), Some(logs::Stage::ImageTransfer));
    assert!(log.failure.as_ref().unwrap().disconnect);
}
