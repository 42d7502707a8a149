//! Fuzz the corpus scoring's pure half: finding a labelled failure line in a log and judging
//! the reading's failure line against it (within two lines, or the same step). The first line
//! of the input is the label, the rest the log.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (label, log_text) = text.split_once('\n').unwrap_or((&text, ""));
    let log = logs::analyze_bytes(log_text.as_bytes());
    if let Some(want) = logs::corpus::line_of(log_text, label.trim()) {
        let got = log.failure.as_ref().and_then(|f| f.line).unwrap_or(1);
        let _ = logs::corpus::point_match(&log, want, got);
        let _ = logs::corpus::point_match(&log, got, want);
    }
});
