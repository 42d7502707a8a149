//! The GUI wrappers' own lines (3uTools, iMazing; log_formats.md §4.3): step names, ASR
//! percentages, the final "flash is done", and localized error codes like `（4013）`.

use crate::model::Tool;
use crate::signal::{FailKind, Signal};
use crate::text::{LOWER_BUF, ascii_lowercase, leading_int, trim};

/// Read one of a wrapper's own lines. Returns whether it said something.
pub fn parse(body: &str, out: &mut Vec<Signal>) -> bool {
    let line = trim(body);
    let mut buf = [0u8; LOWER_BUF];
    let lower = ascii_lowercase(line, &mut buf);
    let lower: &str = &lower;
    // Most lines contain none of the words looked for anywhere below: one pass over the line
    // rules them all out (see `may_have_any!`). Lower-casing leaves non-ASCII bytes alone, so
    // the Chinese words occur in `lower` exactly when they occur in `line`.
    let maybe = may_have_any!(
        lower,
        [
            "imazing",
            "3utools",
            "itunesflash",
            "flash succeeded",
            "restore succeeded",
            "fail",
            "error",
            "flash failed",
            "失",
            "错",
            "刷机失败",
        ]
    );
    if has_if!(maybe, lower, "imazing") {
        out.push(Signal::Format(Tool::Imazing));
    }
    if has_if!(maybe, lower, "3utools") || has_if!(maybe, lower, "itunesflash") {
        out.push(Signal::Format(Tool::ThreeUTools));
    }
    if lower.starts_with("the flash is done")
        || has_if!(maybe, lower, "flash succeeded")
        || has_if!(maybe, lower, "restore succeeded")
    {
        out.push(Signal::Format(Tool::ThreeUTools));
        out.push(Signal::Success);
        return true;
    }
    if lower.starts_with("starting flashing")
        || lower.starts_with("firmware is unpacking")
        || lower.starts_with("switching to recovery mode")
        || lower.starts_with("switch mode succeeds")
        || lower.starts_with("sending file system via asr")
        || lower.starts_with("spent:")
    {
        out.push(Signal::Format(Tool::ThreeUTools));
        out.push(Signal::Note);
        return true;
    }
    // The cheap word test first: most lines that get here have no failure word.
    if (has_if!(maybe, lower, "fail")
        || has_if!(maybe, lower, "error")
        || has_if!(maybe, line, "失")
        || has_if!(maybe, line, "错"))
        && let Some(code) = paren_code(line)
    {
        out.push(Signal::ErrorCode(code));
        out.push(Signal::Fail(FailKind::Final));
        return true;
    }
    if has_if!(maybe, lower, "flash failed") || has_if!(maybe, line, "刷机失败") {
        out.push(Signal::Fail(FailKind::Final));
        return true;
    }
    false
}

/// A code in ASCII or full-width parentheses: `(4013)`, `（4013）`.
pub fn paren_code(line: &str) -> Option<i64> {
    for (open, close) in [("(", ")"), ("（", "）")] {
        let mut rest = line;
        while let Some(i) = memchr::memmem::find(rest.as_bytes(), open.as_bytes()) {
            let inner = &rest[i + open.len()..];
            if let Some(j) = memchr::memmem::find(inner.as_bytes(), close.as_bytes()) {
                let num = inner[..j].trim();
                if !num.is_empty()
                    && num.len() <= 6
                    && num
                        .trim_start_matches('-')
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                {
                    return leading_int(num);
                }
            }
            rest = inner;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_codes() {
        assert_eq!(paren_code("刷机失败（4013）"), Some(4013));
        assert_eq!(paren_code("Flash failed (4013)"), Some(4013));
        assert_eq!(paren_code("no code here"), None);
        let mut v = Vec::new();
        assert!(parse("The flash is done", &mut v));
        assert!(v.contains(&Signal::Success));
    }
}
