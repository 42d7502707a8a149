//! The JSON API: the same documents as the CLI's `--json` output (design.md §6, §8).
//! Errors are `{"error": message, "field": name-or-null}`: 400 for bad input (naming the
//! field), 404 for an unknown code, device or case, 413 for a body over the cap, 503 when the
//! case database could not be opened.

use crate::{AppState, StoreFailure};
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::api::{DiagnoseRequest, RequestError};
use kb::report::{self, DeviceJson, ReportError};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/explain/{code}", get(explain))
        .route("/api/codes", get(codes))
        .route("/api/devices", get(devices))
        .route("/api/guide/{kind}", get(guide))
        .route("/api/diagnose", post(diagnose))
        .route("/api/logs", post(logs))
        .route("/api/fleet/report", get(fleet_report))
        .route("/api/cases", get(cases))
        .route("/api/cases/{id}", get(case))
        .route("/api/openapi.json", get(openapi))
}

/// An API error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub field: Option<String>,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, field: Option<&str>, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }
    fn bad(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, Some(field), message)
    }
    fn not_found(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, Some(field), message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": self.message, "field": self.field })),
        )
            .into_response()
    }
}

impl From<crate::wizard::FieldError> for ApiError {
    fn from(e: crate::wizard::FieldError) -> ApiError {
        ApiError::bad(&e.field, e.message)
    }
}

impl From<crate::pool::PoolError> for ApiError {
    fn from(e: crate::pool::PoolError) -> ApiError {
        let status = match e {
            crate::pool::PoolError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            crate::pool::PoolError::Failed => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, None, e.to_string())
    }
}

impl From<StoreFailure> for ApiError {
    fn from(f: StoreFailure) -> ApiError {
        match f {
            StoreFailure::Unavailable(why) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                format!("the case database is not available: {why}"),
            ),
            StoreFailure::Store(store::StoreError::NoSuchCase(id)) => {
                ApiError::not_found("case", format!("no case with id {id}"))
            }
            StoreFailure::Store(e) if e.is_bad_input() => ApiError::bad("case", e.to_string()),
            StoreFailure::Store(e) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, None, e.to_string())
            }
        }
    }
}

/// A report error as an API error (`device`/`code`/`kind` named).
pub fn report_error(e: ReportError) -> ApiError {
    match &e {
        ReportError::UnknownCode { nearest, .. } => {
            let hint = nearest
                .as_ref()
                .map(|n| format!("; the nearest documented code is {}", n.code))
                .unwrap_or_default();
            ApiError::not_found("code", format!("{e}{hint}"))
        }
        ReportError::UnknownDevice { .. } => ApiError::not_found("device", e.to_string()),
        ReportError::AmbiguousDevice { .. } => ApiError::bad("device", e.to_string()),
        ReportError::UnknownGuide(_) => ApiError::bad("kind", e.to_string()),
        ReportError::Missing(_) => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, None, e.to_string())
        }
    }
}

/// Pre-serialised JSON as a response.
fn json_bytes(body: Bytes) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A query string that does not parse, as a JSON error naming the parameter when serde says
/// which.
fn query_error(e: QueryRejection) -> ApiError {
    let text = e.body_text();
    // "Failed to deserialize query string: open: provided string was not `true` or `false`"
    let field = text
        .split_once("query string: ")
        .and_then(|(_, rest)| rest.split_once(':'))
        .map(|(f, _)| f.trim())
        .filter(|f| !f.is_empty() && f.len() <= 32 && !f.contains(' '))
        .unwrap_or("query")
        .to_string();
    ApiError::bad(&field, text)
}

/// Read a body up to `limit` bytes; over it, 413 naming the body.
pub async fn read_body(body: axum::body::Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("body"),
            format!(
                "the body is larger than this route takes ({} KiB)",
                limit >> 10
            ),
        )
    })
}

fn path_error(field: &str, e: PathRejection) -> ApiError {
    ApiError::bad(field, e.body_text())
}

async fn explain(
    State(state): State<AppState>,
    code: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(code) = code.map_err(|e| path_error("code", e))?;
    crate::limits::check_len("code", Some(&code), crate::limits::MAX_NAME)?;
    let n = report::parse_code(&code).ok_or_else(|| {
        ApiError::bad(
            "code",
            format!("`{code}` is not an error code: give the number the app showed, e.g. 4013"),
        )
    })?;
    let json = state.inner.explanations.explain(n).map_err(report_error)?;
    Ok(json_bytes(json))
}

async fn codes() -> Json<Value> {
    Json(json!({ "codes": report::code_list() }))
}

#[derive(Deserialize)]
struct DeviceQuery {
    q: Option<String>,
}

async fn devices(
    State(state): State<AppState>,
    q: Result<Query<DeviceQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    crate::limits::check_len("q", q.q.as_deref(), crate::limits::MAX_NAME)?;
    let query =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    // Matching a query against every device is the costly part: on the heavy pool.
    let list = state
        .heavy(move || {
            report::devices_matching(query.as_deref())
                .map(|l| l.into_iter().map(DeviceJson::new).collect::<Vec<_>>())
        })
        .await?
        .map_err(report_error)?;
    Ok(Json(json!({ "devices": list })))
}

#[derive(Deserialize)]
struct GuideQuery {
    device: Option<String>,
}

async fn guide(
    kind: Result<Path<String>, PathRejection>,
    q: Result<Query<GuideQuery>, QueryRejection>,
) -> Result<Json<report::GuideJson>, ApiError> {
    let Path(kind) = kind.map_err(|e| path_error("kind", e))?;
    let Query(q) = q.map_err(query_error)?;
    crate::limits::check_len("device", q.device.as_deref(), crate::limits::MAX_NAME)?;
    let device = q
        .device
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::bad(
                "device",
                "the query parameter `device` is required (a name, product type or board)",
            )
        })?;
    report::guide(&kind, device).map(Json).map_err(report_error)
}

/// An engine error as an API error.
pub fn request_error(e: RequestError) -> ApiError {
    let field = crate::wizard::field_of(&e);
    match e {
        RequestError::UnknownDevice { .. } => ApiError::not_found(&field, e.to_string()),
        _ => ApiError::bad(&field, e.to_string()),
    }
}

/// The fields `POST /api/diagnose` takes (design.md §8, plus `role`, `answers` and
/// `data_expendable`); any other is refused, naming it.
pub const DIAGNOSE_FIELDS: [&str; 10] = [
    "device",
    "error",
    "host",
    "tried",
    "observed",
    "text",
    "case",
    "role",
    "answers",
    "data_expendable",
];

/// The body of `POST /api/diagnose`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiagnoseBody {
    device: Option<String>,
    error: Option<i64>,
    host: Option<String>,
    #[serde(default)]
    tried: Vec<String>,
    #[serde(default)]
    observed: Vec<String>,
    text: Option<String>,
    case: Option<String>,
    role: Option<String>,
    #[serde(default)]
    answers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    data_expendable: bool,
}

/// Whether a `Content-Type` is JSON (`application/json`, `application/*+json`, any parameters).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

/// Parse a diagnose body, naming the field that does not fit.
pub fn parse_diagnose_body(body: &[u8]) -> Result<DiagnoseRequest, ApiError> {
    use crate::limits::{self, MAX_LIST, MAX_NAME, MAX_WORD};
    let mut value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad("body", format!("the body is not JSON: {e}")))?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| ApiError::bad("body", "the body must be a JSON object"))?;
    if let Some(unknown) = obj.keys().find(|k| !DIAGNOSE_FIELDS.contains(&k.as_str())) {
        let shown: String = unknown.chars().take(64).collect();
        return Err(ApiError::bad(
            &shown,
            format!(
                "unknown field `{shown}`: the body takes {}",
                DIAGNOSE_FIELDS.join(", ")
            ),
        ));
    }
    // Accept the code as the app shows it ("4013", "Error 4013") as well as a number.
    if let Some(Value::String(s)) = obj.get("error") {
        limits::check_len("error", Some(s), MAX_NAME)?;
        let n = report::parse_code(s).ok_or_else(|| {
            ApiError::bad("error", format!("`{s}` is not an error code, e.g. 4013"))
        })?;
        obj.insert("error".into(), json!(n));
    }
    // `case` is an id: a number or a string holding one.
    if let Some(Value::Number(n)) = obj.get("case") {
        let s = n.to_string();
        obj.insert("case".into(), json!(s));
    }
    let body = serde_path_to_error::deserialize::<_, DiagnoseBody>(value).map_err(|e| {
        let path = e.path().to_string();
        let field = path.split(['.', '[']).next().unwrap_or("body").to_string();
        ApiError::bad(&field, format!("{path}: {}", e.inner()))
    })?;
    for (field, v) in [
        ("device", &body.device),
        ("host", &body.host),
        ("case", &body.case),
        ("role", &body.role),
    ] {
        limits::check_len(field, v.as_deref(), MAX_NAME)?;
    }
    limits::check_list("tried", &body.tried, MAX_LIST, MAX_WORD)?;
    limits::check_list("observed", &body.observed, MAX_LIST, MAX_WORD)?;
    let keys: Vec<&String> = body.answers.keys().collect();
    let values: Vec<&String> = body.answers.values().collect();
    limits::check_list("answers", &keys, MAX_LIST, MAX_WORD)?;
    limits::check_list("answers", &values, MAX_LIST, MAX_WORD)?;
    crate::wizard::check_text(body.text.as_deref())?;
    Ok(DiagnoseRequest {
        device: body.device,
        error: body.error,
        host: body.host,
        tried: body.tried,
        observed: body.observed,
        text: body.text,
        case: body.case,
        role: body.role,
        answers: body.answers,
        data_expendable: body.data_expendable,
        ..DiagnoseRequest::default()
    })
}

fn case_id(text: &str) -> Result<i64, ApiError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| ApiError::bad("case", format!("`{text}` is not a case id (a number)")))
}

async fn diagnose(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    if !is_json(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("Content-Type"),
            "send the body as JSON with `Content-Type: application/json`",
        ));
    }
    let limit = state.inner.max_upload.min(crate::limits::MAX_JSON_BODY);
    let body = read_body(body, limit).await?;
    let mut req = parse_diagnose_body(&body)?;
    if let Some(c) = req.case.clone() {
        let id = case_id(&c)?;
        // The case's attempts and steps, and this shop's other closed cases, as evidence.
        req = state
            .with_store(move |s| s.add_case_evidence(id, &mut req).map(|_| req))
            .await?;
    }
    let answer = state.diagnose(req).await?.map_err(request_error)?;
    Ok(json_bytes(answer.json.clone()))
}

#[derive(Deserialize)]
struct LogQuery {
    file: Option<String>,
}

async fn logs(
    State(state): State<AppState>,
    q: Result<Query<LogQuery>, QueryRejection>,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    crate::limits::check_len("file", q.file.as_deref(), crate::limits::MAX_FILE_NAME)?;
    // Only a few uploads are read into memory at once (each may be up to the upload cap);
    // the others wait, their bytes held back by TCP.
    let _upload = state.upload_permit().await;
    let body = read_body(body, state.inner.max_upload).await?;
    if body.is_empty() {
        return Err(ApiError::bad(
            "body",
            "the body is empty: send the restore log itself as the request body",
        ));
    }
    if logs::looks_binary(&body[..body.len().min(8192)]) {
        return Err(ApiError::bad(
            "body",
            "the body looks like a binary file, not a text log",
        ));
    }
    let name = q.file.unwrap_or_else(|| "body".to_string());
    let report = state
        .heavy(move || {
            let log = logs::analyze_bytes(&body);
            logs::LogsReport::new(vec![(name, log)], Vec::new(), false)
        })
        .await?;
    Ok(Json(report).into_response())
}

/// The fleet report over every attempt in the store.
pub async fn fleet(state: &AppState) -> Result<store::fleet::FleetReport, StoreFailure> {
    state
        .with_store(|s| {
            let data = s.fleet_data(&mut |_, _| {})?;
            Ok(store::fleet::fit(
                &data,
                &store::fleet::FleetOptions::default(),
            ))
        })
        .await
}

async fn fleet_report(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(fleet(&state).await?).into_response())
}

#[derive(Deserialize)]
struct CasesQuery {
    open: Option<bool>,
}

async fn cases(
    State(state): State<AppState>,
    q: Result<Query<CasesQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let open = q.open.unwrap_or(false);
    let mut list = state.with_store(move |s| s.list_cases(open)).await?;
    for c in &mut list {
        c.device = c.device.redacted();
    }
    Ok(Json(json!({ "cases": list })).into_response())
}

async fn case(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(|e| path_error("id", e))?;
    let id = case_id(&id)?;
    let mut c = state.with_store(move |s| s.case(id)).await?;
    c.device = c.device.redacted();
    Ok(Json(c).into_response())
}

async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

fn err_responses(extra: &[(&str, &str)]) -> Value {
    let mut m = serde_json::Map::new();
    let error = |what: &str| json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    for (code, what) in extra {
        m.insert(code.to_string(), error(what));
    }
    // What any route may answer: a token is set and missing or wrong (401), too many wrong
    // tokens from this address (429), a `Host` a loopback server does not answer to (421).
    m.insert(
        "401".into(),
        error("a token is set and the request has no valid `Authorization: Bearer` header"),
    );
    m.insert(
        "421".into(),
        error("the `Host` is not a name this loopback server answers to (DNS rebinding)"),
    );
    let mut too_many = error("too many wrong tokens from this address; see `Retry-After`");
    too_many["headers"] = json!({"Retry-After": {"schema": {"type": "integer"}}});
    m.insert("429".into(), too_many);
    Value::Object(m)
}

/// The answer to a POST: also 403 for a cross-site browser post, 503 when the server is busy.
fn post_errors(extra: &[(&str, &str)]) -> Value {
    let mut all: Vec<(&str, &str)> = extra.to_vec();
    all.push((
        "403",
        "a browser post from another site (`Origin`/`Sec-Fetch-Site`)",
    ));
    all.push(("408", "the request took longer than the server's timeout"));
    err_responses(&all)
}

fn ok(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}})
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// The OpenAPI 3.1 description of the API, with the limits every field has.
pub fn openapi_document() -> Value {
    use crate::limits::{MAX_FILE_NAME, MAX_LIST, MAX_NAME, MAX_TEXT, MAX_WORD};
    let code_param = json!({"name": "code", "in": "path", "required": true, "schema": {"type": "string", "maxLength": MAX_NAME}, "example": "4013", "description": "The error code, e.g. 4013 or -1"});
    let name =
        |d: &str| json!({"type": ["string", "null"], "maxLength": MAX_NAME, "description": d});
    let words = |items: Value, d: &str| json!({"type": "array", "maxItems": MAX_LIST, "items": items, "description": d});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "restore-doctor API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON mirror of the restore-doctor CLI (`--json` output). With a token, every request needs `Authorization: Bearer <token>`. Errors are `{\"error\", \"field\"}`."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "field"], "properties": {
                    "error": {"type": "string", "description": "What is wrong, in words"},
                    "field": {"type": ["string", "null"], "description": "The input field at fault"}}},
                "DiagnoseRequest": {"type": "object", "additionalProperties": false, "properties": {
                    "device": name("Name, product type or board"),
                    "error": {"type": ["integer", "string", "null"], "maxLength": MAX_NAME, "description": "The error code (a number, or text such as \"Error 4013\")"},
                    "host": {"type": ["string", "null"], "enum": kb::vocab::HOSTS.iter().map(|h| json!(h)).chain([Value::Null]).collect::<Vec<_>>()},
                    "tried": words(json!({"type": "string", "enum": kb::vocab::TRIED}), "Done, and it still fails"),
                    "observed": words(json!({"type": "string", "maxLength": MAX_WORD}), "`key`, `key=no`, `failure_stage=<stage>`, `progress=<n>`, `attempts=<n>`"),
                    "text": {"type": ["string", "null"], "maxLength": MAX_TEXT, "description": "Free text in the person's words"},
                    "case": {"type": ["string", "integer", "null"], "maxLength": MAX_NAME, "description": "A stored case whose attempts and steps are read as evidence"},
                    "role": {"type": ["string", "null"], "enum": ["owner", "technician", null]},
                    "answers": {"type": "object", "maxProperties": MAX_LIST, "additionalProperties": {"type": "string", "maxLength": MAX_WORD},
                        "description": "Questions answered: observation id → outcome (as the wizard sends them)"},
                    "data_expendable": {"type": "boolean", "description": "The data is backed up or does not matter"}}}
            }
        },
        "security": [{}, {"bearer": []}],
        "paths": {
            "/api/explain/{code}": {"get": {"summary": "What an error code means (`explain --json`)", "parameters": [code_param],
                "responses": merge(json!({"200": ok("The explanation")}), err_responses(&[("400", "not a number"), ("404", "not a documented code")]))}},
            "/api/codes": {"get": {"summary": "Every documented code and range (`explain --list --json`)", "responses": merge(json!({"200": ok("{\"codes\": [...]}")}), err_responses(&[]))}},
            "/api/devices": {"get": {"summary": "Devices, filtered by name (`devices --json`)",
                "parameters": [{"name": "q", "in": "query", "required": false, "schema": {"type": "string", "maxLength": MAX_NAME}, "example": "iPhone 8"}],
                "responses": merge(json!({"200": ok("{\"devices\": [...]}")}), err_responses(&[("400", "query too long"), ("404", "no device matches"), ("503", "the server is busy")]))}},
            "/api/guide/{kind}": {"get": {"summary": "Model-specific button steps (`guide --json`)",
                "parameters": [
                    {"name": "kind", "in": "path", "required": true, "schema": {"type": "string", "enum": ["force-restart", "recovery", "dfu", "exit-recovery"]}},
                    {"name": "device", "in": "query", "required": true, "schema": {"type": "string", "maxLength": MAX_NAME}, "example": "iPhone 8"}],
                "responses": merge(json!({"200": ok("The guide")}), err_responses(&[("400", "unknown kind, missing, too long or ambiguous device"), ("404", "unknown device")]))}},
            "/api/diagnose": {"post": {"summary": "Diagnose (`diagnose --json`)",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DiagnoseRequest"},
                    "example": {"device": "iPhone 8", "error": 4013, "host": "macos_finder", "tried": ["cable_swap"], "observed": ["recent_drop"]}}}},
                "responses": merge(json!({"200": ok("The diagnosis: causes, groups, next_step, plan, verdict, warnings")}),
                    post_errors(&[("400", "a value outside the vocabularies or over a limit, or an unknown field (field named)"), ("404", "unknown device or case"), ("413", "body over 256 KiB"), ("415", "the body is not sent as application/json"), ("503", "case database unavailable, or the server is busy")]))}},
            "/api/logs": {"post": {"summary": "Analyse one restore log (`logs --json`)",
                "parameters": [{"name": "file", "in": "query", "required": false, "schema": {"type": "string", "maxLength": MAX_FILE_NAME}, "description": "A name for the log in the answer"}],
                "requestBody": {"required": true, "content": {"text/plain": {"schema": {"type": "string"},
                    "example": "INFO: device serial number is 000A1B2C3D4E\nERROR: Unable to restore device\nERROR: Unable to send data to device (-1)\n"}}},
                "responses": merge(json!({"200": ok("{\"logs\": [...], \"same_failure_point\": null}")}), post_errors(&[("400", "empty or binary body, or file name too long"), ("413", "body over the upload cap"), ("503", "the server is busy")]))}},
            "/api/fleet/report": {"get": {"summary": "Per station, cable, port and device failure rates (`fleet report --json`)",
                "responses": merge(json!({"200": ok("{\"stations\", \"cables\", \"ports\", \"devices\"}")}), err_responses(&[("500", "the case database failed"), ("503", "case database unavailable")]))}},
            "/api/cases": {"get": {"summary": "Cases (`cases list --json`)",
                "parameters": [{"name": "open", "in": "query", "required": false, "schema": {"type": "boolean"}}],
                "responses": merge(json!({"200": ok("{\"cases\": [...]}")}), err_responses(&[("400", "`open` is not true or false"), ("500", "the case database failed"), ("503", "case database unavailable")]))}},
            "/api/cases/{id}": {"get": {"summary": "One case (`cases show --json`)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": merge(json!({"200": ok("The case")}), err_responses(&[("400", "not a number"), ("404", "no such case"), ("500", "the case database failed"), ("503", "case database unavailable")]))}},
            "/api/openapi.json": {"get": {"summary": "This document", "responses": merge(json!({"200": ok("OpenAPI 3.1")}), err_responses(&[]))}}
        }
    })
}
