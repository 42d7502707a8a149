//! Properties of the analyser: it never panics, its memory stays bounded, chunking and line
//! endings do not change the reading, and line numbers point at the right lines.

use logs::{Analyzer, Outcome, RestoreLog, TIMELINE_EDGE, analyze_bytes};
use proptest::prelude::*;

/// Realistic lines from every format (and some that look alike but are not).
const POOL: &[&str] = &[
    "Found device in Recovery mode",
    "Identified device as n71ap, iPhone8,1",
    "Connected to com.apple.mobile.restored, version 13",
    "Checkpoint started   id: 0x60E (update_NAND_firmware)",
    "Checkpoint completed id: 0x100000634 (fdr_recover) result=0",
    "Checkpoint 4867 complete with code 18446744073709551615",
    "Updating NAND Firmware (58)",
    "Waiting for NAND (28)",
    "Unknown operation (88)",
    "ERROR: Could not read data (-256). Aborting.",
    "ERROR: Unable to restore device",
    "Status: Disk Failure",
    "Unhandled status message (46)",
    "TSS server returned: STATUS=94&MESSAGE=This device isn't eligible",
    "[14:02:11.0421-GMT]{3>6} CHECKPOINT BEGIN: RESTORED:[0x060E] update_NAND_firmware",
    "[09:17:40.0288-GMT]{3>7} CHECKPOINT FAILURE:(FAILURE:1100) (null):[0x065B] asr_and_invert_image [0]D(x)",
    "restore-step-user-progress = 47",
    "ASR: Could not restore - No space left on device",
    "bbupdater: \tFAILED(kBBUReturnIOError)",
    "2024-02-03 18:20:44.502 [7120:1a4c]: <Recovery Mode Device 0000021F6A3C90B0>: operation 4 progress -1",
    "[17:21:31.0944] <Restore Device 0000021F6A3D1E40>: operation 58 progress -1",
    "[17:32:52.0101] Changing state from 'Transitioning' to 'Disappeared'",
    "Restore completed, status: 4013",
    "11:05:12.506:  The flash is done",
    "12:00:01.100: 12:00:01.151: Started checkpoint id: 0x648 (cleanup_send_final_status)",
    "{\"timestamp\":\"2025-03-04 10:15:02.118422+0100\",\"processImagePath\":\"/x/AMPDevicesAgent\",\"eventMessage\":\"Restore completed, status: 4013\"}",
    "{\"count\":6,\"finished\":1}",
    "what=ERROR: Unable to restore device",
    "code=91291694",
    "Done: restoring failed!",
    "> > Status: Restore Finished",
    "DONE",
    "                     ning-cycles:1]",
    "[=====     ]  45.0%",
    "\u{1b}[31mERROR: Unable to restore device\u{1b}[0m",
    "Device: \"x<script>\" (iPhone12,1), iOS 17.7 (21H16)",
    "plain noise line with nothing in it",
    "（4013）刷机失败",
    "Checkpoint FAILURE id: 0xffffffff00000652 result=0: text (with parens)",
    "CHECKPOINT FAILURE:(FAILURE:",
    "<Restore Device",
    "Status: ",
    "Identified device as ",
    "",
];

fn assemble(lines: &[usize], endings: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, &l) in lines.iter().enumerate() {
        out.extend_from_slice(POOL[l % POOL.len()].as_bytes());
        match endings.get(i).copied().unwrap_or(0) % 3 {
            0 => out.push(b'\n'),
            1 => out.extend_from_slice(b"\r\n"),
            _ => out.push(b'\r'),
        }
    }
    out
}

fn feed_in_chunks(bytes: &[u8], sizes: &[usize]) -> RestoreLog {
    let mut a = Analyzer::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(1)
            .clamp(1, rest.len());
        a.feed(&rest[..n]);
        rest = &rest[n..];
        i += 1;
    }
    a.finish()
}

fn bounded(log: &RestoreLog) {
    assert!(
        log.timeline.len() <= 2 * TIMELINE_EDGE + 12,
        "timeline {}",
        log.timeline.len()
    );
    assert!(log.evidence.len() <= 16);
    assert!(log.modes.len() <= 64);
    assert!(log.error_codes.len() <= 16);
    assert!(log.timeline.iter().all(|e| e.text.len() <= 400));
    assert!(log.reading.len() < 4096);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_never_panic_and_stay_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let log = analyze_bytes(&bytes);
        bounded(&log);
    }

    #[test]
    fn any_text_never_panics(text in "\\PC{0,600}") {
        let log = analyze_bytes(text.as_bytes());
        bounded(&log);
    }

    #[test]
    fn chunking_does_not_change_the_reading(
        lines in proptest::collection::vec(0usize..1000, 0..120),
        endings in proptest::collection::vec(any::<u8>(), 0..120),
        sizes in proptest::collection::vec(1usize..300, 1..8),
    ) {
        let bytes = assemble(&lines, &endings);
        let whole = analyze_bytes(&bytes);
        let chunked = feed_in_chunks(&bytes, &sizes);
        prop_assert_eq!(whole, chunked);
    }

    #[test]
    fn realistic_mixtures_stay_bounded(lines in proptest::collection::vec(0usize..1000, 0..2000)) {
        let bytes = assemble(&lines, &[]);
        bounded(&analyze_bytes(&bytes));
    }

    #[test]
    fn the_failure_line_number_is_the_line_in_the_input(noise in 0usize..400, after in 0usize..50) {
        let mut text = String::new();
        text.push_str("Connected to com.apple.mobile.restored, version 15\n");
        for i in 0..noise {
            text.push_str(&format!("noise line {i}\n"));
        }
        text.push_str("Updating NAND Firmware (58)\n");
        text.push_str("ERROR: Could not read data (-256). Aborting.\n");
        for i in 0..after {
            text.push_str(&format!("more noise {i}\r\n"));
        }
        text.push_str("ERROR: Unable to restore device");
        let log = analyze_bytes(text.as_bytes());
        prop_assert_eq!(log.outcome, Outcome::Failure);
        let first = log.evidence.iter().find(|e| e.why == "first sign of the failure").expect("root line");
        prop_assert_eq!(first.line, noise as u64 + 3);
        prop_assert_eq!(log.lines, noise as u64 + after as u64 + 4);
    }
}

/// Large input crosses the internal buffer boundaries: chunking must still not matter, and the
/// timeline must stay bounded while the input grows.
#[test]
fn big_input_is_chunking_independent_and_bounded() {
    let lines: Vec<usize> = (0..150_000).map(|i| (i * 7919) % POOL.len()).collect();
    let endings: Vec<u8> = (0..150_000).map(|i| (i % 5) as u8).collect();
    let bytes = assemble(&lines, &endings);
    assert!(bytes.len() > 2 * logs::BUFFER_CAP);
    let whole = analyze_bytes(&bytes);
    bounded(&whole);
    assert!(whole.events_dropped > 0);
    for sizes in [&[4096usize][..], &[65_537], &[1 << 20], &[3, 100_003, 17]] {
        assert_eq!(
            feed_in_chunks(&bytes, sizes),
            whole,
            "chunk sizes {sizes:?}"
        );
    }
}

/// UTF-16LE with a BOM (PowerShell `>`), CRLF: read like the UTF-8 original.
#[test]
fn utf16_and_crlf_read_like_utf8() {
    let text = "Connected to com.apple.mobile.restored, version 15\nCheckpoint started   id: 0x60E (update_NAND_firmware)\nUpdating NAND Firmware (58)\nERROR: Could not read data (-256). Aborting.\nERROR: Unable to restore device\n";
    let utf8 = analyze_bytes(text.as_bytes());
    let crlf = text.replace('\n', "\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    for u in crlf.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let wide = analyze_bytes(&utf16);
    assert_eq!(wide.outcome, Outcome::Failure);
    assert_eq!(wide.failure, utf8.failure);
    assert_eq!(
        wide.failure.as_ref().and_then(|f| f.stage),
        Some(logs::Stage::Nand)
    );
}

/// Found by `cargo fuzz run analyzer`: NUL bytes after the first 512 bytes made the encoding
/// guess depend on the read size. Only the first 512 bytes decide now.
#[test]
fn fuzz_regression_encoding_guess_is_chunking_independent() {
    let mut bytes = b"idevicerestore 1.0.0\nFound device in Recovery mode\n".to_vec();
    bytes.resize(600, b'x');
    bytes.push(b'\n');
    for _ in 0..2000 {
        bytes.extend_from_slice(b"a\0");
    }
    bytes.extend_from_slice(b"\nERROR: Unable to restore device\n");
    let whole = analyze_bytes(&bytes);
    assert_eq!(feed_in_chunks(&bytes, &[7]), whole);
    assert_eq!(whole.outcome, Outcome::Failure);
}

/// A log without a single line break (a binary-ish or collapsed paste) is read in pieces of
/// the buffer size: no panic, no unbounded buffer, the signature near the end still found.
#[test]
fn one_huge_line_is_read_in_bounded_pieces() {
    let mut bytes = vec![b'x'; 3 * logs::BUFFER_CAP + 123];
    bytes.extend_from_slice(b" ERROR: Unable to restore device");
    let log = feed_in_chunks(&bytes, &[65_536]);
    assert_eq!(log.lines, 1);
    assert!(
        log.matched_lines >= 1,
        "the signature in the last piece was not seen"
    );
    bounded(&log);
    assert_eq!(log, analyze_bytes(&bytes));
}
