//! Fuzz the whole streaming analyser with raw bytes (any encoding), fed whole and in odd
//! chunks: never a panic, and chunking never changes the result.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = logs::analyze_bytes(data);
    let mut a = logs::Analyzer::new();
    for chunk in data.chunks(7) {
        a.feed(chunk);
    }
    let chunked = a.finish();
    assert_eq!(whole, chunked);
    assert!(whole.timeline.len() <= 2 * logs::TIMELINE_EDGE + 12);
});
