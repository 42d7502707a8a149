//! The HTML pages: diagnose wizard, error codes, devices and guides, cases, logs, fleet.
//! Every template is an askama template under `templates/`; values are escaped by it.

use crate::api::{self, ApiError};
use crate::form::FormData;
use crate::grid::AttemptGrid;
use crate::svg;
use crate::wizard::{self, Event, FieldError, WizardState};
use crate::{AppState, StoreFailure};
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use engine::api::DiagnoseResponse;
use kb::report::{self, ReportError};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/diagnose", get(home).post(diagnose))
        .route("/diagnose/report.md", axum::routing::post(report_md))
        .route("/codes", get(codes))
        .route("/codes/lookup", get(code_lookup))
        .route("/codes/{code}", get(code))
        .route("/devices", get(devices))
        .route("/guides", get(guides))
        .route("/guides/{kind}", get(guide))
        .route("/cases", get(cases))
        .route("/cases/{id}", get(case))
        .route("/logs", get(logs_form).post(logs_upload))
        .route("/fleet", get(fleet))
        .route("/static/style.css", get(style))
        .route("/static/app.js", get(script))
        .fallback(not_found)
}

/// What every page needs: its title and which menu entry is current.
pub struct Page {
    pub title: String,
    pub section: &'static str,
}

impl Page {
    pub fn new(title: impl Into<String>, section: &'static str) -> Page {
        Page {
            title: title.into(),
            section,
        }
    }
}

/// Render a template, or a plain 500 if it fails.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("template failed: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be drawn",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    page: Page,
    heading: String,
    message: String,
}

fn message(status: StatusCode, heading: &str, msg: impl Into<String>) -> Response {
    let mut r = render(&MessagePage {
        page: Page::new(heading, ""),
        heading: heading.to_string(),
        message: msg.into(),
    });
    *r.status_mut() = status;
    r
}

async fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no page at this address. Use the menu above.",
    )
}

fn pool_message(e: crate::pool::PoolError) -> Response {
    let e: ApiError = e.into();
    message(e.status, "Busy", e.message)
}

fn store_message(f: StoreFailure) -> Response {
    let e: ApiError = f.into();
    let heading = match e.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::SERVICE_UNAVAILABLE => "No case database",
        _ => "Case database error",
    };
    message(e.status, heading, e.message)
}

fn href(path: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return path.to_string();
    }
    let q: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{path}?{q}")
}

fn pct(p: f64) -> String {
    format!("{:.0}%", p * 100.0)
}

// ---------------------------------------------------------------- diagnose: first page

pub struct Choice {
    pub id: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    page: Page,
    devices: Vec<String>,
    hosts: Vec<Choice>,
    tried: Vec<Choice>,
    observed: Vec<Choice>,
    stages: Vec<Choice>,
    state: WizardState,
    error: Option<FieldError>,
}

fn host_label(id: &str) -> &str {
    match id {
        "windows_itunes" => "Windows PC with iTunes",
        "windows_apple_devices" => "Windows PC with the Apple Devices app",
        "macos_finder" => "Mac with Finder (macOS 10.15 or later)",
        "macos_itunes" => "Mac with iTunes (macOS 10.14 or earlier)",
        "itunes" => "iTunes (not sure which computer)",
        "apple_configurator" => "Apple Configurator",
        "imazing" => "iMazing",
        "3utools" => "3uTools",
        "idevicerestore" => "idevicerestore",
        "futurerestore" => "futurerestore (or another idevicerestore-based tool)",
        "other" => "Something else",
        _ => "I don't know",
    }
}

fn observed_label(id: &str) -> String {
    let words = match id {
        "liquid_exposure" => "It got wet or was exposed to liquid",
        "recent_drop" => "It was dropped recently",
        "recent_repair" => "It was repaired recently (screen, battery...)",
        "speaker_greyed_out" => "The speaker button is greyed out during calls",
        "no_service" => "It shows No Service or searches forever",
        "face_id_broken" => "Face ID stopped working",
        "true_tone_missing" => "True Tone disappeared from Settings",
        "boot_loop" => "It keeps restarting (boot loop)",
        "not_detected" => "The computer does not see it at all",
        "detected_in_dfu" => "The computer sees it in DFU mode",
        "detected_in_recovery" => "The computer sees it in Recovery Mode",
        "same_failure_point" => "It fails at the same point every time",
        "error_varies" => "The error number changes between attempts",
        "works_with_earpiece_flex_disconnected" => {
            "(technician) Restore works with the earpiece flex disconnected"
        }
        "low_storage" => "Its storage was almost full",
        "battery_dead" => "The battery is dead or swollen",
        "charging_problem" => "It charges badly or not at all",
        "old_host_software" => "The computer's iTunes, macOS or Windows is old",
        "update_interrupted" => "An update was interrupted (unplugged, battery died)",
        "hub_or_adapter" => "It was connected through a hub, adapter or front-panel port",
        "port_debris" => "The charging port has lint in it or the plug sits loose",
        "downgrade_attempt" => "Trying to install an older iOS version",
        "device_locked" => {
            "It was locked (passcode, disabled, passcode forgotten, Trust not tapped)"
        }
        "virtual_machine" => "The restore runs in a virtual machine (VMware, VirtualBox, WSL...)",
        "host_usb_service" => {
            "The computer's Apple device service or USB driver is missing or stopped"
        }
        "saved_blobs" => "A restore with saved blobs (SHSH, nonce, a chosen SEP or baseband)",
        "custom_firmware" => "A custom or patched firmware file, or a jailbroken device",
        "beta_firmware" => "A beta version is involved",
        "after_update" => "It started with an update, an erase or a reset of the device",
        "widespread" => "Many people hit the same failure at once (release day)",
        "network_trouble" => {
            "Trouble reaching Apple's servers (could not be contacted, downloads failing, a proxy or VPN)"
        }
        "hard_drive_ipod" => "An iPod with a hard drive (classic, video, mini...)",
        // Any other: its question, shortened, rather than its id.
        other => {
            return kb::kb().observation(other).map_or_else(
                || other.replace('_', " "),
                |o| engine::words::short_question(&o.question),
            );
        }
    };
    words.to_string()
}

/// The device picker's names: each model once (a model has a row per product type and board),
/// in the table's order.
pub fn device_picker_names(kb: &kb::KnowledgeBase) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    kb.devices()
        .iter()
        .filter(|d| seen.insert(d.name.as_str()))
        .map(|d| d.name.clone())
        .collect()
}

fn intake_page(state: WizardState, error: Option<FieldError>) -> Response {
    let kb = kb::kb();
    let devices = device_picker_names(kb);
    let hosts = kb::vocab::HOSTS
        .iter()
        .map(|h| Choice {
            id: h.to_string(),
            label: host_label(h).to_string(),
            checked: state.host.as_deref() == Some(*h),
        })
        .collect();
    let tried = kb::vocab::TRIED
        .iter()
        .map(|t| Choice {
            id: t.to_string(),
            label: kb
                .action_by_tried_flag(t)
                .map(|a| a.title.clone())
                .unwrap_or_else(|| t.replace('_', " ")),
            checked: state.tried.iter().any(|x| x == t),
        })
        .collect();
    let observed = kb::vocab::OBSERVED
        .iter()
        .map(|o| Choice {
            id: o.to_string(),
            label: observed_label(o),
            checked: state.observed.iter().any(|x| x == o),
        })
        .collect();
    let stage_now = state
        .observed
        .iter()
        .find_map(|o| o.strip_prefix("failure_stage="))
        .map(str::to_string);
    let stages = kb::Stage::ALL
        .iter()
        .map(|s| Choice {
            id: s.as_str().to_string(),
            label: engine::words::stage(*s).to_string(),
            checked: stage_now.as_deref() == Some(s.as_str()),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut r = render(&IntakePage {
        page: Page::new("Diagnose a failed restore", "diagnose"),
        devices,
        hosts,
        tried,
        observed,
        stages,
        state,
        error,
    });
    *r.status_mut() = status;
    r
}

async fn home() -> Response {
    intake_page(WizardState::default(), None)
}

// ---------------------------------------------------------------- diagnose: steps and verdict

pub struct Bar {
    pub name: String,
    pub detail: String,
    pub percent: String,
    pub svg: String,
}

pub struct Button {
    pub name: &'static str,
    pub value: String,
    pub label: String,
    pub class: &'static str,
}

pub struct StepView {
    pub kind: String,
    pub title: String,
    pub instructions: Vec<String>,
    pub cost: String,
    pub erases_data: bool,
    /// Why, in a sentence or two.
    pub why: String,
    /// The full reasoning and the evidence behind it (a "Why?" details element).
    pub why_full: String,
    pub evidence: Vec<String>,
    pub chance: Option<String>,
    pub ask_first: Option<String>,
    pub buttons: Vec<Button>,
}

pub struct VerdictView {
    pub summary: String,
    pub cause: String,
    pub group: String,
    pub confidence: String,
    pub repair: String,
    pub shop_test_first: String,
    pub keep_data: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "step.html")]
struct StepPage {
    page: Page,
    hidden: Vec<(&'static str, String)>,
    device: String,
    error_code: String,
    groups: Vec<Bar>,
    causes: Vec<Bar>,
    step: Option<StepView>,
    verdict: Option<VerdictView>,
    warnings: Vec<String>,
    understood: Vec<String>,
    words: Option<String>,
    history: Vec<String>,
    step_number: usize,
}

fn group_bars(r: &DiagnoseResponse, before: Option<&DiagnoseResponse>) -> Vec<Bar> {
    kb::vocab::GROUPS
        .iter()
        .map(|g| {
            let p = r.groups.get(*g).copied().unwrap_or(0.0);
            let b = before.and_then(|b| b.groups.get(*g).copied());
            let detail = match b {
                Some(b) if (p - b).abs() >= 0.005 => {
                    let d = (p - b) * 100.0;
                    let n = d.abs().round();
                    format!(
                        "{} {n:.0} point{}",
                        if d > 0.0 { "up" } else { "down" },
                        if n == 1.0 { "" } else { "s" }
                    )
                }
                _ => String::new(),
            };
            Bar {
                name: g.to_string(),
                detail,
                percent: pct(p),
                svg: svg::probability_bar(p, b),
            }
        })
        .collect()
}

fn cause_bars(r: &DiagnoseResponse) -> Vec<Bar> {
    r.causes
        .iter()
        .take(6)
        .map(|c| Bar {
            name: c.name.clone(),
            detail: c.group.clone(),
            percent: pct(c.probability),
            svg: svg::probability_bar(c.probability, None),
        })
        .collect()
}

fn history(state: &WizardState) -> Vec<String> {
    let kb = kb::kb();
    let mut v: Vec<String> = state
        .tried
        .iter()
        .map(|t| {
            let title = kb
                .action_by_tried_flag(t)
                .map(|a| a.title.clone())
                .unwrap_or_else(|| t.clone());
            format!("{title}: still fails (before)")
        })
        .collect();
    for e in &state.events {
        v.push(match e {
            Event::Step { action, outcome } => {
                let title = kb
                    .action(action)
                    .map(|a| a.title.as_str())
                    .unwrap_or(action);
                let o = match outcome.as_str() {
                    "fixed" => "it worked",
                    "failed" => "still fails",
                    _ => "could not do it",
                };
                format!("{title}: {o}")
            }
            Event::Answer { observation, value } => {
                let q = engine::api::question_for_host(kb, observation, state.host.as_deref());
                format!("{q} {}", engine::words::outcome(observation, value))
            }
            Event::Skip { observation } => {
                let q = engine::api::question_for_host(kb, observation, state.host.as_deref());
                format!("{q} not known")
            }
        });
    }
    v
}

/// The buttons that answer a question: its outcomes, then "I don't know" (not asked again).
fn answer_buttons(id: &str, outcomes: &[String], dont_know: &str) -> Vec<Button> {
    let mut buttons: Vec<Button> = outcomes
        .iter()
        .map(|o| Button {
            name: "answer",
            value: format!("{id}={o}"),
            label: match o.as_str() {
                "yes" => "Yes".to_string(),
                "no" => "No".to_string(),
                other => engine::words::outcome(id, other),
            },
            class: "plain",
        })
        .collect();
    buttons.push(Button {
        name: "skip",
        value: id.to_string(),
        label: dont_know.into(),
        class: "plain",
    });
    buttons
}

fn evidence_lines(r: &DiagnoseResponse) -> Vec<String> {
    r.explanation
        .iter()
        .filter(|e| !e.moves.is_empty())
        .map(|e| e.text.clone())
        .collect()
}

/// A question before the next step: the best quick question once a step has been answered (the
/// first step comes right after the first page), or "is the data backed up?" before a step
/// that erases the device. None: show the step.
fn question_view(r: &DiagnoseResponse, state: &WizardState) -> Option<StepView> {
    let skipped = state.skipped();
    let quick = r
        .questions
        .iter()
        .filter(|_| state.step_done())
        .find(|q| q.value > 0.0 && !skipped.contains(&q.id.as_str()));
    let (q, why) = match quick {
        Some(q) => (q, "The answer changes what to do next.".to_string()),
        None => {
            let n = r.next_step.as_ref()?;
            let q = n.ask_first.as_ref().filter(|q| {
                q.id == engine::diagnose::BACKUP_QUESTION && !skipped.contains(&q.id.as_str())
            })?;
            (
                q,
                format!(
                    "The next step, \u{201c}{}\u{201d}, erases the device: it is offered only when \
                     the data is safe.",
                    n.title
                ),
            )
        }
    };
    Some(StepView {
        kind: "question".into(),
        title: q.question.clone(),
        instructions: Vec::new(),
        cost: "a quick question".into(),
        erases_data: false,
        why_full: why.clone(),
        why,
        evidence: evidence_lines(r),
        chance: None,
        ask_first: None,
        buttons: answer_buttons(&q.id, &q.outcomes, "I don't know"),
    })
}

fn step_view(r: &DiagnoseResponse) -> Option<StepView> {
    let n = r.next_step.as_ref()?;
    let buttons = if n.kind == "action" {
        vec![
            Button {
                name: "step",
                value: format!("{}:fixed", n.action),
                label: "It worked".into(),
                class: "good",
            },
            Button {
                name: "step",
                value: format!("{}:failed", n.action),
                label: "Still fails".into(),
                class: "bad",
            },
            Button {
                name: "step",
                value: format!("{}:cannot_do", n.action),
                label: "I can't do this, or it does not apply".into(),
                class: "plain",
            },
        ]
    } else {
        let outcomes = kb::kb()
            .observation(&n.action)
            .map(|o| o.outcomes.clone())
            .unwrap_or_else(|| vec!["yes".into(), "no".into()]);
        answer_buttons(&n.action, &outcomes, "I can't do this")
    };
    let cost = match (n.cost.minutes, n.cost.usd) {
        (m, u) if u > 0.0 => format!("about {m:.0} min, ${u:.0}"),
        (m, _) => format!("about {m:.0} min, free"),
    };
    Some(StepView {
        kind: n.kind.clone(),
        title: n.title.clone(),
        instructions: if n.kind == "action" {
            n.instructions.clone()
        } else {
            Vec::new()
        },
        cost,
        erases_data: n.erases_data,
        why: if n.why_short.is_empty() {
            n.why.clone()
        } else {
            n.why_short.clone()
        },
        why_full: n.why.clone(),
        evidence: evidence_lines(r),
        chance: n
            .probability_fixes
            .map(|p| format!("{} chance this fixes it", pct(p))),
        // Whether the person has what the step needs is one of its answers ("I can't do
        // this"); the backup question is asked on its own page first.
        ask_first: None,
        buttons,
    })
}

fn verdict_view(r: &DiagnoseResponse) -> Option<VerdictView> {
    let v = r.verdict.as_ref()?;
    let kb = kb::kb();
    Some(VerdictView {
        summary: v.summary.clone(),
        cause: kb
            .cause(&v.cause)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| v.cause.clone()),
        group: v.group.clone(),
        confidence: pct(v.confidence),
        repair: if v.repair.usd_high > 0.0 {
            format!("${:.0}–${:.0}", v.repair.usd_low, v.repair.usd_high)
        } else {
            "no repair cost".into()
        },
        shop_test_first: v.shop_test_first.clone(),
        keep_data: v.keep_data.clone(),
        reason: reason_words(&v.reason),
    })
}

/// The verdict's reason id in words.
pub fn reason_words(reason: &str) -> String {
    match reason {
        "fixed" => "A step made the restore work.",
        "cause_likely" => "One cause is now likely enough to act on.",
        "group_likely" => "The evidence points clearly at one kind of fault.",
        "restores_stopped" => {
            "The restore failed at the same point again and again: more restores risk the data."
        }
        "steps_exhausted" => "Every step worth trying at home has been tried.",
        other => return other.replace('_', " "),
    }
    .to_string()
}

fn understood(r: &DiagnoseResponse) -> Vec<String> {
    r.understood
        .as_ref()
        .map(|u| engine::words::understood(kb::kb(), u))
        .unwrap_or_default()
}

/// Run the wizard's state through the engine (reading the case from the store if named).
async fn run_state(
    app: &AppState,
    state: &WizardState,
) -> Result<Result<DiagnoseResponse, FieldError>, Response> {
    let history = match &state.case {
        None => None,
        Some(c) => {
            let Ok(id) = c.trim().parse::<i64>() else {
                return Ok(Err(FieldError {
                    field: "case".into(),
                    message: format!("`{c}` is not a case id"),
                }));
            };
            match app.with_store(move |s| s.case_history(id)).await {
                Ok(h) => Some(h),
                Err(f) => return Err(store_message(f)),
            }
        }
    };
    let req = match wizard::build_request(state, history.as_ref()) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    match app.diagnose(req).await {
        Ok(answer) => Ok(answer
            .map(|a| a.response.clone())
            .map_err(|e| wizard::field_error(&e))),
        Err(e) => Err(pool_message(e)),
    }
}

async fn diagnose(State(app): State<AppState>, body: axum::body::Body) -> Response {
    let limit = app.inner.max_upload.min(crate::limits::MAX_FORM_BODY);
    let body = match api::read_body(body, limit).await {
        Ok(b) => b,
        Err(e) => return message(e.status, "Form too large", e.message),
    };
    let form = FormData::parse(&body);
    let state = match WizardState::from_form(&form) {
        Ok(s) => s,
        Err(e) => return intake_page(WizardState::default(), Some(e)),
    };
    let r = match run_state(&app, &state).await {
        Err(resp) => return resp,
        Ok(Err(e)) => return intake_page(state, Some(e)),
        Ok(Ok(r)) => r,
    };
    let before = match state.before_last() {
        Some(b) => run_state(&app, &b).await.ok().and_then(|x| x.ok()),
        None => None,
    };
    // The verdict once nothing but the shop is left (as in the terminal): a likely group with
    // cheaper steps still to try goes on with those.
    let finished = r
        .next_step
        .as_ref()
        .is_none_or(|n| n.action == engine::model::SERVICE_ACTION);
    let verdict = verdict_view(&r).filter(|_| finished);
    let step = if verdict.is_some() {
        None
    } else {
        question_view(&r, &state).or_else(|| step_view(&r))
    };
    let title = if verdict.is_some() || step.is_none() {
        "Verdict"
    } else {
        "Next step"
    };
    render(&StepPage {
        page: Page::new(title, "diagnose"),
        hidden: state.hidden(),
        device: r
            .device
            .as_ref()
            .map(|d| format!("{} ({})", d.name, d.product_type))
            .unwrap_or_else(|| "device not known".into()),
        error_code: r
            .error_code
            .map(|c| format!("error {c}"))
            .unwrap_or_else(|| "no error code".into()),
        groups: group_bars(&r, before.as_ref()),
        causes: cause_bars(&r),
        step,
        verdict,
        warnings: r.warnings.clone(),
        understood: understood(&r),
        words: state.text.clone(),
        history: history(&state),
        step_number: state.events.len() + 1,
    })
}

async fn report_md(State(app): State<AppState>, body: axum::body::Body) -> Response {
    let limit = app.inner.max_upload.min(crate::limits::MAX_FORM_BODY);
    let body = match api::read_body(body, limit).await {
        Ok(b) => b,
        Err(e) => return message(e.status, "Form too large", e.message),
    };
    let form = FormData::parse(&body);
    let state = match WizardState::from_form(&form) {
        Ok(s) => s,
        Err(e) => return intake_page(WizardState::default(), Some(e)),
    };
    let r = match run_state(&app, &state).await {
        Err(resp) => return resp,
        Ok(Err(e)) => return intake_page(state, Some(e)),
        Ok(Ok(r)) => r,
    };
    let md = wizard::markdown_report(&state, &r);
    let mut resp = md.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/markdown; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"restore-doctor-report.md\""),
    );
    resp
}

// ---------------------------------------------------------------- error codes

pub struct CodeRow {
    pub label: String,
    pub href: String,
    pub family: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "codes.html")]
struct CodesPage {
    page: Page,
    rows: Vec<CodeRow>,
}

async fn codes() -> Response {
    let rows = report::code_list()
        .into_iter()
        .map(|e| {
            let (label, n) = match (&e.code, &e.range) {
                (Some(c), _) => (c.to_string(), *c),
                (None, Some(r)) => (format!("{}–{}", r.start, r.end), r.start),
                _ => (String::new(), 0),
            };
            CodeRow {
                label,
                href: format!("/codes/{n}"),
                family: e.family,
                summary: e.summary,
            }
        })
        .collect();
    render(&CodesPage {
        page: Page::new("Error codes", "codes"),
        rows,
    })
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

async fn code_lookup(Query(q): Query<CodeQuery>) -> Response {
    let text = q.code.unwrap_or_default();
    match report::parse_code(&text) {
        Some(n) => axum::response::Redirect::to(&format!("/codes/{n}")).into_response(),
        None => message(
            StatusCode::BAD_REQUEST,
            "Not an error code",
            format!("`{text}` is not an error code: give the number the app showed, e.g. 4013."),
        ),
    }
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    page: Page,
    e: report::ExplainJson,
    heading: String,
    causes: Vec<Bar>,
    steps: Vec<String>,
    diagnose_href: String,
    /// Where the numbers come from, with the cited sources as `[1]`, `[2]`...
    prior_source: Option<String>,
    /// The sources cited on the page, numbered in that order: title and link.
    sources: Vec<kb::sources::SourceRef>,
}

async fn code(Path(text): Path<String>) -> Response {
    let Some(n) = report::parse_code(&text) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Not an error code",
            format!("`{text}` is not an error code: give the number the app showed, e.g. 4013."),
        );
    };
    let e = match report::explain(n) {
        Ok(e) => e,
        Err(err) => {
            return message(
                StatusCode::NOT_FOUND,
                "Unknown code",
                api::report_error(err).message,
            );
        }
    };
    let heading = match &e.range {
        Some(r) => format!("Error {} (documented range {}–{})", e.code, r.start, r.end),
        None => format!("Error {}", e.code),
    };
    let causes = e
        .causes
        .iter()
        .map(|c| Bar {
            name: c.name.clone(),
            detail: c.group.clone(),
            percent: pct(c.probability),
            svg: svg::probability_bar(c.probability, None),
        })
        .collect();
    let steps = e
        .first_steps
        .iter()
        .map(|s| {
            let mut t = format!("{} (about {:.0} min", s.title, s.cost.minutes);
            if s.cost.usd > 0.0 {
                t.push_str(&format!(", ${:.0}", s.cost.usd));
            }
            t.push(')');
            if s.erases_data {
                t.push_str(" — erases the device: back up first");
            }
            t
        })
        .collect();
    let sources = kb::sources::cited(
        kb::kb(),
        &[e.prior_source.as_deref().unwrap_or(""), &e.source],
    );
    render(&CodePage {
        page: Page::new(heading.clone(), "codes"),
        diagnose_href: href("/diagnose", &[]),
        prior_source: e
            .prior_source
            .as_deref()
            .map(|p| kb::sources::number_citations(p, &sources)),
        sources,
        heading,
        causes,
        steps,
        e,
    })
}

// ---------------------------------------------------------------- devices and guides

pub struct DeviceRow {
    pub name: String,
    pub product_type: String,
    pub board: String,
    pub year: u16,
    pub buttons: String,
    pub guides: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    page: Page,
    q: String,
    rows: Vec<DeviceRow>,
    error: Option<String>,
}

const GUIDE_KINDS: [(&str, &str); 4] = [
    ("force-restart", "Force restart"),
    ("recovery", "Recovery Mode"),
    ("dfu", "DFU mode"),
    ("exit-recovery", "Leave Recovery"),
];

#[derive(Deserialize)]
struct DevicesQuery {
    q: Option<String>,
}

async fn devices(State(app): State<AppState>, Query(q): Query<DevicesQuery>) -> Response {
    let query = q.q.unwrap_or_default();
    if let Err(e) = crate::limits::check_len("q", Some(&query), crate::limits::MAX_NAME) {
        return message(StatusCode::BAD_REQUEST, "Search too long", e.message);
    }
    let trimmed = query.trim().to_string();
    let found = app
        .heavy(move || report::devices_matching(Some(trimmed.as_str()).filter(|s| !s.is_empty())))
        .await;
    let (list, error) = match found {
        Ok(Ok(l)) => (l, None),
        Ok(Err(e)) => (Vec::new(), Some(api::report_error(e).message)),
        Err(e) => return pool_message(e),
    };
    let rows = list
        .into_iter()
        .map(|d| DeviceRow {
            name: d.name.clone(),
            product_type: d.product_type.clone(),
            board: d.board.clone(),
            year: d.year,
            buttons: d.button_scheme.as_str().replace('_', " "),
            guides: GUIDE_KINDS
                .iter()
                .map(|(k, label)| {
                    (
                        label.to_string(),
                        href(&format!("/guides/{k}"), &[("device", &d.product_type)]),
                    )
                })
                .collect(),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let mut r = render(&DevicesPage {
        page: Page::new("Devices and button guides", "guides"),
        q: query,
        rows,
        error,
    });
    *r.status_mut() = status;
    r
}

#[derive(Template)]
#[template(path = "guides.html")]
struct GuidesPage {
    page: Page,
    device: String,
    /// Each model once, for the picker.
    devices: Vec<String>,
    /// (label, kind) of every guide.
    kinds: Vec<(String, String)>,
    /// The chosen device's name and its four guides (label, link), once a device is picked.
    chosen: Option<(String, Vec<(String, String)>)>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct GuidesQuery {
    device: Option<String>,
    kind: Option<String>,
}

/// `/guides`: pick a device (and a guide) and get its button steps; with both chosen, the
/// guide itself.
async fn guides(Query(q): Query<GuidesQuery>) -> Response {
    let device = q.device.unwrap_or_default().trim().to_string();
    let kind = q.kind.unwrap_or_default();
    let mut chosen = None;
    let mut error = None;
    if !device.is_empty() {
        match kb::kb().find_device(&device) {
            kb::DeviceMatch::Found { name, .. } => {
                if let Some((k, _)) = GUIDE_KINDS.iter().find(|(k, _)| *k == kind) {
                    let to = href(&format!("/guides/{k}"), &[("device", &device)]);
                    return axum::response::Redirect::to(&to).into_response();
                }
                let links = GUIDE_KINDS
                    .iter()
                    .map(|(k, label)| {
                        (
                            label.to_string(),
                            href(&format!("/guides/{k}"), &[("device", &device)]),
                        )
                    })
                    .collect();
                chosen = Some((name.to_string(), links));
            }
            kb::DeviceMatch::Ambiguous(names) => {
                error = Some(format!(
                    "“{device}” matches several models: {}. Pick one.",
                    names.join(", ")
                ));
            }
            kb::DeviceMatch::NotFound(names) => {
                error = Some(format!(
                    "No model called “{device}”. Closest: {}.",
                    names.join(", ")
                ));
            }
        }
    }
    let status = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let mut r = render(&GuidesPage {
        page: Page::new("Button guides", "guides"),
        device,
        devices: device_picker_names(kb::kb()),
        kinds: GUIDE_KINDS
            .iter()
            .map(|(k, label)| (label.to_string(), k.to_string()))
            .collect(),
        chosen,
        error,
    });
    *r.status_mut() = status;
    r
}

#[derive(Template)]
#[template(path = "guide.html")]
struct GuidePage {
    page: Page,
    g: report::GuideJson,
    kinds: Vec<(String, String, bool)>,
}

#[derive(Deserialize)]
struct GuideQuery {
    device: Option<String>,
}

async fn guide(Path(kind): Path<String>, Query(q): Query<GuideQuery>) -> Response {
    if let Err(e) = crate::limits::check_len("device", q.device.as_deref(), crate::limits::MAX_NAME)
    {
        return message(StatusCode::BAD_REQUEST, "Device name too long", e.message);
    }
    let Some(device) = q.device.filter(|d| !d.trim().is_empty()) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Which device?",
            "Pick a device on the Guides page (/guides); its four guides are linked there.",
        );
    };
    match report::guide(&kind, &device) {
        Ok(g) => {
            let kinds = GUIDE_KINDS
                .iter()
                .map(|(k, label)| {
                    (
                        label.to_string(),
                        href(&format!("/guides/{k}"), &[("device", &device)]),
                        *k == g.kind,
                    )
                })
                .collect();
            render(&GuidePage {
                page: Page::new(format!("{} — {}", g.title, g.device.name), "guides"),
                g,
                kinds,
            })
        }
        Err(e) => {
            let status = match e {
                ReportError::UnknownDevice { .. } => StatusCode::NOT_FOUND,
                _ => StatusCode::BAD_REQUEST,
            };
            message(status, "No such guide", api::report_error(e).message)
        }
    }
}

// ---------------------------------------------------------------- cases

pub struct CaseRow {
    pub id: i64,
    pub device: String,
    pub customer: String,
    pub error: String,
    pub opened: String,
    pub status: String,
    pub attempts: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    page: Page,
    rows: Vec<CaseRow>,
}

fn device_words(d: &store::Device) -> String {
    match (&d.name, &d.product_type) {
        (Some(n), Some(pt)) => format!("{n} ({pt})"),
        (Some(n), None) => n.clone(),
        _ => d.label.clone(),
    }
}

async fn cases(State(app): State<AppState>) -> Response {
    let list = match app.with_store(|s| s.list_cases(false)).await {
        Ok(l) => l,
        Err(f) => return store_message(f),
    };
    let rows = list
        .into_iter()
        .map(|c| CaseRow {
            id: c.id,
            device: device_words(&c.device),
            customer: c.customer.unwrap_or_default(),
            error: c.error_code.map(|e| e.to_string()).unwrap_or_default(),
            opened: store::format_time(c.opened_at),
            status: match (&c.closed_at, &c.closed_cause) {
                (Some(_), Some(cause)) => format!("closed: {cause}"),
                (Some(_), None) => "closed".into(),
                _ => "open".into(),
            },
            attempts: format!("{} ({} failed)", c.attempts, c.failures),
        })
        .collect();
    render(&CasesPage {
        page: Page::new("Cases", "cases"),
        rows,
    })
}

pub struct AttemptRow {
    pub when: String,
    pub computer: String,
    pub cable: String,
    pub port: String,
    pub tool: String,
    pub result: String,
    pub ok: bool,
    pub stage: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    page: Page,
    id: i64,
    device: String,
    customer: String,
    error: String,
    status: String,
    grid: AttemptGrid,
    reading: String,
    attempts: Vec<AttemptRow>,
    steps: Vec<(String, String, String)>,
    notes: Vec<(String, String)>,
    verdict: Option<String>,
}

async fn case(State(app): State<AppState>, Path(text): Path<String>) -> Response {
    let Ok(id) = text.trim().parse::<i64>() else {
        return message(
            StatusCode::BAD_REQUEST,
            "Not a case number",
            format!("`{text}` is not a case number."),
        );
    };
    let c = match app.with_store(move |s| s.case(id)).await {
        Ok(c) => c,
        Err(f) => return store_message(f),
    };
    let kb = kb::kb();
    let grid = AttemptGrid::new(&c.attempts);
    let reading = grid.reading();
    let attempts = c
        .attempts
        .iter()
        .map(|a| AttemptRow {
            when: store::format_time(a.at),
            computer: a.computer.clone(),
            cable: a.cable.clone().unwrap_or_default(),
            port: a.port.clone().unwrap_or_default(),
            tool: a.tool.clone().unwrap_or_default(),
            result: if a.ok {
                "worked".into()
            } else {
                a.error_code
                    .map(|e| format!("error {e}"))
                    .unwrap_or_else(|| "failed".into())
            },
            ok: a.ok,
            stage: a.stage.clone().unwrap_or_default(),
        })
        .collect();
    let steps = c
        .steps
        .iter()
        .map(|s| {
            (
                store::format_time(s.at),
                kb.action(&s.action)
                    .map(|a| a.title.clone())
                    .unwrap_or_else(|| s.action.clone()),
                s.outcome.as_str().to_string(),
            )
        })
        .collect();
    let notes = c
        .notes
        .iter()
        .map(|n| (store::format_time(n.at), n.body.clone()))
        .collect();
    let verdict = c
        .verdict
        .as_ref()
        .and_then(|v| v.get("verdict"))
        .and_then(|v| v.get("summary"))
        .and_then(|s| s.as_str())
        .map(str::to_string);
    let device = device_words(&c.device.redacted());
    render(&CasePage {
        page: Page::new(format!("Case {id}"), "cases"),
        id,
        device,
        customer: c.customer.unwrap_or_default(),
        error: c.error_code.map(|e| e.to_string()).unwrap_or_default(),
        status: match (&c.closed_at, &c.closed_cause) {
            (Some(_), Some(cause)) => format!("closed: {cause}"),
            (Some(_), None) => "closed".into(),
            _ => "open".into(),
        },
        grid,
        reading,
        attempts,
        steps,
        notes,
        verdict,
    })
}

// ---------------------------------------------------------------- logs

pub struct EventRow {
    pub line: u64,
    pub time: String,
    pub kind: String,
    pub text: String,
    pub hot: bool,
}

pub struct LogView {
    pub file: String,
    pub tool: String,
    pub device: String,
    pub outcome: String,
    pub stage: String,
    pub operation: String,
    pub checkpoint: String,
    pub error_code: String,
    pub message: String,
    pub reading: String,
    pub events: Vec<EventRow>,
    pub dropped: u64,
}

#[derive(Template)]
#[template(path = "logs.html")]
struct LogsPage {
    page: Page,
    logs: Vec<LogView>,
    same: Option<bool>,
    error: Option<String>,
}

fn log_view(entry: &logs::LogEntry) -> LogView {
    let l = &entry.log;
    let f = l.failure.as_ref();
    let events = l
        .timeline
        .iter()
        .map(|e| {
            let hot = matches!(
                e.kind,
                logs::EventKind::Failure { .. } | logs::EventKind::ErrorCode { .. }
            ) || matches!(
                &e.kind,
                logs::EventKind::Checkpoint {
                    state: logs::CheckpointState::Failure,
                    ..
                }
            );
            let kind = serde_json::to_value(&e.kind)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
                .unwrap_or_default()
                .replace('_', " ");
            EventRow {
                line: e.line,
                time: e.time.clone().unwrap_or_default(),
                kind,
                text: e.text.clone(),
                hot,
            }
        })
        .collect();
    LogView {
        file: entry.file.clone(),
        tool: l.tool.as_str().to_string(),
        device: match (&l.device.name, &l.device.product_type) {
            (Some(n), Some(p)) => format!("{n} ({p})"),
            (None, Some(p)) => p.clone(),
            _ => "not named in the log".into(),
        },
        outcome: l.outcome.as_str().to_string(),
        stage: f
            .and_then(|f| f.stage)
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        operation: f
            .and_then(|f| f.operation.as_ref())
            .map(|o| format!("{} ({})", o.label, o.id))
            .unwrap_or_default(),
        checkpoint: f
            .and_then(|f| f.checkpoint.as_ref())
            .map(|c| match &c.name {
                Some(n) => format!("{} {n}", c.id),
                None => c.id.to_string(),
            })
            .unwrap_or_default(),
        error_code: f
            .and_then(|f| f.error_code)
            .map(|c| c.to_string())
            .unwrap_or_default(),
        message: f.and_then(|f| f.message.clone()).unwrap_or_default(),
        reading: l.reading.clone(),
        events,
        dropped: l.events_dropped,
    }
}

async fn logs_form() -> Response {
    render(&LogsPage {
        page: Page::new("Restore logs", "logs"),
        logs: Vec::new(),
        same: None,
        error: None,
    })
}

async fn logs_upload(State(app): State<AppState>, mut mp: Multipart) -> Response {
    let _upload = app.upload_permit().await;
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let status = e.status();
                return message(status, "Upload refused", e.body_text());
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                let status = e.status();
                return message(status, "Upload refused", e.body_text());
            }
        };
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let label = match (name.as_str(), file_name) {
            (_, Some(f)) if !f.is_empty() => f,
            ("paste1", _) => "pasted log 1".to_string(),
            ("paste2", _) => "pasted log 2".to_string(),
            (other, _) => other.to_string(),
        };
        inputs.push((label, bytes.to_vec()));
    }
    if inputs.is_empty() {
        let mut r = render(&LogsPage {
            page: Page::new("Restore logs", "logs"),
            logs: Vec::new(),
            same: None,
            error: Some("Paste a log or choose a file first.".into()),
        });
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return r;
    }
    let report = app.heavy(move || {
        let mut ok = Vec::new();
        let mut errors = Vec::new();
        for (name, bytes) in inputs {
            if logs::looks_binary(&bytes[..bytes.len().min(8192)]) {
                errors.push(logs::FileError {
                    file: name,
                    error: "looks like a binary file, not a text log".into(),
                });
            } else {
                ok.push((name, logs::analyze_bytes(&bytes)));
            }
        }
        logs::LogsReport::new(ok, errors, false)
    });
    let report = match report.await {
        Ok(r) => r,
        Err(e) => return pool_message(e),
    };
    let error = (!report.errors.is_empty()).then(|| {
        report
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.file, e.error))
            .collect::<Vec<_>>()
            .join("; ")
    });
    render(&LogsPage {
        page: Page::new("Restore logs", "logs"),
        logs: report.logs.iter().map(log_view).collect(),
        same: report.same_failure_point,
        error,
    })
}

// ---------------------------------------------------------------- fleet

pub struct FleetRow {
    pub id: String,
    pub attempts: u64,
    pub failures: u64,
    pub rate: String,
    pub interval: String,
    pub p_faulty: String,
    pub flagged: bool,
    pub svg: String,
}

pub struct FleetSection {
    pub title: &'static str,
    pub rows: Vec<FleetRow>,
}

#[derive(Template)]
#[template(path = "fleet.html")]
struct FleetPage {
    page: Page,
    sections: Vec<FleetSection>,
    attempts: u64,
    baseline: String,
}

fn fleet_section(title: &'static str, items: &[store::fleet::ItemReport]) -> FleetSection {
    let mut items: Vec<&store::fleet::ItemReport> = items.iter().collect();
    items.sort_by(|a, b| {
        b.flagged
            .cmp(&a.flagged)
            .then(b.p_faulty.total_cmp(&a.p_faulty))
            .then(a.id.cmp(&b.id))
    });
    let scale = items
        .iter()
        .map(|i| i.failure_rate_ci[1])
        .fold(0.05_f64, f64::max);
    FleetSection {
        title,
        rows: items
            .into_iter()
            .map(|i| FleetRow {
                id: i.label.clone().unwrap_or_else(|| i.id.clone()),
                attempts: i.attempts,
                failures: i.failures,
                rate: pct(i.failure_rate),
                interval: format!(
                    "{:.1}–{:.1}%",
                    i.failure_rate_ci[0] * 100.0,
                    i.failure_rate_ci[1] * 100.0
                ),
                p_faulty: pct(i.p_faulty),
                flagged: i.flagged,
                svg: svg::rate_with_interval(
                    i.failure_rate,
                    i.failure_rate_ci[0],
                    i.failure_rate_ci[1],
                    scale,
                    i.flagged,
                ),
            })
            .collect(),
    }
}

async fn fleet(State(app): State<AppState>) -> Response {
    let r = match api::fleet(&app).await {
        Ok(r) => r,
        Err(f) => return store_message(f),
    };
    let sections = vec![
        fleet_section("Benches (stations)", &r.stations),
        fleet_section("Cables", &r.cables),
        fleet_section("Ports", &r.ports),
        fleet_section("Devices", &r.devices),
    ];
    render(&FleetPage {
        page: Page::new("Fleet", "fleet"),
        sections,
        attempts: r.model.attempts,
        baseline: pct(r.model.baseline_failure_rate),
    })
}

// ---------------------------------------------------------------- static assets (embedded)

async fn style() -> Response {
    asset(
        include_str!("../static/style.css"),
        "text/css; charset=utf-8",
    )
}

async fn script() -> Response {
    asset(
        include_str!("../static/app.js"),
        "text/javascript; charset=utf-8",
    )
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_observed_word_has_its_own_wording_in_the_form() {
        for id in kb::vocab::OBSERVED {
            let label = observed_label(id);
            assert_ne!(
                label,
                id.replace('_', " "),
                "{id} shows its raw id in the form"
            );
        }
    }
}
