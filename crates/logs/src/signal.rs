//! What one line says, before it is folded into the log's story.

use crate::model::{CheckpointState, Mode, RestoreKind, Tool};
use kb::Stage;

/// How a failure line relates to the failure point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailKind {
    /// The line itself names the stage (a TSS refusal, ASR checksum, rejected baseband...).
    Specific(Stage),
    /// Evidence of a stage that later progress can overrule (USB control errors in recovery,
    /// an unreachable signing server that was retried).
    Weak(Stage),
    /// The device vanished or stopped answering: the stage is wherever it was.
    Disconnect,
    /// The tool gave up (`Unable to restore device`): the verdict, not the cause.
    Final,
    /// Before the restore proper, the device did not come back in the mode the computer waited
    /// for, or came back in a state it could not use (`Unable to connect to device in recovery
    /// mode`, `Device is in an invalid state`). The stage is the step it followed (its boot
    /// chain, the ramdisk's images, entering Recovery, finding it), else the one given.
    ModeChange(Stage),
    /// A side channel broke (the FDR exchange's `Unable to receive message from FDR`): a failure
    /// at this stage unless the restore goes on after it (later progress overrules it).
    Soft(Stage),
}

/// One fact read from one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// A line only this format prints (the strong signatures of log_formats.md §0.1).
    Format(Tool),
    Mode(Mode),
    ProductType {
        hardware_model: Option<String>,
        product_type: String,
    },
    HardwareModel(String),
    /// A product type mentioned in passing (free text); used only when nothing better is known.
    ProductTypeHint(String),
    Ecid(String),
    Serial(String),
    Cpid(u32),
    Bdid(u32),
    TargetVersion(String),
    TargetBuild(String),
    /// Update or erase restore (`Variant: …`, `This restore will …`, `requested restore behavior: …`).
    Kind(RestoreKind),
    /// `Connected to com.apple.mobile.restored, version N`.
    Protocol(u32),
    /// An operation, by the number printed and (for idevicerestore) the label printed.
    Operation {
        raw_id: u32,
        label: Option<String>,
        progress: Option<i64>,
        /// `false` for Apple's recovery/DFU bootstrap ids (not restored operations).
        restore_phase: bool,
    },
    /// A checkpoint; `id` is already masked to 16 bits.
    Checkpoint {
        id: u32,
        name: Option<String>,
        state: CheckpointState,
        result: Option<i64>,
    },
    /// A `Status:` message; `code` is None when only the text is known.
    Status {
        code: Option<i64>,
        text: String,
    },
    Fail(FailKind),
    /// A host error code (iTunes/Finder `status:`; 0 = success).
    ErrorCode(i64),
    /// A tool's own exit code (futurerestore `Failed with error code=-11`).
    ToolCode(i64),
    Success,
    /// A restore phase finished or the device came back (ends a transition).
    Progressed,
    /// The device left USB in a way that is normal only if it returns.
    Removed,
    UsbTrouble,
    LowStorage,
    TssRefused,
    /// The saved SHSH blob (APTicket) does not fit this device or its current nonce
    /// (futurerestore's APTicket checks): the person's signing set-up, not the server.
    BlobMismatch,
    /// The firmware file failed its checksum (`Checksum does not match.`, `Firmware file might
    /// be corrupt`): a damaged download or copy.
    IpswCorrupt,
    TssUnreachable,
    PanicLog,
    /// `Previous Restore Log Received:`: the device log that follows is an older attempt.
    PreviousLogStart,
    /// `Log is available:`: the device log that follows belongs to this attempt.
    DeviceLogStart,
    /// The device's own on-screen progress (`restore-step-user-progress`).
    UserProgress(i64),
    /// The unified-log export's trailer `{"count":N,"finished":1}`.
    ExportFinished,
    /// A line that starts a step of this stage outside the numbered operations (sending the
    /// boot chain, waiting for restore mode, entering Recovery, sending the root ticket or the
    /// FDR trust data): a timeline entry, and where the log is until the next step.
    Step(Stage),
    /// A failure line names the step it belongs to (`Unable to send iBEC component: …`): where
    /// the log is, without a timeline entry of its own.
    During(Stage),
    /// The restore tool did not know what the device asked for (`Unknown data request
    /// 'FDRTrustData' received`, `Got unknown updater name 'Rose'`): the tool is too old.
    HostToolLacks,
    /// The firmware file lacks a file the restore needs (`zip_name_locate: …`, `Unable to extract
    /// … from ipsw`).
    IpswLacksFile,
    /// ASR could not repartition the storage (`ASR: Could not repartition target device`): the
    /// layout on the device is newer than the one being installed (a downgrade).
    Repartition,
    /// A download the restore tool needed failed (`failed to download file … CURLcode=28`).
    DownloadFailed,
    /// A target version or build read from a file name (IPSW, SHSH blob): used only when the
    /// log's own lines do not say.
    TargetVersionHint(String),
    TargetBuildHint(String),
    /// A board name in a firmware file's name (`iBEC.j317.RELEASE.im4p`, `DeviceTree.j96ap.im4p`):
    /// the device when nothing better is known (the knowledge base decides whether it is one).
    BoardHint(String),
    /// Worth a timeline entry as a warning.
    Warn,
    /// Worth a timeline entry as a note.
    Note,
}
