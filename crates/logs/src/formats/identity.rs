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
    // (memmem's finder, built once, rather than a two-way searcher per line.)
    for i in finder!("iP").find_iter(s.as_bytes()) {
        if let Some(len) = product_type_len(&s[i..]) {
            return Some(&s[i..i + len]);
        }
    }
    None
}

/// Push identity signals found in `line`. Additive: other parsers still read the line.
pub fn parse(line: &str, out: &mut Vec<Signal>) {
    // `out` holds the signals of the lines read before this one too.
    let first = out.len();
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
    // Most lines name no device: one pass over the line rules out every literal looked for
    // below (see `may_have_any!`). Each of them holds a `P` or a `.`: a line with neither
    // (most lines the full path reads) is ruled out by one memchr, cheaper than the packed
    // search on a short line.
    if memchr::memchr2(b'P', b'.', line.as_bytes()).is_none() {
        return;
    }
    let maybe = may_have_any!(
        line,
        [
            "ProductType: ",
            "iPhone",
            "iPad",
            "iPod",
            "_Restore.ipsw",
            ".im4p",
            ".img3",
            ".dfu",
            ".shsh",
        ]
    );
    if !maybe {
        return;
    }
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
    // A product type anywhere (free text "on an iPhone 7 (iPhone9,1)", a blob's file name
    // `…_iPhone10,2_d21ap_16.6-20G75_….shsh2`): a hint, used when nothing better is known, and
    // only when the line names one model (an IPSW for several names none).
    let already = out[first..]
        .iter()
        .any(|s| matches!(s, Signal::ProductType { .. }));
    if !already && let Some(pt) = single_product_type(line) {
        out.push(Signal::ProductTypeHint(pt.to_string()));
    }
    if let Some(end) = find_lit_if!(maybe, line, "_Restore.ipsw") {
        // The file name: from the last path separator or space before it.
        let start = line[..end]
            .rfind(['/', '\\', ' ', '"', '\'', '='])
            .map_or(0, |i| i + 1);
        let stem = &line[start..end];
        let devices = stem.split('_').next().unwrap_or("");
        if let Some(len) = product_type_len(devices)
            && len == devices.len()
        {
            out.push(Signal::ProductType {
                hardware_model: None,
                product_type: devices.to_string(),
            });
        }
        // `iPhone11,8_18.3_22D63` and `iPhone_5.5_P3_16.6_20G75` (family, screen size and
        // variant first): the version is the part right before the build.
        let parts: Vec<&str> = stem.split('_').collect();
        if let Some(b) = parts.iter().rposition(|p| is_build(p))
            && b > 0
            && is_version(parts[b - 1])
        {
            out.push(Signal::TargetVersionHint(parts[b - 1].to_string()));
            out.push(Signal::TargetBuildHint(parts[b].to_string()));
        }
    }
    if let Some(end) = find_lit_if!(maybe, line, ".shsh") {
        // A saved blob: `<ecid>_<product type>_<board>_<version>-<build>_<nonce>.shsh2`.
        let start = line[..end]
            .rfind(['/', '\\', ' ', '"', '\''])
            .map_or(0, |i| i + 1);
        for part in line[start..end].split('_') {
            if let Some((v, b)) = part.split_once('-')
                && is_version(v)
                && is_build(b)
            {
                out.push(Signal::TargetVersionHint(v.to_string()));
                out.push(Signal::TargetBuildHint(b.to_string()));
            } else if looks_like_board(part) {
                out.push(Signal::BoardHint(part.to_string()));
            }
        }
    }
    let firmware_file = has_if!(maybe, line, ".im4p")
        || has_if!(maybe, line, ".img3")
        || has_if!(maybe, line, ".dfu");
    if firmware_file {
        // Firmware files carry their board: `iBEC.j317.RELEASE.im4p`, `DeviceTree.j96ap.im4p`,
        // `iBSS.n90ap.RELEASE.dfu`. Which of the pieces is a board the knowledge base decides.
        for word in line.split([' ', '(', ')', '/', '\\', '"', '\'']) {
            // (`Extracting iBoot.n71.RELEASE.im4p...`)
            let word = word.trim_end_matches(['.', ',', ':', ';']);
            if !(word.ends_with(".im4p") || word.ends_with(".img3") || word.ends_with(".dfu")) {
                continue;
            }
            for piece in word.split('.').filter(|p| looks_like_board(p)) {
                out.push(Signal::BoardHint(piece.to_string()));
            }
        }
    }
}

/// The one product type a line names (several distinct ones: none).
fn single_product_type(line: &str) -> Option<&str> {
    let mut found: Option<&str> = None;
    for i in finder!("iP").find_iter(line.as_bytes()) {
        if let Some(len) = product_type_len(&line[i..]) {
            let pt = &line[i..i + len];
            match found {
                None => found = Some(pt),
                Some(f) if f == pt => {}
                Some(_) => return None,
            }
        }
    }
    found
}

/// A build number: `20G75`, `15B93`, `11B554a` (one or two digits, a capital, digits, maybe a
/// small letter).
fn is_build(s: &str) -> bool {
    let b = s.as_bytes();
    let d1 = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=2).contains(&d1) || !b.get(d1).is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    let rest = &b[d1 + 1..];
    let d2 = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    (1..=4).contains(&d2)
        && (rest.len() == d2 || (rest.len() == d2 + 1 && rest[d2].is_ascii_lowercase()))
}

/// A version: `16.6`, `7.0.4`.
fn is_version(s: &str) -> bool {
    s.len() <= 10
        && s.contains('.')
        && s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes().all(|c| c.is_ascii_digit() || c == b'.')
}

/// The shape of a board name: one or two small letters, two to four digits, up to four small
/// letters (`n71`, `j96ap`, `d201ap`, `j317xap`, `n104ap`); not `im4p`, `ipad5`, `iphone9`.
fn looks_like_board(s: &str) -> bool {
    let b = s.as_bytes();
    let l1 = b.iter().take_while(|c| c.is_ascii_lowercase()).count();
    let d = b[l1..].iter().take_while(|c| c.is_ascii_digit()).count();
    let l2 = b[l1 + d..]
        .iter()
        .take_while(|c| c.is_ascii_lowercase())
        .count();
    (1..=2).contains(&l1) && (2..=4).contains(&d) && l2 <= 4 && l1 + d + l2 == b.len()
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
        assert!(v.contains(&Signal::TargetBuildHint("22D63".into())));
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
