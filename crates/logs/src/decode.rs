//! Byte-level decoding: UTF-8 (with or without BOM) passes through; UTF-16LE/BE (with a BOM,
//! or recognised by the NUL bytes of ASCII text) is converted to UTF-8 chunk by chunk.

/// The text encoding of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

/// How many bytes to look at before deciding on an encoding without a BOM.
const SNIFF: usize = 512;

/// Streaming decoder to UTF-8 bytes.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    encoding: Option<Encoding>,
    /// Bytes held back: the sniff window before the decision, or an odd byte / half a
    /// surrogate pair between UTF-16 chunks.
    held: Vec<u8>,
    out: Vec<u8>,
}

impl Decoder {
    pub(crate) fn encoding(&self) -> Option<Encoding> {
        self.encoding
    }

    /// Decode `chunk`, handing UTF-8 bytes to `sink` (possibly several times).
    pub(crate) fn feed(&mut self, chunk: &[u8], sink: &mut dyn FnMut(&[u8])) {
        if self.encoding.is_none() {
            self.held.extend_from_slice(chunk);
            if self.held.len() < SNIFF {
                return;
            }
            let held = std::mem::take(&mut self.held);
            self.decide(&held, sink);
            return;
        }
        self.convert(chunk, sink);
    }

    /// Flush what is held back (end of input).
    pub(crate) fn finish(&mut self, sink: &mut dyn FnMut(&[u8])) {
        if self.encoding.is_none() {
            let held = std::mem::take(&mut self.held);
            self.decide(&held, sink);
        }
        if !self.held.is_empty() && self.encoding != Some(Encoding::Utf8) {
            // A dangling odd byte or lone surrogate half: one replacement character.
            self.held.clear();
            sink("\u{FFFD}".as_bytes());
        }
    }

    fn decide(&mut self, start: &[u8], sink: &mut dyn FnMut(&[u8])) {
        let (enc, skip) = sniff(start);
        self.encoding = Some(enc);
        self.convert(&start[skip..], sink);
    }

    fn convert(&mut self, chunk: &[u8], sink: &mut dyn FnMut(&[u8])) {
        let enc = self.encoding.unwrap_or(Encoding::Utf8);
        if enc == Encoding::Utf8 {
            if !chunk.is_empty() {
                sink(chunk);
            }
            return;
        }
        let mut data: &[u8] = chunk;
        let joined;
        if !self.held.is_empty() {
            let mut v = std::mem::take(&mut self.held);
            v.extend_from_slice(chunk);
            joined = v;
            data = &joined;
        }
        let usable = data.len() & !1;
        let mut units: Vec<u16> = data[..usable]
            .chunks_exact(2)
            .map(|p| match enc {
                Encoding::Utf16Le => u16::from_le_bytes([p[0], p[1]]),
                _ => u16::from_be_bytes([p[0], p[1]]),
            })
            .collect();
        let mut keep_from = usable;
        // Keep a trailing high surrogate for the next chunk.
        if let Some(&last) = units.last()
            && (0xD800..0xDC00).contains(&last)
        {
            units.pop();
            keep_from = usable - 2;
        }
        self.held.extend_from_slice(&data[keep_from..]);
        self.out.clear();
        for c in char::decode_utf16(units.iter().copied()) {
            let c = c.unwrap_or('\u{FFFD}');
            let mut b = [0u8; 4];
            self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        }
        if !self.out.is_empty() {
            sink(&self.out);
        }
    }
}

/// Pick the encoding from the first bytes; returns it and the BOM length to skip.
pub fn sniff(start: &[u8]) -> (Encoding, usize) {
    if start.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return (Encoding::Utf8, 3);
    }
    if start.starts_with(&[0xFF, 0xFE]) {
        return (Encoding::Utf16Le, 2);
    }
    if start.starts_with(&[0xFE, 0xFF]) {
        return (Encoding::Utf16Be, 2);
    }
    // Only the first SNIFF bytes decide, whatever the read size (chunking must not matter).
    let start = &start[..start.len().min(SNIFF)];
    let pairs = start.len() / 2;
    if pairs >= 4 {
        let odd_nuls = start.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
        let even_nuls = start.iter().step_by(2).filter(|&&b| b == 0).count();
        if odd_nuls * 10 >= pairs * 7 && even_nuls * 10 < pairs {
            return (Encoding::Utf16Le, 0);
        }
        if even_nuls * 10 >= pairs * 7 && odd_nuls * 10 < pairs {
            return (Encoding::Utf16Be, 0);
        }
    }
    (Encoding::Utf8, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], chunk: usize) -> String {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for c in input.chunks(chunk.max(1)) {
            d.feed(c, &mut |b| out.extend_from_slice(b));
        }
        d.finish(&mut |b| out.extend_from_slice(b));
        String::from_utf8(out).unwrap()
    }

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn utf16_with_and_without_bom_any_chunking() {
        let text = "Restore completed, status: 4013\r\nemoji 😀 ok\r\n";
        for chunk in [1, 3, 7, 1000] {
            assert_eq!(decode_all(&utf16le(text, true), chunk), text);
            assert_eq!(decode_all(&utf16le(text, false), chunk), text);
        }
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode_all(&be, 5), text);
    }

    #[test]
    fn utf8_bom_is_dropped() {
        assert_eq!(decode_all(b"\xEF\xBB\xBFDONE\n", 2), "DONE\n");
    }
}
