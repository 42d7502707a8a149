//! One parser per log format, and the list of literal signatures that say a line is worth
//! parsing at all.
//!
//! Each parser reads one line whose prefixes were already removed by
//! [`crate::prefix::strip_prefixes`] and pushes [`Signal`]s; none of them allocates more than
//! the strings it returns, none can panic (fuzzed, see `fuzz/`).

pub mod apple;
pub mod futurerestore;
pub mod identity;
pub mod idevicerestore;
pub mod restored;
pub mod wrapper;

use crate::model::Source;
use crate::prefix::Prefixed;
use crate::signal::Signal;

/// Which parser recognised a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Idevicerestore,
    Futurerestore,
    Restored,
    Apple,
    Wrapper,
    /// Only identity (product type, IPSW name) was found.
    Identity,
}

/// Read a prefixed line with the parser its shape calls for. Returns the family that read it
/// (for idevicerestore lines, whether or not it found anything).
pub fn read(p: &Prefixed<'_>, out: &mut Vec<Signal>) -> Option<Family> {
    read_hinted(p, None, out)
}

/// [`read`], trying the parser of `hint` (the family of the signature that made the line
/// worth reading) first; the others run only if it finds nothing.
pub fn read_hinted(
    p: &Prefixed<'_>,
    hint: Option<Family>,
    out: &mut Vec<Signal>,
) -> Option<Family> {
    let body: &str = &p.body;
    // The hinted parser that already read this body and found nothing: the parsers are pure,
    // so the full path below need not run it again.
    let mut tried = None;
    // Host lines try their hinted parser first; the device's own lines only the device-log
    // parser (the full path reads them with it anyway); a wrapper's own lines never.
    let first = match p.source {
        _ if p.wrapper_own || body.is_empty() => None,
        // Apple's personalization lines are read by its parser whichever signature they hold.
        _ if body.starts_with("amai: ") => Some(Family::Apple),
        Source::Device => hint.filter(|h| *h == Family::Restored),
        _ => hint,
    };
    if let Some(h) = first {
        let before = out.len();
        let hinted = match h {
            Family::Apple => apple::parse(body, out).then_some(Family::Apple),
            Family::Restored => restored::parse(body, out).then_some(Family::Restored),
            Family::Idevicerestore => {
                idevicerestore::parse(body, out);
                (out.len() > before).then_some(Family::Idevicerestore)
            }
            _ => None,
        };
        if hinted.is_some() {
            // Identity lines (banner, `Device:`, IPSW names) have their own signatures and
            // take the full path below; a line its hinted parser understood is not one.
            return hinted;
        }
        // A parser that finds nothing pushes nothing (test `hinted_failure_pushes_nothing`).
        out.truncate(before);
        tried = Some(h);
    }
    if body.is_empty() {
        return None;
    }
    let before_identity = out.len();
    identity::parse(body, out);
    let found_identity = out.len() > before_identity;
    let family = read_family(p, body, tried, out);
    if family.is_none() && p.error_level && out.len() == before_identity {
        // pymobiledevice3 reported an error this reader has no words for (`ERROR unknown
        // error` before a traceback): the tool gave up.
        out.push(Signal::Fail(crate::signal::FailKind::Final));
        return Some(Family::Futurerestore);
    }
    if family.is_none() && found_identity {
        return Some(if p.wrapper_own {
            Family::Wrapper
        } else {
            Family::Identity
        });
    }
    family
}

fn read_family(
    p: &Prefixed<'_>,
    body: &str,
    tried: Option<Family>,
    out: &mut Vec<Signal>,
) -> Option<Family> {
    if p.wrapper_own {
        return wrapper::parse(body, out).then_some(Family::Wrapper);
    }
    if p.source == Source::Device {
        if tried != Some(Family::Restored) && restored::parse(body, out) {
            return Some(Family::Restored);
        }
        let before = out.len();
        idevicerestore::parse(body, out);
        return (out.len() > before).then_some(Family::Restored);
    }
    if tried != Some(Family::Apple) && apple::parse(body, out) {
        return Some(Family::Apple);
    }
    if tried != Some(Family::Restored) && restored::parse(body, out) {
        return Some(Family::Restored);
    }
    if futurerestore::parse(body, out) {
        return Some(Family::Futurerestore);
    }
    if tried != Some(Family::Idevicerestore) {
        let before = out.len();
        idevicerestore::parse(body, out);
        if out.len() > before {
            return Some(Family::Idevicerestore);
        }
    }
    if wrapper::parse(body, out) {
        return Some(Family::Wrapper);
    }
    None
}

/// Literal byte strings at least one of which appears in every line any parser reads, with
/// the parser family they usually belong to (a hint for which parser to try first).
///
/// The analyser runs one Aho-Corasick pass over the input with these (plus the operation labels
/// of the knowledge base, see [`crate::signatures`]) and parses only the lines that match; the
/// benchmark hands the same list to `rg -c -F -f`.
pub const SIGNATURES: &[(&str, Family)] = &[
    // idevicerestore (§1)
    ("idevicerestore ", Family::Idevicerestore),
    ("Found device in ", Family::Idevicerestore),
    ("Variant: ", Family::Idevicerestore),
    ("This restore will ", Family::Idevicerestore),
    ("ECID", Family::Idevicerestore),
    ("Identified device as ", Family::Idevicerestore),
    ("ChipID: ", Family::Idevicerestore),
    ("BoardID: ", Family::Idevicerestore),
    ("Product Version: ", Family::Idevicerestore),
    ("Product Build: ", Family::Idevicerestore),
    ("serial number is ", Family::Idevicerestore),
    (
        "Connected to com.apple.mobile.restored",
        Family::Idevicerestore,
    ),
    ("Checkpoint ", Family::Idevicerestore),
    ("Status: ", Family::Idevicerestore),
    ("Unhandled status message", Family::Idevicerestore),
    ("TSS ", Family::Idevicerestore),
    ("STATUS=", Family::Idevicerestore),
    ("Unable to ", Family::Idevicerestore),
    ("Device did not ", Family::Idevicerestore),
    ("Device failed to enter", Family::Idevicerestore),
    ("Device reconnected in ", Family::Idevicerestore),
    ("successfully entered restore mode", Family::Idevicerestore),
    ("now connected in restore mode", Family::Idevicerestore),
    ("Could not read data", Family::Idevicerestore),
    ("No data to read", Family::Idevicerestore),
    ("didn't accept BasebandData", Family::Idevicerestore),
    ("Updating Baseband completed", Family::Idevicerestore),
    ("ASR", Family::Idevicerestore),
    ("DONE", Family::Idevicerestore),
    ("RESTORE FAILED", Family::Idevicerestore),
    ("Log is available", Family::Idevicerestore),
    // `Panic log is available:` (lower-case "log"): the device panicked in an earlier boot
    ("Panic log is available", Family::Idevicerestore),
    ("Restore Log Received", Family::Idevicerestore),
    ("restored crashed", Family::Idevicerestore),
    ("Checksum does not match", Family::Idevicerestore),
    ("File download failed", Family::Idevicerestore),
    ("Firmware file might be corrupt", Family::Idevicerestore),
    ("Entering recovery mode", Family::Idevicerestore),
    ("Sending iBSS", Family::Idevicerestore),
    ("Sending iBEC", Family::Idevicerestore),
    ("Received SHSH blobs", Family::Idevicerestore),
    ("Done sending FirmwareUpdater", Family::Idevicerestore),
    ("_event_cb: device ", Family::Idevicerestore),
    ("operation (", Family::Idevicerestore),
    ("NOT being signed", Family::Idevicerestore),
    // the steps before the restore proper: files sent to a device in DFU or Recovery
    // (`Sending <name> (<n> bytes)...`), restore mode's own sends (`Sending RootTicket now...`),
    // the wait for restore mode, a device in a state the tool cannot use, a USB device the
    // computer cannot open
    (" bytes)...", Family::Idevicerestore),
    (" now...", Family::Idevicerestore),
    (
        "Waiting for device to enter restore mode",
        Family::Idevicerestore,
    ),
    ("invalid state", Family::Idevicerestore),
    ("can't connect to device", Family::Idevicerestore),
    // a tool too old for what the device asks, a firmware file without a file it needs
    ("Unknown data request", Family::Idevicerestore),
    ("unknown updater name", Family::Idevicerestore),
    ("zip_name_locate", Family::Idevicerestore),
    // futurerestore's idevicerestore prints these in lower case
    ("Product version: ", Family::Idevicerestore),
    ("Product build: ", Family::Idevicerestore),
    ("'CHECKPOINT_ID'", Family::Idevicerestore),
    // pymobiledevice3 / deleo (§2.2): operation dicts, the final status, the status texts it
    // prints at error level, the exception that ends a run whose device stopped answering
    ("'ProgressMsg'", Family::Idevicerestore),
    ("'StatusMsg'", Family::Idevicerestore),
    ("verification error", Family::Idevicerestore),
    ("disk failure", Family::Idevicerestore),
    ("failed to mount filesystems", Family::Idevicerestore),
    ("failed to load SEP firmware", Family::Idevicerestore),
    ("failed to recover FDR data", Family::Idevicerestore),
    ("X-Gold Baseband Update Failed", Family::Idevicerestore),
    ("ConnectionAbortedError", Family::Idevicerestore),
    ("ConnectionResetError", Family::Idevicerestore),
    ("ConnectionTerminatedError", Family::Idevicerestore),
    ("BrokenPipeError", Family::Idevicerestore),
    ("Device is not connected", Family::Idevicerestore),
    ("Device was disconnected", Family::Idevicerestore),
    ("PreviousRestoreLog: ", Family::Idevicerestore),
    ("] DEBUG log:", Family::Idevicerestore),
    // futurerestore (§2)
    ("futurerestore", Family::Futurerestore),
    ("[exception]", Family::Futurerestore),
    ("what=", Family::Futurerestore),
    ("Done: restoring ", Family::Futurerestore),
    ("Failed with error", Family::Futurerestore),
    ("Fail code=", Family::Futurerestore),
    ("APTicket", Family::Futurerestore),
    ("Booting iB", Family::Futurerestore),
    ("no device found", Family::Futurerestore),
    ("CURLcode", Family::Futurerestore),
    // pymobiledevice3 at error level (`…restore[20390] ERROR unknown error`)
    ("] ERROR ", Family::Futurerestore),
    ("] CRITICAL ", Family::Futurerestore),
    // restored (§3)
    ("CHECKPOINT ", Family::Restored),
    // (of the step-state lines only the on-screen progress says anything: `restore-step-ids`,
    // `-names`, `-uptime` follow every checkpoint line and repeat it)
    ("restore-step-user-progress", Family::Restored),
    ("client protocol version", Family::Restored),
    ("No space left on device", Family::Restored),
    ("bbupdater", Family::Restored),
    ("BBUpdater", Family::Restored),
    ("Update[Baseband]", Family::Restored),
    ("NAND", Family::Restored),
    ("Rose updater", Family::Restored),
    ("SavageErrorDomain", Family::Restored),
    ("request for Savage", Family::Restored),
    ("LLB data returned NULL", Family::Restored),
    ("proxy is enabled", Family::Restored),
    ("x-fdr-message", Family::Restored),
    ("AMFDRCreateError", Family::Restored),
    ("invalid ticket", Family::Restored),
    ("no space for data", Family::Restored),
    ("failed to install splat", Family::Restored),
    ("restore_apfs_image", Family::Restored),
    ("ramrod_display_set_granular_progress", Family::Restored),
    // Apple library (§4, §5)
    (" Device ", Family::Apple),
    // `<Restore Device …>: operation N progress P` with the object eaten by a renderer
    (": operation ", Family::Apple),
    ("checkpoint id: ", Family::Apple),
    ("Changing state from ", Family::Apple),
    ("Restore completed", Family::Apple),
    ("Restore error ", Family::Apple),
    ("failed with error: ", Family::Apple),
    ("Depth:", Family::Apple),
    ("Unexpected device state", Family::Apple),
    ("Device removed when", Family::Apple),
    ("Transitioning device returned", Family::Apple),
    ("Device isn't booted", Family::Apple),
    ("Timer fired to timeout", Family::Apple),
    ("disappeared during transition", Family::Apple),
    (" Restore Phase: ", Family::Apple),
    ("pipe stall", Family::Apple),
    ("USBControlTransfer", Family::Apple),
    ("command device request", Family::Apple),
    ("AMRUSBDevice error", Family::Apple),
    // `amai: ` (personalization) lines: only the ones that say the signing server could not be
    // reached or refused (the others, thousands in a 3uTools log, say nothing)
    ("TSS Connection attempt 3 of 3", Family::Apple),
    ("not eligible", Family::Apple),
    ("isn't eligible", Family::Apple),
    ("chipid=0x", Family::Apple),
    ("ECID=", Family::Apple),
    ("restore library built", Family::Apple),
    ("requested restore behavior: ", Family::Apple),
    ("iTunes: ", Family::Apple),
    ("radio-error", Family::Apple),
    ("device returned success", Family::Apple),
    ("isDFU = 1", Family::Apple),
    ("\"finished\"", Family::Apple),
    // wrappers (§4.3)
    ("flash", Family::Wrapper),
    ("Flash", Family::Wrapper),
    ("Firmware is unpacking", Family::Wrapper),
    ("Switching to recovery mode", Family::Wrapper),
    ("switch mode succeeds", Family::Wrapper),
    ("Spent:", Family::Wrapper),
    ("3uTools", Family::Wrapper),
    ("iMazing", Family::Wrapper),
    ("（", Family::Wrapper),
    ("失败", Family::Wrapper),
    // identity in any format
    ("ProductType: ", Family::Identity),
    ("Device: ", Family::Identity),
    ("_Restore.ipsw", Family::Identity),
    ("(iPhone", Family::Identity),
    ("(iPad", Family::Identity),
    ("(iPod", Family::Identity),
    // firmware files and blobs name the board, the version and the build
    (".im4p", Family::Identity),
    (".img3", Family::Identity),
    (".dfu", Family::Identity),
    (".shsh", Family::Identity),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Lines built from signatures, fixture-like words and numbers, in any order.
    fn line() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            (0..SIGNATURES.len()).prop_map(|i| SIGNATURES[i].0.to_string()),
            prop::sample::select(vec![
                "BEGIN:",
                "END:",
                "FAILURE:",
                "0x060E",
                "[0x060E]",
                "status: ",
                "4013",
                "-1",
                "(",
                ")",
                ": ",
                "operation ",
                "progress ",
                "<Restore Device 0x6>: ",
                "error",
                "failed",
                "ECID: ",
                "0x1A2B",
                " ",
                "ASR STATUS: ",
                "fail",
                "Depth:",
            ])
            .prop_map(str::to_string),
            "[ -~]{0,12}",
        ];
        prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
    }

    proptest! {
        /// `read_hinted` skips a hinted parser that found nothing when it runs the full path;
        /// that is only the same as running it again if such a parser pushed nothing.
        #[test]
        fn hinted_failure_pushes_nothing(body in line()) {
            let mut out = Vec::new();
            if !apple::parse(&body, &mut out) {
                prop_assert!(out.is_empty(), "apple pushed {out:?} for {body:?}");
            }
            out.clear();
            if !restored::parse(&body, &mut out) {
                prop_assert!(out.is_empty(), "restored pushed {out:?} for {body:?}");
            }
        }
    }
}
