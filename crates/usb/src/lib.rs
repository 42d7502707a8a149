//! USB side of restore-doctor: reads what an Apple device on the bus says about itself (mode
//! from the product id, chip/board/ECID from the DFU/Recovery serial string) and follows it as
//! it attaches, detaches and changes mode during a restore, calling out a drop mid-restore.
//!
//! The serial-string parser ([`serial`]), the product-id table ([`mode`]) and the timeline
//! ([`tracker`]) are pure; the bus sits behind [`backend::UsbBackend`] (live `nusb`, or a
//! recorded event sequence for tests and demos).

pub mod backend;
pub mod device;
pub mod mode;
pub mod serial;
pub mod tracker;

pub use backend::{
    EventStream, NusbBackend, REPLAY_ENV, REPLAY_SPEED_ENV, RecordedEvent, ReplayBackend,
    UsbBackend, UsbError, UsbEvent, UsbEventKind, default_backend, now_ms, spawn_watch,
};
pub use device::{Access, AppleDevice, LinkSpeed, Udid, UsbDevice, parse_udid};
pub use mode::{APPLE_VID, UsbMode, mode_from_ids, mode_from_pid, normal_mode_product};
pub use serial::{IbflFlag, ModeHint, SerialError, SerialInfo, parse_serial, redact_id};
pub use tracker::{
    Note, NoteDevice, NoteKind, RestoreContext, Tracker, clock, local_clock, rfc3339,
};
