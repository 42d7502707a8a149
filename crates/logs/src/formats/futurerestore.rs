//! futurerestore's own lines (log_formats.md §2.1); the restore itself runs in its forked
//! idevicerestore, read by [`super::idevicerestore`].

use crate::model::Tool;
use crate::signal::{FailKind, Signal};
use crate::text::{leading_int, trim};
use kb::Stage;

/// Read one futurerestore line. Returns whether the line was futurerestore's own.
pub fn parse(body: &str, out: &mut Vec<Signal>) -> bool {
    let line = trim(body);
    if line == "[exception]:"
        || line == "futurerestore init done"
        || line == "futurerestore: failed with exception:"
    {
        out.push(Signal::Format(Tool::Futurerestore));
        return true;
    }
    if let Some(what) = line.strip_prefix("what=") {
        out.push(Signal::Format(Tool::Futurerestore));
        if has!(what, "no device found") {
            out.push(Signal::Fail(FailKind::Specific(Stage::Detection)));
            return true;
        }
        // The message is often the forked idevicerestore's own error line (`ERROR: Unable to
        // send iBEC component: …`, `Device did not disconnect. Possibly invalid iBEC…`): read
        // it as that line; anything else is the tool giving up.
        let before = out.len();
        super::idevicerestore::parse(what, out);
        let failed = out[before..].iter().any(|s| matches!(s, Signal::Fail(_)));
        if !failed {
            out.push(Signal::Fail(FailKind::Final));
        }
        return true;
    }
    // The exception block's `code=` is (line << 16) | strlen(file): never an error code.
    if line.starts_with("code=")
        || line.starts_with("line=")
        || line.starts_with("file=")
        || line.starts_with("commit count=")
        || line.starts_with("commit sha")
    {
        return true;
    }
    if let Some(r) = line.strip_prefix("Done: restoring ") {
        out.push(Signal::Format(Tool::Futurerestore));
        if r.starts_with("succeeded") {
            out.push(Signal::Success);
        } else if r.starts_with("failed") {
            out.push(Signal::Fail(FailKind::Final));
        }
        return true;
    }
    if let Some(r) = line
        .strip_prefix("Failed with errorcode=")
        .or_else(|| line.strip_prefix("Failed with error code="))
    {
        out.push(Signal::Format(Tool::Futurerestore));
        if let Some(code) = leading_int(r) {
            out.push(Signal::ToolCode(code));
        }
        out.push(Signal::Fail(FailKind::Final));
        return true;
    }
    if let Some(r) = line.strip_prefix("[Error] failed to download file") {
        // A file the tool fetches before the restore (the signed-firmware list, a manifest):
        // `CURLcode=28` is a time-out. The network, before the device was touched.
        out.push(Signal::Format(Tool::Futurerestore));
        if has!(r, "CURLcode=") {
            out.push(Signal::DownloadFailed);
            out.push(Signal::Fail(FailKind::Specific(Stage::Tss)));
        } else {
            out.push(Signal::Warn);
        }
        return true;
    }
    if let Some(r) = line.strip_prefix("[Error] Fail code=") {
        out.push(Signal::Format(Tool::Futurerestore));
        if let Some(code) = leading_int(r) {
            out.push(Signal::ToolCode(code));
        }
        out.push(Signal::Fail(FailKind::Final));
        return true;
    }
    // Most lines contain none of the literals looked for anywhere below: one pass over the line
    // rules them all out (see `may_have_any!`).
    let maybe = may_have_any!(
        line,
        [
            "APTicket can't be used",
            "ApNonce does not match APTicket nonce",
            "Devicenonce does not match APTicket nonce",
            "is NOT being signed",
            "can't init, no device found",
        ]
    );
    if has_if!(maybe, line, "APTicket can't be used")
        || has_if!(maybe, line, "ApNonce does not match APTicket nonce")
        || has_if!(maybe, line, "Devicenonce does not match APTicket nonce")
    {
        out.push(Signal::Format(Tool::Futurerestore));
        out.push(Signal::BlobMismatch);
        out.push(Signal::Fail(FailKind::Specific(Stage::Tss)));
        return true;
    }
    if has_if!(maybe, line, "is NOT being signed") {
        out.push(Signal::TssRefused);
        out.push(Signal::Fail(FailKind::Specific(Stage::Tss)));
        return true;
    }
    if line.starts_with("checking APTicket to be valid")
        || line.starts_with("Verified APTicket to be valid")
        || line.starts_with("Verified ECID in APTicket")
    {
        // futurerestore's own check of the saved blob.
        out.push(Signal::Format(Tool::Futurerestore));
        return true;
    }
    if line.starts_with("Booting iBSS") || line.starts_with("Booting iBEC") {
        out.push(Signal::Format(Tool::Futurerestore));
        out.push(Signal::Step(Stage::BootChain));
        return true;
    }
    if has_if!(maybe, line, "can't init, no device found") {
        out.push(Signal::Fail(FailKind::Specific(Stage::Detection)));
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_code_is_not_an_error_code() {
        let mut v = Vec::new();
        assert!(parse("code=91291694", &mut v));
        assert!(v.is_empty());
        assert!(parse("Failed with errorcode=-11", &mut v));
        assert!(v.contains(&Signal::ToolCode(-11)));
        v.clear();
        assert!(parse("Done: restoring failed!", &mut v));
        assert!(v.contains(&Signal::Fail(FailKind::Final)));
    }
}
