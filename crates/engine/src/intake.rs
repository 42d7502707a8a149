//! Restore logs into a diagnosis request: the facts a log proves (`RestoreLog::facts`) and one
//! failed attempt per failed run of each log, with its stage and update/erase kind. The CLI's
//! `diagnose --log`, the web form and the corpus of real cases (a case's pasted lines) all use
//! this one conversion, so a log means the same evidence wherever it comes from.

use crate::api::DiagnoseRequest;
use crate::evidence::{Attempt, AttemptResult, Target};
use logs::{Outcome, RestoreKind, RestoreLog};

/// What the engine calls an update or an erase restore the log showed.
pub fn target_of(kind: RestoreKind) -> Target {
    match kind {
        RestoreKind::Update => Target::Update,
        RestoreKind::Restore => Target::Restore,
    }
}

/// The stage a log's failed run is recorded at for the engine: the `failure_stage` the log's
/// facts give; a stage before the restore proper (the engine knows it only as
/// `failed_before_restore`, but several runs stopped there still count as the same point); else
/// none. A stage the log's facts hold back (a `reboot` before the restore began, the FDR channel,
/// a ticket already sent) must not reach the engine through the attempt instead.
pub fn engine_stage(log: &RestoreLog) -> Option<kb::Stage> {
    let stage = log.failure.as_ref().and_then(|f| f.stage)?;
    let told = log
        .facts()
        .iter()
        .any(|(k, v)| k == "failure_stage" && v == stage.as_str());
    (told || stage.before_restore()).then_some(stage)
}

/// What reading the logs told about them that is not evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogNote {
    /// The log (by its position in the list given) shows a restore that finished
    /// successfully: it says nothing about a failure.
    Succeeded(usize),
}

/// Add what `logs` prove to `req`: their facts (an `error_code` fact fills in the code when the
/// request has none), one failed attempt per failed run (earlier runs of one paste as plain
/// failures, since their codes may be the device's own numbers; the last run with the code the
/// host app showed), and the device the logs name when the request names none.
pub fn add_logs(req: &mut DiagnoseRequest, logs: &[RestoreLog]) -> Vec<LogNote> {
    let mut notes = Vec::new();
    if logs.is_empty() {
        return notes;
    }
    for (k, v) in logs::facts_for_logs(logs) {
        if !req.log_facts.iter().any(|(k2, v2)| *k2 == k && *v2 == v) {
            req.log_facts.push((k, v));
        }
    }
    for (i, log) in logs.iter().enumerate() {
        if log.outcome == Outcome::Success {
            notes.push(LogNote::Succeeded(i));
        }
        if log.outcome != Outcome::Failure {
            continue;
        }
        for run in &log.earlier_attempts {
            if run.outcome == Outcome::Failure {
                req.attempts.push(Attempt {
                    stage: run.stage,
                    kind: run.kind.map(target_of),
                    ..Attempt::failed()
                });
            }
        }
        req.attempts.push(Attempt {
            stage: engine_stage(log),
            kind: log.restore_kind.map(target_of),
            result: match log.error_code_for_engine() {
                Some(c) => AttemptResult::Error(c),
                None => AttemptResult::Failed,
            },
            ..Attempt::failed()
        });
    }
    if req.device.is_none() {
        req.device = logs.iter().find_map(|l| l.device.product_type.clone());
    }
    notes
}

/// The `--host` value for the program that wrote a log, when the log says.
pub fn host_of(log: &RestoreLog) -> Option<&'static str> {
    use logs::Tool;
    Some(match log.tool {
        Tool::Idevicerestore => "idevicerestore",
        Tool::Futurerestore => "futurerestore",
        Tool::Itunes => "itunes",
        Tool::Finder => "macos_finder",
        Tool::AppleConfigurator => "apple_configurator",
        Tool::Imazing => "imazing",
        Tool::ThreeUTools => "3utools",
        Tool::Restored | Tool::Unknown => return None,
    })
}

/// Restore-log lines quoted in a person's own words ("fails with 'ERROR: Unable to send
/// iBEC'", a pasted line among sentences), each on a line of its own, for the log reader; None
/// when the text quotes none.
pub fn quoted_log_lines(text: &str) -> Option<String> {
    let looks_like_log = |s: &str| {
        let l = s.to_ascii_lowercase();
        [
            "error:",
            "error ",
            "unable to",
            "failed",
            "failure",
            "status",
            "checkpoint",
            "could not",
            "couldn't",
            "timeout",
            "timed out",
            "errorcode",
            "error code",
            "exception",
            "no space left",
            "not match",
            "can't",
            "cannot",
        ]
        .iter()
        .any(|w| l.contains(w))
    };
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        // A line of its own that reads like a log line.
        if trimmed.starts_with("ERROR")
            || trimmed.starts_with("[Error]")
            || trimmed.contains("CHECKPOINT")
            || trimmed.starts_with("Status:")
        {
            out.push_str(trimmed);
            out.push('\n');
            continue;
        }
        // Quoted fragments inside a sentence: a quote opens after a space or bracket (not
        // inside a word, as in "Apple's") and closes before a space or punctuation.
        for (open, close) in [('\'', '\''), ('"', '"'), ('`', '`'), ('“', '”'), ('‘', '’')]
        {
            let mut from = 0;
            while let Some(i) = line[from..].find(open).map(|i| from + i) {
                from = i + open.len_utf8();
                let opens = line[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|c| c.is_whitespace() || "([{:;,".contains(c));
                if !opens {
                    continue;
                }
                let body = &line[from..];
                let end = body.char_indices().find(|&(j, c)| {
                    c == close
                        && body[j + c.len_utf8()..]
                            .chars()
                            .next()
                            .is_none_or(|n| !n.is_alphanumeric())
                });
                let Some((j, _)) = end else { break };
                let fragment = body[..j].trim();
                if fragment.len() >= 8 && fragment.contains(' ') && looks_like_log(fragment) {
                    out.push_str(fragment);
                    out.push('\n');
                }
                from += j + close.len_utf8();
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_lines_come_out_one_a_line() {
        let t = "It stops with 'ERROR: Unable to send iBEC' and then 'Failed with errorcode=-8'; \
                 I didn't change anything.";
        let lines = quoted_log_lines(t).unwrap();
        assert_eq!(
            lines,
            "ERROR: Unable to send iBEC\nFailed with errorcode=-8\n"
        );
        assert_eq!(quoted_log_lines("I didn't try DFU and it's not wet"), None);
        assert!(quoted_log_lines("ERROR: Unable to connect to device in restore mode").is_some());
    }

    #[test]
    fn a_quoted_ibec_failure_reads_as_a_log_failure() {
        let lines =
            quoted_log_lines("the tool said 'ERROR: Unable to send iBEC (-8)' again").unwrap();
        let log = logs::analyze_bytes(lines.as_bytes());
        assert_ne!(log.outcome, logs::Outcome::Success);
    }
}
