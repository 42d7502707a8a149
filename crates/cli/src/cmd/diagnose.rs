//! `restore-doctor diagnose`: the probability of every cause, the next best step with
//! model-specific instructions, the plan, a verdict and the reasons, from flags, free text and
//! restore logs. With no flags on a terminal it runs the interactive wizard.

mod wizard;

use crate::output::{
    ACCENT, BAD, BOLD, CmdResult, DIM, GOOD, HEADING, Out, WARN, bad_input, bar, paint,
};
use engine::api::{DiagnoseRequest, DiagnoseResponse, diagnose_request};
use engine::{Attempt, AttemptResult};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug, Default)]
#[command(after_help = "Examples:
  restore-doctor diagnose --device \"iPhone X\" --error 4013
  restore-doctor diagnose --device iPhone9,3 --error 4013 --tried cable_swap,other_computer --observed speaker_greyed_out --json
  restore-doctor diagnose --text \"my iphone 7+ fails with error 4013 at the same percentage, tried two cables\"
  restore-doctor diagnose --device \"iPhone 8\" --log restore1.log --log restore2.log --role technician
  restore-doctor diagnose            # on a terminal: the interactive wizard

Vocabularies:
  --host      windows_itunes, windows_apple_devices, macos_finder, macos_itunes, itunes,
              apple_configurator, imazing, 3utools, idevicerestore, futurerestore, other, unknown
  --tried     cable_swap, port_swap, hub_removed, other_computer, host_software_update,
              force_restart, recovery_update, recovery_restore, dfu_restore, firmware_redownload,
              third_party_tool, security_software_disabled, hosts_file_checked, network_change,
              battery_replaced, device_port_cleaned, storage_freed
  --observed  liquid_exposure, recent_drop, recent_repair, speaker_greyed_out, no_service,
              face_id_broken, true_tone_missing, boot_loop, not_detected, detected_in_dfu,
              detected_in_recovery, same_failure_point, error_varies,
              works_with_earpiece_flex_disconnected, low_storage, battery_dead, charging_problem,
              old_host_software, update_interrupted, hub_or_adapter, port_debris,
              downgrade_attempt, device_locked
              (each optionally =yes/=no), failure_stage=<stage>, progress=<percent>, attempts=<n>")]
pub struct Args {
    /// The device: name, product type or board ("iPhone X", "iPhone10,3", "d22ap").
    #[arg(long)]
    pub device: Option<String>,
    /// The error code the restore or update ended with (e.g. 4013, 9, -1).
    #[arg(long, allow_negative_numbers = true)]
    pub error: Option<String>,
    /// The program used for the restore (see the vocabulary below).
    #[arg(long)]
    pub host: Option<String>,
    /// What was already done and still fails, comma-separated (see below).
    #[arg(long, value_delimiter = ',')]
    pub tried: Vec<String>,
    /// What was seen, comma-separated: `key`, `key=no`, `failure_stage=nand`, `attempts=3`...
    #[arg(long, value_delimiter = ',')]
    pub observed: Vec<String>,
    /// The problem in your own words; what was understood is shown (flags win).
    #[arg(long)]
    pub text: Option<String>,
    /// A restore log (idevicerestore, iTunes/Finder/Apple Devices, device log); repeatable.
    #[arg(long = "log", value_name = "FILE")]
    pub logs: Vec<PathBuf>,
    /// Who does the work: owner (default) or technician (bench tests, board-level repairs).
    #[arg(long)]
    pub role: Option<String>,
    /// A case from the case history (`restore-doctor cases new`).
    #[arg(long)]
    pub case: Option<String>,
    /// Case database: a SQLite file path or a postgres:// URL. With --case it is where the case
    /// lives; with --device and --error, this shop's confirmed causes for that model and error
    /// are added to the prior as pseudo-counts.
    #[arg(long, env = "RESTORE_DOCTOR_DB", value_name = "PATH|postgres://...")]
    pub db: Option<String>,
    /// Wizard: the session file to resume from and save to.
    #[arg(long, value_name = "FILE")]
    pub session: Option<PathBuf>,
}

impl Args {
    fn has_evidence(&self) -> bool {
        self.device.is_some()
            || self.error.is_some()
            || self.host.is_some()
            || !self.tried.is_empty()
            || !self.observed.is_empty()
            || self.text.is_some()
            || !self.logs.is_empty()
            || self.case.is_some()
    }
}

/// Parse an error code as people write it: `4013`, `-1`, `error 4013`, `(4013)`.
pub fn parse_error(text: &str) -> anyhow::Result<i64> {
    match kb::report::parse_code(text) {
        Some(c) => Ok(c),
        None => bad_input(format!(
            "--error: `{text}` is not an error code; give the number the app showed, e.g. 4013 or -1"
        )),
    }
}

/// Build the engine request from the flags, reading logs with the logs crate; also the
/// warnings the logs call for (a log that shows a successful restore is no failure evidence).
pub fn request(args: &Args) -> anyhow::Result<(DiagnoseRequest, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut req = DiagnoseRequest {
        device: args.device.clone(),
        error: args.error.as_deref().map(parse_error).transpose()?,
        host: args.host.clone(),
        tried: args
            .tried
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        observed: args
            .observed
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        text: args.text.clone(),
        case: args.case.clone(),
        role: args.role.clone(),
        ..DiagnoseRequest::default()
    };
    if !args.logs.is_empty() {
        let mut read = Vec::new();
        for path in &args.logs {
            match logs::analyze_path(path, &mut |_| {}) {
                Ok(log) => read.push(log),
                Err(e) => return bad_input(format!("--log: {e}")),
            }
        }
        req.log_facts = logs::facts_for_logs(&read);
        for (path, log) in args.logs.iter().zip(&read) {
            if log.outcome == logs::Outcome::Success {
                warnings.push(format!(
                    "{} shows a restore that finished successfully: it says nothing about a failure. \
                     Give the log of the attempt that failed.",
                    path.display()
                ));
            }
            if log.outcome == logs::Outcome::Failure {
                // Earlier failed runs of the same paste count as attempts too (with their
                // stage: several at the same point stop further restores). Their codes may be
                // the device's own numbers, so they go as plain failures.
                for run in &log.earlier_attempts {
                    if run.outcome == logs::Outcome::Failure {
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
        }
        if req.device.is_none() {
            req.device = read.iter().find_map(|l| l.device.product_type.clone());
        }
    }
    Ok((req, warnings))
}

/// The stage a log's failed run is recorded at for the engine: the `failure_stage` the log's
/// facts give; a stage before the restore proper (the engine knows it only as
/// `failed_before_restore`, but several runs stopped there still count as the same point); else
/// none. A stage the log's facts hold back (a `reboot` before the restore began, the FDR channel,
/// a ticket already sent) must not reach the engine through the attempt instead.
fn engine_stage(log: &logs::RestoreLog) -> Option<kb::Stage> {
    let stage = log.failure.as_ref().and_then(|f| f.stage)?;
    let told = log
        .facts()
        .iter()
        .any(|(k, v)| k == "failure_stage" && v == stage.as_str());
    (told || stage.before_restore()).then_some(stage)
}

/// What the engine calls an update or an erase restore the log showed.
fn target_of(kind: logs::RestoreKind) -> engine::Target {
    match kind {
        logs::RestoreKind::Update => engine::Target::Update,
        logs::RestoreKind::Restore => engine::Target::Restore,
    }
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    if let Some(r) = &args.role
        && engine::Role::parse(r).is_none()
    {
        return bad_input(format!(
            "--role: unknown role {r:?}; accepted: owner, technician"
        ));
    }
    if !args.has_evidence() {
        let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        if terminal && !out.json {
            return wizard::run(args.session.clone(), args.role.clone());
        }
        return bad_input(
            "diagnose needs something to go on when it is not run on a terminal (the interactive \
             wizard needs one). Give flags, e.g.:\n  restore-doctor diagnose --device \"iPhone X\" \
             --error 4013 --tried cable_swap --json\n  restore-doctor diagnose --text \"iphone 11 \
             error 4013, tried another cable\" --json\nSee `restore-doctor diagnose --help` for the \
             vocabularies.",
        );
    }
    let (mut req, log_warnings) = request(&args)?;
    let mut store = None;
    if let Some(case) = &args.case {
        let Ok(id) = case.trim().trim_start_matches('#').parse::<i64>() else {
            return bad_input(format!(
                "--case: `{case}` is not a case id (a number, e.g. 12)"
            ));
        };
        let mut s = crate::cmd::cases::open_store(args.db.as_deref())?;
        // The case's attempts and steps, and this shop's other closed cases, as evidence.
        s.add_case_evidence(id, &mut req)
            .map_err(crate::cmd::cases::store_err)?;
        store = Some((s, id));
    } else if let (Some(db), Some(device), Some(code)) = (&args.db, &req.device, req.error) {
        // No case: still learn from this shop's closed cases for the same model and error.
        if let kb::DeviceMatch::Found { variants, .. } = kb::kb().find_device(device) {
            let mut s = crate::cmd::cases::open_store(Some(db))?;
            let priors = s
                .shop_prior_counts()
                .map_err(crate::cmd::cases::store_err)?;
            let mut counts = std::collections::BTreeMap::new();
            let product_types: std::collections::BTreeSet<&str> =
                variants.iter().map(|d| d.product_type.as_str()).collect();
            for pt in product_types {
                for (cause, n) in priors.for_code_and_device(Some(code), Some(pt)) {
                    *counts.entry(cause).or_insert(0) += n;
                }
            }
            req.shop_counts = counts;
        }
    }
    let mut resp = match diagnose_request(&req) {
        Ok(r) => r,
        Err(e) => return bad_input(e.to_string()),
    };
    resp.warnings.extend(log_warnings);
    if let Some((mut s, id)) = store {
        let rec = store::Recommendation {
            next_action: resp.next_step.as_ref().map(|n| n.action.clone()),
            verdict_cause: resp.verdict.as_ref().map(|v| v.cause.clone()),
            body: serde_json::to_value(&resp)?,
        };
        s.record_recommendation(id, &rec)
            .map_err(crate::cmd::cases::store_err)?;
    }
    if out.json {
        out.json(&resp)?;
    } else {
        anstream::print!("{}", render(&resp));
    }
    Ok(ExitCode::SUCCESS)
}

fn pct(p: f64) -> String {
    format!("{:>3.0}%", p * 100.0)
}

/// The human report: header, groups and causes as bars, next step, plan, questions, verdict,
/// warnings and the evidence that moved the causes.
pub fn render(r: &DiagnoseResponse) -> String {
    let mut s = String::new();
    let device = r.device.as_ref().map_or("Unknown device".to_string(), |d| {
        format!("{} ({})", d.name, d.product_type)
    });
    let code = r
        .error_code
        .map_or("no error code".to_string(), |c| format!("error {c}"));
    s.push_str(&format!(
        "{}  {}\n",
        paint(HEADING, format!("{device} · {code}")),
        paint(DIM, format!("role: {}", r.role))
    ));
    if let Some(u) = &r.understood {
        let mut parts = Vec::new();
        if let Some(d) = &u.device {
            parts.push(format!("device {d}"));
        }
        if let Some(c) = u.error_code {
            parts.push(format!("error {c}"));
        }
        if let Some(h) = &u.host {
            parts.push(format!("host {h}"));
        }
        if !u.tried.is_empty() {
            parts.push(format!("tried {}", u.tried.join(", ")));
        }
        for (k, v) in u.observed.iter().chain(&u.bench) {
            parts.push(format!("{k}={v}"));
        }
        if let Some(role) = &u.role {
            parts.push(format!("written by a {role}"));
        }
        if let Some(n) = u.attempts {
            parts.push(format!("{n} attempts"));
        }
        if !u.negated.is_empty() {
            parts.push(format!("not: {}", u.negated.join(", ")));
        }
        s.push_str(&format!(
            "{} {}\n",
            paint(DIM, "Understood:"),
            if parts.is_empty() {
                "nothing specific".to_string()
            } else {
                parts.join("; ")
            }
        ));
    }
    s.push('\n');
    s.push_str(&format!("{}\n", paint(BOLD, "Where the fault likely is")));
    for (g, p) in &r.groups {
        s.push_str(&format!(
            "  {:<11} {} {}\n",
            g,
            paint(ACCENT, bar(*p, 24)),
            pct(*p)
        ));
    }
    s.push_str(&format!("\n{}\n", paint(BOLD, "Most likely causes")));
    for c in r.causes.iter().take(6) {
        s.push_str(&format!(
            "  {:<42} {} {}\n",
            truncate(&c.name, 42),
            paint(ACCENT, bar(c.probability, 20)),
            pct(c.probability)
        ));
        if let Some(note) = &c.note {
            s.push_str(&paint(
                DIM,
                crate::output::wrap(&format!("With this code: {note}"), 84, "      "),
            ));
        }
    }
    let rest: f64 = r.causes.iter().skip(6).map(|c| c.probability).sum();
    if r.causes.len() > 6 {
        s.push_str(&format!(
            "  {}\n",
            paint(
                DIM,
                format!("{} other causes: {}", r.causes.len() - 6, pct(rest).trim())
            )
        ));
    }
    if let Some(v) = &r.verdict {
        s.push_str(&format!("\n{}\n", paint(BOLD, "Verdict")));
        s.push_str(&format!("  {}\n", paint(GOOD, &v.summary)));
        s.push_str(&format!(
            "  A shop should test first: {}\n",
            v.shop_test_first
        ));
        if v.repair.usd_high > 0.0 {
            s.push_str(&format!(
                "  Typical repair: ${:.0}–${:.0}\n",
                v.repair.usd_low, v.repair.usd_high
            ));
        }
        s.push_str(&format!("  Keeping your data: {}\n", v.keep_data));
    }
    if let Some(n) = &r.next_step {
        s.push_str(&format!("\n{}\n", paint(BOLD, "Next step")));
        let money = if n.cost.usd > 0.0 {
            format!(", ${:.0}", n.cost.usd)
        } else {
            String::new()
        };
        s.push_str(&format!(
            "  {}  {}\n",
            paint(GOOD, &n.title),
            paint(
                DIM,
                format!("(about {:.0} min{money}, {})", n.cost.minutes, n.skill)
            )
        ));
        if n.erases_data {
            s.push_str(&format!(
                "  {}\n",
                paint(BAD, "This step ERASES the device.")
            ));
        }
        if let Some(q) = &n.ask_first {
            s.push_str(&format!("  First: {}\n", q.question));
        }
        for line in &n.instructions {
            s.push_str(&format!("    {line}\n"));
        }
        s.push_str(&format!("  {} {}\n", paint(DIM, "Why:"), n.why));
    }
    if !r.plan.is_empty() {
        let heading = match r.next_step.as_ref().map(|n| n.kind.as_str()) {
            Some("action") => "If that does not fix it, then",
            Some(_) => "Then, as the plan stands now",
            None => "Plan",
        };
        s.push_str(&format!("\n{}\n", paint(BOLD, heading)));
        for (i, p) in r.plan.iter().enumerate() {
            s.push_str(&format!(
                "  {}. {}{}  {}\n",
                i + 1,
                p.title,
                if p.erases_data {
                    " (erases the device)"
                } else {
                    ""
                },
                paint(DIM, format!("{:.0}% to fix", p.probability_fixes * 100.0))
            ));
        }
    }
    if !r.questions.is_empty() {
        s.push_str(&format!(
            "\n{}\n",
            paint(BOLD, "Answers that would sharpen this")
        ));
        for q in r.questions.iter().take(4) {
            s.push_str(&format!(
                "  - {}  {}\n",
                q.question,
                paint(DIM, format!("(--observed {}=yes|no)", q.id))
            ));
        }
    }
    if !r.warnings.is_empty() {
        s.push('\n');
        for w in &r.warnings {
            s.push_str(&format!("{} {w}\n", paint(WARN, "warning:")));
        }
    }
    let moved: Vec<_> = r
        .explanation
        .iter()
        .filter(|e| !e.moves.is_empty())
        .collect();
    if !moved.is_empty() {
        s.push_str(&format!(
            "\n{}\n",
            paint(BOLD, "What moved the probabilities")
        ));
        for e in moved {
            s.push_str(&format!("  - {}\n", e.text));
        }
    }
    s
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
