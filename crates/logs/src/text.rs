//! Small, panic-free helpers for picking numbers and words out of log text.
//!
//! The `has!`, `find_lit!` and `after_lit!` macros search for a literal with a memchr
//! `memmem::Finder` built once per call site (a plain `str::contains` rebuilds its searcher on
//! every call, which dominated the profile). A parser that looks for many literals anywhere in
//! a line first asks `may_have_any!` (one packed SIMD pass over the line for all of them) and
//! then searches with `has_if!`/`find_lit_if!`/`after_lit_if!`, which skip the search when the
//! guard said none occurs: most lines contain none, and the answers are the same either way.

use std::borrow::Cow;

/// A memmem finder for a literal, built once per call site.
macro_rules! finder {
    ($needle:literal) => {{
        static F: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($needle));
        &*F
    }};
}

/// `hay` contains the literal `needle`.
macro_rules! has {
    ($hay:expr, $needle:literal) => {
        finder!($needle).find(($hay).as_bytes()).is_some()
    };
}

/// Byte index of the literal `needle` in `hay`.
macro_rules! find_lit {
    ($hay:expr, $needle:literal) => {
        finder!($needle).find(($hay).as_bytes())
    };
}

/// Whether any of the literals may occur in `hay`, in one SIMD pass (aho-corasick's packed
/// Teddy searcher) instead of one memmem call per literal.
///
/// A parser tests a line for many literals anywhere in it (`has!`), and most lines contain
/// none of them. `false` means that none occurs, so every `has_if!` of one of them is false
/// without searching. Where the packed searcher is unavailable (a CPU without SSSE3 or NEON)
/// the answer is always `true` and each literal is searched for as before.
macro_rules! may_have_any {
    ($hay:expr, [$($needle:literal),+ $(,)?]) => {{
        static S: std::sync::LazyLock<Option<aho_corasick::packed::Searcher>> =
            std::sync::LazyLock::new(|| aho_corasick::packed::Searcher::new([$($needle),+]));
        match &*S {
            Some(searcher) => searcher.find(($hay).as_bytes()).is_some(),
            None => true,
        }
    }};
}

/// `$search!(hay, needle)` behind a guard from `may_have_any!` whose list holds `needle`:
/// when the guard is `false` the answer is `$absent` without a search. Debug builds check that
/// the guard was right (a literal missing from the guard's list fails the tests).
macro_rules! guarded {
    ($maybe:expr, $hay:expr, $needle:literal, $search:ident, $absent:expr) => {{
        let hay: &str = $hay;
        if $maybe {
            $search!(hay, $needle)
        } else {
            debug_assert!(
                !has!(hay, $needle),
                "guard list lacks {:?} (found in {:?})",
                $needle,
                hay
            );
            $absent
        }
    }};
}

/// `has!` behind a guard (see `guarded!`).
macro_rules! has_if {
    ($maybe:expr, $hay:expr, $needle:literal) => {
        guarded!($maybe, $hay, $needle, has, false)
    };
}

/// `find_lit!` behind a guard (see `guarded!`).
macro_rules! find_lit_if {
    ($maybe:expr, $hay:expr, $needle:literal) => {
        guarded!($maybe, $hay, $needle, find_lit, None)
    };
}

/// `after_lit!` behind a guard (see `guarded!`).
macro_rules! after_lit_if {
    ($maybe:expr, $hay:expr, $needle:literal) => {
        guarded!($maybe, $hay, $needle, after_lit, None)
    };
}

/// The rest of `hay` after the first literal `needle`.
macro_rules! after_lit {
    ($hay:expr, $needle:literal) => {{
        let hay: &str = $hay;
        finder!($needle)
            .find(hay.as_bytes())
            .map(|i| &hay[i + $needle.len()..])
    }};
}

/// Byte index of the first ASCII byte `b` in `s`: what `s.find(b as char)` returns, found
/// with the SIMD memchr (std's `str::find(char)` uses a slower generic search), and always a
/// character boundary.
pub(crate) fn find_byte(s: &str, b: u8) -> Option<usize> {
    debug_assert!(b.is_ascii());
    memchr::memchr(b, s.as_bytes())
}

/// Byte index of the last ` (` in `s` (what `s.rfind(" (")` finds, without building a
/// two-way searcher for each line: the last `(` with a space before it).
pub(crate) fn rfind_space_paren(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut end = b.len();
    while let Some(i) = memchr::memrchr(b'(', &b[..end]) {
        if i > 0 && b[i - 1] == b' ' {
            return Some(i - 1);
        }
        end = i;
    }
    None
}

/// `s.trim()`, answered at once for the usual line whose first and last bytes are ASCII and
/// not white space (then there is nothing to trim; `char::is_whitespace` decides, as in
/// `str::trim`).
pub(crate) fn trim(s: &str) -> &str {
    let solid = |b: &u8| b.is_ascii() && !(*b as char).is_whitespace();
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if solid(first) && solid(last) => s,
        _ => s.trim(),
    }
}

/// A leading integer: optional sign, then decimal digits. Values above `i64::MAX` that fit in
/// `u64` wrap (the restore protocol prints −1 as `18446744073709551615`).
pub(crate) fn leading_int(s: &str) -> Option<i64> {
    // The usual case, digits straight away: no white space or sign to skip, and fewer than
    // 20 digits fit in a u64 without a check. Longer runs take the general path.
    let b = s.as_bytes();
    if b.first().is_some_and(u8::is_ascii_digit) {
        let mut value: u64 = 0;
        for &c in b.iter().take(19) {
            if !c.is_ascii_digit() {
                return Some(value as i64);
            }
            value = value * 10 + u64::from(c - b'0');
        }
        if !b.get(19).is_some_and(u8::is_ascii_digit) {
            return Some(value as i64);
        }
    }
    leading_int_general(s)
}

/// [`leading_int`] without its fast path for leading digits.
fn leading_int_general(s: &str) -> Option<i64> {
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 || end > 20 {
        return None;
    }
    let value: u64 = digits[..end].parse().ok()?;
    let value = value as i64;
    Some(if neg { value.wrapping_neg() } else { value })
}

/// A leading unsigned decimal.
pub(crate) fn leading_u32(s: &str) -> Option<u32> {
    let s = s.trim_start();
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    if end == 0 || end > 10 {
        return None;
    }
    s[..end].parse().ok()
}

/// A leading hex number with an optional `0x`; at most 16 digits.
pub(crate) fn leading_hex(s: &str) -> Option<u64> {
    let s = s.trim_start();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(s.len());
    if end == 0 || end > 16 {
        return None;
    }
    u64::from_str_radix(&s[..end], 16).ok()
}

/// The first whitespace-separated word of `s`.
pub(crate) fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

/// `s` cut to at most `max` bytes on a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Owned copy of `s` cut to `max` bytes.
pub(crate) fn cut_owned(s: &str, max: usize) -> String {
    cut(s, max).to_string()
}

/// Size of the stack buffer [`ascii_lowercase`] uses for a line.
pub(crate) const LOWER_BUF: usize = 256;

/// `s` in ASCII lower case (as `str::to_ascii_lowercase`), written into `buf` when it fits,
/// so the usual short line costs no allocation.
pub(crate) fn ascii_lowercase<'b>(s: &str, buf: &'b mut [u8; LOWER_BUF]) -> Cow<'b, str> {
    if let Some(dst) = buf.get_mut(..s.len()) {
        dst.copy_from_slice(s.as_bytes());
        // A copy of a `str` is valid UTF-8; lower-casing ASCII letters keeps it so.
        if let Ok(lower) = std::str::from_utf8_mut(dst) {
            lower.make_ascii_lowercase();
            return Cow::Borrowed(lower);
        }
    }
    Cow::Owned(s.to_ascii_lowercase())
}

/// `HH:MM:SS` at the start of `b` (digits and colons only).
pub(crate) fn is_hms(b: &[u8]) -> bool {
    b.len() >= 8
        && b[0].is_ascii_digit()
        && b[1].is_ascii_digit()
        && b[2] == b':'
        && b[3].is_ascii_digit()
        && b[4].is_ascii_digit()
        && b[5] == b':'
        && b[6].is_ascii_digit()
        && b[7].is_ascii_digit()
}

/// `YYYY-MM-DD` at the start of `b`.
pub(crate) fn is_date(b: &[u8]) -> bool {
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5].is_ascii_digit()
        && b[6].is_ascii_digit()
        && b[7] == b'-'
        && b[8].is_ascii_digit()
        && b[9].is_ascii_digit()
}

/// Number of leading ASCII digits.
pub(crate) fn digits_len(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The fast path for leading digits reads what the general path reads.
        #[test]
        fn leading_digits_read_as_before(s in "[0-9]{0,24}[ -~]{0,4}|[ +-]?[0-9 ]{0,22}") {
            proptest::prop_assert_eq!(leading_int(&s), leading_int_general(&s));
        }
    }

    #[test]
    fn leading_digits_at_the_limits() {
        for s in [
            "9999999999999999999",
            "9999999999999999999 x",
            "99999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "1844674407370955161x",
            "000000000000000000000000001",
            "0",
        ] {
            assert_eq!(leading_int(s), leading_int_general(s), "{s}");
        }
    }

    #[test]
    fn unsigned_minus_one_reads_as_minus_one() {
        assert_eq!(leading_int("18446744073709551615"), Some(-1));
        assert_eq!(leading_int("-256). Aborting"), Some(-256));
        assert_eq!(leading_int("4013"), Some(4013));
        assert_eq!(leading_int("x"), None);
        assert_eq!(leading_int("-"), None);
    }

    #[test]
    fn hex_with_and_without_prefix() {
        assert_eq!(leading_hex("0x60E (x)"), Some(0x60E));
        assert_eq!(leading_hex("0xA8FBF3200001309"), Some(0xA8FBF3200001309));
        assert_eq!(leading_hex("8015,"), Some(0x8015));
        assert_eq!(leading_hex("0x"), None);
    }

    #[test]
    fn trim_like_str_trim() {
        for s in [
            "",
            " ",
            "a",
            " a ",
            "a\u{b}",
            "\u{b}a",
            "a\u{85}",
            "\u{3000}a",
            "é",
            "ab\r",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn lowercase_on_the_stack_or_owned() {
        let mut buf = [0u8; LOWER_BUF];
        let short = "Flash FAILED（4013）Ünï";
        assert_eq!(ascii_lowercase(short, &mut buf), short.to_ascii_lowercase());
        let long = "AbC".repeat(LOWER_BUF);
        assert_eq!(ascii_lowercase(&long, &mut buf), long.to_ascii_lowercase());
        assert!(matches!(ascii_lowercase(short, &mut buf), Cow::Borrowed(_)));
    }

    #[test]
    fn rfind_space_paren_finds_what_rfind_finds() {
        for s in [
            "",
            "(",
            " (",
            "a (b) (c)",
            "a(b)",
            "x ( y",
            "((",
            " ( (",
            "iBEC (123 bytes)...",
            "Unknown ((1)",
            "（4013） (2)",
        ] {
            assert_eq!(rfind_space_paren(s), s.rfind(" ("), "{s:?}");
        }
    }

    #[test]
    fn guards_answer_like_the_searches_they_skip() {
        for line in [
            "x-fdr-message: 403",
            "nothing here",
            "",
            "a proxy is enabled",
        ] {
            let maybe = may_have_any!(line, ["x-fdr-message", "proxy is enabled"]);
            assert_eq!(
                has_if!(maybe, line, "x-fdr-message"),
                line.contains("x-fdr-message")
            );
            assert_eq!(
                after_lit_if!(maybe, line, "proxy is enabled"),
                line.split_once("proxy is enabled").map(|(_, r)| r)
            );
            assert_eq!(
                find_lit_if!(maybe, line, "x-fdr-message"),
                line.find("x-fdr-message"),
                "{line}"
            );
        }
    }

    #[test]
    fn cut_respects_char_boundaries() {
        assert_eq!(cut("éé", 3), "é");
        assert_eq!(cut("abc", 10), "abc");
    }
}
