//! The records the store keeps: devices, cases, attempts, steps, notes, recommendations, and
//! the read-side views built from them ([`CaseHistory`], [`CaseSummary`], [`ShopPriors`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Unix time in milliseconds (UTC), as stored.
pub type Millis = i64;

/// Current time in Unix milliseconds.
pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Format Unix milliseconds as an RFC 3339 UTC timestamp (`2026-11-21T20:31:49Z`).
pub fn format_time(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A device as entered when a case is opened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewDevice {
    /// What the person typed: a marketing name or a product type.
    pub label: String,
    /// Product type (`iPhone10,3`) when the knowledge base recognised the label.
    pub product_type: Option<String>,
    /// Marketing name when recognised.
    pub name: Option<String>,
    /// Identifiers: stored, redacted on output unless the caller asks for them.
    pub ecid: Option<String>,
    pub serial: Option<String>,
    pub imei: Option<String>,
}

/// A stored device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub id: i64,
    pub label: String,
    pub product_type: Option<String>,
    pub name: Option<String>,
    pub ecid: Option<String>,
    pub serial: Option<String>,
    pub imei: Option<String>,
}

impl Device {
    /// A copy with ECID, serial and IMEI masked (all but the last 4 characters).
    pub fn redacted(&self) -> Device {
        Device {
            ecid: self.ecid.as_deref().map(redact),
            serial: self.serial.as_deref().map(redact),
            imei: self.imei.as_deref().map(redact),
            ..self.clone()
        }
    }
}

/// Mask an identifier the one way every front end does (`****5F60`): see [`kb::redact_id`].
pub fn redact(id: &str) -> String {
    kb::redact_id(id)
}

/// A new case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewCase {
    pub device: NewDevice,
    pub error_code: Option<i64>,
    pub customer: Option<String>,
    pub ticket: Option<String>,
}

/// Update or restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptKind {
    Update,
    Restore,
}

impl AttemptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptKind::Update => "update",
            AttemptKind::Restore => "restore",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "update" => Some(AttemptKind::Update),
            "restore" => Some(AttemptKind::Restore),
            _ => None,
        }
    }
}

/// How a restore or update attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "error_code")]
pub enum AttemptResult {
    /// The restore or update finished.
    Ok,
    /// It failed with this error code (e.g. 4013).
    Error(i64),
    /// It failed without a known code.
    Failed,
}

impl AttemptResult {
    pub fn is_ok(self) -> bool {
        matches!(self, AttemptResult::Ok)
    }
    pub fn error_code(self) -> Option<i64> {
        match self {
            AttemptResult::Error(c) => Some(c),
            _ => None,
        }
    }
    fn from_columns(ok: bool, code: Option<i64>) -> Self {
        match (ok, code) {
            (true, _) => AttemptResult::Ok,
            (false, Some(c)) => AttemptResult::Error(c),
            (false, None) => AttemptResult::Failed,
        }
    }
}

/// One restore or update attempt to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAttempt {
    /// When it happened (Unix ms); `None` means now.
    pub at: Option<Millis>,
    /// The computer / bench / station it ran on.
    pub computer: String,
    pub host_os: Option<String>,
    pub app_version: Option<String>,
    pub cable: Option<String>,
    /// The host port, named within its computer (`left-usb-c`).
    pub port: Option<String>,
    pub hub: bool,
    /// The restore tool (design.md `--host` vocabulary or free text).
    pub tool: Option<String>,
    /// Device mode at the start (`normal`, `recovery`, `dfu`).
    pub mode: Option<String>,
    pub kind: Option<AttemptKind>,
    pub result: AttemptResult,
    /// Failure stage (design.md/logs vocabulary, e.g. `nand`).
    pub stage: Option<String>,
    /// Restore operation number at failure.
    pub operation: Option<i64>,
    /// Restore checkpoint at failure (`0x60E` or its name).
    pub checkpoint: Option<String>,
    /// Progress percent at failure.
    pub progress: Option<i64>,
    /// The full log, stored as-is together with its SHA-256.
    pub log: Option<Vec<u8>>,
    /// How long the restore tool ran, in milliseconds (`None`: not measured).
    #[serde(default)]
    pub duration_ms: Option<i64>,
    /// The USB timeline seen during the attempt, in order (`None`: USB was not watched;
    /// `Some(empty)`: watched, no Apple device seen). ECIDs are kept raw, like the device's.
    #[serde(default)]
    pub usb_events: Option<Vec<UsbEventRecord>>,
    /// The attempt was stopped (Ctrl-C, a kill signal) rather than failed by the device or the
    /// bench: it is kept in the case but is not evidence (fleet analytics and the diagnosis
    /// leave it out).
    #[serde(default)]
    pub interrupted: bool,
}

impl NewAttempt {
    /// A minimal attempt: a computer and a result, everything else unknown.
    pub fn new(computer: impl Into<String>, result: AttemptResult) -> Self {
        NewAttempt {
            at: None,
            computer: computer.into(),
            host_os: None,
            app_version: None,
            cable: None,
            port: None,
            hub: false,
            tool: None,
            mode: None,
            kind: None,
            result,
            stage: None,
            operation: None,
            checkpoint: None,
            progress: None,
            log: None,
            duration_ms: None,
            usb_events: None,
            interrupted: false,
        }
    }
}

/// A stored attempt (the log itself is not loaded; see [`crate::Store::attempt_log`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub id: i64,
    pub case_id: i64,
    pub at: Millis,
    pub computer: String,
    pub host_os: Option<String>,
    pub app_version: Option<String>,
    pub cable: Option<String>,
    pub port: Option<String>,
    pub hub: bool,
    pub tool: Option<String>,
    pub mode: Option<String>,
    pub kind: Option<AttemptKind>,
    pub ok: bool,
    pub error_code: Option<i64>,
    pub stage: Option<String>,
    pub operation: Option<i64>,
    pub checkpoint: Option<String>,
    pub progress: Option<i64>,
    /// Hex SHA-256 of the stored log, when a log was attached.
    pub log_sha256: Option<String>,
    /// How long the restore tool ran, in milliseconds (`None`: not measured, e.g. recorded by
    /// hand or before schema version 2).
    #[serde(default)]
    pub duration_ms: Option<i64>,
    /// The USB timeline during the attempt (`None`: USB not watched). ECIDs are raw: use
    /// [`UsbEventRecord::redacted`] before showing them unless the person asked for ids.
    #[serde(default)]
    pub usb_events: Option<Vec<UsbEventRecord>>,
    /// Stopped by the person or a kill signal, not failed: not evidence about the device,
    /// station, cable or port.
    #[serde(default)]
    pub interrupted: bool,
}

impl Attempt {
    pub fn result(&self) -> AttemptResult {
        AttemptResult::from_columns(self.ok, self.error_code)
    }

    /// A failure that says something about the device or the bench: not ok and not interrupted.
    pub fn is_failure(&self) -> bool {
        !self.ok && !self.interrupted
    }

    /// The USB timeline in short words (`14:02:11 dropped off in restore mode, 14:02:19 back
    /// in DFU`, times UTC; no identifiers); `None` when USB was not watched.
    pub fn usb_summary(&self) -> Option<String> {
        let events = self.usb_events.as_ref()?;
        if events.is_empty() {
            return Some("no Apple device seen".to_string());
        }
        Some(
            events
                .iter()
                .map(UsbEventRecord::brief)
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

/// One line of the USB timeline recorded with an attempt (from the `usb` crate's tracker notes).
///
/// Stored as one element of the attempt's `usb_events` JSON array. Only `at`, `kind` and `text`
/// are always present; readers must accept missing optional fields (older writers) and unknown
/// extra fields (newer writers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsbEventRecord {
    /// When, RFC 3339 UTC (`2026-11-21T14:02:11.250Z`).
    pub at: String,
    /// The tracker's note kind: `present`, `attached`, `detached`, `mode_change`,
    /// `dropped_mid_restore`, `came_back_after_drop`, `did_not_come_back`.
    pub kind: String,
    /// USB mode of the device at that moment (`dfu`, `recovery`, `restore`, `normal`, `wtf`).
    #[serde(default)]
    pub mode: Option<String>,
    /// The note in plain words, times in UTC.
    pub text: String,
    /// Product type when known (`iPhone10,1`).
    #[serde(default)]
    pub product_type: Option<String>,
    /// ECID, raw (redact on output: [`UsbEventRecord::redacted`]).
    #[serde(default)]
    pub ecid: Option<String>,
    /// A note a person must not miss (the device dropped off mid-restore).
    #[serde(default)]
    pub alarm: bool,
}

impl UsbEventRecord {
    /// A copy with the ECID masked, in its own field and anywhere in the text.
    pub fn redacted(&self) -> UsbEventRecord {
        let mut text = self.text.clone();
        if let Some(e) = self.ecid.as_deref().filter(|e| !e.is_empty()) {
            text = text.replace(e, &redact(e));
        }
        UsbEventRecord {
            ecid: self.ecid.as_deref().map(redact),
            text,
            ..self.clone()
        }
    }

    /// `HH:MM:SS` (UTC) of [`UsbEventRecord::at`], or the raw value when it is not RFC 3339.
    pub fn clock(&self) -> String {
        self.at
            .split_once('T')
            .map(|(_, t)| t.chars().take(8).collect())
            .filter(|t: &String| t.len() == 8)
            .unwrap_or_else(|| self.at.clone())
    }

    /// `14:02:11 dropped off in restore mode` / `14:02:19 back in DFU`.
    pub fn brief(&self) -> String {
        let mode = mode_words(self.mode.as_deref());
        let what = match self.kind.as_str() {
            "present" => format!("present in {mode}"),
            "attached" => format!("appeared in {mode}"),
            "detached" => format!("left USB (was in {mode})"),
            "mode_change" | "came_back_after_drop" => format!("back in {mode}"),
            "dropped_mid_restore" => format!("dropped off in {mode}"),
            "did_not_come_back" => "did not come back".to_string(),
            other => other.replace('_', " "),
        };
        format!("{} {what}", self.clock())
    }
}

/// `dfu` → `DFU`, `restore` → `restore mode`, unknown → `an unknown mode`.
fn mode_words(mode: Option<&str>) -> String {
    match mode {
        Some("dfu") => "DFU".into(),
        Some("recovery") => "Recovery".into(),
        Some("wtf") => "WTF mode".into(),
        Some(m) => format!("{m} mode"),
        None => "an unknown mode".into(),
    }
}

/// A duration in words: `850 ms`, `12.4 s`, `4 min 12 s`, `1 h 03 min`.
pub fn duration_words(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        return format!("{ms} ms");
    }
    if ms < 60_000 {
        return format!("{:.1} s", ms as f64 / 1000.0);
    }
    let s = ms / 1000;
    if s < 3600 {
        return format!("{} min {} s", s / 60, s % 60);
    }
    format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
}

/// Outcome of a troubleshooting step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Fixed,
    Failed,
    Skipped,
}

impl StepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Fixed => "fixed",
            StepOutcome::Failed => "failed",
            StepOutcome::Skipped => "skipped",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fixed" => Some(StepOutcome::Fixed),
            "failed" => Some(StepOutcome::Failed),
            "skipped" => Some(StepOutcome::Skipped),
            _ => None,
        }
    }
}

/// A troubleshooting step to record (an action id from the knowledge base and its outcome).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewStep {
    pub action: String,
    pub outcome: StepOutcome,
    pub who: Option<String>,
}

/// A stored step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub id: i64,
    pub at: Millis,
    pub action: String,
    pub outcome: StepOutcome,
    pub who: Option<String>,
}

/// A free-text note on a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: i64,
    pub at: Millis,
    pub author: Option<String>,
    pub body: String,
}

/// What `diagnose` recommended for a case, to be stored as the case's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The next action recommended (`swap_cable`), if any.
    pub next_action: Option<String>,
    /// The verdict's cause id, if the engine reached a verdict.
    pub verdict_cause: Option<String>,
    /// The full `diagnose --json` answer.
    pub body: serde_json::Value,
}

/// A whole case as `cases show` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: i64,
    pub device: Device,
    pub ticket: Option<String>,
    pub customer: Option<String>,
    pub error_code: Option<i64>,
    pub opened_at: Millis,
    pub closed_at: Option<Millis>,
    pub closed_cause: Option<String>,
    /// The latest recommendation's full JSON (`diagnose --json`), if diagnose ran on the case.
    pub verdict: Option<serde_json::Value>,
    pub attempts: Vec<Attempt>,
    pub steps: Vec<Step>,
    pub notes: Vec<Note>,
}

/// One line of `cases list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub id: i64,
    pub device: Device,
    pub customer: Option<String>,
    pub error_code: Option<i64>,
    pub opened_at: Millis,
    pub closed_at: Option<Millis>,
    pub closed_cause: Option<String>,
    pub attempts: i64,
    pub failures: i64,
}

/// The evidence a case holds, in the plain form the diagnosis engine converts into evidence
/// (`diagnose --case ID`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseHistory {
    pub case_id: i64,
    /// Product type of the device when known (`iPhone10,3`).
    pub device_product_type: Option<String>,
    /// What the person typed for the device.
    pub device_label: String,
    /// The error code the case was opened with.
    pub error_code: Option<i64>,
    /// Attempts in the order they happened, without the interrupted ones (stopped by the
    /// person or a kill signal: they say nothing about the device or the bench).
    pub attempts: Vec<Attempt>,
    /// Steps in the order they were recorded.
    pub steps: Vec<Step>,
    /// Whether the case is closed, and with which confirmed cause.
    pub closed_cause: Option<String>,
}

impl CaseHistory {
    /// Distinct computers the device was tried on.
    pub fn computers(&self) -> Vec<&str> {
        distinct(self.attempts.iter().map(|a| a.computer.as_str()))
    }
    /// Distinct cables the device was tried with.
    pub fn cables(&self) -> Vec<&str> {
        distinct(self.attempts.iter().filter_map(|a| a.cable.as_deref()))
    }
    /// Distinct host ports (computer/port) the device was tried on.
    pub fn ports(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .attempts
            .iter()
            .filter_map(|a| a.port.as_ref().map(|p| format!("{}/{}", a.computer, p)))
            .collect();
        v.sort();
        v.dedup();
        v
    }
    /// Failed attempts (interrupted ones are not failures; see [`Attempt::is_failure`]).
    pub fn failures(&self) -> impl Iterator<Item = &Attempt> {
        self.attempts.iter().filter(|a| a.is_failure())
    }
    /// True when two or more failed attempts all stopped at the same known stage.
    pub fn same_failure_stage(&self) -> Option<bool> {
        let stages: Vec<&str> = self.failures().filter_map(|a| a.stage.as_deref()).collect();
        if stages.len() < 2 {
            return None;
        }
        Some(stages.iter().all(|s| *s == stages[0]))
    }
}

fn distinct<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = it.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Counts of closed cases with a confirmed cause, per (error code, device product type).
///
/// The engine adds these as pseudo-counts on top of the knowledge base's priors (see
/// [`crate::Store::shop_prior_counts`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShopPriors {
    /// One row per (error code, product type, cause) with at least one closed case.
    pub rows: Vec<PriorCount>,
}

/// One row of [`ShopPriors`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorCount {
    /// Error code the case was opened with (`None`: no code recorded).
    pub error_code: Option<i64>,
    /// Device product type (`None`: device not recognised).
    pub product_type: Option<String>,
    /// Confirmed cause id (design.md §3).
    pub cause: String,
    /// Number of closed cases.
    pub cases: u64,
}

impl ShopPriors {
    /// Cause → count for cases with exactly this error code and product type.
    pub fn for_code_and_device(
        &self,
        error_code: Option<i64>,
        product_type: Option<&str>,
    ) -> BTreeMap<String, u64> {
        self.sum(|r| r.error_code == error_code && r.product_type.as_deref() == product_type)
    }

    /// Cause → count for cases with any of these error codes (e.g. a family's codes), any device.
    pub fn for_codes(&self, codes: &[i64]) -> BTreeMap<String, u64> {
        self.sum(|r| r.error_code.is_some_and(|c| codes.contains(&c)))
    }

    /// Cause → count for cases with this product type, any error code.
    pub fn for_device(&self, product_type: &str) -> BTreeMap<String, u64> {
        self.sum(|r| r.product_type.as_deref() == Some(product_type))
    }

    /// Total closed cases behind these priors.
    pub fn total(&self) -> u64 {
        self.rows.iter().map(|r| r.cases).sum()
    }

    fn sum(&self, keep: impl Fn(&PriorCount) -> bool) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for r in self.rows.iter().filter(|r| keep(r)) {
            *out.entry(r.cause.clone()).or_insert(0) += r.cases;
        }
        out
    }
}

/// Helper for backends: rebuild an [`AttemptResult`]-consistent attempt from columns.
pub(crate) fn attempt_result_columns(result: AttemptResult) -> (bool, Option<i64>) {
    (result.is_ok(), result.error_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_and_a_known_date() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        // 2024-02-29T12:34:56Z
        assert_eq!(format_time(1_709_210_096_000), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(850), "850 ms");
        assert_eq!(duration_words(12_400), "12.4 s");
        assert_eq!(duration_words(252_000), "4 min 12 s");
        assert_eq!(duration_words(3_780_000), "1 h 03 min");
        assert_eq!(duration_words(-5), "0 ms");
    }

    #[test]
    fn usb_events_in_short_words() {
        let e = |kind: &str, mode: Option<&str>| UsbEventRecord {
            at: "2026-11-21T14:02:11.250Z".into(),
            kind: kind.into(),
            mode: mode.map(str::to_string),
            text: String::new(),
            product_type: None,
            ecid: None,
            alarm: false,
        };
        assert_eq!(
            e("dropped_mid_restore", Some("restore")).brief(),
            "14:02:11 dropped off in restore mode"
        );
        assert_eq!(
            e("came_back_after_drop", Some("dfu")).brief(),
            "14:02:11 back in DFU"
        );
        assert_eq!(
            e("present", Some("recovery")).brief(),
            "14:02:11 present in Recovery"
        );
        assert_eq!(e("something_new", None).brief(), "14:02:11 something new");
        let odd = UsbEventRecord {
            at: "yesterday".into(),
            ..e("detached", None)
        };
        assert_eq!(odd.brief(), "yesterday left USB (was in an unknown mode)");
        // Older or newer writers: missing optional fields and unknown extra fields are read.
        let v: UsbEventRecord = serde_json::from_str(
            r#"{"at":"2026-11-21T14:02:11Z","kind":"attached","text":"t","future":1}"#,
        )
        .unwrap();
        assert_eq!((v.mode, v.ecid, v.alarm), (None, None, false));
    }

    #[test]
    fn redaction_keeps_only_the_tail() {
        assert_eq!(redact("000A1B2C3D4E5F60"), "****5F60");
        assert_eq!(redact("abc"), "****");
        assert!(!redact("356789012345678").contains("3567890"));
    }
}
