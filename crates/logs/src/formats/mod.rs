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
    let body: &str = &p.body;
    if body.is_empty() {
        return None;
    }
    let before_identity = out.len();
    identity::parse(body, out);
    let found_identity = out.len() > before_identity;
    let family = read_family(p, body, out);
    if family.is_none() && found_identity {
        return Some(if p.wrapper_own {
            Family::Wrapper
        } else {
            Family::Identity
        });
    }
    family
}

fn read_family(p: &Prefixed<'_>, body: &str, out: &mut Vec<Signal>) -> Option<Family> {
    if p.wrapper_own {
        return wrapper::parse(body, out).then_some(Family::Wrapper);
    }
    if p.source == Source::Device {
        if restored::parse(body, out) {
            return Some(Family::Restored);
        }
        let before = out.len();
        idevicerestore::parse(body, out);
        return (out.len() > before).then_some(Family::Restored);
    }
    if apple::parse(body, out) {
        return Some(Family::Apple);
    }
    if restored::parse(body, out) {
        return Some(Family::Restored);
    }
    if futurerestore::parse(body, out) {
        return Some(Family::Futurerestore);
    }
    let before = out.len();
    idevicerestore::parse(body, out);
    if out.len() > before {
        return Some(Family::Idevicerestore);
    }
    if wrapper::parse(body, out) {
        return Some(Family::Wrapper);
    }
    None
}

/// Literal byte strings at least one of which appears in every line any parser reads.
///
/// The analyser runs one Aho-Corasick pass over the input with these (plus the operation labels
/// of the knowledge base, see [`crate::signatures`]) and parses only the lines that match; the
/// benchmark hands the same list to `rg -c -F -f`.
pub const SIGNATURES: &[&str] = &[
    // idevicerestore (§1)
    "idevicerestore ",
    "Found device in ",
    "ECID",
    "Identified device as ",
    "ChipID: ",
    "BoardID: ",
    "Product Version: ",
    "Product Build: ",
    "serial number is ",
    "Connected to com.apple.mobile.restored",
    "Checkpoint ",
    "Status: ",
    "Unhandled status message",
    "TSS ",
    "STATUS=",
    "Unable to ",
    "Device did not ",
    "Device failed to enter",
    "Device reconnected in ",
    "successfully entered restore mode",
    "Could not read data",
    "No data to read",
    "didn't accept BasebandData",
    "Updating Baseband completed",
    "ASR",
    "DONE",
    "RESTORE FAILED",
    "Log is available",
    "Restore Log Received",
    "restored crashed",
    "Checksum does not match",
    "File download failed",
    "Firmware file might be corrupt",
    "Entering recovery mode",
    "Sending iBSS",
    "Sending iBEC",
    "Received SHSH blobs",
    "Done sending FirmwareUpdater",
    "_event_cb: device ",
    "operation (",
    "NOT being signed",
    // futurerestore (§2)
    "futurerestore",
    "[exception]",
    "what=",
    "Done: restoring ",
    "Failed with error",
    "Fail code=",
    "APTicket",
    "Booting iB",
    "no device found",
    // restored (§3)
    "CHECKPOINT ",
    "restore-step-",
    "client protocol version",
    "No space left on device",
    "bbupdater",
    "BBUpdater",
    "Update[Baseband]",
    "NAND",
    "Rose updater",
    "SavageErrorDomain",
    "request for Savage",
    "LLB data returned NULL",
    "proxy is enabled",
    "x-fdr-message",
    "AMFDRCreateError",
    "invalid ticket",
    "no space for data",
    "failed to install splat",
    "restore_apfs_image",
    // Apple library (§4, §5)
    " Device ",
    "checkpoint id: ",
    "Changing state from ",
    "Restore completed",
    "Restore error ",
    "failed with error: ",
    "Depth:",
    "Unexpected device state",
    "Device removed when",
    "Transitioning device returned",
    "Device isn't booted",
    "Timer fired to timeout",
    "disappeared during transition",
    " Restore Phase: ",
    "pipe stall",
    "USBControlTransfer",
    "command device request",
    "AMRUSBDevice error",
    "amai: ",
    "chipid=0x",
    "ECID=",
    "restore library built",
    "iTunes: ",
    "radio-error",
    "device returned success",
    "isDFU = 1",
    "\"finished\"",
    // wrappers (§4.3)
    "flash",
    "Flash",
    "Firmware is unpacking",
    "Switching to recovery mode",
    "switch mode succeeds",
    "Spent:",
    "3uTools",
    "iMazing",
    "（",
    "失败",
    // identity in any format
    "ProductType: ",
    "Device: ",
    "_Restore.ipsw",
    "(iPhone",
    "(iPad",
    "(iPod",
];
