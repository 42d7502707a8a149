//! USB side of restore-doctor: reads what an Apple device on the bus says about itself (mode
//! from the product id, chip/board/ECID from the DFU/Recovery serial string) and follows it as
//! it attaches, detaches and changes mode during a restore.
//!
//! The serial-string parser ([`serial`]) and the product-id table ([`mode`]) are pure.

pub mod mode;
pub mod serial;

pub use mode::{APPLE_VID, UsbMode, mode_from_ids, mode_from_pid};
pub use serial::{IbflFlag, ModeHint, SerialError, SerialInfo, parse_serial, redact_id};
