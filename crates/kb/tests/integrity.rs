//! The knowledge base as a user relies on it: complete against the reference data, internally
//! consistent, and answering the spellings people type.

use kb::{DeviceMatch, GuideKind, kb, validate};

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/");

/// Rows of a reference TSV (header skipped), or None when `shared/` is not beside the repo. In
/// CI (`CI` set) a missing reference is a failure: the completeness checks must not pass by
/// reading nothing.
fn reference_rows(file: &str) -> Option<Vec<Vec<String>>> {
    match rows_in(REFERENCE, file, std::env::var_os("CI").is_some()) {
        Ok(rows) => rows,
        Err(why) => panic!("{why}"),
    }
}

/// [`reference_rows`] from a directory: `Ok(None)` (with a warning) when the file is missing
/// outside CI, `Err` when it is missing in CI.
fn rows_in(dir: &str, file: &str, ci: bool) -> Result<Option<Vec<Vec<String>>>, String> {
    let path = format!("{dir}{file}");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if ci => {
            return Err(format!(
                "{path}: {e}. The knowledge base is checked against shared/reference beside the \
                 repository; in CI it must be there"
            ));
        }
        Err(e) => {
            eprintln!("WARNING: {path}: {e}; the check against it is skipped");
            return Ok(None);
        }
    };
    Ok(Some(
        text.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect(),
    ))
}

#[test]
fn a_missing_reference_fails_in_ci_and_warns_elsewhere() {
    let missing = "/nonexistent-restore-doctor-reference/";
    let err = rows_in(missing, "devices.tsv", true).unwrap_err();
    assert!(err.contains("devices.tsv") && err.contains("CI"), "{err}");
    assert_eq!(rows_in(missing, "devices.tsv", false), Ok(None));
    // Where the reference is present, every caller gets rows.
    if std::path::Path::new(REFERENCE).exists() {
        assert!(rows_in(REFERENCE, "devices.tsv", true).unwrap().is_some());
    }
}

#[test]
fn knowledge_base_has_no_cross_reference_errors() {
    let errors = validate(kb().tables());
    let listing: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{} problems:\n{}",
        errors.len(),
        listing.join("\n")
    );
}

#[test]
fn every_reference_error_code_is_documented() {
    let Some(rows) = reference_rows("error_codes.tsv") else {
        return;
    };
    assert_eq!(rows.len(), 87);
    for row in rows {
        let code: i64 = row[0].parse().unwrap();
        let entry = kb()
            .error_code(code)
            .unwrap_or_else(|| panic!("code {code} missing"));
        assert!(!entry.meaning.is_empty());
        assert!(kb().code_prior(code).is_some(), "code {code} has no prior");
    }
}

#[test]
fn every_reference_range_is_documented() {
    let Some(rows) = reference_rows("error_code_ranges.tsv") else {
        return;
    };
    for row in rows {
        let (start, end): (i64, i64) = (row[0].parse().unwrap(), row[1].parse().unwrap());
        assert!(
            kb().ranges()
                .iter()
                .any(|r| r.start == start && r.end == end),
            "range {start}-{end} missing"
        );
    }
    // A code inside 3000-3999 that is not itself documented is explained by its range.
    assert!(kb().error_code(3456).is_none());
    assert!(matches!(kb().lookup_code(3456), Some(kb::CodeEntry::Range(r)) if r.start == 3000));
}

#[test]
fn every_reference_device_is_known_with_all_four_guides() {
    let Some(rows) = reference_rows("devices.tsv") else {
        return;
    };
    assert_eq!(rows.len(), 180);
    for row in rows {
        let (pt, board) = (&row[0], &row[1]);
        let d = kb()
            .devices()
            .iter()
            .find(|d| &d.product_type == pt && &d.board == board)
            .unwrap_or_else(|| panic!("{pt} {board} missing"));
        for kind in GuideKind::ALL {
            assert!(
                kb().guide(d.button_scheme, kind).is_some(),
                "{pt}: no {kind:?} guide"
            );
        }
    }
}

#[test]
fn every_probability_table_sums_to_one() {
    for f in kb().families() {
        let s: f64 = f.prior.values().sum();
        assert!((s - 1.0).abs() < 1e-6, "family {} sums to {s}", f.id);
    }
    for c in kb().error_codes() {
        let s: f64 = kb().code_prior(c.code).unwrap().values().sum();
        assert!((s - 1.0).abs() < 1e-6, "code {} sums to {s}", c.code);
    }
}

#[test]
fn schemes_follow_the_button_rules() {
    let scheme = |pt: &str| kb().device(pt).unwrap().button_scheme.as_str();
    assert_eq!(scheme("iPhone8,1"), "home_button"); // 6s
    assert_eq!(scheme("iPhone9,3"), "volume_down_side"); // 7
    assert_eq!(scheme("iPod9,1"), "volume_down_side"); // iPod touch 7
    assert_eq!(scheme("iPhone10,1"), "volume_up_down_side"); // 8
    assert_eq!(scheme("iPhone12,8"), "volume_up_down_side"); // SE 2
    assert_eq!(scheme("iPad8,1"), "top_button_ipad"); // Pro 11 (Home-less)
    assert_eq!(scheme("iPad7,11"), "home_button"); // iPad 7
    let x = kb().device("iPhone10,3").unwrap();
    assert_eq!(x.biometric, kb::Biometric::FaceId);
    assert_eq!(
        kb().device("iPhone12,8").unwrap().biometric,
        kb::Biometric::TouchId
    );
    assert!(!kb().device("iPad7,11").unwrap().cellular);
    assert!(kb().device("iPad7,12").unwrap().cellular);
}

fn found(q: &str) -> String {
    match kb().find_device(q) {
        DeviceMatch::Found { name, .. } => name.to_string(),
        other => panic!("`{q}` did not resolve: {other:?}"),
    }
}

#[test]
fn finds_devices_in_the_spellings_people_use() {
    for (q, want) in [
        ("iphone x", "iPhone X"),
        ("iPhone X", "iPhone X"),
        ("iphone-x", "iPhone X"),
        ("7 plus", "iPhone 7 Plus"),
        ("iPhone 7+", "iPhone 7 Plus"),
        ("iPhone 11 Pro Max", "iPhone 11 Pro Max"),
        ("11 pro max", "iPhone 11 Pro Max"),
        ("iPad 7", "iPad (7th gen)"),
        ("iPad (7th generation)", "iPad (7th gen)"),
        ("iPhone SE (2nd generation)", "iPhone SE (2nd gen)"),
        ("iphone se 2", "iPhone SE (2nd gen)"),
        ("iPhone10,3", "iPhone X"),
        ("iphone10,6", "iPhone X"),
        ("d22ap", "iPhone X"),
        ("D22", "iPhone X"),
        ("iPod touch 7", "iPod touch (7th generation)"),
        ("iphone 6s", "iPhone 6s"),
        // Generations by year, as people and shops name them.
        ("iPhone SE 2020", "iPhone SE (2nd gen)"),
        ("iphone se 2022", "iPhone SE (3rd gen)"),
        ("iphone se 2016", "iPhone SE (1st gen)"),
        ("ipad 2019", "iPad (7th gen)"),
        ("ipad pro 12.9 3rd gen", "iPad Pro 12.9-inch (3rd gen)"),
        ("iPad Pro 11 (2nd generation)", "iPad Pro 11-inch (2nd gen)"),
        // One iPad Pro that year: the year alone names it.
        ("iPad Pro 2016", "iPad Pro 9.7-inch"),
    ] {
        assert_eq!(found(q), want, "query `{q}`");
    }
}

#[test]
fn ambiguous_and_unknown_names_offer_the_closest_matches() {
    match kb().find_device("iPhone 11 P") {
        DeviceMatch::NotFound(s) | DeviceMatch::Ambiguous(s) => assert!(!s.is_empty()),
        DeviceMatch::Found { name, .. } => panic!("`iPhone 11 P` resolved to {name}"),
    }
    match kb().find_device("ipad pro") {
        DeviceMatch::Ambiguous(names) => assert!(names.len() > 3, "{names:?}"),
        other => panic!("`ipad pro` should be ambiguous: {other:?}"),
    }
    // Two sizes came out in 2018: the person is asked which.
    match kb().find_device("iPad Pro 2018") {
        DeviceMatch::Ambiguous(names) => assert_eq!(
            names,
            ["iPad Pro 11-inch (1st gen)", "iPad Pro 12.9-inch (3rd gen)"]
        ),
        other => panic!("`iPad Pro 2018` should be ambiguous: {other:?}"),
    }
    match kb().find_device("iphone 99") {
        DeviceMatch::NotFound(s) => assert!(s.iter().any(|n| n.starts_with("iPhone"))),
        other => panic!("`iphone 99` should be unknown: {other:?}"),
    }
}

#[test]
fn usb_product_ids_map_to_modes() {
    assert_eq!(kb().usb_mode(0x05ac, 0x1227).unwrap().mode, "dfu");
    assert_eq!(kb().usb_mode(0x05ac, 0x1281).unwrap().mode, "recovery");
    assert_eq!(kb().usb_mode(0x05ac, 0x12a8).unwrap().mode, "normal");
    assert!(kb().usb_mode(0x1234, 0x1227).is_none());
}

#[test]
fn serial_string_ids_find_the_model() {
    // CPID 8015 / BDID 0x06 is the iPhone X (Global), board d22ap.
    let d = kb().device_by_cpid_bdid(0x8015, 0x06).unwrap();
    assert_eq!(d.product_type, "iPhone10,3");
}

/// Keys of the reference data that name no document one can open (no address, a local file, a
/// rule of ours or general knowledge). They are not sources: each citation of them became the
/// source that supports the fact, or an estimate that says so.
const NOT_REFERENCES: [&str; 10] = [
    "BTN_RULES",              // our rule set: XDA_REVIVE_IPHONE, EATSIP365_IPAD_RECOVERY
    "EX_CODE",                // search-index ids only: LIBIRECOVERY_C parses the fields
    "IDEVICERESTORE_LOGS",    // no entry at all: LIBIRECOVERY_H and USBIDS
    "LOG_FORMATS_MD",         // a local notes file: the issues and code it names
    "MODMYI_1002",            // the same thread as PG_MODMYI_1002
    "OPENSLEUTH_TEST",        // a search-index id only: USBIDS, LIBIRECOVERY_TOOL
    "PG_TECHNOLOGYTHERESA_6", // a whole blog, not a page: APPLE_RECALL alone
    "RESTORED_LOG_2017",      // a log whose address was lost: issues, or an estimate
    "appledb_spotcheck",      // the same files as APPLEDB
    "cpid_to_soc_general_knowledge", // general knowledge: an estimate on each device
];

#[test]
fn every_key_the_reference_data_cites_is_a_source_or_was_replaced() {
    let mut cited = std::collections::BTreeSet::new();
    for file in [
        "checkpoints.tsv",
        "devices.tsv",
        "error_code_ranges.tsv",
        "error_codes.tsv",
        "known_hardware_faults.tsv",
        "progress_hints.tsv",
        "restore_operations.tsv",
        "restore_status_codes.tsv",
        "usb_ids.tsv",
        "usb_serial_fields.tsv",
    ] {
        let Ok(text) = std::fs::read_to_string(format!("{REFERENCE}{file}")) else {
            eprintln!("WARNING: shared/reference not found beside the repository; skipped");
            return;
        };
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let columns: Vec<usize> = (0..header.len())
            .filter(|&i| header[i].starts_with("source"))
            .collect();
        assert!(!columns.is_empty(), "{file} has no source column");
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let row: Vec<&str> = line.split('\t').collect();
            for &i in &columns {
                for c in kb::parse_citation(row.get(i).unwrap_or(&"")).keys {
                    cited.insert(c.key.to_string());
                }
            }
        }
    }
    assert!(cited.len() > 100, "only {} keys read", cited.len());
    for key in &cited {
        let known = kb().source(key).is_some();
        let replaced = NOT_REFERENCES.contains(&key.as_str());
        assert!(
            known != replaced,
            "`{key}`: {}",
            if known {
                "is a source, so it is not among the replaced keys"
            } else {
                "neither a source of knowledge/sources.toml nor a replaced key"
            }
        );
    }
}

#[test]
fn sources_are_found_by_the_key_a_citation_writes() {
    let restore_c = kb()
        .source("IDR_RESTORE_C@405fcd1")
        .expect("pinned key resolves");
    assert_eq!(restore_c.key, "IDR_RESTORE_C");
    assert_eq!(restore_c.revision.as_deref(), Some("405fcd1"));
    assert!(
        restore_c
            .url
            .starts_with("https://github.com/libimobiledevice/idevicerestore/")
    );
    for gone in NOT_REFERENCES {
        assert!(kb().source(gone).is_none(), "{gone} is still a source");
    }
    // Every citation in the knowledge base resolves through the same accessor.
    let t = kb().tables();
    let strings = t
        .devices
        .iter()
        .map(|d| &d.source)
        .chain(t.checkpoints.iter().map(|c| &c.source))
        .chain(t.operations.iter().map(|o| &o.source))
        .chain(t.codes.iter().map(|c| &c.source));
    for s in strings {
        for k in kb::parse_citation(s).keys {
            assert!(kb().source(k.key).is_some(), "{s}");
        }
    }
}

#[test]
fn device_facts_say_which_come_from_a_source_and_which_are_estimates() {
    // The iPhone X: ids from libirecovery, SoC and year checked in AppleDB, buttons from a guide.
    let x = kb::parse_citation(&kb().device("iPhone10,3").unwrap().source);
    let keys: Vec<&str> = x.keys.iter().map(|k| k.key).collect();
    assert_eq!(keys, ["LIBIRECOVERY_C", "APPLEDB", "XDA_REVIVE_IPHONE"]);
    assert!(x.estimate.is_some_and(|e| e.contains("connector")));
    // Any other device: the SoC, year and connector are an estimate, said as such.
    for d in kb().devices() {
        let c = kb::parse_citation(&d.source);
        assert_eq!(c.keys[0].key, "LIBIRECOVERY_C", "{}", d.product_type);
        let estimate = c.estimate.unwrap_or_default();
        assert!(
            estimate.contains("connector"),
            "{}: {estimate:?}",
            d.product_type
        );
    }
}
