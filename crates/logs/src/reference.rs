//! Lookups in the knowledge base's restore tables, indexed once for speed.

use crate::model::{CheckpointRef, OperationRef};
use crate::text::{LOWER_BUF, ascii_lowercase};
use kb::Stage;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

struct Index {
    /// label (lower case) → operation id, over current, other and legacy labels.
    label_to_op: HashMap<String, u32>,
    /// The words of each current label (lower case, split on anything not alphanumeric),
    /// for [`operation_by_constant_name`].
    label_words: Vec<(u32, Vec<String>)>,
    /// Operations and checkpoints sorted by id, for a binary search (the knowledge base's
    /// lookups scan its tables; a hash costs more than a search of 80 ids).
    operations: Vec<&'static kb::RestoreOperation>,
    /// With each checkpoint its id as printed (`0x60E`).
    checkpoints: Vec<(&'static kb::Checkpoint, String)>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut label_to_op = HashMap::new();
        let mut label_words = Vec::new();
        for op in &kb::kb().tables().operations {
            if !op.label.is_empty() {
                label_to_op.insert(op.label.to_ascii_lowercase(), op.id);
                let words = op
                    .label
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_ascii_lowercase)
                    .collect();
                label_words.push((op.id, words));
            }
        }
        let tables = kb::kb().tables();
        Index {
            label_to_op,
            label_words,
            operations: {
                let mut v: Vec<_> = tables.operations.iter().collect();
                v.sort_by_key(|o| o.id);
                v
            },
            checkpoints: {
                let mut v: Vec<_> = tables
                    .checkpoints
                    .iter()
                    .map(|c| (c, crate::model::hex_id(c.id)))
                    .collect();
                v.sort_by_key(|(c, _)| c.id);
                v
            },
        }
    })
}

/// Every operation label the knowledge base knows (current, other and legacy spellings), for
/// the signature prefilter.
pub(crate) fn operation_labels() -> Vec<String> {
    let mut v = Vec::new();
    for op in &kb::kb().tables().operations {
        for l in std::iter::once(&op.label)
            .chain(op.other_labels.iter())
            .chain(op.legacy_label.iter())
        {
            let l = label_head(l);
            if l.len() >= 6 && l.as_bytes()[0].is_ascii_uppercase() {
                v.push(format!("{l} ("));
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

/// `other_labels` entries carry a note in parentheses: keep the label itself.
fn label_head(l: &str) -> &str {
    l.split(" (").next().unwrap_or(l).trim()
}

fn label_matches(op: &kb::RestoreOperation, label: &str, legacy: bool) -> bool {
    if legacy {
        return op
            .legacy_label
            .as_deref()
            .is_some_and(|l| label_head(l).eq_ignore_ascii_case(label));
    }
    op.label.eq_ignore_ascii_case(label)
        || op
            .other_labels
            .iter()
            .any(|l| label_head(l).eq_ignore_ascii_case(label))
}

/// Resolve an operation line: the number printed, the label printed (idevicerestore) and the
/// restore protocol version when known. NOTES.md: ids above 35 are one lower for protocol < 14;
/// idevicerestore corrects the label but prints the raw number (log_formats.md §7.1).
pub(crate) fn resolve_operation(
    raw: u32,
    label: Option<&str>,
    protocol: Option<u32>,
) -> (OperationRef, Option<Stage>) {
    let shifted = protocol.is_some_and(|p| p < 14) && raw > 35;
    let mut id = if shifted { raw + 1 } else { raw };
    if let Some(label) = label.filter(|l| !l.eq_ignore_ascii_case("Unknown operation")) {
        let here = operation(raw);
        let next = operation(raw + 1);
        if here.is_some_and(|op| label_matches(op, label, false)) {
            id = raw;
        } else if raw > 35 && next.is_some_and(|op| label_matches(op, label, false)) {
            id = raw + 1;
        } else if here.is_some_and(|op| label_matches(op, label, true)) {
            // Pre-2016 idevicerestore: the label was off by one, the number is right.
            id = raw;
        } else if let Some(&found) = index().label_to_op.get(&label.to_ascii_lowercase()) {
            id = found;
        }
    }
    let op = operation(id);
    let known = op.map(|o| o.label.as_str()).filter(|l| !l.is_empty());
    let op_ref = OperationRef {
        id,
        // Borrowed: the knowledge base's label; else the printed one (one allocation).
        label: match (known, label) {
            (Some(k), _) => Cow::Borrowed(k),
            (None, Some(l)) => Cow::Owned(l.to_string()),
            (None, None) => Cow::Borrowed("Unknown operation"),
        },
        raw_id: (id != raw).then_some(raw),
    };
    // Ids above 77 are unstable across iOS versions: no stage from the id alone.
    let stage = op
        .filter(|o| o.id <= 77 || label.is_some())
        .map(|o| o.stage);
    (op_ref, stage)
}

/// The operation id of a name in C-constant style (`UPDATE_NAND_FIRMWARE`, `WAIT_FOR_NAND`,
/// `CREATE_SYSTEM_KEYBAG`, `EXEC_IBOOT`): the names idevicerestore's `restore.h` gives the
/// operations and pymobiledevice3 prints in its `progress-bar:` lines (log_formats.md §2.2).
///
/// Read against the knowledge base's current labels, not a table of names: each word of the
/// name must abbreviate the label's words in order (the first word the first one, letters in
/// order from the start of a word, later words may be skipped, a name word may run over
/// several label words: `FIXUP` = "Fixing up", `DATETIME` = "date and time", `FS` =
/// "Filesystem"). A trailing `e` is dropped so that `CREATE` reads "Creating" and `WIPE`
/// "Wiping". Of several labels that fit, the one with the fewest words left over wins; a tie
/// names no operation.
pub(crate) fn operation_by_constant_name(name: &str) -> Option<u32> {
    // pymobiledevice3 prints the same few dozen names on every progress line: remember the
    // answers (per reader thread, a bounded number of names, so odd input cannot grow it).
    const REMEMBERED: usize = 256;
    thread_local! {
        static SEEN: std::cell::RefCell<std::collections::HashMap<Box<str>, Option<u32>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    if let Some(known) = SEEN.with(|m| m.borrow().get(name).copied()) {
        return known;
    }
    let id = operation_by_constant_name_uncached(name);
    SEEN.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() < REMEMBERED {
            m.insert(name.into(), id);
        }
    });
    id
}

fn operation_by_constant_name_uncached(name: &str) -> Option<u32> {
    let tokens: Vec<String> = name
        .split('_')
        .filter(|t| !t.is_empty())
        .map(|t| {
            let t = t.to_ascii_lowercase();
            match t.strip_suffix('e') {
                Some(stem) if t.len() > 3 => stem.to_string(),
                _ => t,
            }
        })
        .collect();
    if tokens.is_empty()
        || tokens
            .iter()
            .any(|t| !t.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return None;
    }
    let mut best: Option<(usize, u32)> = None;
    let mut tie = false;
    for (id, words) in &index().label_words {
        let Some(left_over) = abbreviates(&tokens, words) else {
            continue;
        };
        match best {
            Some((b, _)) if left_over > b => {}
            Some((b, _)) if left_over == b => tie = true,
            _ => {
                best = Some((left_over, *id));
                tie = false;
            }
        }
    }
    best.filter(|_| !tie).map(|(_, id)| id)
}

/// Whether `tokens` abbreviate `words` (see [`operation_by_constant_name`]); the number of
/// label words no token touched.
fn abbreviates(tokens: &[String], words: &[String]) -> Option<usize> {
    let mut word = 0;
    let mut touched = 0;
    for (n, token) in tokens.iter().enumerate() {
        // The first token starts the label; the others may skip words.
        let starts = if n == 0 { 0..1 } else { word..words.len() };
        let mut matched = None;
        for start in starts {
            if let Some(end) = spell(token.as_bytes(), &words[start..]) {
                matched = Some((start, start + end));
                break;
            }
        }
        let (start, end) = matched?;
        touched += end - start + 1;
        word = end + 1;
    }
    Some(words.len() - touched)
}

/// `token` spelled by letters taken in order from `words`, starting with the first letter of
/// the first word and moving on to a later word at any point; the index of the last word used.
fn spell(token: &[u8], words: &[String]) -> Option<usize> {
    let first = words.first()?.as_bytes();
    if token.first() != first.first() {
        return None;
    }
    let (mut w, mut i) = (0, 1);
    for &c in &token[1..] {
        loop {
            let bytes = words.get(w)?.as_bytes();
            if i < bytes.len() && bytes[i] == c {
                i += 1;
                break;
            }
            if i < bytes.len() {
                i += 1;
            } else {
                w += 1;
                i = 0;
            }
        }
    }
    Some(w)
}

/// The stage of an operation id (as the timeline keeps it: corrected for the protocol).
pub(crate) fn operation_stage(id: u32) -> Option<Stage> {
    operation(id).filter(|o| o.id <= 77).map(|o| o.stage)
}

/// The stage of a checkpoint by masked id.
pub(crate) fn checkpoint_stage(id: u32) -> Option<Stage> {
    checkpoint(id).map(|c| c.stage)
}

/// A checkpoint by masked id, with its name from the log or the knowledge base.
/// Takes the printed name by value: it becomes the reference's name without a copy.
pub(crate) fn resolve_checkpoint(id: u32, name: Option<String>) -> (CheckpointRef, Option<Stage>) {
    let by_id = checkpoint(id);
    // Without the id, the stage depends on the name alone.
    let by_name = match (by_id, &name) {
        (None, Some(n)) => stage_by_name(n),
        _ => None,
    };
    // The knowledge base's spelling when the log printed the same (or nothing).
    let name: Option<Cow<'static, str>> = match (name, by_id) {
        (Some(n), Some(c)) if n == c.name => Some(Cow::Borrowed(c.name.as_str())),
        (Some(n), _) => Some(Cow::Owned(n)),
        (None, c) => c.map(|c| Cow::Borrowed(c.name.as_str())),
    };
    let stage = by_id.map(|c| c.stage).or(by_name);
    (CheckpointRef::new(id, name), stage)
}

/// The stage of a checkpoint the knowledge base does not know by id: by its name there, or
/// read off the name. Remembers the last name asked (per thread): a checkpoint's `Started`
/// and `Completed` lines come in pairs, and the name search and reading cost more than the
/// rest of the line's fold.
fn stage_by_name(name: &str) -> Option<Stage> {
    thread_local! {
        static LAST: std::cell::RefCell<(String, Option<Stage>)> =
            const { std::cell::RefCell::new((String::new(), None)) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0.is_empty() || last.0 != name {
            let stage = kb::kb()
                .checkpoint_by_name(name)
                .map(|c| c.stage)
                .or_else(|| stage_from_checkpoint_name(name));
            last.0.clear();
            last.0.push_str(name);
            last.1 = stage;
        }
        last.1
    })
}

/// `0x60E` for a checkpoint the knowledge base knows (made once), so that checkpoint entries
/// borrow it instead of formatting it per line.
pub(crate) fn checkpoint_hex_id(num: u32) -> Option<&'static str> {
    indexed_checkpoint(num).map(|(_, hex)| hex.as_str())
}

fn operation(id: u32) -> Option<&'static kb::RestoreOperation> {
    let ops = &index().operations;
    let i = ops.binary_search_by_key(&id, |o| o.id).ok()?;
    Some(ops[i])
}

fn checkpoint(id: u32) -> Option<&'static kb::Checkpoint> {
    indexed_checkpoint(id).map(|(c, _)| *c)
}

fn indexed_checkpoint(id: u32) -> Option<&'static (&'static kb::Checkpoint, String)> {
    let cps = &index().checkpoints;
    let i = cps.binary_search_by_key(&id, |(c, _)| c.id).ok()?;
    Some(&cps[i])
}

/// Checkpoint names drift (`update_baseband_legacy`); read the obvious ones. (The name is
/// lowered on the stack, and searched with memmem finders built once.)
fn stage_from_checkpoint_name(name: &str) -> Option<Stage> {
    let mut buf = [0u8; LOWER_BUF];
    let n = ascii_lowercase(name, &mut buf);
    let n: &str = &n;
    Some(if has!(n, "baseband") {
        Stage::Baseband
    } else if has!(n, "nand") || has!(n, "storage") {
        Stage::Nand
    } else if has!(n, "fdr") {
        Stage::Fdr
    } else if has!(n, "sep") {
        Stage::Sep
    } else if n.starts_with("update_") {
        Stage::Firmware
    } else {
        return None;
    })
}

/// A `Status:` text or number → (code, stage).
pub(crate) fn resolve_status(code: Option<i64>, text: &str) -> (Option<i64>, Option<Stage>) {
    let kb = kb::kb();
    if let Some(c) = code {
        return (Some(c), kb.restore_status(c).and_then(|s| s.stage));
    }
    let wanted = text.trim().trim_end_matches('.');
    for s in &kb.tables().statuses {
        let ls = s
            .log_string
            .strip_prefix("Status: ")
            .unwrap_or(&s.log_string);
        if ls.trim_end_matches('.').eq_ignore_ascii_case(wanted) {
            return (Some(s.status), s.stage);
        }
    }
    // pymobiledevice3 prints lower-case texts.
    let w = wanted.to_ascii_lowercase();
    let stage = if w.contains("fdr") {
        Some(Stage::Fdr)
    } else if w.contains("sep") {
        Some(Stage::Sep)
    } else if w.contains("disk") {
        Some(Stage::Nand)
    } else if w.contains("baseband") {
        Some(Stage::Baseband)
    } else if w.contains("mount") {
        Some(Stage::Filesystem)
    } else if w.contains("verification") {
        Some(Stage::Verify)
    } else {
        None
    };
    (None, stage)
}

/// Name of a device from its product type.
pub(crate) fn device_name(product_type: &str) -> Option<String> {
    kb::kb().device(product_type).map(|d| d.name.clone())
}

/// Product type from CPID/BDID.
pub(crate) fn product_type_for(cpid: u32, bdid: u32) -> Option<String> {
    kb::kb()
        .device_by_cpid_bdid(cpid, bdid)
        .map(|d| d.product_type.clone())
}

/// Product type from a board name (`n71map`).
pub(crate) fn product_type_for_board(board: &str) -> Option<String> {
    kb::kb()
        .device_by_board(board)
        .map(|d| d.product_type.clone())
}

/// A known fault of this model whose cause matches the stage (NAND, baseband...).
pub(crate) fn known_fault_hint(product_type: &str, stage: Stage) -> Option<String> {
    let cause = match stage {
        Stage::Nand => "nand",
        Stage::Baseband => "baseband",
        _ => return None,
    };
    kb::kb()
        .known_faults_for(product_type)
        .into_iter()
        .find(|f| f.cause == cause)
        .map(|f| f.title.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_from_checkpoint_names_in_any_case() {
        for (n, stage) in [
            ("update_baseband_legacy", Some(Stage::Baseband)),
            ("UPDATE_BASEBAND", Some(Stage::Baseband)),
            ("wait_for_NAND", Some(Stage::Nand)),
            ("Storage_check", Some(Stage::Nand)),
            ("recover_fdr", Some(Stage::Fdr)),
            ("load_SEP_os", Some(Stage::Sep)),
            ("Update_rose", Some(Stage::Firmware)),
            ("update", None),
            ("fd", None),
            ("", None),
        ] {
            assert_eq!(stage_from_checkpoint_name(n), stage, "{n}");
        }
        // Longer than the stack buffer.
        let long = format!("{}baseband", "x".repeat(LOWER_BUF));
        assert_eq!(stage_from_checkpoint_name(&long), Some(Stage::Baseband));
    }

    #[test]
    fn labels_resolve_with_and_without_shift() {
        let (op, stage) = resolve_operation(58, Some("Updating NAND Firmware"), Some(15));
        assert_eq!((op.id, stage), (58, Some(Stage::Nand)));
        let (op, _) = resolve_operation(58, Some("Updating S3E Firmware"), None);
        assert_eq!(op.id, 58);
        // protocol 13: the device sends 57 for "Updating NAND Firmware"
        let (op, _) = resolve_operation(57, Some("Updating NAND Firmware"), Some(13));
        assert_eq!((op.id, op.raw_id), (58, Some(57)));
        let (op, _) = resolve_operation(57, None, Some(13));
        assert_eq!(op.id, 58);
        // pre-2016 label for 28
        let (op, stage) = resolve_operation(28, Some("Partition NAND device"), None);
        assert_eq!((op.id, stage), (28, Some(Stage::Nand)));
    }

    /// The names pymobiledevice3 prints for the operations (its `PROGRESS_BAR_OPERATIONS`,
    /// the constants of idevicerestore's `restore.h`), with their ids: every one is read
    /// from the knowledge base's labels.
    const CONSTANT_NAMES: &[(&str, u32)] = &[
        ("CREATE_PARTITION_MAP", 11),
        ("CREATE_FILESYSTEM", 12),
        ("RESTORE_IMAGE", 13),
        ("VERIFY_RESTORE", 14),
        ("CHECK_FILESYSTEMS", 15),
        ("MOUNT_FILESYSTEMS", 16),
        ("FIXUP_VAR", 17),
        ("FLASH_FIRMWARE", 18),
        ("UPDATE_BASEBAND", 19),
        ("SET_BOOT_STAGE", 20),
        ("REBOOT_DEVICE", 21),
        ("SHUTDOWN_DEVICE", 22),
        ("TURN_ON_ACCESSORY_POWER", 23),
        ("CLEAR_BOOTARGS", 24),
        ("MODIFY_BOOTARGS", 25),
        ("INSTALL_ROOT", 26),
        ("INSTALL_KERNELCACHE", 27),
        ("WAIT_FOR_NAND", 28),
        ("UNMOUNT_FILESYSTEMS", 29),
        ("SET_DATETIME", 30),
        ("EXEC_IBOOT", 31),
        ("FINALIZE_NAND_EPOCH_UPDATE", 32),
        ("CHECK_INAPPR_BOOT_PARTITIONS", 33),
        ("CREATE_FACTORY_RESTORE_MARKER", 34),
        ("LOAD_FIRMWARE", 35),
        ("REQUESTING_FUD_DATA", 36),
        ("REMOVING_ACTIVATION_RECORD", 37),
        ("CHECK_BATTERY_VOLTAGE", 38),
        ("WAIT_BATTERY_CHARGE", 39),
        ("CLOSE_MODEM_TICKETS", 40),
        ("MIGRATE_DATA", 41),
        ("WIPE_STORAGE_DEVICE", 42),
        ("SEND_APPLE_LOGO", 43),
        ("CHECK_LOGS", 44),
        ("CLEAR_NVRAM", 46),
        ("UPDATE_GAS_GAUGE", 47),
        ("PREPARE_BASEBAND_UPDATE", 48),
        ("BOOT_BASEBAND", 49),
        ("CREATE_SYSTEM_KEYBAG", 50),
        ("UPDATE_IR_MCU_FIRMWARE", 51),
        ("RESIZE_SYSTEM_PARTITION", 52),
        ("COLLECTING_UPDATER_OUTPUT", 53),
        ("PAIR_STOCKHOLM", 54),
        ("UPDATE_STOCKHOLM", 55),
        ("UPDATE_SWDHID", 56),
        ("CERTIFY_SEP", 57),
        ("UPDATE_NAND_FIRMWARE", 58),
        ("UPDATE_SE_FIRMWARE", 59),
        ("UPDATE_SAVAGE", 60),
        ("INSTALLING_DEVICETREE", 61),
        ("CERTIFY_SAVAGE", 62),
        ("SUBMITTING_PROVINFO", 63),
        ("CERTIFY_YONKERS", 64),
        ("UPDATE_ROSE", 65),
        ("UPDATE_VERIDIAN", 66),
        ("CREATING_PROTECTED_VOLUME", 67),
        ("RESIZING_MAIN_FS_PARTITION", 68),
        ("CREATING_RECOVERY_OS_VOLUME", 69),
        ("INSTALLING_RECOVERY_OS_FILES", 70),
        ("INSTALLING_RECOVERY_OS_IMAGE", 71),
        ("REQUESTING_EAN_DATA", 74),
        ("SEALING_SYSTEM_VOLUME", 77),
        ("UPDATING_APPLETCON", 81),
    ];

    #[test]
    fn constant_names_read_as_their_operations() {
        let wrong: Vec<String> = CONSTANT_NAMES
            .iter()
            .filter_map(|&(name, id)| {
                let got = operation_by_constant_name(name);
                (got != Some(id)).then(|| format!("{name}: {got:?} != {id}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn names_that_are_no_operation_read_as_none() {
        for name in [
            "",
            "_",
            "UPDATE",
            "UPDATE_TOASTER",
            "WAITING_FOR_GODOT",
            "SEND_FILESYSTEM",
            "NAND",
            "UPDATE NAND FIRMWARE",
            "UPDATE-NAND",
            "ÜPDATE_NAND_FIRMWARE",
        ] {
            assert_eq!(operation_by_constant_name(name), None, "{name:?}");
        }
    }

    #[test]
    fn checkpoints_and_statuses() {
        let (cp, stage) = resolve_checkpoint(0x60E, None);
        assert_eq!(cp.id, "0x60E");
        assert_eq!(cp.name.as_deref(), Some("update_NAND_firmware"));
        assert_eq!(stage, Some(Stage::Nand));
        assert_eq!(
            resolve_status(None, "Failed to recover FDR data."),
            (Some(53), Some(Stage::Fdr))
        );
        assert_eq!(resolve_status(None, "Disk Failure").1, Some(Stage::Nand));
    }
}
