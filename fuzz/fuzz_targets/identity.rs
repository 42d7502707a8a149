//! Fuzz the identity reader every format shares: product types anywhere, IPSW and SHSH blob
//! names, boards in firmware file names, `ProductType:` banners.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    for line in text.split('\n') {
        logs::formats::identity::parse(line, &mut out);
        out.clear();
    }
});
