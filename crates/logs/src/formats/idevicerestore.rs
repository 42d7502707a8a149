//! idevicerestore console output and log file (log_formats.md §1), every era.
//!
//! Also the lines futurerestore's forked idevicerestore prints (the 2021–2023 checkpoint
//! grammar `Checkpoint <dec> complete with code <dec>`).

use crate::model::{CheckpointState, Mode, RestoreKind, Tool};
use crate::signal::{FailKind, Signal};
use crate::text::{
    find_byte, first_word, leading_hex, leading_int, leading_u32, rfind_space_paren, trim,
};
use kb::Stage;

/// Read one idevicerestore line (prefixes already stripped).
pub fn parse(body: &str, out: &mut Vec<Signal>) {
    let (line, had_error_prefix) = strip_level_word(body);
    if line.is_empty() {
        return;
    }
    if body.starts_with("[Error] ") {
        // futurerestore's error lines around its forked idevicerestore's.
        out.push(Signal::Format(Tool::Futurerestore));
    }
    match line.as_bytes()[0] {
        b'C' => {
            if line.starts_with("Checkpoint ") {
                checkpoint(line, out);
                return;
            }
            if let Some(r) = line.strip_prefix("Connected to com.apple.mobile.restored, version ") {
                out.push(Signal::Format(Tool::Idevicerestore));
                out.push(Signal::Mode(Mode::Restore));
                if let Some(v) = leading_u32(r) {
                    out.push(Signal::Protocol(v));
                }
                return;
            }
            if line.starts_with("Could not read data") {
                out.push(Signal::Fail(FailKind::Disconnect));
                return;
            }
            if let Some(r) = line.strip_prefix("ChipID: ") {
                if let Some(v) = leading_u32(r) {
                    out.push(Signal::Cpid(v));
                }
                return;
            }
            if line.starts_with("Checksum does not match") {
                out.push(Signal::IpswCorrupt);
                out.push(Signal::Fail(FailKind::Specific(Stage::Other)));
                return;
            }
        }
        b'S' => {
            if let Some(text) = line.strip_prefix("Status: ") {
                out.push(Signal::Status {
                    code: None,
                    text: text.trim().to_string(),
                });
                return;
            }
            if line.starts_with("SEP firmware is NOT being signed")
                || line.starts_with("Sending TSS request attempt")
            {
                tss(line, out);
                return;
            }
            if let Some(r) = line.strip_prefix("Sending ")
                && let Some(stage) = sending(r)
            {
                out.push(Signal::Step(stage));
                return;
            }
        }
        b'F' => {
            if let Some(r) = line.strip_prefix("Found device in ") {
                if let Some(mode_text) = r.strip_suffix(" mode")
                    && let Some(m) = Mode::parse(mode_text)
                {
                    out.push(Signal::Mode(m));
                }
                return;
            }
            if let Some(r) = line.strip_prefix("Found ECID ") {
                ecid_decimal(r, out);
                return;
            }
            if line.starts_with("File download failed")
                || line.starts_with("Firmware file might be corrupt")
            {
                if line.starts_with("Firmware") || has!(line, "checksum mismatch") {
                    out.push(Signal::IpswCorrupt);
                }
                out.push(Signal::Fail(FailKind::Specific(Stage::Other)));
                return;
            }
        }
        b'E' => {
            if let Some(r) = line.strip_prefix("ECID: ") {
                ecid_decimal(r, out);
                return;
            }
            if line.starts_with("Entering recovery mode") {
                // The computer asks a device in normal mode to switch to Recovery.
                out.push(Signal::Step(Stage::Reboot));
                return;
            }
        }
        b'I' => {
            if let Some(r) = line.strip_prefix("Identified device as ") {
                // "d22ap, iPhone10,3"; before 2014 the product type alone ("iPad2,4").
                let (hw, pt) = match r.split_once(", ") {
                    Some((hw, pt)) => (Some(hw.trim().to_string()), pt),
                    None => (None, r),
                };
                let pt = first_word(pt).trim_end_matches('.');
                if crate::formats::identity::product_type_len(pt) == Some(pt.len()) {
                    out.push(Signal::ProductType {
                        hardware_model: hw,
                        product_type: pt.to_string(),
                    });
                }
                return;
            }
            if let Some(r) = line.strip_prefix("IPSW Product Version: ") {
                out.push(Signal::TargetVersion(first_word(r).to_string()));
                return;
            }
            if let Some(r) = line.strip_prefix("IPSW Product Build: ") {
                out.push(Signal::TargetBuild(first_word(r).to_string()));
                return;
            }
        }
        b'P' => {
            // futurerestore's idevicerestore prints `Product version: ` in lower case.
            if let Some(r) = line
                .strip_prefix("Product Version: ")
                .or_else(|| line.strip_prefix("Product version: "))
            {
                out.push(Signal::TargetVersion(first_word(r).to_string()));
                return;
            }
            if let Some(r) = line
                .strip_prefix("Product Build: ")
                .or_else(|| line.strip_prefix("Product build: "))
            {
                out.push(Signal::TargetBuild(first_word(r).to_string()));
                return;
            }
            if line.starts_with("Panic log is available") {
                out.push(Signal::PanicLog);
                return;
            }
            if line.starts_with("Previous Restore Log Received")
                || line.starts_with("PreviousRestoreLog: ")
            {
                // idevicerestore's heading; pymobiledevice3 prints the older attempt's device log
                // right after `PreviousRestoreLog: `, on this line and the ones that follow.
                out.push(Signal::PreviousLogStart);
                return;
            }
        }
        b'B' => {
            if let Some(r) = line.strip_prefix("BoardID: ") {
                if let Some(v) = leading_u32(r) {
                    out.push(Signal::Bdid(v));
                }
                return;
            }
            if line.starts_with("Baseband firmware is NOT being signed") {
                out.push(Signal::TssRefused);
                out.push(Signal::Fail(FailKind::Specific(Stage::Tss)));
                return;
            }
        }
        b'U' => {
            if let Some(r) = line.strip_prefix("UniqueChipID: ") {
                ecid_decimal(r, out);
                return;
            }
            if line.starts_with("Unable to ") {
                unable(line, out);
                return;
            }
            if let Some(r) = line.strip_prefix("Unknown data request '") {
                // restored asked for data this build of the tool has no handler for.
                let request = r.split('\'').next().unwrap_or("");
                out.push(Signal::HostToolLacks);
                out.push(Signal::Fail(FailKind::Specific(request_stage(request))));
                return;
            }
            if let Some(r) = line.strip_prefix("Unhandled status message (") {
                if let Some(code) = leading_int(r) {
                    out.push(Signal::Status {
                        code: Some(code),
                        text: format!("Unhandled status message ({code})"),
                    });
                }
                return;
            }
            if line.starts_with("Updating Baseband completed") {
                out.push(Signal::Note);
                return;
            }
        }
        b'D' => {
            if line == "DONE" {
                out.push(Signal::Success);
                return;
            }
            if line.starts_with("Device did not disconnect")
                || line.starts_with("Device did not reconnect")
            {
                // `… Possibly invalid iBSS/iBEC`: right after the boot chain was sent.
                let kind = if has!(line, "iBSS") || has!(line, "iBEC") {
                    FailKind::Specific(Stage::BootChain)
                } else {
                    FailKind::ModeChange(Stage::Reboot)
                };
                out.push(Signal::Fail(kind));
                return;
            }
            if line.starts_with("Device failed to enter restore mode")
                || line.starts_with("Device reconnected in ")
            {
                // The restore ramdisk never showed up on USB in restore mode (usbmuxd, driver,
                // a virtual machine's USB filter, cable), or the device came back in Recovery or
                // DFU instead (the ramdisk was refused).
                out.push(Signal::Fail(FailKind::Specific(Stage::Ramdisk)));
                return;
            }
            if line.starts_with("Device is in an invalid state") {
                // The device answered in a mode or state the tool cannot use: after its boot
                // chain was sent, the mode change went wrong; else its detection did.
                out.push(Signal::Fail(FailKind::ModeChange(Stage::Detection)));
                return;
            }
            if line.starts_with("Device ")
                && (has!(line, "has successfully entered restore mode")
                    || has!(line, "is now connected in restore mode"))
            {
                // The second is the pre-2019 wording (with `-d`), after the `Attempt N` lines.
                out.push(Signal::Mode(Mode::Restore));
                return;
            }
            if line.starts_with("Done sending FirmwareUpdater data") {
                out.push(Signal::Note);
                return;
            }
        }
        b'R' => {
            if line.starts_with("RESTORE FAILED") {
                out.push(Signal::Fail(FailKind::Final));
                return;
            }
            if line.starts_with("Received SHSH blobs") {
                out.push(Signal::Progressed);
                return;
            }
        }
        b'T' if line.starts_with("TSS ") => {
            tss(line, out);
            return;
        }
        b'N' if line.starts_with("No data to read") => {
            out.push(Signal::UsbTrouble);
            return;
        }
        b'A' if line.starts_with("ASR was unable to validate") => {
            out.push(Signal::Fail(FailKind::Specific(Stage::ImageTransfer)));
            return;
        }
        b'L' if line.starts_with("Log is available") => {
            out.push(Signal::DeviceLogStart);
            return;
        }
        b'i' => {
            if let Some(r) = line.strip_prefix("idevicerestore ") {
                if r.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                    out.push(Signal::Format(Tool::Idevicerestore));
                }
                return;
            }
            if line.starts_with("irecv_open_with_ecid: can't connect to device") {
                // The computer could not open the USB device (permissions, driver): retried.
                out.push(Signal::Fail(FailKind::Weak(Stage::Usb)));
                return;
            }
            if let Some(r) = line.strip_prefix("irecv_event_cb: device ") {
                if let Some(m) =
                    after_lit!(r, "connected in ").and_then(|m| m.strip_suffix(" mode"))
                    && let Some(m) = Mode::parse(m)
                {
                    out.push(Signal::Mode(m));
                }
                return;
            }
            if line.starts_with("idevice_event_cb: device ")
                && line.ends_with("connected in restore mode")
            {
                out.push(Signal::Mode(Mode::Restore));
                return;
            }
        }
        b'd' => {
            if line.starts_with("device didn't accept BasebandData") {
                out.push(Signal::Fail(FailKind::Specific(Stage::Baseband)));
                return;
            }
            if let Some(r) = line.strip_prefix("device serial number is ") {
                out.push(Signal::Serial(first_word(r).to_string()));
                return;
            }
        }
        b'V' => {
            // `Variant: Customer Erase Install (IPSW)` / `Variant: Customer Upgrade Install (IPSW)`
            if let Some(r) = line.strip_prefix("Variant: ") {
                if let Some(k) = variant_kind(r) {
                    out.push(Signal::Kind(k));
                }
                return;
            }
        }
        b'T' => {
            // `This restore will erase all device data.` / `… will update the device without
            // erasing user data.` (before 2022: `…erase your device data.` / `…update your
            // device without losing data.`)
            if let Some(r) = line.strip_prefix("This restore will ") {
                if r.starts_with("erase") {
                    out.push(Signal::Kind(RestoreKind::Restore));
                } else if r.starts_with("update") {
                    out.push(Signal::Kind(RestoreKind::Update));
                }
                return;
            }
        }
        b'W' if line.starts_with("Waiting for device to enter restore mode") => {
            out.push(Signal::Step(Stage::Ramdisk));
            return;
        }
        b'z' if line.starts_with("zip_name_locate: ") => {
            // The firmware file has no entry of that name.
            out.push(Signal::IpswLacksFile);
            out.push(Signal::Fail(FailKind::Specific(Stage::Other)));
            return;
        }
        b'*' if has!(line, "restored crashed") => {
            out.push(Signal::Note);
            return;
        }
        _ => {}
    }
    if python_tool_line(line, out) {
        return;
    }
    // Most lines contain none of the literals looked for anywhere below: one pass over the line
    // rules them all out (see `may_have_any!`).
    let maybe = may_have_any!(
        line,
        [
            "TSS request failed",
            "STATUS=",
            "Unable to send payload to ASR",
            "Unable to receive data from ASR",
            "'CHECKPOINT_ID'",
            "'ProgressMsg'",
            "'StatusMsg'",
            "Could not read data",
            "Got unknown updater name",
        ]
    );
    if has_if!(maybe, line, "Got unknown updater name") {
        // `restore_send_firmware_updater_data: Got unknown updater name 'Rose'`: the tool has no
        // handler for the part the device wants to update.
        out.push(Signal::HostToolLacks);
        out.push(Signal::Fail(FailKind::Specific(Stage::Firmware)));
        return;
    }
    if has_if!(maybe, line, "TSS request failed") || has_if!(maybe, line, "STATUS=") {
        tss(line, out);
        return;
    }
    if has_if!(maybe, line, "Unable to send payload to ASR") {
        out.push(Signal::Fail(FailKind::Specific(Stage::ImageTransfer)));
        return;
    }
    if has_if!(maybe, line, "Unable to receive data from ASR") {
        out.push(Signal::Fail(FailKind::Disconnect));
        return;
    }
    if has_if!(maybe, line, "'CHECKPOINT_ID'") {
        python_checkpoint(line, out);
        return;
    }
    if has_if!(maybe, line, "'ProgressMsg'") {
        python_progress(line, out);
        return;
    }
    if has_if!(maybe, line, "'StatusMsg'") {
        python_status(line, out);
        return;
    }
    if operation(line, out) {
        return;
    }
    if had_error_prefix && has_if!(maybe, line, "Could not read data") {
        out.push(Signal::Fail(FailKind::Disconnect));
    }
}

/// Strip `ERROR: `, `WARNING: `, `NOTE: `, `INFO: ` (and tsschecker's `[TSSC] `, futurerestore's
/// `[Error] `, `[WARNING] `, `[INFO] `).
fn strip_level_word(body: &str) -> (&str, bool) {
    let mut line = trim(body);
    let mut error = false;
    // The first byte rules out all six words at once on most lines.
    while matches!(
        line.as_bytes().first(),
        Some(b'E' | b'W' | b'N' | b'I' | b'[')
    ) {
        if let Some(r) = line
            .strip_prefix("ERROR: ")
            .or_else(|| line.strip_prefix("[Error] "))
        {
            line = r;
            error = true;
        } else if let Some(r) = line
            .strip_prefix("WARNING: ")
            .or_else(|| line.strip_prefix("NOTE: "))
            .or_else(|| line.strip_prefix("INFO: "))
            .or_else(|| line.strip_prefix("[TSSC] "))
            .or_else(|| line.strip_prefix("[TSSR] "))
            .or_else(|| line.strip_prefix("[WARNING] "))
            .or_else(|| line.strip_prefix("[INFO] "))
        {
            line = r;
        } else {
            break;
        }
    }
    (line, error)
}

fn ecid_decimal(r: &str, out: &mut Vec<Signal>) {
    let w = first_word(r);
    if let Ok(v) = w.parse::<u64>() {
        out.push(Signal::Ecid(format!("0x{v:X}")));
    } else if let Some(v) = leading_hex(w) {
        out.push(Signal::Ecid(format!("0x{v:X}")));
    }
}

fn unable(line: &str, out: &mut Vec<Signal>) {
    let s = &line["Unable to ".len()..];
    if s.starts_with("restore device") || s.starts_with("successfully restore device") {
        out.push(Signal::Fail(FailKind::Final));
    } else if s.starts_with("discover device mode") {
        // No device on USB in any mode the tool knows.
        out.push(Signal::Fail(FailKind::Specific(Stage::Detection)));
    } else if s.starts_with("get SHSH blobs") || s.starts_with("send TSS request") {
        out.push(Signal::Fail(FailKind::Specific(Stage::Tss)));
    } else if s.starts_with("connect to device in restore mode")
        || s.starts_with("open device in restore mode")
        || s.starts_with("connect to restored")
    {
        // The restore ramdisk did not come up on USB, or the computer could not talk to it.
        out.push(Signal::Fail(FailKind::Specific(Stage::Ramdisk)));
    } else if s.starts_with("place device into ") || s.starts_with("enter recovery mode") {
        // The caller giving up on a mode change (`… into restore mode`, `… into recovery mode
        // from DFU mode`): the verdict of the lines before it, which say why. It names the step
        // for a paste that starts here: the ramdisk, the boot chain (from DFU the way into
        // Recovery is iBSS and iBEC), the switch from normal mode.
        let step = if s.starts_with("place device into restore mode") {
            Some(Stage::Ramdisk)
        } else if has!(s, "from DFU") {
            Some(Stage::BootChain)
        } else if has!(s, "from normal") || has!(s, "from Normal") {
            Some(Stage::Reboot)
        } else {
            None
        };
        out.extend(step.map(Signal::During));
        out.push(Signal::Fail(FailKind::Final));
    } else if s.starts_with("connect to device in DFU mode")
        || s.starts_with("connect to device in recovery mode")
        || s.starts_with("connect to recovery device")
    {
        // The device did not come back in the mode the computer waited for: right after its boot
        // chain was sent, that step; else the switch into Recovery.
        out.push(Signal::Fail(FailKind::ModeChange(Stage::Reboot)));
    } else if s.starts_with("receive message from FDR") {
        // The FDR exchange's own connection broke (`… (-2). 0/2 bytes`): a failure unless the
        // restore goes on without it.
        out.push(Signal::Fail(FailKind::Soft(Stage::Fdr)));
    } else if let Some(r) = s.strip_prefix("send ")
        && send_failure(r, out)
    {
    } else if s.starts_with("extract ") && has!(s, "from ipsw") {
        // `Unable to extract baseband firmware from ipsw`: the file is not in the IPSW.
        out.push(Signal::IpswLacksFile);
        out.push(Signal::Fail(FailKind::Specific(Stage::Other)));
    } else if s.starts_with("send payload to ASR") {
        out.push(Signal::Fail(FailKind::Specific(Stage::ImageTransfer)));
    } else if s.starts_with("receive data from ASR") {
        // ASR stopped answering: during the image stream (13) that is the transfer, during
        // `Verifying restore (14)` the verify pass. The stage is whatever was running.
        out.push(Signal::Fail(FailKind::Disconnect));
    } else if s.starts_with("connect to FDR client") {
        // Common and usually harmless on old devices (Legacy-iOS-Kit #348).
    } else {
        // e.g. "send filesystem payload chunk, retrying...": worth showing, not a verdict.
        out.push(Signal::Warn);
    }
}

/// The stage of a file sent to a device in DFU or Recovery mode (`Sending <name> (<n>
/// bytes)...`, `Unable to send <name> component`): iBSS and iBEC are its boot chain; every other
/// file (AppleLogo, DeviceTree, RestoreRamDisk, RestoreKernelCache, iBootData, the firmware
/// iBoot loads) starts the restore ramdisk.
fn component_stage(name: &str) -> Stage {
    // (bytes, not a `str` slice: the name may hold any text)
    let head = name.trim_start_matches('\'').as_bytes();
    let head = &head[..head.len().min(4)];
    if head.eq_ignore_ascii_case(b"ibss") || head.eq_ignore_ascii_case(b"ibec") {
        Stage::BootChain
    } else {
        Stage::Ramdisk
    }
}

/// After `Sending `: the stage of the step it starts, for the steps outside the numbered
/// operations: a file sent to a device in DFU or Recovery (`<name> (<n> bytes)...`), or in
/// restore mode the root ticket (personalization), the NOR firmware, the baseband firmware, the
/// FDR trust data and the system image's own data (`<name> now...`).
fn sending(r: &str) -> Option<Stage> {
    if let Some(open) = find_lit!(r, " (")
        && r[open + 2..].starts_with(|c: char| c.is_ascii_digit())
        && has!(r, " bytes)")
    {
        let name = &r[..open];
        return (!name.is_empty() && !name.contains(' ')).then(|| component_stage(name));
    }
    let name = r
        .strip_suffix(" now...")
        .or_else(|| r.strip_suffix(" now"))?;
    Some(match name {
        "RootTicket" => Stage::Tss,
        "NORData" => Stage::Firmware,
        "BasebandData" => Stage::Baseband,
        "FDR Trust data" => Stage::Fdr,
        "filesystem" => Stage::ImageTransfer,
        n if n.starts_with("SystemImage") => Stage::ImageTransfer,
        _ => return None,
    })
}

/// The stage of a data request restored makes (`Unknown data request '<name>'`).
fn request_stage(request: &str) -> Stage {
    let r = request.to_ascii_lowercase();
    if r.contains("fdr") {
        Stage::Fdr
    } else if r.contains("baseband") {
        Stage::Baseband
    } else if r.contains("firmware") || r.contains("nor") {
        Stage::Firmware
    } else if r.contains("ticket") {
        Stage::Tss
    } else {
        Stage::Other
    }
}

/// After `Unable to send `: a file that could not be sent to a device in DFU or Recovery mode.
/// `<name> component: <why>` is the send itself (the device vanished or the transfer failed:
/// the device stopped answering); `<name> to device`, `component '<name>' to device`,
/// `components supposed to be loaded by iBoot` and a bare `<Name>` are the callers giving up.
/// Returns whether the line was one of these.
fn send_failure(r: &str, out: &mut Vec<Signal>) -> bool {
    let r = r.trim_end().trim_end_matches(['.', '!']);
    if let Some((name, why)) = r.split_once(" component: ") {
        if name.is_empty() || name.contains(' ') {
            return false;
        }
        let stage = component_stage(name);
        out.push(Signal::During(stage));
        let lost = [
            "find device",
            "upload data",
            "connect to device",
            "open device",
        ]
        .iter()
        .any(|w| why.contains(w));
        out.push(Signal::Fail(if lost {
            FailKind::Disconnect
        } else {
            FailKind::Specific(stage)
        }));
        return true;
    }
    let name = if r.starts_with("components supposed to be loaded by iBoot") {
        Some("iBoot-loaded")
    } else if let Some(n) = r
        .strip_prefix("component '")
        .and_then(|n| n.strip_suffix("' to device"))
    {
        Some(n)
    } else if let Some(n) = r.strip_suffix(" to device") {
        Some(n)
    } else if !r.contains(' ')
        && (r.starts_with(|c: char| c.is_ascii_uppercase()) || r.starts_with("iB"))
    {
        // `Unable to send iBEC`, `Unable to send AppleLogo` (not `… send filesystem`)
        Some(r)
    } else {
        None
    };
    match name {
        Some(n) if !n.is_empty() && !n.contains(' ') => {
            out.push(Signal::During(component_stage(n)));
            out.push(Signal::Fail(FailKind::Final));
            true
        }
        _ => false,
    }
}

fn tss(line: &str, out: &mut Vec<Signal>) {
    if line.starts_with("SEP firmware is NOT being signed") {
        out.push(Signal::TssRefused);
        out.push(Signal::Fail(FailKind::Specific(Stage::Tss)));
        return;
    }
    let status = after_lit!(line, "status=")
        .or_else(|| after_lit!(line, "STATUS="))
        .and_then(leading_int);
    match status {
        Some(94 | 69 | 8 | 49 | 100 | 126) => {
            out.push(Signal::TssRefused);
            out.push(Signal::Fail(FailKind::Specific(Stage::Tss)));
        }
        Some(0) => out.push(Signal::Note),
        Some(_) => {
            out.push(Signal::TssUnreachable);
            out.push(Signal::Fail(FailKind::Weak(Stage::Tss)));
        }
        None => {
            if has!(line, "TSS request failed") || is_tss_retry(line) {
                out.push(Signal::TssUnreachable);
                out.push(Signal::Fail(FailKind::Weak(Stage::Tss)));
            }
        }
    }
}

/// `Sending TSS request attempt N... ` with N > 1 and no answer on the line: libtatsu retries
/// only after an attempt failed, so the signing server did not answer (log_formats.md §1.4: a
/// repeated attempt means Apple's server was not reachable). Attempt 1 alone is not a sign:
/// its answer often lands on the next line when stderr cuts in.
fn is_tss_retry(line: &str) -> bool {
    line.strip_prefix("Sending TSS request attempt ")
        .and_then(leading_int)
        .is_some_and(|n| n > 1)
        && !has!(line, "response successfully received")
}

/// All checkpoint grammars of §1.2.
fn checkpoint(line: &str, out: &mut Vec<Signal>) {
    let r = &line["Checkpoint ".len()..];
    let (state, r) = if let Some(r) = r.strip_prefix("started") {
        (CheckpointState::Begin, r)
    } else if let Some(r) = r.strip_prefix("completed") {
        (CheckpointState::End, r)
    } else if let Some(r) = r
        .strip_prefix("FAILURE")
        .or_else(|| r.strip_prefix("FAILED"))
    {
        (CheckpointState::Failure, r)
    } else if let Some(r) = r.strip_prefix("WARNING") {
        (CheckpointState::Warning, r)
    } else if r.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        // 2021–2023: "Checkpoint <dec> complete with code <dec>"
        let Some(raw) = r
            .split_whitespace()
            .next()
            .and_then(|w| w.parse::<u64>().ok())
        else {
            return;
        };
        let code = after_lit!(r, "with code ").and_then(leading_int);
        let state = match code {
            Some(0) | None => CheckpointState::End,
            Some(_) => CheckpointState::Failure,
        };
        out.push(Signal::Format(Tool::Idevicerestore));
        out.push(Signal::Checkpoint {
            id: (raw & 0xFFFF) as u32,
            name: None,
            state,
            result: code,
        });
        return;
    } else {
        return;
    };
    let Some(idr) = after_lit!(r, "id: ") else {
        return;
    };
    let Some(raw) = leading_hex(idr) else { return };
    let id_text = idr.trim_start();
    let hex_end = id_text
        .strip_prefix("0x")
        .or_else(|| id_text.strip_prefix("0X"))
        .unwrap_or(id_text)
        .trim_start_matches(|c: char| c.is_ascii_hexdigit());
    let name = hex_end
        .trim_start()
        .strip_prefix('(')
        .and_then(|n| find_byte(n, b')').map(|c| n[..c].trim().to_string()))
        .filter(|n| !n.is_empty() && find_byte(n, b' ').is_none());
    let result = after_lit!(r, "result=")
        .and_then(leading_int)
        .or_else(|| after_lit!(r, "error ").and_then(leading_int));
    out.push(Signal::Format(Tool::Idevicerestore));
    out.push(Signal::Checkpoint {
        id: (raw & 0xFFFF) as u32,
        name,
        state,
        result,
    });
}

/// pymobiledevice3 / deleo (§2.2): `checkpoint: {'CHECKPOINT_COMPLETE': True,
/// 'CHECKPOINT_RESULT': 0, 'CHECKPOINT_NAME': 'fdr_create', 'CHECKPOINT_ID': 1558, ...}`.
fn python_checkpoint(line: &str, out: &mut Vec<Signal>) {
    let Some(id) = after_lit!(line, "'CHECKPOINT_ID': ").and_then(leading_int) else {
        return;
    };
    let name = after_lit!(line, "'CHECKPOINT_NAME': '")
        .and_then(|r| r.split('\'').next())
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let result = after_lit!(line, "'CHECKPOINT_RESULT': ").and_then(leading_int);
    let complete =
        after_lit!(line, "'CHECKPOINT_COMPLETE': ").is_some_and(|r| r.starts_with("True"));
    let state = match (complete, result) {
        (_, Some(r)) if r != 0 => CheckpointState::Failure,
        (true, _) => CheckpointState::End,
        (false, _) => CheckpointState::Begin,
    };
    // Only the Python tools print checkpoints as dicts; `tool` files them under futurerestore
    // (design.md §6: other restore tools built on idevicerestore).
    out.push(Signal::Format(Tool::Futurerestore));
    out.push(Signal::Checkpoint {
        id: (id as u64 & 0xFFFF) as u32,
        name,
        state,
        result,
    });
}

/// pymobiledevice3 / deleo (§2.2): `progress-bar: {'MsgType': 'ProgressMsg', 'Progress': -1,
/// 'Operation': 'UPDATE_NAND_FIRMWARE'}`. The tool printed the operation's constant name
/// (its number when it has no name for it); the knowledge base's labels give the id
/// ([`crate::reference::operation_by_constant_name`]). The id is the one the device sent, so
/// the restore protocol's shift still applies to it.
fn python_progress(line: &str, out: &mut Vec<Signal>) {
    let Some(op) = after_lit!(line, "'Operation': ") else {
        return;
    };
    let raw_id = match op.strip_prefix('\'') {
        Some(quoted) => {
            let Some(name) = quoted.split('\'').next() else {
                return;
            };
            crate::reference::operation_by_constant_name(name)
        }
        None => leading_int(op).and_then(|n| u32::try_from(n).ok()),
    };
    let Some(raw_id) = raw_id.filter(|&id| id < 10_000) else {
        return;
    };
    let progress = after_lit!(line, "'Progress': ").and_then(leading_int);
    out.push(Signal::Format(Tool::Futurerestore));
    out.push(Signal::Operation {
        raw_id,
        label: None,
        progress,
        restore_phase: true,
    });
}

/// pymobiledevice3 / deleo: `status message: {'MsgType': 'StatusMsg', 'Status': 0, ...}` (at
/// debug level; the device's final status, 0 = the restore finished).
fn python_status(line: &str, out: &mut Vec<Signal>) {
    // The unsigned -1 of "verification error" (18446744073709551615) reads as -1.
    let Some(code) = after_lit!(line, "'Status': ").and_then(leading_int) else {
        return;
    };
    out.push(Signal::Format(Tool::Futurerestore));
    out.push(Signal::Status {
        code: Some(code),
        text: format!("status {code}"),
    });
}

/// The lines pymobiledevice3 and deleo print at error level for the device's final status
/// (their own lower-case texts of the status codes), and the last line of the traceback when
/// the device stopped answering. Exact lines only: these words are common elsewhere.
fn python_tool_line(line: &str, out: &mut Vec<Signal>) -> bool {
    const STATUS_TEXTS: &[&str] = &[
        "verification error",
        "disk failure",
        "failed to mount filesystems",
        "failed to load SEP firmware",
        "failed to recover FDR data",
        "X-Gold Baseband Update Failed. Defective Unit?",
    ];
    if matches!(line.as_bytes().first(), Some(b'v' | b'd' | b'f' | b'X'))
        && STATUS_TEXTS.contains(&line)
    {
        out.push(Signal::Format(Tool::Futurerestore));
        out.push(Signal::Status {
            code: None,
            text: line.to_string(),
        });
        return true;
    }
    // pymobiledevice3's heading of this attempt's device log (sent with the final status).
    if line == "log:" {
        out.push(Signal::DeviceLogStart);
        return true;
    }
    // What pymobiledevice3's main prints for the exceptions it catches: no device at all, or
    // the device left while a command ran.
    if line == "Device is not connected" {
        out.push(Signal::Fail(FailKind::Specific(Stage::Detection)));
        return true;
    }
    if line == "Device was disconnected" {
        out.push(Signal::Fail(FailKind::Disconnect));
        return true;
    }
    // The restore loop's read from the device failed: the device left USB (or restored died).
    let exception = line
        .strip_prefix("pymobiledevice3.exceptions.")
        .unwrap_or(line);
    for name in [
        "ConnectionAbortedError",
        "ConnectionResetError",
        "ConnectionTerminatedError",
        "BrokenPipeError",
    ] {
        if let Some(rest) = exception.strip_prefix(name)
            && (rest.is_empty() || rest.starts_with(':'))
        {
            out.push(Signal::Fail(FailKind::Disconnect));
            return true;
        }
    }
    false
}

/// `<Label> (<id>)`: the operation line. Returns whether it was one.
fn operation(line: &str, out: &mut Vec<Signal>) -> bool {
    let Some(body) = line.strip_suffix(')') else {
        return false;
    };
    let Some(open) = rfind_space_paren(body) else {
        return false;
    };
    let num = &body[open + 2..];
    if num.is_empty() || num.len() > 4 || !num.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let label = &body[..open];
    if label.is_empty()
        || label.len() > 64
        || !label.as_bytes()[0].is_ascii_uppercase()
        || !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'/' | b',' | b'-'))
    {
        return false;
    }
    let Ok(id) = num.parse::<u32>() else {
        return false;
    };
    out.push(Signal::Operation {
        raw_id: id,
        label: Some(label.to_string()),
        progress: None,
        restore_phase: true,
    });
    true
}

/// The kind of run a build identity's variant names: `Customer Erase Install`,
/// `Customer Upgrade Install` (also the `Research …` and `… (IPSW)` spellings).
pub(crate) fn variant_kind(variant: &str) -> Option<RestoreKind> {
    if has!(variant, "Erase") {
        Some(RestoreKind::Restore)
    } else if has!(variant, "Upgrade") || has!(variant, "Update") {
        Some(RestoreKind::Update)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(line: &str) -> Vec<Signal> {
        let mut v = Vec::new();
        parse(line, &mut v);
        v
    }

    #[test]
    fn checkpoint_eras() {
        assert!(
            read("Checkpoint started   id: 0x60E (update_NAND_firmware)").contains(
                &Signal::Checkpoint {
                    id: 0x60E,
                    name: Some("update_NAND_firmware".into()),
                    state: CheckpointState::Begin,
                    result: None
                }
            )
        );
        assert!(
            read("Checkpoint completed id: 0x100000634 (fdr_recover) result=0").contains(
                &Signal::Checkpoint {
                    id: 0x634,
                    name: Some("fdr_recover".into()),
                    state: CheckpointState::End,
                    result: Some(0)
                }
            )
        );
        assert!(
            read("Checkpoint 4867 complete with code 18446744073709551615 ").contains(
                &Signal::Checkpoint {
                    id: 0x1303,
                    name: None,
                    state: CheckpointState::Failure,
                    result: Some(-1)
                }
            )
        );
        assert!(
            read("Checkpoint FAILURE id: 0x634 result=0: fdr failed").contains(
                &Signal::Checkpoint {
                    id: 0x634,
                    name: None,
                    state: CheckpointState::Failure,
                    result: Some(0)
                }
            )
        );
    }

    #[test]
    fn operations_and_finals() {
        assert_eq!(
            read("Updating NAND Firmware (58)"),
            vec![Signal::Operation {
                raw_id: 58,
                label: Some("Updating NAND Firmware".into()),
                progress: None,
                restore_phase: true
            }]
        );
        assert_eq!(
            read("ERROR: Unable to restore device"),
            vec![Signal::Fail(FailKind::Final)]
        );
        assert_eq!(
            read("Unable to restore device"),
            vec![Signal::Fail(FailKind::Final)]
        );
        assert_eq!(
            read("ERROR: Could not read data (-256). Aborting."),
            vec![Signal::Fail(FailKind::Disconnect)]
        );
        assert!(
            read("Received SHSH blobs (3)").is_empty()
                || !read("Received SHSH blobs (3)")
                    .iter()
                    .any(|s| matches!(s, Signal::Operation { .. }))
        );
        assert!(read("Sending TSS request attempt 1... TSS server returned: STATUS=94&MESSAGE=This device isn't eligible").contains(&Signal::TssRefused));
        // A retry with no answer: the server was not reached (weak: a later answer overrules).
        let retry = read("Sending TSS request attempt 3... ");
        assert!(retry.contains(&Signal::TssUnreachable), "{retry:?}");
        assert!(retry.contains(&Signal::Fail(FailKind::Weak(Stage::Tss))));
        for answered in [
            "Sending TSS request attempt 1... ",
            "Sending TSS request attempt 2... response successfully received",
        ] {
            assert!(
                !read(answered).contains(&Signal::TssUnreachable),
                "{answered}"
            );
        }
    }

    #[test]
    fn asr_send_names_the_transfer_asr_silence_follows_the_running_step() {
        // Sending the image failed: the transfer, whatever ran before.
        assert_eq!(
            read("ERROR: Unable to send payload to ASR"),
            vec![Signal::Fail(FailKind::Specific(Stage::ImageTransfer))]
        );
        // ASR stopped answering (e.g. during `Verifying restore (14)`): the stage is the
        // running operation's, as for any device that stops answering.
        for line in [
            "ERROR: Unable to receive data from ASR",
            "Unable to receive data from ASR",
            "asr: Unable to receive data from ASR",
        ] {
            assert_eq!(
                read(line),
                vec![Signal::Fail(FailKind::Disconnect)],
                "{line}"
            );
        }
        // The step is still read as an operation.
        assert!(matches!(
            read("Verifying restore (14)").as_slice(),
            [Signal::Operation { raw_id: 14, .. }]
        ));
    }

    #[test]
    fn pymobiledevice3_checkpoint_dicts() {
        let v = read(
            "checkpoint: {'CHECKPOINT_COMPLETE': True, 'CHECKPOINT_RESULT': 53, 'CHECKPOINT_NAME': 'fdr_recover', 'CHECKPOINT_ID': 1588, 'MsgType': 'CheckpointMsg'}",
        );
        assert_eq!(
            v,
            vec![
                Signal::Format(Tool::Futurerestore),
                Signal::Checkpoint {
                    id: 0x634,
                    name: Some("fdr_recover".into()),
                    state: CheckpointState::Failure,
                    result: Some(53)
                }
            ]
        );
        let v = read(
            "checkpoint: {'CHECKPOINT_COMPLETE': False, 'CHECKPOINT_NAME': 'fdr_create', 'CHECKPOINT_ID': 1558}",
        );
        assert_eq!(
            v[1],
            Signal::Checkpoint {
                id: 0x616,
                name: Some("fdr_create".into()),
                state: CheckpointState::Begin,
                result: None
            }
        );
        // Completed with result 0: the end of the step, not a step still running.
        let v = read(
            "checkpoint: {'CHECKPOINT_COMPLETE': True, 'CHECKPOINT_RESULT': 0, 'CHECKPOINT_NAME': 'fdr_create', 'CHECKPOINT_ID': 1558, 'MsgType': 'CheckpointMsg'}",
        );
        assert!(matches!(
            v[1],
            Signal::Checkpoint {
                id: 0x616,
                state: CheckpointState::End,
                result: Some(0),
                ..
            }
        ));
    }

    #[test]
    fn pymobiledevice3_progress_status_and_disconnect() {
        // Operations by constant name, through the knowledge base's labels.
        assert_eq!(
            read(
                "progress-bar: {'MsgType': 'ProgressMsg', 'Progress': -1, 'Operation': 'UPDATE_NAND_FIRMWARE'}"
            ),
            vec![
                Signal::Format(Tool::Futurerestore),
                Signal::Operation {
                    raw_id: 58,
                    label: None,
                    progress: Some(-1),
                    restore_phase: true
                }
            ]
        );
        assert!(matches!(
            read("progress-bar: {'MsgType': 'ProgressMsg', 'Progress': 37, 'Operation': 'RESTORE_IMAGE'}")
                .as_slice(),
            [_, Signal::Operation { raw_id: 13, progress: Some(37), .. }]
        ));
        // A number the tool had no name for is printed as the number.
        assert!(matches!(
            read("progress-bar: {'MsgType': 'ProgressMsg', 'Progress': 4, 'Operation': 78}")
                .as_slice(),
            [
                _,
                Signal::Operation {
                    raw_id: 78,
                    progress: Some(4),
                    ..
                }
            ]
        ));
        // A name that is no operation says nothing.
        assert!(
            read("progress-bar: {'MsgType': 'ProgressMsg', 'Progress': -1, 'Operation': 'MAKE_COFFEE'}")
                .is_empty()
        );
        assert!(read("progress-bar: {'MsgType': 'ProgressMsg', 'Operation': '").is_empty());
        // The final status: 0 is the restore finished; -1 printed unsigned.
        assert!(
            read("status message: {'MsgType': 'StatusMsg', 'Status': 0}").contains(
                &Signal::Status {
                    code: Some(0),
                    text: "status 0".into()
                }
            )
        );
        assert!(
            read("status message: {'MsgType': 'StatusMsg', 'Status': 18446744073709551615}")
                .iter()
                .any(|s| matches!(s, Signal::Status { code: Some(-1), .. }))
        );
        // The texts it prints at error level, whole lines only.
        assert!(
            read("failed to recover FDR data").contains(&Signal::Status {
                code: None,
                text: "failed to recover FDR data".into()
            })
        );
        assert!(
            read("disk failure")
                .iter()
                .any(|s| matches!(s, Signal::Status { .. }))
        );
        assert!(
            read("X-Gold Baseband Update Failed. Defective Unit?")
                .iter()
                .any(|s| matches!(s, Signal::Status { .. }))
        );
        assert!(read("no disk failure here").is_empty());
        assert!(read("verification error in the forum post").is_empty());
        // The device stopped answering.
        for line in [
            "ConnectionAbortedError",
            "ConnectionResetError: [Errno 54] Connection reset by peer",
            "pymobiledevice3.exceptions.ConnectionTerminatedError",
            "Device was disconnected",
        ] {
            assert_eq!(
                read(line),
                vec![Signal::Fail(FailKind::Disconnect)],
                "{line}"
            );
        }
        for line in [
            "ConnectionAbortedErrors are common",
            "    raise ConnectionAbortedError()",
            "except ConnectionAbortedError:",
        ] {
            assert!(read(line).is_empty(), "{line}");
        }
        assert_eq!(
            read("Device is not connected"),
            vec![Signal::Fail(FailKind::Specific(Stage::Detection))]
        );
        // The device logs it quotes: an older attempt's, then this one's.
        assert_eq!(
            read("PreviousRestoreLog: [12:40:01.0012-GMT]{3>6} CHECKPOINT BEGIN: x"),
            vec![Signal::PreviousLogStart]
        );
        assert_eq!(read("log:"), vec![Signal::DeviceLogStart]);
    }

    #[test]
    fn a_component_name_of_any_text_does_not_panic() {
        // Found by the fuzzer: a name whose fourth byte sits inside a character.
        for line in [
            "Unable to send i\u{e9}\u{e9} component: Unable to find device",
            "Sending \u{1f600}\u{1f600} (12 bytes)...",
            "Unable to send \u{e9} to device",
        ] {
            let v = read(line);
            assert!(
                v.iter()
                    .all(|s| !matches!(s, Signal::During(Stage::BootChain))),
                "{line}: {v:?}"
            );
        }
        assert!(
            read("Unable to send iBEC component: Unable to find device")
                .contains(&Signal::During(Stage::BootChain))
        );
    }

    #[test]
    fn restore_mode_reached_in_both_wordings() {
        for line in [
            "Device 00008030-001A2C3E4B5D602E has successfully entered restore mode",
            "Device 4c8e0f7d2b1a9c6e3f5d2b8a7c4e1f0a9d6b3c2e is now connected in restore mode...",
        ] {
            assert_eq!(read(line), vec![Signal::Mode(Mode::Restore)], "{line}");
        }
        assert!(read("log: something else").is_empty());
    }

    #[test]
    fn identity() {
        assert_eq!(
            read("Identified device as n71map, iPhone8,1"),
            vec![Signal::ProductType {
                hardware_model: Some("n71map".into()),
                product_type: "iPhone8,1".into()
            }]
        );
        assert_eq!(
            read("ECID: 2844626588163936"),
            vec![Signal::Ecid("0xA1B2C3D4E5F60".into())]
        );
    }
}
