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
        let f = log.failure.as_ref();
        req.attempts.push(Attempt {
            stage: f.and_then(|f| f.stage),
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
