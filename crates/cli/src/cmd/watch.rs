//! `restore-doctor watch [--case ID] [--db ...] [--station NAME] [--cable L] [--port L] --
//! COMMAND [ARGS...]`: run a restore tool (idevicerestore, futurerestore, cfgutil, a shop's
//! script) as a child, read its output live (stage and progress on one status line), follow
//! the device on USB beside it, then record the attempt (full log, failure point, USB
//! timeline, duration, station, cable, port) in the case store, print the diagnosis and exit
//! with the child's exit code. Ctrl-C is forwarded to the child; the partial attempt is still
//! recorded.

use crate::cmd::detect::{NoteJson, note_line};
use crate::output::{BAD, BOLD, CmdResult, DIM, GOOD, HEADING, Out, WARN, bad_input, paint};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::io::{IsTerminal, Read};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use usb::{Note, RestoreContext, Tracker, UsbError, UsbEvent};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor watch -- idevicerestore -e -y iPhone_4.7_P3_15.8.3_19H386_Restore.ipsw\n  restore-doctor watch --case 12 --station bench-3 --cable C7 --port left-usb-a -- futurerestore -t blob.shsh2 --latest-sep --latest-baseband fw.ipsw"
)]
pub struct Args {
    /// Record the attempt on this case (default: open a new case for the device).
    #[arg(long)]
    pub case: Option<i64>,
    /// Case database: a SQLite path or postgres://... (default: RESTORE_DOCTOR_DB, then the
    /// per-user database).
    #[arg(long)]
    pub db: Option<String>,
    /// Station (bench computer) name recorded with the attempt; default: this host's name.
    #[arg(long)]
    pub station: Option<String>,
    /// Label of the cable used (fleet analytics compare cables).
    #[arg(long)]
    pub cable: Option<String>,
    /// Label of the host port used (e.g. left-usb-c).
    #[arg(long)]
    pub port: Option<String>,
    /// The device went through a USB hub.
    #[arg(long)]
    pub hub: bool,
    /// Do not record the attempt in the case store.
    #[arg(long)]
    pub no_record: bool,
    /// Do not watch USB (only the tool's output).
    #[arg(long)]
    pub no_usb: bool,
    /// Show ECIDs in full in the USB timeline.
    #[arg(long)]
    pub show_ids: bool,
    /// The restore tool and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Live status: the one hook where the tool's output becomes stage and progress.

/// What the output said so far, for the status line and the USB tracker.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveStatus {
    /// The current restore operation or phase, in words.
    pub stage: Option<String>,
    /// The last percentage printed (progress bars, `operation N progress P`).
    pub percent: Option<f32>,
    /// Set once the tool printed its final success (`true`) or failure (`false`) line.
    pub finished: Option<bool>,
    /// The device reached restore mode (`Connected to com.apple.mobile.restored`, an operation).
    pub in_restore: bool,
    /// The last non-empty line, for the status line.
    pub last_line: String,
}

/// Update `live` from one output line. This is the single place that reads output live; the
/// full analysis is `::logs::Analyzer` at the end.
pub fn observe_line(live: &mut LiveStatus, line: &str) {
    let text = line.trim();
    if text.is_empty() {
        return;
    }
    if let Some(p) = percent_in(text) {
        live.percent = Some(p);
    }
    let kb = kb::kb();
    // idevicerestore: `Updating NAND Firmware (58)`.
    if let Some(op) = trailing_operation(text).and_then(|id| kb.operation(id)) {
        live.stage = Some(op.label.clone());
        live.in_restore = true;
        live.percent = None;
    }
    // Apple's library: `<Restore Device 0x...>: operation 14 progress 34`.
    if let Some((id, progress)) = library_operation(text) {
        if let Some(op) = kb.operation(id) {
            live.stage = Some(op.label.clone());
        }
        live.percent = (progress >= 0).then_some(progress as f32);
        if text.contains("<Restore Device") {
            live.in_restore = true;
        }
    }
    for (needle, stage) in [
        ("Sending iBSS", "sending iBSS"),
        ("Sending iBEC", "sending iBEC"),
        ("Sending RestoreRamDisk", "sending the restore ramdisk"),
        (
            "Waiting for device to enter restore mode",
            "waiting for restore mode",
        ),
        ("Sending filesystem now", "sending the filesystem"),
        ("Verifying restore", "verifying the filesystem"),
    ] {
        if text.contains(needle) {
            live.stage = Some(stage.to_string());
            live.percent = None;
        }
    }
    if text.starts_with("Connected to com.apple.mobile.restored") {
        live.in_restore = true;
        live.stage = Some("in restore mode".to_string());
        live.percent = None;
    }
    let success = [
        "DONE",
        "Status: Restore Finished",
        "Done: restoring succeeded!",
    ];
    let failure = [
        "Unable to restore device",
        "Done: restoring failed",
        "Aborting.",
    ];
    if success.iter().any(|s| text == *s || text.ends_with(s)) {
        live.finished = Some(true);
    } else if failure.iter().any(|s| text.contains(s)) {
        live.finished = Some(false);
    }
    if !is_bar_only(text) {
        live.last_line = text.chars().take(120).collect();
    }
}

/// `[=====     ]  45.0%` or `Uploading:  45.0` → 45.0.
fn percent_in(text: &str) -> Option<f32> {
    let pct = text.rfind('%')?;
    let before = text[..pct].trim_end();
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let v: f32 = before[start..].parse().ok()?;
    (0.0..=100.0).contains(&v).then_some(v)
}

fn is_bar_only(text: &str) -> bool {
    text.starts_with('[') && text.contains(']') && text.ends_with('%')
}

/// `Label words (NN)` → NN.
fn trailing_operation(text: &str) -> Option<u32> {
    let inner = text.strip_suffix(')')?;
    let open = inner.rfind(" (")?;
    let label = &inner[..open];
    if label.is_empty()
        || !label
            .chars()
            .all(|c| c.is_ascii_alphabetic() || " /,-".contains(c))
    {
        return None;
    }
    inner[open + 2..].parse().ok()
}

/// `operation 14 progress 34` → (14, 34).
fn library_operation(text: &str) -> Option<(u32, i64)> {
    let at = text.find("operation ")?;
    let mut words = text[at..].split_whitespace();
    words.next()?;
    let id = words.next()?.parse().ok()?;
    if words.next()? != "progress" {
        return None;
    }
    let progress = words.next()?.parse().ok()?;
    Some((id, progress))
}

// ---------------------------------------------------------------------------------------------
// Running the child

enum Msg {
    /// A complete line; its first `shown` bytes were already displayed as a [`Msg::Prompt`].
    Line {
        text: String,
        raw: Vec<u8>,
        shown: usize,
    },
    /// Text without a line end yet (a question waiting for input, a progress bar): shown now.
    Prompt(String),
    Eof,
    Usb(UsbEvent),
    Exited(std::io::Result<ExitStatus>),
}

/// Read a pipe, splitting on `\n` and on bare `\r` (progress-bar redraws); each piece keeps
/// its terminator in `raw` so the stored log is byte-for-byte what the tool wrote.
fn pump(mut pipe: impl Read + Send + 'static, tx: mpsc::Sender<Msg>) {
    std::thread::spawn(move || {
        let mut pending: Vec<u8> = Vec::new();
        let mut shown = 0usize;
        let mut chunk = [0u8; 8192];
        loop {
            let n = match pipe.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.extend_from_slice(&chunk[..n]);
            while let Some(pos) = pending.iter().position(|&b| b == b'\n' || b == b'\r') {
                let raw: Vec<u8> = pending.drain(..=pos).collect();
                let text = String::from_utf8_lossy(&raw[..raw.len() - 1]).into_owned();
                let line_shown = shown.min(raw.len() - 1);
                shown = 0;
                let msg = Msg::Line {
                    text,
                    raw,
                    shown: line_shown,
                };
                if tx.send(msg).is_err() {
                    return;
                }
            }
            // A question like `Continue? (YES/NO)` has no line end: show it now, not when the
            // person has already answered.
            if pending.len() > shown {
                let text = String::from_utf8_lossy(&pending[shown..]).into_owned();
                shown = pending.len();
                if tx.send(Msg::Prompt(text)).is_err() {
                    return;
                }
            }
        }
        if !pending.is_empty() {
            let text = String::from_utf8_lossy(&pending).into_owned();
            let line_shown = shown.min(pending.len());
            let _ = tx.send(Msg::Line {
                text,
                raw: pending,
                shown: line_shown,
            });
        }
        let _ = tx.send(Msg::Eof);
    });
}

/// This computer's name (the default station).
pub fn host_name() -> String {
    let from_env = ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()));
    if let Some(h) = from_env {
        return h.trim().to_string();
    }
    for path in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(h) = std::fs::read_to_string(path)
            && !h.trim().is_empty()
        {
            return h.trim().to_string();
        }
    }
    if let Ok(out) = Command::new("hostname").output()
        && out.status.success()
    {
        let h = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !h.is_empty() {
            return h;
        }
    }
    "unknown-station".to_string()
}

/// The exit code to pass on: the child's, or 128 + signal when it was killed (shell style).
fn exit_code_of(status: &ExitStatus) -> (i32, Option<i32>) {
    if let Some(code) = status.code() {
        return (code, None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return (128 + sig, Some(sig));
        }
    }
    (1, None)
}

fn duration_words(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

// ---------------------------------------------------------------------------------------------
// Report

#[derive(Serialize)]
struct FailureJson {
    stage: Option<String>,
    operation: Option<u32>,
    operation_label: Option<String>,
    checkpoint: Option<String>,
    error_code: Option<i64>,
    message: Option<String>,
    disconnect: bool,
}

#[derive(Serialize)]
struct WatchJson {
    command: Vec<String>,
    exit_code: i32,
    signal: Option<i32>,
    /// Stopped rather than failed: Ctrl-C, or the tool ended by a kill signal (see
    /// [`stopped_by_signal`]). Recorded on the attempt; such an attempt is not diagnosed.
    interrupted: bool,
    /// The person pressed Ctrl-C (forwarded to the tool).
    ctrl_c: bool,
    duration_ms: u64,
    station: String,
    cable: Option<String>,
    port: Option<String>,
    tool: String,
    outcome: String,
    failure: Option<FailureJson>,
    reading: String,
    error_codes: Vec<i64>,
    last_progress: Option<f32>,
    usb_watched: bool,
    usb_events: Vec<NoteJson>,
    case_id: Option<i64>,
    attempt_id: Option<i64>,
    record_error: Option<String>,
    diagnosis: Option<engine::api::DiagnoseResponse>,
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    let Some((program, program_args)) = args.command.split_first() else {
        return bad_input(
            "give the restore tool to run after `--`, e.g. `watch -- idevicerestore -e`",
        );
    };
    let station = args.station.clone().unwrap_or_else(host_name);

    // Open the store first: a wrong --db or --case is bad input before anything runs.
    let mut store = if args.no_record {
        None
    } else {
        match store::Store::open(args.db.as_deref()) {
            Ok(s) => Some(s),
            Err(e) if e.is_bad_input() => {
                return bad_input(format!("--db: {e} (or run with --no-record)"));
            }
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot open the case store: {e} (or run with --no-record)"
                ));
            }
        }
    };
    if let (Some(s), Some(id)) = (store.as_mut(), args.case) {
        match s.case(id) {
            Ok(_) => {}
            Err(store::StoreError::NoSuchCase(_)) => {
                return bad_input(format!("--case {id}: no such case in {}", s.describe()));
            }
            Err(e) => return Err(anyhow::anyhow!("cannot read case {id}: {e}")),
        }
    }

    let (tx, rx) = mpsc::channel::<Msg>();

    // USB beside the tool.
    let mut tracker = Tracker::new();
    let mut usb_notes: Vec<Note> = Vec::new();
    let mut usb_watched = false;
    let mut usb_problem: Option<String> = None;
    let mut usb_backend: Option<Box<dyn usb::UsbBackend>> = None;
    if !args.no_usb {
        match usb::default_backend() {
            Ok(backend) => match (backend.now_ms(), usb::spawn_watch(backend.as_ref())) {
                (started_ms, Ok(usb_rx)) => {
                    usb_watched = true;
                    if let Ok(list) = backend.list() {
                        usb_notes.extend(tracker.seed(&list, started_ms));
                    }
                    let tx = tx.clone();
                    std::thread::spawn(move || {
                        for ev in usb_rx {
                            if tx.send(Msg::Usb(ev)).is_err() {
                                break;
                            }
                        }
                    });
                    usb_backend = Some(backend);
                }
                (_, Err(UsbError::NoUsb(why))) => {
                    usb_problem = Some(format!("no USB here ({why})"))
                }
                (_, Err(e)) => usb_problem = Some(e.to_string()),
            },
            Err(e @ UsbError::Recording { .. }) => return bad_input(e.to_string()),
            Err(e) => usb_problem = Some(e.to_string()),
        }
    }
    let usb_clock = || {
        usb_backend
            .as_ref()
            .map_or_else(usb::now_ms, |b| b.now_ms())
    };

    // The child.
    let mut child = match Command::new(program)
        .args(program_args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return bad_input(format!("cannot run `{program}`: {e}")),
    };
    let started = Instant::now();
    let started_ms = usb::now_ms();
    tracing::info!(
        "started `{}` as pid {}; USB {}",
        args.command.join(" "),
        child.id(),
        if usb_watched {
            "watched beside it".to_string()
        } else {
            format!(
                "not watched ({})",
                usb_problem.as_deref().unwrap_or("--no-usb")
            )
        }
    );
    let child_pid = Arc::new(AtomicU32::new(child.id()));
    let interrupts = Arc::new(AtomicU32::new(0));
    {
        let pid = Arc::clone(&child_pid);
        let count = Arc::clone(&interrupts);
        // Forward Ctrl-C to the child; we keep running to record the attempt. A tool that
        // ignores two of them is killed at the third.
        let _ = ctrlc::set_handler(move || {
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            forward_interrupt(pid.load(Ordering::SeqCst), n >= 3);
        });
    }
    pump(child.stdout.take().expect("stdout is piped"), tx.clone());
    pump(child.stderr.take().expect("stderr is piped"), tx.clone());
    {
        let tx = tx.clone();
        let pid = Arc::clone(&child_pid);
        std::thread::spawn(move || {
            let status = child.wait();
            pid.store(0, Ordering::SeqCst);
            let _ = tx.send(Msg::Exited(status));
        });
    }
    drop(tx);

    let screen = Screen::new(out.json);
    if let Some(p) = &usb_problem {
        screen.say(crate::output::fit(&paint(
            DIM,
            format!("USB not watched: {p}"),
        )));
    }
    for n in &usb_notes {
        screen.usb(n);
    }

    let mut analyzer = ::logs::Analyzer::new();
    let mut full_log: Vec<u8> = Vec::new();
    let mut live = LiveStatus::default();
    let mut exit: Option<std::io::Result<ExitStatus>> = None;
    let mut open_pipes = 2;
    let mut exited_at: Option<Instant> = None;
    loop {
        // After the child exits, wait briefly for the pipes (a killed script's own children can
        // keep them open).
        if let Some(t) = exited_at
            && (open_pipes == 0 || t.elapsed() > Duration::from_secs(2))
        {
            break;
        }
        let msg = rx.recv_timeout(Duration::from_millis(200));
        match msg {
            Ok(Msg::Line { text, raw, shown }) => {
                full_log.extend_from_slice(&raw);
                analyzer.feed(&raw);
                observe_line(&mut live, &text);
                tracker.set_restore(RestoreContext {
                    running: exit.is_none() && live.finished.is_none() && live.in_restore,
                    progress: live.percent,
                    stage: live.stage.clone(),
                });
                screen.line(&text, &raw, shown);
                screen.status(&live);
            }
            Ok(Msg::Prompt(text)) => screen.prompt(&text),
            Ok(Msg::Eof) => open_pipes -= 1,
            Ok(Msg::Usb(ev)) => {
                for n in tracker.feed(&ev) {
                    screen.usb(&n);
                    usb_notes.push(n);
                }
            }
            Ok(Msg::Exited(status)) => {
                exit = Some(status);
                exited_at = Some(Instant::now());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                for n in tracker.tick(usb_clock()) {
                    screen.usb(&n);
                    usb_notes.push(n);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    screen.finish();
    let duration = started.elapsed();
    let status = match exit {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(anyhow::anyhow!("lost the restore tool: {e}")),
        None => return Err(anyhow::anyhow!("the restore tool did not exit")),
    };
    let (exit_code, signal) = exit_code_of(&status);
    let ctrl_c = interrupts.load(Ordering::SeqCst) > 0;
    let was_interrupted = ctrl_c || signal.is_some_and(stopped_by_signal);
    let log = analyzer.finish();
    tracing::info!(
        "`{program}` ended: exit code {exit_code}{} after {:.1} s",
        signal.map_or(String::new(), |s| format!(" (signal {s})")),
        duration.as_secs_f64()
    );
    crate::trace::restore_log("the tool's output", &log, duration);

    // On a bench with several devices, keep the USB notes of the one being restored when the
    // log names its ECID.
    if let Some(log_ecid) = log.device.ecid.as_deref().and_then(ecid_value) {
        usb_notes.retain(|n| {
            n.device
                .ecid
                .as_deref()
                .and_then(ecid_value)
                .is_none_or(|e| e == log_ecid)
        });
    }

    // Diagnosis from the log and the USB timeline.
    let usb_drop = usb_notes.iter().any(Note::is_alarm);
    let device_note = usb_notes
        .iter()
        .rev()
        .find(|n| n.device.product_type.is_some());
    let product_type = log
        .device
        .product_type
        .clone()
        .or_else(|| device_note.and_then(|n| n.device.product_type.clone()));
    let error_code = log
        .failure
        .as_ref()
        .and_then(|f| f.error_code)
        .or_else(|| log.error_codes.last().copied());
    let mut facts = log.facts();
    if usb_drop && !facts.iter().any(|(k, _)| k == "usb_dropout") {
        facts.push(("usb_dropout".into(), "yes".into()));
    }
    let succeeded = exit_code == 0 && log.outcome != ::logs::Outcome::Failure;
    // An attempt that was stopped (Ctrl-C, a kill) says nothing about the device: no diagnosis.
    let diagnosis = if succeeded || was_interrupted {
        None
    } else {
        engine::api::diagnose_request(&engine::api::DiagnoseRequest {
            device: product_type.clone(),
            error: error_code,
            log_facts: facts,
            ..Default::default()
        })
        .ok()
    };

    // Record.
    let mut case_id = args.case;
    let mut attempt_id = None;
    let mut record_error = None;
    if let Some(s) = store.as_mut() {
        let mut attempt = new_attempt(
            &args, &station, program, &log, &live, &usb_notes, succeeded, error_code, started_ms,
            full_log,
        );
        attempt.duration_ms = Some(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX));
        attempt.usb_events = usb_watched.then(|| usb_notes.iter().map(usb_event_record).collect());
        attempt.interrupted = was_interrupted;
        let note = watch_note(
            &args.command,
            exit_code,
            signal,
            ctrl_c,
            usb_problem.as_deref(),
        );
        let result = (|| -> Result<(i64, i64), store::StoreError> {
            let case = match case_id {
                Some(c) => c,
                None => s.create_case(&new_case(&log, device_note, error_code))?,
            };
            let attempt = s.add_attempt(case, &attempt)?;
            s.add_note(case, Some("restore-doctor watch"), &note)?;
            Ok((case, attempt))
        })();
        match result {
            Ok((c, a)) => {
                tracing::info!("recorded attempt {a} on case {c}");
                case_id = Some(c);
                attempt_id = Some(a);
            }
            Err(e) => record_error = Some(e.to_string()),
        }
    }

    let report = WatchJson {
        command: args.command.clone(),
        exit_code,
        signal,
        interrupted: was_interrupted,
        ctrl_c,
        duration_ms: duration.as_millis() as u64,
        station: station.clone(),
        cable: args.cable.clone(),
        port: args.port.clone(),
        tool: log.tool.as_str().to_string(),
        outcome: log.outcome.as_str().to_string(),
        failure: log.failure.as_ref().map(|f| FailureJson {
            stage: f.stage.map(|s| s.as_str().to_string()),
            operation: f.operation.as_ref().map(|o| o.id),
            operation_label: f.operation.as_ref().map(|o| o.label.to_string()),
            checkpoint: f.checkpoint.as_ref().map(|c| c.id.to_string()),
            error_code: f.error_code,
            message: f.message.clone(),
            disconnect: f.disconnect,
        }),
        reading: log.reading.clone(),
        error_codes: log.error_codes.clone(),
        last_progress: live.percent,
        usb_watched,
        usb_events: usb_notes
            .iter()
            .map(|n| NoteJson::new(n, args.show_ids))
            .collect(),
        case_id,
        attempt_id,
        record_error,
        diagnosis,
    };
    if out.json {
        out.json(&report)?;
    } else {
        print_summary(&report, &usb_notes, store.as_ref().map(|s| s.describe()));
    }
    Ok(ExitCode::from(exit_code.clamp(0, 255) as u8))
}

#[cfg(unix)]
fn forward_interrupt(pid: u32, kill: bool) {
    if pid != 0 {
        let signal = if kill { libc::SIGKILL } else { libc::SIGINT };
        // SAFETY: kill(2) on the pid of our child, which is not reaped yet (the waiter sets
        // the pid to 0 right after reaping it).
        unsafe {
            libc::kill(pid as libc::pid_t, signal);
        }
    }
}

#[cfg(not(unix))]
fn forward_interrupt(_pid: u32, _kill: bool) {
    // Windows delivers Ctrl-C to every process on the console, the child included.
}

/// Where the tool's output, USB notes and the status line go: above an indicatif status line
/// when stdout and stderr are both a terminal, plain lines on stdout otherwise, and on stderr
/// with `--json` (stdout is kept for the JSON report).
struct Screen {
    bar: Option<ProgressBar>,
    json: bool,
}

impl Screen {
    fn new(json: bool) -> Screen {
        // With stdout redirected, the tool's output must go there, not to the terminal above a
        // status line.
        let terminal = std::io::stderr().is_terminal() && std::io::stdout().is_terminal() && !json;
        let bar = terminal.then(|| {
            let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        Screen { bar, json }
    }

    /// A line, as given (already fitted to the width by the caller).
    fn say(&self, line: String) {
        match &self.bar {
            Some(pb) => pb.println(line),
            None if self.json => anstream::eprintln!("{line}"),
            None => anstream::println!("{line}"),
        }
    }

    fn usb(&self, note: &Note) {
        let line = crate::output::fit_line(
            &format!("{} {}", paint(DIM, "usb"), note_line(note)),
            16,
            crate::output::width(),
        );
        self.say(line);
    }

    /// A complete line of the tool's output; its first `shown` bytes were shown as a prompt.
    fn line(&self, text: &str, raw: &[u8], shown: usize) {
        let rest = if shown == 0 {
            text.trim_end().to_string()
        } else {
            let tail = raw
                .get(shown..raw.len().saturating_sub(1))
                .unwrap_or_default();
            String::from_utf8_lossy(tail).trim_end().to_string()
        };
        // The status line shows progress bars; without it, they are printed like any line.
        let redraw = self.bar.is_some() && is_bar_only(rest.trim());
        // Without a status line, a line begun as a prompt is ended here, even if nothing
        // follows the prompt text.
        let ends_prompt = self.bar.is_none() && shown > 0;
        if ends_prompt || (!redraw && !rest.trim().is_empty()) {
            // Shown wrapped to the width between words; the stored log keeps the bytes.
            self.say(crate::output::fit(&rest));
        }
    }

    /// Output without a line end yet (a question waiting for an answer): show it now.
    fn prompt(&self, text: &str) {
        use std::io::Write;
        let redraw = is_bar_only(text.trim());
        match &self.bar {
            Some(pb) if !redraw && !text.trim().is_empty() => pb.println(text.trim_end()),
            Some(_) => {}
            None if self.json => {
                anstream::eprint!("{text}");
                let _ = std::io::stderr().flush();
            }
            None => {
                anstream::print!("{text}");
                let _ = std::io::stdout().flush();
            }
        }
    }

    fn status(&self, live: &LiveStatus) {
        if let Some(pb) = &self.bar {
            pb.set_message(status_message(live));
        }
    }

    fn finish(&self) {
        if let Some(pb) = &self.bar {
            pb.finish_and_clear();
        }
    }
}

/// `0x38E8E58B41C` or `0000038E8E58B41C` → the number.
fn ecid_value(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u64::from_str_radix(t, 16).ok()
}

fn status_message(live: &LiveStatus) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &live.stage {
        parts.push(s.clone());
    }
    if let Some(p) = live.percent {
        parts.push(format!("{p:.0}%"));
    }
    if !live.last_line.is_empty() {
        parts.push(live.last_line.clone());
    }
    parts.join(" · ")
}

#[allow(clippy::too_many_arguments)]
fn new_attempt(
    args: &Args,
    station: &str,
    program: &str,
    log: &::logs::RestoreLog,
    live: &LiveStatus,
    usb_notes: &[Note],
    succeeded: bool,
    error_code: Option<i64>,
    started_ms: u64,
    full_log: Vec<u8>,
) -> store::NewAttempt {
    let result = match (succeeded, error_code) {
        (true, _) => store::AttemptResult::Ok,
        (false, Some(c)) => store::AttemptResult::Error(c),
        (false, None) => store::AttemptResult::Failed,
    };
    let tool = if log.tool == ::logs::Tool::Unknown {
        std::path::Path::new(program)
            .file_name()
            .map_or(program.to_string(), |f| f.to_string_lossy().into_owned())
    } else {
        log.tool.as_str().to_string()
    };
    // The tool's own "Found device in <mode> mode" first, then what USB showed.
    let mode = log
        .modes
        .first()
        .map(|m| m.as_str().to_ascii_lowercase().replace(' ', "_"))
        .or_else(|| {
            usb_notes
                .first()
                .map(|n| n.device.mode.as_str().to_string())
        });
    let failure = log.failure.as_ref();
    let mut attempt = store::NewAttempt::new(station.to_string(), result);
    attempt.at = Some(started_ms as i64);
    attempt.host_os = Some(std::env::consts::OS.to_string());
    attempt.app_version = Some(format!("restore-doctor {}", env!("CARGO_PKG_VERSION")));
    attempt.cable = args.cable.clone();
    attempt.port = args.port.clone();
    attempt.hub = args.hub;
    attempt.tool = Some(tool);
    attempt.mode = mode;
    // The log's words are the store's (`update`, `restore`).
    attempt.kind = log
        .restore_kind
        .and_then(|k| store::AttemptKind::parse(k.as_str()));
    attempt.stage = if succeeded {
        None
    } else {
        failure
            .and_then(|f| f.stage)
            .map(|s| s.as_str().to_string())
    };
    attempt.operation = failure
        .and_then(|f| f.operation.as_ref())
        .map(|o| i64::from(o.id));
    attempt.checkpoint = failure
        .and_then(|f| f.checkpoint.as_ref())
        .map(|c| c.id.to_string());
    attempt.progress = if succeeded {
        Some(100)
    } else {
        log.device_progress
            .or_else(|| live.percent.map(|p| p.round() as i64))
    };
    attempt.log = Some(full_log);
    attempt
}

fn new_case(
    log: &::logs::RestoreLog,
    device_note: Option<&Note>,
    error_code: Option<i64>,
) -> store::NewCase {
    let product_type = log
        .device
        .product_type
        .clone()
        .or_else(|| device_note.and_then(|n| n.device.product_type.clone()));
    let name = log
        .device
        .name
        .clone()
        .or_else(|| device_note.and_then(|n| n.device.name.clone()));
    let label = name
        .clone()
        .or_else(|| product_type.clone())
        .unwrap_or_else(|| "unknown device (watch)".to_string());
    store::NewCase {
        device: store::NewDevice {
            label,
            product_type,
            name,
            ecid: log
                .device
                .ecid
                .clone()
                .or_else(|| device_note.and_then(|n| n.device.ecid.clone())),
            serial: log.device.serial.clone(),
            imei: None,
        },
        error_code,
        customer: None,
        ticket: None,
    }
}

/// Signals that mean the tool was stopped from outside (a person, a supervisor, the
/// out-of-memory killer), not that it met a failing device: SIGHUP, SIGINT, SIGQUIT, SIGKILL,
/// SIGTERM. A crash (SIGSEGV, SIGABRT, SIGBUS...) is not in this list: it stays a failure.
fn stopped_by_signal(signal: i32) -> bool {
    #[cfg(unix)]
    {
        [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGKILL,
            libc::SIGTERM,
        ]
        .contains(&signal)
    }
    #[cfg(not(unix))]
    {
        let _ = signal;
        false
    }
}

/// A tracker note as the store keeps it: RFC 3339 UTC time, the note kind, the mode, the text
/// with UTC times, and the raw ECID (the store redacts on output).
fn usb_event_record(n: &Note) -> store::UsbEventRecord {
    let kind = serde_json::to_value(&n.kind)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());
    store::UsbEventRecord {
        at: usb::rfc3339(n.at_ms),
        kind,
        mode: Some(n.device.mode.as_str().to_string()),
        text: n.utc_text(),
        product_type: n.device.product_type.clone(),
        ecid: n.device.ecid.clone(),
        alarm: n.is_alarm(),
    }
}

/// The short case note: what the attempt fields do not hold (the command, its exit code or
/// signal, whether it was Ctrl-C, and why USB was not watched). Duration and the USB timeline
/// are fields of the attempt.
fn watch_note(
    command: &[String],
    exit_code: i32,
    signal: Option<i32>,
    ctrl_c: bool,
    usb_problem: Option<&str>,
) -> String {
    let mut s = format!(
        "watch: `{}` exited with code {exit_code}{}{}.",
        command.join(" "),
        signal.map_or(String::new(), |sig| format!(" (signal {sig})")),
        if ctrl_c {
            ", interrupted with Ctrl-C"
        } else {
            ""
        },
    );
    if let Some(p) = usb_problem {
        s.push_str(&format!(" USB not watched: {p}."));
    }
    s
}

fn print_summary(r: &WatchJson, notes: &[Note], db: Option<String>) {
    let mut s = String::new();
    let (style, verdict) = if r.exit_code == 0 && r.outcome != "failure" {
        (GOOD, "finished".to_string())
    } else if r.ctrl_c {
        (WARN, "was interrupted (Ctrl-C)".to_string())
    } else if let Some(sig) = r.signal {
        (
            BAD,
            format!("was killed (signal {sig}) before it printed a verdict"),
        )
    } else {
        (BAD, "failed".to_string())
    };
    s.push_str(&format!(
        "\n{} {}\n",
        paint(style, "●"),
        paint(
            HEADING,
            format!(
                "The restore tool {verdict}: exit code {} after {}",
                r.exit_code,
                duration_words(Duration::from_millis(r.duration_ms))
            )
        )
    ));
    if r.interrupted {
        let who = if r.ctrl_c { "by you" } else { "by a signal" };
        s.push_str(&format!(
            "  {}\n",
            paint(
                DIM,
                format!(
                    "Stopped {who}, so it is recorded as interrupted: not diagnosed, and not counted against the device, computer or cable."
                )
            )
        ));
    }
    if !r.reading.is_empty() {
        s.push_str(&format!("  {}\n", r.reading));
    }
    if let Some(f) = &r.failure {
        let mut where_ = Vec::new();
        if let Some(st) = &f.stage {
            where_.push(format!("stage {st}"));
        }
        if let (Some(id), Some(label)) = (f.operation, &f.operation_label) {
            where_.push(format!("operation {label} ({id})"));
        }
        if let Some(c) = f.error_code {
            where_.push(format!("error {c}"));
        }
        if f.disconnect {
            where_.push("the device stopped answering".into());
        }
        if !where_.is_empty() {
            s.push_str(&format!(
                "  {} {}\n",
                paint(BOLD, "Failure point:"),
                where_.join(", ")
            ));
        }
    }
    for n in notes.iter().filter(|n| n.is_alarm()) {
        s.push_str(&format!("  {} {}\n", paint(BAD, "USB:"), n.local_text()));
    }
    if let Some(d) = &r.diagnosis {
        let top: Vec<String> = d
            .causes
            .iter()
            .take(3)
            .map(|c| format!("{} {:.0}%", c.name, c.probability * 100.0))
            .collect();
        if !top.is_empty() {
            s.push_str(&format!(
                "  {} {}\n",
                paint(BOLD, "Likely causes:"),
                top.join(" · ")
            ));
        }
        if let Some(step) = &d.next_step {
            s.push_str(&format!("  {} {}\n", paint(BOLD, "Next step:"), step.title));
        }
        if let Some(v) = &d.verdict {
            s.push_str(&format!("  {} {}\n", paint(BOLD, "Verdict:"), v.summary));
        }
    }
    match (r.case_id, r.attempt_id, &r.record_error) {
        (Some(c), Some(a), _) => s.push_str(&format!(
            "  {}\n",
            paint(
                DIM,
                format!(
                    "Recorded as attempt {a} on case {c} (station {}{}) in {}; `restore-doctor diagnose --case {c}` for the full plan.",
                    r.station,
                    r.cable.as_ref().map_or(String::new(), |c| format!(", cable {c}")),
                    db.unwrap_or_default()
                )
            )
        )),
        (_, _, Some(e)) => s.push_str(&format!(
            "  {} the attempt was not recorded: {e}\n",
            paint(WARN, "warning:")
        )),
        _ => {}
    }
    crate::say!("{s}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_status_follows_an_idevicerestore_run() {
        let mut live = LiveStatus::default();
        observe_line(&mut live, "Sending iBEC (1205728 bytes)...");
        assert_eq!(live.stage.as_deref(), Some("sending iBEC"));
        observe_line(
            &mut live,
            "[==================================================] 100.0%",
        );
        assert_eq!(live.percent, Some(100.0));
        assert_eq!(live.last_line, "Sending iBEC (1205728 bytes)...");
        observe_line(
            &mut live,
            "Connected to com.apple.mobile.restored, version 15",
        );
        assert!(live.in_restore);
        observe_line(&mut live, "Sending filesystem now...");
        assert_eq!(live.percent, None);
        observe_line(
            &mut live,
            "[=================                                 ]  34.0%",
        );
        assert_eq!(live.percent, Some(34.0));
        observe_line(&mut live, "Updating NAND Firmware (58)");
        assert!(
            live.stage
                .as_deref()
                .unwrap()
                .starts_with("Updating NAND Firmware"),
            "{live:?}"
        );
        assert_eq!(live.finished, None);
        observe_line(&mut live, "ERROR: Unable to restore device");
        assert_eq!(live.finished, Some(false));
    }

    #[test]
    fn apple_library_operation_lines() {
        let mut live = LiveStatus::default();
        observe_line(
            &mut live,
            "<Restore Device 012ACCF0>: operation 14 progress 34",
        );
        assert_eq!(live.percent, Some(34.0));
        assert!(live.in_restore);
        assert!(live.stage.is_some());
        observe_line(
            &mut live,
            "<Restore Device 012ACCF0>: operation 58 progress -1",
        );
        assert_eq!(live.percent, None);
    }

    #[test]
    fn any_output_line_is_read_without_panic() {
        // Multi-byte characters right before a number and a percent sign.
        let mut live = LiveStatus::default();
        for line in [
            "é5%",
            "Прогресс 50%",
            "%",
            "…(12)",
            "operation",
            "operation 1 progress",
        ] {
            observe_line(&mut live, line);
        }
        assert_eq!(percent_in("é5%"), Some(5.0));
        assert_eq!(percent_in("Прогресс 50%"), Some(50.0));
    }

    #[test]
    fn parsers_reject_lookalikes() {
        assert_eq!(trailing_operation("Waiting for NAND (28)"), Some(28));
        assert_eq!(trailing_operation("Sending iBEC (1205728 bytes)..."), None);
        assert_eq!(trailing_operation("ECID (0x12)"), None);
        assert_eq!(percent_in("Uploading 250%"), None);
        assert_eq!(percent_in("no number %"), None);
        assert_eq!(library_operation("operation 4 progress 3"), Some((4, 3)));
        assert_eq!(library_operation("operation x progress 3"), None);
    }
}
