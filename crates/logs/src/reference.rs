//! Lookups in the knowledge base's restore tables, indexed once for speed.

use crate::model::{CheckpointRef, OperationRef};
use kb::Stage;
use std::collections::HashMap;
use std::sync::OnceLock;

struct Index {
    /// label (lower case) → operation id, over current, other and legacy labels.
    label_to_op: HashMap<String, u32>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut label_to_op = HashMap::new();
        for op in &kb::kb().tables().operations {
            if !op.label.is_empty() {
                label_to_op.insert(op.label.to_ascii_lowercase(), op.id);
            }
        }
        Index { label_to_op }
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
    let kb = kb::kb();
    let shifted = protocol.is_some_and(|p| p < 14) && raw > 35;
    let mut id = if shifted { raw + 1 } else { raw };
    if let Some(label) = label.filter(|l| !l.eq_ignore_ascii_case("Unknown operation")) {
        let here = kb.operation(raw);
        let next = kb.operation(raw + 1);
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
    let op = kb.operation(id);
    let known = op.map(|o| o.label.as_str()).filter(|l| !l.is_empty());
    let op_ref = OperationRef {
        id,
        // One allocation: the knowledge base's label, else the printed one.
        label: known.or(label).unwrap_or("Unknown operation").to_string(),
        raw_id: (id != raw).then_some(raw),
    };
    // Ids above 77 are unstable across iOS versions: no stage from the id alone.
    let stage = op
        .filter(|o| o.id <= 77 || label.is_some())
        .map(|o| o.stage);
    (op_ref, stage)
}

/// A checkpoint by masked id, with its name from the log or the knowledge base.
/// Takes the printed name by value: it becomes the reference's name without a copy.
pub(crate) fn resolve_checkpoint(id: u32, name: Option<String>) -> (CheckpointRef, Option<Stage>) {
    let kb = kb::kb();
    let by_id = kb.checkpoint(id);
    let by_name = if by_id.is_none() {
        name.as_deref().and_then(|n| kb.checkpoint_by_name(n))
    } else {
        None
    };
    let name = name.or_else(|| by_id.map(|c| c.name.clone()));
    let stage = by_id
        .or(by_name)
        .map(|c| c.stage)
        .or_else(|| name.as_deref().and_then(stage_from_checkpoint_name));
    (CheckpointRef::new(id, name), stage)
}

/// Checkpoint names drift (`update_baseband_legacy`); read the obvious ones.
fn stage_from_checkpoint_name(name: &str) -> Option<Stage> {
    let n = name.to_ascii_lowercase();
    Some(if n.contains("baseband") {
        Stage::Baseband
    } else if n.contains("nand") || n.contains("storage") {
        Stage::Nand
    } else if n.contains("fdr") {
        Stage::Fdr
    } else if n.contains("sep") {
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
