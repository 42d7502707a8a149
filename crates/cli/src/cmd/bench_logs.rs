//! `restore-doctor bench logs --corpus DIR [--json]`: the log reader against a labelled corpus
//! (a directory with a `labels.jsonl`, like `shared/logs/real/`): outcome agreement, whether the
//! failure point is the labelled line, stage coverage and speed. The scoring is
//! `logs::corpus::score_corpus`; this module prints it.

use crate::output::{
    ACCENT, BAD, BOLD, CmdResult, DIM, GOOD, HEADING, Out, WARN, bad_input, paint,
};
use logs::corpus::{CorpusError, CorpusReport, PointMatch};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct LogsArgs {
    /// A directory of logs with a labels.jsonl (one JSON object a line: file, outcome,
    /// failure_line, failure_stage, excerpt_only).
    #[arg(long, value_name = "DIR")]
    pub corpus: std::path::PathBuf,
    /// Reader threads per log (default: one per core, as `restore-doctor logs` reads).
    #[arg(long)]
    pub readers: Option<usize>,
}

pub fn run(a: LogsArgs, out: &Out) -> CmdResult {
    if a.readers == Some(0) {
        return bad_input("--readers: give at least 1 reader thread");
    }
    let readers = a.readers.unwrap_or_else(logs::default_readers);
    let report = match logs::corpus::score_corpus(&a.corpus, readers) {
        Ok(r) => r,
        Err(e @ CorpusError::Unreadable { .. }) => return Err(e.into()),
        Err(e) => return bad_input(format!("--corpus: {e}")),
    };
    if out.json {
        out.json(&report)?;
    } else {
        anstream::print!("{}", render(&report));
    }
    // A log the labels name that cannot be read is bad input (the report still printed).
    Ok(if report.unreadable > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// The human report: the figures, then every log the reading got wrong.
pub fn render(r: &CorpusReport) -> String {
    let mut s = format!(
        "{}\n{}\n\n",
        paint(HEADING, format!("Log reader benchmark: {}", r.corpus)),
        paint(
            DIM,
            format!(
                "{} logs, {} of them failures; a failure point is right within two lines of the labelled one or in the same step",
                r.logs, r.failure_logs
            )
        )
    );
    let crossed = if r.crossed == 0 {
        paint(GOOD, "none")
    } else {
        paint(BAD, r.crossed)
    };
    s.push_str(&format!(
        "  {:<16} {} ({} of {}); failures read as successes or the reverse: {crossed}\n",
        "outcome",
        paint(ACCENT, percent(r.outcome.rate)),
        r.outcome.right,
        r.outcome.total,
    ));
    s.push_str(&format!(
        "  {:<16} {} ({} of {}: {} within two lines, {} in the same step; {} labelled lines not in the file)\n",
        "failure point",
        paint(ACCENT, percent(r.failure_point.rate)),
        r.failure_point.right,
        r.failure_point.total,
        r.within_two_lines,
        r.same_step,
        r.label_not_found,
    ));
    let occurring = r.stages.len() - r.stages_missing.len();
    let missing = if r.stages_missing.is_empty() {
        paint(GOOD, "none missing")
    } else {
        paint(
            WARN,
            format!(
                "missing: {}",
                r.stages_missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    };
    s.push_str(&format!(
        "  {:<16} {occurring} of {} stages occur ({missing})\n",
        "stages",
        r.stages.len()
    ));
    s.push_str(&format!(
        "  {:<16} {:.2} MB in {:.3} s ({:.0} MB/s, analysis only)\n",
        "speed",
        r.speed.bytes as f64 / (1024.0 * 1024.0),
        r.speed.seconds,
        r.speed.mb_per_s
    ));
    if r.unreadable > 0 {
        s.push_str(&format!(
            "  {:<16} {}\n",
            "unreadable",
            paint(BAD, format!("{} files", r.unreadable))
        ));
    }
    s.push('\n');
    s.push_str(&format!(
        "  {}\n",
        paint(BOLD, "Stages (failures there / logs reaching them)")
    ));
    let cells: Vec<String> = r
        .stages
        .iter()
        .map(|c| format!("{} {}/{}", c.stage.as_str(), c.failures, c.reached))
        .collect();
    for row in cells.chunks(4) {
        s.push_str(&format!(
            "    {}\n",
            row.iter()
                .map(|c| format!("{c:<22}"))
                .collect::<String>()
                .trim_end()
        ));
    }
    let wrong: Vec<_> = r
        .entries
        .iter()
        .filter(|e| !e.outcome_right || e.point.is_some_and(|p| !p.is_right()))
        .collect();
    s.push('\n');
    if wrong.is_empty() {
        s.push_str(&format!(
            "  {}\n",
            paint(GOOD, "Every log read as labelled.")
        ));
        return s;
    }
    s.push_str(&format!(
        "  {}\n",
        paint(BOLD, "Read otherwise than labelled")
    ));
    for e in wrong {
        let mut why = Vec::new();
        if let Some(err) = &e.error {
            why.push(format!("unreadable: {err}"));
        } else if !e.outcome_right {
            why.push(format!(
                "outcome {} (labelled {})",
                e.outcome.as_str(),
                e.labelled_outcome
            ));
        }
        match e.point {
            Some(PointMatch::Elsewhere) => why.push(format!(
                "failure at line {} (labelled line {})",
                e.failure_line.map_or("none".to_string(), |l| l.to_string()),
                e.labelled_line.map_or("?".to_string(), |l| l.to_string())
            )),
            Some(PointMatch::LabelNotFound) => why.push("labelled line not in the file".into()),
            _ => {}
        }
        s.push_str(&format!(
            "    {}  {}\n",
            paint(WARN, &e.file),
            paint(DIM, why.join("; "))
        ));
    }
    s
}
