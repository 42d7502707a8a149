//! Apple's MobileDevice restore library (iTunes, Apple Devices, Finder, Apple Configurator) as
//! quoted by its own logs, 3uTools, iMazing and unified-log exports (log_formats.md §4, §5).

use crate::model::{CheckpointState, Mode, RestoreKind, Tool};
use crate::signal::{FailKind, Signal};
use crate::text::{find_byte, first_word, leading_hex, leading_int, trim};
use kb::Stage;

/// Where `>: ` first occurs in `line` (the end of a `<Restore Device 0x…>` object): what
/// `find_lit!(line, ">: ")` finds, by memchr on `>` (a memmem search costs more to start
/// than the short run to the object's end).
fn object_end(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    memchr::memchr_iter(b'>', b).find(|&i| b[i + 1..].starts_with(b": "))
}

/// The rest of `r` (`12 progress 45`) after its first `progress `: what
/// `after_lit!(r, "progress ")` returns, at once when only the operation's number comes first
/// (no `progress ` can start among its digits).
fn after_progress(r: &str) -> Option<&str> {
    let digits = r.bytes().take_while(u8::is_ascii_digit).count();
    match r[digits..].strip_prefix(" progress ") {
        Some(rest) => Some(rest),
        None => after_lit!(r, "progress "),
    }
}

/// Read one library line (prefixes already stripped). Returns whether it was one.
pub fn parse(body: &str, out: &mut Vec<Signal>) -> bool {
    let line = trim(body);
    if line.starts_with(": operation ") {
        return object_eaten_operation(line, out);
    }
    if line.starts_with('<')
        && let Some(close) = object_end(line)
    {
        let object = &line[1..close];
        let msg = &line[close + 3..];
        let kind = if object.starts_with("Restore Device") {
            Some(true)
        } else if object.starts_with("Recovery Mode Device") || object.starts_with("DFU Device") {
            Some(false)
        } else {
            None
        };
        if let Some(restore_phase) = kind {
            out.push(Signal::Format(Tool::Itunes));
            // The object names the mode the device is in (the restore mode is reached only
            // when its first operation is read, see the analyser).
            if object.starts_with("DFU Device") {
                out.push(Signal::Mode(Mode::Dfu));
            } else if object.starts_with("Recovery Mode Device") {
                out.push(Signal::Mode(Mode::Recovery));
            }
            if let Some(r) = msg.strip_prefix("operation ") {
                let Some(id) = leading_int(r) else {
                    return true;
                };
                let progress = after_progress(r).and_then(leading_int);
                if (0..=10_000).contains(&id) {
                    out.push(Signal::Operation {
                        raw_id: id as u32,
                        label: None,
                        progress,
                        restore_phase,
                    });
                }
            } else if msg.starts_with("Restore succeeded") {
                out.push(Signal::Success);
            } else if msg.starts_with("Recovery mode succeeded") {
                out.push(Signal::Mode(Mode::Recovery));
                out.push(Signal::Progressed);
            } else if has!(msg, "failed") {
                out.push(Signal::Fail(FailKind::Final));
            }
            return true;
        }
    }
    if let Some(r) = line
        .strip_prefix("Started checkpoint id: ")
        .or_else(|| line.strip_prefix("Completed checkpoint id: "))
    {
        let state = if line.starts_with("Started") {
            CheckpointState::Begin
        } else {
            CheckpointState::End
        };
        if let Some(raw) = leading_hex(r) {
            let name = find_byte(r, b'(')
                .and_then(|o| {
                    find_byte(&r[o + 1..], b')').map(|c| r[o + 1..o + 1 + c].trim().to_string())
                })
                .filter(|n| !n.is_empty());
            out.push(Signal::Format(Tool::Itunes));
            out.push(Signal::Checkpoint {
                id: (raw & 0xFFFF) as u32,
                name,
                state,
                result: None,
            });
        }
        return true;
    }
    if let Some(r) = line.strip_prefix("Changing state from '") {
        out.push(Signal::Format(Tool::Itunes));
        let to = after_lit!(r, "to '").map(|t| t.trim_end_matches('\''));
        match to {
            Some("Disappeared") => out.push(Signal::Fail(FailKind::Disconnect)),
            Some("Transitioning") => out.push(Signal::Removed),
            Some("Restoring") => out.push(Signal::Progressed),
            _ => {}
        }
        return true;
    }
    if let Some(r) = line.strip_prefix("Restore completed, status: ") {
        out.push(Signal::Format(Tool::Itunes));
        if let Some(code) = leading_int(r) {
            if code == 0 {
                out.push(Signal::Success);
            } else {
                out.push(Signal::ErrorCode(code));
            }
        }
        return true;
    }
    // Most lines contain none of the literals looked for anywhere below: one pass over the line
    // rules them all out (see `may_have_any!`).
    let maybe = may_have_any!(
        line,
        [
            "Restore error ",
            "RestoreWithError failed with error: ",
            "Unexpected device state",
            "pipe stall",
            "AMRUSBDevice error",
            "chipid=0x",
            "with ECID=",
            "with ECID: ",
        ]
    );
    if let Some(r) = after_lit_if!(maybe, line, "Restore error ") {
        if line.starts_with("AMPDevicesAgent") {
            out.push(Signal::Format(Tool::Finder));
        }
        if let Some(code) = leading_int(r) {
            out.push(Signal::ErrorCode(code));
        }
        return true;
    }
    if let Some(r) = after_lit_if!(maybe, line, "RestoreWithError failed with error: ") {
        if let Some(code) = leading_int(r) {
            out.push(Signal::ErrorCode(code));
        }
        return true;
    }
    if line.starts_with("Depth:") {
        if let Some(code) = after_lit!(line, "Code:").and_then(leading_int) {
            out.push(Signal::ErrorCode(code));
        }
        return true;
    }
    if has_if!(maybe, line, "Unexpected device state") {
        if let Some(code) = after_lit!(line, "Code=").and_then(leading_int) {
            out.push(Signal::ErrorCode(code));
        }
        out.push(Signal::Fail(FailKind::Specific(Stage::Reboot)));
        return true;
    }
    if line.starts_with("Device removed when in state") {
        out.push(Signal::Removed);
        return true;
    }
    if line.starts_with("Transitioning device returned")
        || line.starts_with("Device isn't booted but USB is up")
    {
        out.push(Signal::Progressed);
        return true;
    }
    if line.starts_with("Timer fired to timeout transitioning device")
        || line.starts_with("Device disappeared during transition")
    {
        out.push(Signal::Fail(FailKind::Disconnect));
        return true;
    }
    if let Some(r) = line.strip_prefix("Finished ") {
        if let Some(phase) = r.strip_suffix(" Restore Phase: Successful") {
            if phase == "RestoreOS" {
                out.push(Signal::Success);
            } else {
                if let Some(m) = Mode::parse(phase) {
                    out.push(Signal::Mode(m));
                }
                out.push(Signal::Progressed);
            }
            return true;
        }
        if has!(r, "Restore Phase: Failed") {
            out.push(Signal::Fail(FailKind::Final));
            return true;
        }
    }
    if has_if!(maybe, line, "pipe stall")
        || line.starts_with("USBControlTransfer: error")
        || (line.starts_with("command device request for") && has!(line, "failed"))
        || has_if!(maybe, line, "AMRUSBDevice error")
    {
        out.push(Signal::UsbTrouble);
        out.push(Signal::Fail(FailKind::Weak(Stage::Usb)));
        return true;
    }
    if let Some(r) = line.strip_prefix("amai: ") {
        if has!(r, "TSS Connection attempt 3 of 3") {
            out.push(Signal::TssUnreachable);
            out.push(Signal::Fail(FailKind::Weak(Stage::Tss)));
        } else if let Some(status) = after_lit!(r, "STATUS=").and_then(leading_int) {
            if matches!(status, 94 | 69) {
                out.push(Signal::TssRefused);
                out.push(Signal::Fail(FailKind::Specific(Stage::Tss)));
            }
        } else if has!(r, "not eligible") || has!(r, "isn't eligible") {
            out.push(Signal::TssRefused);
            out.push(Signal::Fail(FailKind::Specific(Stage::Tss)));
        }
        return true;
    }
    if line.starts_with("personalizing: ") || has_if!(maybe, line, "chipid=0x") {
        if let Some(v) = after_lit!(line, "chipid=").and_then(leading_hex) {
            out.push(Signal::Cpid(v as u32));
        }
        if let Some(v) = after_lit!(line, "boardid=").and_then(leading_hex) {
            out.push(Signal::Bdid(v as u32));
        }
        if let Some(v) = after_lit!(line, "ecid=").and_then(leading_hex) {
            out.push(Signal::Ecid(format!("0x{v:X}")));
        }
        return true;
    }
    if let Some(r) = after_lit_if!(maybe, line, "with ECID=")
        .or_else(|| after_lit_if!(maybe, line, "with ECID: "))
    {
        if let Some(v) = leading_hex(r) {
            out.push(Signal::Ecid(format!("0x{v:X}")));
        }
        if line.starts_with("Recovery mode device connected") {
            out.push(Signal::Mode(Mode::Recovery));
        }
        return true;
    }
    if line.starts_with("device connected (isDFU = 1)") {
        out.push(Signal::Mode(Mode::Dfu));
        return true;
    }
    if let Some(r) = line.strip_prefix("requested restore behavior: ") {
        // `Erase` or `Update` (log_formats.md §4.2).
        match first_word(r) {
            "Erase" => out.push(Signal::Kind(RestoreKind::Restore)),
            "Update" => out.push(Signal::Kind(RestoreKind::Update)),
            _ => {}
        }
        return true;
    }
    if line.starts_with("restore library built") {
        out.push(Signal::Format(Tool::Itunes));
        return true;
    }
    if let Some(r) = line.strip_prefix("iTunes: ") {
        out.push(Signal::Format(Tool::Itunes));
        if let Some(b) = r.strip_prefix("Software payload version: ") {
            out.push(Signal::TargetBuild(first_word(b).to_string()));
        }
        return true;
    }
    if line.starts_with("radio-error") {
        if let Some(v) = after_lit!(line, "radio-error")
            .map(|r| r.trim_start_matches([' ', '=']))
            .and_then(leading_int)
            && v != 0
        {
            out.push(Signal::Warn);
        }
        return true;
    }
    if line.starts_with("device returned success") {
        out.push(Signal::Progressed);
        return true;
    }
    false
}

/// Ids the library's Recovery Mode and DFU objects emit (log_formats.md §4: 4, 42, 5, 6, 7,
/// 8, 9, 31; DFU 0, 1) that the restore table also has: without the object they say nothing.
const PHASE_AMBIGUOUS_IDS: [i64; 2] = [31, 42];
/// The restore table starts at 11: lower ids are the recovery/DFU bootstrap's.
const FIRST_RESTORE_ID: i64 = 11;

/// `: operation <id> progress <p>` and nothing else: a library operation line whose
/// `<Restore Device …>` object a Markdown renderer ate as an unknown HTML tag (a log pasted
/// into a rendered GitHub comment). Without the object the phase comes from the id: restored
/// ids (11 and up) are restore operations, lower ids bootstrap steps; 31 and 42 occur in both
/// phases and are not read as operations. Returns whether the line had that exact shape.
fn object_eaten_operation(line: &str, out: &mut Vec<Signal>) -> bool {
    let r = &line[": operation ".len()..];
    let id_len = r.bytes().take_while(u8::is_ascii_digit).count();
    let Some(p) = r.get(id_len..).and_then(|p| p.strip_prefix(" progress ")) else {
        return false;
    };
    let digits = p.strip_prefix('-').unwrap_or(p);
    if id_len == 0 || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (Some(id), Some(progress)) = (leading_int(r), leading_int(p)) else {
        return false;
    };
    if !(0..=10_000).contains(&id) {
        return false;
    }
    out.push(Signal::Format(Tool::Itunes));
    if !PHASE_AMBIGUOUS_IDS.contains(&id) {
        out.push(Signal::Operation {
            raw_id: id as u32,
            label: None,
            progress: Some(progress),
            restore_phase: id >= FIRST_RESTORE_ID,
        });
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The byte-level searches find what the memmem searches find.
        #[test]
        fn object_end_and_progress_as_memmem(
            line in "[<>: 0-9a-z]{0,40}(>: |progress |operation )?[<>: 0-9a-z]{0,20}"
        ) {
            proptest::prop_assert_eq!(object_end(&line), find_lit!(line, ">: "));
            proptest::prop_assert_eq!(after_progress(&line), after_lit!(&line, "progress "));
        }
    }

    fn read(line: &str) -> Vec<Signal> {
        let mut v = Vec::new();
        parse(line, &mut v);
        v
    }

    #[test]
    fn library_lines() {
        assert!(
            read("<Restore Device 0000021F6A3D1E40>: operation 58 progress -1").contains(
                &Signal::Operation {
                    raw_id: 58,
                    label: None,
                    progress: Some(-1),
                    restore_phase: true
                }
            )
        );
        assert!(
            read("<Recovery Mode Device 0x191823f0>: operation 4 progress 3").contains(
                &Signal::Operation {
                    raw_id: 4,
                    label: None,
                    progress: Some(3),
                    restore_phase: false
                }
            )
        );
        // The object names the device's mode.
        assert!(
            read("<Recovery Mode Device 0x191823f0>: operation 4 progress 3")
                .contains(&Signal::Mode(Mode::Recovery))
        );
        assert!(
            read("<DFU Device 0x000000000BE1D7A0>: operation 2 progress -1")
                .contains(&Signal::Mode(Mode::Dfu))
        );
        assert!(
            !read("<Restore Device 0x0BE1D7A0>: operation 28 progress -1")
                .iter()
                .any(|s| matches!(s, Signal::Mode(_)))
        );
        assert!(read("Restore completed, status: 4013").contains(&Signal::ErrorCode(4013)));
        assert!(read("Restore completed, status: 0").contains(&Signal::Success));
        assert!(
            read("Changing state from 'Transitioning' to 'Disappeared'")
                .contains(&Signal::Fail(FailKind::Disconnect))
        );
        assert!(
            read("USBControlTransfer: error 31, usbd status c0000004")
                .contains(&Signal::UsbTrouble)
        );
        assert!(read("Depth:0 Code:4013 Error:whatever").contains(&Signal::ErrorCode(4013)));
    }

    #[test]
    fn operation_whose_object_a_renderer_ate() {
        assert_eq!(
            read(": operation 58 progress -1"),
            vec![
                Signal::Format(Tool::Itunes),
                Signal::Operation {
                    raw_id: 58,
                    label: None,
                    progress: Some(-1),
                    restore_phase: true
                }
            ]
        );
        // Bootstrap ids stay bootstrap steps; 31 and 42 (both phases) are no operation.
        assert!(
            read(": operation 4 progress -1").contains(&Signal::Operation {
                raw_id: 4,
                label: None,
                progress: Some(-1),
                restore_phase: false
            })
        );
        for id in [31, 42] {
            let v = read(&format!(": operation {id} progress -1"));
            assert_eq!(v, vec![Signal::Format(Tool::Itunes)], "{id}");
        }
        // Only that exact shape.
        for line in [
            ": operation 58",
            ": operation 58 progress",
            ": operation 58 progress -1 and more",
            ": operation -58 progress -1",
            ": operation 58 progress x",
            ": operation  58 progress -1",
            ": operation 99999 progress 1",
            "x: operation 58 progress -1",
            "ERROR: operation 58 progress -1",
        ] {
            let mut v = Vec::new();
            let read_it = parse(line, &mut v);
            assert!(
                !v.iter().any(|s| matches!(s, Signal::Operation { .. })),
                "{line}: {v:?}"
            );
            assert!(!read_it && v.is_empty(), "{line}: {v:?}");
        }
    }
}
