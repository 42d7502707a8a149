//! Follows Apple devices across attach, detach and re-enumeration, and says in plain words
//! what happened: a mode change, a restore finishing, or the device dropping off USB in the
//! middle of a restore (what errors 4013/4014 report).
//!
//! Pure: it is fed timestamped [`UsbEvent`]s (and, from `watch`, the restore's progress) and
//! returns [`Note`]s. A re-attach is matched to an earlier detach by the same physical port or
//! the same ECID within [`Tracker::reattach_window_ms`].

use crate::backend::{UsbEvent, UsbEventKind};
use crate::device::{AppleDevice, UsbDevice};
use crate::mode::UsbMode;
use chrono::{TimeZone, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the tracker knows about a device when it writes a note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteDevice {
    pub mode: UsbMode,
    pub product_type: Option<String>,
    pub name: Option<String>,
    /// `iPhone`, `iPad`, `iPod touch`.
    pub family: Option<String>,
    pub location: String,
    /// Full ECID when known; redact before printing.
    pub ecid: Option<String>,
    pub pid: u16,
}

impl NoteDevice {
    /// "the iPhone" / "the device".
    pub fn the_device(&self) -> String {
        match &self.family {
            Some(f) => format!("the {f}"),
            None => "the device".into(),
        }
    }

    /// "iPhone 6s Plus (iPhone8,2)" or "Apple device".
    pub fn label(&self) -> String {
        match (&self.name, &self.product_type) {
            (Some(n), Some(p)) => format!("{n} ({p})"),
            (Some(n), None) => n.clone(),
            _ => "Apple device".into(),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoteKind {
    /// Already on the bus when watching started.
    Present,
    /// A device not seen before appeared.
    Attached,
    /// A device left the bus (it may come back).
    Detached,
    /// The same unit came back in another (or the same) mode.
    ModeChange { from: UsbMode, gap_ms: u64 },
    /// A restore is running and the device left the bus before it finished.
    DroppedMidRestore {
        progress: Option<f32>,
        stage: Option<String>,
    },
    /// The unit that left during a restore came back in a mode that means the restore failed.
    CameBackAfterDrop {
        left_at_ms: u64,
        from: UsbMode,
        gap_ms: u64,
        progress: Option<f32>,
    },
    /// The unit that left during a restore has not come back.
    DidNotComeBack {
        left_at_ms: u64,
        from: UsbMode,
        waited_ms: u64,
        progress: Option<f32>,
    },
}

/// One line of the device timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub at_ms: u64,
    #[serde(flatten)]
    pub kind: NoteKind,
    pub device: NoteDevice,
}

/// `14:02:11` in the machine's local time zone.
pub fn local_clock(at_ms: u64) -> String {
    clock(at_ms, &chrono::Local)
}

/// `2026-11-21T14:02:11.250Z` (UTC, for JSON).
pub fn rfc3339(at_ms: u64) -> String {
    Utc.timestamp_millis_opt(at_ms as i64)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `14:02:11` in the given time zone.
pub fn clock<Tz: TimeZone>(at_ms: u64, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let utc = Utc
        .timestamp_millis_opt(at_ms as i64)
        .single()
        .unwrap_or_default();
    utc.with_timezone(tz).format("%H:%M:%S").to_string()
}

fn seconds(ms: u64) -> String {
    if ms < 10_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} s", (ms + 500) / 1000)
    }
}

fn progress_words(progress: Option<f32>, stage: Option<&str>) -> String {
    match (progress, stage) {
        (Some(p), Some(s)) => format!(" during the restore ({s}, {p:.0}%)"),
        (Some(p), None) => format!(" during the restore ({p:.0}%)"),
        (None, Some(s)) => format!(" during the restore ({s})"),
        (None, None) => " during the restore".into(),
    }
}

impl Note {
    /// Is this one of the notes a person must not miss (a drop mid-restore)?
    pub fn is_alarm(&self) -> bool {
        matches!(
            self.kind,
            NoteKind::DroppedMidRestore { .. }
                | NoteKind::CameBackAfterDrop { .. }
                | NoteKind::DidNotComeBack { .. }
        )
    }

    /// The note in plain words, times in the machine's local time zone.
    pub fn local_text(&self) -> String {
        self.text(&chrono::Local)
    }

    /// The note in plain words, times in UTC (for stored records).
    pub fn utc_text(&self) -> String {
        self.text(&Utc)
    }

    /// The note in plain words, times shown in `tz`.
    pub fn text<Tz: TimeZone>(&self, tz: &Tz) -> String
    where
        Tz::Offset: std::fmt::Display,
    {
        let d = &self.device;
        let at = clock(self.at_ms, tz);
        match &self.kind {
            NoteKind::Present => format!("{} in {} ({})", d.label(), d.mode.label(), d.location),
            NoteKind::Attached => {
                format!(
                    "{} appeared in {} ({})",
                    d.label(),
                    d.mode.label(),
                    d.location
                )
            }
            NoteKind::Detached => format!(
                "{} left USB (was in {}, {})",
                d.label(),
                d.mode.label(),
                d.location
            ),
            NoteKind::ModeChange { from, gap_ms } => {
                let what = match (from, d.mode) {
                    (UsbMode::Restore, UsbMode::Normal) => {
                        "the restore ended and the device booted: ".to_string()
                    }
                    (f, UsbMode::Restore) if f.has_serial_fields() => {
                        "the restore ramdisk seems to be running (a normal-mode id right after Recovery/DFU): ".to_string()
                    }
                    _ => String::new(),
                };
                capitalise(&format!(
                    "{what}{} came back in {} after {} (was in {}, {})",
                    d.the_device(),
                    d.mode.label(),
                    seconds(*gap_ms),
                    from.label(),
                    d.location
                ))
            }
            NoteKind::DroppedMidRestore { progress, stage } => format!(
                "{} dropped off USB at {at}{}, before the restore finished",
                capitalise(&d.the_device()),
                progress_words(*progress, stage.as_deref()),
            ),
            NoteKind::CameBackAfterDrop {
                left_at_ms,
                from,
                gap_ms,
                progress,
            } => {
                let during = match progress {
                    Some(p) => format!(" during the restore ({p:.0}%)"),
                    None if *from == UsbMode::Restore => " in restore mode".into(),
                    None => String::new(),
                };
                format!(
                    "{} dropped off USB at {}{during} and came back in {} at {at} ({} later): this is what errors 4013/4014 report",
                    capitalise(&d.the_device()),
                    clock(*left_at_ms, tz),
                    d.mode.label(),
                    seconds(*gap_ms),
                )
            }
            NoteKind::DidNotComeBack {
                left_at_ms,
                from,
                waited_ms,
                progress,
            } => {
                let during = match progress {
                    Some(p) => format!(" during the restore ({p:.0}%)"),
                    None => format!(" in {}", from.label()),
                };
                format!(
                    "{} dropped off USB at {}{during} and has not come back after {}: this is what errors 4013/4014 report (check the cable and port, then whether it shows a screen at all)",
                    capitalise(&d.the_device()),
                    clock(*left_at_ms, tz),
                    seconds(*waited_ms),
                )
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[derive(Debug, Clone)]
struct Present {
    usb: UsbDevice,
    note: NoteDevice,
}

#[derive(Debug, Clone)]
struct Gone {
    usb: UsbDevice,
    note: NoteDevice,
    at_ms: u64,
    /// Left while a restore was known to be running (alarm already raised).
    alarm: bool,
    progress: Option<f32>,
    reported_missing: bool,
}

/// The restore as told by `watch` (the log analyser); `detect --watch` leaves it unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RestoreContext {
    /// A restore tool is running and has not reported success or failure yet.
    pub running: bool,
    pub progress: Option<f32>,
    pub stage: Option<String>,
}

/// Follows devices over time; see the module doc.
#[derive(Debug, Clone)]
pub struct Tracker {
    present: BTreeMap<String, Present>,
    gone: Vec<Gone>,
    restore: RestoreContext,
    /// How long a detached device may take to come back and still count as the same unit.
    pub reattach_window_ms: u64,
    /// After this long without a return, a device that left mid-restore is reported missing.
    pub no_return_ms: u64,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker::new()
    }
}

impl Tracker {
    pub fn new() -> Self {
        Tracker {
            present: BTreeMap::new(),
            gone: Vec::new(),
            restore: RestoreContext::default(),
            reattach_window_ms: 180_000,
            no_return_ms: 60_000,
        }
    }

    /// Set what the restore tool's log says (from `watch`).
    pub fn set_restore(&mut self, ctx: RestoreContext) {
        self.restore = ctx;
    }

    pub fn restore(&self) -> &RestoreContext {
        &self.restore
    }

    /// Apple devices on the bus now.
    pub fn present(&self) -> Vec<NoteDevice> {
        self.present.values().map(|p| p.note.clone()).collect()
    }

    /// Start from the devices already on the bus (one `Present` note each, Apple only).
    pub fn seed(&mut self, devices: &[UsbDevice], at_ms: u64) -> Vec<Note> {
        let mut notes = Vec::new();
        for usb in devices
            .iter()
            .filter(|d| d.is_apple() && d.mode().is_ios_device())
        {
            let note = note_device(&AppleDevice::from_usb(usb.clone()), usb.mode());
            self.present.insert(
                usb.key.clone(),
                Present {
                    usb: usb.clone(),
                    note: note.clone(),
                },
            );
            notes.push(Note {
                at_ms,
                kind: NoteKind::Present,
                device: note,
            });
        }
        notes
    }

    /// Feed one event; returns what it means (nothing for non-Apple devices).
    pub fn feed(&mut self, event: &UsbEvent) -> Vec<Note> {
        let mut notes = self.tick(event.at_ms);
        match &event.kind {
            UsbEventKind::Attached { device } => {
                if device.is_apple() && device.mode().is_ios_device() {
                    notes.extend(self.attach(device, event.at_ms));
                }
            }
            UsbEventKind::Detached { key } => notes.extend(self.detach(key, event.at_ms)),
        }
        notes
    }

    /// Time passes: report devices that left mid-restore and have not come back.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Note> {
        let mut notes = Vec::new();
        for g in &mut self.gone {
            let waited = now_ms.saturating_sub(g.at_ms);
            let mid_restore = g.alarm || g.note.mode == UsbMode::Restore;
            if mid_restore && !g.reported_missing && waited >= self.no_return_ms {
                g.reported_missing = true;
                notes.push(Note {
                    at_ms: now_ms,
                    kind: NoteKind::DidNotComeBack {
                        left_at_ms: g.at_ms,
                        from: g.note.mode,
                        waited_ms: waited,
                        progress: g.progress,
                    },
                    device: g.note.clone(),
                });
            }
        }
        let window = self.reattach_window_ms;
        self.gone
            .retain(|g| now_ms.saturating_sub(g.at_ms) <= window);
        notes
    }

    fn detach(&mut self, key: &str, at_ms: u64) -> Vec<Note> {
        let Some(p) = self.present.remove(key) else {
            return Vec::new();
        };
        // Leaving restore mode while the tool still runs is the 4013/4014 moment.
        let alarm = self.restore.running && p.note.mode == UsbMode::Restore;
        let mut notes = vec![Note {
            at_ms,
            kind: if alarm {
                NoteKind::DroppedMidRestore {
                    progress: self.restore.progress,
                    stage: self.restore.stage.clone(),
                }
            } else {
                NoteKind::Detached
            },
            device: p.note.clone(),
        }];
        if alarm {
            // Both the alarm and the plain fact; the alarm first.
            notes.push(Note {
                at_ms,
                kind: NoteKind::Detached,
                device: p.note.clone(),
            });
        }
        self.gone.push(Gone {
            usb: p.usb,
            note: p.note,
            at_ms,
            alarm,
            progress: self.restore.progress,
            reported_missing: false,
        });
        notes
    }

    fn attach(&mut self, usb: &UsbDevice, at_ms: u64) -> Vec<Note> {
        let apple = AppleDevice::from_usb(usb.clone());
        let window = self.reattach_window_ms;
        let matched = self
            .gone
            .iter()
            .enumerate()
            .filter(|(_, g)| at_ms.saturating_sub(g.at_ms) <= window)
            .filter(|(_, g)| {
                g.usb.same_port(usb)
                    || matches!((g.note.ecid.as_deref(), apple.ecid_value()), (Some(a), Some(b)) if a == b)
            })
            .max_by_key(|(_, g)| g.at_ms)
            .map(|(i, _)| i);
        let Some(index) = matched else {
            let note = note_device(&apple, usb.mode());
            self.present.insert(
                usb.key.clone(),
                Present {
                    usb: usb.clone(),
                    note: note.clone(),
                },
            );
            return vec![Note {
                at_ms,
                kind: NoteKind::Attached,
                device: note,
            }];
        };
        let gone = self.gone.remove(index);
        let from = gone.note.mode;
        let pid_mode = usb.mode();
        // A normal-range id right after DFU/Recovery is the restore ramdisk.
        let mode = if pid_mode == UsbMode::Normal && from.has_serial_fields() {
            UsbMode::Restore
        } else {
            pid_mode
        };
        let mut note = note_device(&apple, mode);
        // The model learnt from a DFU/Recovery serial string carries over to later modes.
        if note.product_type.is_none() && gone.note.product_type.is_some() {
            note.product_type = gone.note.product_type.clone();
            note.name = gone.note.name.clone();
            note.family = gone.note.family.clone();
        }
        if note.family.is_none() {
            note.family = gone.note.family.clone();
        }
        if note.ecid.is_none() {
            note.ecid = gone.note.ecid.clone();
        }
        self.present.insert(
            usb.key.clone(),
            Present {
                usb: usb.clone(),
                note: note.clone(),
            },
        );
        let gap_ms = at_ms.saturating_sub(gone.at_ms);
        let failed_restore = from == UsbMode::Restore
            && (mode.has_serial_fields() || (gone.alarm && mode == UsbMode::Normal));
        let kind = if failed_restore {
            NoteKind::CameBackAfterDrop {
                left_at_ms: gone.at_ms,
                from,
                gap_ms,
                progress: gone.progress,
            }
        } else {
            NoteKind::ModeChange { from, gap_ms }
        };
        vec![Note {
            at_ms,
            kind,
            device: note,
        }]
    }
}

fn note_device(apple: &AppleDevice, mode: UsbMode) -> NoteDevice {
    NoteDevice {
        mode,
        product_type: apple.product_type.clone(),
        name: apple.name.clone(),
        family: apple.family.clone(),
        location: apple.usb.location(),
        ecid: apple.ecid_value().map(str::to_string),
        pid: apple.usb.pid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{ReplayBackend, UsbBackend};

    const DROP_AT_34: &str = include_str!("../tests/recordings/restore_drop_at_34.jsonl");

    fn base_ms() -> u64 {
        Utc.with_ymd_and_hms(2026, 11, 21, 14, 0, 0)
            .unwrap()
            .timestamp_millis() as u64
    }

    fn replay(text: &str) -> (Tracker, Vec<Note>, Vec<UsbEvent>) {
        let backend = ReplayBackend::parse(text, false)
            .unwrap()
            .with_base_ms(base_ms());
        let mut tracker = Tracker::new();
        let notes = tracker.seed(&backend.list().unwrap(), base_ms());
        (tracker, notes, backend.watch().unwrap().collect())
    }

    #[test]
    fn restore_sequence_without_context_calls_out_the_return_in_dfu() {
        let (mut tracker, seeded, events) = replay(DROP_AT_34);
        assert_eq!(seeded.len(), 1);
        assert_eq!(seeded[0].device.mode, UsbMode::Dfu);
        assert_eq!(seeded[0].device.product_type.as_deref(), Some("iPhone8,2"));
        let notes: Vec<Note> = events.iter().flat_map(|e| tracker.feed(e)).collect();
        let kinds: Vec<&NoteKind> = notes.iter().map(|n| &n.kind).collect();
        assert_eq!(kinds.len(), 6, "{kinds:?}");
        assert_eq!(kinds[0], &NoteKind::Detached);
        assert_eq!(
            kinds[1],
            &NoteKind::ModeChange {
                from: UsbMode::Dfu,
                gap_ms: 3000
            }
        );
        assert_eq!(notes[1].device.mode, UsbMode::Recovery);
        assert_eq!(kinds[2], &NoteKind::Detached);
        // Normal-range product id right after Recovery: the restore ramdisk.
        assert_eq!(notes[3].device.mode, UsbMode::Restore);
        assert_eq!(notes[3].device.product_type.as_deref(), Some("iPhone8,2"));
        assert_eq!(kinds[4], &NoteKind::Detached);
        assert!(matches!(
            kinds[5],
            NoteKind::CameBackAfterDrop {
                from: UsbMode::Restore,
                gap_ms: 8000,
                ..
            }
        ));
        let text = notes[5].text(&Utc);
        assert_eq!(
            text,
            "The iPhone dropped off USB at 14:02:11 in restore mode and came back in DFU mode at 14:02:19 (8.0 s later): this is what errors 4013/4014 report"
        );
    }

    #[test]
    fn with_restore_progress_the_drop_is_called_out_at_once_with_the_percentage() {
        let (mut tracker, _, events) = replay(DROP_AT_34);
        let mut notes = Vec::new();
        for e in &events {
            if e.at_ms == base_ms() + 131_000 {
                tracker.set_restore(RestoreContext {
                    running: true,
                    progress: Some(34.0),
                    stage: Some("sending the filesystem".into()),
                });
            }
            notes.extend(tracker.feed(e));
        }
        let alarm: Vec<&Note> = notes.iter().filter(|n| n.is_alarm()).collect();
        assert_eq!(alarm.len(), 2, "{notes:?}");
        assert_eq!(
            alarm[0].text(&Utc),
            "The iPhone dropped off USB at 14:02:11 during the restore (sending the filesystem, 34%), before the restore finished"
        );
        assert!(
            alarm[1]
                .text(&Utc)
                .starts_with("The iPhone dropped off USB at 14:02:11 during the restore (34%) and came back in DFU mode at 14:02:19")
        );
    }

    #[test]
    fn a_device_that_never_comes_back_is_reported_after_the_wait() {
        let text: String = DROP_AT_34
            .lines()
            .filter(|l| !l.contains("\"t\": 139"))
            .collect::<Vec<_>>()
            .join("\n");
        let (mut tracker, _, events) = replay(&text);
        for e in &events {
            tracker.feed(e);
        }
        let left = base_ms() + 131_000;
        assert!(tracker.tick(left + 59_000).is_empty());
        let notes = tracker.tick(left + 60_000);
        assert_eq!(notes.len(), 1);
        assert!(matches!(
            notes[0].kind,
            NoteKind::DidNotComeBack {
                waited_ms: 60_000,
                ..
            }
        ));
        assert!(
            notes[0]
                .text(&Utc)
                .contains("has not come back after 60 s: this is what errors 4013/4014 report")
        );
        // Reported once only.
        assert!(tracker.tick(left + 90_000).is_empty());
    }

    #[test]
    fn a_finished_restore_rebooting_into_normal_mode_is_not_an_alarm() {
        let text = DROP_AT_34.replace(
            r#""t": 139, "event": "attached", "device": {"key": "1-2@8", "vid": 1452, "pid": 4647"#,
            r#""t": 139, "event": "attached", "device": {"key": "1-2@8", "vid": 1452, "pid": 4776"#,
        );
        let (mut tracker, _, events) = replay(&text);
        let notes: Vec<Note> = events.iter().flat_map(|e| tracker.feed(e)).collect();
        assert!(notes.iter().all(|n| !n.is_alarm()), "{notes:?}");
        let last = notes.last().unwrap();
        assert_eq!(last.device.mode, UsbMode::Normal);
        assert!(
            last.text(&Utc)
                .starts_with("The restore ended and the device booted")
        );
    }

    #[test]
    fn unrelated_devices_are_ignored_and_new_ports_are_new_devices() {
        let (mut tracker, _, _) = replay("");
        let keyboard = UsbEvent {
            at_ms: 1,
            kind: UsbEventKind::Attached {
                device: UsbDevice {
                    vid: 0x046d,
                    ..crate::device::tests::dev("k", 0xc31c, &[1], None)
                },
            },
        };
        assert!(tracker.feed(&keyboard).is_empty());
        let ipad = UsbEvent {
            at_ms: 2,
            kind: UsbEventKind::Attached {
                device: crate::device::tests::dev("p", 0x1281, &[4], None),
            },
        };
        let notes = tracker.feed(&ipad);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].kind, NoteKind::Attached);
        assert_eq!(tracker.present().len(), 1);
        let gone = UsbEvent {
            at_ms: 3,
            kind: UsbEventKind::Detached { key: "p".into() },
        };
        assert_eq!(tracker.feed(&gone)[0].kind, NoteKind::Detached);
        assert!(tracker.present().is_empty());
        // A detach for a device never seen says nothing.
        assert!(tracker.feed(&gone).is_empty());
    }

    mod properties {
        use super::*;
        use crate::device::tests::dev;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Step {
            Attach { slot: u8, pid: u16 },
            Detach { slot: u8 },
            Tick,
            Restore(bool),
        }

        fn step() -> impl Strategy<Value = Step> {
            let pids = vec![0x1227u16, 0x1281, 0x12a8, 0x1297, 0x8600, 0x1338];
            prop_oneof![
                (0u8..4, prop::sample::select(pids))
                    .prop_map(|(slot, pid)| Step::Attach { slot, pid }),
                (0u8..4).prop_map(|slot| Step::Detach { slot }),
                Just(Step::Tick),
                any::<bool>().prop_map(Step::Restore),
            ]
        }

        proptest! {
            /// Whatever happens on the bus: no panic, the devices present are exactly the
            /// iOS-device enumerations attached and not yet detached, every alarm is about a
            /// device that was in restore mode, and "has not come back" is said at most once
            /// per drop from restore mode.
            #[test]
            fn tracker_invariants(steps in prop::collection::vec((step(), 0u64..90_000), 0..60)) {
                let mut tracker = Tracker::new();
                let mut now = 1_000_000u64;
                let mut live: BTreeMap<String, u8> = BTreeMap::new();
                let mut serial = 0u32;
                let mut missing_reports = 0usize;
                let mut restore_detaches = 0usize;
                for (step, gap) in steps {
                    now += gap;
                    let notes = match step {
                        Step::Attach { slot, pid } => {
                            serial += 1;
                            let key = format!("k{serial}");
                            let d = dev(&key, pid, &[slot + 1], None);
                            if d.mode().is_ios_device() {
                                live.insert(key.clone(), slot);
                            }
                            let kind = UsbEventKind::Attached { device: d };
                            tracker.feed(&UsbEvent { at_ms: now, kind })
                        }
                        Step::Detach { slot } => {
                            let key = live
                                .iter()
                                .find(|(_, s)| **s == slot)
                                .map(|(k, _)| k.clone())
                                .unwrap_or_else(|| "nobody".to_string());
                            live.remove(&key);
                            let kind = UsbEventKind::Detached { key };
                            tracker.feed(&UsbEvent { at_ms: now, kind })
                        }
                        Step::Tick => tracker.tick(now),
                        Step::Restore(running) => {
                            tracker.set_restore(RestoreContext {
                                running,
                                progress: Some(34.0),
                                stage: None,
                            });
                            Vec::new()
                        }
                    };
                    for n in &notes {
                        match &n.kind {
                            NoteKind::DroppedMidRestore { .. } => {
                                prop_assert_eq!(n.device.mode, UsbMode::Restore)
                            }
                            NoteKind::CameBackAfterDrop { from, .. } => {
                                prop_assert_eq!(*from, UsbMode::Restore)
                            }
                            NoteKind::DidNotComeBack { .. } => missing_reports += 1,
                            NoteKind::Detached if n.device.mode == UsbMode::Restore => {
                                restore_detaches += 1
                            }
                            _ => {}
                        }
                        prop_assert!(!n.text(&Utc).is_empty());
                    }
                    prop_assert_eq!(tracker.present().len(), live.len());
                }
                prop_assert!(missing_reports <= restore_detaches);
            }
        }
    }
}
