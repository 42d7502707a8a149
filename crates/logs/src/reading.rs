//! The plain-words reading of a log.

use crate::model::{FailurePoint, Outcome, RestoreKind, RestoreLog};
use crate::reference;
use kb::Stage;

/// What a person would call the step, by stage.
fn doing(stage: Stage) -> &'static str {
    match stage {
        Stage::Partition => "partitioning its storage",
        Stage::Filesystem => "setting up its filesystems",
        Stage::ImageTransfer => "receiving and writing the system image",
        Stage::Verify => "verifying the written system image",
        Stage::Nand => "preparing or updating its storage chip (NAND)",
        Stage::Baseband => "updating its baseband (the modem)",
        Stage::Firmware => "updating the firmware of its parts",
        Stage::Sep => "loading the Secure Enclave firmware",
        Stage::Fdr => "recovering its factory data (FDR)",
        Stage::Reboot => "switching modes (DFU, Recovery, Restore)",
        Stage::Tss => "getting the restore signed by Apple",
        Stage::Usb => "talking to the computer over USB",
        Stage::Other => "in a step outside the main restore stages",
        Stage::Detection => "being looked for by the computer (its mode not yet known)",
        Stage::BootChain => "loading its boot chain (iBSS, iBEC) in DFU or Recovery mode",
        Stage::Ramdisk => "starting the restore ramdisk and connecting in restore mode",
    }
}

fn where_words(f: &FailurePoint) -> String {
    let mut parts = Vec::new();
    if let Some(op) = &f.operation {
        parts.push(format!("operation {} \"{}\"", op.id, op.label));
    }
    if let Some(cp) = &f.checkpoint {
        match &cp.name {
            Some(n) => parts.push(format!("checkpoint {} {}", cp.id, n)),
            None => parts.push(format!("checkpoint {}", cp.id)),
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// The part named by [`RestoreLog::failed_component`], in words, and what to suspect after
/// the software: the camera and the sensor sit on flex cables, the U1 and the secure element
/// on the logic board.
fn component_words(component: &str) -> (&'static str, &'static str) {
    match component {
        "face_id_camera" => (
            "the Face ID camera (Savage)",
            "the Face ID module or its flex cable",
        ),
        "touch_id_sensor" => (
            "the Touch ID sensor (Yonkers)",
            "the sensor or its flex cable",
        ),
        "u1_chip" => (
            "the U1 ultra-wideband chip (Rose)",
            "that chip on the logic board",
        ),
        "secure_element" => (
            "the secure element (NFC and Apple Pay)",
            "that chip on the logic board",
        ),
        _ => ("a part", "that part"),
    }
}

/// What the stage usually means, for a failure there.
fn meaning(log: &RestoreLog, f: &FailurePoint, stage: Stage) -> String {
    let device = log
        .device
        .name
        .clone()
        .or_else(|| log.device.product_type.clone());
    let fault = log
        .device
        .product_type
        .as_deref()
        .and_then(|pt| reference::known_fault_hint(pt, stage));
    let mut s = match stage {
        Stage::Nand if log.flags.low_storage => String::new(),
        Stage::Nand => {
            if f.disconnect {
                "This is the most common place for error 4013: try another cable and port first; if it keeps stopping here, the storage chip (NAND) is the likely cause.".to_string()
            } else {
                "A restore that stops here means the storage controller is not answering: this points to the storage chip (NAND).".to_string()
            }
        }
        Stage::Baseband => "This points to the modem (baseband) hardware.".to_string(),
        Stage::ImageTransfer if log.flags.low_storage => {
            "The device's storage is full (\"No space left on device\"): free up space, or do an erase restore; the storage is not broken.".to_string()
        }
        Stage::ImageTransfer => "The image stream broke off: check the cable, port and computer first, then the storage.".to_string(),
        Stage::Verify if f.disconnect => "A device that vanishes during the check points to the connection first: try another cable and port; if it keeps stopping here, the storage chip (NAND) is the likely cause.".to_string(),
        Stage::Verify => "The written image did not match its checksum: storage, cable or a damaged firmware file.".to_string(),
        Stage::Tss if log.flags.tss_refused => {
            let v = log.target_version.as_deref().unwrap_or("this version");
            format!("Apple no longer signs {v} for this device (shown by iTunes/Finder as error 3194): choose a signed version; the device itself is not at fault.")
        }
        Stage::Tss if log.flags.download_failed => "A download the restore tool needed failed (no answer from the server in time): check the network, VPN and proxy, and run the tool again; the device was not touched.".to_string(),
        Stage::Tss if ticket_sent(log) && !log.flags.tss_refused => "The restore stopped right after the computer sent the device its signed ticket (personalization): the ticket was fetched, so Apple's signing server answered; the device refused the ticket or stopped answering there. Try another cable and port (no hub) and another computer; if it stops here every time, suspect the device.".to_string(),
        Stage::Tss if f.disconnect => "The device stopped answering right after the computer sent it its signed ticket (personalization): not a refusal by Apple's signing server. Try another cable and port (no hub) and another computer; if it stops here every time, suspect the device.".to_string(),
        Stage::Tss if log.flags.blob_mismatch => "The saved SHSH blob (APTicket) does not fit this device or its current nonce: set the device's nonce generator to the one the blob was saved with before restoring, or use a blob saved for this device; the device, the computer and the network are not at fault.".to_string(),
        Stage::Tss => "Apple's signing server could not be reached or refused the request: check the network, VPN, proxy and hosts file.".to_string(),
        Stage::Fdr if host_tool_lacked_data(log) => "The device asked for a kind of factory data (FDR) the restore tool does not know: the tool is too old for this device or iOS version; update it (or use Finder, iTunes or Apple Devices). The device is not at fault.".to_string(),
        Stage::Fdr if fdr_link_lost(f) => "The connection the device opens back to the computer for its factory data (FDR) broke off. That points at the computer side first: the restore tool's build (unofficial Windows builds especially) and the computer's USB stack (usbmuxd), then the cable and port; try an up-to-date restore tool on another computer before suspecting the device.".to_string(),
        Stage::Fdr => {
            if f.first_failure.as_deref().is_some_and(|t| t.contains("proxy")) || log.timeline.iter().any(|e| e.text.contains("proxy is enabled")) {
                "The computer's network proxy blocked the factory-data download: turn the proxy or VPN off and try again.".to_string()
            } else if let Some(refusal) = fdr_refusal(log) {
                format!("Apple's factory-data server refused this device's data ({refusal}): most often replaced or mismatched parts (a screen, camera, sensor or board from another device), not the computer or its network; the parts need to be the device's own or paired by an authorised repair. A server-side refusal is possible too, so one retry later is reasonable.")
            } else {
                "The factory data could not be recovered: a network or Apple-server problem, or replaced parts that do not match.".to_string()
            }
        }
        Stage::Sep => "The Secure Enclave firmware did not load: a firmware mismatch or a board-level fault.".to_string(),
        Stage::Firmware if log.flags.host_tool_lacked => "The device asked for a firmware updater the restore tool does not know: the tool is too old for this device or iOS version; update it (or use Finder, iTunes or Apple Devices). The part is not at fault.".to_string(),
        Stage::Firmware if host_tool_lacked_data(log) => "The device asked the restore tool for its boot loader and got nothing (\"request for LLB data returned NULL\"): the restore software is too old for this iOS version or the firmware file does not match; update the restore software (idevicerestore, iTunes or Apple Devices) and use the firmware file for this exact model. The device is not at fault.".to_string(),
        Stage::Firmware if f.disconnect => "The device dropped off USB while a part's firmware was being written: the connection first (another cable, port and computer); if it stops here every time, the board (the part being flashed or its power).".to_string(),
        Stage::Firmware => match log.failed_component().map(component_words) {
            Some((part, suspect)) => format!("The firmware update of {part} failed: make sure the restore software is up to date (it must know this iOS version), then suspect {suspect}."),
            None => "A part's firmware update failed: make sure the restore software is up to date, then suspect that part.".to_string(),
        },
        Stage::Reboot if f.operation.is_none() && f.checkpoint.is_none() => "The device did not come back in Recovery mode after the computer asked it to switch, before the restore began: the computer side first (its USB driver and restore tool, device permissions on Linux, a virtual machine's USB passthrough), then the cable and port (no hub); the device comes last.".to_string(),
        Stage::Reboot => "The device did not come back in the next mode: cable and port first, then the firmware file, then the board.".to_string(),
        Stage::Detection => "The computer did not find the device in a mode it could use: check that it is connected and in Recovery or DFU mode, then the cable and port (no hub), and that the restore tool and its USB driver are current (old tools miss newer devices' DFU mode). A device that no computer detects at all points to its port or board.".to_string(),
        Stage::BootChain if f.disconnect => "The device dropped off USB while its boot files (iBSS, iBEC) were being sent, before the restore began: the computer side and the connection first: another port (no hub) and cable, an up-to-date restore tool and USB driver (Windows builds, virtual machines and old tools on Apple Silicon Macs lose the device when it re-enumerates), another computer; the device comes last.".to_string(),
        Stage::BootChain => "The device did not come back in the next mode after its boot files (iBSS, iBEC) were sent. Right after an upload that points at the computer and the connection before the device: an up-to-date restore tool and USB driver (old tools miss newer devices' boot changes; Windows builds, virtual machines and old tools on Apple Silicon Macs lose the device when it re-enumerates), another port (no hub) and cable, another computer; then a fresh firmware file; the board last.".to_string(),
        Stage::Ramdisk if f.disconnect => "The device dropped off USB while the images that start the restore were being sent (in Recovery mode, before the restore began): another port (no hub) and cable, an up-to-date restore tool and USB driver, another computer; the device comes last.".to_string(),
        Stage::Ramdisk => "The device did not come up in restore mode (the restore ramdisk did not start, or the computer could not connect to it). If the computer never saw it again, the computer side first: its USB stack (usbmuxd on Linux, the driver on Windows), a virtual machine's USB filter (the device changes its USB identity in restore mode, so the filter must match any Apple device), then the cable and port. If it came back in Recovery or DFU mode, the ramdisk was refused: the firmware file, the signing set-up of a downgrade, or the device.".to_string(),
        Stage::Usb => "The USB connection failed: another cable, another port (no hub) or another computer.".to_string(),
        Stage::Partition if log.flags.repartition_failed => "ASR could not repartition the storage. That happens when an older iOS is installed over the storage layout of a newer one (a downgrade, for example from an APFS version to an HFS+ one, by a restore that keeps the data): not a broken image stream. Do an erase restore of a version that can still be installed; only if that fails too, suspect the storage.".to_string(),
        Stage::Partition | Stage::Filesystem => "The storage could not be prepared: storage chip (NAND) or a damaged installed system.".to_string(),
        Stage::Other if log.flags.ipsw_lacks_file => "The firmware file (IPSW) lacks a file the restore needs: a wrong or modified firmware file, or an option that asks for a component of another version (futurerestore's --latest-baseband or --latest-sep with an older IPSW). Use the right file for this device and version; the device is not at fault.".to_string(),
        Stage::Other if log.flags.ipsw_corrupt => "The download or copy of the firmware file is damaged: delete it and download it again (or let the restore tool fetch it); the device is not at fault.".to_string(),
        Stage::Other if late_boot_configuration_failed(log) => "A late step failed after the system was written (installing the boot picture, \"failed to install splat\", or the settings memory reporting \"no space for data\"): weak evidence that points to the device's system software or full storage rather than a broken part; try the restore again.".to_string(),
        Stage::Other => String::new(),
    };
    if let (Some(fault), Some(device)) = (fault, device) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&format!(
            "On an {device} this matches a known fault: {fault}."
        ));
    }
    s
}

/// The device asked for something the host tool could not give: the boot loader (`update_iBoot:
/// request for LLB data returned NULL`, log_formats.md §6), a request or a firmware updater the
/// tool does not know (`Unknown data request`, `Got unknown updater name`): an outdated host
/// tool.
pub(crate) fn host_tool_lacked_data(log: &RestoreLog) -> bool {
    log.flags.host_tool_lacked || says_any(log, &["LLB data returned NULL"])
}

/// The last step before the failure was sending the device its root ticket (`Sending RootTicket
/// now...`): the signing server had answered.
pub(crate) fn ticket_sent(log: &RestoreLog) -> bool {
    log.evidence
        .iter()
        .any(|e| e.why == "last step before the failure" && e.text.contains("RootTicket"))
}

/// The FDR exchange's own connection broke (`Unable to receive message from FDR`): the first
/// sign of the failure.
pub(crate) fn fdr_link_lost(f: &FailurePoint) -> bool {
    f.first_failure
        .as_deref()
        .is_some_and(|t| t.contains("receive message from FDR"))
}

/// The late boot-configuration failure of log_formats.md §3.2/§6: `failed to install splat`,
/// often with NVRAM's `no space for data` (cleanup_send_final_status, 0x0648).
pub(crate) fn late_boot_configuration_failed(log: &RestoreLog) -> bool {
    says_any(log, &["failed to install splat", "no space for data"])
}

/// Whether the failure's first sign, its message or a timeline entry holds one of `needles`.
fn says_any(log: &RestoreLog, needles: &[&str]) -> bool {
    let says = |t: &str| needles.iter().any(|n| t.contains(n));
    log.failure.as_ref().is_some_and(|f| {
        f.first_failure.as_deref().is_some_and(says) || f.message.as_deref().is_some_and(says)
    }) || log.timeline.iter().any(|e| says(&e.text))
}

/// Apple's FDR server answering HTTP 403 (log_formats.md §3.4): the server's words, from the
/// `x-fdr-message` when the log has one.
fn fdr_refusal(log: &RestoreLog) -> Option<String> {
    let texts = || {
        log.timeline
            .iter()
            .map(|e| e.text.as_str())
            .chain(log.evidence.iter().map(|e| e.text.as_str()))
    };
    let refused = texts().any(|t| {
        (t.contains("FDR") || t.contains("fdr"))
            && (t.contains("status 403") || t.contains("code=403"))
    });
    if !refused {
        return None;
    }
    let message = texts().find_map(|t| {
        let rest = &t[t.find("x-fdr-message:")? + "x-fdr-message:".len()..];
        let m = rest.trim().trim_matches(|c| c == '\'' || c == '"').trim();
        (!m.is_empty()).then(|| crate::text::cut(m, 120).to_string())
    });
    Some(match message {
        Some(m) => format!("HTTP 403, \"{m}\""),
        None => "HTTP 403".to_string(),
    })
}

/// Build the reading of a finished log.
pub(crate) fn reading(log: &RestoreLog) -> String {
    let mut s = last_attempt(log);
    if log.outcome != Outcome::Success && log.restore_kind == Some(RestoreKind::Update) {
        // The data-safe order: an update keeps the data, a restore erases it.
        s.push_str(
            " This run was an update, which keeps the data: try Update again (from Recovery \
             Mode if the device no longer starts) before choosing Restore, which erases it.",
        );
    }
    if log.flags.panic_log {
        // log_formats.md §1.6: a panic log is strong hardware evidence.
        s.push_str(
            " The device also handed over a panic log: it crashed (a kernel panic) before or \
             during this restore. If that repeats, suspect hardware rather than software.",
        );
    }
    if let Some(e) = earlier_words(log) {
        s.push(' ');
        s.push_str(&e);
    }
    s
}

/// A sentence on the earlier runs of the same paste, if any.
fn earlier_words(log: &RestoreLog) -> Option<String> {
    let last = log.earlier_attempts.last()?;
    let n = log.earlier_attempts.len();
    let runs = if n == 1 {
        "an earlier run".to_string()
    } else {
        format!("{n} earlier runs")
    };
    let how = match (last.outcome, last.stage) {
        (Outcome::Success, _) => "succeeded".to_string(),
        (Outcome::Incomplete, _) => "ended without a verdict".to_string(),
        (Outcome::Failure, Some(stage)) => format!("failed while {}", doing(stage)),
        (Outcome::Failure, None) => "failed".to_string(),
    };
    let at = last
        .ended
        .as_ref()
        .map(|e| format!(" (line {})", e.line))
        .unwrap_or_default();
    let same = match log.same_failure_point_across_attempts() {
        Some(true) => " Every run stopped at the same point.",
        Some(false) => " The runs stopped at different points.",
        None => "",
    };
    let which = if n == 1 { "It" } else { "The latest of them" };
    Some(format!(
        "This paste also holds {runs}; this reading is of the last one. {which} {how}{at}.{same}"
    ))
}

fn last_attempt(log: &RestoreLog) -> String {
    match log.outcome {
        Outcome::Success => {
            let last = log
                .last_operation
                .as_ref()
                .map(|op| format!(" (last step: operation {} \"{}\")", op.id, op.label))
                .unwrap_or_default();
            format!("The restore finished successfully{last}.")
        }
        Outcome::Failure | Outcome::Incomplete => {
            let Some(f) = &log.failure else {
                return if log.outcome == Outcome::Failure {
                    "The restore failed, but the log does not show where.".to_string()
                } else {
                    "The log shows no restore steps and no verdict.".to_string()
                };
            };
            let stage = f.stage.unwrap_or(Stage::Other);
            let what = if log.outcome == Outcome::Incomplete {
                "The log ends without a verdict while the device was".to_string()
            } else if f.disconnect {
                "The device stopped answering the computer while".to_string()
            } else if log.flags.tss_refused && stage == Stage::Tss {
                "Apple's signing server refused the restore while".to_string()
            } else if let Some(res) = f.checkpoint_result {
                format!("The device reported a failure (code {res}) while")
            } else {
                "The restore failed while".to_string()
            };
            let mut s = if log.flags.tss_refused
                && stage == Stage::Tss
                && log.outcome == Outcome::Failure
            {
                "Apple's signing server refused to sign this restore.".to_string()
            } else if log.flags.ipsw_corrupt
                && stage == Stage::Other
                && log.outcome == Outcome::Failure
            {
                "The firmware file (IPSW) failed its checksum.".to_string()
            } else if log.flags.ipsw_lacks_file
                && stage == Stage::Other
                && log.outcome == Outcome::Failure
            {
                "The firmware file (IPSW) lacks a file the restore asked for.".to_string()
            } else {
                let doing = if stage == Stage::Tss && ticket_sent(log) {
                    "receiving its signed ticket (personalization)"
                } else {
                    doing(stage)
                };
                format!("{what} {doing}{}.", where_words(f))
            };
            if let Some(code) = f.error_code {
                s.push_str(&format!(" Error code: {code}."));
            }
            let m = meaning(log, f, stage);
            if !m.is_empty() {
                s.push(' ');
                if log.outcome == Outcome::Incomplete {
                    // A paste can simply end early: say what it would mean, not that it happened.
                    s.push_str("If the restore really stopped there: ");
                    s.push_str(&lowercase_first_word(&m));
                } else {
                    s.push_str(&m);
                }
            }
            s
        }
    }
}

/// `m` with its first letter in lower case, to follow a colon, unless the first word is a name
/// ("Apple's signing server", "USB", "NAND").
fn lowercase_first_word(m: &str) -> String {
    let first_word = m.split_whitespace().next().unwrap_or("");
    let is_name = first_word.starts_with("Apple")
        || first_word.chars().nth(1).is_some_and(char::is_uppercase);
    let mut chars = m.chars();
    match chars.next() {
        Some(first) if !is_name => first.to_lowercase().chain(chars).collect(),
        _ => m.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meaning_after_a_colon_keeps_its_names() {
        assert_eq!(
            lowercase_first_word("A restore that stops here"),
            "a restore that stops here"
        );
        assert_eq!(
            lowercase_first_word("Apple's signing server could not be reached"),
            "Apple's signing server could not be reached"
        );
        assert_eq!(lowercase_first_word("USB first"), "USB first");
        assert_eq!(lowercase_first_word(""), "");
    }
}
