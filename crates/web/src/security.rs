//! Authentication (bearer token or login cookie), the cross-site request check, the login
//! form and the security headers every response carries.

use crate::AppState;
use crate::form::FormData;
use crate::pages::{Page, render};
use askama::Template;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
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

/// The credential in `Authorization: Bearer <token>` (the scheme in any case, RFC 9110).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once(char::is_whitespace)?;
    scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
}

/// What a request presents to prove it may use the server.
#[derive(Debug, PartialEq, Eq)]
enum Credential {
    /// Nothing: neither a bearer token nor a session cookie.
    None,
    /// The right bearer token (limited like wrong ones while an address is blocked, so that
    /// a guess cannot tell a right token from a wrong one by the answer).
    Token,
    /// A session the login form opened (256 random bits: not worth guessing, never limited).
    Session,
    /// A bearer token that is not right (counted by the rate limiter).
    Wrong,
}

fn credential(headers: &HeaderMap, token: &str, sessions: &Sessions) -> Credential {
    let given_bearer = bearer(headers);
    let given_cookie = cookie(headers, SESSION_COOKIE).filter(|c| !c.is_empty());
    if given_cookie.is_some_and(|c| sessions.contains(c)) {
        return Credential::Session;
    }
    if given_bearer.is_some_and(|t| same(t, token)) {
        return Credential::Token;
    }
    // A stale cookie (the server restarted, the session ended) is no guess at anything: the
    // browser is sent to sign in again without counting it against the address.
    if given_bearer.is_some() {
        Credential::Wrong
    } else {
        Credential::None
    }
}

/// The sessions the login form opened and logout has not ended (bounded: the oldest are
/// dropped first).
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<VecDeque<String>>,
}

/// How many sessions are kept at once.
pub const MAX_SESSIONS: usize = 256;

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<String>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Open a new session; returns its cookie value.
    pub fn open(&self) -> String {
        let id = random_hex(32);
        let mut g = self.lock();
        if g.len() >= MAX_SESSIONS {
            g.pop_front();
        }
        g.push_back(id.clone());
        id
    }
    pub fn contains(&self, id: &str) -> bool {
        self.lock().iter().any(|s| same(s, id))
    }
    pub fn end(&self, id: &str) {
        self.lock().retain(|s| !same(s, id));
    }
}

/// Wrong tokens per client address: a bucket of [`WRONG_TOKEN_BURST`] tries that refills one
/// every [`WRONG_TOKEN_REFILL`]. A client whose bucket is empty gets 429 before its token is
/// even compared, so guessing runs at one try per refill interval at best.
pub struct TokenLimiter {
    inner: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

pub const WRONG_TOKEN_BURST: f64 = 10.0;
pub const WRONG_TOKEN_REFILL: Duration = Duration::from_secs(1);
/// Addresses remembered at once (a bound on the limiter's memory).
const LIMITER_ADDRESSES: usize = 4096;

impl Default for TokenLimiter {
    fn default() -> Self {
        TokenLimiter {
            inner: Mutex::new(HashMap::new()),
        }
    }
}

impl TokenLimiter {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (f64, Instant)>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn level(entry: (f64, Instant), now: Instant) -> f64 {
        let refill = now.duration_since(entry.1).as_secs_f64() / WRONG_TOKEN_REFILL.as_secs_f64();
        (entry.0 + refill).min(WRONG_TOKEN_BURST)
    }
    /// Seconds until this address may try again, or `None` when it may try now.
    pub fn blocked(&self, ip: IpAddr) -> Option<u64> {
        let now = Instant::now();
        let g = self.lock();
        let level = Self::level(*g.get(&ip)?, now);
        (level < 1.0).then(|| {
            ((1.0 - level) * WRONG_TOKEN_REFILL.as_secs_f64())
                .ceil()
                .max(1.0) as u64
        })
    }
    /// Count one wrong token from this address.
    pub fn failed(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut g = self.lock();
        if g.len() >= LIMITER_ADDRESSES && !g.contains_key(&ip) {
            // Forget the addresses whose buckets are full again, then any if still too many.
            g.retain(|_, e| Self::level(*e, now) < WRONG_TOKEN_BURST);
            if g.len() >= LIMITER_ADDRESSES {
                g.clear();
            }
        }
        let level = g
            .get(&ip)
            .map_or(WRONG_TOKEN_BURST, |e| Self::level(*e, now));
        g.insert(ip, ((level - 1.0).max(0.0), now));
    }
}

/// The client's address (set by the server's accept loop; unknown in unit tests).
fn peer_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip())
}

/// Which `Host` names the server answers to. DNS rebinding points a name the attacker owns at
/// 127.0.0.1, so a page on that name reaches a loopback server with `Host: evil.example`;
/// a loopback server answers only to loopback names and addresses (and to names given with
/// `--allow-host`).
#[derive(Debug, Clone, Default)]
pub struct HostPolicy {
    /// Check `Host` at all (serving on loopback).
    pub check_host: bool,
    /// Extra names (lower case, no port).
    pub allowed: Vec<String>,
}

/// The name part of a `Host` value or an origin's authority (`[::1]:7413` → `::1`), lower case.
pub fn host_name(authority: &str) -> String {
    let a = authority.trim();
    let name = if let Some(rest) = a.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        match a.rsplit_once(':') {
            Some((n, port)) if port.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => a,
        }
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl HostPolicy {
    fn named(&self, name: &str) -> bool {
        self.allowed.iter().any(|a| a == name)
    }
    /// A name no DNS answer can move: a loopback name or address, or one given by flag.
    pub fn loopback_or_allowed(&self, name: &str) -> bool {
        name == "localhost"
            || name.ends_with(".localhost")
            || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
            || self.named(name)
    }
    /// Whether a request's `Host` may be served (absent: HTTP/1.0 clients, not browsers).
    pub fn host_ok(&self, headers: &HeaderMap) -> bool {
        if !self.check_host {
            return true;
        }
        match headers.get(header::HOST) {
            None => true,
            Some(h) => h
                .to_str()
                .is_ok_and(|h| self.loopback_or_allowed(&host_name(h))),
        }
    }
    /// Whether an origin's host may post here: one no DNS answer can move (an IP address,
    /// a loopback name, a name given by flag), checked against this list and not against the
    /// request's own `Host` (which a rebound name controls).
    fn origin_host_ok(&self, name: &str) -> bool {
        self.loopback_or_allowed(name) || name.parse::<IpAddr>().is_ok()
    }
}

/// Whether an unsafe request comes from another site (or another port of this host): its
/// `Origin` is not this server (the same scheme-less authority as `Host`, on a host name the
/// policy trusts), or `Sec-Fetch-Site` says it is not same-origin. Requests without either
/// header (curl, scripts) are not browser form posts and pass.
pub fn cross_site(headers: &HeaderMap, policy: &HostPolicy) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let Some(origin_host) = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
        else {
            return true;
        };
        return !origin_host.eq_ignore_ascii_case(host)
            || !policy.origin_host_ok(&host_name(origin_host));
    }
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v != "same-origin" && v != "none")
}

fn api_or_page_error(path: &str, status: StatusCode, field: &str, msg: &'static str) -> Response {
    if path.starts_with("/api/") {
        crate::api::ApiError::new(status, Some(field), msg).into_response()
    } else {
        (status, msg).into_response()
    }
}

/// The middleware in front of every route: the `Host` check, the cross-site check for unsafe
/// methods, then authentication when a token is set (wrong tokens rate-limited per client),
/// then the security headers on the response.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path().to_string();
    let inner = &state.inner;
    let open_path = path == "/login" || path == "/logout" || path.starts_with("/static/");
    let mut resp = if !inner.hosts.host_ok(req.headers()) {
        api_or_page_error(
            &path,
            StatusCode::MISDIRECTED_REQUEST,
            "host",
            "this server answers to loopback names only (localhost, 127.0.0.1, [::1]); \
             start it with --allow-host NAME to use another name",
        )
    } else if unsafe_method && cross_site(req.headers(), &inner.hosts) {
        api_or_page_error(
            &path,
            StatusCode::FORBIDDEN,
            "origin",
            "cross-site request refused: submit the form from this server's own pages",
        )
    } else if let Some(token) = &inner.token
        && !open_path
    {
        let ip = peer_ip(&req);
        let blocked = inner.limiter.blocked(ip);
        match (credential(req.headers(), token, &inner.sessions), blocked) {
            (Credential::Session, _) | (Credential::Token, None) => next.run(req).await,
            (Credential::Token | Credential::Wrong, Some(wait)) => too_many(&path, wait),
            (c, _) => {
                if c == Credential::Wrong {
                    inner.limiter.failed(ip);
                }
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
            }
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

/// 429 with `Retry-After` for a client that sent too many wrong tokens.
fn too_many(path: &str, retry_after: u64) -> Response {
    let mut r = api_or_page_error(
        path,
        StatusCode::TOO_MANY_REQUESTS,
        "token",
        "too many wrong tokens from this address: wait a little and try again",
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
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

async fn login(State(state): State<AppState>, req: Request) -> Response {
    let ip = peer_ip(&req);
    let inner = &state.inner;
    if inner.token.is_some()
        && let Some(wait) = inner.limiter.blocked(ip)
    {
        return too_many("/login", wait);
    }
    let body = match axum::body::to_bytes(req.into_body(), 64 << 10).await {
        Ok(b) => b,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the sign-in form is too large",
            )
                .into_response();
        }
    };
    let form = FormData::parse(&body);
    let given = form.get("token").unwrap_or_default();
    match &inner.token {
        Some(token) if same(given.trim(), token) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
                inner.sessions.open()
            );
            let mut r = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Some(_) => {
            inner.limiter.failed(ip);
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

/// End the session the request's cookie names (it is no longer accepted) and clear the cookie.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        state.inner.sessions.end(id);
    }
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

    fn loopback() -> HostPolicy {
        HostPolicy {
            check_host: true,
            allowed: vec!["bench.shop.lan".into()],
        }
    }

    #[test]
    fn same_origin_posts_pass_and_other_origins_do_not() {
        let p = loopback();
        let ok = headers(&[
            ("host", "127.0.0.1:7413"),
            ("origin", "http://127.0.0.1:7413"),
        ]);
        assert!(!cross_site(&ok, &p));
        let other_port = headers(&[
            ("host", "127.0.0.1:7413"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(cross_site(&other_port, &p));
        let null = headers(&[("host", "127.0.0.1:7413"), ("origin", "null")]);
        assert!(cross_site(&null, &p));
        let fetch = headers(&[("host", "127.0.0.1:7413"), ("sec-fetch-site", "same-site")]);
        assert!(cross_site(&fetch, &p));
        assert!(!cross_site(&headers(&[("host", "127.0.0.1:7413")]), &p));
    }

    #[test]
    fn an_origin_equal_to_a_rebound_host_is_still_cross_site() {
        // DNS rebinding: the page's origin and the Host are the attacker's name.
        let p = loopback();
        let rebound = headers(&[
            ("host", "evil.example:7413"),
            ("origin", "http://evil.example:7413"),
        ]);
        assert!(cross_site(&rebound, &p));
        let off_loopback = HostPolicy::default();
        assert!(cross_site(&rebound, &off_loopback));
        // Addresses, loopback names and names given by flag are this server.
        for (host, origin) in [
            ("localhost:7413", "http://localhost:7413"),
            ("[::1]:7413", "http://[::1]:7413"),
            ("bench.shop.lan:7413", "http://bench.shop.lan:7413"),
            ("192.168.1.5:7413", "http://192.168.1.5:7413"),
        ] {
            assert!(
                !cross_site(&headers(&[("host", host), ("origin", origin)]), &p),
                "{origin}"
            );
        }
    }

    #[test]
    fn a_loopback_server_answers_to_loopback_names_only() {
        let p = loopback();
        for ok in [
            "127.0.0.1:7413",
            "localhost:7413",
            "LOCALHOST",
            "[::1]:7413",
            "127.0.0.2",
            "app.localhost:1",
            "bench.shop.lan:7413",
        ] {
            assert!(p.host_ok(&headers(&[("host", ok)])), "{ok}");
        }
        for bad in [
            "evil.example:7413",
            "evil.example",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "10.0.0.1:7413",
            "",
        ] {
            assert!(!p.host_ok(&headers(&[("host", bad)])), "{bad}");
        }
        assert!(p.host_ok(&HeaderMap::new()), "HTTP/1.0 without Host");
        assert!(HostPolicy::default().host_ok(&headers(&[("host", "evil.example")])));
    }

    #[test]
    fn bearer_or_cookie_authorize() {
        let t = "secret-token";
        let sessions = Sessions::default();
        let s = sessions.open();
        let cred = |pairs: &[(&str, &str)]| credential(&headers(pairs), t, &sessions);
        assert_eq!(
            cred(&[("authorization", "Bearer secret-token")]),
            Credential::Token
        );
        assert_eq!(
            cred(&[("authorization", "bearer  secret-token")]),
            Credential::Token,
            "the scheme is case-insensitive"
        );
        assert_eq!(
            cred(&[("authorization", "BEARER secret-token")]),
            Credential::Token
        );
        assert_eq!(
            cred(&[("authorization", "Bearer wrong")]),
            Credential::Wrong
        );
        assert_eq!(
            cred(&[("authorization", "Basic secret-token")]),
            Credential::None
        );
        assert_eq!(
            cred(&[("cookie", &format!("a=b; rd_session={s}"))]),
            Credential::Session
        );
        assert_eq!(cred(&[("cookie", "rd_session=abc12")]), Credential::None);
        assert_eq!(cred(&[]), Credential::None);
        sessions.end(&s);
        assert_eq!(
            cred(&[("cookie", &format!("rd_session={s}"))]),
            Credential::None,
            "an ended session is refused"
        );
    }

    #[test]
    fn wrong_tokens_empty_the_bucket_and_it_refills() {
        let l = TokenLimiter::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        for _ in 0..WRONG_TOKEN_BURST as usize {
            assert_eq!(l.blocked(ip), None);
            l.failed(ip);
        }
        assert!(l.blocked(ip).is_some());
        assert_eq!(l.blocked(other), None, "per address");
        // One refill interval later, one more try.
        {
            let mut g = l.lock();
            let e = g.get_mut(&ip).unwrap();
            e.1 -= WRONG_TOKEN_REFILL;
        }
        assert_eq!(l.blocked(ip), None);
        l.failed(ip);
        assert!(l.blocked(ip).is_some());
    }

    #[test]
    fn host_names_lose_port_brackets_and_case() {
        assert_eq!(host_name("[::1]:7413"), "::1");
        assert_eq!(host_name("Example.COM:80"), "example.com");
        assert_eq!(host_name("localhost."), "localhost");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn sessions_are_bounded() {
        let s = Sessions::default();
        let first = s.open();
        for _ in 0..MAX_SESSIONS {
            s.open();
        }
        assert!(!s.contains(&first));
    }

    #[test]
    fn random_hex_is_random_and_long() {
        let a = random_hex(32);
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_hex(32));
    }
}
