//! Masking device identifiers (ECID, serial number, IMEI, UDID) in log text.

use std::borrow::Cow;

const MASK: &str = "[redacted]";

/// Keywords after which the next alphanumeric run is an identifier.
const KEYWORDS: &[&str] = &[
    "ecid",
    "uniquechipid",
    "serial number is",
    "srnm",
    "imei",
    "udid",
    "serialnumber",
    "_event_cb: device",
];

/// `text` with identifiers masked; borrowed when there was nothing to mask.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for kw in KEYWORDS {
        let mut from = 0;
        while let Some(i) = lower[from..].find(kw) {
            let start_kw = from + i;
            let mut j = start_kw + kw.len();
            let b = lower.as_bytes();
            // separators: ":", "=", " ", "[", "(", quotes, "0x"
            while j < b.len() && matches!(b[j], b':' | b'=' | b' ' | b'[' | b'(' | b'"' | b'\'') {
                j += 1;
            }
            if j + 1 < b.len() && b[j] == b'0' && b[j + 1] == b'x' {
                j += 2;
            }
            let s = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-') {
                j += 1;
            }
            if j - s >= 4 {
                spans.push((s, j));
            }
            from = start_kw + kw.len();
        }
    }
    // Bare UDIDs: 40 hex digits, or 8 hex + '-' + 16 hex.
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_hexdigit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_hexdigit() || b[j] == b'-') {
                j += 1;
            }
            let tok = &text[i..j];
            let plain40 = tok.len() == 40 && !tok.contains('-');
            let modern = tok.len() == 25 && tok.as_bytes()[8] == b'-' && !tok[9..].contains('-');
            if (plain40 || modern) && (j == b.len() || !b[j].is_ascii_alphanumeric()) {
                spans.push((i, j));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (s, e) in spans {
        if s < pos {
            continue;
        }
        out.push_str(&text[pos..s]);
        out.push_str(MASK);
        pos = e;
    }
    out.push_str(&text[pos..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_identifiers() {
        assert_eq!(redact_text("ECID: 2844626588163936"), "ECID: [redacted]");
        assert_eq!(
            redact_text("with ECID=0x11E0B7C45D9A62"),
            "with ECID=0x[redacted]"
        );
        assert_eq!(
            redact_text(
                "Device 2f8104fba08f6d3682da2bd8e369316bf60b7d9b has successfully entered restore mode"
            ),
            "Device [redacted] has successfully entered restore mode"
        );
        assert_eq!(
            redact_text("udid: 00008030-001A2B3C4D5E602E"),
            "udid: [redacted]"
        );
        assert_eq!(
            redact_text("Updating NAND Firmware (58)"),
            "Updating NAND Firmware (58)"
        );
        assert_eq!(
            redact_text("INFO: device serial number is F2LXK0ABHG7F"),
            "INFO: device serial number is [redacted]"
        );
    }
}
