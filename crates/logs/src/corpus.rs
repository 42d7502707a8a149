//! Scoring the reader against a labelled corpus of logs (`restore-doctor bench logs`).
//!
//! A corpus is a directory with a `labels.jsonl`: one JSON object a line, with at least `file`
//! (relative to the directory) and `outcome` (`success`/`failure`), and for failures the
//! `failure_line` a technician would point at (the first line, verbatim, where the failure
//! shows). `excerpt_only` marks a paste that is only part of the log; `failure_stage` (free
//! words) and the other fields are carried along for the report. [`score_corpus`] reads every log
//! and reports:
//!
//! - **outcome agreement**: the reading's outcome is the label's; a success pasted as an excerpt
//!   may honestly read as incomplete. A failure read as a success or the reverse is counted on
//!   its own (`crossed`): it must never happen.
//! - **failure point**: for each labelled failure, whether the reading's failure line (its first
//!   sign, [`crate::FailurePoint::line`]) is the labelled line: within two lines of it, or in the
//!   same step (no operation, checkpoint, mode or step line begins between the two).
//! - **stage coverage**: for every stage of the vocabulary, how many readings fail there and how
//!   many reach it in their timeline.
//! - **speed**: bytes and seconds of the analysis alone.

use crate::model::{Outcome, RestoreLog};
use kb::Stage;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The labels file a corpus directory holds.
pub const LABELS_FILE: &str = "labels.jsonl";

/// Lines the reading's failure line may be away from the labelled one and still be it.
pub const POINT_TOLERANCE: u64 = 2;

/// Why a corpus could not be scored.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("{dir}: no such directory")]
    NoDirectory { dir: String },
    #[error("{path}: no labels file (a corpus directory holds a labels.jsonl)")]
    NoLabels { path: String },
    #[error("{path}: cannot be read: {source}")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} line {line}: {message}")]
    BadLabel {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: no labelled logs")]
    Empty { path: String },
}

/// One line of `labels.jsonl` (fields we do not use are ignored).
#[derive(Debug, Clone, Deserialize)]
struct Label {
    file: String,
    outcome: String,
    #[serde(default)]
    failure_line: Option<String>,
    #[serde(default)]
    failure_stage: Option<String>,
    #[serde(default)]
    excerpt_only: Option<bool>,
}

/// How the reading's failure line relates to the labelled one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PointMatch {
    /// At most [`POINT_TOLERANCE`] lines away.
    WithinTwoLines,
    /// Further away, but no step begins between them.
    SameStep,
    /// Another place (or the reading has no failure line).
    Elsewhere,
    /// The labelled line is not in the file.
    LabelNotFound,
}

impl PointMatch {
    pub fn is_right(self) -> bool {
        matches!(self, PointMatch::WithinTwoLines | PointMatch::SameStep)
    }
}

/// What the reader made of one labelled log.
#[derive(Debug, Clone, Serialize)]
pub struct CorpusEntry {
    pub file: String,
    pub labelled_outcome: String,
    pub outcome: Outcome,
    pub outcome_right: bool,
    /// A failure read as a success or the reverse.
    pub crossed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labelled_line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_line: Option<u64>,
    /// For labelled failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<PointMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    /// The label's own words for the stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labelled_stage: Option<String>,
    pub bytes: u64,
    pub seconds: f64,
    /// Set when the file could not be read (the entry then counts as wrong).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A share of a total.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub right: usize,
    pub total: usize,
    pub rate: f64,
}

impl Rate {
    fn new(right: usize, total: usize) -> Rate {
        Rate {
            right,
            total,
            rate: if total == 0 {
                0.0
            } else {
                right as f64 / total as f64
            },
        }
    }
}

/// How often one stage occurs in the readings.
#[derive(Debug, Clone, Serialize)]
pub struct StageCount {
    pub stage: Stage,
    /// Readings that fail at this stage.
    pub failures: usize,
    /// Readings whose timeline reaches this stage (a step of it, or a failure there).
    pub reached: usize,
}

/// The speed of the analysis alone (file reading included, label work excluded).
#[derive(Debug, Clone, Serialize)]
pub struct Speed {
    pub bytes: u64,
    pub seconds: f64,
    pub mb_per_s: f64,
}

/// The whole report (`bench logs --json`).
#[derive(Debug, Clone, Serialize)]
pub struct CorpusReport {
    pub corpus: String,
    pub logs: usize,
    pub failure_logs: usize,
    pub outcome: Rate,
    /// Failures read as successes and the reverse (must be 0).
    pub crossed: usize,
    pub failure_point: Rate,
    pub within_two_lines: usize,
    pub same_step: usize,
    pub label_not_found: usize,
    pub stages: Vec<StageCount>,
    /// Stages of the vocabulary that occur nowhere.
    pub stages_missing: Vec<Stage>,
    pub speed: Speed,
    /// Files the labels name that could not be read.
    pub unreadable: usize,
    pub entries: Vec<CorpusEntry>,
}

/// Read every log `dir/labels.jsonl` names, with `readers` reader threads per log, and score the
/// readings against the labels.
pub fn score_corpus(dir: &Path, readers: usize) -> Result<CorpusReport, CorpusError> {
    if !dir.is_dir() {
        return Err(CorpusError::NoDirectory {
            dir: dir.display().to_string(),
        });
    }
    let labels_path = dir.join(LABELS_FILE);
    let shown = labels_path.display().to_string();
    let text = match std::fs::read_to_string(&labels_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CorpusError::NoLabels { path: shown });
        }
        Err(e) => {
            return Err(CorpusError::Unreadable {
                path: shown,
                source: e,
            });
        }
    };
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let label: Label = serde_json::from_str(line).map_err(|e| CorpusError::BadLabel {
            path: shown.clone(),
            line: i + 1,
            message: e.to_string(),
        })?;
        if !matches!(label.outcome.as_str(), "success" | "failure") {
            return Err(CorpusError::BadLabel {
                path: shown.clone(),
                line: i + 1,
                message: format!(
                    "outcome {:?}: expected \"success\" or \"failure\"",
                    label.outcome
                ),
            });
        }
        if label.file.contains("..") || Path::new(&label.file).is_absolute() {
            return Err(CorpusError::BadLabel {
                path: shown.clone(),
                line: i + 1,
                message: format!("file {:?}: must be a name inside the corpus", label.file),
            });
        }
        labels.push(label);
    }
    if labels.is_empty() {
        return Err(CorpusError::Empty { path: shown });
    }
    let entries: Vec<(CorpusEntry, Option<RestoreLog>)> = labels
        .iter()
        .map(|l| score_one(&dir.join(&l.file), l, readers))
        .collect();
    Ok(summarise(dir, entries))
}

fn score_one(path: &PathBuf, label: &Label, readers: usize) -> (CorpusEntry, Option<RestoreLog>) {
    let mut entry = CorpusEntry {
        file: label.file.clone(),
        labelled_outcome: label.outcome.clone(),
        outcome: Outcome::Incomplete,
        outcome_right: false,
        crossed: false,
        labelled_line: None,
        failure_line: None,
        point: (label.outcome == "failure").then_some(PointMatch::Elsewhere),
        stage: None,
        labelled_stage: label.failure_stage.clone(),
        bytes: 0,
        seconds: 0.0,
        error: None,
    };
    let start = Instant::now();
    let log = match crate::analyze_path_with(path, readers, &mut |_| {}) {
        Ok(log) => log,
        Err(e) => {
            entry.error = Some(e.to_string());
            return (entry, None);
        }
    };
    entry.seconds = start.elapsed().as_secs_f64();
    entry.bytes = log.bytes;
    entry.outcome = log.outcome;
    let excerpt = label.excerpt_only.unwrap_or(false);
    entry.outcome_right = match (label.outcome.as_str(), log.outcome) {
        ("success", Outcome::Success) | ("failure", Outcome::Failure) => true,
        // A success pasted only in part may end before its verdict.
        ("success", Outcome::Incomplete) => excerpt,
        _ => false,
    };
    entry.crossed = matches!(
        (label.outcome.as_str(), log.outcome),
        ("success", Outcome::Failure) | ("failure", Outcome::Success)
    );
    entry.failure_line = log.failure.as_ref().and_then(|f| f.line);
    entry.stage = log.failure.as_ref().and_then(|f| f.stage);
    if label.outcome == "failure" {
        let wanted = label.failure_line.as_deref().unwrap_or("").trim();
        entry.labelled_line = if wanted.is_empty() {
            None
        } else {
            std::fs::read(path)
                .ok()
                .and_then(|bytes| line_of(&decode_all(&bytes), wanted))
        };
        entry.point = Some(match (entry.labelled_line, entry.failure_line) {
            (None, _) => PointMatch::LabelNotFound,
            (Some(_), None) => PointMatch::Elsewhere,
            (Some(want), Some(got)) => point_match(&log, want, got),
        });
    }
    (entry, Some(log))
}

/// Where the reading's failure line `got` stands to the labelled line `want`.
pub fn point_match(log: &RestoreLog, want: u64, got: u64) -> PointMatch {
    if want.abs_diff(got) <= POINT_TOLERANCE {
        return PointMatch::WithinTwoLines;
    }
    let (a, b) = (want.min(got), want.max(got));
    // Without the whole timeline a step between them could have been dropped.
    let whole = log.events_dropped == 0;
    let step_between = log
        .timeline
        .iter()
        .any(|e| e.line > a && e.line <= b && e.starts_step());
    if whole && !step_between {
        PointMatch::SameStep
    } else {
        PointMatch::Elsewhere
    }
}

/// The 1-based number of the first line of `text` that is `wanted` (trimmed), else the first
/// that holds it, else the first (of some length) that the label holds: where a labelled
/// `failure_line` is.
pub fn line_of(text: &str, wanted: &str) -> Option<u64> {
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let number = |i: usize| Some(i as u64 + 1);
    if let Some(i) = lines.iter().position(|l| l.trim() == wanted) {
        return number(i);
    }
    if let Some(i) = lines.iter().position(|l| l.contains(wanted)) {
        return number(i);
    }
    lines
        .iter()
        .position(|l| l.trim().len() >= 12 && wanted.contains(l.trim()))
        .and_then(number)
}

/// A whole file as the analyser decodes it (UTF-16, BOMs), for finding the labelled line.
fn decode_all(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut d = crate::decode::Decoder::default();
    d.feed(bytes, &mut |utf8| out.extend_from_slice(utf8));
    d.finish(&mut |utf8| out.extend_from_slice(utf8));
    String::from_utf8_lossy(&out).into_owned()
}

fn summarise(dir: &Path, scored: Vec<(CorpusEntry, Option<RestoreLog>)>) -> CorpusReport {
    let mut stages: Vec<StageCount> = Stage::ALL
        .iter()
        .map(|&stage| StageCount {
            stage,
            failures: 0,
            reached: 0,
        })
        .collect();
    for (_, log) in &scored {
        let Some(log) = log else { continue };
        for count in &mut stages {
            if log.outcome != Outcome::Success
                && log.failure.as_ref().and_then(|f| f.stage) == Some(count.stage)
            {
                count.failures += 1;
            }
            let failed_here = log.failure.as_ref().and_then(|f| f.stage) == Some(count.stage);
            if failed_here || log.timeline.iter().any(|e| e.stage() == Some(count.stage)) {
                count.reached += 1;
            }
        }
    }
    let entries: Vec<CorpusEntry> = scored.into_iter().map(|(e, _)| e).collect();
    let failures: Vec<&CorpusEntry> = entries
        .iter()
        .filter(|e| e.labelled_outcome == "failure")
        .collect();
    let count_point = |m: PointMatch| failures.iter().filter(|e| e.point == Some(m)).count();
    let bytes: u64 = entries.iter().map(|e| e.bytes).sum();
    let seconds: f64 = entries.iter().map(|e| e.seconds).sum();
    CorpusReport {
        corpus: dir.display().to_string(),
        logs: entries.len(),
        failure_logs: failures.len(),
        outcome: Rate::new(
            entries.iter().filter(|e| e.outcome_right).count(),
            entries.len(),
        ),
        crossed: entries.iter().filter(|e| e.crossed).count(),
        failure_point: Rate::new(
            failures
                .iter()
                .filter(|e| e.point.is_some_and(PointMatch::is_right))
                .count(),
            failures.len(),
        ),
        within_two_lines: count_point(PointMatch::WithinTwoLines),
        same_step: count_point(PointMatch::SameStep),
        label_not_found: count_point(PointMatch::LabelNotFound),
        stages_missing: stages
            .iter()
            .filter(|c| c.failures == 0 && c.reached == 0)
            .map(|c| c.stage)
            .collect(),
        stages,
        speed: Speed {
            bytes,
            seconds,
            mb_per_s: if seconds > 0.0 {
                bytes as f64 / (1024.0 * 1024.0) / seconds
            } else {
                0.0
            },
        },
        unreadable: entries.iter().filter(|e| e.error.is_some()).count(),
        entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_labelled_line_is_found_exactly_then_inside_then_around() {
        let text = "a\r\nERROR: Unable to restore device\nx ERROR: boom y\nshort\n";
        assert_eq!(line_of(text, "ERROR: Unable to restore device"), Some(2));
        assert_eq!(line_of(text, "ERROR: boom"), Some(3));
        // A label that holds a whole line (a line pasted with more glued to it).
        assert_eq!(
            line_of(text, "x ERROR: boom y[2022-2-7 10:10:17]ERROR: more"),
            Some(3)
        );
        // Short lines are never taken for a label's part.
        assert_eq!(line_of(text, "short and more words"), None);
        assert_eq!(line_of(text, "not there"), None);
    }

    #[test]
    fn same_step_means_no_step_begins_between_the_lines() {
        let log = crate::analyze_bytes(
            b"Entering recovery mode...\n\
              irecv_open_with_ecid: can't connect to device...\n\
              Retrying connection...\n\
              opening device 05ac:1281...\n\
              irecv_open_with_ecid: can't connect to device...\n\
              ERROR: Unable to connect to device in recovery mode\n",
        );
        assert_eq!(log.failure.as_ref().and_then(|f| f.line), Some(6));
        assert_eq!(point_match(&log, 2, 6), PointMatch::SameStep);
        assert_eq!(point_match(&log, 5, 6), PointMatch::WithinTwoLines);
        // A step line between them: another step.
        assert_eq!(point_match(&log, 1, 6), PointMatch::SameStep);
        let log = crate::analyze_bytes(
            b"Sending iBSS (1000 bytes)...\nx\ny\nz\nSending iBEC (1000 bytes)...\n\
              ERROR: Unable to connect to device in recovery mode\n",
        );
        assert_eq!(point_match(&log, 1, 6), PointMatch::Elsewhere);
    }

    #[test]
    fn bad_corpora_are_typed_errors() {
        let dir = std::env::temp_dir().join(format!("rd-corpus-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(
            score_corpus(&dir, 1),
            Err(CorpusError::NoDirectory { .. })
        ));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(matches!(
            score_corpus(&dir, 1),
            Err(CorpusError::NoLabels { .. })
        ));
        std::fs::write(dir.join(LABELS_FILE), "\n").unwrap();
        assert!(matches!(
            score_corpus(&dir, 1),
            Err(CorpusError::Empty { .. })
        ));
        std::fs::write(dir.join(LABELS_FILE), "{\"file\": \"a.log\"}\n").unwrap();
        assert!(matches!(
            score_corpus(&dir, 1),
            Err(CorpusError::BadLabel { line: 1, .. })
        ));
        std::fs::write(
            dir.join(LABELS_FILE),
            "{\"file\": \"../x.log\", \"outcome\": \"failure\"}\n",
        )
        .unwrap();
        assert!(matches!(
            score_corpus(&dir, 1),
            Err(CorpusError::BadLabel { .. })
        ));
        // A labelled file that is missing is an entry with an error, not a crash.
        std::fs::write(
            dir.join(LABELS_FILE),
            "{\"file\": \"gone.log\", \"outcome\": \"success\"}\n",
        )
        .unwrap();
        let r = score_corpus(&dir, 1).unwrap();
        assert_eq!((r.unreadable, r.outcome.right), (1, 0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
