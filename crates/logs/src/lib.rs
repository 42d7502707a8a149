//! Restore-log analysis: reads the logs people already have from a failed iPhone/iPad/iPod
//! restore (idevicerestore and futurerestore output, the device's own restored log, Apple's
//! restore library as written by iTunes/Finder/Apple Configurator, 3uTools and iMazing flash
//! logs, macOS unified-log exports — also mixed in one paste, quoted, CRLF or UTF-16) and turns
//! each into a [`RestoreLog`]: tool, device, target version, mode hand-offs, a bounded timeline,
//! the failure point (operation, checkpoint, stage, codes), the outcome, a plain-words reading
//! and the lines that prove it.
//!
//! The core is a streaming [`Analyzer`] in constant memory: bytes in any chunking, one
//! Aho-Corasick pass over every known signature ([`signatures`]), line splitting with memchr,
//! hand-written panic-free parsers per format ([`formats`]), no regex and no whole-file reads.
//! Entry points: [`analyze_path`], [`analyze_reader`], [`analyze_bytes`]; across logs of one
//! device, [`compare`]; for the JSON contract of `logs --json` (design.md §6), [`LogsReport`].
//!
//! **Evidence for the diagnosis engine.** [`RestoreLog::facts`] returns `(observation id,
//! value)` pairs with the knowledge base's observation ids: `failure_stage` = the stage
//! (`nand`, `baseband`, ...; only for a failure or an incomplete log, and not for a failure
//! before the restore proper, which goes as `failed_before_restore` = `yes`: the device not
//! found, its boot chain or the restore ramdisk not coming up, the switch to Recovery; nor for
//! the FDR exchange's own connection breaking, `fdr_connection_lost` = `yes`), `usb_dropout` = `yes`
//! (the device vanished, USB control errors, a removal without return),
//! `storage_full_in_log` = `yes` (`No space left on device`), `tss_refused` = `yes` (Apple's
//! signing server refused the build), `blob_mismatch` = `yes` (the saved SHSH blob does not
//! fit the device or its nonce), `ipsw_corrupt_in_log` = `yes` (the firmware file failed its
//! checksum, or lacks a file the restore needs), `host_tool_lacked_data` = `yes` (`request for
//! LLB data returned NULL`: the restore
//! tool is too old; also `Unknown data request`, `Got unknown updater name`),
//! `downgrade_attempt` = `yes` (ASR could not repartition: an older iOS over a newer storage
//! layout), `late_boot_config_failed` = `yes` (`failed to install splat`, NVRAM `no space
//! for data`), `panic_in_log` = `yes` (the device handed over a panic log),
//! `failed_component` = the part whose firmware updater failed (Savage/Yonkers/Rose/SE, see
//! [`RestoreLog::failed_component`]), `error_code` = the final error code when it is one
//! iTunes/Finder would show ([`RestoreLog::error_code_for_engine`]), and `same_failure_point` =
//! `yes`/`no` when one paste holds several failed runs ([`RestoreLog::earlier_attempts`]: a
//! run's banner after a verdict starts a new attempt; the reading is of the last).
//! [`facts_for_logs`] does the same over several logs of one device and adds
//! `same_failure_point` = `yes`/`no` (two or more failure logs) and `error_varies` = `yes`
//! (their error codes differ).
//!
//! **Checks.** Tests beside the code per module; `tests/formats.rs` (one snippet per pattern-table
//! row), `tests/fixtures.rs` (every fixture of `tests/fixtures/expected.toml`),
//! `tests/properties.rs` (any bytes: no panic, bounded memory, chunking-independent). Fuzzing:
//! `scripts/fuzz.sh [SECONDS]` runs the cargo-fuzz targets of `fuzz/` (one per format parser,
//! identity, the prefixes, the whole analyser and the corpus scoring). Throughput and memory against ripgrep:
//! `scripts/bench_logs.sh [SIZE_MB]`, on the real logs `scripts/bench_real_logs.sh [SIZE_MB]`, or
//! `cargo run --release -p logs --example bench -- --size-mb 400 [--density sparse]`.

#[macro_use]
mod text;
mod analyzer;
pub mod corpus;
pub mod decode;
pub mod formats;
mod model;
pub mod prefix;
mod reading;
mod redact;
mod reference;
mod region;
pub mod signal;

pub use analyzer::{Analyzer, BUFFER_CAP, TIMELINE_EDGE};
pub use decode::Encoding;
pub use kb::Stage;
pub use model::*;
pub use redact::redact_text;

use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: no such file")]
    NotFound { path: String },
    #[error("{path}: is a directory, not a log file")]
    IsDirectory { path: String },
    #[error("{path}: cannot be read: {source}")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: looks like a binary file, not a text log (a .logarchive must first be exported with `log show --style ndjson`)"
    )]
    Binary { path: String },
}

/// Every literal signature the analyser looks for (the format signatures plus the knowledge
/// base's operation labels as `"<Label> ("`). The benchmark gives the same list to ripgrep.
pub fn signatures() -> Vec<String> {
    let mut v: Vec<String> = formats::SIGNATURES
        .iter()
        .map(|(s, _)| s.to_string())
        .collect();
    v.extend(reference::operation_labels());
    v.sort();
    v.dedup();
    v
}

/// Earlier runs of one paste kept in [`RestoreLog::earlier_attempts`] (the latest ones).
pub const EARLIER_ATTEMPTS_KEPT: usize = 16;

/// Read size for files and streams.
pub const READ_CHUNK: usize = 1 << 20;

/// Analyse a whole in-memory log (the web API's `POST /api/logs` body).
pub fn analyze_bytes(bytes: &[u8]) -> RestoreLog {
    let mut a = Analyzer::new();
    for chunk in bytes.chunks(READ_CHUNK) {
        a.feed(chunk);
    }
    a.finish()
}

/// Analyse a stream. `progress` is called with the bytes read so far after every chunk.
/// `name` is used in error messages.
/// Reads on [`default_readers`] threads once the input is longer than one region.
pub fn analyze_reader<R: Read>(
    reader: R,
    name: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<RestoreLog, LogError> {
    analyze_reader_with(reader, name, default_readers(), progress)
}

/// Reader threads for a large log: one per core, up to 8 (the readers also fold their readings
/// in order; the calling thread only reads the input).
pub fn default_readers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// [`analyze_reader`] with `readers` reader threads (1: everything on the calling thread).
/// The result does not depend on `readers`.
pub fn analyze_reader_with<R: Read>(
    mut reader: R,
    name: &str,
    readers: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<RestoreLog, LogError> {
    let mut a = Analyzer::with_readers(readers);
    let mut buf = vec![0u8; READ_CHUNK];
    let mut first = true;
    let read_error = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::IsADirectory => LogError::IsDirectory {
            path: name.to_string(),
        },
        _ => LogError::Unreadable {
            path: name.to_string(),
            source: e,
        },
    };
    loop {
        if !first && a.encoding() == Some(Encoding::Utf8) {
            // UTF-8 needs no decoding: read straight into the analyser's buffer.
            match a.read_utf8_from(&mut reader) {
                Ok(0) => break,
                Ok(_) => progress(a.bytes_read()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(e)),
            }
            continue;
        }
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        if first {
            first = false;
            if looks_binary(&buf[..n]) {
                return Err(LogError::Binary {
                    path: name.to_string(),
                });
            }
        }
        a.feed(&buf[..n]);
        progress(a.bytes_read());
    }
    Ok(a.finish())
}

/// Analyse a file by path, with clear errors for missing files, directories and binaries.
pub fn analyze_path(path: &Path, progress: &mut dyn FnMut(u64)) -> Result<RestoreLog, LogError> {
    analyze_path_with(path, default_readers(), progress)
}

/// [`analyze_path`] with `readers` reader threads (see [`analyze_reader_with`]).
pub fn analyze_path_with(
    path: &Path,
    readers: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<RestoreLog, LogError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LogError::NotFound { path: name.clone() },
        _ => LogError::Unreadable {
            path: name.clone(),
            source: e,
        },
    })?;
    if meta.is_dir() {
        return Err(LogError::IsDirectory { path: name });
    }
    let file = std::fs::File::open(path).map_err(|e| LogError::Unreadable {
        path: name.clone(),
        source: e,
    })?;
    analyze_reader_with(file, &name, readers, progress)
}

/// A first chunk that is not text: NUL bytes outside UTF-16, or mostly control bytes.
pub fn looks_binary(first: &[u8]) -> bool {
    if first.is_empty() {
        return false;
    }
    let (enc, skip) = decode::sniff(first);
    if enc != Encoding::Utf8 {
        return false;
    }
    let sample = &first[skip..first.len().min(8192)];
    if sample.contains(&0) {
        return true;
    }
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x1b | 0x0c))
        .count();
    control * 10 > sample.len()
}

impl RestoreLog {
    /// Derived evidence for the diagnosis engine: `(observation id, value)` pairs (see the
    /// crate doc for the ids).
    pub fn facts(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        if self.failed_before_restore() {
            // Before the restore proper the engine hears where, not a restore stage: a device
            // that did not come back after its boot chain or never showed up in restore mode
            // is the computer and the connection first (the `reboot` stage of a restore points
            // at parts that fail when the device restarts mid-restore).
            v.push(("failed_before_restore".to_string(), "yes".to_string()));
        } else if self.fdr_connection_lost() {
            // The FDR exchange's own connection broke: the tool and the computer's USB stack,
            // not the factory data or the parts the `fdr` stage points at.
            v.push(("fdr_connection_lost".to_string(), "yes".to_string()));
        } else if self.outcome != Outcome::Success
            && let Some(f) = self.failure.as_ref()
            && let Some(stage) = f.stage
            && !(stage == Stage::Tss && (f.disconnect || crate::reading::ticket_sent(self)))
            && !(stage == Stage::Partition && self.flags.repartition_failed)
        {
            // (A device that vanished or gave up right after its signed ticket was sent: the
            // `tss` stage would say signing or the network, which the log rules out. ASR unable to
            // repartition: the `partition` stage would say storage faults, where the log shows a
            // newer storage layout; `downgrade_attempt` below says that.)
            v.push(("failure_stage".to_string(), stage.as_str().to_string()));
        }
        if self.flags.usb_dropout || self.failure.as_ref().is_some_and(|f| f.disconnect) {
            v.push(("usb_dropout".to_string(), "yes".to_string()));
        }
        if self.flags.low_storage {
            // The log itself proves it (ENOSPC while writing the system): much stronger than the
            // person's impression that the device was nearly full (`low_storage`).
            v.push(("storage_full_in_log".to_string(), "yes".to_string()));
        }
        if self.flags.tss_refused {
            v.push(("tss_refused".to_string(), "yes".to_string()));
        }
        if self.flags.blob_mismatch {
            v.push(("blob_mismatch".to_string(), "yes".to_string()));
        }
        if self.flags.ipsw_corrupt || self.flags.ipsw_lacks_file {
            // A firmware file without a file the restore needs is at fault as a damaged one is.
            v.push(("ipsw_corrupt_in_log".to_string(), "yes".to_string()));
        }
        if self.outcome != Outcome::Success && self.flags.repartition_failed {
            // ASR could not repartition: an older iOS over a newer storage layout.
            v.push(("downgrade_attempt".to_string(), "yes".to_string()));
        }
        if self.outcome != Outcome::Success && crate::reading::host_tool_lacked_data(self) {
            v.push(("host_tool_lacked_data".to_string(), "yes".to_string()));
        }
        if self.outcome != Outcome::Success && crate::reading::late_boot_configuration_failed(self)
        {
            v.push(("late_boot_config_failed".to_string(), "yes".to_string()));
        }
        if self.flags.panic_log {
            // The device's own system crashed (log_formats.md §1.6): hardware evidence.
            v.push(("panic_in_log".to_string(), "yes".to_string()));
        }
        if let Some(component) = self.failed_component() {
            v.push(("failed_component".to_string(), component.to_string()));
        }
        if let Some(code) = self.error_code_for_engine() {
            v.push(("error_code".to_string(), code.to_string()));
        }
        if let Some(same) = self.same_failure_point_across_attempts() {
            v.push((
                "same_failure_point".to_string(),
                if same { "yes" } else { "no" }.to_string(),
            ));
        }
        v
    }

    /// The failure came before the restore proper: while the computer looked for the device,
    /// sent its boot chain or the images that start the restore ramdisk, or waited for it in
    /// the next mode (a `reboot` or `usb` failure of a run that never reached restore mode).
    pub fn failed_before_restore(&self) -> bool {
        let Some(stage) = self.failure.as_ref().and_then(|f| f.stage) else {
            return false;
        };
        self.outcome != Outcome::Success
            && (stage.before_restore()
                || (matches!(stage, Stage::Reboot | Stage::Usb)
                    && !self.modes.contains(&Mode::Restore)))
    }

    /// The failure's first sign is the FDR exchange's own connection breaking (`Unable to
    /// receive message from FDR`).
    pub fn fdr_connection_lost(&self) -> bool {
        self.outcome != Outcome::Success
            && self
                .failure
                .as_ref()
                .is_some_and(|f| f.stage == Some(Stage::Fdr) && crate::reading::fdr_link_lost(f))
    }

    /// With earlier failed runs in the same paste and this one failed too: did they all stop
    /// at the same point (stage, and operation where both are known)?
    pub fn same_failure_point_across_attempts(&self) -> Option<bool> {
        if self.outcome != Outcome::Failure {
            return None;
        }
        let earlier: Vec<&EarlierAttempt> = self
            .earlier_attempts
            .iter()
            .filter(|a| a.outcome == Outcome::Failure)
            .collect();
        if earlier.is_empty() {
            return None;
        }
        let here = self.failure_key()?;
        Some(
            earlier
                .iter()
                .all(|a| same_point(&(a.stage, a.operation.as_ref().map(|o| o.id), None), &here)),
        )
    }

    /// The failure's error code in the numbering the engine knows: the code iTunes, Finder,
    /// Apple Devices or a wrapper showed (`Restore completed, status:`, `Restore error`), or
    /// 3194 for a signing refusal. `failure.error_code` also falls back to the device's own
    /// numbers, which only share digits with those (log_formats.md §9): a `Status:` code (6 is
    /// "Disk Failure", not error 6, security software) and a checkpoint result (`FAILURE:-1` is
    /// a generic failure of that step, not error -1, the modem). Those stay in the reading; the
    /// failure stage carries them to the engine.
    pub fn error_code_for_engine(&self) -> Option<i64> {
        if self.outcome == Outcome::Success {
            return None;
        }
        self.failure.as_ref()?;
        self.error_codes
            .iter()
            .copied()
            .find(|&c| c != 0)
            .or(self.flags.tss_refused.then_some(3194))
    }

    /// The part whose firmware updater failed, when a firmware-stage failure names it:
    /// `face_id_camera` (Savage), `touch_id_sensor` (Yonkers), `u1_chip` (Rose) or
    /// `secure_element` (SE). The same error code (-1) comes from any of them and from the
    /// modem; the updater's name tells them apart.
    pub fn failed_component(&self) -> Option<&'static str> {
        let failure = self.failure.as_ref()?;
        if self.outcome == Outcome::Success
            || failure.stage != Some(kb::Stage::Firmware)
            || self.flags.host_tool_lacked
        {
            // (A tool that did not know the part's updater never flashed it.)
            return None;
        }
        let mut texts: Vec<&str> = Vec::new();
        texts.extend(failure.message.as_deref());
        texts.extend(failure.first_failure.as_deref());
        texts.extend(failure.checkpoint.as_ref().and_then(|c| c.name.as_deref()));
        texts.extend(failure.operation.as_ref().map(|o| o.label.as_ref()));
        texts.extend(self.last_operation.as_ref().map(|o| o.label.as_ref()));
        texts.extend(self.evidence.iter().map(|e| e.text.as_str()));
        const NAMES: [(&str, &str); 5] = [
            ("savage", "face_id_camera"),
            ("yonkers", "touch_id_sensor"),
            ("rose", "u1_chip"),
            ("update_se", "secure_element"),
            ("secure element", "secure_element"),
        ];
        texts.iter().find_map(|t| {
            let lower = t.to_ascii_lowercase();
            NAMES
                .iter()
                .find(|(word, _)| {
                    lower.match_indices(word).any(|(i, _)| {
                        // A whole word: "Rose updater", not "prose" or "closed".
                        let before = lower[..i].chars().next_back();
                        let after = lower[i + word.len()..].chars().next();
                        !before.is_some_and(|c| c.is_ascii_alphanumeric())
                            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
                    })
                })
                .map(|(_, component)| *component)
        })
    }

    /// A copy with ECID, serial numbers, IMEI and UDIDs masked (output without `--show-ids`).
    pub fn redacted(&self) -> RestoreLog {
        let mut r = self.clone();
        r.device.ecid = r.device.ecid.as_deref().map(kb::redact_id);
        r.device.serial = r.device.serial.as_deref().map(kb::redact_id);
        for e in &mut r.timeline {
            e.text = redact_text(&e.text).into_owned();
        }
        for e in r.evidence.iter_mut().chain(
            r.earlier_attempts
                .iter_mut()
                .filter_map(|a| a.ended.as_mut()),
        ) {
            e.text = redact_text(&e.text).into_owned();
        }
        if let Some(f) = &mut r.failure {
            f.message = f.message.as_deref().map(|m| redact_text(m).into_owned());
            f.first_failure = f
                .first_failure
                .as_deref()
                .map(|m| redact_text(m).into_owned());
        }
        r.reading = redact_text(&r.reading).into_owned();
        r
    }

    /// The identity of this log's failure point, for comparing attempts.
    fn failure_key(&self) -> Option<FailureKey> {
        let f = self.failure.as_ref()?;
        Some((
            f.stage,
            f.operation.as_ref().map(|o| o.id),
            f.checkpoint.as_ref().map(|c| c.num),
        ))
    }
}

/// Where a failure stopped: stage, operation id, checkpoint number.
type FailureKey = (Option<Stage>, Option<u32>, Option<u32>);

/// Two failures stopped at the same point: the same stage, and the same operation and
/// checkpoint wherever both sides know them.
fn same_point(a: &FailureKey, b: &FailureKey) -> bool {
    a.0 == b.0
        && (a.1.is_none() || b.1.is_none() || a.1 == b.1)
        && (a.2.is_none() || b.2.is_none() || a.2 == b.2)
}

/// What several logs of one device say together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Comparison {
    /// true/false when two or more logs are failures, else None (design.md §6).
    pub same_failure_point: Option<bool>,
    /// Whether the final error codes of the failure logs differ (None with fewer than two codes).
    pub error_varies: Option<bool>,
    /// How many of the logs are failures.
    pub failure_logs: usize,
}

/// Compare the failure points and error codes of several logs.
pub fn compare<'a>(logs: impl IntoIterator<Item = &'a RestoreLog>) -> Comparison {
    let failures: Vec<&RestoreLog> = logs
        .into_iter()
        .filter(|l| l.outcome == Outcome::Failure)
        .collect();
    let mut c = Comparison {
        failure_logs: failures.len(),
        ..Comparison::default()
    };
    if failures.len() >= 2 {
        let keys: Vec<_> = failures.iter().filter_map(|l| l.failure_key()).collect();
        let same =
            keys.len() == failures.len() && keys.windows(2).all(|w| same_point(&w[0], &w[1]));
        c.same_failure_point = Some(same);
    }
    let codes: Vec<i64> = failures
        .iter()
        .filter_map(|l| l.failure.as_ref().and_then(|f| f.error_code))
        .collect();
    if codes.len() >= 2 {
        c.error_varies = Some(codes.windows(2).any(|w| w[0] != w[1]));
    }
    c
}

/// The engine's evidence from several logs of one device: each log's facts (the stage of the
/// most recent failure), plus `same_failure_point` and `error_varies`.
pub fn facts_for_logs(logs: &[RestoreLog]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    for log in logs {
        for (k, val) in log.facts() {
            if k == "failure_stage" || k == "error_code" {
                v.retain(|(k2, _)| *k2 != k);
            }
            if !v.iter().any(|(k2, v2)| *k2 == k && *v2 == val) {
                v.push((k, val));
            }
        }
    }
    let c = compare(logs.iter());
    if let Some(same) = c.same_failure_point {
        // Across logs wins over what each log said of its own runs.
        v.retain(|(k, _)| k != "same_failure_point");
        v.push((
            "same_failure_point".to_string(),
            if same { "yes" } else { "no" }.to_string(),
        ));
    }
    if c.error_varies == Some(true) {
        v.push(("error_varies".to_string(), "yes".to_string()));
    }
    v
}

/// One file's entry in `logs --json`: `file` plus every field of [`RestoreLog`].
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub file: String,
    #[serde(flatten)]
    pub log: RestoreLog,
}

/// A file that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct FileError {
    pub file: String,
    pub error: String,
}

/// The document `logs --json` prints (design.md §6 *stable* fields, extended).
#[derive(Debug, Clone, Serialize)]
pub struct LogsReport {
    pub logs: Vec<LogEntry>,
    pub same_failure_point: Option<bool>,
    pub error_varies: Option<bool>,
    /// Files that could not be read (they also make the command exit with 2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FileError>,
}

impl LogsReport {
    /// Build the report; ids are redacted unless `show_ids`.
    pub fn new(
        logs: Vec<(String, RestoreLog)>,
        errors: Vec<FileError>,
        show_ids: bool,
    ) -> LogsReport {
        let c = compare(logs.iter().map(|(_, l)| l));
        LogsReport {
            logs: logs
                .into_iter()
                .map(|(file, log)| LogEntry {
                    file,
                    log: if show_ids { log } else { log.redacted() },
                })
                .collect(),
            same_failure_point: c.same_failure_point,
            error_varies: c.error_varies,
            errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out the bytes in pieces of 1 to 4099 bytes, with an `Interrupted` now and then.
    struct Trickle<'a> {
        data: &'a [u8],
        calls: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(97) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = (1 + self.calls * 7919 % 4099)
                .min(out.len())
                .min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn fixture(name: &str) -> RestoreLog {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        analyze_path(&path, &mut |_| {}).expect("fixture readable")
    }

    fn fact<'a>(facts: &'a [(String, String)], id: &str) -> Option<&'a str> {
        facts.iter().find(|(k, _)| k == id).map(|(_, v)| v.as_str())
    }

    #[test]
    fn device_status_and_checkpoint_codes_are_not_passed_on_as_itunes_codes() {
        // `Status: Disk Failure` (device status 6) and `FAILURE:6`: the reading keeps the 6,
        // but iTunes error 6 (security software) is another thing; the stage says NAND.
        let log = fixture("idevicerestore_2024_status_disk_failure_with_device_log_ipad6_11.log");
        assert_eq!(log.failure.as_ref().and_then(|f| f.error_code), Some(6));
        let facts = log.facts();
        assert_eq!(fact(&facts, "error_code"), None, "{facts:?}");
        assert_eq!(fact(&facts, "failure_stage"), Some("nand"));
        // The code iTunes showed is passed on.
        let facts = fixture("itunes_windows_updater_log_crlf_4013_op58_iphone11_8.log").facts();
        assert_eq!(fact(&facts, "error_code"), Some("4013"));
        // So is a signing refusal, as the 3194 iTunes shows for it.
        let facts = fixture("idevicerestore_2023_tss_status94_unsigned_iphone9_1.log").facts();
        assert_eq!(fact(&facts, "error_code"), Some("3194"));
    }

    #[test]
    fn a_stream_read_in_odd_pieces_reads_like_the_whole_bytes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut one = Vec::new();
        for name in [
            "idevicerestore_2023_debug_waiting_for_nand_hang_incomplete_iphone8_1.log",
            "3utools_flash_success_iphone14_7_wrapped_lines.log",
        ] {
            one.extend(std::fs::read(dir.join(name)).expect("fixture present"));
        }
        // More than the scan buffer, so reads land in a buffer holding a deferred rest.
        let mut data = Vec::new();
        while data.len() < 3 * BUFFER_CAP {
            data.extend_from_slice(&one);
        }
        let whole = analyze_bytes(&data);
        let streamed = analyze_reader(
            Trickle {
                data: &data,
                calls: 0,
            },
            "x",
            &mut |_| {},
        )
        .expect("a trickling reader is readable");
        assert_eq!(streamed.bytes, data.len() as u64);
        assert_eq!(
            serde_json::to_string(&streamed).unwrap(),
            serde_json::to_string(&whole).unwrap()
        );
    }
    #[test]
    fn the_last_operation_proving_line_is_its_latest_progress_line() {
        let log = analyze_bytes(
            b"[20:19:27.0440] <Restore Device 0x0BE1D7A0>: operation 16 progress -1\n\
              [20:19:35.0001] <Restore Device 0x0BE1D7A0>: operation 14 progress 12\n\
              [20:20:35.0001] <Restore Device 0x0BE1D7A0>: operation 14 progress 54\n\
              [20:31:40.0160] Restore completed, status: 4013\n",
        );
        let last_op = log
            .evidence
            .iter()
            .find(|e| e.why == "last operation before the failure")
            .expect("the last operation is a proving line");
        assert_eq!(last_op.line, 3);
        // The timeline's entry for the step shows how far it got.
        let verify = log
            .timeline
            .iter()
            .find(
                |e| matches!(&e.kind, EventKind::Operation { operation, .. } if operation.id == 14),
            )
            .expect("operation 14 in the timeline");
        assert_eq!(verify.line, 3);
        assert!(
            matches!(
                verify.kind,
                EventKind::Operation {
                    progress: Some(54),
                    ..
                }
            ),
            "{verify:?}"
        );
        assert!(
            last_op.text.ends_with("operation 14 progress 54"),
            "{last_op:?}"
        );
    }

    #[test]
    fn an_fdr_error_the_restore_goes_on_after_keeps_no_context_of_its_own() {
        // The FDR channel breaks once the timeline's head is full, the restore goes on and fails
        // later, and more events follow than the tail keeps: the events just before the real
        // failure are kept, not those before the FDR error.
        let steps = |text: &mut String, n: usize| {
            for i in 0..n {
                text.push_str(if i % 2 == 0 {
                    "Restoring image (13)\n"
                } else {
                    "Verifying restore (14)\n"
                });
            }
        };
        let mut text = String::new();
        steps(&mut text, 250);
        text.push_str("ERROR: Unable to receive message from FDR 0x1 (-2). 0/2 bytes\n");
        steps(&mut text, 250);
        text.push_str(
            "Updating NAND Firmware (58)\nERROR: Could not read data (-256). Aborting.\n",
        );
        for _ in 0..300 {
            text.push_str("ERROR: Unable to send filesystem payload chunk, retrying...\n");
        }
        let log = analyze_bytes(text.as_bytes());
        let f = log.failure.as_ref().expect("a failure");
        assert_eq!(f.stage, Some(Stage::Nand));
        assert_eq!(f.line, Some(503));
        assert!(
            log.timeline.iter().any(|e| e.line == 502),
            "the step before the failure is kept: {:?}",
            log.timeline.iter().map(|e| e.line).collect::<Vec<_>>()
        );
    }

    #[test]
    fn leaving_usb_after_the_device_reported_its_failure_is_not_a_usb_dropout() {
        let head = "2024-06-02 16:41:33 mbp pymobiledevice3.restore.restore[58231] INFO progress-bar: \
                    {'MsgType': 'ProgressMsg', 'Progress': 0, 'Operation': 'RESTORE_IMAGE'}\n";
        let failure = "2024-06-02 16:45:04 mbp pymobiledevice3.restore.restore[58231] INFO checkpoint: \
                       {'CHECKPOINT_COMPLETE': True, 'CHECKPOINT_RESULT': 53, 'CHECKPOINT_NAME': \
                       'fdr_recover', 'CHECKPOINT_ID': 1588, 'MsgType': 'CheckpointMsg'}\n";
        let gone = "2024-06-02 16:45:40 mbp pymobiledevice3.restore.restore[58231] ERROR \
                    Device was disconnected\n";
        let after_failure = analyze_bytes(format!("{head}{failure}{gone}").as_bytes());
        assert_eq!(after_failure.outcome, Outcome::Failure);
        assert!(
            !after_failure.flags.usb_dropout,
            "{:?}",
            after_failure.flags
        );
        // The same disconnect with no failure reported first is a drop-out.
        let vanished = analyze_bytes(format!("{head}{gone}").as_bytes());
        assert!(vanished.flags.usb_dropout, "{:?}", vanished.flags);
    }
}
