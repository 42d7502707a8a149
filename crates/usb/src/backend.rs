//! Where USB devices come from: the live bus (`nusb`) or a recorded event sequence.
//!
//! Everything above this module talks to [`UsbBackend`], so tests and demos replay recordings
//! ([`ReplayBackend`]) through exactly the code that runs against real hardware.

use crate::device::{Access, LinkSpeed, UsbDevice};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Environment variable naming a recording (JSON lines) to replay instead of the live bus.
pub const REPLAY_ENV: &str = "RESTORE_DOCTOR_USB_REPLAY";

/// Why the USB bus could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UsbError {
    /// No USB subsystem visible (a container, CI): callers show an empty list.
    #[error("no USB subsystem is visible on this machine ({0})")]
    NoUsb(String),
    #[error("permission denied reading USB devices: {0}")]
    PermissionDenied(String),
    #[error("USB error: {0}")]
    Backend(String),
    #[error("cannot read the USB recording {path}: {reason}")]
    Recording { path: PathBuf, reason: String },
}

/// A device attached or detached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum UsbEventKind {
    Attached { device: UsbDevice },
    Detached { key: String },
}

/// An event with the wall-clock time it happened (milliseconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsbEvent {
    pub at_ms: u64,
    #[serde(flatten)]
    pub kind: UsbEventKind,
}

/// A blocking stream of events; ends only when the source does (a recording runs out).
pub type EventStream = Box<dyn Iterator<Item = UsbEvent> + Send>;

/// The source of USB devices.
pub trait UsbBackend: Send + Sync {
    /// Devices on the bus now (every vendor; callers filter Apple's).
    fn list(&self) -> Result<Vec<UsbDevice>, UsbError>;
    /// Attach/detach events from now on.
    fn watch(&self) -> Result<EventStream, UsbError>;
    /// The backend's clock in Unix ms: the wall clock for the live bus, the recording's time
    /// for a replay (so "has not come back after 60 s" is measured on the same clock as the
    /// events).
    fn now_ms(&self) -> u64 {
        now_ms()
    }
    /// True for real hardware (a replay's devices are not on this machine).
    fn is_live(&self) -> bool {
        true
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The live bus through `nusb` (no libusb), or the recording named by [`REPLAY_ENV`].
pub fn default_backend() -> Result<Box<dyn UsbBackend>, UsbError> {
    match std::env::var_os(REPLAY_ENV) {
        Some(path) if !path.is_empty() => {
            let speed = std::env::var(REPLAY_SPEED_ENV)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(1.0);
            Ok(Box::new(
                ReplayBackend::from_file(Path::new(&path), true)?.with_speed(speed),
            ))
        }
        _ => Ok(Box::new(NusbBackend)),
    }
}

/// Run a backend's event stream on a thread; events arrive on the returned channel.
pub fn spawn_watch(backend: &dyn UsbBackend) -> Result<mpsc::Receiver<UsbEvent>, UsbError> {
    let stream = backend.watch()?;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("usb-watch".into())
        .spawn(move || {
            for event in stream {
                if tx.send(event).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| UsbError::Backend(format!("cannot start the USB watch thread: {e}")))?;
    Ok(rx)
}

// ---------------------------------------------------------------------------------------------
// Replay

/// One line of a recording: seconds from the start, then the event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// Seconds after the start of the recording.
    pub t: f64,
    #[serde(flatten)]
    pub kind: UsbEventKind,
}

/// Replays a recorded event sequence. `list()` returns the devices present after the events
/// with `t <= 0`; `watch()` yields the rest, at their recorded pace when `realtime`.
#[derive(Debug, Clone)]
pub struct ReplayBackend {
    events: Vec<RecordedEvent>,
    realtime: bool,
    base_ms: Option<u64>,
    speed: f64,
    /// When replay time started (first `watch()` or `now_ms()` call).
    started: std::sync::Arc<std::sync::OnceLock<(std::time::Instant, u64)>>,
}

/// Optional first line of a recording: the wall-clock time of `t = 0`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordingHeader {
    base_ms: u64,
}

/// Environment variable: replay this many times faster than recorded (timestamps unchanged).
pub const REPLAY_SPEED_ENV: &str = "RESTORE_DOCTOR_USB_REPLAY_SPEED";

impl ReplayBackend {
    pub fn new(events: Vec<RecordedEvent>, realtime: bool) -> Self {
        ReplayBackend {
            events,
            realtime,
            base_ms: None,
            speed: 1.0,
            started: Default::default(),
        }
    }

    /// Replay `speed` times faster than recorded (timestamps keep the recorded spacing).
    pub fn with_speed(mut self, speed: f64) -> Self {
        if speed.is_finite() && speed > 0.0 {
            self.speed = speed;
        }
        self
    }

    /// Fix the wall-clock time of `t = 0` (tests); by default it is the time `watch()` starts.
    pub fn with_base_ms(mut self, base_ms: u64) -> Self {
        self.base_ms = Some(base_ms);
        self
    }

    /// Parse JSON lines (`{"t": 12.5, "event": "attached", "device": {...}}`); blank lines and
    /// lines starting with `#` are skipped; an optional `{"base_ms": N}` line fixes the
    /// wall-clock time of `t = 0`. Errors name the line.
    pub fn parse(text: &str, realtime: bool) -> Result<Self, String> {
        let mut events = Vec::new();
        let mut base_ms = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Ok(header) = serde_json::from_str::<RecordingHeader>(line) {
                base_ms = Some(header.base_ms);
                continue;
            }
            let ev: RecordedEvent =
                serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
            if !ev.t.is_finite() {
                return Err(format!("line {}: t must be a finite number", n + 1));
            }
            events.push(ev);
        }
        events.sort_by(|a, b| a.t.total_cmp(&b.t));
        let mut backend = ReplayBackend::new(events, realtime);
        backend.base_ms = base_ms;
        Ok(backend)
    }

    pub fn from_file(path: &Path, realtime: bool) -> Result<Self, UsbError> {
        let text = std::fs::read_to_string(path).map_err(|e| UsbError::Recording {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, realtime).map_err(|reason| UsbError::Recording {
            path: path.to_path_buf(),
            reason,
        })
    }
}

impl ReplayBackend {
    /// The instant replay time began and the wall-clock ms of `t = 0`.
    fn start(&self) -> (std::time::Instant, u64) {
        *self.started.get_or_init(|| {
            (
                std::time::Instant::now(),
                self.base_ms.unwrap_or_else(now_ms),
            )
        })
    }
}

impl UsbBackend for ReplayBackend {
    fn is_live(&self) -> bool {
        false
    }

    fn list(&self) -> Result<Vec<UsbDevice>, UsbError> {
        let mut present: BTreeMap<String, UsbDevice> = BTreeMap::new();
        for ev in self.events.iter().filter(|e| e.t <= 0.0) {
            match &ev.kind {
                UsbEventKind::Attached { device } => {
                    present.insert(device.key.clone(), device.clone());
                }
                UsbEventKind::Detached { key } => {
                    present.remove(key);
                }
            }
        }
        Ok(present.into_values().collect())
    }

    fn now_ms(&self) -> u64 {
        let (start, base) = self.start();
        let elapsed = start.elapsed().as_secs_f64() * self.speed * 1000.0;
        base + elapsed as u64
    }

    fn watch(&self) -> Result<EventStream, UsbError> {
        let (start, base) = self.start();
        let realtime = self.realtime;
        let speed = self.speed;
        let events: Vec<RecordedEvent> =
            self.events.iter().filter(|e| e.t > 0.0).cloned().collect();
        Ok(Box::new(events.into_iter().map(move |ev| {
            let offset = Duration::from_secs_f64(ev.t.max(0.0));
            let paced = Duration::from_secs_f64(ev.t.max(0.0) / speed);
            if realtime && let Some(wait) = paced.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
            UsbEvent {
                at_ms: base + offset.as_millis() as u64,
                kind: ev.kind,
            }
        })))
    }
}

/// Writes what a watch sees as a recording [`ReplayBackend`] can replay: a `{"base_ms": N}`
/// line, the Apple devices present at the start (`t = 0`), then every Apple attach and detach
/// with its time. Each line is flushed as it is written, so a watch stopped with Ctrl-C leaves
/// a complete file. The serial strings are kept as seen (they carry the ECID).
pub struct Recorder<W: std::io::Write> {
    out: W,
    base_ms: u64,
    keys: std::collections::HashSet<String>,
}

impl<W: std::io::Write> Recorder<W> {
    pub fn new(mut out: W, base_ms: u64, initial: &[UsbDevice]) -> std::io::Result<Self> {
        writeln!(out, "{{\"base_ms\": {base_ms}}}")?;
        let mut rec = Recorder {
            out,
            base_ms,
            keys: Default::default(),
        };
        for device in initial.iter().filter(|d| d.is_apple()) {
            rec.write(
                0.0,
                UsbEventKind::Attached {
                    device: device.clone(),
                },
            )?;
        }
        Ok(rec)
    }

    /// Record one event (non-Apple devices are left out).
    pub fn record(&mut self, event: &UsbEvent) -> std::io::Result<()> {
        let keep = match &event.kind {
            UsbEventKind::Attached { device } => device.is_apple(),
            UsbEventKind::Detached { key } => self.keys.contains(key),
        };
        if !keep {
            return Ok(());
        }
        let t = event.at_ms.saturating_sub(self.base_ms) as f64 / 1000.0;
        // A replay treats t <= 0 as "present at the start".
        self.write(t.max(0.001), event.kind.clone())
    }

    fn write(&mut self, t: f64, kind: UsbEventKind) -> std::io::Result<()> {
        match &kind {
            UsbEventKind::Attached { device } => {
                self.keys.insert(device.key.clone());
            }
            UsbEventKind::Detached { key } => {
                self.keys.remove(key);
            }
        }
        let line =
            serde_json::to_string(&RecordedEvent { t, kind }).map_err(std::io::Error::other)?;
        writeln!(self.out, "{line}")?;
        self.out.flush()
    }
}

// ---------------------------------------------------------------------------------------------
// Live bus

/// The live bus, read with `nusb` (pure Rust: usbfs/sysfs on Linux, IOKit, WinUSB/SetupAPI).
#[derive(Debug, Clone, Copy, Default)]
pub struct NusbBackend;

fn speed(s: Option<nusb::Speed>) -> Option<LinkSpeed> {
    match s? {
        nusb::Speed::Low => Some(LinkSpeed::Low),
        nusb::Speed::Full => Some(LinkSpeed::Full),
        nusb::Speed::High => Some(LinkSpeed::High),
        nusb::Speed::Super => Some(LinkSpeed::Super),
        nusb::Speed::SuperPlus => Some(LinkSpeed::SuperPlus),
        _ => None,
    }
}

fn key_of(id: &nusb::DeviceId) -> String {
    format!("{id:?}")
}

fn convert(info: &nusb::DeviceInfo) -> UsbDevice {
    #[cfg(target_os = "windows")]
    let driver = info.driver().map(str::to_string);
    #[cfg(not(target_os = "windows"))]
    let driver = None;
    let mut dev = UsbDevice {
        key: key_of(&info.id()),
        vid: info.vendor_id(),
        pid: info.product_id(),
        bus: info.bus_id().to_string(),
        port_path: info.port_chain().to_vec(),
        address: Some(info.device_address()),
        speed: speed(info.speed()),
        serial: info.serial_number().map(str::to_string),
        product: info.product_string().map(str::to_string),
        manufacturer: info.manufacturer_string().map(str::to_string),
        driver,
        access: Access::Unknown,
    };
    #[cfg(target_os = "linux")]
    {
        dev.access = linux_access(info.busnum(), info.device_address());
    }
    #[cfg(not(target_os = "linux"))]
    {
        dev.access = Access::Unknown;
    }
    dev
}

/// Can this user open the usbfs node read-write (what libusb-based restore tools do)?
#[cfg(target_os = "linux")]
fn linux_access(bus: u8, addr: u8) -> Access {
    let path = format!("/dev/bus/usb/{bus:03}/{addr:03}");
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
    {
        Ok(_) => Access::Ok,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Access::PermissionDenied,
        Err(_) => Access::Unknown,
    }
}

fn map_nusb_error(e: nusb::Error) -> UsbError {
    let text = e.to_string();
    match e.kind() {
        nusb::ErrorKind::PermissionDenied => UsbError::PermissionDenied(text),
        nusb::ErrorKind::NotFound | nusb::ErrorKind::Unsupported => UsbError::NoUsb(text),
        _ if no_usb_subsystem() => UsbError::NoUsb(text),
        _ => UsbError::Backend(text),
    }
}

/// True where the OS has no USB subsystem to read (Linux without `/sys/bus/usb`).
fn no_usb_subsystem() -> bool {
    cfg!(target_os = "linux") && !Path::new("/sys/bus/usb/devices").exists()
}

impl UsbBackend for NusbBackend {
    fn list(&self) -> Result<Vec<UsbDevice>, UsbError> {
        use nusb::MaybeFuture;
        if no_usb_subsystem() {
            return Err(UsbError::NoUsb("/sys/bus/usb is missing".into()));
        }
        let devices = nusb::list_devices().wait().map_err(map_nusb_error)?;
        Ok(devices.map(|d| convert(&d)).collect())
    }

    fn watch(&self) -> Result<EventStream, UsbError> {
        use nusb::MaybeFuture;
        use nusb::hotplug::HotplugEvent;
        if no_usb_subsystem() {
            return Err(UsbError::NoUsb("/sys/bus/usb is missing".into()));
        }
        let watch = nusb::watch_devices().map_err(map_nusb_error)?;
        // Detach events carry only the id: keep the keys of what we have seen.
        let mut known: std::collections::HashMap<nusb::DeviceId, String> = nusb::list_devices()
            .wait()
            .map_err(map_nusb_error)?
            .map(|d| (d.id(), key_of(&d.id())))
            .collect();
        let events = futures_lite::stream::block_on(watch).map(move |event| match event {
            HotplugEvent::Connected(info) => {
                let device = convert(&info);
                known.insert(info.id(), device.key.clone());
                UsbEvent {
                    at_ms: now_ms(),
                    kind: UsbEventKind::Attached { device },
                }
            }
            HotplugEvent::Disconnected(id) => UsbEvent {
                at_ms: now_ms(),
                kind: UsbEventKind::Detached {
                    key: known.remove(&id).unwrap_or_else(|| key_of(&id)),
                },
            },
        });
        Ok(Box::new(events))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDING: &str = r#"
# an iPhone 6s Plus in DFU before the watch starts
{"t": 0, "event": "attached", "device": {"key": "a", "vid": 1452, "pid": 4647, "bus": "1", "port_path": [2], "serial": "CPID:8000 BDID:06"}}
{"t": 1.5, "event": "detached", "key": "a"}
{"t": 3, "event": "attached", "device": {"key": "b", "vid": 1452, "pid": 4737, "bus": "1", "port_path": [2]}}
"#;

    #[test]
    fn replay_lists_initial_devices_and_streams_the_rest() {
        let backend = ReplayBackend::parse(RECORDING, false)
            .unwrap()
            .with_base_ms(1_000_000);
        let listed = backend.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].pid, 0x1227);
        let events: Vec<UsbEvent> = backend.watch().unwrap().collect();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].at_ms, 1_001_500);
        assert_eq!(events[0].kind, UsbEventKind::Detached { key: "a".into() });
        assert_eq!(events[1].at_ms, 1_003_000);
        assert!(
            matches!(&events[1].kind, UsbEventKind::Attached { device } if device.pid == 0x1281)
        );
    }

    #[test]
    fn header_fixes_the_start_time_and_speed_keeps_recorded_timestamps() {
        let text = format!("{{\"base_ms\": 5000}}\n{RECORDING}");
        let backend = ReplayBackend::parse(&text, true)
            .unwrap()
            .with_speed(1000.0);
        let events: Vec<UsbEvent> = backend.watch().unwrap().collect();
        assert_eq!(events[0].at_ms, 6_500);
        assert_eq!(events[1].at_ms, 8_000);
    }

    #[test]
    fn a_recording_replays_to_the_same_events() {
        let original = ReplayBackend::parse(RECORDING, false)
            .unwrap()
            .with_base_ms(1_000_000);
        let mut file = Vec::new();
        let mut recorder = Recorder::new(&mut file, 1_000_000, &original.list().unwrap()).unwrap();
        let events: Vec<UsbEvent> = original.watch().unwrap().collect();
        for e in &events {
            recorder.record(e).unwrap();
        }
        // A keyboard is not recorded, nor its detach.
        let keyboard = UsbDevice {
            vid: 0x046d,
            ..crate::device::tests::dev("kbd", 0xc31c, &[9], None)
        };
        recorder
            .record(&UsbEvent {
                at_ms: 1_005_000,
                kind: UsbEventKind::Attached { device: keyboard },
            })
            .unwrap();
        recorder
            .record(&UsbEvent {
                at_ms: 1_006_000,
                kind: UsbEventKind::Detached { key: "kbd".into() },
            })
            .unwrap();
        drop(recorder);
        let text = String::from_utf8(file).unwrap();
        assert!(!text.contains("kbd"), "{text}");
        let replayed = ReplayBackend::parse(&text, false).unwrap();
        assert_eq!(replayed.list().unwrap(), original.list().unwrap());
        let again: Vec<UsbEvent> = replayed.watch().unwrap().collect();
        assert_eq!(again, events);
    }

    #[test]
    fn bad_recording_names_the_line() {
        let err = ReplayBackend::parse("{\"t\": 0, \"event\": \"attached\"}\n", false).unwrap_err();
        assert!(err.starts_with("line 1:"), "{err}");
        let err = ReplayBackend::parse("\n\nnot json", false).unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
    }

    #[test]
    fn live_bus_without_usb_is_reported_as_no_usb() {
        // In a container without /sys/bus/usb this must be NoUsb (callers print an empty
        // list); on a machine with USB it must list without error.
        match NusbBackend.list() {
            Ok(_) => assert!(!no_usb_subsystem()),
            Err(UsbError::NoUsb(_)) => assert!(no_usb_subsystem()),
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
}
