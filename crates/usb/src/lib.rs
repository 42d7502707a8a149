//! USB side of restore-doctor: reads what an Apple device on the bus says about itself (mode
//! from the product id, chip/board/ECID from the DFU/Recovery serial string) and follows it as
//! it attaches, detaches and changes mode during a restore, calling out a drop mid-restore.
//!
//! The serial-string parser ([`serial`]), the product-id table ([`mode`]) and the timeline
//! ([`tracker`]) are pure; the bus sits behind [`backend::UsbBackend`] (live `nusb`, or a
//! recorded event sequence for tests and demos).

pub mod backend;
pub mod device;
#[cfg(feature = "lockdown")]
pub mod lockdown;
pub mod mode;
pub mod serial;
pub mod tracker;

pub use backend::{
    EventStream, NusbBackend, REPLAY_ENV, REPLAY_SPEED_ENV, RecordedEvent, Recorder, ReplayBackend,
    UsbBackend, UsbError, UsbEvent, UsbEventKind, default_backend, now_ms, spawn_watch,
};
pub use device::{Access, AppleDevice, LinkSpeed, Udid, UsbDevice, parse_udid};
pub use mode::{APPLE_VID, UsbMode, mode_from_ids, mode_from_pid, normal_mode_product};
pub use serial::{IbflFlag, ModeHint, SerialError, SerialInfo, parse_serial, redact_id};
pub use tracker::{
    Note, NoteDevice, NoteKind, RestoreContext, Tracker, clock, local_clock, rfc3339,
};

/// Ask lockdownd (through usbmuxd / Apple Mobile Device Service) for the exact model and iOS
/// version of the normal-mode devices among `devices`, matched by UDID. Returns why it could
/// not ask (usbmuxd not running...), or `None` when it asked or nothing needed asking. Without
/// the `lockdown` feature it does nothing.
pub fn enrich_normal_mode(devices: &mut [AppleDevice]) -> Option<String> {
    if !devices
        .iter()
        .any(|d| d.mode == UsbMode::Normal && d.udid.is_some())
    {
        return None;
    }
    #[cfg(feature = "lockdown")]
    {
        match lockdown::query_devices() {
            Ok(infos) => {
                for d in devices.iter_mut() {
                    if let Some(info) = infos.iter().find(|i| Some(&i.udid) == d.udid.as_ref()) {
                        d.apply_lockdown(
                            info.product_type.as_deref(),
                            info.product_version.as_deref(),
                        );
                    }
                }
                None
            }
            Err(e) => Some(e.to_string()),
        }
    }
    #[cfg(not(feature = "lockdown"))]
    {
        Some("built without the lockdown feature".to_string())
    }
}
