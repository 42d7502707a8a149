//! The PostgreSQL connection: connected on first use and again whenever the server dropped it
//! (a restart, `pg_terminate_backend`, a network cut), with bounds on every wait, and errors
//! that say what went wrong in words.
//!
//! - **Connecting** (TCP connect, startup, authentication) must finish within the connect
//!   timeout (`connect_timeout` in the URL, default [`DEFAULT_CONNECT_TIMEOUT`]). The postgres
//!   client bounds only the TCP connect, so the whole handshake runs on a helper thread that
//!   is abandoned when the time is up (a server whose postmaster is stopped accepts the TCP
//!   connection and then never answers). At most one abandoned attempt is left waiting at a
//!   time: while it waits, further connects fail at once with the same timeout error.
//! - **Statements** are cancelled by the server after `statement_timeout` and lock waits after
//!   `lock_timeout` (defaults [`DEFAULT_STATEMENT_TIMEOUT`], [`DEFAULT_LOCK_TIMEOUT`]; set in
//!   the session unless the URL's `options` set them, e.g.
//!   `?options=-c%20lock_timeout%3D2s`), and an idle transaction after
//!   [`IDLE_IN_TRANSACTION_TIMEOUT`]. TCP keepalives notice a dead peer.
//! - **Reconnecting**: a transaction that fails because the connection is closed is run again
//!   once on a new connection when it failed before its commit was sent (the server rolled it
//!   back, so nothing is written twice). A connection lost during the commit is reported as
//!   such: the change may or may not be stored.

use crate::StoreError;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);
pub const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) struct PgConn {
    config: postgres::Config,
    /// Where, for messages (`host:port/database`, no password).
    target: String,
    connect_timeout: Duration,
    /// Session settings run after each connect.
    session_sql: String,
    client: Option<postgres::Client>,
    /// An abandoned connect attempt is still waiting.
    stuck: Arc<AtomicBool>,
}

/// `host:port/database` of a config, for messages.
fn target_of(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{host}:{port}/{db}")
}

fn pg_interval(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

impl PgConn {
    /// Parse the URL and connect.
    pub fn open(url: &str) -> Result<PgConn, StoreError> {
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            StoreError::PgUrl(format!("{}: {}", crate::redact_url_password(url), e))
        })?;
        let connect_timeout = config
            .get_connect_timeout()
            .copied()
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        config.connect_timeout(connect_timeout);
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let options = config.get_options().unwrap_or("").to_string();
        let mut session_sql = String::new();
        for (name, default) in [
            ("statement_timeout", DEFAULT_STATEMENT_TIMEOUT),
            ("lock_timeout", DEFAULT_LOCK_TIMEOUT),
            (
                "idle_in_transaction_session_timeout",
                IDLE_IN_TRANSACTION_TIMEOUT,
            ),
        ] {
            if !options.contains(name) {
                session_sql.push_str(&format!("SET {name} = '{}';", pg_interval(default)));
            }
        }
        let target = target_of(&config);
        let mut conn = PgConn {
            config,
            target,
            connect_timeout,
            session_sql,
            client: None,
            stuck: Arc::new(AtomicBool::new(false)),
        };
        conn.client()?;
        Ok(conn)
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    /// The connected client, connecting first when there is none or the last one closed.
    pub fn client(&mut self) -> Result<&mut postgres::Client, StoreError> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            close_client(self.client.take());
            let c = self.connect()?;
            self.client = Some(c);
        }
        self.client.as_mut().ok_or_else(|| StoreError::PgConnect {
            target: self.target.clone(),
            cause: "no connection".into(),
        })
    }

    /// Whether the current connection is gone (the next [`client`](Self::client) reconnects).
    pub fn is_closed(&self) -> bool {
        self.client.as_ref().is_none_or(|c| c.is_closed())
    }

    /// Forget the connection (after an error that left it unusable).
    pub fn drop_client(&mut self) {
        close_client(self.client.take());
    }

    fn connect(&mut self) -> Result<postgres::Client, StoreError> {
        let timeout = self.connect_timeout;
        let timed_out = || StoreError::PgTimeout {
            target: self.target.clone(),
            what: "connecting",
            seconds: timeout.as_secs_f64(),
        };
        if self.stuck.load(Ordering::SeqCst) {
            return Err(timed_out());
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let config = self.config.clone();
        let session_sql = self.session_sql.clone();
        let stuck = self.stuck.clone();
        stuck.store(true, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("pg-connect".into())
            .spawn(move || {
                let r = config.connect(postgres::NoTls).and_then(|mut c| {
                    c.batch_execute(&session_sql)?;
                    Ok(c)
                });
                stuck.store(false, Ordering::SeqCst);
                let _ = tx.send(r);
            });
        if let Err(e) = spawned {
            self.stuck.store(false, Ordering::SeqCst);
            return Err(StoreError::PgConnect {
                target: self.target.clone(),
                cause: format!("cannot start a thread: {e}"),
            });
        }
        match rx.recv_timeout(timeout) {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(connect_error(&self.target, &e)),
            Err(_) => Err(timed_out()),
        }
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        close_client(self.client.take());
    }
}

/// Close a client on a thread of its own: the client's `Drop` runs a small runtime of its own
/// to say goodbye to the server, which panics on a thread that is inside an async runtime
/// (the web server drops its store there when it stops).
fn close_client(client: Option<postgres::Client>) {
    if let Some(c) = client {
        let _ = std::thread::spawn(move || drop(c)).join();
    }
}

/// A connection failure in words: refused, unknown host, no such database, bad password...
pub(crate) fn connect_error(target: &str, e: &postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        return match db.code().code() {
            "3D000" => StoreError::PgConnect {
                target: target.into(),
                cause: format!(
                    "{} (create it with `createdb`, or fix the database name in the URL)",
                    db.message()
                ),
            },
            _ => StoreError::PgConnect {
                target: target.into(),
                cause: describe(e),
            },
        };
    }
    let io_kind = source_io_kind(e);
    let cause = match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => {
            "connection refused: is PostgreSQL running and listening on that host and port?"
                .to_string()
        }
        Some(std::io::ErrorKind::TimedOut) => {
            "the connection attempt timed out: is the host reachable?".to_string()
        }
        _ => describe(e),
    };
    StoreError::PgConnect {
        target: target.into(),
        cause,
    }
}

fn source_io_kind(e: &postgres::Error) -> Option<std::io::ErrorKind> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        src = s.source();
    }
    None
}

/// A PostgreSQL error with its cause: the server's message and SQLSTATE, or the chain of
/// sources (the client's own `Display` says only "db error" or "error connecting to server").
pub fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let hint = match code {
            "55P03" => {
                " (another session holds a lock on what this needs; lock_timeout ran out: \
                 try again, or end the session holding it)"
            }
            "57014" => " (statement_timeout ran out: the server is overloaded or the query waits)",
            "57P01" | "57P02" | "57P03" => " (the server is shutting down or restarting)",
            "25P03" => " (the transaction sat idle too long and the server ended it)",
            "28P01" | "28000" => " (check the user and password in the URL)",
            _ => "",
        };
        let mut s = format!(
            "{}: {}{hint} [SQLSTATE {code}]",
            db.severity(),
            db.message()
        );
        if let Some(d) = db.detail() {
            s.push_str(&format!("; {d}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(inner) = src {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        src = inner.source();
    }
    if e.is_closed() {
        s.push_str(" (the connection to the server was lost)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_host_port_and_database() {
        let c: postgres::Config = "postgres://u:secret@db.example:6543/shop".parse().unwrap();
        assert_eq!(target_of(&c), "db.example:6543/shop");
        let c: postgres::Config = "postgres://u@127.0.0.1/".parse().unwrap();
        assert_eq!(target_of(&c), "127.0.0.1:5432/u");
    }

    #[test]
    fn a_refused_connection_says_so() {
        // A port nothing listens on: bind one and close it.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("postgres://nobody@127.0.0.1:{port}/db");
        let e = PgConn::open(&url).err().unwrap();
        let msg = e.to_string();
        assert!(msg.contains("refused"), "{msg}");
        assert!(msg.contains(&format!("127.0.0.1:{port}/db")), "{msg}");
    }

    #[test]
    fn a_server_that_never_answers_times_out() {
        // A listener that accepts (the kernel does) and never speaks, like a stopped postmaster.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let url = format!("postgres://nobody@127.0.0.1:{port}/db?connect_timeout=1");
        let e = PgConn::open(&url).err().unwrap();
        assert!(
            matches!(e, StoreError::PgTimeout { .. }),
            "{e}: {:?}",
            e.to_string()
        );
        assert!(e.to_string().contains("did not answer"), "{e}");
        drop(l);
    }

    #[test]
    fn urls_that_do_not_parse_are_named_without_their_password() {
        let e = PgConn::open("postgres://u:hunter2@h/db?nonsense=1")
            .err()
            .unwrap();
        let msg = e.to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(msg.contains("u:***@h"), "{msg}");
    }
}
