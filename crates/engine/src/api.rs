//! The entry point for front ends: [`DiagnoseRequest`] (what `diagnose` flags, the web form or
//! a case history say) in, [`DiagnoseResponse`] (the *stable* `diagnose --json` shape of
//! design.md §6) out. Values outside the stable vocabularies are a [`RequestError`] naming the
//! accepted ones.

use crate::diagnose::{Diagnosis, Next, diagnose, is_quick_question};
use crate::evidence::{ActionTried, Answer, Attempt, Evidence, StepOutcome};
use crate::model::{Model, Role};
use crate::text::{Understood, understand};
use kb::{DataRisk, Device, DeviceMatch, KnowledgeBase, Skill, Stage, vocab};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a front end knows about a case (all fields optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiagnoseRequest {
    /// Name, product type or board ("iPhone X", "iPhone10,3", "d22ap").
    pub device: Option<String>,
    /// The error code the restore ended with.
    pub error: Option<i64>,
    /// `--host` vocabulary.
    pub host: Option<String>,
    /// `--tried` vocabulary: done, and it still fails.
    pub tried: Vec<String>,
    /// `--observed` vocabulary: `key` (= yes), `key=no`, `failure_stage=nand`, `attempts=3`...
    pub observed: Vec<String>,
    /// Free text in the person's words.
    pub text: Option<String>,
    /// A case id (the caller reads the case's attempts and steps into `attempts`/`steps`).
    pub case: Option<String>,
    /// `owner` (default) or `technician`.
    pub role: Option<String>,
    /// Facts from restore logs, as (observation id, value).
    pub log_facts: Vec<(String, String)>,
    /// Recorded attempts (case history, `watch`, or the runs of one pasted log: each of
    /// `RestoreLog::earlier_attempts` that failed and the last run, with their stage; three at
    /// one stage stop restores).
    pub attempts: Vec<Attempt>,
    /// Steps carried out with their outcome (case history, wizard).
    pub steps: Vec<ActionTried>,
    /// Questions and bench tests answered (wizard): observation id → outcome.
    pub answers: BTreeMap<String, String>,
    /// The data is backed up or does not matter.
    pub data_expendable: bool,
    /// This shop's closed cases for the same device and error: confirmed cause → count
    /// (`store::ShopPriors::for_code_and_device`), added to the prior as pseudo-counts.
    pub shop_counts: BTreeMap<String, u64>,
}

/// The step that unlocks the device and trusts the computer (not possible with a forgotten
/// passcode).
pub const UNLOCK_ACTION: &str = "unlock_and_trust";

/// A request value the engine cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    #[error("unknown device {query:?}{}", suggest(.suggestions, "did you mean"))]
    UnknownDevice {
        query: String,
        suggestions: Vec<String>,
    },
    #[error("device {query:?} is ambiguous; it could be: {}", .candidates.join(", "))]
    AmbiguousDevice {
        query: String,
        candidates: Vec<String>,
    },
    #[error("unknown {field} value {value:?}; accepted: {}", .accepted.join(", "))]
    UnknownValue {
        field: &'static str,
        value: String,
        accepted: Vec<String>,
    },
    #[error("bad value for {key}: {value:?}; {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: String,
    },
}

fn suggest(list: &[String], lead: &str) -> String {
    if list.is_empty() {
        String::new()
    } else {
        format!("; {lead}: {}", list.join(", "))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceOut {
    pub name: String,
    pub product_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CauseOut {
    pub id: String,
    pub group: String,
    pub name: String,
    pub probability: f64,
    /// What the cause stands for with this error code, when the knowledge base says (53's
    /// "other hardware" is the Touch ID pairing check; 4037's "system software" a locked device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostOut {
    pub minutes: f64,
    pub usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionOut {
    pub id: String,
    pub question: String,
    pub outcomes: Vec<String>,
    pub kind: String,
    /// How much knowing the answer lowers the expected cost (minutes + dollars).
    pub value: f64,
}

/// What one answer of a test points at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeMeaning {
    pub outcome: String,
    /// How likely this answer is now.
    pub probability: f64,
    /// The most likely cause after this answer, and its probability then.
    pub leads_to: String,
    pub leads_to_name: String,
    pub cause_probability: f64,
}

/// A test worth running (a bench test for a technician; another cable or computer for an
/// owner), with its cost and what each answer means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestOut {
    pub id: String,
    pub question: String,
    pub kind: String,
    pub cost: CostOut,
    pub skill: String,
    /// Tools or things it needs (`dc_power_supply`, `nand_programmer`...).
    pub needs: Vec<String>,
    /// How much knowing the answer lowers the expected cost (minutes + dollars).
    pub value: f64,
    pub outcomes: Vec<OutcomeMeaning>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOut {
    /// Action id, or observation id for a question or bench test.
    pub action: String,
    /// `action`, `question` or `bench_test`.
    pub kind: String,
    pub title: String,
    pub instructions: Vec<String>,
    pub cost: CostOut,
    pub skill: String,
    pub erases_data: bool,
    /// Why this step: its chance and cost, what it deals with, and the evidence that moved
    /// the causes it fixes (see also `explanation`).
    pub why: String,
    /// The same in one or two sentences, for people (no evidence list).
    #[serde(default)]
    pub why_short: String,
    /// P(this fixes it | evidence), for actions.
    pub probability_fixes: Option<f64>,
    /// What the step needs (`second_computer`, `spare_cable`...).
    pub needs: Vec<String>,
    /// A question to ask before this step (whether the person has what it needs).
    pub ask_first: Option<QuestionOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStepOut {
    pub action: String,
    pub title: String,
    /// P(this fixes it | evidence and every earlier step failed).
    pub probability_fixes: f64,
    pub cost: CostOut,
    pub skill: String,
    pub erases_data: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RepairOut {
    pub usd_low: f64,
    pub usd_high: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictOut {
    pub group: String,
    pub cause: String,
    pub confidence: f64,
    pub summary: String,
    pub repair: RepairOut,
    pub shop_test_first: String,
    pub keep_data: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoveOut {
    pub cause: String,
    pub before: f64,
    pub after: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplanationOut {
    pub evidence: String,
    pub moves: Vec<MoveOut>,
    /// The same in plain words.
    pub text: String,
}

/// The *stable* `diagnose --json` shape (design.md §6), with extensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnoseResponse {
    pub device: Option<DeviceOut>,
    pub error_code: Option<i64>,
    /// Every cause the device can have, most likely first; sums to 1.
    pub causes: Vec<CauseOut>,
    /// P(group) for `connection`, `host`, `software`, `hardware`.
    pub groups: BTreeMap<String, f64>,
    pub next_step: Option<StepOut>,
    /// The rest of the plan after the next step, in order.
    pub plan: Vec<PlanStepOut>,
    pub verdict: Option<VerdictOut>,
    pub warnings: Vec<String>,
    /// Quick questions worth answering (they may change the plan), best first.
    pub questions: Vec<QuestionOut>,
    /// The evidence is thin: no cause stands out (see `diagnose::THIN_EVIDENCE`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uncertain: bool,
    /// Tests worth running that take time (bench tests for a technician), best first, with
    /// what each answer points at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestOut>,
    /// Which evidence moved which cause.
    pub explanation: Vec<ExplanationOut>,
    /// What the free text was read as (when `text` was given).
    pub understood: Option<Understood>,
    pub role: String,
    pub host: Option<String>,
    pub case: Option<String>,
    /// Expected cost (minutes + dollars + skill weight) of fixing it from here.
    pub expected_cost: f64,
}

/// A request resolved against the knowledge base: the model, the evidence and the role.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub model: Model,
    pub evidence: Evidence,
    pub role: Role,
    pub understood: Option<Understood>,
    pub warnings: Vec<String>,
    /// Shop cases added to the prior, and the prior before them.
    pub shop_prior: Option<(u64, Vec<f64>)>,
}

/// Diagnose with the embedded knowledge base.
pub fn diagnose_request(req: &DiagnoseRequest) -> Result<DiagnoseResponse, RequestError> {
    diagnose_with(kb::kb(), req)
}

/// Diagnose with a given knowledge base.
pub fn diagnose_with(
    kb: &KnowledgeBase,
    req: &DiagnoseRequest,
) -> Result<DiagnoseResponse, RequestError> {
    diagnose_fitted(kb, crate::learn::fit_for(kb), req)
}

/// Diagnose with a given knowledge base and fit (None: the knowledge base alone).
pub fn diagnose_fitted(
    kb: &KnowledgeBase,
    fit: Option<&crate::learn::Fit>,
    req: &DiagnoseRequest,
) -> Result<DiagnoseResponse, RequestError> {
    let resolved = resolve_with(kb, fit, req)?;
    let d = diagnose(&resolved.model, &resolved.evidence, resolved.role);
    Ok(respond(kb, &resolved, &d, req.case.clone()))
}

/// Look a device up by name, product type or board.
pub fn find_device<'k>(kb: &'k KnowledgeBase, query: &str) -> Result<&'k Device, RequestError> {
    if let Some(d) = kb.device(query.trim()) {
        return Ok(d);
    }
    match kb.find_device(query) {
        DeviceMatch::Found { variants, .. } if !variants.is_empty() => Ok(variants[0]),
        DeviceMatch::Ambiguous(names) => Err(RequestError::AmbiguousDevice {
            query: query.to_string(),
            candidates: names.iter().take(8).map(|s| s.to_string()).collect(),
        }),
        DeviceMatch::NotFound(names) => Err(RequestError::UnknownDevice {
            query: query.to_string(),
            suggestions: names.iter().take(5).map(|s| s.to_string()).collect(),
        }),
        DeviceMatch::Found { .. } => Err(RequestError::UnknownDevice {
            query: query.to_string(),
            suggestions: vec![],
        }),
    }
}

fn accepted(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Check a `--host` value.
pub fn check_host(value: &str) -> Result<String, RequestError> {
    if let Some((host, _)) = vocab::host_alias(value) {
        Ok(host.to_string())
    } else {
        Err(RequestError::UnknownValue {
            field: "--host",
            value: value.to_string(),
            accepted: accepted(&vocab::HOSTS),
        })
    }
}

/// Check a `--tried` value (a `--tried` word such as `cable_swap`, or the action id it stands
/// for, `swap_cable`) and return the action id.
pub fn check_tried(kb: &KnowledgeBase, value: &str) -> Result<String, RequestError> {
    let word = vocab::tried_alias(value).unwrap_or(value);
    if vocab::tried_flag(kb, word).is_some()
        && let Some(a) = vocab::action(kb, word)
    {
        return Ok(a.id.clone());
    }
    Err(RequestError::UnknownValue {
        field: "--tried",
        value: value.to_string(),
        accepted: vocab::tried_words(kb),
    })
}

/// A parsed `--observed` item.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservedItem {
    /// An observation id with its outcome.
    Answer(String, String),
    Attempts(u32),
    Progress(f64),
}

/// Check one `--observed` item (`key`, `key=yes|no`, `failure_stage=<stage>`, `progress=<n>`,
/// `attempts=<n>`, or any other observation id with one of its outcomes, `backup_exists=yes`).
pub fn check_observed(kb: &KnowledgeBase, value: &str) -> Result<ObservedItem, RequestError> {
    let (key, val) = match value.split_once('=') {
        Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().to_string())),
        None => (value.trim().to_ascii_lowercase(), None),
    };
    let bad = |expected: &str| RequestError::BadValue {
        key: key.clone(),
        value: val.clone().unwrap_or_default(),
        expected: expected.to_string(),
    };
    if vocab::OBSERVED.contains(&key.as_str()) {
        let outcome = match val.as_deref().map(|v| v.to_ascii_lowercase()) {
            None => "yes".to_string(),
            Some(v) if matches!(v.as_str(), "yes" | "true" | "1" | "y") => "yes".into(),
            Some(v) if matches!(v.as_str(), "no" | "false" | "0" | "n") => "no".into(),
            Some(_) => return Err(bad("expected yes or no")),
        };
        return Ok(ObservedItem::Answer(key, outcome));
    }
    match key.as_str() {
        "failure_stage" => {
            let v = val.clone().unwrap_or_default().to_ascii_lowercase();
            match Stage::parse(&v) {
                // The steps before the restore proper have no row in `failure_stage` (whose rows
                // are where a running restore stops): they are the log fact
                // `failed_before_restore`, as `logs` reports them.
                Some(s) if s.before_restore() => Ok(ObservedItem::Answer(
                    "failed_before_restore".to_string(),
                    "yes".to_string(),
                )),
                Some(s) => Ok(ObservedItem::Answer(key, s.as_str().to_string())),
                None => Err(bad(&format!(
                    "accepted stages: {}",
                    Stage::ALL.map(|s| s.as_str()).join(", ")
                ))),
            }
        }
        "attempts" => val
            .as_deref()
            .and_then(|v| v.parse::<u32>().ok())
            .map(ObservedItem::Attempts)
            .ok_or_else(|| bad("expected a whole number of attempts, e.g. attempts=3")),
        "progress" => val
            .as_deref()
            .map(|v| v.trim_end_matches('%'))
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|p| (0.0..=100.0).contains(p))
            .map(ObservedItem::Progress)
            .ok_or_else(|| bad("expected a percentage from 0 to 100, e.g. progress=60")),
        _ => {
            // Any other observation of the knowledge base, as the free text produces it.
            if let Some(obs) = vocab::observation(kb, &key) {
                return match vocab::observed_outcome(obs, val.as_deref()) {
                    Some(outcome) => Ok(ObservedItem::Answer(obs.id.clone(), outcome)),
                    None => Err(bad(&format!("expected one of {}", obs.outcomes.join(", ")))),
                };
            }
            let mut all = vocab::observed_keys(kb);
            all.extend(
                vocab::OBSERVED_WITH_VALUE
                    .iter()
                    .map(|k| format!("{k}=<value>")),
            );
            Err(RequestError::UnknownValue {
                field: "--observed",
                value: value.to_string(),
                accepted: all,
            })
        }
    }
}

/// Resolve a request: read the text, check every value, build the model and the evidence.
/// Flags win over what the text says. The model is the knowledge base with what the corpus of
/// real cases taught on top ([`crate::learn::fit_for`]).
pub fn resolve(kb: &KnowledgeBase, req: &DiagnoseRequest) -> Result<Resolved, RequestError> {
    resolve_with(kb, crate::learn::fit_for(kb), req)
}

/// [`resolve`] with a given fit (None: the knowledge base alone).
pub fn resolve_with(
    kb: &KnowledgeBase,
    fit: Option<&crate::learn::Fit>,
    req: &DiagnoseRequest,
) -> Result<Resolved, RequestError> {
    let understood = req
        .text
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| understand(kb, t));
    // Log lines quoted in the text go through the log reader, as a pasted log would (unless
    // a log was given: then they are most likely lines of it).
    let quoted_log = (req.log_facts.is_empty() && req.attempts.is_empty())
        .then(|| {
            req.text
                .as_deref()
                .and_then(crate::intake::quoted_log_lines)
        })
        .flatten()
        .map(|lines| logs::analyze_bytes(lines.as_bytes()))
        .filter(|log| log.outcome != logs::Outcome::Success && log.failure.is_some());
    let with_log;
    let req = match &quoted_log {
        Some(log) => {
            let mut r = req.clone();
            crate::intake::add_logs(&mut r, std::slice::from_ref(log));
            with_log = r;
            &with_log
        }
        None => req,
    };
    let mut warnings = Vec::new();
    let role = match req
        .role
        .as_deref()
        .or_else(|| understood.as_ref().and_then(|u| u.role.as_deref()))
    {
        None => Role::Owner,
        Some(r) => Role::parse(r).ok_or_else(|| RequestError::UnknownValue {
            field: "--role",
            value: r.to_string(),
            accepted: accepted(&["owner", "technician"]),
        })?,
    };
    let device_query = req
        .device
        .clone()
        .or_else(|| understood.as_ref().and_then(|u| u.device.clone()));
    let device = match device_query {
        Some(q) => Some(find_device(kb, &q)?),
        None => None,
    };
    if device.is_none()
        && let Some(names) = understood
            .as_ref()
            .map(|u| &u.device_candidates)
            .filter(|c| !c.is_empty())
    {
        warnings.push(format!(
            "The text names more than one model: {}. Say which with --device: the steps and the \
             known faults can differ.",
            names.join(" or ")
        ));
    }
    let mut error_code = req
        .error
        .or_else(|| understood.as_ref().and_then(|u| u.error_code));
    if error_code.is_none() {
        error_code = req
            .log_facts
            .iter()
            .find(|(k, _)| k == "error_code")
            .and_then(|(_, v)| v.trim().parse().ok());
    }
    if let Some(code) = error_code
        && kb.lookup_code(code).is_none()
    {
        warnings.push(unknown_code_warning(kb, code));
    }
    let stated_host = req.host.as_deref().map(check_host).transpose()?;
    let text_host = understood
        .as_ref()
        .and_then(|u| u.host.clone())
        .or_else(|| {
            quoted_log
                .as_ref()
                .and_then(crate::intake::host_of)
                .map(str::to_string)
        });
    // A stated "other" or "unknown" program says less than the one the text names.
    let host_from_text = text_host.is_some()
        && stated_host
            .as_deref()
            .is_none_or(|h| matches!(h, "other" | "unknown"));
    let host = if host_from_text {
        text_host
    } else {
        stated_host
    };

    let mut evidence = Evidence {
        device: device.map(|d| d.product_type.clone()),
        error_code,
        host: host.clone(),
        data_expendable: req.data_expendable,
        attempts: req.attempts.clone(),
        log_facts: req
            .log_facts
            .iter()
            .filter(|(k, _)| k != "error_code")
            .cloned()
            .collect(),
        ..Evidence::default()
    };
    // Text first, then flags (later answers win in `findings`).
    let mut answers: BTreeMap<String, String> = BTreeMap::new();
    let mut tried: Vec<String> = Vec::new();
    if host_from_text {
        evidence.from_text.insert(crate::evidence::HOST_APP.into());
    }
    if let Some(u) = &understood {
        for t in &u.tried {
            if let Ok(a) = check_tried(kb, t) {
                evidence.from_text.insert(a.clone());
                tried.push(a);
            }
        }
        for (k, v) in u.observed.iter().chain(&u.bench) {
            answers.insert(k.clone(), v.clone());
            evidence.from_text.insert(k.clone());
        }
        evidence.silent = crate::text::readable_observations()
            .iter()
            // A hedged mention ("not sure if it got wet") is a mention of unknown outcome:
            // neither evidence for nor the silence of a report that never brings it up.
            .filter(|id| {
                !(u.observed.contains_key(*id)
                    || u.hedged.contains(*id)
                    || (*id == crate::evidence::HOST_APP && u.host.is_some()))
            })
            .cloned()
            .collect();
        if u.attempts.is_some() {
            evidence.reported_failures = u.attempts;
        }
        if u.data_expendable {
            evidence.data_expendable = true;
        }

        // "three different cables", "two computers": one failed attempt per cable/computer.
        for i in 0..u.cables.unwrap_or(0).min(10) {
            evidence.attempts.push(Attempt {
                cable: Some(format!("cable {}", i + 1)),
                ..Attempt::failed()
            });
        }
        for i in 0..u.computers.unwrap_or(0).min(10) {
            evidence.attempts.push(Attempt {
                computer: Some(format!("computer {}", i + 1)),
                ..Attempt::failed()
            });
        }
    }
    for t in &req.tried {
        let a = check_tried(kb, t)?;
        evidence.from_text.remove(&a);
        if !tried.contains(&a) {
            tried.push(a);
        }
    }
    for o in &req.observed {
        match check_observed(kb, o)? {
            ObservedItem::Answer(k, v) => {
                evidence.from_text.remove(&k);
                answers.insert(k, v);
            }
            ObservedItem::Attempts(n) => evidence.reported_failures = Some(n),
            ObservedItem::Progress(p) => evidence.progress = Some(p),
        }
    }
    for (k, v) in &req.answers {
        if kb.observation(k).is_none() {
            return Err(RequestError::UnknownValue {
                field: "answers",
                value: k.clone(),
                accepted: kb.observations().iter().map(|o| o.id.clone()).collect(),
            });
        }
        evidence.from_text.remove(k);
        answers.insert(k.clone(), v.clone());
    }
    evidence.actions = tried
        .into_iter()
        .map(|action| ActionTried {
            action,
            outcome: StepOutcome::Failed,
        })
        .collect();
    // A forgotten passcode (or a disabled device): unlocking it is not a step they can take.
    if understood.as_ref().is_some_and(|u| u.passcode_forgotten)
        && kb.action(UNLOCK_ACTION).is_some()
    {
        evidence.actions.push(ActionTried {
            action: UNLOCK_ACTION.into(),
            outcome: StepOutcome::CannotDo,
        });
    }
    for s in &req.steps {
        if kb.action(&s.action).is_none() {
            return Err(RequestError::UnknownValue {
                field: "steps",
                value: s.action.clone(),
                accepted: kb.actions().iter().map(|a| a.id.clone()).collect(),
            });
        }
        evidence.actions.retain(|a| a.action != s.action);
        evidence.from_text.remove(&s.action);
        evidence.guided.insert(s.action.clone());
        evidence.actions.push(s.clone());
    }
    evidence.answers = answers
        .into_iter()
        .map(|(observation, outcome)| Answer {
            observation,
            outcome,
        })
        .collect();
    let mut model = Model::from_fit(kb, fit, device, error_code);
    let before = model.prior.clone();
    let used = model.add_shop_counts(&req.shop_counts);
    let shop_prior = (used > 0).then_some((used, before));
    Ok(Resolved {
        shop_prior,
        model,
        evidence,
        role,
        understood,
        warnings,
    })
}

/// What diagnose says about an error code that is not documented, in the words `explain` uses
/// (the nearest documented code and its family are a pointer, not evidence).
pub fn unknown_code_warning(kb: &KnowledgeBase, code: i64) -> String {
    let nearest = kb
        .nearest_code(code)
        .and_then(|n| kb.family(&n.family).map(|f| (n.code, f)))
        .map(|(n, f)| {
            format!(
                " The nearest documented code is {n}, in the family \"{}\" ({}), but a nearby number does not mean a related cause.",
                f.title, f.id
            )
        })
        .unwrap_or_default();
    format!(
        "Error {code} is not a documented restore or update error: the causes are weighted as restore failures are in general, not by this code.{nearest} Check the number the app showed (`restore-doctor explain --list` lists every documented code)."
    )
}

fn skill_str(s: Skill) -> String {
    match s {
        Skill::Owner => "owner",
        Skill::Technician => "technician",
        Skill::Microsoldering => "microsoldering",
    }
    .to_string()
}

/// An action's instructions for the device: `{guide:kind}` lines and the action's own guide
/// expanded into the model's button steps, `{power}` named.
pub fn instructions(kb: &KnowledgeBase, model: &Model, action: &kb::Action) -> Vec<String> {
    instructions_for_host(kb, model, action, None)
}

/// [`instructions`] for the program the person uses (`--host` value): the lines name that
/// program only, and lines about another computer are left out (`[[host_wording]]` in
/// `knowledge/guides.toml`). Without a host, every computer's words.
pub fn instructions_for_host(
    kb: &KnowledgeBase,
    model: &Model,
    action: &kb::Action,
    host: Option<&str>,
) -> Vec<String> {
    instructions_for_device(kb, model, action)
        .into_iter()
        .filter_map(|line| {
            let indent = line.len() - line.trim_start().len();
            kb.line_for_host(line.trim_start(), host)
                .map(|l| format!("{}{l}", &line[..indent]))
        })
        .collect()
}

fn instructions_for_device(kb: &KnowledgeBase, model: &Model, action: &kb::Action) -> Vec<String> {
    let mut out = Vec::new();
    let mut guide_used = false;
    let expand = |kind: kb::GuideKind, out: &mut Vec<String>| match &model.device {
        Some(d) => match kb.guide(d.button_scheme, kind) {
            Some(g) => {
                out.push(format!("{} ({}):", g.title, d.name));
                for (i, s) in kb.guide_steps_for(g, d).into_iter().enumerate() {
                    out.push(format!("  {}. {s}", i + 1));
                }
                out.push(format!("  {}", g.success));
            }
            None => out.push(format!(
                "See `restore-doctor guide {} --device \"{}\"`.",
                kind.cli_name(),
                d.name
            )),
        },
        None => out.push(format!(
            "The buttons depend on the model: run `restore-doctor guide {} --device <your model>`.",
            kind.cli_name()
        )),
    };
    for line in &action.instructions {
        let trimmed = line.trim();
        if let Some(kind) = trimmed
            .strip_prefix("{guide:")
            .and_then(|r| r.strip_suffix('}'))
            .and_then(kb::GuideKind::parse)
        {
            expand(kind, &mut out);
            guide_used = true;
        } else {
            out.push(match &model.device {
                Some(d) => kb::power_words(line, d),
                None => line.replace("{power}", "power (Side or Top) button"),
            });
        }
    }
    if let (Some(kind), false) = (action.guide, guide_used) {
        expand(kind, &mut out);
    }
    out
}

/// Why the next step, in one or two sentences: an action's chance, cost and the causes it deals
/// with; a question's or test's causes it tells apart. The evidence is in `why` and
/// `explanation`.
pub fn why_short(model: &Model, d: &Diagnosis) -> String {
    let likeliest = |weight: &dyn Fn(usize) -> f64, n: usize| -> Vec<&str> {
        let mut v: Vec<(usize, f64)> = (0..model.causes.len())
            .map(|i| (i, weight(i)))
            .filter(|(_, w)| *w > 0.01)
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter()
            .take(n)
            .map(|(i, _)| model.causes[i].name.as_str())
            .collect()
    };
    match &d.next {
        None => String::new(),
        Some(Next::Act { action, .. }) => {
            let a = &model.actions[*action];
            let entry = d.recommendation.plan.iter().find(|e| e.action == *action);
            if entry.is_some_and(|e| e.is_service) {
                return "Nothing cheaper left is likely enough to fix it; a repair shop can test \
                        the hardware."
                    .to_string();
            }
            let cost = if a.cost.usd > 0.0 {
                format!("about {:.0} min and ${:.0}", a.cost.minutes, a.cost.usd)
            } else {
                format!("about {:.0} min", a.cost.minutes)
            };
            let fixes = likeliest(&|i| d.p[i] * model.fix_prob(a, i), 2);
            let chance = entry.map_or(String::new(), |e| {
                format!("{:.0}% chance this fixes it, ", e.p_fix * 100.0)
            });
            if fixes.is_empty() {
                format!("{chance}{cost}.")
            } else {
                format!("{chance}{cost}. It deals with: {}.", fixes.join(", "))
            }
        }
        Some(Next::Observe { observation }) => {
            let o = &model.observations[*observation];
            // The likely causes the first answer weighs most differently.
            let first = o.outcomes.first().map_or("yes", String::as_str);
            let mut likely: Vec<usize> = (0..model.causes.len())
                .filter(|&i| d.p[i] >= 0.05)
                .collect();
            likely.sort_by(|&a, &b| {
                model
                    .likelihood(o, first, b)
                    .total_cmp(&model.likelihood(o, first, a))
                    .then(a.cmp(&b))
            });
            match (likely.first(), likely.last()) {
                (Some(&hi), Some(&lo))
                    if hi != lo
                        && (model.likelihood(o, first, hi) - model.likelihood(o, first, lo))
                            .abs()
                            > 0.05 =>
                {
                    format!(
                        "The answer tells {} from {}, and that changes what to do next.",
                        model.causes[hi].name, model.causes[lo].name
                    )
                }
                _ => "The answer changes what to do next.".to_string(),
            }
        }
    }
}

/// A question in the words for the person's program (`KnowledgeBase::line_for_host`): no Mac
/// examples for someone on Windows.
fn question_text(kb: &KnowledgeBase, o: &kb::Observation, host: Option<&str>) -> String {
    kb.line_for_host(&o.question, host)
        .unwrap_or_else(|| o.question.clone())
}

/// The question of observation `id` in the words for a program (a `--host` value or one of its
/// aliases), for front ends that list what was answered; the id itself when it is unknown.
pub fn question_for_host(kb: &KnowledgeBase, id: &str, host: Option<&str>) -> String {
    let host = host.map(|h| vocab::host_alias(h).map_or(h, |(h, _)| h));
    kb.observation(id)
        .map_or_else(|| id.to_string(), |o| question_text(kb, o, host))
}

fn question_out(
    kb: &KnowledgeBase,
    model: &Model,
    host: Option<&str>,
    oi: usize,
    value: f64,
) -> QuestionOut {
    let o = &model.observations[oi];
    QuestionOut {
        id: o.id.clone(),
        question: question_text(kb, o, host),
        outcomes: o.outcomes.clone(),
        kind: o.kind.clone(),
        value,
    }
}

/// A test with what each of its answers points at (the most likely cause after it).
fn test_out(
    kb: &KnowledgeBase,
    model: &Model,
    host: Option<&str>,
    p: &[f64],
    oi: usize,
    value: f64,
) -> TestOut {
    let o = &model.observations[oi];
    let outcomes = o
        .outcomes
        .iter()
        .map(|v| {
            let mut post: Vec<f64> = (0..p.len())
                .map(|i| p[i] * model.likelihood(o, v, i))
                .collect();
            let probability: f64 = post.iter().sum();
            crate::model::normalise(&mut post);
            let top = crate::verdict::argmax(&post);
            OutcomeMeaning {
                outcome: v.clone(),
                probability: round4(probability),
                leads_to: model.causes[top].id.clone(),
                leads_to_name: model.causes[top].name.clone(),
                cause_probability: round4(post[top]),
            }
        })
        .collect();
    TestOut {
        id: o.id.clone(),
        question: question_text(kb, o, host),
        kind: o.kind.clone(),
        cost: CostOut {
            minutes: o.cost.minutes,
            usd: o.cost.usd,
        },
        skill: skill_str(o.skill),
        needs: o.needs.clone(),
        value,
        outcomes,
    }
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// Shape a diagnosis as the stable JSON response.
pub fn respond(
    kb: &KnowledgeBase,
    resolved: &Resolved,
    d: &Diagnosis,
    case: Option<String>,
) -> DiagnoseResponse {
    let model = &resolved.model;
    let host = resolved.evidence.host.as_deref();
    // The trace in plain words (one entry per finding, in the order the posterior took them).
    let (findings, _) = resolved.evidence.findings(model);
    let mut plain = d.clone();
    for (e, f) in plain.trace.iter_mut().zip(&findings) {
        e.evidence = crate::words::finding(kb, model, f, host);
    }
    let d = &plain;
    let mut causes: Vec<CauseOut> = model
        .causes
        .iter()
        .zip(&d.p)
        .map(|(c, p)| CauseOut {
            id: c.id.clone(),
            group: c.group.clone(),
            name: c.name.clone(),
            probability: *p,
            note: model
                .error_code
                .and_then(|code| kb.cause_note(code, &c.id))
                .map(str::to_string),
        })
        .collect();
    causes.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(a.id.cmp(&b.id))
    });
    let groups = d
        .groups(model)
        .into_iter()
        .map(|(g, p)| (g.to_string(), p))
        .collect();
    let next_step = d.next.as_ref().map(|n| match n {
        Next::Act { action, ask_first } => {
            let a = &model.actions[*action];
            let p_fix = d
                .recommendation
                .plan
                .iter()
                .find(|e| e.action == *action)
                .map(|e| round4(e.p_fix));
            StepOut {
                action: a.id.clone(),
                kind: "action".into(),
                title: a.title.clone(),
                instructions: instructions_for_host(kb, model, a, host),
                cost: CostOut {
                    minutes: a.cost.minutes,
                    usd: a.cost.usd,
                },
                skill: skill_str(a.skill),
                erases_data: a.data_risk == DataRisk::ErasesDevice,
                why: d.why(model),
                why_short: why_short(model, d),
                probability_fixes: p_fix,
                needs: a.needs.clone(),
                ask_first: ask_first
                    .as_ref()
                    .and_then(|q| model.observation_index(q))
                    .map(|oi| question_out(kb, model, host, oi, 0.0)),
            }
        }
        Next::Observe { observation } => {
            let o = &model.observations[*observation];
            StepOut {
                action: o.id.clone(),
                kind: if o.kind == "bench_test" {
                    "bench_test".into()
                } else {
                    "question".into()
                },
                title: question_text(kb, o, host),
                instructions: vec![format!("Answer: {}.", o.outcomes.join(" / "))],
                cost: CostOut {
                    minutes: o.cost.minutes,
                    usd: o.cost.usd,
                },
                skill: skill_str(o.skill),
                erases_data: false,
                why: d.why(model),
                why_short: why_short(model, d),
                probability_fixes: None,
                needs: o.needs.clone(),
                ask_first: None,
            }
        }
    });
    let skip_first = matches!(d.next, Some(Next::Act { .. }));
    let plan = d
        .recommendation
        .plan
        .iter()
        .skip(usize::from(skip_first))
        .map(|e| {
            let a = &model.actions[e.action];
            PlanStepOut {
                action: a.id.clone(),
                title: a.title.clone(),
                probability_fixes: round4(e.p_fix),
                cost: CostOut {
                    minutes: a.cost.minutes,
                    usd: a.cost.usd,
                },
                skill: skill_str(a.skill),
                erases_data: a.data_risk == DataRisk::ErasesDevice,
            }
        })
        .collect();
    let questions = d
        .free_questions
        .iter()
        .filter(|q| is_quick_question(&model.observations[q.observation]))
        .map(|q| question_out(kb, model, host, q.observation, round4(q.gain)))
        .collect();
    // With thin evidence, the questions that tell the leading causes apart come first.
    let mut questions: Vec<QuestionOut> = questions;
    for &oi in d.separating.iter().rev() {
        questions.retain(|q| q.id != model.observations[oi].id);
        questions.insert(0, question_out(kb, model, host, oi, 0.0));
    }
    let tests = d
        .recommendation
        .questions
        .iter()
        .filter(|q| !is_quick_question(&model.observations[q.observation]))
        .map(|q| test_out(kb, model, host, &d.p, q.observation, round4(q.gain)))
        .collect();
    let verdict = d.verdict.as_ref().map(|v| VerdictOut {
        group: v.group.clone(),
        cause: v.cause.clone(),
        confidence: v.confidence,
        summary: match model
            .error_code
            .and_then(|code| kb.cause_note(code, &v.cause))
        {
            Some(note) => format!("{} With this error code that means {note}", v.summary),
            None => v.summary.clone(),
        },
        repair: RepairOut {
            usd_low: v.repair_usd[0],
            usd_high: v.repair_usd[1],
        },
        shop_test_first: v.shop_test_first.clone(),
        keep_data: v.keep_data.clone(),
        reason: serde_plain(&v.reason),
    });
    let mut explanation: Vec<ExplanationOut> = model
        .adjustments
        .iter()
        .filter_map(|adj| {
            let i = model.cause_index(&adj.cause)?;
            let m = crate::posterior::Move {
                cause: adj.cause.clone(),
                before: model.base_prior[i],
                after: model.prior[i],
            };
            let device = model
                .device
                .as_ref()
                .map_or("this model", |d| d.name.as_str());
            let evidence = format!("Known weakness of the {device}: {}", adj.fault_title);
            Some(ExplanationOut {
                text: format!(
                    "{evidence}: {} before anything else.",
                    crate::posterior::describe_move(model, &m)
                ),
                evidence,
                moves: vec![MoveOut {
                    cause: m.cause,
                    before: round4(m.before),
                    after: round4(m.after),
                }],
            })
        })
        .collect();
    if let Some((n, before)) = &resolved.shop_prior {
        let mut moves: Vec<crate::posterior::Move> = model
            .causes
            .iter()
            .enumerate()
            .filter(|(i, _)| (model.prior[*i] - before[*i]).abs() >= 0.02)
            .map(|(i, c)| crate::posterior::Move {
                cause: c.id.clone(),
                before: before[i],
                after: model.prior[i],
            })
            .collect();
        moves.sort_by(|a, b| {
            (b.after - b.before)
                .abs()
                .total_cmp(&(a.after - a.before).abs())
        });
        moves.truncate(3);
        let evidence = format!("This shop's {n} closed case(s) with the same model and error");
        explanation.push(ExplanationOut {
            text: if moves.is_empty() {
                format!("{evidence}: changed little.")
            } else {
                format!(
                    "{evidence}: {}.",
                    moves
                        .iter()
                        .map(|m| crate::posterior::describe_move(model, m))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            evidence,
            moves: moves
                .into_iter()
                .map(|m| MoveOut {
                    cause: m.cause,
                    before: round4(m.before),
                    after: round4(m.after),
                })
                .collect(),
        });
    }
    let from_evidence = d.trace.iter().map(|e| ExplanationOut {
        evidence: e.evidence.clone(),
        moves: e
            .moves
            .iter()
            .map(|m| MoveOut {
                cause: m.cause.clone(),
                before: round4(m.before),
                after: round4(m.after),
            })
            .collect(),
        text: if e.moves.is_empty() {
            format!("{}: changed little.", e.evidence)
        } else {
            format!(
                "{}: {}.",
                e.evidence,
                e.moves
                    .iter()
                    .map(|m| crate::posterior::describe_move(model, m))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
    });
    explanation.extend(from_evidence);
    let mut warnings = resolved.warnings.clone();
    warnings.extend(d.warnings.iter().cloned());
    let says_downgrade = warnings.iter().any(|w| w.contains("downgrade"));
    if !says_downgrade
        && resolved
            .understood
            .as_ref()
            .is_some_and(|u| u.wants_downgrade)
    {
        warnings.push(crate::diagnose::DOWNGRADE_WARNING.to_string());
    }
    DiagnoseResponse {
        device: model.device.as_ref().map(|d| DeviceOut {
            name: d.name.clone(),
            product_type: d.product_type.clone(),
        }),
        error_code: model.error_code,
        causes,
        groups,
        next_step,
        plan,
        verdict,
        warnings,
        questions,
        uncertain: !d.separating.is_empty(),
        tests,
        explanation,
        understood: resolved.understood.clone(),
        role: resolved.role.as_str().to_string(),
        host: resolved.evidence.host.clone(),
        case,
        expected_cost: round4(d.recommendation.ecr),
    }
}

fn serde_plain(r: &crate::verdict::VerdictReason) -> String {
    use crate::verdict::VerdictReason::*;
    match r {
        Fixed => "fixed",
        CauseLikely => "cause_likely",
        GroupLikely => "group_likely",
        RestoresStopped => "restores_stopped",
        StepsExhausted => "steps_exhausted",
    }
    .to_string()
}
