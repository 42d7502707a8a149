//! What a USB backend reports about one device, and what restore-doctor makes of it.

use crate::mode::{APPLE_VID, UsbMode, mode_from_ids, normal_mode_product};
use crate::serial::{ModeHint, SerialInfo, parse_serial, redact_id};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Negotiated USB link speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkSpeed {
    Low,
    Full,
    High,
    Super,
    SuperPlus,
}

impl LinkSpeed {
    /// `480 Mbit/s (USB 2.0 High Speed)` style label.
    pub fn label(self) -> &'static str {
        match self {
            LinkSpeed::Low => "1.5 Mbit/s (USB 1.x Low Speed)",
            LinkSpeed::Full => "12 Mbit/s (USB Full Speed)",
            LinkSpeed::High => "480 Mbit/s (USB 2.0 High Speed)",
            LinkSpeed::Super => "5 Gbit/s (USB 3 SuperSpeed)",
            LinkSpeed::SuperPlus => "10 Gbit/s (USB 3 SuperSpeed+)",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LinkSpeed::Low => "low",
            LinkSpeed::Full => "full",
            LinkSpeed::High => "high",
            LinkSpeed::Super => "super",
            LinkSpeed::SuperPlus => "super_plus",
        }
    }
}

/// Whether this user may open the device (what a restore tool needs to do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// The device node opens read-write.
    Ok,
    /// The OS refused: on Linux the udev rule is missing.
    PermissionDenied,
    /// Not checked (not Linux, or the device node is not visible).
    #[default]
    Unknown,
}

/// One device as enumerated by a backend (nothing interpreted yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsbDevice {
    /// Backend identity of this enumeration; a detach names it.
    pub key: String,
    pub vid: u16,
    pub pid: u16,
    /// Bus / host-controller id (a number on Linux).
    pub bus: String,
    /// Hub port numbers from the root hub down to the device.
    #[serde(default)]
    pub port_path: Vec<u8>,
    #[serde(default)]
    pub address: Option<u8>,
    #[serde(default)]
    pub speed: Option<LinkSpeed>,
    /// The serial-number string descriptor (DFU/Recovery: CPID/ECID fields; normal: UDID).
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub manufacturer: Option<String>,
    /// Windows driver bound to the device (`usbaapl64`, `WinUSB`), where known.
    #[serde(default)]
    pub driver: Option<String>,
    #[serde(default)]
    pub access: Access,
}

impl UsbDevice {
    /// `bus 1, port 2.4`: identifies the physical port on a bench.
    pub fn location(&self) -> String {
        if self.port_path.is_empty() {
            format!("bus {}", self.bus)
        } else {
            format!("bus {}, port {}", self.bus, self.port_path_text())
        }
    }

    /// Port chain joined with dots (`2.4`), empty when unknown.
    pub fn port_path_text(&self) -> String {
        self.port_path
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(".")
    }

    /// True when both enumerations sit on the same physical port.
    pub fn same_port(&self, other: &UsbDevice) -> bool {
        !self.port_path.is_empty() && self.bus == other.bus && self.port_path == other.port_path
    }

    pub fn is_apple(&self) -> bool {
        self.vid == APPLE_VID
    }

    pub fn mode(&self) -> UsbMode {
        mode_from_ids(self.vid, self.pid)
    }
}

/// A normal/restore-mode serial number (UDID). Newer devices use `0000CCCC-EEEEEEEEEEEEEEEE`
/// (CPID and ECID); older ones 40 hex digits that reveal nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Udid {
    pub text: String,
    pub cpid: Option<u32>,
    pub ecid: Option<u64>,
}

/// Read a UDID; `None` when the string is not one.
pub fn parse_udid(s: &str) -> Option<Udid> {
    let s = s.trim();
    if let Some((chip, ecid)) = s.split_once('-') {
        let hex = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_hexdigit());
        if chip.len() == 8 && ecid.len() == 16 && hex(chip) && hex(ecid) {
            return Some(Udid {
                text: s.to_string(),
                cpid: u32::from_str_radix(chip, 16).ok(),
                ecid: u64::from_str_radix(ecid, 16).ok(),
            });
        }
        return None;
    }
    if s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        return Some(Udid {
            text: s.to_string(),
            cpid: None,
            ecid: None,
        });
    }
    None
}

/// An Apple device on USB, interpreted: mode, model, chip ids.
#[derive(Debug, Clone, PartialEq)]
pub struct AppleDevice {
    pub usb: UsbDevice,
    pub mode: UsbMode,
    /// The parsed serial string (DFU/Recovery).
    pub serial_info: Option<SerialInfo>,
    /// Why the serial string could not be read, when it was present but not parseable.
    pub serial_error: Option<String>,
    /// The boot stage told by the serial string.
    pub mode_hint: Option<ModeHint>,
    pub product_type: Option<String>,
    /// Marketing name, or the best description available ("iPhone 5 or later").
    pub name: Option<String>,
    /// `iPhone`, `iPad`, `iPod touch`, when known.
    pub family: Option<String>,
    pub cpid: Option<u32>,
    pub bdid: Option<u32>,
    /// The full ECID (16 hex digits) or the masked text; redact before printing.
    pub ecid: Option<String>,
    /// Normal-mode UDID; redact before printing.
    pub udid: Option<String>,
    /// iOS/iPadOS version from lockdownd (normal mode, where usbmuxd runs).
    pub os_version: Option<String>,
}

fn family_word(f: kb::DeviceFamily) -> &'static str {
    match f {
        kb::DeviceFamily::IPhone => "iPhone",
        kb::DeviceFamily::IPad => "iPad",
        kb::DeviceFamily::IPod => "iPod touch",
    }
}

impl AppleDevice {
    /// Interpret a raw enumeration: mode from the product id, model from the serial string
    /// (DFU/Recovery, via CPID+BDID) or from the product id / UDID (normal mode).
    pub fn from_usb(usb: UsbDevice) -> AppleDevice {
        let mode = usb.mode();
        let mut dev = AppleDevice {
            mode,
            serial_info: None,
            serial_error: None,
            mode_hint: None,
            product_type: None,
            name: None,
            family: None,
            cpid: None,
            bdid: None,
            ecid: None,
            udid: None,
            os_version: None,
            usb,
        };
        let serial = dev.usb.serial.clone().unwrap_or_default();
        if mode.has_serial_fields() && !serial.trim().is_empty() {
            match parse_serial(&serial) {
                Ok(info) => {
                    dev.cpid = info.cpid;
                    dev.bdid = info.bdid;
                    dev.ecid = info.ecid_text();
                    dev.mode_hint = Some(info.mode_hint());
                    dev.serial_info = Some(info);
                }
                Err(e) => dev.serial_error = Some(e.to_string()),
            }
        } else if let Some(udid) = parse_udid(&serial) {
            dev.cpid = udid.cpid;
            dev.ecid = udid.ecid.map(|e| format!("{e:016X}"));
            dev.udid = Some(udid.text);
        }
        dev.fill_model();
        dev
    }

    fn fill_model(&mut self) {
        let kb = kb::kb();
        if let (Some(cpid), Some(bdid)) = (self.cpid, self.bdid)
            && let Some(d) = kb.device_by_cpid_bdid(cpid, bdid)
        {
            self.product_type = Some(d.product_type.clone());
            self.name = Some(d.name.clone());
            self.family = Some(family_word(d.family).to_string());
            return;
        }
        let pid_name = if matches!(self.mode, UsbMode::Normal | UsbMode::Restore) {
            normal_mode_product(self.usb.pid)
        } else {
            None
        };
        let pid_family = pid_name.and_then(|name| {
            ["iPhone", "iPad", "iPod touch"]
                .into_iter()
                .find(|f| name.starts_with(f))
        });
        if let Some(cpid) = self.cpid {
            // Chip known, board not (normal-mode UDID): name the candidates when few.
            let candidates: Vec<&kb::Device> = kb
                .devices()
                .iter()
                .filter(|d| d.cpid == cpid)
                .filter(|d| pid_family.is_none_or(|f| family_word(d.family) == f))
                .collect();
            let mut names: Vec<&str> = Vec::new();
            for d in &candidates {
                if !names.contains(&d.name.as_str()) {
                    names.push(&d.name);
                }
            }
            if let Some(first) = candidates.first()
                && candidates.iter().all(|d| d.family == first.family)
            {
                self.family = Some(family_word(first.family).to_string());
            }
            if !names.is_empty() && names.len() <= 4 {
                self.name = Some(names.join(" or "));
                return;
            }
        }
        if let Some(name) = pid_name {
            self.name = Some(name.to_string());
            if self.family.is_none() {
                self.family = pid_family.map(str::to_string);
            }
        }
    }

    /// Fill model and version from lockdownd's answer (normal mode): `ProductType` names the
    /// exact model where the USB product id only says "iPhone 5 or later".
    pub fn apply_lockdown(&mut self, product_type: Option<&str>, product_version: Option<&str>) {
        if let Some(pt) = product_type {
            self.product_type = Some(pt.to_string());
            if let Some(d) = kb::kb().device(pt) {
                self.name = Some(d.name.clone());
                self.family = Some(family_word(d.family).to_string());
                self.cpid = Some(d.cpid);
                self.bdid = Some(d.bdid);
            }
        }
        if let Some(v) = product_version {
            self.os_version = Some(v.to_string());
        }
    }

    /// "the iPhone", "the iPad", or "the device".
    pub fn the_device(&self) -> String {
        match &self.family {
            Some(f) => format!("the {f}"),
            None => "the device".to_string(),
        }
    }

    /// One-line summary: `iPhone 6s (iPhone8,1) in DFU mode`.
    pub fn summary(&self) -> String {
        let what = match (&self.name, &self.product_type) {
            (Some(n), Some(p)) => format!("{n} ({p})"),
            (Some(n), None) => n.clone(),
            (None, _) => match self.cpid {
                Some(c) => format!("unknown Apple device (CPID {c:04X})"),
                None => "Apple device".to_string(),
            },
        };
        format!("{what} in {}", self.mode.label())
    }

    /// ECID for output: full with `show_ids`, otherwise redacted.
    pub fn ecid_for_output(&self, show_ids: bool) -> Option<String> {
        self.ecid.as_deref().map(|e| {
            if show_ids {
                e.to_string()
            } else {
                redact_id(e)
            }
        })
    }

    /// UDID for output: full with `show_ids`, otherwise redacted.
    pub fn udid_for_output(&self, show_ids: bool) -> Option<String> {
        self.udid.as_deref().map(|e| {
            if show_ids {
                e.to_string()
            } else {
                redact_id(e)
            }
        })
    }

    /// A stable handle for matching re-enumerations of the same unit (the ECID when known).
    pub fn ecid_value(&self) -> Option<&str> {
        self.ecid.as_deref().filter(|e| !e.contains(['x', 'X']))
    }
}

impl fmt::Display for AppleDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn dev(key: &str, pid: u16, port: &[u8], serial: Option<&str>) -> UsbDevice {
        UsbDevice {
            key: key.to_string(),
            vid: APPLE_VID,
            pid,
            bus: "1".to_string(),
            port_path: port.to_vec(),
            address: Some(7),
            speed: Some(LinkSpeed::High),
            serial: serial.map(str::to_string),
            product: None,
            manufacturer: Some("Apple Inc.".to_string()),
            driver: None,
            access: Access::Unknown,
        }
    }

    #[test]
    fn dfu_device_is_identified_from_its_serial_string() {
        let d = AppleDevice::from_usb(dev(
            "1-2",
            0x1227,
            &[2],
            Some(
                "CPID:8000 CPRV:20 CPFM:03 SCEP:01 BDID:06 ECID:0000038E8E58B41C IBFL:1C SRTG:[iBoot-2234.0.0.3.3]",
            ),
        ));
        assert_eq!(d.mode, UsbMode::Dfu);
        assert_eq!(d.cpid, Some(0x8000));
        assert_eq!(d.bdid, Some(0x06));
        assert_eq!(d.product_type.as_deref(), Some("iPhone8,2"));
        assert_eq!(d.name.as_deref(), Some("iPhone 6s Plus"));
        assert_eq!(d.the_device(), "the iPhone");
        assert_eq!(d.mode_hint, Some(ModeHint::SecureRomDfu));
        assert_eq!(d.ecid_for_output(false).as_deref(), Some("****B41C"));
        assert_eq!(d.ecid_for_output(true).as_deref(), Some("0000038E8E58B41C"));
        assert_eq!(d.usb.location(), "bus 1, port 2");
    }

    #[test]
    fn recovery_device_with_unreadable_serial_keeps_the_error() {
        let d = AppleDevice::from_usb(dev("1-2", 0x1281, &[2], Some("Apple Inc.")));
        assert_eq!(d.mode, UsbMode::Recovery);
        assert!(d.serial_error.as_deref().unwrap().contains("manufacturer"));
        assert_eq!(d.product_type, None);
    }

    #[test]
    fn normal_mode_uses_udid_chip_and_product_id() {
        let d = AppleDevice::from_usb(dev(
            "1-3",
            0x12a8,
            &[3, 1],
            Some("00008030-001A2B3C4D5E6F70"),
        ));
        assert_eq!(d.mode, UsbMode::Normal);
        assert_eq!(d.cpid, Some(0x8030));
        assert_eq!(d.ecid.as_deref(), Some("001A2B3C4D5E6F70"));
        assert_eq!(d.family.as_deref(), Some("iPhone"));
        assert!(
            d.name.as_deref().unwrap().contains("iPhone 11"),
            "{:?}",
            d.name
        );
        assert_eq!(d.usb.location(), "bus 1, port 3.1");
        let old = AppleDevice::from_usb(dev(
            "1-3",
            0x1297,
            &[3],
            Some("0123456789abcdef0123456789abcdef01234567"),
        ));
        assert_eq!(old.name.as_deref(), Some("iPhone 4"));
        assert_eq!(old.cpid, None);
        assert!(old.udid.is_some());
    }

    #[test]
    fn lockdown_answer_names_the_exact_model() {
        let mut d =
            AppleDevice::from_usb(dev("1-3", 0x12a8, &[3], Some("00008030-001A2B3C4D5E6F70")));
        d.apply_lockdown(Some("iPhone12,8"), Some("17.5.1"));
        assert_eq!(d.product_type.as_deref(), Some("iPhone12,8"));
        assert_eq!(d.name.as_deref(), Some("iPhone SE (2nd gen)"));
        assert_eq!(d.bdid, Some(kb::kb().device("iPhone12,8").unwrap().bdid));
        assert_eq!(d.os_version.as_deref(), Some("17.5.1"));
    }

    #[test]
    fn udid_forms() {
        assert_eq!(
            parse_udid("00008101-000A1B2C3D4E5F60").unwrap().cpid,
            Some(0x8101)
        );
        assert!(parse_udid("0000810-000A1B2C3D4E5F60").is_none());
        assert!(parse_udid("CPID:8000").is_none());
    }
}
