//! The interactive diagnosis wizard (`restore-doctor diagnose` on a terminal, no flags).
//!
//! It asks three things (the device, the error, the program: what the engine needs), then goes
//! one step at a time. The first step comes right after those three questions; after it, a
//! quick question comes first when the engine says its answer changes the next step. Nothing is
//! asked twice: answers, outcomes and what they imply go to the engine as evidence (a step that
//! still fails with the same error is another failed attempt with that code, so "did the error
//! change?" is answered; a step the person cannot do, or that does not apply, is
//! `StepOutcome::CannotDo`). Only the backup question is asked before a step that erases the
//! device; whether the person has what a step needs is one of the step's own answers.
//! Each step shows its instructions for the chosen program and why in a sentence or two;
//! "Why this step?" (or `--why`) shows the evidence. The state is saved to a session file after
//! every answer, so the wizard can be quit and resumed; at the end the verdict can be saved as
//! a Markdown report for a repair shop.

use crate::output::{
    ACCENT, BAD, BOLD, CmdResult, DIM, GOOD, HEADING, WARN, bad_input, bar, paint,
};
use engine::api::{DiagnoseRequest, DiagnoseResponse, diagnose_request, find_device};
use engine::{ActionTried, Attempt, AttemptResult, StepOutcome};
use inquire::{Confirm, InquireError, Select, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What the session file holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Session {
    pub request: DiagnoseRequest,
    /// Questions the person could not answer (not asked again).
    pub skipped: Vec<String>,
    /// What happened, in order, for the report.
    pub log: Vec<String>,
    /// Show the full reasoning with every step (`--why`).
    #[serde(default)]
    pub why: bool,
}

/// The default session file: `$XDG_STATE_HOME/restore-doctor/wizard-session.json` or
/// `~/.local/state/restore-doctor/wizard-session.json`.
pub fn default_session_path() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("restore-doctor").join("wizard-session.json")
}

fn load(path: &Path) -> Option<Session> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn save(path: &Path, s: &Session) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(s)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Quit (Esc or the menu's "Quit for now"), interrupted (Ctrl-C), or a prompt error.
enum Stop {
    Quit,
    Interrupted,
    Failed(anyhow::Error),
}

/// The exit code of a wizard stopped with Ctrl-C: 128 + SIGINT, as a shell reports it.
pub const INTERRUPTED_EXIT: u8 = 130;

impl From<InquireError> for Stop {
    fn from(e: InquireError) -> Self {
        match e {
            InquireError::OperationCanceled => Stop::Quit,
            InquireError::OperationInterrupted => Stop::Interrupted,
            other => Stop::Failed(other.into()),
        }
    }
}

impl From<anyhow::Error> for Stop {
    fn from(e: anyhow::Error) -> Self {
        Stop::Failed(e)
    }
}

pub fn run(session: Option<PathBuf>, role: Option<String>, why: bool) -> CmdResult {
    let path = session.unwrap_or_else(default_session_path);
    let mut s = Session {
        why,
        ..Session::default()
    };
    crate::sayln!(
        "{}\n{}\n",
        paint(HEADING, "restore-doctor: find out why the restore fails"),
        paint(
            DIM,
            "One step at a time. Esc or Ctrl-C quits; the session is saved and can be resumed."
        )
    );
    match step_all(&path, &mut s, role) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(stop @ (Stop::Quit | Stop::Interrupted)) => {
            if s.request != DiagnoseRequest::default() {
                save(&path, &s)?;
                crate::sayln!(
                    "\nSaved. Run `restore-doctor diagnose` again to resume ({}).",
                    path.display()
                );
            }
            // Ctrl-C is an interruption: scripts and shells see it as one (exit 130).
            Ok(match stop {
                Stop::Interrupted => ExitCode::from(INTERRUPTED_EXIT),
                _ => ExitCode::SUCCESS,
            })
        }
        Err(Stop::Failed(e)) => match e.downcast::<InquireError>() {
            Ok(InquireError::NotTTY) => {
                bad_input("the wizard needs a terminal; use flags and --json instead (see --help)")
            }
            Ok(other) => Err(other.into()),
            Err(e) => Err(e),
        },
    }
}

const WORKED: &str = "It worked";
const SAME: &str = "Still fails (same error)";
const OTHER: &str = "Still fails, with a different error number";
const CANT: &str = "I can't do this, or it does not apply";
const WHY: &str = "Why this step?";
const WORDS: &str = "Add something in my own words";
const QUIT: &str = "Quit for now (save and resume later)";

fn step_all(path: &Path, s: &mut Session, role: Option<String>) -> Result<(), Stop> {
    if let Some(saved) = load(path) {
        let what = describe_request(&saved.request);
        if Confirm::new(&format!("Resume the saved session ({what})?"))
            .with_default(true)
            .prompt()?
        {
            let why = s.why;
            *s = saved;
            s.why |= why;
        }
    }
    if s.request == DiagnoseRequest::default() {
        intake(s, role)?;
        save(path, s)?;
    }
    let mut previous: Option<DiagnoseResponse> = None;
    loop {
        let resp = match diagnose_request(&s.request) {
            Ok(r) => r,
            Err(e) => return Err(Stop::Failed(anyhow::anyhow!("{e}"))),
        };
        show_probabilities(&resp, previous.as_ref());
        for w in &resp.warnings {
            crate::sayln!("{} {w}", paint(WARN, "warning:"));
        }
        let finished = resp.next_step.is_none()
            || resp
                .next_step
                .as_ref()
                .is_some_and(|n| n.action == engine::model::SERVICE_ACTION);
        if finished && resp.verdict.is_some() {
            finish(path, s, &resp)?;
            return Ok(());
        }
        // A quick question whose answer changes the next step, once the first step is shown
        // (the first comes right after the three intake questions).
        let first_step_done = !s.request.steps.is_empty();
        if first_step_done
            && let Some(q) = resp
                .questions
                .iter()
                .find(|q| !s.skipped.contains(&q.id) && q.value > 0.0)
        {
            ask(s, &q.id, &q.question, &q.outcomes)?;
            save(path, s)?;
            previous = Some(resp);
            continue;
        }
        let Some(next) = resp.next_step.clone() else {
            finish(path, s, &resp)?;
            return Ok(());
        };
        // Before a step that erases the device: is the data safe? (Whether the person has what
        // a step needs is one of the step's answers instead: "I can't do this".)
        if let Some(q) = &next.ask_first
            && q.id == engine::diagnose::BACKUP_QUESTION
            && !s.request.answers.contains_key(&q.id)
            && !s.skipped.contains(&q.id)
        {
            ask(s, &q.id, &q.question, &q.outcomes)?;
            save(path, s)?;
            previous = Some(resp);
            continue;
        }
        show_step(&next, s.why);
        let code = s.request.error;
        if next.kind != "action" {
            let mut options: Vec<String> = obs_outcomes(&next.action);
            options.extend([CANT.to_string(), WHY.to_string(), QUIT.to_string()]);
            let answer = loop {
                let a = Select::new("Result:", options.clone()).prompt()?;
                if a == WHY {
                    show_why(&next, &resp);
                    continue;
                }
                break a;
            };
            if answer == QUIT {
                return Err(Stop::Quit);
            }
            if answer == CANT {
                s.skipped.push(next.action.clone());
                s.log.push(format!("{}: could not be done", next.title));
            } else {
                s.request
                    .answers
                    .insert(next.action.clone(), answer.clone());
                s.log.push(format!("{} {answer}", next.title));
            }
            save(path, s)?;
            previous = Some(resp);
            continue;
        }
        let choice = loop {
            let c = Select::new(
                "How did it go?",
                vec![WORKED, SAME, OTHER, CANT, WHY, WORDS, QUIT],
            )
            .prompt()?;
            match c {
                WHY => show_why(&next, &resp),
                WORDS => {
                    let words = Text::new("In your own words (what you tried, what you noticed):")
                        .prompt()?;
                    let words = words.trim();
                    if !words.is_empty() {
                        s.request.text = Some(match s.request.text.take() {
                            Some(t) => format!("{t}. {words}"),
                            None => words.to_string(),
                        });
                        s.log.push(format!("In the owner's words: {words}"));
                        save(path, s)?;
                        break None;
                    }
                }
                other => break Some(other),
            }
        };
        let Some(choice) = choice else {
            previous = Some(resp);
            continue;
        };
        let outcome = match choice {
            WORKED => StepOutcome::Fixed,
            SAME => {
                // Another failed attempt with the same code: "did the error change?" is
                // answered by the attempts (two or more with a code).
                if retries(&next.action) {
                    s.request.attempts.push(Attempt {
                        result: code.map_or(AttemptResult::Failed, AttemptResult::Error),
                        ..Attempt::failed()
                    });
                }
                StepOutcome::Failed
            }
            OTHER => {
                let code = Text::new("Which error number did it show?")
                    .with_validator(|t: &str| {
                        Ok(match crate::cmd::diagnose::parse_error(t) {
                            Ok(_) => inquire::validator::Validation::Valid,
                            Err(_) => inquire::validator::Validation::Invalid(
                                "a number such as 4013 or -1".into(),
                            ),
                        })
                    })
                    .prompt()?;
                let code = crate::cmd::diagnose::parse_error(&code).map_err(Stop::Failed)?;
                if s.request.error.is_some_and(|c| c != code) {
                    s.request
                        .answers
                        .insert("error_varies".into(), "yes".into());
                }
                s.request.attempts.push(Attempt {
                    result: AttemptResult::Error(code),
                    ..Attempt::failed()
                });
                StepOutcome::Failed
            }
            CANT => StepOutcome::CannotDo,
            _ => return Err(Stop::Quit),
        };
        s.log.push(format!(
            "{}: {}",
            next.title,
            match outcome {
                StepOutcome::Fixed => "it worked",
                StepOutcome::Failed => "still fails",
                StepOutcome::CannotDo => "could not be done",
            }
        ));
        s.request.steps.retain(|t| t.action != next.action);
        s.request.steps.push(ActionTried {
            action: next.action.clone(),
            outcome,
        });
        save(path, s)?;
        previous = Some(resp);
    }
}

/// Whether a step ends in another try at the restore (it is meant to fix something), so that
/// "still fails" is another failed attempt.
fn retries(action: &str) -> bool {
    kb::kb().action(action).is_some_and(|a| !a.fixes.is_empty())
}

/// The next step: title, cost, the erase warning, the instructions for the chosen program, and
/// why in a sentence or two (all of it with `--why`).
fn show_step(next: &engine::api::StepOut, full: bool) {
    crate::sayln!(
        "\n{} {}",
        paint(BOLD, "Next step:"),
        paint(GOOD, &next.title)
    );
    let money = if next.cost.usd > 0.0 {
        format!(", about ${:.0}", next.cost.usd)
    } else {
        String::new()
    };
    crate::sayln!(
        "{}",
        paint(DIM, format!("about {:.0} min{money}", next.cost.minutes))
    );
    if next.erases_data {
        crate::sayln!("{}", paint(BAD, "This step ERASES the device."));
    }
    // The action's own lines numbered; a button guide's heading and its steps as they come.
    let mut n = 0;
    for line in &next.instructions {
        if next.kind == "action" && !line.starts_with(' ') && !line.ends_with(':') {
            n += 1;
            crate::sayln!("  {n}. {line}");
        } else {
            crate::sayln!("  {line}");
        }
    }
    let why = if full || next.why_short.is_empty() {
        &next.why
    } else {
        &next.why_short
    };
    crate::sayln!("{} {why}", paint(DIM, "Why:"));
}

/// The evidence behind a step: the full reasoning and what moved each cause.
fn show_why(next: &engine::api::StepOut, r: &DiagnoseResponse) {
    crate::sayln!("\n{} {}", paint(BOLD, "Why:"), next.why);
    let moved: Vec<_> = r
        .explanation
        .iter()
        .filter(|e| !e.moves.is_empty())
        .collect();
    if !moved.is_empty() {
        crate::sayln!("{}", paint(BOLD, "What moved the probabilities"));
        for e in moved {
            crate::sayln!("  - {}", e.text);
        }
    }
    crate::sayln!();
}

fn obs_outcomes(id: &str) -> Vec<String> {
    kb::kb()
        .observation(id)
        .map(|o| o.outcomes.clone())
        .unwrap_or_else(|| vec!["yes".into(), "no".into()])
}

fn ask(s: &mut Session, id: &str, question: &str, outcomes: &[String]) -> Result<(), Stop> {
    const DONT_KNOW: &str = "I don't know";
    let mut options: Vec<String> = outcomes.to_vec();
    options.push(DONT_KNOW.into());
    let answer = Select::new(question, options).prompt()?;
    if answer == DONT_KNOW {
        s.skipped.push(id.to_string());
        s.log.push(format!("{question} I don't know"));
    } else {
        s.request.answers.insert(id.to_string(), answer.clone());
        s.log.push(format!("{question} {answer}"));
    }
    Ok(())
}

fn intake(s: &mut Session, role: Option<String>) -> Result<(), Stop> {
    let kb = kb::kb();
    let device =
        Text::new("Which device? (e.g. iPhone X, iPhone 7 Plus, iPad 7th gen; Enter if unsure)")
            .with_validator(move |t: &str| {
                if t.trim().is_empty() {
                    return Ok(inquire::validator::Validation::Valid);
                }
                Ok(match find_device(kb, t) {
                    Ok(_) => inquire::validator::Validation::Valid,
                    Err(e) => inquire::validator::Validation::Invalid(e.to_string().into()),
                })
            })
            .prompt()?;
    let error = Text::new("Which error number did the restore or update show? (Enter if none)")
        .with_validator(|t: &str| {
            if t.trim().is_empty() {
                return Ok(inquire::validator::Validation::Valid);
            }
            Ok(match crate::cmd::diagnose::parse_error(t) {
                Ok(_) => inquire::validator::Validation::Valid,
                Err(_) => {
                    inquire::validator::Validation::Invalid("a number such as 4013, 9 or -1".into())
                }
            })
        })
        .prompt()?;
    let hosts: BTreeMap<&str, &str> = [
        ("iTunes on Windows", "windows_itunes"),
        ("Apple Devices app on Windows", "windows_apple_devices"),
        ("Finder on a Mac", "macos_finder"),
        ("iTunes on a Mac", "macos_itunes"),
        ("Apple Configurator", "apple_configurator"),
        ("3uTools", "3utools"),
        ("iMazing", "imazing"),
        ("idevicerestore", "idevicerestore"),
        ("futurerestore", "futurerestore"),
        ("Something else / not sure", "unknown"),
    ]
    .into_iter()
    .collect();
    let labels: Vec<&str> = vec![
        "iTunes on Windows",
        "Apple Devices app on Windows",
        "Finder on a Mac",
        "iTunes on a Mac",
        "Apple Configurator",
        "3uTools",
        "iMazing",
        "idevicerestore",
        "futurerestore",
        "Something else / not sure",
    ];
    let host = Select::new("Which program did you use?", labels).prompt()?;
    let error = Some(error.trim())
        .filter(|e| !e.is_empty())
        .map(crate::cmd::diagnose::parse_error)
        .transpose()
        .map_err(Stop::Failed)?;
    s.request = DiagnoseRequest {
        device: Some(device.trim().to_string()).filter(|d| !d.is_empty()),
        error,
        host: Some(hosts[host].to_string()),
        // The restore that failed with this code is the first failed attempt.
        attempts: error
            .map(|c| Attempt {
                result: AttemptResult::Error(c),
                ..Attempt::failed()
            })
            .into_iter()
            .collect(),
        role,
        ..DiagnoseRequest::default()
    };
    Ok(())
}

fn describe_request(r: &DiagnoseRequest) -> String {
    let mut parts = Vec::new();
    if let Some(d) = &r.device {
        parts.push(d.clone());
    }
    if let Some(e) = r.error {
        parts.push(format!("error {e}"));
    }
    parts.push(format!("{} steps done", r.steps.len()));
    parts.join(", ")
}

fn show_probabilities(r: &DiagnoseResponse, before: Option<&DiagnoseResponse>) {
    crate::sayln!("\n{}", paint(BOLD, "Most likely causes now"));
    for c in r.causes.iter().take(5) {
        let was = before
            .and_then(|b| b.causes.iter().find(|x| x.id == c.id))
            .map(|x| x.probability);
        let moved = match was {
            Some(w) if (c.probability - w).abs() >= 0.01 => {
                format!(" (was {:.0}%)", w * 100.0)
            }
            _ => String::new(),
        };
        crate::sayln!(
            "  {:<42} {} {:>3.0}%{}",
            c.name,
            paint(ACCENT, bar(c.probability, 20)),
            c.probability * 100.0,
            paint(DIM, moved)
        );
    }
}

fn finish(path: &Path, s: &mut Session, r: &DiagnoseResponse) -> Result<(), Stop> {
    if let Some(v) = &r.verdict {
        crate::sayln!("\n{}", paint(HEADING, "Verdict"));
        crate::sayln!("  {}", paint(GOOD, &v.summary));
        crate::sayln!("  A shop should test first: {}", v.shop_test_first);
        if v.repair.usd_high > 0.0 {
            crate::sayln!(
                "  Typical repair: ${:.0}–${:.0}",
                v.repair.usd_low,
                v.repair.usd_high
            );
        }
        crate::sayln!("  Keeping your data: {}", v.keep_data);
    } else {
        crate::sayln!("\nNothing more to try here.");
    }
    if Confirm::new("Save a report for a repair shop (Markdown)?")
        .with_default(true)
        .prompt()?
    {
        let file = Text::new("File name:")
            .with_default("restore-doctor-report.md")
            .prompt()?;
        std::fs::write(&file, report(s, r)).map_err(|e| Stop::Failed(e.into()))?;
        crate::sayln!("Saved {file}.");
    }
    let _ = std::fs::remove_file(path);
    Ok(())
}

/// The Markdown report for a shop.
pub fn report(s: &Session, r: &DiagnoseResponse) -> String {
    let mut md = String::from("# restore-doctor report\n\n");
    let device = r.device.as_ref().map_or("unknown device".to_string(), |d| {
        format!("{} ({})", d.name, d.product_type)
    });
    let _ = writeln!(md, "- Device: {device}");
    if let Some(c) = r.error_code {
        let _ = writeln!(md, "- Error: {c}");
    }
    if let Some(h) = &r.host {
        let _ = writeln!(md, "- Program: {}", engine::words::host(h));
    }
    if let Some(t) = &s.request.text {
        let _ = writeln!(md, "- In the owner's words: {t}");
    }
    if let Some(v) = &r.verdict {
        let _ = writeln!(md, "\n## Verdict\n\n{}\n", v.summary);
        let _ = writeln!(md, "- Test first: {}", v.shop_test_first);
        if v.repair.usd_high > 0.0 {
            let _ = writeln!(
                md,
                "- Typical repair cost: ${:.0}–${:.0}",
                v.repair.usd_low, v.repair.usd_high
            );
        }
        let _ = writeln!(md, "- Keeping the data: {}", v.keep_data);
    }
    let _ = writeln!(md, "\n## What was done\n");
    if s.log.is_empty() {
        let _ = writeln!(md, "- nothing yet");
    }
    for line in &s.log {
        let _ = writeln!(md, "- {line}");
    }
    let _ = writeln!(
        md,
        "\n## Likely causes\n\n| cause | group | probability |\n|---|---|---|"
    );
    for c in r.causes.iter().take(8) {
        let _ = writeln!(
            md,
            "| {} | {} | {:.0}% |",
            c.name,
            c.group,
            c.probability * 100.0
        );
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(md, "\n## Warnings\n");
        for w in &r.warnings {
            let _ = writeln!(md, "- {w}");
        }
    }
    md
}
