//! How device identifiers are shown. ECID, serial numbers, IMEI and UDIDs identify a person's
//! device: every front end stores them but shows them through [`redact_id`] unless the person
//! asks for them (`--show-ids`). One rule everywhere, so a technician can match a redacted id in
//! a case list with the same redacted id in `detect` or `identify`.

/// Mask an identifier, keeping its last four characters (`****5F60`). The mask has a fixed
/// width, so the id's length is not shown either; ids of six characters or fewer are masked
/// entirely.
pub fn redact_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len().max(4));
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::redact_id;

    #[test]
    fn keeps_only_the_last_four() {
        assert_eq!(redact_id("000A1B2C3D4E5F60"), "****5F60");
        assert_eq!(redact_id("356789012345678"), "****5678");
        assert_eq!(redact_id("abc"), "****");
        assert_eq!(redact_id("ABCDEF"), "******");
    }
}
