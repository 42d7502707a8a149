//! The diagnose wizard's state. It travels in the page as hidden form fields (nothing is kept
//! on the server, so there is no session to steal or expire): what the person said on the
//! first page, then each step done (`step=action:outcome`), each question answered
//! (`answer=observation=value`) and each question the person could not answer
//! (`skip=observation`, not asked again) in order. Each button of a step page adds one more.

use crate::form::FormData;
use crate::limits;
use engine::api::{DiagnoseRequest, DiagnoseResponse, RequestError};
use engine::{ActionTried, Attempt, AttemptResult, StepOutcome};
use std::collections::BTreeMap;

/// One thing learnt during the wizard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Step {
        action: String,
        outcome: String,
    },
    Answer {
        observation: String,
        value: String,
    },
    /// A question the person could not answer ("I don't know"), or a test they cannot run.
    Skip {
        observation: String,
    },
}

/// A value a person entered that cannot be used, with the form field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Everything the wizard knows so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WizardState {
    pub device: Option<String>,
    pub error: Option<String>,
    pub host: Option<String>,
    pub text: Option<String>,
    pub role: Option<String>,
    /// A stored case whose attempts and steps count as evidence.
    pub case: Option<String>,
    pub expendable: bool,
    pub tried: Vec<String>,
    pub observed: Vec<String>,
    pub events: Vec<Event>,
}

const OUTCOMES: [&str; 3] = ["fixed", "failed", "cannot_do"];

/// The longest free text accepted, in characters (a person's account fits many times over).
pub const MAX_TEXT: usize = limits::MAX_TEXT;

/// Refuse a free text longer than [`MAX_TEXT`].
pub fn check_text(text: Option<&str>) -> Result<(), FieldError> {
    match text.map(|t| t.chars().count()) {
        Some(n) if n > MAX_TEXT => Err(FieldError {
            field: "text".into(),
            message: format!("the text is too long ({n} characters): keep it under {MAX_TEXT}"),
        }),
        _ => Ok(()),
    }
}

impl WizardState {
    pub fn from_form(f: &FormData) -> Result<WizardState, FieldError> {
        if f.0.len() > limits::MAX_FORM_FIELDS {
            return Err(FieldError {
                field: "form".into(),
                message: format!(
                    "the form has too many fields ({}): at most {}",
                    f.0.len(),
                    limits::MAX_FORM_FIELDS
                ),
            });
        }
        let mut events = Vec::new();
        for (k, v) in &f.0 {
            if (k == "step" || k == "answer" || k == "skip") && !v.trim().is_empty() {
                if events.len() >= limits::MAX_EVENTS {
                    return Err(FieldError {
                        field: k.clone(),
                        message: format!(
                            "too many steps and answers: the wizard carries at most {}",
                            limits::MAX_EVENTS
                        ),
                    });
                }
                limits::check_len(k, Some(v), 2 * limits::MAX_WORD)?;
            }
            let v = v.trim();
            match k.as_str() {
                "step" if !v.is_empty() => {
                    let (action, outcome) = v.rsplit_once(':').ok_or_else(|| FieldError {
                        field: "step".into(),
                        message: format!("`{v}` is not action:outcome"),
                    })?;
                    if !OUTCOMES.contains(&outcome) {
                        return Err(FieldError {
                            field: "step".into(),
                            message: format!(
                                "outcome `{outcome}` of step `{action}` is not one of fixed, failed, cannot_do"
                            ),
                        });
                    }
                    events.push(Event::Step {
                        action: action.to_string(),
                        outcome: outcome.to_string(),
                    });
                }
                "skip" if !v.is_empty() => events.push(Event::Skip {
                    observation: v.to_string(),
                }),
                "answer" if !v.is_empty() => {
                    let (observation, value) = v.split_once('=').ok_or_else(|| FieldError {
                        field: "answer".into(),
                        message: format!("`{v}` is not question=answer"),
                    })?;
                    events.push(Event::Answer {
                        observation: observation.to_string(),
                        value: value.to_string(),
                    });
                }
                _ => {}
            }
        }
        let mut observed = f.all("observed");
        if let Some(stage) = f.get("failure_stage") {
            observed.push(format!("failure_stage={stage}"));
        }
        let tried = f.all("tried");
        limits::check_list("tried", &tried, limits::MAX_LIST, limits::MAX_WORD)?;
        limits::check_list("observed", &observed, limits::MAX_LIST, limits::MAX_WORD)?;
        for name in ["device", "error", "host", "role", "case"] {
            limits::check_len(name, f.get(name).as_deref(), limits::MAX_NAME)?;
        }
        check_text(f.get("text").as_deref())?;
        Ok(WizardState {
            device: f.get("device"),
            error: f.get("error"),
            host: f.get("host"),
            text: f.get("text"),
            role: f.get("role"),
            case: f.get("case"),
            expendable: f.get("expendable").is_some(),
            tried,
            observed,
            events,
        })
    }

    /// The hidden fields that carry this state to the next page.
    pub fn hidden(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        let mut one = |k: &'static str, val: &Option<String>| {
            if let Some(x) = val {
                v.push((k, x.clone()));
            }
        };
        one("device", &self.device);
        one("error", &self.error);
        one("host", &self.host);
        one("text", &self.text);
        one("role", &self.role);
        one("case", &self.case);
        if self.expendable {
            v.push(("expendable", "yes".to_string()));
        }
        v.extend(self.tried.iter().map(|t| ("tried", t.clone())));
        v.extend(self.observed.iter().map(|o| ("observed", o.clone())));
        for e in &self.events {
            match e {
                Event::Step { action, outcome } => v.push(("step", format!("{action}:{outcome}"))),
                Event::Answer { observation, value } => {
                    v.push(("answer", format!("{observation}={value}")))
                }
                Event::Skip { observation } => v.push(("skip", observation.clone())),
            }
        }
        v
    }

    /// Whether a step (not only questions) has been answered yet.
    pub fn step_done(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::Step { .. }))
    }

    /// Questions and tests the person could not answer.
    pub fn skipped(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Skip { observation } => Some(observation.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The engine request this state stands for.
    pub fn request(&self) -> Result<DiagnoseRequest, FieldError> {
        check_text(self.text.as_deref())?;
        let error = match &self.error {
            None => None,
            Some(t) => Some(kb::report::parse_code(t).ok_or_else(|| FieldError {
                field: "error".into(),
                message: format!(
                    "`{t}` is not an error code: give the number the app showed, e.g. 4013"
                ),
            })?),
        };
        let mut steps: Vec<ActionTried> = Vec::new();
        let mut answers = BTreeMap::new();
        // The restore that failed with this code is the first failed attempt; each step that
        // still fails is another (with the same code: "did the error change?" is answered).
        let failed_with = |code: Option<i64>| Attempt {
            result: code.map_or(AttemptResult::Failed, AttemptResult::Error),
            ..Attempt::failed()
        };
        let mut attempts: Vec<Attempt> = error.map(|c| failed_with(Some(c))).into_iter().collect();
        for e in &self.events {
            match e {
                Event::Step { action, outcome } => {
                    let outcome = match outcome.as_str() {
                        "fixed" => StepOutcome::Fixed,
                        "failed" => StepOutcome::Failed,
                        _ => StepOutcome::CannotDo,
                    };
                    let retried = kb::kb().action(action).is_some_and(|a| !a.fixes.is_empty());
                    if outcome == StepOutcome::Failed && retried {
                        attempts.push(failed_with(error));
                    }
                    steps.retain(|s| s.action != *action);
                    steps.push(ActionTried {
                        action: action.clone(),
                        outcome,
                    });
                }
                Event::Answer { observation, value } => {
                    answers.insert(observation.clone(), value.clone());
                }
                Event::Skip { .. } => {}
            }
        }
        Ok(DiagnoseRequest {
            device: self.device.clone(),
            error,
            host: self.host.clone(),
            tried: self.tried.clone(),
            observed: self.observed.clone(),
            text: self.text.clone(),
            role: self.role.clone(),
            steps,
            answers,
            attempts,
            data_expendable: self.expendable,
            ..DiagnoseRequest::default()
        })
    }

    /// The state before the last step or answer (to show how the bars moved).
    pub fn before_last(&self) -> Option<WizardState> {
        if self.events.is_empty() {
            return None;
        }
        let mut s = self.clone();
        s.events.pop();
        Some(s)
    }
}

/// The form field an engine error is about.
pub fn field_of(e: &RequestError) -> String {
    match e {
        RequestError::UnknownDevice { .. } | RequestError::AmbiguousDevice { .. } => {
            "device".into()
        }
        RequestError::UnknownValue { field, .. } => field.trim_start_matches('-').to_string(),
        RequestError::BadValue { .. } => "observed".into(),
    }
}

/// The engine request for a state (with a stored case's attempts and steps, when it names
/// one).
pub fn build_request(
    state: &WizardState,
    history: Option<&store::CaseHistory>,
) -> Result<DiagnoseRequest, FieldError> {
    let mut req = state.request()?;
    if let Some(h) = history {
        store::evidence::add_case(&mut req, h);
        req.case = state.case.clone();
    }
    Ok(req)
}

/// An engine error as a form error.
pub fn field_error(e: &RequestError) -> FieldError {
    FieldError {
        field: field_of(e),
        message: e.to_string(),
    }
}

/// Run the engine on a state.
#[cfg(test)]
pub fn diagnose(
    state: &WizardState,
    history: Option<&store::CaseHistory>,
) -> Result<DiagnoseResponse, FieldError> {
    let req = build_request(state, history)?;
    engine::api::diagnose_request(&req).map_err(|e| field_error(&e))
}

/// Escape a person's text for Markdown (and for any HTML a Markdown viewer would pass on).
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '!' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

fn outcome_words(o: &str) -> &'static str {
    match o {
        "fixed" => "it worked",
        "failed" => "still fails",
        _ => "could not do it",
    }
}

/// The shop-ready report as Markdown.
pub fn markdown_report(state: &WizardState, r: &DiagnoseResponse) -> String {
    let kb = kb::kb();
    let mut s = String::from("# restore-doctor report\n\n");
    let device = r
        .device
        .as_ref()
        .map(|d| format!("{} ({})", d.name, d.product_type))
        .unwrap_or_else(|| "not known".into());
    s.push_str(&format!("- **Device:** {}\n", md_escape(&device)));
    s.push_str(&format!(
        "- **Error:** {}\n",
        r.error_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "not given".into())
    ));
    if let Some(h) = &r.host {
        s.push_str(&format!(
            "- **Computer/app:** {}\n",
            md_escape(&engine::words::host(h))
        ));
    }
    if let Some(t) = &state.text {
        s.push_str(&format!("- **In the owner's words:** {}\n", md_escape(t)));
    }
    s.push('\n');
    match &r.verdict {
        Some(v) => {
            let cause = kb
                .cause(&v.cause)
                .map(|c| c.name.as_str())
                .unwrap_or(&v.cause);
            s.push_str("## Verdict\n\n");
            s.push_str(&format!(
                "**{}** (confidence {:.0}%)\n\n",
                md_escape(&v.summary),
                v.confidence * 100.0
            ));
            s.push_str(&format!(
                "- Most likely cause: {} ({})\n",
                md_escape(cause),
                v.group
            ));
            s.push_str(&format!(
                "- What a shop should test first: {}\n",
                md_escape(&v.shop_test_first)
            ));
            s.push_str(&format!(
                "- Repair cost: ${:.0}–${:.0}\n",
                v.repair.usd_low, v.repair.usd_high
            ));
            s.push_str(&format!(
                "- Keeping the data: {}\n",
                md_escape(&v.keep_data)
            ));
            s.push_str(&format!(
                "- Why: {}\n\n",
                md_escape(&crate::pages::reason_words(&v.reason))
            ));
        }
        None => {
            s.push_str("## No verdict yet\n\n");
            if let Some(n) = &r.next_step {
                s.push_str(&format!("Next step: {}\n\n", md_escape(&n.title)));
            }
        }
    }
    s.push_str("## Probability by group\n\n| group | probability |\n|---|---|\n");
    for g in kb::vocab::GROUPS {
        if let Some(p) = r.groups.get(g) {
            s.push_str(&format!("| {g} | {:.0}% |\n", p * 100.0));
        }
    }
    s.push_str("\n## Most likely causes\n\n");
    for c in r.causes.iter().take(5) {
        s.push_str(&format!(
            "- {} ({}): {:.0}%\n",
            md_escape(&c.name),
            c.group,
            c.probability * 100.0
        ));
    }
    if !state.tried.is_empty() || !state.events.is_empty() {
        s.push_str("\n## What was done\n\n");
        for t in &state.tried {
            let title = kb
                .action_by_tried_flag(t)
                .map(|a| a.title.as_str())
                .unwrap_or(t);
            s.push_str(&format!(
                "- {}: still fails (before the wizard)\n",
                md_escape(title)
            ));
        }
        for e in &state.events {
            match e {
                Event::Step { action, outcome } => {
                    let title = kb
                        .action(action)
                        .map(|a| a.title.as_str())
                        .unwrap_or(action);
                    s.push_str(&format!(
                        "- {}: {}\n",
                        md_escape(title),
                        outcome_words(outcome)
                    ));
                }
                Event::Answer { observation, value } => {
                    let q = &engine::api::question_for_host(kb, observation, state.host.as_deref());
                    s.push_str(&format!("- {} {}\n", md_escape(q), md_escape(value)));
                }
                Event::Skip { observation } => {
                    let q = &engine::api::question_for_host(kb, observation, state.host.as_deref());
                    s.push_str(&format!("- {} not known\n", md_escape(q)));
                }
            }
        }
    }
    if !r.warnings.is_empty() {
        s.push_str("\n## Warnings\n\n");
        for w in &r.warnings {
            s.push_str(&format!("- {}\n", md_escape(w)));
        }
    }
    s.push_str(&format!(
        "\n_Made by restore-doctor {}._\n",
        env!("CARGO_PKG_VERSION")
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_hidden_fields() {
        let f = FormData::parse(
            b"device=iPhone+X&error=4013&tried=cable_swap&observed=recent_drop&step=swap_cable:failed&answer=has_second_computer=yes&step=other_port:fixed",
        );
        let s = WizardState::from_form(&f).unwrap();
        assert_eq!(s.events.len(), 3);
        let again: Vec<(String, String)> = s
            .hidden()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(WizardState::from_form(&FormData(again)).unwrap(), s);
        let before = s.before_last().unwrap();
        assert_eq!(before.events.len(), 2);
    }

    #[test]
    fn bad_values_name_their_field() {
        let f = FormData::parse(b"step=swap_cable:maybe");
        assert_eq!(WizardState::from_form(&f).unwrap_err().field, "step");
        let s = WizardState::from_form(&FormData::parse(b"error=forty")).unwrap();
        assert_eq!(s.request().unwrap_err().field, "error");
        let s = WizardState::from_form(&FormData::parse(b"device=nokia+3310")).unwrap();
        assert_eq!(diagnose(&s, None).unwrap_err().field, "device");
        let s = WizardState::from_form(&FormData::parse(b"host=amiga")).unwrap();
        assert_eq!(diagnose(&s, None).unwrap_err().field, "host");
    }

    #[test]
    fn the_markdown_report_escapes_the_persons_words() {
        let s = WizardState::from_form(&FormData::parse(
            b"device=iPhone+X&error=4013&text=%3Cscript%3Ealert(1)%3C%2Fscript%3E+*bold*",
        ))
        .unwrap();
        let r = diagnose(&s, None).unwrap();
        let md = markdown_report(&s, &r);
        assert!(md.contains("iPhone X"));
        assert!(!md.contains("<script>"));
        assert!(md.contains("&lt;script&gt;"));
        assert!(md.contains("\\*bold\\*"));
        assert!(md.contains("## Probability by group"));
    }
}
