//! `restore-doctor detect [--watch] [--json] [--show-ids]`: every iPhone, iPad and iPod touch on
//! USB with its mode, model, ECID (redacted unless `--show-ids`), bench port and link speed;
//! `--watch` follows attach, detach and mode changes live and calls out a drop mid-restore.

use crate::output::{BAD, BOLD, CmdResult, DIM, GOOD, HEADING, Out, WARN, bad_input, paint};
use serde::Serialize;
use std::process::ExitCode;
use std::time::Duration;
use usb::{Access, AppleDevice, Note, NoteKind, Tracker, UsbBackend, UsbDevice, UsbError};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor detect\n  restore-doctor detect --json --show-ids\n  restore-doctor detect --watch"
)]
pub struct Args {
    /// Keep watching: print attach, detach and mode changes as they happen (Ctrl-C stops).
    #[arg(long)]
    pub watch: bool,
    /// Show ECIDs and UDIDs in full.
    #[arg(long)]
    pub show_ids: bool,
    /// With --watch: also write the USB events to FILE (JSON lines) so they can be replayed
    /// later (RESTORE_DOCTOR_USB_REPLAY=FILE). The file keeps the serial strings, ECIDs included.
    #[arg(long, value_name = "FILE", requires = "watch")]
    pub record: Option<std::path::PathBuf>,
}

/// One device in `detect --json` (design.md: mode, product_type, name, cpid, bdid, ecid,
/// location are stable; the rest are extensions).
#[derive(Serialize, Debug)]
pub struct DeviceJson {
    pub mode: &'static str,
    pub product_type: Option<String>,
    pub name: Option<String>,
    pub cpid: Option<String>,
    pub bdid: Option<String>,
    pub ecid: Option<String>,
    pub location: String,
    pub ecid_redacted: bool,
    pub mode_label: &'static str,
    pub family: Option<String>,
    /// Boot stage told by the serial string (`securerom_dfu`, `recovery`...).
    pub boot_stage: Option<&'static str>,
    pub usb_vendor_id: String,
    pub usb_product_id: String,
    pub bus: String,
    pub port_path: Vec<u8>,
    pub speed: Option<&'static str>,
    pub speed_label: Option<&'static str>,
    pub udid: Option<String>,
    /// iOS/iPadOS version (normal mode, from lockdownd where usbmuxd runs).
    pub os_version: Option<String>,
    pub access: Access,
    /// Why the serial string could not be read, if it could not.
    pub serial_error: Option<String>,
}

impl DeviceJson {
    pub fn new(d: &AppleDevice, show_ids: bool) -> Self {
        DeviceJson {
            mode: d.mode.as_str(),
            product_type: d.product_type.clone(),
            name: d.name.clone(),
            cpid: d.cpid.map(|v| format!("0x{v:04X}")),
            bdid: d.bdid.map(|v| format!("0x{v:02X}")),
            ecid: d.ecid_for_output(show_ids),
            location: d.usb.location(),
            ecid_redacted: !show_ids && d.ecid.is_some(),
            mode_label: d.mode.label(),
            family: d.family.clone(),
            boot_stage: d.mode_hint.map(|h| h.as_str()),
            usb_vendor_id: format!("0x{:04x}", d.usb.vid),
            usb_product_id: format!("0x{:04x}", d.usb.pid),
            bus: d.usb.bus.clone(),
            port_path: d.usb.port_path.clone(),
            speed: d.usb.speed.map(|s| s.as_str()),
            speed_label: d.usb.speed.map(|s| s.label()),
            udid: d.udid_for_output(show_ids),
            os_version: d.os_version.clone(),
            access: d.usb.access,
            serial_error: d.serial_error.clone(),
        }
    }
}

#[derive(Serialize)]
struct DetectJson {
    devices: Vec<DeviceJson>,
    /// Set when the machine shows no USB at all (container, CI).
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// What the user must do so restore tools can open the devices (udev rule, driver).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// The iPhones, iPads and iPod touches among `devices`.
pub fn apple_devices(devices: Vec<UsbDevice>) -> Vec<AppleDevice> {
    let mut found: Vec<AppleDevice> = devices
        .into_iter()
        .filter(|d| d.is_apple() && d.mode().is_ios_device())
        .map(AppleDevice::from_usb)
        .collect();
    found.sort_by(|a, b| {
        (a.usb.bus.as_str(), &a.usb.port_path).cmp(&(b.usb.bus.as_str(), &b.usb.port_path))
    });
    found
}

/// What to tell the user about access: the udev rule on Linux, drivers on Windows.
pub fn access_warnings(devices: &[AppleDevice]) -> Vec<String> {
    let mut warnings = Vec::new();
    if devices
        .iter()
        .any(|d| d.usb.access == Access::PermissionDenied)
    {
        warnings.push(linux_permission_hint());
    }
    if cfg!(target_os = "windows")
        && devices
            .iter()
            .any(|d| d.mode.has_serial_fields() && d.usb.driver.is_none())
    {
        warnings.push(windows_driver_hint());
    }
    warnings
}

/// Linux: the device nodes are root-only; point to the shipped udev rule.
pub fn linux_permission_hint() -> String {
    "USB access denied: this user cannot open the device, so restore tools will fail too. \
     Install the udev rule restore-doctor ships: \
     `sudo install -m 0644 packaging/udev/39-restore-doctor.rules /etc/udev/rules.d/ && \
     sudo udevadm control --reload-rules && sudo udevadm trigger --subsystem-match=usb`, \
     then unplug and replug the device (or run the restore tool with sudo)."
        .to_string()
}

/// Windows: DFU/Recovery devices need a driver bound before tools can talk to them.
pub fn windows_driver_hint() -> String {
    "No driver is bound to the device in DFU/Recovery: install Apple's driver (the Apple \
     Devices app or iTunes, which bring Apple Mobile Device Support), or, for libusb/nusb-based \
     tools, bind WinUSB to it (e.g. with Zadig)."
        .to_string()
}

/// Where the Linux udev rule is installed, if it is (by the Debian package or by hand).
fn installed_udev_rule() -> Option<&'static str> {
    [
        "/etc/udev/rules.d/39-restore-doctor.rules",
        "/usr/lib/udev/rules.d/39-restore-doctor.rules",
        "/lib/udev/rules.d/39-restore-doctor.rules",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
}

/// What the machine shows of USB, for the no-device note.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bus {
    /// A USB subsystem is there (devices may still be absent).
    Visible,
    /// No USB subsystem at all: a container, a VM or WSL without USB passed through.
    Missing,
}

/// This process runs as root (root needs no udev rule to open USB devices).
fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: geteuid(2) has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// The platform's needs, in one sentence, when no device was found; `None` when there is
/// nothing to add. A udev rule is only suggested where it would help: Linux, a visible USB
/// bus, and a user who is not root.
pub fn platform_note(os: &str, bus: Bus, root: bool, rule: Option<&str>) -> Option<String> {
    match (os, bus) {
        ("macos", _) => Some("macOS needs no driver for DFU/Recovery devices.".into()),
        ("windows", _) => Some(
            "Windows needs Apple Mobile Device Support (Apple Devices app or iTunes) for devices \
             to show up to Apple's tools."
                .into(),
        ),
        (_, Bus::Missing) => Some(
            "This system shows no USB bus at all (a container, a virtual machine or WSL without \
             USB passed through): run restore-doctor on the computer the device is plugged into, \
             or pass its USB through."
                .into(),
        ),
        (_, Bus::Visible) if root => None,
        (_, Bus::Visible) => Some(match rule {
            Some(path) => format!(
                "Linux: the udev rule ({path}) lets this user open the devices; if a plugged-in \
                 device does not show, unplug and replug it."
            ),
            None => "Linux: non-root access needs the udev rule in \
                     packaging/udev/39-restore-doctor.rules."
                .into(),
        }),
    }
}

fn local_platform_note(bus: Bus) -> Option<String> {
    platform_note(
        std::env::consts::OS,
        bus,
        running_as_root(),
        installed_udev_rule(),
    )
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    let backend = match usb::default_backend() {
        Ok(b) => b,
        Err(e @ UsbError::Recording { .. }) => return bad_input(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    tracing::info!(
        "USB backend: {}",
        if backend.is_live() {
            "the live bus (nusb)"
        } else {
            "a recorded sequence (RESTORE_DOCTOR_USB_REPLAY)"
        }
    );
    if args.watch {
        return watch(backend.as_ref(), &args, out);
    }
    let mut bus = Bus::Visible;
    let (mut devices, note) = match backend.list() {
        Ok(list) => (apple_devices(list), None),
        Err(UsbError::NoUsb(why)) => {
            bus = Bus::Missing;
            (Vec::new(), Some(format!("no USB subsystem here: {why}")))
        }
        Err(UsbError::PermissionDenied(why)) => {
            crate::esayln!(
                "{} {why}\n  {}",
                paint(WARN, "warning:"),
                linux_permission_hint()
            );
            (Vec::new(), Some(format!("permission denied: {why}")))
        }
        Err(e) => return Err(e.into()),
    };
    // Normal mode: the exact model and iOS version from lockdownd, where usbmuxd runs.
    let ask_lockdown = backend.is_live() || std::env::var_os(usb::lockdown::USBMUXD_ENV).is_some();
    if ask_lockdown && let Some(why) = usb::enrich_normal_mode(&mut devices) {
        tracing::info!("normal-mode details not available: {why}");
    }
    let warnings = access_warnings(&devices);
    tracing::info!(
        "{} Apple devices; {}",
        devices.len(),
        note.as_deref().unwrap_or("USB bus listed")
    );
    if out.json {
        out.json(&DetectJson {
            devices: devices
                .iter()
                .map(|d| DeviceJson::new(d, args.show_ids))
                .collect(),
            note,
            warnings,
        })?;
    } else {
        print_human(&devices, note.as_deref(), bus, &warnings, args.show_ids);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_human(
    devices: &[AppleDevice],
    note: Option<&str>,
    bus: Bus,
    warnings: &[String],
    show_ids: bool,
) {
    let mut s = String::new();
    if devices.is_empty() {
        s.push_str("No iPhone, iPad or iPod touch on USB.\n");
        if let Some(n) = note {
            s.push_str(&format!("  {}\n", paint(DIM, n)));
        }
        if let Some(p) = local_platform_note(bus) {
            s.push_str(&format!("  {}\n", paint(DIM, p)));
        }
    } else {
        let n = devices.len();
        s.push_str(&format!(
            "{}\n",
            paint(
                HEADING,
                format!("{n} Apple device{} on USB", if n == 1 { "" } else { "s" })
            )
        ));
    }
    for d in devices {
        let title = match (&d.name, &d.product_type) {
            (Some(n), Some(p)) => format!("{n} ({p})"),
            (Some(n), None) => n.clone(),
            (None, _) => match d.cpid {
                Some(c) => format!("Unknown model (CPID {c:04X})"),
                None => "Apple device".to_string(),
            },
        };
        let mode_style = if d.mode.has_serial_fields() {
            WARN
        } else {
            GOOD
        };
        s.push_str(&format!(
            "\n  {}  {}\n",
            paint(BOLD, title),
            paint(mode_style, d.mode.label())
        ));
        let mut row = |label: &str, value: String| {
            s.push_str(&format!(
                "    {} {value}\n",
                paint(DIM, format!("{label:<7}"))
            ));
        };
        if let Some(h) = d.mode_hint {
            row("Stage", h.describe().to_string());
        }
        row("Port", d.usb.location());
        if let Some(sp) = d.usb.speed {
            row("Speed", sp.label().to_string());
        }
        if let Some(e) = d.ecid_for_output(show_ids) {
            row("ECID", e);
        }
        if let Some(u) = d.udid_for_output(show_ids) {
            row("UDID", u);
        }
        if let Some(v) = &d.os_version {
            row("iOS", v.clone());
        }
        if let Some(err) = &d.serial_error {
            row("Serial", format!("unreadable: {err}"));
        }
        row("USB id", format!("{:04x}:{:04x}", d.usb.vid, d.usb.pid));
    }
    if !show_ids && devices.iter().any(|d| d.ecid.is_some() || d.udid.is_some()) {
        s.push_str(&format!(
            "\n  {}\n",
            paint(DIM, "(identifiers redacted: --show-ids shows them)")
        ));
    }
    for w in warnings {
        s.push_str(&format!("\n{} {w}\n", paint(WARN, "warning:")));
    }
    crate::say!("{s}");
}

/// A timeline note as JSON (one object per line in `detect --watch --json`).
#[derive(Serialize)]
pub struct NoteJson {
    pub at: String,
    pub at_ms: u64,
    #[serde(flatten)]
    pub kind: NoteKind,
    pub alarm: bool,
    pub text: String,
    pub mode: &'static str,
    pub product_type: Option<String>,
    pub name: Option<String>,
    pub location: String,
    pub ecid: Option<String>,
}

impl NoteJson {
    pub fn new(n: &Note, show_ids: bool) -> Self {
        NoteJson {
            at: usb::rfc3339(n.at_ms),
            at_ms: n.at_ms,
            kind: n.kind.clone(),
            alarm: n.is_alarm(),
            text: n.local_text(),
            mode: n.device.mode.as_str(),
            product_type: n.device.product_type.clone(),
            name: n.device.name.clone(),
            location: n.device.location.clone(),
            ecid: n.device.ecid.as_deref().map(|e| {
                if show_ids {
                    e.to_string()
                } else {
                    usb::redact_id(e)
                }
            }),
        }
    }
}

/// One human line: `14:02:11  ! text`.
pub fn note_line(n: &Note) -> String {
    let (mark, style) = match n.kind {
        NoteKind::Present => ("=", DIM),
        NoteKind::Attached => ("+", GOOD),
        NoteKind::Detached => ("-", DIM),
        NoteKind::ModeChange { .. } => ("~", GOOD),
        _ => ("!", BAD),
    };
    let text = n.local_text();
    let text = if n.is_alarm() { paint(BAD, text) } else { text };
    format!(
        "{}  {} {text}",
        paint(DIM, usb::local_clock(n.at_ms)),
        paint(style, mark)
    )
}

fn emit(n: &Note, out: &Out, show_ids: bool) -> anyhow::Result<()> {
    if out.json {
        anstream::println!("{}", serde_json::to_string(&NoteJson::new(n, show_ids))?);
    } else {
        // Continuation lines start under the note's text, after `14:02:11  ! `.
        crate::sayln!(
            "{}",
            crate::output::fit_line(&note_line(n), 12, crate::output::width())
        );
    }
    Ok(())
}

fn watch(backend: &dyn UsbBackend, args: &Args, out: &Out) -> CmdResult {
    let mut tracker = Tracker::new();
    // The backend's clock before watching starts: a replay's clock starts here, at its t = 0.
    let started_ms = backend.now_ms();
    let rx = match usb::spawn_watch(backend) {
        Ok(rx) => rx,
        Err(UsbError::NoUsb(why)) => {
            if out.json {
                out.json(&DetectJson {
                    devices: Vec::new(),
                    note: Some(format!("no USB subsystem here: {why}")),
                    warnings: Vec::new(),
                })?;
            } else {
                crate::sayln!("No USB subsystem here ({why}): nothing to watch.");
                if let Some(p) = local_platform_note(Bus::Missing) {
                    crate::sayln!("  {}", paint(DIM, p));
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.into()),
    };
    let initial = backend.list().unwrap_or_default();
    let present = tracker.seed(&initial, started_ms);
    let mut recorder = match &args.record {
        Some(path) => {
            let file = match std::fs::File::create(path) {
                Ok(f) => f,
                Err(e) => return bad_input(format!("--record {}: {e}", path.display())),
            };
            Some(usb::Recorder::new(file, started_ms, &initial)?)
        }
        None => None,
    };
    if !out.json {
        crate::sayln!(
            "{}",
            paint(
                DIM,
                "Watching USB for iPhones, iPads and iPod touches (Ctrl-C stops)..."
            )
        );
    }
    for n in &present {
        emit(n, out, args.show_ids)?;
    }
    let warnings = access_warnings(&apple_devices(initial));
    for w in &warnings {
        crate::esayln!("{} {w}", paint(WARN, "warning:"));
    }
    loop {
        match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(event) => {
                if let usb::UsbEventKind::Attached { device } = &event.kind
                    && device.access == Access::PermissionDenied
                    && device.is_apple()
                {
                    crate::esayln!("{} {}", paint(WARN, "warning:"), linux_permission_hint());
                }
                if let Some(r) = recorder.as_mut() {
                    r.record(&event)?;
                }
                for n in tracker.feed(&event) {
                    emit(&n, out, args.show_ids)?;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                for n in tracker.tick(backend.now_ms()) {
                    emit(&n, out, args.show_ids)?;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_udev_rule_is_only_suggested_where_it_helps() {
        // No USB bus (a container): as root or not, no udev advice.
        for root in [true, false] {
            let n = platform_note("linux", Bus::Missing, root, None).unwrap();
            assert!(n.contains("no USB bus") && !n.contains("udev"), "{n}");
        }
        // Root opens USB devices without the rule.
        assert_eq!(platform_note("linux", Bus::Visible, true, None), None);
        let user = platform_note("linux", Bus::Visible, false, None).unwrap();
        assert!(
            user.contains("packaging/udev/39-restore-doctor.rules"),
            "{user}"
        );
        let installed = platform_note(
            "linux",
            Bus::Visible,
            false,
            Some("/usr/lib/udev/rules.d/39-restore-doctor.rules"),
        )
        .unwrap();
        assert!(installed.contains("/usr/lib/udev/rules.d"), "{installed}");
        assert!(
            !platform_note("macos", Bus::Visible, false, None)
                .unwrap()
                .contains("udev")
        );
    }
}
