//! What `-v` tells about a command: what was read, which format was detected, what evidence
//! came out of it and what the engine made of it, with timings. Only `tracing` calls: nothing
//! is printed at the default verbosity.

use std::time::Duration;

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A restore log that was read.
pub fn restore_log(file: &str, log: &logs::RestoreLog, took: Duration) {
    tracing::info!(
        "read {file}: {} lines, {} bytes in {:.1} ms",
        log.lines,
        log.bytes,
        ms(took)
    );
    let seen: Vec<&str> = log.formats_seen.iter().map(|t| t.as_str()).collect();
    let stage = log
        .failure
        .as_ref()
        .and_then(|f| f.stage)
        .map(|s| format!(" at stage {}", s.as_str()))
        .unwrap_or_default();
    tracing::info!(
        "{file}: format {} (lines of: {}), outcome {}{stage}",
        log.tool.as_str(),
        if seen.is_empty() {
            "none recognised".to_string()
        } else {
            seen.join(", ")
        },
        log.outcome.as_str()
    );
    let facts: Vec<String> = log
        .facts()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    tracing::info!(
        "{file}: evidence derived: {}",
        if facts.is_empty() {
            "none".to_string()
        } else {
            facts.join(", ")
        }
    );
    tracing::debug!(
        "{file}: {} timeline events kept, {} dropped, {} earlier runs",
        log.timeline.len(),
        log.events_dropped,
        log.earlier_attempts.len()
    );
}

/// What the engine was asked and what it answered.
pub fn diagnosis(
    req: &engine::api::DiagnoseRequest,
    resp: &engine::api::DiagnoseResponse,
    took: Duration,
) {
    tracing::info!(
        "evidence: device {}, error {}, host {}, tried [{}], observed [{}], {} attempts, {} log facts{}",
        req.device.as_deref().unwrap_or("-"),
        req.error.map_or("-".to_string(), |e| e.to_string()),
        req.host.as_deref().unwrap_or("-"),
        req.tried.join(", "),
        req.observed.join(", "),
        req.attempts.len(),
        req.log_facts.len(),
        if req.text.is_some() {
            ", free text"
        } else {
            ""
        }
    );
    if let Some(u) = &resp.understood {
        let observed: Vec<String> = u.observed.iter().map(|(k, v)| format!("{k}={v}")).collect();
        tracing::info!(
            "free text understood: device {}, error {}, tried [{}], observed [{}]",
            u.device.as_deref().unwrap_or("-"),
            u.error_code.map_or("-".to_string(), |e| e.to_string()),
            u.tried.join(", "),
            observed.join(", ")
        );
    }
    let moved = resp
        .explanation
        .iter()
        .filter(|e| !e.moves.is_empty())
        .count();
    tracing::info!(
        "posterior over {} causes in {:.1} ms ({} findings moved it); top: {}",
        resp.causes.len(),
        ms(took),
        moved,
        resp.causes
            .iter()
            .take(3)
            .map(|c| format!("{} {:.0}%", c.id, c.probability * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
    match (&resp.next_step, &resp.verdict) {
        (_, Some(v)) => tracing::info!(
            "verdict: {} ({:.0}%): {}",
            v.cause,
            v.confidence * 100.0,
            v.reason
        ),
        (Some(n), None) => tracing::info!("next step: {} ({}): {}", n.action, n.kind, n.why),
        (None, None) => tracing::info!("no next step and no verdict"),
    }
}
