//! A log longer than one region is read on reader threads: the reading must be exactly the one
//! a single thread gives, and its line numbers must still point at the right lines.

use logs::{RestoreLog, analyze_reader_with};
use std::path::Path;

/// The UTF-8 fixtures, in name order.
fn fixtures() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .filter_map(|p| {
            let text = String::from_utf8(std::fs::read(&p).ok()?).ok()?;
            Some((p.file_name()?.to_string_lossy().to_string(), text))
        })
        .collect();
    v.sort();
    assert!(v.len() >= 30, "expected the fixture set, found {}", v.len());
    v
}

fn read(bytes: &[u8], readers: usize) -> RestoreLog {
    analyze_reader_with(bytes, "test.log", readers, &mut |_| {}).expect("in-memory log reads")
}

fn fixture(name: &str) -> String {
    fixtures()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("fixture {name} missing"))
        .1
}

#[test]
fn reader_threads_give_the_single_thread_reading() {
    // Every format mixed, about 6 MB: several regions, wrapped lines and CRLF included.
    let mut log = String::new();
    let all = fixtures();
    while log.len() < 6 << 20 {
        for (_, text) in &all {
            log.push_str(text);
            if !text.ends_with('\n') {
                log.push('\n');
            }
        }
    }
    let one = read(log.as_bytes(), 1);
    // Regions are cut every 1 MiB: this is several.
    assert!(one.bytes > 4 << 20, "input spans many regions");
    assert_eq!(one.lines, log.matches('\n').count() as u64 + 1);
    for readers in [2, 3, 8] {
        let many = read(log.as_bytes(), readers);
        assert_eq!(one, many, "{readers} reader threads changed the reading");
    }
}

#[test]
fn a_failure_deep_in_a_large_log_is_found_at_its_own_lines() {
    // A long successful session first (several regions), then the failing attempt.
    let success = fixture("idevicerestore_2024_success_iphone10_3_dfu_erase.log");
    let failure = fixture("idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log");
    let mut log = String::new();
    while log.len() < 5 << 20 {
        log.push_str(&success);
    }
    log.push_str(&failure);
    let lines: Vec<&str> = log.lines().collect();
    for readers in [1, 2] {
        let read = read(log.as_bytes(), readers);
        let point = read.failure.as_ref().expect("the last attempt failed");
        assert_eq!(
            point.operation.as_ref().map(|o| o.id),
            Some(58),
            "{readers}"
        );
        assert!(!read.evidence.is_empty());
        for e in &read.evidence {
            let at = lines[(e.line - 1) as usize];
            assert!(
                at.contains(e.text.trim()),
                "evidence line {} is {at:?}, not {:?} ({readers} readers)",
                e.line,
                e.text
            );
        }
    }
}
