//! Handler tests: every route and every error, through the whole router (security layers
//! included) with tower's `oneshot`, no socket.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use common::{NAND_LOG, app_with, seeded_store};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const BIG: usize = 64 << 20;

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

async fn send(app: &Router, req: Request<Body>) -> Reply {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post_json(app: &Router, uri: &str, body: &str) -> Reply {
    send(
        app,
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn post_form(app: &Router, uri: &str, body: &str) -> Reply {
    send(
        app,
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

fn no_store() -> Router {
    app_with(Err("no database in this test".into()), None, BIG)
}

fn assert_error(r: &Reply, status: StatusCode, field: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    let v = r.json();
    assert_eq!(v["field"], field, "{v}");
    assert!(!v["error"].as_str().unwrap().is_empty());
}

// ------------------------------------------------------------------ API: explain, devices, guide

#[tokio::test]
async fn explain_mirrors_the_cli_document() {
    let r = get(&no_store(), "/api/explain/4013").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header(header::CONTENT_TYPE)
            .starts_with("application/json")
    );
    let v = r.json();
    let expected = serde_json::to_value(kb::report::explain(4013).unwrap()).unwrap();
    assert_eq!(v, expected);
    let sum: f64 = v["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["probability"].as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-6);
    // Negative codes and codes inside a documented range.
    assert_eq!(
        get(&no_store(), "/api/explain/-1").await.status,
        StatusCode::OK
    );
    let range = get(&no_store(), "/api/explain/3456").await.json();
    assert_eq!(range["documented_as"], "range");
}

#[tokio::test]
async fn explain_errors_name_the_code() {
    assert_error(
        &get(&no_store(), "/api/explain/forty").await,
        StatusCode::BAD_REQUEST,
        "code",
    );
    let r = get(&no_store(), "/api/explain/777").await;
    assert_error(&r, StatusCode::NOT_FOUND, "code");
    assert!(r.json()["error"].as_str().unwrap().contains("nearest"));
}

#[tokio::test]
async fn codes_lists_every_code() {
    let v = get(&no_store(), "/api/codes").await.json();
    let codes = v["codes"].as_array().unwrap();
    assert!(codes.iter().any(|c| c["code"] == 4013));
    assert!(codes.iter().any(|c| c["range"].is_object()));
}

#[tokio::test]
async fn devices_filter_and_404() {
    let all = get(&no_store(), "/api/devices").await.json();
    let n_all = all["devices"].as_array().unwrap().len();
    assert_eq!(n_all, kb::kb().devices().len());
    let r = get(&no_store(), "/api/devices?q=iphone%2011").await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json()["devices"].as_array().unwrap().clone();
    assert!(!list.is_empty() && list.len() < n_all);
    assert!(
        list.iter()
            .all(|d| d["name"].as_str().unwrap().contains("11"))
    );
    assert_error(
        &get(&no_store(), "/api/devices?q=nokia").await,
        StatusCode::NOT_FOUND,
        "device",
    );
}

#[tokio::test]
async fn guide_is_model_specific_and_errors_name_fields() {
    let v = get(&no_store(), "/api/guide/dfu?device=iPhone%20X")
        .await
        .json();
    assert_eq!(v["kind"], "dfu");
    assert_eq!(v["device"]["name"], "iPhone X");
    assert!(
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["text"].as_str().unwrap().contains("Side button"))
    );
    let expected = serde_json::to_value(kb::report::guide("dfu", "iPhone X").unwrap()).unwrap();
    assert_eq!(v, expected);
    assert_error(
        &get(&no_store(), "/api/guide/reboot?device=iPhone%20X").await,
        StatusCode::BAD_REQUEST,
        "kind",
    );
    assert_error(
        &get(&no_store(), "/api/guide/dfu").await,
        StatusCode::BAD_REQUEST,
        "device",
    );
    assert_error(
        &get(&no_store(), "/api/guide/dfu?device=iphone%2099").await,
        StatusCode::NOT_FOUND,
        "device",
    );
    assert_error(
        &get(&no_store(), "/api/guide/dfu?device=ipad%20pro").await,
        StatusCode::BAD_REQUEST,
        "device",
    );
}

// ------------------------------------------------------------------ API: diagnose

#[tokio::test]
async fn diagnose_answers_in_the_stable_shape() {
    let r = post_json(
        &no_store(),
        "/api/diagnose",
        r#"{"device": "iPhone X", "error": 4013, "host": "macos_finder", "tried": ["cable_swap"], "observed": ["recent_drop"], "text": "it says error 4013"}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["device"]["product_type"], "iPhone10,3");
    assert_eq!(v["error_code"], 4013);
    let causes = v["causes"].as_array().unwrap();
    let sum: f64 = causes
        .iter()
        .map(|c| c["probability"].as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-6);
    for g in ["connection", "host", "software", "hardware"] {
        assert!(v["groups"][g].is_number(), "group {g}");
    }
    assert!(v["next_step"]["action"].is_string());
    assert!(v.get("verdict").is_some() && v["warnings"].is_array() && v["plan"].is_array());
    // The same request through the engine directly gives the same answer (to rounding).
    let req: engine::api::DiagnoseRequest = serde_json::from_value(json!({"device": "iPhone X", "error": 4013, "host": "macos_finder", "tried": ["cable_swap"], "observed": ["recent_drop"], "text": "it says error 4013"})).unwrap();
    let direct = serde_json::to_value(engine::api::diagnose_request(&req).unwrap()).unwrap();
    assert_eq!(v["next_step"]["action"], direct["next_step"]["action"]);
    assert_eq!(v["verdict"], direct["verdict"]);
    for c in direct["causes"].as_array().unwrap() {
        let mine = causes.iter().find(|m| m["id"] == c["id"]).unwrap();
        let (a, b) = (
            mine["probability"].as_f64().unwrap(),
            c["probability"].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-9, "{} {a} {b}", c["id"]);
    }
}

#[tokio::test]
async fn diagnose_accepts_the_code_as_text() {
    let v = post_json(
        &no_store(),
        "/api/diagnose",
        r#"{"device": "iPhone 8", "error": "Error 4013"}"#,
    )
    .await
    .json();
    assert_eq!(v["error_code"], 4013);
}

#[tokio::test]
async fn diagnose_errors_name_the_field() {
    let app = no_store();
    assert_error(
        &post_json(&app, "/api/diagnose", "{not json").await,
        StatusCode::BAD_REQUEST,
        "body",
    );
    assert_error(
        &post_json(&app, "/api/diagnose", "[1, 2]").await,
        StatusCode::BAD_REQUEST,
        "body",
    );
    assert_error(
        &post_json(&app, "/api/diagnose", r#"{"tried": ["banana"]}"#).await,
        StatusCode::BAD_REQUEST,
        "tried",
    );
    assert_error(
        &post_json(&app, "/api/diagnose", r#"{"tried": "cable_swap"}"#).await,
        StatusCode::BAD_REQUEST,
        "tried",
    );
    assert_error(
        &post_json(&app, "/api/diagnose", r#"{"host": "amiga"}"#).await,
        StatusCode::BAD_REQUEST,
        "host",
    );
    assert_error(
        &post_json(&app, "/api/diagnose", r#"{"observed": ["progress=300"]}"#).await,
        StatusCode::BAD_REQUEST,
        "observed",
    );
    assert_error(
        &post_json(&app, "/api/diagnose", r#"{"error": "forty"}"#).await,
        StatusCode::BAD_REQUEST,
        "error",
    );
    assert_error(
        &post_json(&app, "/api/diagnose", r#"{"device": "Nokia 3310"}"#).await,
        StatusCode::NOT_FOUND,
        "device",
    );
    assert_error(
        &post_json(&app, "/api/diagnose", r#"{"case": "abc"}"#).await,
        StatusCode::BAD_REQUEST,
        "case",
    );
    let long = format!(r#"{{"text": "{}"}}"#, "a".repeat(20_001));
    assert_error(
        &post_json(&app, "/api/diagnose", &long).await,
        StatusCode::BAD_REQUEST,
        "text",
    );
    // A case needs the database.
    let r = post_json(&app, "/api/diagnose", r#"{"case": 1}"#).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn diagnose_reads_a_stored_case() {
    let (_dir, store, id) = seeded_store();
    let app = app_with(Ok(store), None, BIG);
    let with_case = post_json(&app, "/api/diagnose", &format!(r#"{{"case": {id}}}"#)).await;
    assert_eq!(with_case.status, StatusCode::OK, "{}", with_case.text());
    let v = with_case.json();
    assert_eq!(v["device"]["product_type"], "iPhone10,3");
    assert_eq!(v["case"], id.to_string());
    // Six failures on three cables and two computers move the odds away from the connection.
    let bare = post_json(
        &app,
        "/api/diagnose",
        r#"{"device": "iPhone X", "error": 4013}"#,
    )
    .await
    .json();
    assert!(
        v["groups"]["connection"].as_f64().unwrap()
            < bare["groups"]["connection"].as_f64().unwrap()
    );
    assert_error(
        &post_json(&app, "/api/diagnose", r#"{"case": 999}"#).await,
        StatusCode::NOT_FOUND,
        "case",
    );
}

// ------------------------------------------------------------------ API: logs, fleet, cases

#[tokio::test]
async fn logs_reads_the_failure_point() {
    let r = send(
        &no_store(),
        Request::post("/api/logs?file=attempt1.log")
            .body(Body::from(NAND_LOG))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    let log = &v["logs"][0];
    assert_eq!(log["file"], "attempt1.log");
    assert_eq!(log["tool"], "idevicerestore");
    assert_eq!(log["outcome"], "failure");
    assert_eq!(log["failure"]["stage"], "nand");
    assert_eq!(log["failure"]["operation"]["id"], 58);
    assert!(v["same_failure_point"].is_null());
}

#[tokio::test]
async fn logs_errors() {
    let app = no_store();
    let r = send(
        &app,
        Request::post("/api/logs").body(Body::empty()).unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "body");
    let r = send(
        &app,
        Request::post("/api/logs")
            .body(Body::from(vec![0u8, 1, 2, 0, 0, 0, 3, 0]))
            .unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "body");
    let small = app_with(Err("none".into()), None, 1024);
    let r = send(
        &small,
        Request::post("/api/logs")
            .body(Body::from(vec![b'a'; 4096]))
            .unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "body");
    let r = send(
        &small,
        Request::post("/api/diagnose")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(vec![b' '; 4096]))
            .unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "body");
}

#[tokio::test]
async fn fleet_report_over_the_store() {
    let (_dir, store, _) = seeded_store();
    let app = app_with(Ok(store), None, BIG);
    let r = get(&app, "/api/fleet/report").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    for k in ["stations", "cables", "ports", "devices"] {
        assert!(v[k].is_array(), "{k}");
    }
    let cables = v["cables"].as_array().unwrap();
    assert_eq!(cables.len(), 3);
    for c in cables {
        for f in [
            "id",
            "attempts",
            "failures",
            "failure_rate",
            "excess_failure_rate",
            "p_faulty",
            "flagged",
        ] {
            assert!(c.get(f).is_some(), "field {f} in {c}");
        }
    }
    let r = get(&no_store(), "/api/fleet/report").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("no database in this test")
    );
}

#[tokio::test]
async fn cases_list_and_show_redact_ids() {
    let (_dir, store, id) = seeded_store();
    let app = app_with(Ok(store), None, BIG);
    let list = get(&app, "/api/cases").await.json();
    assert_eq!(list["cases"][0]["id"], id);
    let one = get(&app, &format!("/api/cases/{id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    let v = one.json();
    assert_eq!(v["attempts"].as_array().unwrap().len(), 6);
    assert!(
        !one.text().contains("000A1B2C3D4E5F60"),
        "ECID must be redacted"
    );
    assert_error(
        &get(&app, "/api/cases/999").await,
        StatusCode::NOT_FOUND,
        "case",
    );
    assert_error(
        &get(&app, "/api/cases/x").await,
        StatusCode::BAD_REQUEST,
        "case",
    );
}

#[tokio::test]
async fn openapi_documents_every_route() {
    let v = get(&no_store(), "/api/openapi.json").await.json();
    assert!(v["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/explain/{code}",
        "/api/devices",
        "/api/guide/{kind}",
        "/api/diagnose",
        "/api/logs",
        "/api/fleet/report",
    ] {
        assert!(v["paths"][p].is_object(), "missing {p}");
    }
    assert!(v["paths"]["/api/diagnose"]["post"]["responses"]["413"].is_object());
}

// ------------------------------------------------------------------ security

#[tokio::test]
async fn with_a_token_every_request_needs_it() {
    let app = app_with(Err("none".into()), Some("correct-horse"), BIG);
    let r = get(&app, "/api/explain/4013").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header(header::WWW_AUTHENTICATE), "Bearer");
    let r = send(
        &app,
        Request::get("/api/explain/4013")
            .header(header::AUTHORIZATION, "Bearer wrong-token")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = send(
        &app,
        Request::get("/api/explain/4013")
            .header(header::AUTHORIZATION, "Bearer correct-horse")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // Pages send the browser to the login form; the form and the stylesheet are open.
    let r = get(&app, "/codes").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header(header::LOCATION), "/login");
    assert_eq!(get(&app, "/login").await.status, StatusCode::OK);
    assert_eq!(get(&app, "/static/style.css").await.status, StatusCode::OK);
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_that_opens_the_pages() {
    let app = app_with(Err("none".into()), Some("correct-horse"), BIG);
    let bad = post_form(&app, "/login", "token=nope").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.header(header::SET_COOKIE).is_empty());
    let ok = post_form(&app, "/login", "token=correct-horse").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let cookie = ok.header(header::SET_COOKIE);
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("correct-horse"),
        "the cookie must not hold the token"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let r = send(
        &app,
        Request::get("/codes")
            .header(header::COOKIE, &pair)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let out = post_form(&app, "/logout", "").await;
    assert!(out.header(header::SET_COOKIE).contains("Max-Age=0"));
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = no_store();
    let r = send(
        &app,
        Request::post("/diagnose")
            .header(header::HOST, "127.0.0.1:7413")
            .header(header::ORIGIN, "http://evil.example")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("device=iPhone+X"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        &app,
        Request::post("/diagnose")
            .header(header::HOST, "127.0.0.1:7413")
            .header(header::ORIGIN, "http://127.0.0.1:7413")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("device=iPhone+X"))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    for uri in ["/", "/api/explain/4013", "/nowhere"] {
        let r = get(&no_store(), uri).await;
        assert!(
            r.header(header::CONTENT_SECURITY_POLICY)
                .contains("default-src 'none'"),
            "{uri}"
        );
        assert_eq!(r.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    }
}

// ------------------------------------------------------------------ pages

#[tokio::test]
async fn pages_render_and_label_their_fields() {
    let app = no_store();
    for (uri, needle) in [
        ("/", r#"<label for="device">"#),
        ("/diagnose", r#"<label for="error">"#),
        ("/codes", "4013"),
        ("/codes/4013", "Error 4013"),
        ("/codes/3456", "documented range"),
        ("/devices", "iPhone X"),
        ("/devices?q=iphone+8", "iPhone 8"),
        ("/guides/dfu?device=iPhone10%2C3", "Side button"),
        ("/guides/recovery?device=iPhone%206s", "Home button"),
        ("/logs", r#"<label for="files">"#),
    ] {
        let r = get(&app, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert!(
            r.header(header::CONTENT_TYPE).starts_with("text/html"),
            "{uri}"
        );
        assert!(r.text().contains(needle), "{uri} lacks {needle}");
    }
    let r = get(&app, "/codes/lookup?code=Error+4013").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header(header::LOCATION), "/codes/4013");
    assert_eq!(get(&app, "/codes/777").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, "/codes/abc").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&app, "/devices?q=nokia").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/guides/dfu").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&app, "/guides/dfu?device=iphone+99").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/guides/fly?device=iphone+8").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(get(&app, "/nowhere").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, "/cases").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        get(&app, "/fleet").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let css = get(&app, "/static/style.css").await;
    assert!(css.header(header::CONTENT_TYPE).starts_with("text/css"));
    assert!(css.text().contains("@media print"));
}

#[tokio::test]
async fn the_wizard_goes_from_the_first_page_to_a_verdict() {
    let app = no_store();
    let mut form = "device=iPhone+X&error=4013&host=macos_finder&observed=recent_drop".to_string();
    let mut page = post_form(&app, "/diagnose", &form).await;
    let mut steps = 0;
    while !page.text().contains(r#"id="verdict""#) {
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let html = page.text();
        // Press the button for "still fails", or answer "no" to a question.
        let button = html
            .split("<button type=\"submit\" name=\"")
            .skip(1)
            .map(|b| {
                let name = b.split('"').next().unwrap().to_string();
                let value = b
                    .split("value=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_string();
                (name, value)
            })
            .find(|(_, v)| v.ends_with(":failed") || v.ends_with("=no"))
            .or_else(|| {
                html.split("<button type=\"submit\" name=\"")
                    .nth(1)
                    .map(|b| {
                        let name = b.split('"').next().unwrap().to_string();
                        let value = b
                            .split("value=\"")
                            .nth(1)
                            .unwrap()
                            .split('"')
                            .next()
                            .unwrap()
                            .to_string();
                        (name, value)
                    })
            })
            .expect("a step page has answer buttons");
        let value = button.1.replace("&#61;", "=").replace("&#58;", ":");
        form.push_str(&format!(
            "&{}={}",
            button.0,
            form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
        ));
        page = post_form(&app, "/diagnose", &form).await;
        steps += 1;
        assert!(steps < 40, "no verdict after 40 steps");
    }
    let html = page.text();
    assert!(html.contains("What a shop should test first"));
    assert!(html.contains("Download as Markdown"));
    let md = post_form(&app, "/diagnose/report.md", &form).await;
    assert_eq!(md.status, StatusCode::OK);
    assert!(md.header(header::CONTENT_TYPE).starts_with("text/markdown"));
    assert!(
        md.header(header::CONTENT_DISPOSITION)
            .contains("attachment")
    );
    assert!(md.text().contains("## Verdict"));
}

#[tokio::test]
async fn wizard_errors_come_back_on_the_form_naming_the_field() {
    let app = no_store();
    let r = post_form(&app, "/diagnose", "device=Nokia+3310&error=4013").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("<strong>device</strong>"));
    assert!(r.text().contains("Nokia 3310"), "the entry is kept");
    let r = post_form(&app, "/diagnose", "error=forty").await;
    assert!(r.text().contains("<strong>error</strong>"));
}

#[tokio::test]
async fn what_a_person_types_is_escaped() {
    let app = no_store();
    let r = post_form(
        &app,
        "/diagnose",
        "device=iPhone+X&error=4013&text=%3Cscript%3Ealert(1)%3C%2Fscript%3E+it+fails",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(!html.contains("<script>alert(1)"), "raw script in the page");
    assert!(
        html.contains("You wrote: “&#60;script&#62;alert(1)"),
        "shown, escaped"
    );
}

fn multipart(parts: &[(&str, Option<&str>, &str)]) -> (String, Vec<u8>) {
    let boundary = "XboundaryX";
    let mut body = Vec::new();
    for (name, file, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(content.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_logs_page_shows_the_failure_escaped_and_compares_attempts() {
    let app = no_store();
    let (ct, body) = multipart(&[
        ("files", Some("first<b>.log"), NAND_LOG),
        ("paste1", None, NAND_LOG),
        ("paste2", None, ""),
    ]);
    let r = send(
        &app,
        Request::post("/logs")
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(
        !html.contains("<script>alert"),
        "a log's script tag reached the page raw"
    );
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(html.contains("first&#60;b&#62;.log"));
    assert!(html.contains(r#"class="stage"><strong>nand</strong>"#));
    assert!(
        html.contains(r#"class="hot""#),
        "the failure line is highlighted"
    );
    assert!(html.contains(r#"id="same-verdict""#) && html.contains("same point"));
    // Nothing given.
    let (ct, body) = multipart(&[("paste1", None, "  ")]);
    let r = send(
        &app,
        Request::post("/logs")
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Over the cap.
    let small = app_with(Err("none".into()), None, 2048);
    let big = "x".repeat(8192);
    let (ct, body) = multipart(&[("paste1", None, &big)]);
    let r = send(
        &small,
        Request::post("/logs")
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn case_pages_show_the_grid_and_escape_the_customer() {
    let (_dir, store, id) = seeded_store();
    let app = app_with(Ok(store), None, BIG);
    let list = get(&app, "/cases").await;
    assert_eq!(list.status, StatusCode::OK);
    let html = list.text();
    assert!(html.contains(&format!("/cases/{id}")));
    assert!(!html.contains("<script>alert('customer')"));
    assert!(html.contains("&#60;script&#62;alert(&#39;customer&#39;)"));
    let page = get(&app, &format!("/cases/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(r#"id="attempt-grid""#));
    assert_eq!(
        html.matches(r#"<td class="cell fail">"#).count(),
        6,
        "3 cables x 2 computers, all failed"
    );
    assert!(html.contains("look at the device"));
    assert!(!html.contains("000A1B2C3D4E5F60"));
    assert_eq!(get(&app, "/cases/999").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, "/cases/abc").await.status,
        StatusCode::BAD_REQUEST
    );
    // The case page's button starts the wizard with the case as evidence.
    let r = post_form(&app, "/diagnose", &format!("case={id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("iPhone X"));
}

#[tokio::test]
async fn the_fleet_page_draws_a_chart_per_item() {
    let (_dir, store, _) = seeded_store();
    let app = app_with(Ok(store), None, BIG);
    let r = get(&app, "/fleet").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("cable-A") && html.contains("bench-mac"));
    assert!(html.matches("<svg class=\"rate\"").count() >= 5);
}

#[tokio::test]
async fn a_request_over_the_time_limit_gets_408() {
    let state = web::AppState::new(None, Err("none".into()), BIG);
    let app = web::router(state, std::time::Duration::from_millis(1));
    // Analysing ~4 MB of log takes far longer than a millisecond.
    let body = NAND_LOG.repeat(4 << 20 >> 10);
    let r = send(
        &app,
        Request::post("/api/logs").body(Body::from(body)).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
}

// ------------------------------------------------------------------ hardening (issue 16)

fn with_host(req: axum::http::request::Builder, host: &str) -> axum::http::request::Builder {
    req.header(header::HOST, host)
}

#[tokio::test]
async fn a_rebound_host_name_gets_nothing() {
    // DNS rebinding: a page on evil.example, whose name now points at 127.0.0.1, reads and
    // posts with `Host: evil.example:PORT` and an `Origin` equal to it.
    let (_dir, store, _id) = seeded_store();
    let app = app_with(Ok(store), None, BIG);
    let r = send(
        &app,
        with_host(Request::get("/api/cases"), "evil.example:7413")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::MISDIRECTED_REQUEST, "host");
    assert!(!r.text().contains("customer"), "{}", r.text());
    let r = send(
        &app,
        with_host(Request::post("/api/diagnose"), "evil.example:7413")
            .header(header::ORIGIN, "http://evil.example:7413")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"device": "iPhone X"}"#))
            .unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::MISDIRECTED_REQUEST, "host");
    let page = send(
        &app,
        with_host(Request::get("/cases"), "evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::MISDIRECTED_REQUEST);
    assert!(!page.text().contains("<script>alert"), "{}", page.text());
    // Loopback names and addresses are served.
    for host in ["127.0.0.1:7413", "localhost:7413", "[::1]:7413"] {
        let r = send(
            &app,
            with_host(Request::get("/api/cases"), host)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{host}: {}", r.text());
    }
}

#[tokio::test]
async fn names_given_by_flag_are_served_and_may_post() {
    let state = web::AppState::with_options(
        None,
        Err("none".into()),
        BIG,
        web::HostPolicy {
            check_host: true,
            allowed: vec!["bench.shop.lan".into()],
        },
        1,
    );
    let app = web::router(state, std::time::Duration::from_secs(10));
    let r = send(
        &app,
        with_host(Request::post("/api/diagnose"), "bench.shop.lan:7413")
            .header(header::ORIGIN, "http://bench.shop.lan:7413")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"device": "iPhone X", "error": 4013}"#))
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Off loopback no Host is refused, but a post whose origin is a name nobody vouched for
    // is cross-site even when it equals the Host.
    let open = web::AppState::with_options(
        Some("correct-horse".into()),
        Err("none".into()),
        BIG,
        web::HostPolicy::default(),
        1,
    );
    let app = web::router(open, std::time::Duration::from_secs(10));
    let r = send(
        &app,
        with_host(Request::post("/api/diagnose"), "evil.example:7413")
            .header(header::ORIGIN, "http://evil.example:7413")
            .header(header::AUTHORIZATION, "Bearer correct-horse")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"device": "iPhone X"}"#))
            .unwrap(),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "origin");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = app_with(Err("none".into()), Some("correct-horse"), BIG);
    let ok = post_form(&app, "/login", "token=correct-horse").await;
    let pair = ok
        .header(header::SET_COOKIE)
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let with_cookie = |uri: &str| {
        Request::get(uri)
            .header(header::COOKIE, &pair)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send(&app, with_cookie("/codes")).await.status,
        StatusCode::OK
    );
    let out = send(
        &app,
        Request::post("/logout")
            .header(header::COOKIE, &pair)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    // The old cookie, replayed, no longer opens anything.
    let r = send(&app, with_cookie("/codes")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.header(header::LOCATION), "/login");
    assert_eq!(
        send(&app, with_cookie("/api/explain/4013")).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Two logins are two sessions: ending one leaves the other.
    let a = post_form(&app, "/login", "token=correct-horse").await;
    let b = post_form(&app, "/login", "token=correct-horse").await;
    let (a, b) = (
        a.header(header::SET_COOKIE)
            .split(';')
            .next()
            .unwrap()
            .to_string(),
        b.header(header::SET_COOKIE)
            .split(';')
            .next()
            .unwrap()
            .to_string(),
    );
    assert_ne!(a, b);
    send(
        &app,
        Request::post("/logout")
            .header(header::COOKIE, &a)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let r = send(
        &app,
        Request::get("/codes")
            .header(header::COOKIE, &b)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

fn bearer(uri: &str, token: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn wrong_tokens_are_rate_limited() {
    let app = app_with(Err("none".into()), Some("correct-horse"), BIG);
    let mut statuses = Vec::new();
    for i in 0..40 {
        statuses.push(
            send(&app, bearer("/api/explain/4013", &format!("guess-{i:04}")))
                .await
                .status,
        );
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        refused >= 25,
        "most of 40 quick guesses must be refused unread: {statuses:?}"
    );
    let r = send(&app, bearer("/api/explain/4013", "guess-more")).await;
    assert_error(&r, StatusCode::TOO_MANY_REQUESTS, "token");
    assert!(!r.header(header::RETRY_AFTER).is_empty());
    // While the address is blocked even the right token gets 429 (an answer must not tell a
    // right guess from a wrong one), and the login form is limited too.
    assert_eq!(
        send(&app, bearer("/api/explain/4013", "correct-horse"))
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        post_form(&app, "/login", "token=correct-horse")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = app_with(Err("none".into()), Some("correct-horse"), BIG);
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let r = send(
            &app,
            Request::get("/api/explain/4013")
                .header(header::AUTHORIZATION, format!("{scheme} correct-horse"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{scheme}");
    }
}

#[tokio::test]
async fn json_routes_refuse_other_content_types() {
    let app = no_store();
    let body = r#"{"device": "iPhone X", "error": 4013}"#;
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut req = Request::post("/api/diagnose");
        if let Some(ct) = ct {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let r = send(&app, req.body(Body::from(body)).unwrap()).await;
        assert_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type");
    }
    for ct in ["application/json; charset=utf-8", "Application/JSON"] {
        let r = send(
            &app,
            Request::post("/api/diagnose")
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{ct}: {}", r.text());
    }
}

#[tokio::test]
async fn unknown_json_fields_are_refused_by_name() {
    let app = no_store();
    let r = post_json(
        &app,
        "/api/diagnose",
        r#"{"device": "iPhone X", "tryed": ["cable_swap"]}"#,
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "tryed");
    assert!(r.json()["error"].as_str().unwrap().contains("tried"));
    // Internal fields of the engine's request are not part of the API.
    let r = post_json(
        &app,
        "/api/diagnose",
        r#"{"device": "iPhone X", "shop_counts": {"nand": 1000000}}"#,
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "shop_counts");
    // The documented extras pass.
    let r = post_json(
        &app,
        "/api/diagnose",
        r#"{"device": "iPhone X", "error": 4013, "role": "technician", "answers": {"recent_drop": "yes"}, "data_expendable": true}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn every_list_and_string_in_a_request_is_bounded() {
    let app = no_store();
    let many = |n: usize| serde_json::to_string(&vec!["cable_swap"; n]).unwrap();
    let r = post_json(
        &app,
        "/api/diagnose",
        &format!(r#"{{"tried": {}}}"#, many(65)),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "tried");
    assert!(r.json()["error"].as_str().unwrap().contains("too many"));
    let r = post_json(
        &app,
        "/api/diagnose",
        &format!(r#"{{"observed": {}}}"#, many(65)),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "observed");
    let long = "0".repeat(201);
    for field in ["device", "host", "case", "role", "error"] {
        let r = post_json(
            &app,
            "/api/diagnose",
            &format!(r#"{{"{field}": "{long}"}}"#),
        )
        .await;
        assert_error(&r, StatusCode::BAD_REQUEST, field);
    }
    let answers: serde_json::Map<String, Value> =
        (0..65).map(|i| (format!("q{i}"), json!("yes"))).collect();
    let r = post_json(
        &app,
        "/api/diagnose",
        &json!({ "answers": answers }).to_string(),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "answers");
    // The 4.3-million-item list of the report never gets parsed: the body cap is 256 KiB.
    let huge = format!(r#"{{"tried": {}}}"#, many(40_000));
    let r = post_json(&app, "/api/diagnose", &huge).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "body");
    // Device queries and guide names.
    let q = "a".repeat(201);
    assert_error(
        &get(&app, &format!("/api/devices?q={q}")).await,
        StatusCode::BAD_REQUEST,
        "q",
    );
    assert_error(
        &get(&app, &format!("/api/guide/dfu?device={q}")).await,
        StatusCode::BAD_REQUEST,
        "device",
    );
    assert_eq!(
        get(&app, &format!("/devices?q={q}")).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_error(
        &get(&app, &format!("/api/explain/{q}")).await,
        StatusCode::BAD_REQUEST,
        "code",
    );
    assert_error(
        &send(
            &app,
            Request::post(format!("/api/logs?file={}", "f".repeat(256)))
                .body(Body::from(NAND_LOG))
                .unwrap(),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "file",
    );
    // Bad query values are JSON errors too.
    assert_error(
        &get(&app, "/api/cases?open=maybe").await,
        StatusCode::BAD_REQUEST,
        "open",
    );
}

#[tokio::test]
async fn the_wizard_form_is_bounded() {
    let app = no_store();
    // A million answers (the report's 2.58 GB) is over the form's body cap.
    let body = "answer=recent_drop%3Dyes&".repeat(40_000);
    let r = post_form(&app, "/diagnose", &body).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Under the cap, more steps than the wizard carries are refused on the form.
    let body = format!(
        "device=iPhone+X&{}",
        "answer=recent_drop%3Dyes&".repeat(201)
    );
    let r = post_form(&app, "/diagnose", &body).await;
    assert!(r.text().contains("too many steps"), "{}", r.text());
    let body = format!("device=iPhone+X&{}", "tried=cable_swap&".repeat(65));
    let r = post_form(&app, "/diagnose", &body).await;
    assert!(r.text().contains("too many items"), "{}", r.text());
}
