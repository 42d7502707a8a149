//! One short snippet per row of the pattern tables of log_formats.md (§1.5 idevicerestore,
//! §2.4 futurerestore, §3.4 restored, §4.5 Apple's library and wrappers, §5 unified log):
//! what the analyser reads from it.

use logs::{Outcome, Stage, Tool, analyze_bytes};

fn read(text: &str) -> logs::RestoreLog {
    analyze_bytes(text.as_bytes())
}

fn stage(text: &str) -> Option<Stage> {
    read(text).failure.and_then(|f| f.stage)
}

#[test]
fn idevicerestore_patterns() {
    let cases: &[(&str, Stage)] = &[
        // The guide's `usb` and `reboot` rows before the restore proper read as the stages
        // added for those steps: `detection`, `boot_chain`, `ramdisk`.
        (
            "Unable to discover device mode. Please make sure a device is attached.\n",
            Stage::Detection,
        ),
        (
            "ERROR: TSS request failed (status=69, message=This device isn't eligible)\nERROR: Unable to send TSS request\n",
            Stage::Tss,
        ),
        (
            "Sending TSS request attempt 1... \nERROR: TSS request failed: Could not resolve host (status=-1)\nERROR: Unable to get SHSH blobs for this device\n",
            Stage::Tss,
        ),
        ("Checksum does not match.\n", Stage::Other),
        (
            "Sending iBSS (412318 bytes)...\nDevice did not reconnect in DFU or recovery mode. Possibly invalid iBSS. Reset device and try again.\n",
            Stage::BootChain,
        ),
        (
            "Device failed to enter restore mode.\nMake sure that usbmuxd is running.\n",
            Stage::Ramdisk,
        ),
        (
            "Connected to com.apple.mobile.restored, version 15\nWaiting for NAND (28)\nWaiting for NAND (28)\nERROR: Could not read data (-3). Aborting.\nERROR: Unable to restore device\n",
            Stage::Nand,
        ),
        (
            "Restoring image (13)\nERROR: Could not read data (-256). Aborting.\n",
            Stage::ImageTransfer,
        ),
        (
            "Got status message\nStatus: Failed to mount filesystems.\nERROR: Unable to restore device\n",
            Stage::Filesystem,
        ),
        (
            "Creating partition map (11)\nUnhandled status message (46)\n",
            Stage::Nand,
        ),
        ("Status: Failed to load SEP Firmware.\n", Stage::Sep),
        ("Status: Failed to recover FDR data.\n", Stage::Fdr),
        (
            "Updating baseband (19)\nERROR: device didn't accept BasebandData\nERROR: Unable to restore device\n",
            Stage::Baseband,
        ),
        (
            "Updating baseband (19)\nStatus: Verification Error\n",
            Stage::Baseband,
        ),
        (
            "Done sending FirmwareUpdater data\nStatus: Verification Error\n",
            Stage::Firmware,
        ),
        (
            "ASR was unable to validate the filesystem\n",
            Stage::ImageTransfer,
        ),
    ];
    for (text, want) in cases {
        let log = read(text);
        assert_eq!(log.outcome, Outcome::Failure, "{text:?}");
        assert_eq!(
            log.failure.as_ref().and_then(|f| f.stage),
            Some(*want),
            "{text:?}: {}",
            log.reading
        );
    }
    let ok = read("Status: Restore Finished\nDONE\n");
    assert_eq!(ok.outcome, Outcome::Success);
    assert!(ok.failure.is_none());
}

#[test]
fn protocol_13_shifts_operation_ids_above_35() {
    // idevicerestore prints the raw id with the corrected label; Apple's library prints raw ids.
    let log = read(
        "Connected to com.apple.mobile.restored, version 13\nUpdating NAND Firmware (57)\nERROR: Could not read data (-256). Aborting.\n",
    );
    let op = log.failure.unwrap().operation.unwrap();
    assert_eq!((op.id, op.raw_id), (58, Some(57)));
    let log = read(
        "client protocol version 12\n<Restore Device 0x1>: operation 57 progress -1\nRestore completed, status: 4013\n",
    );
    assert_eq!(log.failure.unwrap().operation.unwrap().id, 58);
}

#[test]
fn futurerestore_patterns() {
    assert_eq!(
        stage("[exception]:\nwhat=can't init, no device found\n\ncode=1\n"),
        Some(Stage::Detection)
    );
    assert_eq!(
        stage("Checking if SEP is being signed...\nSEP firmware is NOT being signed!\n"),
        Some(Stage::Tss)
    );
    assert_eq!(
        stage("Device ApNonce does not match APTicket nonce\n"),
        Some(Stage::Tss)
    );
    let log = read(
        "Updating baseband (19)\nCheckpoint 4867 complete with code 18446744073709551615\nDone: restoring failed!\n",
    );
    assert_eq!(log.tool, Tool::Futurerestore);
    assert_eq!(
        log.failure.as_ref().and_then(|f| f.stage),
        Some(Stage::Baseband)
    );
    assert_eq!(
        log.failure.as_ref().and_then(|f| f.checkpoint_result),
        Some(-1)
    );
    assert_eq!(
        read("Done: restoring succeeded!\n").outcome,
        Outcome::Success
    );
}

#[test]
fn restored_patterns() {
    let dev = |body: &str| format!("[09:17:40.0288-GMT]{{3>7}} {body}\n");
    assert_eq!(
        stage(&dev(
            "CHECKPOINT FAILURE:(FAILURE:14) (null):[0x0624] restore_images [0]D(failed to restore image)"
        )),
        Some(Stage::ImageTransfer)
    );
    assert_eq!(
        stage(&format!(
            "ASR: Checksum failed.\n{}",
            dev("CHECKPOINT FAILURE:(FAILURE:1100) (null):[0x065B] asr_and_invert_image [0]D(x)")
        )),
        Some(Stage::Verify)
    );
    let full = read(&format!(
        "ASR: Could not restore - No space left on device\n{}",
        dev("CHECKPOINT FAILURE:(FAILURE:14) RESTORED:[0x065B] asr_and_invert_image")
    ));
    assert!(full.flags.low_storage);
    assert_eq!(
        full.failure.and_then(|f| f.stage),
        Some(Stage::ImageTransfer)
    );
    assert_eq!(
        stage(&dev(
            "CHECKPOINT FAILURE:(FAILURE:-1) FIRMWARE:[0x1303] update_baseband [0]D(x)"
        )),
        Some(Stage::Baseband)
    );
    assert_eq!(
        stage(&dev(
            "CHECKPOINT FAILURE:(FAILURE:-1) RESTORED:[0x0668] update_firmware_post_sealing"
        )),
        Some(Stage::Firmware)
    );
    assert_eq!(
        stage(&dev(
            "CHECKPOINT FAILURE:(FAILURE:53) RESTORED:[0x0634] fdr_recover"
        )),
        Some(Stage::Fdr)
    );
    assert_eq!(
        stage(&dev(
            "CHECKPOINT FAILURE:(FAILURE:-1) RESTORED:[0x0609] load_sep_os"
        )),
        Some(Stage::Sep)
    );
    // The first FAILURE is the root cause; the parent repeats it.
    let log = read(
        &(dev("CHECKPOINT FAILURE:(FAILURE:53) RESTORED:[0x0634] fdr_recover")
            + &dev("CHECKPOINT FAILURE:(FAILURE:53) RESTORED:[0x067B] perform_restore_installing")),
    );
    assert_eq!(log.failure.unwrap().checkpoint.unwrap().num, 0x634);
    // No FAILURE and no verdict: the last BEGIN without END, incomplete.
    let log = read(
        &(dev("CHECKPOINT BEGIN: RESTORED:[0x060D] wait_for_storage")
            + "Searching for NAND service\nSearching for NAND service\n"),
    );
    assert_eq!(log.outcome, Outcome::Incomplete);
    assert_eq!(log.tool, Tool::Restored);
    assert_eq!(log.failure.and_then(|f| f.stage), Some(Stage::Nand));
}

#[test]
fn apple_library_and_wrapper_patterns() {
    let log = read(
        "<Recovery Mode Device 0x1>: operation 4 progress -1\nUSBControlTransfer: error 31, usbd status c0000004\nRestore completed, status: 2009\n",
    );
    assert_eq!(log.tool, Tool::Itunes);
    assert_eq!(log.failure.as_ref().and_then(|f| f.stage), Some(Stage::Usb));
    assert_eq!(log.failure.as_ref().and_then(|f| f.error_code), Some(2009));
    let log = read(
        "[17:21:31.0944] <Restore Device 0x2>: operation 19 progress -1\n[17:22:52.0017] Device removed when in state Restoring, moving device to transition state\n[17:32:52.0101] Changing state from 'Transitioning' to 'Disappeared'\n[17:32:52.0105] Restore completed, status: 4013\n",
    );
    assert_eq!(
        log.failure.as_ref().and_then(|f| f.stage),
        Some(Stage::Baseband)
    );
    assert!(log.failure.as_ref().unwrap().disconnect);
    // A removal that comes back is normal.
    let log = read(
        "Device removed when in state Restoring, moving device to transition state\nTransitioning device returned, continuing restore.\n<Restore Device 0x2>: Restore succeeded\n",
    );
    assert_eq!(log.outcome, Outcome::Success);
    assert!(!log.flags.usb_dropout);
    let log = read(
        "amai: tss_submit_job_with_retry: TSS Connection attempt 3 of 3.  (Will retry if TSS_ERR_SERVER_NOT_REACHABLE.)\nRestore completed, status: 3014\n",
    );
    assert_eq!(log.failure.and_then(|f| f.stage), Some(Stage::Tss));
    let log = read(
        "11:05:12.455: <Restore Device 0x7fa1c2b04e10>: Restore succeeded\n11:05:12.506: Finished RestoreOS Restore Phase: Successful\n11:05:12.506:  The flash is done\n",
    );
    assert_eq!(log.tool, Tool::ThreeUTools);
    assert_eq!(log.outcome, Outcome::Success);
}

#[test]
fn unified_log_patterns() {
    let head = r#"{"timestamp":"2025-03-04 10:15:02.118422+0100","processImagePath":"/S/AMPDevicesAgent","eventMessage":""#;
    let text = format!(
        "{head}<Restore Device 0x6>: operation 58 progress -1\"}}\n{head}Restore completed, status: 4013\"}}\n{{\"count\":2,\"finished\":1}}\n"
    );
    let log = read(&text);
    assert_eq!(log.tool, Tool::Finder);
    assert!(log.flags.export_finished);
    assert_eq!(log.failure.as_ref().and_then(|f| f.error_code), Some(4013));
    assert_eq!(
        log.timeline[0].time.as_deref(),
        Some("2025-03-04 10:15:02.118422+0100")
    );
    // Cut short: no trailer.
    let cut = read(&format!(
        "{head}<Restore Device 0x6>: operation 58 progress -1\"}}\n"
    ));
    assert!(!cut.flags.export_finished);
    assert_eq!(cut.outcome, Outcome::Incomplete);
}

#[test]
fn wrappers_do_not_hide_the_inner_failure() {
    // A wrapper's own success line after the inner tool failed (Legacy-iOS-Kit #741 style).
    let log =
        read("11:00:00.000: Restore completed, status: 4013\n11:00:01.000:  The flash is done\n");
    assert_eq!(log.outcome, Outcome::Failure);
}

#[test]
fn pymobiledevice3_checkpoint_dict_with_its_prefix() {
    let log = read(
        "2024-05-01 10:00:00 mymac pymobiledevice3.restore.restore[1234] INFO checkpoint: {'CHECKPOINT_COMPLETE': True, 'CHECKPOINT_RESULT': 53, 'CHECKPOINT_NAME': 'fdr_recover', 'CHECKPOINT_ID': 1588, 'MsgType': 'CheckpointMsg'}\n",
    );
    assert_eq!(log.tool, Tool::Futurerestore);
    let f = log.failure.expect("a failing checkpoint");
    assert_eq!(f.stage, Some(Stage::Fdr));
    assert_eq!(f.checkpoint.map(|c| c.num), Some(0x634));
    assert_eq!(f.error_code, Some(53));
}

#[test]
fn asr_that_stops_answering_takes_the_stage_of_the_running_step() {
    let during = |op: &str| {
        stage(&format!(
            "Connected to com.apple.mobile.restored, version 15\n{op}\nERROR: Unable to receive data from ASR\nERROR: Unable to restore device\n"
        ))
    };
    assert_eq!(during("Verifying restore (14)"), Some(Stage::Verify));
    assert_eq!(during("Restoring image (13)"), Some(Stage::ImageTransfer));
    // Sending the image is the transfer whatever ran last.
    assert_eq!(
        stage(
            "Verifying restore (14)\nERROR: Unable to send payload to ASR\nERROR: Unable to restore device\n"
        ),
        Some(Stage::ImageTransfer)
    );
}

#[test]
fn paste_line_numbers_do_not_hide_the_log() {
    // pastebin "N. " and cat -n (six columns + tab) over the same idevicerestore lines
    for numbered in [
        "1. Connected to com.apple.mobile.restored, version 15\n2. Updating NAND Firmware (58)\n3. ERROR: Could not read data (-256). Aborting.\n4. ERROR: Unable to restore device\n",
        "     1\tConnected to com.apple.mobile.restored, version 15\n     2\tUpdating NAND Firmware (58)\n     3\tERROR: Could not read data (-256). Aborting.\n     4\tERROR: Unable to restore device\n",
    ] {
        let log = read(numbered);
        assert_eq!(log.tool, Tool::Idevicerestore, "{numbered}");
        assert_eq!(log.outcome, Outcome::Failure);
        let f = log.failure.expect("a failure");
        assert_eq!(f.stage, Some(Stage::Nand));
        assert_eq!(f.operation.map(|o| o.id), Some(58));
    }
}

#[test]
fn library_operations_whose_object_a_renderer_ate() {
    let log = read(
        "[14:31:02.0118] Transitioning device returned, continuing restore.\n[14:31:08.0148] Started checkpoint id: 0x60E (update_NAND_firmware)\n[14:31:08.0822] : operation 58 progress -1\n[14:31:51.0305] Device removed when in state Restoring, moving device to transition state\n[14:41:51.0330] Timer fired to timeout transitioning device\n[14:41:51.0350] Restore completed, status: 4013\n",
    );
    assert_eq!(log.tool, Tool::Itunes);
    let f = log.failure.expect("a failure");
    assert_eq!(f.operation.map(|o| o.id), Some(58));
    assert_eq!(f.stage, Some(Stage::Nand));
    // Prose that merely contains the words is not an operation line.
    let prose = read("[14:31:08.0822] it said: operation 58 progress -1 forever\n");
    assert!(prose.last_operation.is_none());
}

/// A device the tool found did not fail at its detection: only `Device is in an invalid state`
/// before anything was sent, or no device at all, is `detection`.
#[test]
fn a_device_that_was_found_did_not_fail_at_its_detection() {
    assert_ne!(
        stage("Found device in Recovery mode\nERROR: Unable to restore device\n"),
        Some(Stage::Detection)
    );
    assert_eq!(
        stage("Found device in DFU mode\nERROR: Device is in an invalid state\n"),
        Some(Stage::Detection)
    );
    assert_eq!(
        stage(
            "Found device in DFU mode\nSending iBSS (412318 bytes)...\nERROR: Device is in an invalid state\n"
        ),
        Some(Stage::BootChain)
    );
}
