//! `restore-doctor logs FILE... [--json] [--show-ids]`: read restore logs (idevicerestore,
//! futurerestore, the device's restored log, iTunes/Finder/Apple Configurator, 3uTools, iMazing,
//! unified-log exports) into a timeline, the failure point and a reading in plain words.
//! `-` reads standard input. A file that cannot be read is reported on stderr and makes the
//! command exit with 2, while the other files are still analysed and printed.

use crate::output::{self, ACCENT, BAD, BOLD, CmdResult, DIM, GOOD, HEADING, Out, WARN, paint};
use logs::{
    CheckpointState, EventKind, FileError, LogError, LogsReport, Outcome, RestoreLog, TimelineEvent,
};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Files above this size get a progress bar on a terminal.
const PROGRESS_BAR_BYTES: u64 = 50 * 1024 * 1024;
/// Timeline entries shown in the human output (first and last).
const SHOW_FIRST: usize = 8;
const SHOW_LAST: usize = 32;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor logs restore_1712345678.log\n  idevicerestore -e fw.ipsw 2>&1 | restore-doctor logs -\n  restore-doctor logs attempt1.log attempt2.log --json"
)]
pub struct Args {
    /// Log files to read (`-` for standard input). Several logs of one device are compared.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Show ECIDs, serial numbers and UDIDs instead of redacting them.
    #[arg(long)]
    pub show_ids: bool,
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    let mut read: Vec<(String, RestoreLog)> = Vec::new();
    let mut errors: Vec<FileError> = Vec::new();
    for file in &args.files {
        let started = std::time::Instant::now();
        match analyse(file) {
            // An empty file (or /dev/null, or nothing on standard input) holds no log at all:
            // most likely the wrong file, so say so and exit 2 rather than read "no failure".
            Ok(log) if log.bytes == 0 => {
                let name = if file == "-" { "standard input" } else { file };
                let msg = format!("{name}: is empty, there is no log to read");
                crate::esayln!("{} {msg}", paint(BAD, "error:"));
                errors.push(FileError {
                    file: file.clone(),
                    error: msg,
                });
            }
            Ok(log) => {
                crate::trace::restore_log(file, &log, started.elapsed());
                read.push((file.clone(), log));
            }
            Err(e) => {
                tracing::info!("{file}: not read: {e}");
                crate::esayln!("{} {e}", paint(BAD, "error:"));
                errors.push(FileError {
                    file: file.clone(),
                    error: e.to_string(),
                });
            }
        }
    }
    let code = if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    };
    let report = LogsReport::new(read, errors, args.show_ids);
    if out.json {
        out.json(&report)?;
    } else {
        print_human(&report);
    }
    Ok(code)
}

fn analyse(file: &str) -> Result<RestoreLog, LogError> {
    if file == "-" {
        let stdin = std::io::stdin();
        return logs::analyze_reader(stdin.lock(), "<stdin>", &mut |_| {});
    }
    let path = std::path::Path::new(file);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > PROGRESS_BAR_BYTES && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(file.to_string());
        let result = logs::analyze_path(path, &mut |n| bar.set_position(n));
        bar.finish_and_clear();
        return result;
    }
    logs::analyze_path(path, &mut |_| {})
}

fn print_human(report: &LogsReport) {
    for entry in &report.logs {
        print_log(&entry.file, &entry.log);
    }
    if report.logs.len() >= 2 {
        crate::sayln!("{}", paint(HEADING, "Across these logs"));
        match report.same_failure_point {
            Some(true) => crate::sayln!("  The failures sit at the same point every time."),
            Some(false) => crate::sayln!("  The failures sit at different points."),
            None => crate::sayln!("  Fewer than two failures: nothing to compare."),
        }
        match report.error_varies {
            Some(true) => crate::sayln!("  The error code changed between attempts."),
            Some(false) => crate::sayln!("  The error code stayed the same."),
            None => {}
        }
        crate::sayln!();
    }
}

fn outcome_word(o: Outcome) -> String {
    match o {
        Outcome::Success => paint(GOOD, "SUCCESS"),
        Outcome::Failure => paint(BAD, "FAILURE"),
        Outcome::Incomplete => paint(WARN, "INCOMPLETE"),
    }
}

fn print_log(file: &str, log: &RestoreLog) {
    crate::sayln!("{}", paint(HEADING, file));
    let device = match (&log.device.name, &log.device.product_type) {
        (Some(n), Some(pt)) => format!("{n} ({pt})"),
        (None, Some(pt)) => pt.clone(),
        _ => "unknown".to_string(),
    };
    let target = match (&log.target_version, &log.target_build) {
        (Some(v), Some(b)) => format!("{v} ({b})"),
        (Some(v), None) => v.clone(),
        (None, Some(b)) => b.clone(),
        (None, None) => "unknown".to_string(),
    };
    crate::sayln!(
        "  {} {}   {} {}   {} {}",
        paint(DIM, "tool"),
        log.tool.as_str(),
        paint(DIM, "device"),
        device,
        paint(DIM, "target"),
        target
    );
    if let Some(ecid) = &log.device.ecid {
        crate::sayln!("  {} {ecid}", paint(DIM, "ECID"));
    }
    if let Some(kind) = log.restore_kind {
        let words = match kind {
            logs::RestoreKind::Update => "update (keeps the data)",
            logs::RestoreKind::Restore => "restore (erases the data)",
        };
        crate::sayln!("  {} {words}", paint(DIM, "kind"));
    }
    if !log.modes.is_empty() {
        let modes: Vec<&str> = log.modes.iter().map(|m| m.as_str()).collect();
        crate::sayln!("  {} {}", paint(DIM, "modes"), modes.join(" → "));
    }
    let mut verdict = outcome_word(log.outcome);
    if let Some(f) = &log.failure {
        if let Some(stage) = f.stage {
            verdict.push_str(&format!(" at stage {}", paint(BOLD, stage.as_str())));
        }
        if let Some(code) = f.error_code {
            verdict.push_str(&format!(", error {}", paint(BOLD, code)));
        }
        if let Some(code) = log.tool_code {
            // futurerestore's `Failed with errorcode=-11`: its own number, not Apple's.
            verdict.push_str(&format!(", {} exit code {code}", log.tool.as_str()));
        }
    }
    crate::sayln!("  {} {verdict}", paint(DIM, "outcome"));
    crate::sayln!();

    let highlight: Vec<u64> = log
        .evidence
        .iter()
        .filter(|e| e.why == "first sign of the failure" || e.why == "failing checkpoint")
        .map(|e| e.line)
        .collect();
    crate::sayln!("  {}", paint(BOLD, "Timeline"));
    let n = log.timeline.len();
    for (i, ev) in log.timeline.iter().enumerate() {
        if n > SHOW_FIRST + SHOW_LAST && i == SHOW_FIRST {
            crate::sayln!(
                "  {}",
                paint(
                    DIM,
                    format!("      … {} more events …", n - SHOW_FIRST - SHOW_LAST)
                )
            );
        }
        if n > SHOW_FIRST + SHOW_LAST && i >= SHOW_FIRST && i < n - SHOW_LAST {
            continue;
        }
        print_event(ev, highlight.contains(&ev.line));
    }
    if log.events_dropped > 0 {
        crate::sayln!(
            "  {}",
            paint(
                DIM,
                format!(
                    "      ({} events in the middle of the log not kept)",
                    log.events_dropped
                )
            )
        );
    }
    crate::sayln!();
    crate::sayln!("  {}", paint(BOLD, "Reading"));
    crate::say!("{}", output::wrap(&log.reading, "  "));
    crate::sayln!();
    if !log.evidence.is_empty() {
        crate::sayln!("  {}", paint(BOLD, "Proving lines"));
        for e in &log.evidence {
            let line = format!("{:>7}", format!("L{}", e.line));
            let text = format!(
                "  {}  {}  {}",
                paint(ACCENT, line),
                e.text,
                paint(DIM, format!("({})", e.why))
            );
            crate::sayln!("{}", output::fit_line(&text, 11, output::width()));
        }
        crate::sayln!();
    }
    if !log.earlier_attempts.is_empty() {
        crate::sayln!("  {}", paint(BOLD, "Earlier runs in this paste"));
        for a in &log.earlier_attempts {
            let stage = a
                .stage
                .map(|s| format!(" at {}", s.as_str()))
                .unwrap_or_default();
            let op = a
                .operation
                .as_ref()
                .map(|o| format!(", operation {}", o.id))
                .unwrap_or_default();
            let code = a
                .error_code
                .map(|c| format!(", code {c}"))
                .unwrap_or_default();
            let kind = match a.kind {
                Some(logs::RestoreKind::Update) => " (update)",
                Some(logs::RestoreKind::Restore) => " (erase restore)",
                None => "",
            };
            crate::sayln!(
                "  {}  {}{kind}{stage}{op}{code}",
                paint(ACCENT, format!("{:>7}", format!("L{}", a.first_line))),
                a.outcome.as_str()
            );
            if let Some(e) = &a.ended {
                crate::sayln!(
                    "  {}  {}",
                    paint(ACCENT, format!("{:>7}", format!("L{}", e.line))),
                    paint(DIM, &e.text)
                );
            }
        }
        crate::sayln!();
    }
}

fn print_event(ev: &TimelineEvent, root: bool) {
    let (mark, text) = match &ev.kind {
        EventKind::Mode { mode } => ("◆", paint(ACCENT, format!("mode {}", mode.as_str()))),
        EventKind::Operation {
            operation,
            progress,
            restore_phase,
        } => {
            let p = match progress {
                Some(p) if *p >= 0 => format!(" {p}%"),
                _ => String::new(),
            };
            if *restore_phase {
                (
                    "•",
                    format!("operation {} {}{p}", operation.id, operation.label),
                )
            } else {
                (
                    "·",
                    paint(DIM, format!("recovery step {}{p}", operation.id)),
                )
            }
        }
        EventKind::Checkpoint {
            checkpoint,
            state,
            result,
        } => {
            let name = checkpoint.name.as_deref().unwrap_or("");
            let r = result.map(|r| format!(" result={r}")).unwrap_or_default();
            let s = format!(
                "checkpoint {} {name} {}{r}",
                checkpoint.id,
                state_word(*state)
            );
            match state {
                CheckpointState::Failure => ("✗", paint(BAD, s)),
                CheckpointState::Retry | CheckpointState::Warning => ("!", paint(WARN, s)),
                _ => ("•", paint(DIM, s)),
            }
        }
        EventKind::Status { text, .. } => ("■", format!("status: {text}")),
        EventKind::Failure { .. } => ("✗", paint(BAD, &ev.text)),
        EventKind::ErrorCode { code } => {
            ("✗", paint(BAD, format!("error code {code}: {}", ev.text)))
        }
        EventKind::Warning => ("!", paint(WARN, &ev.text)),
        EventKind::Success => ("✓", paint(GOOD, &ev.text)),
        EventKind::Note | EventKind::Step { .. } => ("·", paint(DIM, &ev.text)),
    };
    // Human view: the time of day only (dates and zones stay in --json).
    let time = ev.time.as_deref().map(time_of_day).unwrap_or("");
    let line = format!("{:>7}", format!("L{}", ev.line));
    let time = format!("{time:<16}");
    // Continuation lines of a long event start under its text.
    const TEXT_COLUMN: usize = 29;
    let line = if root {
        format!(
            "{} {} {time} {} {}",
            paint(BAD, "▶"),
            paint(BAD, line),
            mark,
            paint(BAD, strip(&text))
        )
    } else {
        format!("  {} {time} {} {}", paint(DIM, line), mark, text)
    };
    crate::sayln!("{}", output::fit_line(&line, TEXT_COLUMN, output::width()));
}

/// Text without our own escapes (to restyle a highlighted line).
fn strip(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_esc = false;
    for c in s.chars() {
        if in_esc {
            if c.is_ascii_alphabetic() {
                in_esc = false;
            }
            continue;
        }
        if c == '\u{1b}' {
            in_esc = true;
            continue;
        }
        out.push(c);
    }
    out
}

/// `2025-03-04 10:15:02.118422+0100` → `10:15:02.118422`.
fn time_of_day(t: &str) -> &str {
    let t = match t.split_once(' ') {
        Some((date, rest)) if date.len() == 10 && date.as_bytes()[4] == b'-' => rest,
        _ => t,
    };
    match t.find(['+', 'Z']) {
        Some(i) if i >= 8 => &t[..i],
        _ => t,
    }
}

fn state_word(s: CheckpointState) -> &'static str {
    match s {
        CheckpointState::Begin => "begin",
        CheckpointState::End => "end",
        CheckpointState::Failure => "FAILED",
        CheckpointState::Retry => "retry",
        CheckpointState::Warning => "warning",
    }
}
