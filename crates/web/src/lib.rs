//! `web`: restore-doctor's local web UI and JSON API (`restore-doctor serve`), over the same
//! knowledge base, diagnosis engine, log analyser and case store as the CLI.
//!
//! Pages are rendered on the server from compile-time checked askama templates (every value
//! from a person or a log is HTML-escaped by the template engine), need no network and no
//! JavaScript (one tiny optional script for the print button), and work on a phone. The JSON
//! API mirrors the CLI's `--json` output (design.md §6 and §8) and is described at
//! `/api/openapi.json`.
//!
//! Security rules (design.md §8): [`Config::check`] refuses a non-loopback listen address
//! without a token. With a token every request needs `Authorization: Bearer <token>` or a
//! session cookie the `/login` form sets (HttpOnly, SameSite=Strict, random per login, ended by
//! `/logout`); wrong tokens are rate-limited per client address. A loopback server answers only
//! to loopback `Host` names (and `--allow-host` names): DNS rebinding gets 421. CSRF: the
//! cookie is SameSite=Strict, and every POST whose `Origin` (or `Sec-Fetch-Site`) is not this
//! server is refused with 403; the diagnose wizard writes nothing to the database. Every list
//! and string in a request is bounded ([`limits`]), bodies are capped per route, CPU-heavy work
//! runs on a bounded pool ([`pool`]) so cheap routes stay fast, connections have header-read
//! and idle timeouts and a bound on their number (`server.rs`), requests time out
//! ([`Config::request_timeout`]), responses carry a strict Content-Security-Policy, and no
//! request value is ever used as a file-system path (static assets are embedded in the binary).

mod access_log;
mod api;
mod form;
mod grid;
pub mod limits;
mod memo;
mod pages;
pub mod pool;
mod security;
mod server;
mod svg;
mod wizard;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use grid::{AttemptGrid, GridCell};
pub use security::HostPolicy;
pub use server::default_max_connections;

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7413";
/// The default cap on a request body (uploads of logs): 64 MiB.
pub const DEFAULT_MAX_UPLOAD: usize = 64 << 20;
/// The default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time a connection has to send a whole request head (also the longest a
/// keep-alive connection may sit idle between requests).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How to serve.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Bearer token every request must carry (required off loopback).
    pub token: Option<String>,
    /// The `--db` value (SQLite path or `postgres://` URL); `None` = `RESTORE_DOCTOR_DB` or
    /// the default SQLite file.
    pub db: Option<String>,
    /// Largest accepted request body in bytes.
    pub max_upload: usize,
    pub request_timeout: Duration,
    /// Time to send a request head; also the longest idle time between requests.
    pub header_timeout: Duration,
    /// Most connections open at once (`None`: what the open-file limit allows).
    pub max_connections: Option<usize>,
    /// Host names besides loopback ones that a loopback server answers to, and that browser
    /// posts may come from (`--allow-host`).
    pub allowed_hosts: Vec<String>,
    /// Threads for CPU-heavy work (`None`: one per core).
    pub heavy_workers: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN.parse().expect("default address parses"),
            token: None,
            db: None,
            max_upload: DEFAULT_MAX_UPLOAD,
            request_timeout: DEFAULT_TIMEOUT,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: None,
            allowed_hosts: Vec::new(),
            heavy_workers: None,
        }
    }
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0} without a token: anyone on the network could use it. \
         Pass --token <secret> (clients then send `Authorization: Bearer <secret>`), \
         or listen on 127.0.0.1"
    )]
    NonLoopbackWithoutToken(SocketAddr),
    #[error("--token is empty: give a secret of at least 8 characters")]
    EmptyToken,
    #[error("--token is too short ({0} characters): give a secret of at least 8 characters")]
    ShortToken(usize),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the server: {0}")]
    Runtime(std::io::Error),
    #[error(
        "--allow-host `{0}` is not a host name: give a name like shop.example (no scheme, no port)"
    )]
    BadHost(String),
}

impl ServeError {
    /// True for errors in what the person asked for (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            ServeError::NonLoopbackWithoutToken(_)
                | ServeError::EmptyToken
                | ServeError::ShortToken(_)
                | ServeError::BadHost(_)
        )
    }
}

impl Config {
    /// Check the security rules before binding: a non-loopback address needs a token, and a
    /// token must be a real secret.
    pub fn check(&self) -> Result<(), ServeError> {
        if let Some(t) = &self.token {
            let n = t.chars().count();
            if t.trim().is_empty() {
                return Err(ServeError::EmptyToken);
            }
            if n < 8 {
                return Err(ServeError::ShortToken(n));
            }
        }
        if !self.listen.ip().is_loopback() && self.token.is_none() {
            return Err(ServeError::NonLoopbackWithoutToken(self.listen));
        }
        self.host_policy()?;
        Ok(())
    }

    /// The `Host` rule: checked when serving on loopback; names given by flag are added.
    pub fn host_policy(&self) -> Result<HostPolicy, ServeError> {
        let mut allowed = Vec::new();
        for h in &self.allowed_hosts {
            let name = h.trim().trim_end_matches('.').to_ascii_lowercase();
            let fine = !name.is_empty()
                && name.len() <= 253
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
            if !fine {
                return Err(ServeError::BadHost(h.clone()));
            }
            allowed.push(name);
        }
        Ok(HostPolicy {
            check_host: self.listen.ip().is_loopback(),
            allowed,
        })
    }
}

/// The case database as the server holds it.
pub(crate) enum StoreSlot {
    Open(Mutex<store::Store>),
    /// Opening failed: the case and fleet pages say why.
    Unavailable(String),
}

pub(crate) struct Inner {
    pub token: Option<String>,
    /// The sessions the login form opened (each a random value; logout ends one).
    pub sessions: security::Sessions,
    /// Wrong tokens per client address.
    pub limiter: security::TokenLimiter,
    /// Which `Host` names and origins are this server.
    pub hosts: HostPolicy,
    pub store: StoreSlot,
    pub max_upload: usize,
    pub memo: memo::DiagnoseMemo,
    pub explanations: memo::ExplainMemo,
    /// Threads for CPU-heavy work.
    pub heavy: pool::HeavyPool,
    /// Log uploads read into memory at once (one per heavy worker): each may be up to
    /// `max_upload`, so this bounds the memory uploads take.
    pub uploads: tokio::sync::Semaphore,
}

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

impl AppState {
    /// State with an opened store (or none, with the reason shown on the case pages), for a
    /// server on loopback (the `Host` check on, no extra names) with one heavy worker per core.
    pub fn new(
        token: Option<String>,
        store: Result<store::Store, String>,
        max_upload: usize,
    ) -> AppState {
        AppState::with_options(
            token,
            store,
            max_upload,
            HostPolicy {
                check_host: true,
                allowed: Vec::new(),
            },
            pool::HeavyPool::default_workers(),
        )
    }

    /// State with every option.
    pub fn with_options(
        token: Option<String>,
        store: Result<store::Store, String>,
        max_upload: usize,
        hosts: HostPolicy,
        heavy_workers: usize,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                token,
                sessions: security::Sessions::default(),
                limiter: security::TokenLimiter::default(),
                hosts,
                store: match store {
                    Ok(s) => StoreSlot::Open(Mutex::new(s)),
                    Err(e) => StoreSlot::Unavailable(e),
                },
                max_upload,
                memo: memo::DiagnoseMemo::default(),
                explanations: memo::ExplainMemo::default(),
                heavy: pool::HeavyPool::new(heavy_workers),
                uploads: tokio::sync::Semaphore::new(heavy_workers.max(1)),
            }),
        }
    }

    /// The engine's answer to a request (memoised: the engine is a pure function), computed
    /// on the heavy pool.
    pub async fn diagnose(
        &self,
        req: engine::api::DiagnoseRequest,
    ) -> Result<Result<Arc<memo::Answer>, engine::api::RequestError>, pool::PoolError> {
        if let Some(hit) = self.inner.memo.get(&req) {
            return Ok(Ok(hit));
        }
        let state = self.clone();
        self.heavy(move || state.inner.memo.diagnose(&req)).await
    }

    /// Wait for a turn to read a log upload into memory.
    pub(crate) async fn upload_permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.inner.uploads.acquire().await.ok()
    }

    /// Run CPU-heavy work on the heavy pool.
    pub async fn heavy<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, pool::PoolError> {
        self.inner.heavy.run(f).await
    }

    /// Run `f` on the store in a blocking thread (SQLite and the PostgreSQL client block).
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut store::Store) -> Result<T, store::StoreError> + Send + 'static,
    ) -> Result<T, StoreFailure> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || match &state.inner.store {
            StoreSlot::Open(m) => {
                let mut guard = m.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut guard).map_err(StoreFailure::Store)
            }
            StoreSlot::Unavailable(why) => Err(StoreFailure::Unavailable(why.clone())),
        })
        .await
        .unwrap_or_else(|e| Err(StoreFailure::Unavailable(format!("store task failed: {e}"))))
    }
}

/// A store call that did not work.
#[derive(Debug)]
pub(crate) enum StoreFailure {
    Unavailable(String),
    Store(store::StoreError),
}

/// The whole application: pages, API, security layers.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let max = state.inner.max_upload;
    Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(security::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .layer(DefaultBodyLimit::max(max))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(axum::middleware::from_fn(access_log::log_request))
        .with_state(state)
}

/// Open the store a `--db` value names; the error is kept as text for the pages.
pub fn open_store(db: Option<&str>) -> Result<store::Store, String> {
    store::Store::open(db).map_err(|e| e.to_string())
}

/// Serve until Ctrl-C: check the config, open the store, bind, print the address.
pub async fn serve(config: Config, store: Result<store::Store, String>) -> Result<(), ServeError> {
    serve_until(config, store, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// [`serve`] until `shutdown` resolves.
pub async fn serve_until(
    config: Config,
    store: Result<store::Store, String>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    config.check()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    serve_listener(config, store, listener, shutdown).await
}

/// Serve on a bound listener until `shutdown` resolves (`config.listen` decides the loopback
/// rules; tests bind port 0 and read the port first).
pub async fn serve_listener(
    config: Config,
    store: Result<store::Store, String>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    config.check()?;
    if let Err(why) = &store {
        tracing::warn!("case database unavailable: {why}");
    }
    let state = AppState::with_options(
        config.token.clone(),
        store,
        config.max_upload,
        config.host_policy()?,
        config
            .heavy_workers
            .unwrap_or_else(pool::HeavyPool::default_workers),
    );
    let app = router(state, config.request_timeout);
    let addr = listener.local_addr().map_err(ServeError::Runtime)?;
    eprintln!(
        "restore-doctor is serving on http://{addr}/{}  (Ctrl-C stops it)",
        if config.token.is_some() {
            "  — a token is required; open /login in a browser"
        } else {
            ""
        }
    );
    let limits = server::Limits {
        header_timeout: config.header_timeout,
        idle_timeout: config.request_timeout + config.header_timeout,
        max_connections: config
            .max_connections
            .unwrap_or_else(server::default_max_connections),
    };
    server::run(listener, app, limits, shutdown, Duration::from_secs(5)).await;
    Ok(())
}

/// [`serve`] on a runtime of its own (the CLI is synchronous). The store is opened before the
/// runtime starts.
pub fn serve_blocking(config: Config) -> Result<(), ServeError> {
    config.check()?;
    let store = open_store(config.db.as_deref());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    rt.block_on(serve(config, store))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(listen: &str, token: Option<&str>) -> Config {
        Config {
            listen: listen.parse().unwrap(),
            token: token.map(str::to_string),
            ..Config::default()
        }
    }

    #[test]
    fn loopback_needs_no_token_but_other_addresses_do() {
        assert!(cfg("127.0.0.1:7413", None).check().is_ok());
        assert!(cfg("[::1]:7413", None).check().is_ok());
        let e = cfg("0.0.0.0:7413", None).check().unwrap_err();
        assert!(matches!(e, ServeError::NonLoopbackWithoutToken(_)));
        assert!(e.is_bad_input());
        assert!(e.to_string().contains("--token"));
        assert!(cfg("0.0.0.0:7413", Some("a-long-secret")).check().is_ok());
    }

    #[test]
    fn a_token_must_be_a_real_secret() {
        assert!(matches!(
            cfg("127.0.0.1:1", Some("  ")).check(),
            Err(ServeError::EmptyToken)
        ));
        assert!(matches!(
            cfg("127.0.0.1:1", Some("abc")).check(),
            Err(ServeError::ShortToken(3))
        ));
    }
}
