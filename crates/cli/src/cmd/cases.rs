//! `restore-doctor cases ...`: the case history (design.md §8): open a case, record restore
//! attempts and troubleshooting steps, show, list, close with the confirmed cause, export.

use crate::output::{BAD, BOLD, CmdResult, DIM, GOOD, HEADING, Out, WARN, bad_input, paint};
use kb::{DeviceMatch, kb};
use std::fmt::Write as _;
use std::process::ExitCode;
use store::{
    Attempt, AttemptKind, AttemptResult, Case, NewAttempt, NewCase, NewDevice, NewStep, Step,
    StepOutcome, Store, StoreError, format_time,
};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor cases new --device \"iPhone X\" --error 4013 --customer Ada\n  restore-doctor cases attempt --case 1 --computer bench-2 --cable C7 --port left --result 4013 --stage nand --log restore.log\n  restore-doctor cases step --case 1 --action swap_cable --outcome failed\n  restore-doctor cases show 1\n  restore-doctor cases close 1 --cause earpiece_faceid_flex\n  restore-doctor cases export 1 --format md > case-1.md"
)]
pub struct Args {
    /// Database: a SQLite file path or a postgres:// URL (default: the platform data directory).
    #[arg(
        long,
        global = true,
        env = "RESTORE_DOCTOR_DB",
        value_name = "PATH|postgres://..."
    )]
    pub db: Option<String>,
    #[command(subcommand)]
    pub command: CasesCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum CasesCommand {
    /// Open a case for a device.
    New(NewArgs),
    /// Record one restore or update attempt (where, with what, and how it ended).
    Attempt(AttemptArgs),
    /// Record a troubleshooting step and its outcome.
    Step(StepArgs),
    /// Add a free-text note to a case.
    Note(NoteArgs),
    /// Show a case: device, attempts, steps, verdict.
    Show(ShowArgs),
    /// List cases, newest first.
    List(ListArgs),
    /// Close a case with the cause that was confirmed.
    Close(CloseArgs),
    /// Write a case report (Markdown for people, or JSON).
    Export(ExportArgs),
    /// Print the full restore log stored with an attempt, byte for byte.
    Log(LogArgs),
}

#[derive(clap::Args, Debug)]
pub struct LogArgs {
    /// The attempt id (from `cases show`).
    #[arg(long)]
    pub attempt: i64,
}

#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// The device: a name ("iPhone X", "7 plus") or product type ("iPhone10,3").
    #[arg(long)]
    pub device: String,
    /// The error code the restore/update fails with.
    #[arg(long, allow_negative_numbers = true)]
    pub error: Option<i64>,
    #[arg(long)]
    pub customer: Option<String>,
    /// The shop's own ticket number.
    #[arg(long)]
    pub ticket: Option<String>,
    /// Device identifiers: stored, and redacted in every output unless --show-ids.
    #[arg(long)]
    pub ecid: Option<String>,
    #[arg(long)]
    pub serial: Option<String>,
    #[arg(long)]
    pub imei: Option<String>,
}

#[derive(clap::Args, Debug)]
#[command(
    override_usage = "restore-doctor cases attempt --case <ID> --computer <NAME>\n           --result <ok|failed|CODE> [OPTIONS]"
)]
pub struct AttemptArgs {
    /// The case id.
    #[arg(long = "case", value_name = "ID")]
    pub case_id: i64,
    /// The computer / bench / station the restore ran on.
    #[arg(long)]
    pub computer: String,
    #[arg(long)]
    pub cable: Option<String>,
    /// The host port, as named on that computer (e.g. `left`, `rear-2`).
    #[arg(long)]
    pub port: Option<String>,
    /// The device was connected through a hub, dock or adapter.
    #[arg(long)]
    pub hub: bool,
    /// The restore tool (idevicerestore, windows_itunes, macos_finder, ...).
    #[arg(long)]
    pub tool: Option<String>,
    #[arg(long, value_parser = ["update", "restore"])]
    pub kind: Option<String>,
    /// `ok`, `failed` (no code shown), or the error code (e.g. 4013).
    #[arg(long, allow_hyphen_values = true)]
    pub result: String,
    /// Where it failed: partition, filesystem, image_transfer, verify, nand, baseband,
    /// firmware, sep, fdr, reboot, tss, usb, other.
    #[arg(long)]
    pub stage: Option<String>,
    /// Progress (percent) when it failed.
    #[arg(long)]
    pub progress: Option<i64>,
    /// Restore operation number at the failure (from the log).
    #[arg(long)]
    pub operation: Option<i64>,
    /// Restore checkpoint at the failure (from the log).
    #[arg(long)]
    pub checkpoint: Option<String>,
    /// Device mode at the start: normal, recovery or dfu.
    #[arg(long, value_parser = ["normal", "recovery", "dfu"])]
    pub mode: Option<String>,
    #[arg(long)]
    pub host_os: Option<String>,
    #[arg(long)]
    pub app_version: Option<String>,
    /// The restore log: stored in full with its SHA-256.
    #[arg(long)]
    pub log: Option<std::path::PathBuf>,
    /// The attempt was stopped on purpose (Ctrl-C, unplugged by hand), not failed: it is kept
    /// but not counted as a failure of the device, computer, cable or port.
    #[arg(long)]
    pub interrupted: bool,
}

#[derive(clap::Args, Debug)]
#[command(
    override_usage = "restore-doctor cases step --case <ID> --action <ACTION>\n           --outcome <fixed|failed|skipped> [OPTIONS]"
)]
pub struct StepArgs {
    /// The case id.
    #[arg(long = "case", value_name = "ID")]
    pub case_id: i64,
    /// The action taken: an action id (swap_cable, update_host_software, dfu_restore...) or
    /// its --tried word (cable_swap, host_software_update...); both name the same step.
    #[arg(long)]
    pub action: String,
    #[arg(long, value_parser = ["fixed", "failed", "skipped"])]
    pub outcome: String,
    /// Who did it.
    #[arg(long)]
    pub who: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct NoteArgs {
    /// The case id.
    #[arg(long = "case", value_name = "ID")]
    pub case_id: i64,
    #[arg(long)]
    pub text: String,
    #[arg(long)]
    pub author: Option<String>,
}

/// The case a subcommand works on: `--case ID`, as `attempt`, `step` and `note` take it, or the
/// id alone (`cases show 12`).
#[derive(clap::Args, Debug)]
pub struct CaseRef {
    /// The case id.
    #[arg(
        value_name = "ID",
        required_unless_present = "case",
        conflicts_with = "case"
    )]
    pub id: Option<i64>,
    /// The case id (the same as the positional ID).
    #[arg(long, value_name = "ID")]
    pub case: Option<i64>,
}

impl CaseRef {
    pub fn id(&self) -> i64 {
        // clap requires one of the two.
        self.case.or(self.id).unwrap_or_default()
    }
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    pub case: CaseRef,
    /// Show ECID, serial number and IMEI instead of redacting them.
    #[arg(long)]
    pub show_ids: bool,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Only cases not closed yet.
    #[arg(long)]
    pub open: bool,
    /// Show ECID, serial number and IMEI instead of redacting them.
    #[arg(long)]
    pub show_ids: bool,
}

#[derive(clap::Args, Debug)]
pub struct CloseArgs {
    #[command(flatten)]
    pub case: CaseRef,
    /// The confirmed cause (a cause id: usb_cable, nand, earpiece_faceid_flex, ...).
    #[arg(long)]
    pub cause: String,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub case: CaseRef,
    #[arg(long, default_value = "md", value_parser = ["md", "json"])]
    pub format: String,
    /// Include ECID, serial number and IMEI (redacted by default).
    #[arg(long)]
    pub show_ids: bool,
}

/// Open the store a `--db` value names, with errors that say where.
pub fn open_store(db: Option<&str>) -> anyhow::Result<Store> {
    let location = store::Location::resolve(db)?;
    let where_ = location.describe();
    let started = std::time::Instant::now();
    let store = Store::open_location(location)
        .map_err(|e| anyhow::anyhow!("cannot open the case database {where_}: {e}"))?;
    tracing::info!(
        "case database {where_} opened ({}, migrations checked) in {:.1} ms",
        store.backend_name(),
        crate::trace::ms(started.elapsed())
    );
    Ok(store)
}

/// Turn store errors caused by the request (unknown case...) into bad input (exit 2).
pub fn store_err(e: StoreError) -> anyhow::Error {
    if e.is_bad_input() {
        crate::output::BadInput(e.to_string()).into()
    } else {
        e.into()
    }
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    let db = args.db.as_deref();
    match args.command {
        CasesCommand::New(a) => new_case(a, db, out),
        CasesCommand::Attempt(a) => attempt(a, db, out),
        CasesCommand::Step(a) => step(a, db, out),
        CasesCommand::Note(a) => note(a, db, out),
        CasesCommand::Show(a) => show(a, db, out),
        CasesCommand::List(a) => list(a, db, out),
        CasesCommand::Close(a) => close(a, db, out),
        CasesCommand::Export(a) => export(a, db, out),
        CasesCommand::Log(a) => attempt_log(a, db, out),
    }
}

fn attempt_log(a: LogArgs, db: Option<&str>, out: &Out) -> CmdResult {
    let mut s = open_store(db)?;
    let Some(log) = s.attempt_log(a.attempt).map_err(store_err)? else {
        return bad_input(format!("attempt {} has no stored log", a.attempt));
    };
    if out.json {
        out.json(&serde_json::json!({
            "attempt": a.attempt,
            "bytes": log.len(),
            "log_sha256": store::sha256_hex(&log),
            "log": String::from_utf8_lossy(&log),
        }))?;
    } else {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&log)?;
        stdout.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

fn resolve_device(query: &str) -> anyhow::Result<NewDevice> {
    match kb().find_device(query) {
        DeviceMatch::Found { name, variants } => {
            let exact = variants
                .iter()
                .find(|d| d.product_type.eq_ignore_ascii_case(query.trim()));
            let chosen = exact.or(variants.first());
            Ok(NewDevice {
                label: query.trim().to_string(),
                product_type: chosen.map(|d| d.product_type.clone()),
                name: Some(name.to_string()),
                ..NewDevice::default()
            })
        }
        DeviceMatch::Ambiguous(names) => bad_input(format!(
            "--device `{query}` matches several models: {}; say which",
            names.join(", ")
        )),
        DeviceMatch::NotFound(closest) => bad_input(format!(
            "--device `{query}` is not a known iPhone, iPad or iPod touch. Closest: {}",
            closest.join(", ")
        )),
    }
}

fn non_empty(flag: &str, v: Option<String>) -> anyhow::Result<Option<String>> {
    match v {
        Some(s) if s.trim().is_empty() => bad_input(format!("{flag} must not be empty")),
        Some(s) => Ok(Some(s.trim().to_string())),
        None => Ok(None),
    }
}

fn new_case(a: NewArgs, db: Option<&str>, out: &Out) -> CmdResult {
    let mut device = resolve_device(&a.device)?;
    device.ecid = non_empty("--ecid", a.ecid)?;
    device.serial = non_empty("--serial", a.serial)?;
    device.imei = non_empty("--imei", a.imei)?;
    let case = NewCase {
        device,
        error_code: a.error,
        customer: non_empty("--customer", a.customer)?,
        ticket: non_empty("--ticket", a.ticket)?,
    };
    let mut s = open_store(db)?;
    let id = s.create_case(&case).map_err(store_err)?;
    if out.json {
        out.json(&serde_json::json!({ "id": id }))?;
    } else {
        crate::sayln!(
            "{} case {id} for {}",
            paint(GOOD, "opened"),
            case.device.name.as_deref().unwrap_or(&case.device.label)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_result(s: &str) -> anyhow::Result<AttemptResult> {
    match s.trim() {
        "ok" | "success" => Ok(AttemptResult::Ok),
        "failed" | "fail" => Ok(AttemptResult::Failed),
        other => match other.parse::<i64>() {
            Ok(code) => Ok(AttemptResult::Error(code)),
            Err(_) => bad_input(format!(
                "--result `{other}` is neither `ok`, `failed` nor an error code (e.g. 4013)"
            )),
        },
    }
}

fn attempt(a: AttemptArgs, db: Option<&str>, out: &Out) -> CmdResult {
    let result = parse_result(&a.result)?;
    if let Some(stage) = &a.stage
        && kb::Stage::parse(stage).is_none()
    {
        let all: Vec<&str> = kb::Stage::ALL.iter().map(|s| s.as_str()).collect();
        return bad_input(format!(
            "--stage `{stage}` is not a stage; use one of: {}",
            all.join(", ")
        ));
    }
    if let Some(p) = a.progress
        && !(0..=100).contains(&p)
    {
        return bad_input(format!("--progress {p} is not a percentage (0-100)"));
    }
    if a.computer.trim().is_empty() {
        return bad_input("--computer must not be empty");
    }
    let log = match &a.log {
        Some(path) => Some(
            std::fs::read(path)
                .or_else(|e| bad_input(format!("--log {}: cannot read it: {e}", path.display())))?,
        ),
        None => None,
    };
    let new = NewAttempt {
        at: None,
        computer: a.computer.trim().to_string(),
        host_os: non_empty("--host-os", a.host_os)?,
        app_version: non_empty("--app-version", a.app_version)?,
        cable: non_empty("--cable", a.cable)?,
        port: non_empty("--port", a.port)?,
        hub: a.hub,
        tool: non_empty("--tool", a.tool)?,
        mode: a.mode,
        kind: a.kind.as_deref().and_then(AttemptKind::parse),
        result,
        stage: a.stage,
        operation: a.operation,
        checkpoint: non_empty("--checkpoint", a.checkpoint)?,
        progress: a.progress,
        log,
        duration_ms: None,
        usb_events: None,
        interrupted: a.interrupted,
    };
    let mut s = open_store(db)?;
    let id = s.add_attempt(a.case_id, &new).map_err(store_err)?;
    let sha = new.log.as_deref().map(store::sha256_hex);
    if out.json {
        out.json(&serde_json::json!({ "id": id, "case": a.case_id, "log_sha256": sha }))?;
    } else {
        crate::sayln!(
            "{} attempt {id} on case {} ({})",
            paint(GOOD, "recorded"),
            a.case_id,
            result_text(result)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn step(a: StepArgs, db: Option<&str>, out: &Out) -> CmdResult {
    let Some(action) = kb::vocab::action(kb(), &a.action) else {
        return bad_input(format!(
            "--action `{}` is not a known action; use one of: {}",
            a.action,
            kb::vocab::action_words(kb()).join(", ")
        ));
    };
    let outcome = StepOutcome::parse(&a.outcome)
        .map_or_else(|| bad_input(format!("--outcome `{}`", a.outcome)), Ok)?;
    let mut s = open_store(db)?;
    let id = s
        .add_step(
            a.case_id,
            &NewStep {
                action: action.id.clone(),
                outcome,
                who: non_empty("--who", a.who)?,
            },
        )
        .map_err(store_err)?;
    if out.json {
        out.json(&serde_json::json!({ "id": id, "case": a.case_id }))?;
    } else {
        crate::sayln!(
            "{} step {id} on case {}: {} {}",
            paint(GOOD, "recorded"),
            a.case_id,
            action.id,
            outcome.as_str()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn note(a: NoteArgs, db: Option<&str>, out: &Out) -> CmdResult {
    if a.text.trim().is_empty() {
        return bad_input("--text must not be empty");
    }
    let mut s = open_store(db)?;
    let id = s
        .add_note(a.case_id, a.author.as_deref(), a.text.trim())
        .map_err(store_err)?;
    if out.json {
        out.json(&serde_json::json!({ "id": id, "case": a.case_id }))?;
    } else {
        crate::sayln!("{} note {id} on case {}", paint(GOOD, "added"), a.case_id);
    }
    Ok(ExitCode::SUCCESS)
}

/// `ok`, `error 4013`, `failed`, or `interrupted` for an attempt stopped on purpose.
fn attempt_result_text(a: &Attempt) -> String {
    if a.interrupted {
        "interrupted".into()
    } else {
        result_text(a.result())
    }
}

fn result_text(r: AttemptResult) -> String {
    match r {
        AttemptResult::Ok => "ok".into(),
        AttemptResult::Failed => "failed".into(),
        AttemptResult::Error(c) => format!("error {c}"),
    }
}

/// The attempt's USB timeline for output: ECIDs (in their field and in the text) redacted unless
/// `show_ids`; `null` when USB was not watched.
fn usb_events_json(a: &Attempt, show_ids: bool) -> serde_json::Value {
    match &a.usb_events {
        None => serde_json::Value::Null,
        Some(events) => serde_json::Value::Array(
            events
                .iter()
                .map(|e| {
                    let e = if show_ids { e.clone() } else { e.redacted() };
                    serde_json::json!({
                        "at": e.at,
                        "kind": e.kind,
                        "mode": e.mode,
                        "alarm": e.alarm,
                        "text": e.text,
                        "product_type": e.product_type,
                        "ecid": e.ecid,
                    })
                })
                .collect(),
        ),
    }
}

fn attempt_json(a: &Attempt, show_ids: bool) -> serde_json::Value {
    serde_json::json!({
        "id": a.id,
        "at": format_time(a.at),
        "computer": a.computer,
        "cable": a.cable,
        "port": a.port,
        "hub": a.hub,
        "tool": a.tool,
        "kind": a.kind.map(|k| k.as_str()),
        "result": match a.result() {
            AttemptResult::Ok => serde_json::json!("ok"),
            AttemptResult::Failed => serde_json::json!("failed"),
            AttemptResult::Error(c) => serde_json::json!(c),
        },
        "ok": a.ok,
        "error_code": a.error_code,
        "stage": a.stage,
        "progress": a.progress,
        "operation": a.operation,
        "checkpoint": a.checkpoint,
        "mode": a.mode,
        "host_os": a.host_os,
        "app_version": a.app_version,
        "log_sha256": a.log_sha256,
        "interrupted": a.interrupted,
        "duration_ms": a.duration_ms,
        "duration": a.duration_ms.map(store::duration_words),
        "usb_events": usb_events_json(a, show_ids),
        "usb_summary": a.usb_summary(),
    })
}

fn step_json(s: &Step) -> serde_json::Value {
    serde_json::json!({
        "id": s.id,
        "at": format_time(s.at),
        "action": s.action,
        "outcome": s.outcome.as_str(),
        "who": s.who,
    })
}

fn device_json(d: &store::Device, show_ids: bool) -> serde_json::Value {
    let d = if show_ids { d.clone() } else { d.redacted() };
    serde_json::json!({
        "name": d.name,
        "product_type": d.product_type,
        "label": d.label,
        "ecid": d.ecid,
        "serial": d.serial,
        "imei": d.imei,
    })
}

/// `cases show --json` (design.md §8 stable fields plus extras).
pub fn case_json(c: &Case, show_ids: bool) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "device": device_json(&c.device, show_ids),
        "ticket": c.ticket,
        "customer": c.customer,
        "error_code": c.error_code,
        "status": if c.closed_at.is_some() { "closed" } else { "open" },
        "opened_at": format_time(c.opened_at),
        "closed_at": c.closed_at.map(format_time),
        "closed_cause": c.closed_cause,
        "verdict": c.verdict,
        "attempts": c.attempts.iter().map(|a| attempt_json(a, show_ids)).collect::<Vec<_>>(),
        "steps": c.steps.iter().map(step_json).collect::<Vec<_>>(),
        "notes": c.notes.iter().map(|n| serde_json::json!({
            "id": n.id, "at": format_time(n.at), "author": n.author, "text": n.body,
        })).collect::<Vec<_>>(),
    })
}

fn show(a: ShowArgs, db: Option<&str>, out: &Out) -> CmdResult {
    let mut s = open_store(db)?;
    let c = s.case(a.case.id()).map_err(store_err)?;
    if out.json {
        out.json(&case_json(&c, a.show_ids))?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::say!("{}", human_case(&c, a.show_ids));
    Ok(ExitCode::SUCCESS)
}

fn device_title(d: &store::Device) -> String {
    match (&d.name, &d.product_type) {
        (Some(n), Some(p)) => format!("{n} ({p})"),
        (Some(n), None) => n.clone(),
        _ => d.label.clone(),
    }
}

fn ids_line(d: &store::Device, show_ids: bool) -> Option<String> {
    let d = if show_ids { d.clone() } else { d.redacted() };
    let parts: Vec<String> = [("ECID", &d.ecid), ("serial", &d.serial), ("IMEI", &d.imei)]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn human_case(c: &Case, show_ids: bool) -> String {
    let mut s = String::new();
    let status = match &c.closed_cause {
        Some(cause) => paint(DIM, format!("closed: {cause}")),
        None => paint(WARN, "open"),
    };
    let _ = writeln!(
        s,
        "{} {}  [{status}]",
        paint(HEADING, format!("Case {}", c.id)),
        paint(BOLD, device_title(&c.device))
    );
    if let Some(code) = c.error_code {
        let _ = writeln!(s, "  error {code}");
    }
    if let Some(cu) = &c.customer {
        let _ = writeln!(s, "  customer {cu}");
    }
    if let Some(ids) = ids_line(&c.device, show_ids) {
        let _ = writeln!(s, "  {ids}");
    }
    let _ = writeln!(s, "  opened {}", format_time(c.opened_at));
    let _ = writeln!(
        s,
        "\n{}",
        paint(HEADING, format!("Attempts ({})", c.attempts.len()))
    );
    for a in &c.attempts {
        let res = if a.ok {
            paint(GOOD, "ok")
        } else if a.interrupted {
            paint(WARN, "interrupted")
        } else {
            paint(BAD, result_text(a.result()))
        };
        let mut where_ = a.computer.clone();
        if let Some(p) = &a.port {
            let _ = write!(where_, " port {p}");
        }
        if let Some(k) = &a.cable {
            let _ = write!(where_, ", cable {k}");
        }
        if a.hub {
            where_.push_str(", via hub");
        }
        let mut detail = Vec::new();
        if let Some(st) = &a.stage {
            detail.push(format!("stage {st}"));
        }
        if let Some(p) = a.progress {
            detail.push(format!("{p}%"));
        }
        if let Some(t) = &a.tool {
            detail.push(t.clone());
        }
        let _ = writeln!(
            s,
            "  #{:<4} {}  {where_}  {res} {}",
            a.id,
            paint(DIM, format_time(a.at)),
            paint(DIM, detail.join(", "))
        );
        if let Some(line) = took_and_usb(a) {
            let _ = writeln!(s, "         {}", paint(DIM, line));
        }
    }
    if !c.steps.is_empty() {
        let _ = writeln!(
            s,
            "\n{}",
            paint(HEADING, format!("Steps ({})", c.steps.len()))
        );
        for st in &c.steps {
            let _ = writeln!(
                s,
                "  {} {}: {}",
                paint(DIM, format_time(st.at)),
                st.action,
                st.outcome.as_str()
            );
        }
    }
    if !c.notes.is_empty() {
        let _ = writeln!(s, "\n{}", paint(HEADING, "Notes"));
        for n in &c.notes {
            let _ = writeln!(s, "  {} {}", paint(DIM, format_time(n.at)), n.body);
        }
    }
    if let Some(v) = &c.verdict {
        let _ = writeln!(s, "\n{}", paint(HEADING, "Last recommendation"));
        let _ = writeln!(s, "  {}", recommendation_text(v));
    }
    let _ = writeln!(s, "\n  {}", matrix_summary(c));
    s
}

/// `took 4 min 12 s; USB: 14:02:11 dropped off in restore mode, 14:02:19 back in DFU` (times
/// UTC), or `None` when neither was recorded.
fn took_and_usb(a: &Attempt) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(ms) = a.duration_ms {
        parts.push(format!("took {}", store::duration_words(ms)));
    }
    if let Some(usb) = a.usb_summary() {
        parts.push(format!("USB (UTC): {usb}"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn recommendation_text(v: &serde_json::Value) -> String {
    if let Some(summary) = v.pointer("/verdict/summary").and_then(|x| x.as_str()) {
        return format!("verdict: {summary}");
    }
    if let Some(cause) = v.pointer("/verdict/cause").and_then(|x| x.as_str()) {
        return format!("verdict: {cause}");
    }
    if let Some(t) = v.pointer("/next_step/title").and_then(|x| x.as_str()) {
        return format!("next step: {t}");
    }
    if let Some(t) = v.pointer("/next_step/action").and_then(|x| x.as_str()) {
        return format!("next step: {t}");
    }
    "recorded".into()
}

/// The "three cables on two computers" matrix in one sentence.
fn matrix_summary(c: &Case) -> String {
    let stopped = c.attempts.iter().filter(|a| a.interrupted).count();
    let counted: Vec<&Attempt> = c.attempts.iter().filter(|a| !a.interrupted).collect();
    let line = counted_matrix_summary(&counted);
    match stopped {
        0 => line,
        1 => format!("{line} (1 interrupted attempt not counted.)"),
        n => format!("{line} ({n} interrupted attempts not counted.)"),
    }
}

fn counted_matrix_summary(attempts: &[&Attempt]) -> String {
    let failed: Vec<&Attempt> = attempts.iter().copied().filter(|a| !a.ok).collect();
    let ok = attempts.len() - failed.len();
    let mut computers: Vec<&str> = failed.iter().map(|a| a.computer.as_str()).collect();
    computers.sort_unstable();
    computers.dedup();
    let mut cables: Vec<&str> = failed.iter().filter_map(|a| a.cable.as_deref()).collect();
    cables.sort_unstable();
    cables.dedup();
    if attempts.is_empty() {
        return "No attempts recorded yet.".into();
    }
    if ok > 0 {
        return format!(
            "{ok} of {} attempts succeeded; the failures happened on {} computer(s) and {} cable(s).",
            attempts.len(),
            computers.len(),
            cables.len()
        );
    }
    let mut line = format!(
        "All {} attempts failed, on {} computer(s) with {} cable(s)",
        failed.len(),
        computers.len(),
        cables.len()
    );
    if computers.len() >= 2 && cables.len() >= 2 {
        line.push_str(": the same failure across computers and cables points at the device.");
    } else {
        line.push_str(": try another cable and another computer before blaming the device.");
    }
    line
}

fn list(a: ListArgs, db: Option<&str>, out: &Out) -> CmdResult {
    let mut s = open_store(db)?;
    let cases = s.list_cases(a.open).map_err(store_err)?;
    if out.json {
        let list: Vec<serde_json::Value> = cases
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id,
                    "device": device_json(&c.device, a.show_ids),
                    "customer": c.customer,
                    "error_code": c.error_code,
                    "status": if c.closed_at.is_some() { "closed" } else { "open" },
                    "opened_at": format_time(c.opened_at),
                    "closed_at": c.closed_at.map(format_time),
                    "closed_cause": c.closed_cause,
                    "attempts": c.attempts,
                    "failures": c.failures,
                })
            })
            .collect();
        out.json(&serde_json::json!({ "cases": list }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if cases.is_empty() {
        crate::sayln!("no {}cases", if a.open { "open " } else { "" });
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = crate::output::Table::new(&[
        ">case",
        "opened",
        "device",
        ">error",
        "attempts",
        "status",
        "identifiers",
    ]);
    for c in &cases {
        let status = match &c.closed_cause {
            Some(cause) => paint(DIM, format!("closed: {cause}")),
            None => paint(WARN, "open"),
        };
        table.row(vec![
            c.id.to_string(),
            format_time(c.opened_at),
            paint(BOLD, device_title(&c.device)),
            c.error_code.map_or("-".into(), |e| e.to_string()),
            format!("{} ({} failed)", c.attempts, c.failures),
            status,
            ids_line(&c.device, a.show_ids).unwrap_or_default(),
        ]);
    }
    crate::say!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}

fn close(a: CloseArgs, db: Option<&str>, out: &Out) -> CmdResult {
    let Some(cause) = kb().cause(&a.cause) else {
        let ids: Vec<&str> = kb().causes().iter().map(|c| c.id.as_str()).collect();
        return bad_input(format!(
            "--cause `{}` is not a cause id; use one of: {}",
            a.cause,
            ids.join(", ")
        ));
    };
    let mut s = open_store(db)?;
    s.close_case(a.case.id(), &cause.id).map_err(store_err)?;
    if out.json {
        out.json(&serde_json::json!({ "id": a.case.id(), "closed_cause": cause.id }))?;
    } else {
        crate::sayln!(
            "{} case {} with cause {} ({})",
            paint(GOOD, "closed"),
            a.case.id(),
            cause.id,
            cause.name
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn export(a: ExportArgs, db: Option<&str>, out: &Out) -> CmdResult {
    let mut s = open_store(db)?;
    let c = s.case(a.case.id()).map_err(store_err)?;
    if a.format == "json" || out.json {
        out.json(&case_json(&c, a.show_ids))?;
    } else {
        // Markdown is a document (a file to send), not terminal text: its tables are not refitted.
        anstream::print!("{}", markdown(&c, a.show_ids));
    }
    Ok(ExitCode::SUCCESS)
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown case report a customer or another shop can read.
pub fn markdown(c: &Case, show_ids: bool) -> String {
    let kb = kb();
    let mut s = String::new();
    let _ = writeln!(s, "# Case {}: {}\n", c.id, device_title(&c.device));
    let _ = writeln!(
        s,
        "- **Status:** {}",
        match (&c.closed_cause, c.closed_at) {
            (Some(cause), Some(at)) => {
                let name = kb.cause(cause).map(|x| x.name.as_str()).unwrap_or(cause);
                format!(
                    "closed {} — confirmed cause: {name} (`{cause}`)",
                    format_time(at)
                )
            }
            _ => "open".to_string(),
        }
    );
    let _ = writeln!(s, "- **Opened:** {}", format_time(c.opened_at));
    if let Some(code) = c.error_code {
        let meaning = kb
            .error_code(code)
            .map(|e| format!(" — {}", e.summary))
            .unwrap_or_default();
        let _ = writeln!(s, "- **Error:** {code}{meaning}");
    }
    if let Some(cu) = &c.customer {
        let _ = writeln!(s, "- **Customer:** {cu}");
    }
    if let Some(t) = &c.ticket {
        let _ = writeln!(s, "- **Ticket:** {t}");
    }
    if let Some(ids) = ids_line(&c.device, show_ids) {
        let _ = writeln!(s, "- **Device identifiers:** {ids}");
    }
    let _ = writeln!(s, "\n## Restore attempts\n");
    if c.attempts.is_empty() {
        let _ = writeln!(s, "None recorded.");
    } else {
        let _ = writeln!(
            s,
            "| # | When | Computer | Port | Cable | Hub | Tool | Kind | Result | Stage | Progress | Took |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
        );
        for (i, a) in c.attempts.iter().enumerate() {
            let o = |v: &Option<String>| v.as_deref().map(md_cell).unwrap_or_else(|| "–".into());
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                i + 1,
                format_time(a.at),
                md_cell(&a.computer),
                o(&a.port),
                o(&a.cable),
                if a.hub { "yes" } else { "no" },
                o(&a.tool),
                a.kind.map_or("–", |k| k.as_str()),
                attempt_result_text(a),
                o(&a.stage),
                a.progress.map_or("–".into(), |p| format!("{p}%")),
                a.duration_ms.map_or("–".into(), store::duration_words),
            );
        }
        let watched: Vec<(usize, &Attempt)> = c
            .attempts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.usb_events.is_some())
            .collect();
        if !watched.is_empty() {
            let _ = writeln!(s, "\nUSB during the attempts (UTC):");
            for (i, a) in watched {
                let events = a.usb_events.as_deref().unwrap_or_default();
                if events.is_empty() {
                    let _ = writeln!(s, "- attempt {}: no Apple device seen", i + 1);
                    continue;
                }
                let _ = writeln!(s, "- attempt {}:", i + 1);
                for e in events {
                    let e = if show_ids { e.clone() } else { e.redacted() };
                    let _ = writeln!(s, "  - {} {}", e.clock(), md_cell(&e.text));
                }
            }
        }
        let logs: Vec<&Attempt> = c
            .attempts
            .iter()
            .filter(|a| a.log_sha256.is_some())
            .collect();
        if !logs.is_empty() {
            let _ = writeln!(s, "\nLogs kept (SHA-256):");
            for a in logs {
                let _ = writeln!(
                    s,
                    "- attempt {}: `{}`",
                    c.attempts.iter().position(|x| x.id == a.id).unwrap_or(0) + 1,
                    a.log_sha256.as_deref().unwrap_or("")
                );
            }
        }
        let _ = writeln!(s, "\n{}", matrix_summary(c));
    }
    if !c.steps.is_empty() {
        let _ = writeln!(s, "\n## Steps taken\n");
        let _ = writeln!(s, "| When | Step | Outcome | By |\n|---|---|---|---|");
        for st in &c.steps {
            let title = kb
                .action(&st.action)
                .map(|x| x.title.clone())
                .unwrap_or_else(|| st.action.clone());
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                format_time(st.at),
                md_cell(&title),
                st.outcome.as_str(),
                st.who.as_deref().map(md_cell).unwrap_or_else(|| "–".into())
            );
        }
    }
    if let Some(v) = &c.verdict {
        let _ = writeln!(
            s,
            "\n## restore-doctor's assessment\n\n{}",
            recommendation_text(v)
        );
    }
    if !c.notes.is_empty() {
        let _ = writeln!(s, "\n## Notes\n");
        for n in &c.notes {
            let _ = writeln!(s, "- {} — {}", format_time(n.at), md_cell(&n.body));
        }
    }
    s
}
