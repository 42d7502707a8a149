//! Authentication (bearer token or login cookie), the cross-site request check, the login
//! form and the security headers every response carries.

use crate::AppState;
use crate::form::FormData;
use crate::pages::{Page, render};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use subtle::ConstantTimeEq;

/// Name of the session cookie set by the login form.
pub const SESSION_COOKIE: &str = "rd_session";

/// The Content-Security-Policy of every response: nothing from elsewhere, no inline script.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the operating system provides random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The value of a cookie in the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the request carries the token or the session cookie.
fn authorized(headers: &HeaderMap, token: &str, session: &str) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| same(t.trim(), token));
    bearer || cookie(headers, SESSION_COOKIE).is_some_and(|c| same(c, session))
}

/// Whether an unsafe request comes from another site (or another port of this host): its
/// `Origin` names another host, or `Sec-Fetch-Site` says it is not same-origin. Requests
/// without either header (curl, scripts) are not browser form posts and pass.
pub fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin_host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        return origin_host != Some(host);
    }
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v != "same-origin" && v != "none")
}

/// The middleware in front of every route: cross-site check for unsafe methods, then
/// authentication when a token is set, then the security headers on the response.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path().to_string();
    let mut resp = if unsafe_method && cross_site(req.headers()) {
        (
            StatusCode::FORBIDDEN,
            "cross-site request refused: submit the form from this server's own pages",
        )
            .into_response()
    } else if let Some(token) = &state.inner.token
        && !(path == "/login" || path == "/logout" || path.starts_with("/static/"))
        && !authorized(req.headers(), token, &state.inner.session)
    {
        if path.starts_with("/api/") {
            let mut r = crate::api::ApiError::new(
                StatusCode::UNAUTHORIZED,
                None,
                "this server needs a token: send `Authorization: Bearer <token>`",
            )
            .into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        } else {
            Redirect::to("/login").into_response()
        }
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    failed: bool,
    needed: bool,
}

async fn login_form(State(state): State<AppState>) -> Response {
    render(&LoginPage {
        page: Page::new("Sign in", ""),
        failed: false,
        needed: state.inner.token.is_some(),
    })
}

async fn login(State(state): State<AppState>, body: Bytes) -> Response {
    let form = FormData::parse(&body);
    let given = form.get("token").unwrap_or_default();
    match &state.inner.token {
        Some(token) if same(given.trim(), token) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
                state.inner.session
            );
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Some(_) => {
            let mut r = render(&LoginPage {
                page: Page::new("Sign in", ""),
                failed: true,
                needed: true,
            });
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r
        }
        None => Redirect::to("/").into_response(),
    }
}

async fn logout() -> Response {
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("rd_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn same_origin_posts_pass_and_other_origins_do_not() {
        let ok = headers(&[
            ("host", "127.0.0.1:7413"),
            ("origin", "http://127.0.0.1:7413"),
        ]);
        assert!(!cross_site(&ok));
        let other_port = headers(&[
            ("host", "127.0.0.1:7413"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(cross_site(&other_port));
        let null = headers(&[("host", "127.0.0.1:7413"), ("origin", "null")]);
        assert!(cross_site(&null));
        let fetch = headers(&[("host", "127.0.0.1:7413"), ("sec-fetch-site", "same-site")]);
        assert!(cross_site(&fetch));
        assert!(!cross_site(&headers(&[("host", "127.0.0.1:7413")])));
    }

    #[test]
    fn bearer_or_cookie_authorize() {
        let t = "secret-token";
        let s = "abc123";
        assert!(authorized(
            &headers(&[("authorization", "Bearer secret-token")]),
            t,
            s
        ));
        assert!(!authorized(
            &headers(&[("authorization", "Bearer wrong")]),
            t,
            s
        ));
        assert!(authorized(
            &headers(&[("cookie", "a=b; rd_session=abc123")]),
            t,
            s
        ));
        assert!(!authorized(
            &headers(&[("cookie", "rd_session=abc12")]),
            t,
            s
        ));
        assert!(!authorized(&HeaderMap::new(), t, s));
    }

    #[test]
    fn random_hex_is_random_and_long() {
        let a = random_hex(32);
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_hex(32));
    }
}
