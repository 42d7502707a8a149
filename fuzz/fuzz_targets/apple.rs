//! Fuzz the apple line parser: any text, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    for line in text.split(['\n', '\r']) {
        let _ = logs::formats::apple::parse(line, &mut out);
        logs::formats::identity::parse(line, &mut out);
        out.clear();
    }
});
