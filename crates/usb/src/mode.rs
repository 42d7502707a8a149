//! USB product id → device mode, for Apple's vendor id 0x05ac.
//!
//! The product-id facts come from the knowledge base (`kb::kb().usb_mode`, sourced from
//! libirecovery, usbmuxd and usb.ids).

use serde::Serialize;
use std::fmt;

/// Apple's USB vendor id.
pub const APPLE_VID: u16 = 0x05ac;

/// What an Apple device on USB is doing, as told by its product id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsbMode {
    /// Booted iOS/iPadOS (usbmuxd range 0x1290–0x12af). The restore ramdisk uses the same ids.
    Normal,
    /// Restore mode: a normal-range id seen while a restore runs (told apart by context only).
    Restore,
    /// iBoot/iBEC Recovery Mode (0x1280–0x1283).
    Recovery,
    /// DFU (0x1227): SecureROM DFU, or iBSS-stage DFU on older devices.
    Dfu,
    /// Legacy WTF stage of S5L8900-era devices (0x1222).
    Wtf,
    /// Port DFU over USB-C (0xf014).
    PortDfu,
    /// DFU over the debug USB (KIS, 0x1881).
    Kis,
    /// checkra1n-style pwned DFU (0x1338), only after exploit tools.
    PwnedDfu,
    /// Apple silicon Mac in restore mode (0x1901–0x1905): not an iPhone.
    RestoreAppleSilicon,
    /// Any other Apple product id (keyboards, hubs, Macs...).
    Other,
}

impl UsbMode {
    pub fn as_str(self) -> &'static str {
        match self {
            UsbMode::Normal => "normal",
            UsbMode::Restore => "restore",
            UsbMode::Recovery => "recovery",
            UsbMode::Dfu => "dfu",
            UsbMode::Wtf => "wtf",
            UsbMode::PortDfu => "port_dfu",
            UsbMode::Kis => "kis",
            UsbMode::PwnedDfu => "pwned_dfu",
            UsbMode::RestoreAppleSilicon => "restore_applesilicon",
            UsbMode::Other => "other",
        }
    }

    /// Human label ("DFU mode", "Recovery Mode"...).
    pub fn label(self) -> &'static str {
        match self {
            UsbMode::Normal => "normal mode",
            UsbMode::Restore => "restore mode",
            UsbMode::Recovery => "Recovery Mode",
            UsbMode::Dfu => "DFU mode",
            UsbMode::Wtf => "WTF mode",
            UsbMode::PortDfu => "Port DFU mode",
            UsbMode::Kis => "DFU via debug USB (KIS)",
            UsbMode::PwnedDfu => "pwned DFU",
            UsbMode::RestoreAppleSilicon => "Apple silicon restore mode",
            UsbMode::Other => "other Apple device",
        }
    }

    /// Parse the kb's mode string (`dfu`, `recovery`, `normal`...).
    pub fn from_kb_str(s: &str) -> UsbMode {
        match s {
            "normal" => UsbMode::Normal,
            "restore" => UsbMode::Restore,
            "recovery" => UsbMode::Recovery,
            "dfu" => UsbMode::Dfu,
            "wtf" => UsbMode::Wtf,
            "port_dfu" => UsbMode::PortDfu,
            "kis" => UsbMode::Kis,
            "pwned_dfu" => UsbMode::PwnedDfu,
            "restore_applesilicon" => UsbMode::RestoreAppleSilicon,
            _ => UsbMode::Other,
        }
    }

    /// DFU-like modes where the device shows a CPID/ECID serial string.
    pub fn is_dfu_like(self) -> bool {
        matches!(
            self,
            UsbMode::Dfu | UsbMode::Wtf | UsbMode::PortDfu | UsbMode::Kis | UsbMode::PwnedDfu
        )
    }

    /// True when the serial-number string carries CPID/BDID/ECID (DFU-like or Recovery).
    pub fn has_serial_fields(self) -> bool {
        self.is_dfu_like() || self == UsbMode::Recovery
    }

    /// True for the modes of an iPhone/iPad/iPod touch (not Macs, not unrelated Apple gear).
    pub fn is_ios_device(self) -> bool {
        !matches!(self, UsbMode::RestoreAppleSilicon | UsbMode::Other)
    }
}

impl fmt::Display for UsbMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The mode an Apple device is in, from its USB product id (vendor 0x05ac assumed).
///
/// The normal range also covers restore mode: only context (a restore in progress) tells them
/// apart, tracked by the watcher.
pub fn mode_from_pid(pid: u16) -> UsbMode {
    match pid {
        // 0x12a7 is an Apple TV, 0x12af a Watch, 0x8600 a Mac's T2 chip: usbmuxd handles them
        // like phones, but they are not what restore-doctor restores.
        0x12a7 | 0x12af | 0x8600 => UsbMode::Other,
        _ => kb::kb()
            .usb_mode(APPLE_VID, pid)
            .map_or(UsbMode::Other, |id| UsbMode::from_kb_str(&id.mode)),
    }
}

/// Mode for any vendor/product pair: non-Apple vendors are [`UsbMode::Other`].
pub fn mode_from_ids(vid: u16, pid: u16) -> UsbMode {
    if vid == APPLE_VID {
        mode_from_pid(pid)
    } else {
        UsbMode::Other
    }
}

/// Model name usb.ids gives for a normal-mode product id, where it names one.
pub fn normal_mode_product(pid: u16) -> Option<&'static str> {
    Some(match pid {
        0x1290 => "iPhone",
        0x1291 => "iPod touch (1st generation)",
        0x1292 => "iPhone 3G",
        0x1293 => "iPod touch (2nd generation)",
        0x1294 => "iPhone 3GS",
        0x1296 | 0x1299 => "iPod touch (3rd generation)",
        0x1297 => "iPhone 4",
        0x129a => "iPad",
        0x129c => "iPhone 4 (CDMA)",
        0x129e => "iPod touch (4th generation)",
        0x129f | 0x12a9 => "iPad 2",
        0x12a0 => "iPhone 4S",
        0x12a2 => "iPad 2 (3G)",
        0x12a3 => "iPad 2 (CDMA)",
        0x12a4 => "iPad (3rd generation, Wi-Fi)",
        0x12a5 => "iPad (3rd generation, CDMA)",
        0x12a6 => "iPad (3rd generation, 3G)",
        0x12a8 => "iPhone 5 or later",
        0x12aa => "iPod touch (5th generation)",
        0x12ab => "iPad (4th generation) or later",
        0x129d | 0x12a1 | 0x12ac => "iPhone",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_map_to_modes() {
        assert_eq!(mode_from_pid(0x1227), UsbMode::Dfu);
        assert_eq!(mode_from_pid(0x1222), UsbMode::Wtf);
        for pid in 0x1280..=0x1283 {
            assert_eq!(mode_from_pid(pid), UsbMode::Recovery);
        }
        assert_eq!(mode_from_pid(0x1284), UsbMode::Other);
        assert_eq!(mode_from_pid(0x12a8), UsbMode::Normal);
        assert_eq!(mode_from_pid(0x1290), UsbMode::Normal);
        assert_eq!(mode_from_pid(0x12af), UsbMode::Other);
        assert_eq!(mode_from_pid(0xf014), UsbMode::PortDfu);
        assert_eq!(mode_from_pid(0x1881), UsbMode::Kis);
        assert_eq!(mode_from_pid(0x1338), UsbMode::PwnedDfu);
        assert_eq!(mode_from_pid(0x1903), UsbMode::RestoreAppleSilicon);
        assert_eq!(mode_from_pid(0x8600), UsbMode::Other);
        assert_eq!(mode_from_ids(0x1234, 0x1227), UsbMode::Other);
    }

    #[test]
    fn kb_strings_round_trip() {
        for m in [
            UsbMode::Normal,
            UsbMode::Restore,
            UsbMode::Recovery,
            UsbMode::Dfu,
            UsbMode::Wtf,
            UsbMode::PortDfu,
            UsbMode::Kis,
            UsbMode::PwnedDfu,
            UsbMode::RestoreAppleSilicon,
            UsbMode::Other,
        ] {
            assert_eq!(UsbMode::from_kb_str(m.as_str()), m);
        }
    }

    #[test]
    fn serial_fields_only_in_dfu_and_recovery() {
        assert!(UsbMode::Dfu.has_serial_fields());
        assert!(UsbMode::Recovery.has_serial_fields());
        assert!(!UsbMode::Normal.has_serial_fields());
        assert!(!UsbMode::Restore.has_serial_fields());
    }
}
