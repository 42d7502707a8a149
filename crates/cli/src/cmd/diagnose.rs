//! `restore-doctor diagnose`: the probability of every cause, the next best step with
//! model-specific instructions, the plan, a verdict and the reasons, from flags, free text and
//! restore logs. With no flags on a terminal it runs the interactive wizard.

mod wizard;

use crate::output::{
    ACCENT, BAD, BOLD, CmdResult, DIM, GOOD, HEADING, Out, WARN, bad_input, bar, paint,
};
use engine::api::{DiagnoseRequest, DiagnoseResponse, diagnose_request};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug, Default)]
#[command(after_help = "Examples:
  restore-doctor diagnose --device \"iPhone X\" --error 4013
  restore-doctor diagnose --device iPhone9,3 --error 4013 --tried cable_swap,other_computer --observed speaker_greyed_out --json
  restore-doctor diagnose --text \"my iphone 7+ fails with error 4013 at the same percentage, tried two cables\"
  restore-doctor diagnose --device \"iPhone 8\" --log restore1.log --log restore2.log --role technician
  restore-doctor diagnose --device \"iPhone 11\" --error 4013 --host windows_apple_devices --why
  restore-doctor diagnose            # on a terminal: the interactive wizard

Vocabularies:
  --host      windows_itunes, windows_apple_devices, macos_finder, macos_itunes, itunes,
              apple_configurator, imazing, 3utools, idevicerestore, futurerestore,
              legacy_ios_kit, pymobiledevice3, downgrade_tool, other, unknown
  --tried     cable_swap, port_swap, hub_removed, other_computer, host_software_update,
              force_restart, recovery_update, recovery_restore, dfu_restore, firmware_redownload,
              third_party_tool, security_software_disabled, hosts_file_checked, network_change,
              battery_replaced, device_port_cleaned, storage_freed
              (or the action ids they stand for: swap_cable, remove_hub, update_host_software...)
  --observed  liquid_exposure, recent_drop, recent_repair, speaker_greyed_out, no_service,
              face_id_broken, true_tone_missing, boot_loop, not_detected, detected_in_dfu,
              detected_in_recovery, same_failure_point, error_varies,
              works_with_earpiece_flex_disconnected, low_storage, battery_dead, charging_problem,
              old_host_software, update_interrupted, hub_or_adapter, port_debris,
              downgrade_attempt, device_locked, virtual_machine, host_usb_service,
              saved_blobs, custom_firmware, beta_firmware, after_update, widespread,
              hard_drive_ipod, network_trouble
              (each optionally =yes/=no), failure_stage=<stage>, progress=<percent>, attempts=<n>,
              and any other question's id with its answer: backup_exists=yes,
              has_second_computer=no, dc_boot_current=short...")]
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
    /// The problem in your own words; what was understood is shown (flags win). `-` reads it
    /// from standard input.
    #[arg(long, conflicts_with = "text_file")]
    pub text: Option<String>,
    /// Read the problem in your own words from a file (for accounts too long for an argument).
    #[arg(long, value_name = "PATH")]
    pub text_file: Option<PathBuf>,
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
    /// Show the full reasoning: every piece of evidence and how it moved the causes (without
    /// it, why in a sentence or two; `--json` always has it, as `explanation`).
    #[arg(long)]
    pub why: bool,
}

impl Args {
    fn has_evidence(&self) -> bool {
        self.device.is_some()
            || self.error.is_some()
            || self.host.is_some()
            || !self.tried.is_empty()
            || !self.observed.is_empty()
            || self.text.is_some()
            || self.text_file.is_some()
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

/// The longest free text read from a file or standard input (the web form takes 20,000
/// characters; a file may hold a longer account, but not a whole log).
pub const MAX_TEXT_BYTES: u64 = 1 << 20;

/// The free text: `--text WORDS`, `--text -` (standard input) or `--text-file PATH`.
fn read_text(args: &Args) -> anyhow::Result<Option<String>> {
    use std::io::Read;
    let (what, bytes) = match (&args.text, &args.text_file) {
        (Some(t), _) if t != "-" => return Ok(Some(t.clone())),
        (Some(_), _) => {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .take(MAX_TEXT_BYTES + 1)
                .read_to_end(&mut buf)
                .map_err(|e| anyhow::anyhow!("--text -: cannot read standard input: {e}"))?;
            ("--text - (standard input)".to_string(), buf)
        }
        (None, Some(path)) => {
            let what = format!("--text-file {}", path.display());
            let file = match std::fs::File::open(path) {
                Ok(f) => f,
                Err(e) => return bad_input(format!("{what}: cannot be read: {e}")),
            };
            let mut buf = Vec::new();
            if let Err(e) = file.take(MAX_TEXT_BYTES + 1).read_to_end(&mut buf) {
                return bad_input(format!("{what}: cannot be read: {e}"));
            }
            (what, buf)
        }
        (None, None) => return Ok(None),
    };
    if bytes.len() as u64 > MAX_TEXT_BYTES {
        return bad_input(format!(
            "{what}: longer than {} KiB; give the account in words, and restore logs with --log",
            MAX_TEXT_BYTES >> 10
        ));
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return bad_input(format!("{what}: is not UTF-8 text"));
    };
    if text.trim().is_empty() {
        return bad_input(format!("{what}: is empty"));
    }
    Ok(Some(text))
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
        text: read_text(args)?,
        case: args.case.clone(),
        role: args.role.clone(),
        ..DiagnoseRequest::default()
    };
    if !args.logs.is_empty() {
        let mut read = Vec::new();
        for path in &args.logs {
            let started = std::time::Instant::now();
            match logs::analyze_path(path, &mut |_| {}) {
                Ok(log) if log.bytes == 0 => {
                    return bad_input(format!(
                        "--log {}: is empty, there is no log to read",
                        path.display()
                    ));
                }
                Ok(log) => {
                    crate::trace::restore_log(&path.display().to_string(), &log, started.elapsed());
                    read.push(log);
                }
                Err(e) => return bad_input(format!("--log: {e}")),
            }
        }
        for note in engine::intake::add_logs(&mut req, &read) {
            match note {
                engine::intake::LogNote::Succeeded(i) => warnings.push(format!(
                    "{} shows a restore that finished successfully: it says nothing about a failure. \
                     Give the log of the attempt that failed.",
                    args.logs[i].display()
                )),
            }
        }
    }
    Ok((req, warnings))
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
            return wizard::run(args.session.clone(), args.role.clone(), args.why);
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
        tracing::info!(
            "case {id}: {} attempts and {} steps read as evidence",
            req.attempts.len(),
            req.steps.len()
        );
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
            tracing::info!(
                "this shop's confirmed causes for {device} with error {code}: {counts:?}"
            );
            req.shop_counts = counts;
        }
    }
    let started = std::time::Instant::now();
    let mut resp = match diagnose_request(&req) {
        Ok(r) => r,
        Err(e) => return bad_input(e.to_string()),
    };
    crate::trace::diagnosis(&req, &resp, started.elapsed());
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
        crate::say!("{}", render(&resp, args.why));
    }
    Ok(ExitCode::SUCCESS)
}

fn pct(p: f64) -> String {
    format!("{:>3.0}%", p * 100.0)
}

/// The human report: header, groups and causes as bars, next step, plan, questions, verdict,
/// warnings; with `why`, the full reasoning and the evidence that moved the causes.
pub fn render(r: &DiagnoseResponse, why: bool) -> String {
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
        let parts = engine::words::understood(kb::kb(), u);
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
                crate::output::wrap(&format!("With this code: {note}"), "      "),
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
        let reason = if why || n.why_short.is_empty() {
            &n.why
        } else {
            &n.why_short
        };
        s.push_str(&format!("  {} {}\n", paint(DIM, "Why:"), reason));
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
                erases_note(p.erases_data, &p.title),
                paint(DIM, format!("{:.0}% to fix", p.probability_fixes * 100.0))
            ));
        }
    }
    if !r.tests.is_empty() {
        let heading = if r.role == "technician" {
            "Bench tests worth running"
        } else {
            "Tests worth running"
        };
        s.push_str(&format!("\n{}\n", paint(BOLD, heading)));
        for t in r.tests.iter().take(4) {
            let needs = if t.needs.is_empty() {
                String::new()
            } else {
                format!(", needs {}", t.needs.join(", ").replace('_', " "))
            };
            s.push_str(&format!(
                "  - {}  {}\n",
                t.question,
                paint(DIM, format!("(about {:.0} min{needs})", t.cost.minutes))
            ));
            for o in &t.outcomes {
                s.push_str(&format!(
                    "      {}: {} ({:.0}%)\n",
                    o.outcome,
                    o.leads_to_name,
                    o.cause_probability * 100.0
                ));
            }
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
                paint(
                    DIM,
                    format!("(--observed {}={})", q.id, q.outcomes.join("|"))
                )
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
    if !why && !moved.is_empty() {
        s.push_str(&format!(
            "\n{}\n",
            paint(
                DIM,
                "(--why: the evidence behind this and how it moved each cause)"
            )
        ));
    }
    if why && !moved.is_empty() {
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

/// " (erases the device)" after a step's title, unless the title says so already.
pub fn erases_note(erases: bool, title: &str) -> &'static str {
    if erases && !title.to_ascii_lowercase().contains("erase") {
        " (erases the device)"
    } else {
        ""
    }
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
