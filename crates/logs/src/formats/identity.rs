//! Device identity in lines of any format: the device log's `ProductType:` banner, a wrapper's
//! `Device: <name> (<ProductType>)` line, and IPSW file names `<ProductType>_<ver>_<build>_Restore.ipsw`.

use crate::signal::Signal;
use crate::text::find_byte;

/// A product type (`iPhone10,3`, `iPad5,3`, `iPod9,1`) at the start of `s`: its length.
pub fn product_type_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let family = ["iPhone", "iPad", "iPod"]
        .into_iter()
        .find(|f| s.starts_with(f))?;
    let mut i = family.len();
    let d1 = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if d1 == 0 || b.get(i + d1) != Some(&b',') {
        return None;
    }
    i += d1 + 1;
    let d2 = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if d2 == 0 {
        return None;
    }
    Some(i + d2)
}

/// The first product type anywhere in `s`.
pub fn find_product_type(s: &str) -> Option<&str> {
    for (i, _) in s.match_indices("iP") {
        if let Some(len) = product_type_len(&s[i..]) {
            return Some(&s[i..i + len]);
        }
    }
    None
}

/// Push identity signals found in `line`. Additive: other parsers still read the line.
pub fn parse(line: &str, out: &mut Vec<Signal>) {
    // Most lines name no device: one pass over the line rules out all three literals looked
    // for anywhere below (see `may_have_any!`).
    let maybe = may_have_any!(line, ["ProductType: ", "(iP", "_Restore.ipsw"]);
    if let Some(r) = find_lit_if!(maybe, line, "ProductType: ").map(|i| &line[i + 13..]) {
        if let Some(len) = product_type_len(r.trim_start()) {
            let pt = &r.trim_start()[..len];
            let board = find_byte(r, b'(').and_then(|o| {
                find_byte(&r[o + 1..], b')').map(|c| r[o + 1..o + 1 + c].to_string())
            });
            out.push(Signal::ProductType {
                hardware_model: board,
                product_type: pt.to_string(),
            });
        }
        return;
    }
    if let Some(r) = line.strip_prefix("Device: ") {
        // `Device: iPhone 7 Plus (iPhone9,4) DFU`, `Device: "name" (iPhone12,1), iOS 17.7 (21H16)`
        for i in memchr::memchr_iter(b'(', r.as_bytes()) {
            if let Some(len) = product_type_len(&r[i + 1..])
                && r[i + 1 + len..].starts_with(')')
            {
                out.push(Signal::ProductType {
                    hardware_model: None,
                    product_type: r[i + 1..i + 1 + len].to_string(),
                });
                break;
            }
        }
    }
    // Free text such as "this is on an iPhone 7 (iPhone9,1)": a hint, used when nothing better.
    let already = out.iter().any(|s| matches!(s, Signal::ProductType { .. }));
    if !already
        && let Some(i) = find_lit_if!(maybe, line, "(iP")
        && let Some(len) = product_type_len(&line[i + 1..])
    {
        out.push(Signal::ProductTypeHint(
            line[i + 1..i + 1 + len].to_string(),
        ));
    }
    if let Some(end) = find_lit_if!(maybe, line, "_Restore.ipsw") {
        // The file name: from the last path separator or space before it.
        let start = line[..end]
            .rfind(['/', '\\', ' ', '"', '\''])
            .map_or(0, |i| i + 1);
        let stem = &line[start..end];
        let mut parts = stem.split('_');
        let devices = parts.next().unwrap_or("");
        let version = parts.next();
        let build = parts.next();
        if let Some(len) = product_type_len(devices)
            && len == devices.len()
        {
            out.push(Signal::ProductType {
                hardware_model: None,
                product_type: devices.to_string(),
            });
        }
        if let (Some(v), Some(b)) = (version, build)
            && v.bytes().all(|c| c.is_ascii_digit() || c == b'.')
            && !v.is_empty()
        {
            out.push(Signal::TargetVersion(v.to_string()));
            out.push(Signal::TargetBuild(b.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_from_banner_wrapper_and_ipsw_name() {
        let mut v = Vec::new();
        parse("::     ProductType: iPhone12,1 (n104ap)", &mut v);
        assert_eq!(
            v,
            vec![Signal::ProductType {
                hardware_model: Some("n104ap".into()),
                product_type: "iPhone12,1".into()
            }]
        );
        v.clear();
        parse("Device: iPhone 7 Plus (iPhone9,4) DFU", &mut v);
        assert_eq!(
            v,
            vec![Signal::ProductType {
                hardware_model: None,
                product_type: "iPhone9,4".into()
            }]
        );
        v.clear();
        parse(
            r"PS C:\x> .\idevicerestore.exe -e .\iPhone11,8_18.3_22D63_Restore.ipsw",
            &mut v,
        );
        assert!(v.contains(&Signal::TargetBuild("22D63".into())));
        assert!(v.contains(&Signal::ProductType {
            hardware_model: None,
            product_type: "iPhone11,8".into()
        }));
        v.clear();
        parse("iPhone11,8,iPhone12,1_18.3_22D63_Restore.ipsw", &mut v);
        assert!(!v.iter().any(|s| matches!(s, Signal::ProductType { .. })));
        assert_eq!(find_product_type("x iPad5,3 y"), Some("iPad5,3"));
    }
}
