//! The device's own restore log (log_formats.md §3): `CHECKPOINT` events, `restore-step-*`
//! state, ASR, bbupdater, NAND, firmware updaters, FDR.

use crate::model::{CheckpointState, Tool};
use crate::signal::{FailKind, Signal};
use crate::text::{find_byte, leading_hex, leading_int, leading_u32, trim};
use kb::Stage;

/// Read one device-log line (prefix already stripped). Returns whether it was one.
pub fn parse(body: &str, out: &mut Vec<Signal>) -> bool {
    let line = trim(body);
    if let Some(r) = line.strip_prefix("CHECKPOINT ") {
        checkpoint(r, out);
        return true;
    }
    if let Some(r) = line
        .strip_prefix("restore-step-")
        .or_else(|| line.strip_prefix("executing /usr/sbin/nvram restore-step-"))
    {
        out.push(Signal::Format(Tool::Restored));
        if let Some(v) = r.strip_prefix("user-progress") {
            let v = v.trim_start().trim_start_matches('=').trim_start();
            if let Some(p) = leading_int(v) {
                out.push(Signal::UserProgress(p));
            }
        }
        return true;
    }
    // The progress bar restored draws on the device's screen (log_formats.md §3.2: ASR
    // progress lines come "interleaved with ramrod_display_set_granular_progress_forced:
    // <float>"): the same on-screen value as `restore-step-user-progress`.
    if let Some(r) = line
        .strip_prefix("ramrod_display_set_granular_progress_forced:")
        .or_else(|| line.strip_prefix("ramrod_display_set_granular_progress:"))
    {
        out.push(Signal::Format(Tool::Restored));
        if let Some(p) = screen_percent(r) {
            out.push(Signal::UserProgress(p));
        }
        return true;
    }
    if let Some(r) = line.strip_prefix("ASR STATUS: ") {
        if r.starts_with("fail") {
            if has!(r, "checksum") {
                out.push(Signal::Fail(FailKind::Specific(Stage::Verify)));
            } else {
                out.push(Signal::Fail(FailKind::Specific(Stage::ImageTransfer)));
            }
        }
        return true;
    }
    // Most lines contain none of the literals looked for anywhere below: one pass over the line
    // rules them all out (see `may_have_any!`).
    let maybe = may_have_any!(
        line,
        [
            "No space left on device",
            "client protocol version",
            "[NAND]",
            "failed to execute performNextStage on Rose updater",
            "SavageErrorDomain",
            "Failed to fetch remote firmware and request for Savage",
            "request for LLB data returned NULL",
            "proxy is enabled",
            "x-fdr-message",
            "ramrod_ticket_update_verify: invalid ticket",
            "no space for data",
            "failed to install splat",
            "restore_apfs_image : failed",
        ]
    );
    if has_if!(maybe, line, "No space left on device") {
        out.push(Signal::LowStorage);
        out.push(Signal::Fail(FailKind::Specific(Stage::ImageTransfer)));
        return true;
    }
    if let Some(r) = line.strip_prefix("ASR: ") {
        if r.starts_with("Checksum failed") || has!(r, "checksum failure") {
            out.push(Signal::Fail(FailKind::Specific(Stage::Verify)));
        } else if r.starts_with("Could not repartition") {
            // The storage layout on the device cannot be turned into the one being installed:
            // an older iOS over a newer layout (log_formats.md §3.4: FAILURE 14 on restore_images
            // is "could not repartition or write").
            out.push(Signal::Repartition);
            out.push(Signal::Fail(FailKind::Specific(Stage::Partition)));
        } else if r.starts_with("Could not access multicast stream")
            || r.starts_with("Could not restore")
        {
            out.push(Signal::Fail(FailKind::Specific(Stage::ImageTransfer)));
        }
        return true;
    }
    if let Some(r) = after_lit_if!(maybe, line, "client protocol version") {
        let r = r.trim_start_matches([' ', ':', '=']);
        if let Some(v) = leading_u32(r) {
            out.push(Signal::Protocol(v));
        }
        return true;
    }
    if line.starts_with("bbupdater: ")
        || line.starts_with("update_baseband: ")
        || line.starts_with("Update[Baseband] error")
    {
        if has!(line, "FAILED(")
            || has!(line, "BBUpdater error")
            || has!(line, "bbupdater error")
            || has!(line, "error - ")
        {
            out.push(Signal::Fail(FailKind::Specific(Stage::Baseband)));
        }
        return true;
    }
    if line.starts_with("Searching for NAND service")
        || line.starts_with("Found NAND service")
        || line.starts_with("NAND initialized")
    {
        out.push(Signal::Format(Tool::Restored));
        out.push(Signal::Note);
        return true;
    }
    if has_if!(maybe, line, "[NAND]") {
        let l = line.to_ascii_lowercase();
        if has!(l, "fail") || has!(l, "error") {
            out.push(Signal::Fail(FailKind::Weak(Stage::Nand)));
        }
        return true;
    }
    if has_if!(
        maybe,
        line,
        "failed to execute performNextStage on Rose updater"
    ) || has_if!(maybe, line, "SavageErrorDomain")
        || has_if!(
            maybe,
            line,
            "Failed to fetch remote firmware and request for Savage"
        )
        || has_if!(maybe, line, "request for LLB data returned NULL")
    {
        out.push(Signal::Fail(FailKind::Specific(Stage::Firmware)));
        return true;
    }
    if has_if!(maybe, line, "proxy is enabled")
        || has_if!(maybe, line, "x-fdr-message")
        || line.starts_with("AMFDRCreateError")
    {
        out.push(Signal::Fail(FailKind::Specific(Stage::Fdr)));
        return true;
    }
    if has_if!(maybe, line, "ramrod_ticket_update_verify: invalid ticket") {
        out.push(Signal::Fail(FailKind::Specific(Stage::Tss)));
        return true;
    }
    if has_if!(maybe, line, "no space for data") || has_if!(maybe, line, "failed to install splat")
    {
        out.push(Signal::Fail(FailKind::Weak(Stage::Other)));
        return true;
    }
    if let Some(r) = after_lit_if!(maybe, line, "restore_apfs_image : failed") {
        let _ = r;
        out.push(Signal::Fail(FailKind::Specific(Stage::ImageTransfer)));
        return true;
    }
    false
}

/// A percentage printed as a float (`47.000000`), rounded to a whole percent; `None` outside
/// 0..=100 or when it is no number.
fn screen_percent(r: &str) -> Option<i64> {
    let r = r.trim();
    let end = r
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(r.len());
    let value: f64 = r[..end].parse().ok()?;
    (0.0..=100.0).contains(&value).then(|| value.round() as i64)
}

/// `<KIND>[:(FAILURE:<code>)] <DOMAIN>:[0x<4 hex>] <name>[ <error-chain>]`
fn checkpoint(r: &str, out: &mut Vec<Signal>) {
    out.push(Signal::Format(Tool::Restored));
    let (state, rest) = if let Some(x) = r.strip_prefix("BEGIN:") {
        (CheckpointState::Begin, x)
    } else if let Some(x) = r.strip_prefix("END:") {
        (CheckpointState::End, x)
    } else if let Some(x) = r.strip_prefix("FAILURE:") {
        (CheckpointState::Failure, x)
    } else if let Some(x) = r.strip_prefix("IMMED_RETRY:") {
        (CheckpointState::Retry, x)
    } else if let Some(x) = r.strip_prefix("WARNING:") {
        (CheckpointState::Warning, x)
    } else {
        // NOTICE, PROGRESS, ANOMALY: `restore-step-user-progress=<n>` is worth keeping.
        if let Some(p) = after_lit!(r, "restore-step-user-progress=").and_then(leading_int) {
            out.push(Signal::UserProgress(p));
        }
        return;
    };
    let result = if matches!(
        state,
        CheckpointState::Failure | CheckpointState::Retry | CheckpointState::Warning
    ) {
        after_lit!(rest, "(FAILURE:").and_then(leading_int)
    } else {
        None
    };
    // The id is the first `[0x....]` after the domain.
    let Some(open) = find_lit!(rest, ":[0x")
        .map(|i| i + 2)
        .or_else(|| find_lit!(rest, "[0x").map(|i| i + 1))
    else {
        return;
    };
    let Some(raw) = leading_hex(&rest[open..]) else {
        return;
    };
    let after_id = find_byte(&rest[open..], b']')
        .map(|c| &rest[open + c + 1..])
        .unwrap_or("");
    let name = after_id
        .split_whitespace()
        .next()
        .filter(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .map(str::to_string);
    out.push(Signal::Checkpoint {
        id: (raw & 0xFFFF) as u32,
        name,
        state,
        result,
    });
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
    fn checkpoint_failure_with_chain() {
        let v = read(
            "CHECKPOINT FAILURE:(FAILURE:1100) (null):[0x065B] asr_and_invert_image [0]D(failed to restore APFS image)",
        );
        assert!(v.contains(&Signal::Checkpoint {
            id: 0x65B,
            name: Some("asr_and_invert_image".into()),
            state: CheckpointState::Failure,
            result: Some(1100)
        }));
        let v = read("CHECKPOINT BEGIN: RESTORED:[0x060E] update_NAND_firmware");
        assert!(v.contains(&Signal::Checkpoint {
            id: 0x60E,
            name: Some("update_NAND_firmware".into()),
            state: CheckpointState::Begin,
            result: None
        }));
    }

    #[test]
    fn asr_and_storage() {
        assert!(
            read("ASR: Could not restore - No space left on device").contains(&Signal::LowStorage)
        );
        assert!(
            read("ASR STATUS: fail: checksum failure")
                .contains(&Signal::Fail(FailKind::Specific(Stage::Verify)))
        );
        assert!(read("restore-step-user-progress = 47").contains(&Signal::UserProgress(47)));
    }

    #[test]
    fn granular_screen_progress_reads_as_the_on_screen_percent() {
        assert!(
            read("ramrod_display_set_granular_progress_forced: 47.000000")
                .contains(&Signal::UserProgress(47))
        );
        assert!(
            read("ramrod_display_set_granular_progress_forced: 62.6")
                .contains(&Signal::UserProgress(63))
        );
        for line in [
            "ramrod_display_set_granular_progress_forced: -1.000000",
            "ramrod_display_set_granular_progress_forced: 250.0",
            "ramrod_display_set_granular_progress_forced: nan",
            "ramrod_display_set_granular_progress_forced: ",
            "ramrod_display_set_granular_progress_forced: 1.2.3",
        ] {
            assert!(
                !read(line)
                    .iter()
                    .any(|s| matches!(s, Signal::UserProgress(_))),
                "{line}"
            );
        }
    }
}
