//! Fuzz normalisation and prefix stripping (dated, bracketed, wrapper, ndjson, syslog), then
//! the dispatch to every parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    for line in text.split('\n') {
        let norm = logs::prefix::normalise(line);
        let p = logs::prefix::strip_prefixes(&norm);
        let _ = logs::formats::read(&p, &mut out);
        let _ = logs::prefix::json_string_field(line, "eventMessage");
        out.clear();
    }
});
