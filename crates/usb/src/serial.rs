//! Parser for the USB serial-number string an Apple device reports in DFU or Recovery Mode.
//!
//! The string is a space-separated list of `TAG:VALUE` pairs, for example
//! `CPID:8000 CPRV:20 CPFM:03 SCEP:01 BDID:06 ECID:0000038E8E58B41C IBFL:1C SRTG:[iBoot-2234.0.0.3.3]`.
//! Bracketed values (`SRTG:[...]`, `SRNM:[...]`, `IMEI:[...]`, `PWND:[...]`) may contain
//! spaces. The nonce descriptor (`NONC:... SNON:...`) uses the same syntax and is accepted on
//! its own or appended to the serial string.
//!
//! Accepted forms (all seen in public sources, see `shared/reference/examples.txt`):
//! - the plain string as shown by macOS System Profiler, ipwndfu, irecovery or an iBoot banner;
//! - the Windows device-instance path `\??\USB#Vid_05ac&Pid_1281#CPID:8920_CPRV:15_...#{guid}`,
//!   where `_` stands for a space (the vendor/product ids of the wrapper are kept);
//! - values masked by whoever published them (`ECID:0000038xxxx`): the ECID is then reported as
//!   partially masked ([`SerialInfo::ecid_masked`]) instead of failing;
//! - a nonce-only string (`NONC:...`);
//! - a paste that keeps its label: `Serial Number: CPID:...` (macOS System Information) or
//!   `iSerialNumber 3 CPID:...` (`lsusb -v`).
//!
//! Decision: the manufacturer string `Apple Inc.` (what descriptor 1 holds on some old devices)
//! is rejected with [`SerialError::ManufacturerString`], which says what it is, rather than
//! returning an info with no fields: it carries nothing about the device.

use serde::Serialize;
use std::fmt;

/// Why a serial string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerialError {
    #[error("the serial string is empty")]
    Empty,
    #[error(
        "{0:?} is the USB manufacturer string, not the serial number: it carries no device fields \
         (look for the string that starts with CPID:)"
    )]
    ManufacturerString(String),
    #[error(
        "not a DFU/Recovery serial string: expected TAG:VALUE pairs like CPID:8015, found {found:?} at character {position}"
    )]
    Malformed { position: usize, found: String },
    #[error("unclosed bracket in {tag}: the value starting at character {position} has no ']'")]
    UnclosedBracket { tag: String, position: usize },
    #[error("{tag} has the value {value:?}, which is not {expected}")]
    InvalidValue {
        tag: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("{tag} appears twice in the serial string")]
    Duplicate { tag: String },
    #[error("no device fields (CPID, ECID, NONC, ...) found in the serial string")]
    NoDeviceFields,
}

/// Everything a DFU/Recovery serial string (and/or nonce string) says about the device.
///
/// Numeric fields are decoded from hex. Tags this parser does not know are kept in
/// [`SerialInfo::other`] so newer firmware does not break parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SerialInfo {
    /// Application-processor chip id (e.g. 0x8015).
    pub cpid: Option<u32>,
    /// Chip silicon revision.
    pub cprv: Option<u32>,
    /// Chip fuse mode (retail units show 0x03).
    pub cpfm: Option<u32>,
    /// Security epoch.
    pub scep: Option<u32>,
    /// Board id; with CPID selects the exact model.
    pub bdid: Option<u32>,
    /// Exclusive chip id; `None` when absent or masked (see [`SerialInfo::ecid_masked`]).
    pub ecid: Option<u64>,
    /// The ECID as published when it was partially masked (e.g. `0000038xxxx`).
    pub ecid_masked: Option<String>,
    /// Boot-stage flags, see [`SerialInfo::ibfl_flags`].
    pub ibfl: Option<u8>,
    /// SecureROM version tag (`iBoot-2234.0.0.3.3`): present only in SecureROM DFU.
    pub srtg: Option<String>,
    /// Factory serial number (iBoot-stage Recovery).
    pub srnm: Option<String>,
    /// Cellular IMEI (iBoot-stage Recovery on cellular models).
    pub imei: Option<String>,
    /// AP nonce, hex as given.
    pub nonc: Option<String>,
    /// SEP nonce, hex as given.
    pub snon: Option<String>,
    /// Marker left by bootrom-exploit tools (`checkm8`).
    pub pwnd: Option<String>,
    /// Vendor id from a Windows device-instance path wrapper.
    pub usb_vid: Option<u16>,
    /// Product id from a Windows device-instance path wrapper.
    pub usb_pid: Option<u16>,
    /// Tags not known to this parser, in order of appearance.
    pub other: Vec<(String, String)>,
}

/// One set bit of the IBFL boot-stage flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IbflFlag {
    /// Bit 2 (0x04): the boot stage understands Image4 (img4) firmware.
    Image4Aware,
    /// Bit 3 (0x08): effective security mode (secure boot enforced).
    EffectiveSecurityMode,
    /// Bit 4 (0x10): effective production mode (production-fused, not a dev unit).
    EffectiveProductionMode,
    /// A set bit no public source documents (bits 0, 1, 5, 6, 7); the bit number.
    Undocumented(u8),
}

impl IbflFlag {
    /// The bit mask of this flag.
    pub fn mask(self) -> u8 {
        match self {
            IbflFlag::Image4Aware => 1 << 2,
            IbflFlag::EffectiveSecurityMode => 1 << 3,
            IbflFlag::EffectiveProductionMode => 1 << 4,
            IbflFlag::Undocumented(bit) => 1u8.checked_shl(u32::from(bit)).unwrap_or(0),
        }
    }

    /// Short name as used by idevicerestore (`IMAGE4_AWARE`...) or `BIT_n`.
    pub fn name(self) -> String {
        match self {
            IbflFlag::Image4Aware => "IMAGE4_AWARE".into(),
            IbflFlag::EffectiveSecurityMode => "EFFECTIVE_SECURITY_MODE".into(),
            IbflFlag::EffectiveProductionMode => "EFFECTIVE_PRODUCTION_MODE".into(),
            IbflFlag::Undocumented(bit) => format!("BIT_{bit}"),
        }
    }

    /// What the flag means, in plain words.
    pub fn meaning(self) -> &'static str {
        match self {
            IbflFlag::Image4Aware => "boot stage understands Image4 firmware (A7 and later)",
            IbflFlag::EffectiveSecurityMode => "secure boot is enforced",
            IbflFlag::EffectiveProductionMode => "production-fused device (not a development unit)",
            IbflFlag::Undocumented(_) => "set, but not documented in any public source found",
        }
    }
}

/// What the fields say about the boot stage the device is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeHint {
    /// `PWND:[...]` present: DFU after a bootrom exploit (checkm8 and co.).
    PwnedDfu,
    /// `SRTG:[...]` present: the SecureROM itself is in DFU.
    SecureRomDfu,
    /// No SRTG, but SRNM or IMEI: iBoot/iBEC-stage Recovery Mode.
    Recovery,
    /// No SRTG, no SRNM/IMEI: a loaded boot stage (iBSS-stage DFU or iBEC/Recovery);
    /// the USB product id tells which.
    BootStage,
    /// Only a nonce (descriptor 1): the mode cannot be told from the string.
    NonceOnly,
}

impl ModeHint {
    pub fn as_str(self) -> &'static str {
        match self {
            ModeHint::PwnedDfu => "pwned_dfu",
            ModeHint::SecureRomDfu => "securerom_dfu",
            ModeHint::Recovery => "recovery",
            ModeHint::BootStage => "boot_stage",
            ModeHint::NonceOnly => "nonce_only",
        }
    }

    /// A plain-words description.
    pub fn describe(self) -> &'static str {
        match self {
            ModeHint::PwnedDfu => "DFU mode after a bootrom exploit (PWND tag; not Apple firmware)",
            ModeHint::SecureRomDfu => "DFU mode, served by the SecureROM (SRTG tag present)",
            ModeHint::Recovery => "Recovery Mode, served by iBoot/iBEC (serial number shown)",
            ModeHint::BootStage => {
                "a loaded boot stage (iBSS-stage DFU or iBEC/Recovery): no SecureROM tag"
            }
            ModeHint::NonceOnly => "nonce string only: the mode cannot be told from it",
        }
    }
}

impl fmt::Display for ModeHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl SerialInfo {
    /// Each set bit of IBFL, lowest first; empty when IBFL is absent or zero.
    pub fn ibfl_flags(&self) -> Vec<IbflFlag> {
        let Some(v) = self.ibfl else {
            return Vec::new();
        };
        (0u8..8)
            .filter(|bit| v & (1 << bit) != 0)
            .map(|bit| match bit {
                2 => IbflFlag::Image4Aware,
                3 => IbflFlag::EffectiveSecurityMode,
                4 => IbflFlag::EffectiveProductionMode,
                other => IbflFlag::Undocumented(other),
            })
            .collect()
    }

    /// The boot stage the fields point to.
    pub fn mode_hint(&self) -> ModeHint {
        if self.pwnd.is_some() {
            ModeHint::PwnedDfu
        } else if self.srtg.is_some() {
            ModeHint::SecureRomDfu
        } else if self.srnm.is_some() || self.imei.is_some() {
            ModeHint::Recovery
        } else if self.has_identity_fields() {
            ModeHint::BootStage
        } else {
            ModeHint::NonceOnly
        }
    }

    /// True when any chip/board/ECID/serial field is present (not just nonces).
    pub fn has_identity_fields(&self) -> bool {
        self.cpid.is_some()
            || self.cprv.is_some()
            || self.cpfm.is_some()
            || self.scep.is_some()
            || self.bdid.is_some()
            || self.ecid.is_some()
            || self.ecid_masked.is_some()
            || self.ibfl.is_some()
            || self.srtg.is_some()
            || self.srnm.is_some()
            || self.imei.is_some()
    }

    /// The ECID as 16 upper-case hex digits, or the masked text as published.
    pub fn ecid_text(&self) -> Option<String> {
        match (self.ecid, &self.ecid_masked) {
            (Some(e), _) => Some(format!("{e:016X}")),
            (None, Some(m)) => Some(m.clone()),
            (None, None) => None,
        }
    }

    /// A copy with ECID, SRNM and IMEI redacted by [`redact_id`] (for output without
    /// `--show-ids`). The redacted ECID goes to `ecid_masked`, `ecid` becomes `None`.
    pub fn redacted(&self) -> SerialInfo {
        let mut copy = self.clone();
        if let Some(text) = self.ecid_text() {
            copy.ecid = None;
            copy.ecid_masked = Some(redact_id(&text));
        }
        copy.srnm = self.srnm.as_deref().map(redact_id);
        copy.imei = self.imei.as_deref().map(redact_id);
        copy
    }
}

/// Redact a device-unique id (ECID, serial number, IMEI, UDID) the one way every front end
/// does (`****B41C`): see [`kb::redact_id`].
pub fn redact_id(id: &str) -> String {
    kb::redact_id(id)
}

/// Format with the canonical field order and widths Apple uses; parses back to the same info.
impl fmt::Display for SerialInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(v) = self.cpid {
            parts.push(format!("CPID:{v:04X}"));
        }
        if let Some(v) = self.cprv {
            parts.push(format!("CPRV:{v:02X}"));
        }
        if let Some(v) = self.cpfm {
            parts.push(format!("CPFM:{v:02X}"));
        }
        if let Some(v) = self.scep {
            parts.push(format!("SCEP:{v:02X}"));
        }
        if let Some(v) = self.bdid {
            parts.push(format!("BDID:{v:02X}"));
        }
        if let Some(text) = self.ecid_text() {
            parts.push(format!("ECID:{text}"));
        }
        if let Some(v) = self.ibfl {
            parts.push(format!("IBFL:{v:02X}"));
        }
        for (tag, value) in [
            ("SRTG", &self.srtg),
            ("SRNM", &self.srnm),
            ("IMEI", &self.imei),
        ] {
            if let Some(v) = value {
                parts.push(format!("{tag}:[{v}]"));
            }
        }
        if let Some(v) = &self.nonc {
            parts.push(format!("NONC:{v}"));
        }
        if let Some(v) = &self.snon {
            parts.push(format!("SNON:{v}"));
        }
        if let Some(v) = &self.pwnd {
            parts.push(format!("PWND:[{v}]"));
        }
        for (tag, value) in &self.other {
            if value.chars().any(char::is_whitespace) || value.is_empty() {
                parts.push(format!("{tag}:[{value}]"));
            } else {
                parts.push(format!("{tag}:{value}"));
            }
        }
        f.write_str(&parts.join(" "))
    }
}

/// Parse a DFU/Recovery USB serial string (or nonce string, or both joined by a space).
///
/// See the module doc for the accepted forms. Unknown tags are kept in `other`; a token
/// that is not `TAG:VALUE`, a malformed hex value or a repeated tag is an error.
pub fn parse_serial(input: &str) -> Result<SerialInfo, SerialError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(SerialError::Empty);
    }
    if is_manufacturer_string(trimmed) {
        return Err(SerialError::ManufacturerString(trimmed.to_string()));
    }
    let trimmed = strip_paste_label(trimmed);
    let mut info = SerialInfo::default();
    let body: String = match unwrap_windows_path(trimmed) {
        Some((vid, pid, inner)) => {
            info.usb_vid = vid;
            info.usb_pid = pid;
            underscores_to_spaces(inner)
        }
        None => trimmed.to_string(),
    };
    // Character offsets reported in errors refer to `body` (the unwrapped string).
    let pairs = tokenize(&body)?;
    let mut seen: Vec<String> = Vec::new();
    for (tag, value) in pairs {
        let upper = tag.to_ascii_uppercase();
        if seen.contains(&upper) {
            return Err(SerialError::Duplicate { tag: upper });
        }
        seen.push(upper.clone());
        match upper.as_str() {
            "CPID" => info.cpid = Some(hex_u32("CPID", &value)?),
            "CPRV" => info.cprv = Some(hex_u32("CPRV", &value)?),
            "CPFM" => info.cpfm = Some(hex_u32("CPFM", &value)?),
            "SCEP" => info.scep = Some(hex_u32("SCEP", &value)?),
            "BDID" => info.bdid = Some(hex_u32("BDID", &value)?),
            "IBFL" => {
                let v = hex_u32("IBFL", &value)?;
                info.ibfl = Some(u8::try_from(v).map_err(|_| SerialError::InvalidValue {
                    tag: "IBFL",
                    value: value.clone(),
                    expected: "a one-byte hex value (00-FF)",
                })?);
            }
            "ECID" => parse_ecid(&value, &mut info)?,
            "SRTG" => info.srtg = Some(value),
            "SRNM" => info.srnm = Some(value),
            "IMEI" => info.imei = Some(value),
            "PWND" => info.pwnd = Some(value),
            "NONC" => info.nonc = Some(hex_text("NONC", &value)?),
            "SNON" => info.snon = Some(hex_text("SNON", &value)?),
            _ => info.other.push((upper, value)),
        }
    }
    if !info.has_identity_fields()
        && info.nonc.is_none()
        && info.snon.is_none()
        && info.pwnd.is_none()
    {
        return Err(SerialError::NoDeviceFields);
    }
    Ok(info)
}

/// Drop the label a paste often starts with: `Serial Number:` (macOS System Information) or
/// `iSerialNumber 3` (`lsusb -v`).
fn strip_paste_label(s: &str) -> &str {
    let lower = s.to_ascii_lowercase();
    for label in ["serial number:", "serial no.:", "serial:"] {
        if lower.starts_with(label) {
            return s[label.len()..].trim_start();
        }
    }
    if lower.starts_with("iserialnumber") {
        let rest = s["iserialnumber".len()..].trim_start();
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        return rest.trim_start();
    }
    s
}

fn is_manufacturer_string(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower == "apple inc." || lower == "apple inc" || lower == "apple, inc."
}

/// `\??\USB#Vid_05ac&Pid_1281#<serial>#{guid}` (also `\\?\usb#...`) → (vid, pid, serial).
fn unwrap_windows_path(s: &str) -> Option<(Option<u16>, Option<u16>, &str)> {
    let rest = s
        .strip_prefix(r"\??\")
        .or_else(|| s.strip_prefix(r"\\?\"))
        .unwrap_or(s);
    let mut segments = rest.split('#');
    let first = segments.next()?;
    if !first.eq_ignore_ascii_case("usb") {
        return None;
    }
    let ids = segments.next()?;
    let serial = segments.next()?;
    let mut vid = None;
    let mut pid = None;
    for part in ids.split('&') {
        let lower = part.to_ascii_lowercase();
        if let Some(h) = lower.strip_prefix("vid_") {
            vid = u16::from_str_radix(h, 16).ok();
        } else if let Some(h) = lower.strip_prefix("pid_") {
            pid = u16::from_str_radix(h, 16).ok();
        }
    }
    Some((vid, pid, serial))
}

/// Windows writes `_` for each space; bracketed values keep their characters.
fn underscores_to_spaces(s: &str) -> String {
    let mut depth = 0usize;
    s.chars()
        .map(|c| match c {
            '[' => {
                depth += 1;
                c
            }
            ']' => {
                depth = depth.saturating_sub(1);
                c
            }
            '_' if depth == 0 => ' ',
            _ => c,
        })
        .collect()
}

/// Split into `(TAG, VALUE)` pairs. Positions in errors are character offsets.
fn tokenize(s: &str) -> Result<Vec<(String, String)>, SerialError> {
    let chars: Vec<char> = s.chars().collect();
    let mut pairs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let tag_start = i;
        while i < chars.len() && chars[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i == tag_start || i >= chars.len() || chars[i] != ':' {
            let end = chars[tag_start..]
                .iter()
                .position(|c| c.is_whitespace())
                .map_or(chars.len(), |p| tag_start + p);
            let found: String = chars[tag_start..end].iter().take(40).collect();
            return Err(SerialError::Malformed {
                position: tag_start,
                found,
            });
        }
        let tag: String = chars[tag_start..i].iter().collect();
        i += 1; // ':'
        let value: String;
        if i < chars.len() && chars[i] == '[' {
            let open = i;
            let Some(close) = chars[open..].iter().position(|&c| c == ']') else {
                return Err(SerialError::UnclosedBracket {
                    tag: tag.to_ascii_uppercase(),
                    position: open,
                });
            };
            value = chars[open + 1..open + close].iter().collect();
            i = open + close + 1;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            value = chars[start..i].iter().collect();
        }
        pairs.push((tag, value));
    }
    Ok(pairs)
}

fn strip_hex_prefix(v: &str) -> &str {
    v.strip_prefix("0x")
        .or_else(|| v.strip_prefix("0X"))
        .unwrap_or(v)
}

fn hex_u32(tag: &'static str, value: &str) -> Result<u32, SerialError> {
    let digits = strip_hex_prefix(value);
    let ok =
        !digits.is_empty() && digits.len() <= 8 && digits.chars().all(|c| c.is_ascii_hexdigit());
    if !ok {
        return Err(SerialError::InvalidValue {
            tag,
            value: value.to_string(),
            expected: "a hex number (e.g. 8015 or 0E)",
        });
    }
    u32::from_str_radix(digits, 16).map_err(|_| SerialError::InvalidValue {
        tag,
        value: value.to_string(),
        expected: "a hex number (e.g. 8015 or 0E)",
    })
}

fn hex_text(tag: &'static str, value: &str) -> Result<String, SerialError> {
    let digits = strip_hex_prefix(value);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(SerialError::InvalidValue {
            tag,
            value: value.to_string(),
            expected: "a hex string",
        });
    }
    Ok(digits.to_string())
}

/// ECID: up to 16 hex digits; `x`/`X` in place of digits marks a value masked by its publisher.
fn parse_ecid(value: &str, info: &mut SerialInfo) -> Result<(), SerialError> {
    let digits = strip_hex_prefix(value);
    let invalid = || SerialError::InvalidValue {
        tag: "ECID",
        value: value.to_string(),
        expected: "up to 16 hex digits (x marks masked digits)",
    };
    if digits.is_empty() || digits.len() > 16 {
        return Err(invalid());
    }
    let has_mask = digits.chars().any(|c| c == 'x' || c == 'X');
    if !digits
        .chars()
        .all(|c| c.is_ascii_hexdigit() || c == 'x' || c == 'X')
    {
        return Err(invalid());
    }
    if has_mask {
        info.ecid_masked = Some(digits.to_string());
    } else {
        info.ecid = Some(u64::from_str_radix(digits, 16).map_err(|_| invalid())?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every device string of `shared/reference/examples.txt`, with its expectations.
    #[test]
    fn iphone6_securerom_dfu_from_system_profiler() {
        let info = parse_serial("CPID:7000 CPRV:11 CPFM:03 SCEP:01 BDID:00 ECID:00022D3C10981026 IBFL:1C SRTG:[iBoot-1992.0.0.1.19]").unwrap();
        assert_eq!(info.cpid, Some(0x7000));
        assert_eq!(info.cprv, Some(0x11));
        assert_eq!(info.cpfm, Some(0x03));
        assert_eq!(info.scep, Some(0x01));
        assert_eq!(info.bdid, Some(0x00));
        assert_eq!(info.ecid, Some(0x0002_2D3C_1098_1026));
        assert_eq!(info.ibfl, Some(0x1C));
        assert_eq!(info.srtg.as_deref(), Some("iBoot-1992.0.0.1.19"));
        assert_eq!(info.mode_hint(), ModeHint::SecureRomDfu);
        assert_eq!(
            info.ibfl_flags(),
            vec![
                IbflFlag::Image4Aware,
                IbflFlag::EffectiveSecurityMode,
                IbflFlag::EffectiveProductionMode
            ]
        );
    }

    #[test]
    fn truncated_ecid_is_kept_as_masked() {
        let info = parse_serial(
            "CPID:8000 CPRV:20 CPFM:03 SCEP:01 BDID:06 ECID:0000038xxxx IBFL:1C SRTG:[iBoot-2234.0.0.3.3]",
        )
        .unwrap();
        assert_eq!(info.cpid, Some(0x8000));
        assert_eq!(info.bdid, Some(0x06));
        assert_eq!(info.ecid, None);
        assert_eq!(info.ecid_masked.as_deref(), Some("0000038xxxx"));
        assert_eq!(info.ecid_text().as_deref(), Some("0000038xxxx"));
    }

    #[test]
    fn ipwndfu_strings_parse() {
        for (s, cpid, bdid, ecid) in [
            (
                "CPID:8000 CPRV:20 CPFM:03 SCEP:01 BDID:06 ECID:0000038E8E58B41C IBFL:1C SRTG:[iBoot-2234.0.0.3.3]",
                0x8000,
                0x06,
                0x0000_038E_8E58_B41C_u64,
            ),
            (
                "CPID:7000 CPRV:11 CPFM:03 SCEP:01 BDID:06 ECID:001171201046E026 IBFL:1C SRTG:[iBoot-1992.0.0.1.19]",
                0x7000,
                0x06,
                0x0011_7120_1046_E026,
            ),
            (
                "CPID:8003 CPRV:01 CPFM:03 SCEP:01 BDID:04 ECID:000264D410FB0226 IBFL:1C SRTG:[iBoot-2234.0.0.2.22]",
                0x8003,
                0x04,
                0x0002_64D4_10FB_0226,
            ),
            (
                "CPID:8000 CPRV:20 CPFM:03 SCEP:01 BDID:04 ECID:000004F628A48D2C IBFL:1C SRTG:[iBoot-2234.0.0.3.3]",
                0x8000,
                0x04,
                0x0000_04F6_28A4_8D2C,
            ),
        ] {
            let info = parse_serial(s).unwrap();
            assert_eq!(info.cpid, Some(cpid), "{s}");
            assert_eq!(info.bdid, Some(bdid), "{s}");
            assert_eq!(info.ecid, Some(ecid), "{s}");
            assert_eq!(info.mode_hint(), ModeHint::SecureRomDfu);
            assert_eq!(
                info.to_string(),
                s,
                "canonical form reproduces the real string"
            );
        }
    }

    #[test]
    fn img3_ibss_banner_with_masked_middle_of_ecid() {
        let info =
            parse_serial("CPID:8920 CPRV:14 CPFM:03 SCEP:04 BDID:00 ECID:000003DxxxxC2D0D IBFL:00")
                .unwrap();
        assert_eq!(info.cpid, Some(0x8920));
        assert_eq!(info.scep, Some(0x04));
        assert_eq!(info.ecid_masked.as_deref(), Some("000003DxxxxC2D0D"));
        assert_eq!(info.ibfl, Some(0));
        assert!(info.ibfl_flags().is_empty());
        assert_eq!(info.mode_hint(), ModeHint::BootStage);
    }

    #[test]
    fn ibec_recovery_banner_with_serial_number() {
        let info = parse_serial(
            "CPID:8930 CPRV:20 CPFM:03 SCEP:01 BDID:00 ECID:00000363F615C377 IBFL:00 SRNM:[84033XXXXXX]",
        )
        .unwrap();
        assert_eq!(info.cpid, Some(0x8930));
        assert_eq!(info.ecid, Some(0x0000_0363_F615_C377));
        assert_eq!(info.srnm.as_deref(), Some("84033XXXXXX"));
        assert_eq!(info.mode_hint(), ModeHint::Recovery);
    }

    #[test]
    fn windows_device_instance_path() {
        let info = parse_serial(r"\??\USB#Vid_05ac&Pid_1281#CPID:8920_CPRV:15_CPFM:03_SCEP:04_BDID:00_ECID:000000143A045D0C_IBFL:01_SRNM:[889437XXXXX]_IMEI:[01203700XXXXXXX]#{a5dcbf10-6530-11d2-901f-00c04fb951ed}").unwrap();
        assert_eq!(info.usb_vid, Some(0x05ac));
        assert_eq!(info.usb_pid, Some(0x1281));
        assert_eq!(info.cpid, Some(0x8920));
        assert_eq!(info.cprv, Some(0x15));
        assert_eq!(info.ecid, Some(0x0000_0014_3A04_5D0C));
        assert_eq!(info.ibfl, Some(0x01));
        assert_eq!(info.ibfl_flags(), vec![IbflFlag::Undocumented(0)]);
        assert_eq!(info.srnm.as_deref(), Some("889437XXXXX"));
        assert_eq!(info.imei.as_deref(), Some("01203700XXXXXXX"));
        assert_eq!(info.mode_hint(), ModeHint::Recovery);
        assert!(info.other.is_empty());
    }

    #[test]
    fn nonce_only_descriptors() {
        let info = parse_serial(" NONC:977A728CA4DEC7636470F3A78D2D8DD9A2542C95").unwrap();
        assert_eq!(
            info.nonc.as_deref(),
            Some("977A728CA4DEC7636470F3A78D2D8DD9A2542C95")
        );
        assert_eq!(info.snon, None);
        assert_eq!(info.cpid, None);
        assert_eq!(info.mode_hint(), ModeHint::NonceOnly);
        let info = parse_serial("NONC:5C80FEFA733C35D4F339911A20E6FBDCFFE7E809").unwrap();
        assert_eq!(info.nonc.as_deref().map(str::len), Some(40));
    }

    #[test]
    fn labels_of_common_paste_sources_are_dropped() {
        let plain = "CPID:8010 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:001A2B3C4D5E6F70 IBFL:3C SRTG:[iBoot-2696.0.0.1.33]";
        let expected = parse_serial(plain).unwrap();
        for pasted in [
            format!("Serial Number: {plain}"),
            format!("  iSerialNumber           3 {plain}"),
            format!("serial: {plain}"),
        ] {
            assert_eq!(parse_serial(&pasted).unwrap(), expected, "{pasted}");
        }
        assert!(matches!(
            parse_serial("Serial Number: hello"),
            Err(SerialError::Malformed { .. })
        ));
    }

    #[test]
    fn manufacturer_string_is_a_clear_error() {
        let err = parse_serial("Apple Inc.").unwrap_err();
        assert_eq!(err, SerialError::ManufacturerString("Apple Inc.".into()));
        assert!(err.to_string().contains("manufacturer string"));
    }

    #[test]
    fn serial_and_nonce_joined() {
        let info = parse_serial("CPID:8015 CPRV:11 CPFM:03 SCEP:01 BDID:0E ECID:000A1B2C3D4E5F60 IBFL:3C SRTG:[iBoot-3332.0.0.1.23] NONC:0011 SNON:AABB").unwrap();
        assert_eq!(info.cpid, Some(0x8015));
        assert_eq!(info.bdid, Some(0x0E));
        assert_eq!(info.nonc.as_deref(), Some("0011"));
        assert_eq!(info.snon.as_deref(), Some("AABB"));
        assert_eq!(
            info.ibfl_flags(),
            vec![
                IbflFlag::Image4Aware,
                IbflFlag::EffectiveSecurityMode,
                IbflFlag::EffectiveProductionMode,
                IbflFlag::Undocumented(5)
            ]
        );
    }

    #[test]
    fn pwnd_marker_wins() {
        let info = parse_serial(
            "CPID:8010 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:001A2B3C4D5E6F70 IBFL:3C SRTG:[iBoot-2696.0.0.1.33] PWND:[checkm8]",
        )
        .unwrap();
        assert_eq!(info.pwnd.as_deref(), Some("checkm8"));
        assert_eq!(info.mode_hint(), ModeHint::PwnedDfu);
    }

    #[test]
    fn unknown_tags_are_kept() {
        let info = parse_serial("CPID:8101 SDOM:01 BDID:0C").unwrap();
        assert_eq!(info.other, vec![("SDOM".to_string(), "01".to_string())]);
        assert_eq!(info.to_string(), "CPID:8101 BDID:0C SDOM:01");
    }

    #[test]
    fn garbage_is_rejected_with_where() {
        match parse_serial("hello world") {
            Err(SerialError::Malformed { position, found }) => {
                assert_eq!(position, 0);
                assert_eq!(found, "hello");
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
        match parse_serial("CPID:8015 oops") {
            Err(SerialError::Malformed { position, found }) => {
                assert_eq!(position, 10);
                assert_eq!(found, "oops");
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
        assert_eq!(parse_serial("   "), Err(SerialError::Empty));
        assert!(matches!(
            parse_serial("CPID:80G5"),
            Err(SerialError::InvalidValue { tag: "CPID", .. })
        ));
        assert!(matches!(
            parse_serial("IBFL:1FF"),
            Err(SerialError::InvalidValue { tag: "IBFL", .. })
        ));
        assert!(matches!(
            parse_serial("ECID:00112233445566778899"),
            Err(SerialError::InvalidValue { tag: "ECID", .. })
        ));
        assert!(matches!(
            parse_serial("SRTG:[iBoot-1"),
            Err(SerialError::UnclosedBracket { .. })
        ));
        assert_eq!(
            parse_serial("CPID:8015 CPID:8015"),
            Err(SerialError::Duplicate { tag: "CPID".into() })
        );
        assert_eq!(parse_serial("FOO:1"), Err(SerialError::NoDeviceFields));
    }

    #[test]
    fn redaction_hides_all_but_last_four() {
        assert_eq!(redact_id("0000038E8E58B41C"), "****B41C");
        assert_eq!(redact_id("84033XXXXXX"), "****XXXX");
        assert_eq!(redact_id("ABC"), "****");
        let info = parse_serial(r"\??\USB#Vid_05ac&Pid_1281#CPID:8920_ECID:000000143A045D0C_SRNM:[889437ABCDE]_IMEI:[012037001234567]#{x}").unwrap();
        let r = info.redacted();
        assert_eq!(r.ecid, None);
        assert_eq!(r.ecid_masked.as_deref(), Some("****5D0C"));
        assert_eq!(r.srnm.as_deref(), Some("****BCDE"));
        assert_eq!(r.imei.as_deref(), Some("****4567"));
        assert_eq!(r.cpid, Some(0x8920));
        let text = r.to_string();
        assert!(!text.contains("143A045D0C"), "{text}");
        assert!(!text.contains("012037001234567"), "{text}");
    }

    fn hex_upper(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(b"0123456789ABCDEF".to_vec()), len)
            .prop_map(|v| String::from_utf8(v).unwrap())
    }

    fn bracket_text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9][A-Za-z0-9 .\\-]{0,20}"
    }

    prop_compose! {
        fn well_formed()(
            cpid in prop::option::of(0u32..=0xFFFF),
            cprv in prop::option::of(0u32..=0xFF),
            cpfm in prop::option::of(0u32..=0xFF),
            scep in prop::option::of(0u32..=0xFF),
            bdid in prop::option::of(0u32..=0xFF),
            ecid in prop::option::of(any::<u64>()),
            ibfl in prop::option::of(any::<u8>()),
            srtg in prop::option::of(bracket_text()),
            srnm in prop::option::of(bracket_text()),
            imei in prop::option::of("[0-9]{15}"),
            nonc in prop::option::of(hex_upper(40..=64)),
            snon in prop::option::of(hex_upper(40..=40)),
            pwnd in prop::option::of("[a-z0-9]{3,10}"),
        ) -> SerialInfo {
            SerialInfo { cpid, cprv, cpfm, scep, bdid, ecid, ecid_masked: None, ibfl, srtg, srnm, imei,
                nonc, snon, pwnd, usb_vid: None, usb_pid: None, other: Vec::new() }
        }
    }

    proptest! {
        #[test]
        fn any_string_never_panics(s in ".*") {
            let _ = parse_serial(&s);
        }

        #[test]
        fn tag_like_strings_never_panic(s in "([A-Z]{2,5}:(\\[[^\\]]{0,8}\\]?|[0-9A-Fx_#]{0,18}) ?){0,6}") {
            let _ = parse_serial(&s);
            let _ = parse_serial(&format!(r"\??\USB#Vid_05ac&Pid_1227#{s}#{{guid}}"));
        }

        #[test]
        fn round_trip(info in well_formed()) {
            let text = info.to_string();
            match parse_serial(&text) {
                Ok(parsed) => prop_assert_eq!(parsed, info),
                Err(e) => {
                    // Only an info with no fields at all may fail to round-trip.
                    prop_assert_eq!(e, SerialError::Empty);
                    prop_assert!(text.is_empty());
                }
            }
        }

        #[test]
        fn windows_form_round_trip(info in well_formed()) {
            prop_assume!(info.has_identity_fields());
            let text = info.to_string();
            // Windows replaces spaces outside the brackets with underscores.
            let mut depth = 0;
            let win: String = text.chars().map(|c| match c {
                '[' => { depth += 1; c }
                ']' => { depth -= 1; c }
                ' ' if depth == 0 => '_',
                _ => c,
            }).collect();
            let wrapped = format!(r"\??\USB#Vid_05ac&Pid_1281#{win}#{{a5dcbf10-6530-11d2-901f-00c04fb951ed}}");
            let parsed = parse_serial(&wrapped).unwrap();
            prop_assert_eq!(parsed.usb_pid, Some(0x1281));
            let mut without_ids = parsed.clone();
            without_ids.usb_vid = None;
            without_ids.usb_pid = None;
            prop_assert_eq!(without_ids, info);
        }

        #[test]
        fn redaction_keeps_only_last_four(id in "[0-9A-Z]{5,20}") {
            let r = redact_id(&id);
            prop_assert!(!r.contains(&id[..id.len() - 4]));
            if id.len() > 6 {
                prop_assert!(r.ends_with(&id[id.len() - 4..]));
            }
            prop_assert!(r[..r.len() - 4].chars().all(|c| c == '*'));
        }
    }
}
