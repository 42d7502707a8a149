//! What one analysed log says: [`RestoreLog`] and its parts.

use kb::Stage;
use serde::Serialize;
use std::borrow::Cow;

/// The program that wrote the log (the *stable* `tool` vocabulary of design.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    Idevicerestore,
    Futurerestore,
    Itunes,
    Finder,
    AppleConfigurator,
    Imazing,
    #[serde(rename = "3utools")]
    ThreeUTools,
    /// The device's own restore log, on its own.
    Restored,
    #[default]
    Unknown,
}

impl Tool {
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Idevicerestore => "idevicerestore",
            Tool::Futurerestore => "futurerestore",
            Tool::Itunes => "itunes",
            Tool::Finder => "finder",
            Tool::AppleConfigurator => "apple_configurator",
            Tool::Imazing => "imazing",
            Tool::ThreeUTools => "3utools",
            Tool::Restored => "restored",
            Tool::Unknown => "unknown",
        }
    }

    /// How strongly a tool claims the file: outer wrappers beat the inner formats they quote
    /// (a 3uTools log quotes Apple's library, idevicerestore quotes the device log).
    pub(crate) fn wrapper_rank(self) -> u8 {
        match self {
            Tool::Unknown => 0,
            Tool::Restored => 1,
            Tool::Itunes => 2,
            Tool::Idevicerestore => 3,
            Tool::Futurerestore => 4,
            Tool::Finder | Tool::AppleConfigurator => 5,
            Tool::Imazing | Tool::ThreeUTools => 6,
        }
    }
}

/// What the run was asked to do with the data on the device, as the tool printed it
/// (`Variant: Customer Upgrade Install`, `requested restore behavior: Erase`...). The words are
/// those of the store's attempt kind and of Apple's two buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreKind {
    /// An update: installs the system and keeps the data.
    Update,
    /// An erase restore: the data on the device is erased.
    Restore,
}

impl RestoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RestoreKind::Update => "update",
            RestoreKind::Restore => "restore",
        }
    }
}

/// How the log ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    /// Neither a success nor a failure line: the log was cut short or the restore still ran.
    #[default]
    Incomplete,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Incomplete => "incomplete",
        }
    }
}

/// A device mode seen in the log (DFU, Recovery, Restore, Normal...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Dfu,
    Wtf,
    PortDfu,
    Recovery,
    Restore,
    Normal,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Dfu => "DFU",
            Mode::Wtf => "WTF",
            Mode::PortDfu => "Port DFU",
            Mode::Recovery => "Recovery",
            Mode::Restore => "Restore",
            Mode::Normal => "Normal",
        }
    }

    pub(crate) fn parse(word: &str) -> Option<Mode> {
        let w = word.trim().to_ascii_lowercase();
        Some(match w.as_str() {
            "dfu" => Mode::Dfu,
            "wtf" => Mode::Wtf,
            "port dfu" => Mode::PortDfu,
            "recovery" | "recovery mode" => Mode::Recovery,
            "restore" | "restoreos" | "restore mode" => Mode::Restore,
            "normal" | "bootedos" => Mode::Normal,
            _ => return None,
        })
    }
}

/// Who printed a line: the host tool, the device (its restored log), or a GUI wrapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Host,
    Device,
    Wrapper,
}

/// What the device is: as much as the log tells.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceIdentity {
    /// `iPhone8,1`; derived from CPID/BDID through the knowledge base when not printed.
    pub product_type: Option<String>,
    /// Marketing name from the knowledge base (`iPhone 6s`).
    pub name: Option<String>,
    /// Board (`n71map`).
    pub hardware_model: Option<String>,
    pub cpid: Option<u32>,
    pub bdid: Option<u32>,
    /// The ECID in hex; `[redacted]` after [`RestoreLog::redacted`].
    pub ecid: Option<String>,
    /// The serial number; `[redacted]` after [`RestoreLog::redacted`].
    pub serial: Option<String>,
}

/// A restore operation (the `<Label> (<id>)` / `operation <id> progress <p>` lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperationRef {
    /// The operation id in `restore_operations.tsv` numbering (protocol shift applied).
    pub id: u32,
    /// The label in the knowledge base, or what the log printed for unknown ids (borrowed
    /// from the knowledge base when it has one: the steady state of a long log allocates
    /// nothing per line).
    pub label: Cow<'static, str>,
    /// The number the log printed, when it differs from `id` (restore protocol < 14).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_id: Option<u32>,
}

/// A restored checkpoint (`0x060E update_NAND_firmware`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointRef {
    /// The masked id (`id & 0xFFFF`) as `0x60E` (upper-case hex, no padding).
    pub id: Cow<'static, str>,
    pub name: Option<Cow<'static, str>>,
    #[serde(skip)]
    pub num: u32,
}

/// `0x` and upper-case hex without padding (what `format!("0x{num:X}")` prints, without the
/// formatting machinery: this runs for every checkpoint line).
pub(crate) fn hex_id(num: u32) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut digits = [0u8; 8];
    let mut n = num;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = DIGITS[(n & 0xF) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    let mut id = String::with_capacity(2 + digits.len() - i);
    id.push_str("0x");
    for &d in &digits[i..] {
        id.push(d as char);
    }
    id
}

impl CheckpointRef {
    pub(crate) fn new(num: u32, name: Option<Cow<'static, str>>) -> CheckpointRef {
        CheckpointRef {
            id: crate::reference::checkpoint_hex_id(num)
                .map_or_else(|| Cow::Owned(hex_id(num)), Cow::Borrowed),
            name,
            num,
        }
    }
}

/// What kind of thing a timeline entry records.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A device mode was seen or entered.
    Mode { mode: Mode },
    /// A restore operation began or reported progress.
    Operation {
        operation: OperationRef,
        #[serde(skip_serializing_if = "Option::is_none")]
        progress: Option<i64>,
        /// `false` for the recovery/DFU bootstrap ids of Apple's library.
        restore_phase: bool,
    },
    /// A checkpoint began, ended, failed, was retried or warned.
    Checkpoint {
        checkpoint: CheckpointRef,
        state: CheckpointState,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<i64>,
    },
    /// A `Status:` message of the restore protocol.
    Status { code: i64, text: String },
    /// A failure line (with the stage it points to, when the line alone tells).
    Failure {
        #[serde(skip_serializing_if = "Option::is_none")]
        stage: Option<Stage>,
        /// The device vanished or stopped answering (stage = where it was).
        disconnect: bool,
    },
    /// A final error code of the host (iTunes/Finder code, or futurerestore's own).
    ErrorCode { code: i64 },
    /// A step outside the numbered operations began (the boot chain sent, waiting for restore
    /// mode, entering Recovery, the root ticket or the FDR trust data sent).
    Step { stage: Stage },
    /// A warning worth showing (USB control errors, TSS retries...).
    Warning,
    /// A success line.
    Success,
    /// Something else notable (banner, FDR, signing).
    Note,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointState {
    Begin,
    End,
    Failure,
    Retry,
    Warning,
}

/// One entry of the timeline: what happened, on which line, when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEvent {
    /// 1-based line number in the input.
    pub line: u64,
    /// The time prefix as printed (formats differ: local, GMT, unknown zone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub source: Source,
    #[serde(flatten)]
    pub kind: EventKind,
    /// The line text after normalisation (prefixes stripped), cut to 400 bytes.
    pub text: String,
}

impl TimelineEvent {
    /// The stage of the step this entry shows: an operation's or a checkpoint's stage (from the
    /// knowledge base), a step's, a failure's when its line names one.
    pub fn stage(&self) -> Option<Stage> {
        match &self.kind {
            EventKind::Operation {
                operation,
                restore_phase: true,
                ..
            } => crate::reference::operation_stage(operation.id),
            EventKind::Checkpoint { checkpoint, .. } => {
                crate::reference::checkpoint_stage(checkpoint.num)
            }
            EventKind::Step { stage } => Some(*stage),
            EventKind::Failure { stage, .. } => *stage,
            _ => None,
        }
    }

    /// Whether this entry starts a step: a new operation, a checkpoint begun, a mode reached, a
    /// step line.
    pub fn starts_step(&self) -> bool {
        match &self.kind {
            EventKind::Operation { .. } | EventKind::Mode { .. } | EventKind::Step { .. } => true,
            EventKind::Checkpoint { state, .. } => *state == CheckpointState::Begin,
            _ => false,
        }
    }
}

/// A line that proves part of the reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceLine {
    pub line: u64,
    pub text: String,
    /// Why it matters, in a few words.
    pub why: String,
}

/// Where the restore failed (design.md §6 `failure`).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct FailurePoint {
    /// The line of the failure's first sign (the proving line "first sign of the failure").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The last restore operation reached before the failure.
    pub operation: Option<OperationRef>,
    /// The failing checkpoint, else the last one begun and not finished, else the last one seen.
    pub checkpoint: Option<CheckpointRef>,
    /// The stage the failure points to.
    pub stage: Option<Stage>,
    /// The final error code of the host (iTunes/Finder `status:`/`Restore error`), if printed.
    pub error_code: Option<i64>,
    /// The final error line (e.g. `ERROR: Unable to restore device`).
    pub message: Option<String>,
    /// The code the failing checkpoint carried (`FAILURE:53`, `result=-1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_result: Option<i64>,
    /// The device's last `Status:` message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_status: Option<String>,
    /// The first line that shows the failure (the root cause in time order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<String>,
    /// The device stopped answering (4013 family) rather than reporting an error.
    pub disconnect: bool,
}

/// Facts worth keeping that are not events: FDR trouble, panics, protocol, counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Flags {
    /// USB control-transfer errors, devices removed without coming back, lost connections.
    pub usb_dropout: bool,
    /// `No space left on device` / storage full.
    pub low_storage: bool,
    /// Apple's signing server refused the build (TSS status 94/69, "not being signed").
    pub tss_refused: bool,
    /// The signing server could not be reached.
    pub tss_unreachable: bool,
    /// The saved SHSH blob (APTicket) did not fit the device or its nonce (futurerestore's
    /// `APTicket can't be used`, `Device ApNonce does not match APTicket nonce`).
    pub blob_mismatch: bool,
    /// The firmware file (IPSW) failed its checksum: a damaged download or copy.
    pub ipsw_corrupt: bool,
    /// The device panicked (a panic log was attached).
    pub panic_log: bool,
    /// A previous failed restore's log was quoted (`Previous Restore Log Received:`).
    pub previous_restore_failed: bool,
    /// The unified-log export ended with its trailer line.
    pub export_finished: bool,
    /// The restore tool did not know what the device asked for (`Unknown data request`,
    /// `Got unknown updater name`): the tool is too old for this device or iOS version.
    pub host_tool_lacked: bool,
    /// The firmware file lacks a file the restore needs (`zip_name_locate`, `Unable to extract
    /// … from ipsw`).
    pub ipsw_lacks_file: bool,
    /// ASR could not repartition the storage (`Could not repartition target device`).
    pub repartition_failed: bool,
    /// A download the restore tool needed failed (a curl error).
    pub download_failed: bool,
}

/// An earlier attempt in the same paste. A paste can hold several runs (the person changed
/// the cable and ran the tool again); the reading is of the last one, these are the ones
/// before it, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EarlierAttempt {
    /// The attempt's first line.
    pub first_line: u64,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// Update (keeps the data) or erase restore, when the run said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<RestoreKind>,
    /// The line that shows how it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<EvidenceLine>,
}

/// Everything one log says. Build one with [`crate::Analyzer`] or [`crate::analyze_reader`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RestoreLog {
    pub tool: Tool,
    /// Every format seen in the file (a paste can mix them).
    pub formats_seen: Vec<Tool>,
    pub device: DeviceIdentity,
    /// The restore protocol version (`Connected to com.apple.mobile.restored, version N`).
    pub protocol_version: Option<u32>,
    pub target_version: Option<String>,
    pub target_build: Option<String>,
    /// Device modes in order (DFU → Recovery → Restore), consecutive repeats folded.
    pub modes: Vec<Mode>,
    /// Update (data kept) or erase restore, when the log says (of the last run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_kind: Option<RestoreKind>,
    pub outcome: Outcome,
    /// `None` for a success.
    pub failure: Option<FailurePoint>,
    /// The first and last events, plus the failure context (see `events_dropped`).
    pub timeline: Vec<TimelineEvent>,
    /// Events left out of `timeline` to keep memory bounded.
    pub events_dropped: u64,
    pub flags: Flags,
    /// Final error codes in the order printed (to spot a code that changed within one log).
    pub error_codes: Vec<i64>,
    /// The tool's own exit code (futurerestore `Failed with error code=-11`); not an Apple code.
    pub tool_code: Option<i64>,
    /// The last restore operation seen anywhere in the log (also for a success).
    pub last_operation: Option<OperationRef>,
    /// The last checkpoint seen anywhere in the log.
    pub last_checkpoint: Option<CheckpointRef>,
    /// The device's own on-screen progress (`restore-step-user-progress`, or the
    /// `ramrod_display_set_granular_progress_forced` bar), last value.
    pub device_progress: Option<i64>,
    /// The reading in plain words.
    pub reading: String,
    /// The lines that prove the reading, with line numbers.
    pub evidence: Vec<EvidenceLine>,
    /// Lines read.
    pub lines: u64,
    /// Bytes read (after decoding).
    pub bytes: u64,
    /// Lines that matched a known signature.
    pub matched_lines: u64,
    /// Earlier runs in the same paste (at most [`crate::EARLIER_ATTEMPTS_KEPT`], the latest);
    /// everything above describes the last run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earlier_attempts: Vec<EarlierAttempt>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_ids_print_as_unpadded_upper_hex() {
        for num in [0, 0x9, 0x60E, 0x065B, 0xFFFF, 0x1_0000, u32::MAX] {
            assert_eq!(CheckpointRef::new(num, None).id, format!("0x{num:X}"));
        }
    }
}
