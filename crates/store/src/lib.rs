//! `store`: restore-doctor's case history and fleet analytics. It keeps devices, cases,
//! restore/update attempts (with their full logs and SHA-256), troubleshooting steps, notes and
//! the engine's recommendations in SQLite (embedded, the default) or PostgreSQL (shared by a
//! shop's benches), chosen by the `--db` value; runs per-backend migrations on open and refuses
//! a database newer than itself; hands the diagnosis engine a plain [`CaseHistory`] and the
//! shop's learned priors ([`ShopPriors`]); and fits the fleet model ([`fleet`]) that tells a
//! faulty bench, cable or port from a faulty device.
//!
//! Opening: [`Store::open`] takes the `--db` value (`None` → `RESTORE_DOCTOR_DB` → the default
//! SQLite file from [`default_sqlite_path`]). Every write method is one transaction.

mod bulk;
mod db;
pub mod evidence;
pub mod fleet;
pub mod model;
mod pg;
pub mod simulate;

pub use bulk::IMPORT_BATCH;
pub use db::SCHEMA_VERSION;
pub use model::*;
pub use pg::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT,
    IDLE_IN_TRANSACTION_TIMEOUT,
};

use db::{PgTx, SqliteTx, Tx, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Environment variable naming the database when `--db` is not given.
pub const DB_ENV: &str = "RESTORE_DOCTOR_DB";

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", pg::describe(.0))]
    Postgres(#[from] postgres::Error),
    #[error("cannot connect to PostgreSQL at {target}: {cause}")]
    PgConnect { target: String, cause: String },
    #[error(
        "PostgreSQL at {target} did not answer within {seconds} s ({what}): is the server \
         stopped, hung or overloaded? Nothing was changed"
    )]
    PgTimeout {
        target: String,
        what: &'static str,
        seconds: f64,
    },
    #[error(
        "the connection to PostgreSQL at {target} was lost while committing: the change may or \
         may not have been stored; check before repeating it ({cause})"
    )]
    PgLostAtCommit { target: String, cause: String },
    #[error("the PostgreSQL URL does not parse: {0}")]
    PgUrl(String),
    #[error(
        "cannot write to the case database {path}: it is read-only (opened for reading \
         because the file or its directory cannot be written); check the permissions or pass \
         --db with a writable file"
    )]
    ReadOnly { path: String },
    #[error(
        "the case database {path} has schema version {found} and this restore-doctor needs {known}: \
         upgrading it needs write access, but the file or its directory is read-only"
    )]
    ReadOnlyNeedsUpgrade {
        path: String,
        found: i64,
        known: i64,
    },
    #[error(
        "the database has schema version {found}, newer than this restore-doctor knows ({known}); \
         upgrade restore-doctor to use it (the database was left unchanged)"
    )]
    TooNew { found: i64, known: i64 },
    #[error("no case with id {0}")]
    NoSuchCase(i64),
    #[error("no attempt with id {0}")]
    NoSuchAttempt(i64),
    #[error("case {0} is already closed")]
    AlreadyClosed(i64),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "no data directory found for the default database; pass --db PATH or set RESTORE_DOCTOR_DB"
    )]
    NoDataDir,
    #[error("database content is inconsistent: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// True for errors caused by what the person asked for (unknown case, closed case...),
    /// which a CLI reports as bad input (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            StoreError::NoSuchCase(_) | StoreError::NoSuchAttempt(_) | StoreError::AlreadyClosed(_)
        )
    }
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The default SQLite file: `<platform data dir>/restore-doctor.sqlite3`
/// (`~/.local/share/restore-doctor/` on Linux).
pub fn default_sqlite_path() -> Result<PathBuf> {
    let dirs =
        directories::ProjectDirs::from("", "", "restore-doctor").ok_or(StoreError::NoDataDir)?;
    Ok(dirs.data_dir().join("restore-doctor.sqlite3"))
}

/// Which backend a `--db` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// Parse a `--db` value: `postgres://` or `postgresql://` URLs are PostgreSQL, anything else a
    /// SQLite path (`sqlite://` prefix accepted). `None` reads `RESTORE_DOCTOR_DB`, then falls back
    /// to [`default_sqlite_path`].
    pub fn resolve(db: Option<&str>) -> Result<Location> {
        let from_env = std::env::var(DB_ENV).ok().filter(|s| !s.is_empty());
        match db.map(str::to_string).or(from_env) {
            Some(v) if v.starts_with("postgres://") || v.starts_with("postgresql://") => {
                Ok(Location::Postgres(v))
            }
            Some(v) => Ok(Location::Sqlite(PathBuf::from(
                v.strip_prefix("sqlite://").unwrap_or(&v),
            ))),
            None => Ok(Location::Sqlite(default_sqlite_path()?)),
        }
    }

    /// A printable form, with any PostgreSQL password masked.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => redact_url_password(url),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let Some(at) = rest.find('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

pub(crate) enum Backend {
    Sqlite(rusqlite::Connection),
    Postgres(Box<pg::PgConn>),
}

/// A case-history database (SQLite or PostgreSQL).
pub struct Store {
    pub(crate) backend: Box<Backend>,
    location: Location,
    /// Opened for reading only (a SQLite file or directory that cannot be written).
    read_only: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location.describe())
            .finish()
    }
}

impl Store {
    /// Open the database a `--db` value names (see [`Location::resolve`]), creating and
    /// migrating it as needed.
    pub fn open(db: Option<&str>) -> Result<Store> {
        Store::open_location(Location::resolve(db)?)
    }

    /// Open a resolved location.
    pub fn open_location(location: Location) -> Result<Store> {
        let (backend, read_only) = match &location {
            Location::Sqlite(path) => {
                let (conn, read_only) = db::open_sqlite(path)?;
                (Backend::Sqlite(conn), read_only)
            }
            Location::Postgres(url) => {
                (Backend::Postgres(Box::new(db::open_postgres(url)?)), false)
            }
        };
        Ok(Store {
            backend: Box::new(backend),
            location,
            read_only,
        })
    }

    /// Whether the database was opened for reading only (a SQLite file, or its directory,
    /// that cannot be written): reads work, every write fails with [`StoreError::ReadOnly`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Refuse a write on a read-only store, naming the file.
    pub(crate) fn writable(&self) -> Result<()> {
        if self.read_only {
            return Err(StoreError::ReadOnly {
                path: self.location.describe(),
            });
        }
        Ok(())
    }

    /// Open (creating) a SQLite file.
    pub fn open_sqlite(path: &Path) -> Result<Store> {
        Store::open_location(Location::Sqlite(path.to_path_buf()))
    }

    /// Connect to PostgreSQL (`postgres://user[:password]@host:port/db[?options=...]`).
    pub fn open_postgres(url: &str) -> Result<Store> {
        Store::open_location(Location::Postgres(url.to_string()))
    }

    /// Where this store lives (password masked).
    pub fn describe(&self) -> String {
        self.location.describe()
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match *self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Run `f` in one transaction (SQLite: `BEGIN IMMEDIATE`, so concurrent writers queue
    /// instead of failing; deferred on a read-only file), committing on `Ok` and rolling back
    /// on `Err`. PostgreSQL: a transaction that fails because the connection was lost before
    /// its commit is run once more on a new connection (the server rolled it back).
    pub(crate) fn transaction<T>(
        &mut self,
        mut f: impl FnMut(&mut dyn Tx) -> Result<T>,
    ) -> Result<T> {
        let read_only = self.read_only;
        let path = self.location.describe();
        match &mut *self.backend {
            Backend::Sqlite(conn) => {
                let behavior = if read_only {
                    rusqlite::TransactionBehavior::Deferred
                } else {
                    rusqlite::TransactionBehavior::Immediate
                };
                let mut run = |conn: &mut rusqlite::Connection| -> Result<T> {
                    let tx = conn.transaction_with_behavior(behavior)?;
                    let mut t = SqliteTx(tx);
                    let out = f(&mut t)?;
                    t.0.commit()?;
                    Ok(out)
                };
                run(conn).map_err(|e| db::sqlite_write_error(e, &path))
            }
            Backend::Postgres(pg) => {
                let mut retried = false;
                loop {
                    let client = pg.client()?;
                    let attempt = (|| -> std::result::Result<T, (StoreError, bool)> {
                        let mut t = PgTx(client.transaction().map_err(|e| (e.into(), false))?);
                        let out = f(&mut t).map_err(|e| (e, false))?;
                        t.0.commit().map_err(|e| (e.into(), true))?;
                        Ok(out)
                    })();
                    match attempt {
                        Ok(out) => return Ok(out),
                        Err((e, at_commit)) => {
                            if !pg.is_closed() {
                                return Err(e);
                            }
                            pg.drop_client();
                            if at_commit {
                                return Err(StoreError::PgLostAtCommit {
                                    target: pg.target().to_string(),
                                    cause: e.to_string(),
                                });
                            }
                            if retried {
                                return Err(e);
                            }
                            retried = true;
                        }
                    }
                }
            }
        }
    }

    /// The schema version of the open database.
    pub fn schema_version(&mut self) -> Result<i64> {
        self.transaction(|tx| {
            Ok(first_int(tx.query("SELECT MAX(version) FROM schema_version", &[])?).unwrap_or(0))
        })
    }

    /// Open a case for a device; returns the case id.
    pub fn create_case(&mut self, case: &NewCase) -> Result<i64> {
        self.writable()?;
        let now = now_millis();
        self.transaction(|tx| {
            let d = &case.device;
            let device_id = tx.insert(
                "INSERT INTO device (label, product_type, name, ecid, serial, imei, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                &[
                    d.label.as_str().into(),
                    d.product_type.clone().into(),
                    d.name.clone().into(),
                    d.ecid.clone().into(),
                    d.serial.clone().into(),
                    d.imei.clone().into(),
                    now.into(),
                ],
            )?;
            tx.insert(
                "INSERT INTO cases (device_id, ticket, customer, error_code, opened_at) \
                 VALUES (?, ?, ?, ?, ?) RETURNING id",
                &[
                    device_id.into(),
                    case.ticket.clone().into(),
                    case.customer.clone().into(),
                    case.error_code.into(),
                    now.into(),
                ],
            )
        })
    }

    /// Record a restore/update attempt on a case (with its log and the log's SHA-256); returns
    /// the attempt id. Computers, cables and ports are created on first use.
    pub fn add_attempt(&mut self, case_id: i64, attempt: &NewAttempt) -> Result<i64> {
        self.writable()?;
        let at = attempt.at.unwrap_or_else(now_millis);
        self.transaction(|tx| {
            let device_id = case_device(tx, case_id)?;
            let station_id = upsert_name(tx, "station", &attempt.computer)?;
            let cable_id = match &attempt.cable {
                Some(c) => Some(upsert_name(tx, "cable", c)?),
                None => None,
            };
            let port_id = match &attempt.port {
                Some(p) => Some(upsert_port(tx, station_id, p)?),
                None => None,
            };
            let (ok, code) = model::attempt_result_columns(attempt.result);
            let sha = attempt.log.as_ref().map(|l| sha256_hex(l));
            let usb_events = match &attempt.usb_events {
                Some(events) => Some(serde_json::to_string(events).map_err(|e| {
                    StoreError::Corrupt(format!("USB events not serialisable: {e}"))
                })?),
                None => None,
            };
            tx.insert(
                "INSERT INTO attempt (case_id, device_id, at, station_id, host_os, app_version, \
                 cable_id, port_id, hub, tool, mode, kind, ok, error_code, stage, operation, \
                 checkpoint, progress, log, log_sha256, duration_ms, usb_events, interrupted) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 RETURNING id",
                &[
                    case_id.into(),
                    device_id.into(),
                    at.into(),
                    station_id.into(),
                    attempt.host_os.clone().into(),
                    attempt.app_version.clone().into(),
                    cable_id.into(),
                    port_id.into(),
                    attempt.hub.into(),
                    attempt.tool.clone().into(),
                    attempt.mode.clone().into(),
                    attempt.kind.map(|k| k.as_str()).into(),
                    ok.into(),
                    code.into(),
                    attempt.stage.clone().into(),
                    attempt.operation.into(),
                    attempt.checkpoint.clone().into(),
                    attempt.progress.into(),
                    attempt.log.clone().map_or(Value::Null, Value::Blob),
                    sha.into(),
                    attempt.duration_ms.into(),
                    usb_events.into(),
                    attempt.interrupted.into(),
                ],
            )
        })
    }

    /// Record a troubleshooting step; returns the step id.
    pub fn add_step(&mut self, case_id: i64, step: &NewStep) -> Result<i64> {
        self.writable()?;
        let now = now_millis();
        self.transaction(|tx| {
            case_device(tx, case_id)?;
            tx.insert(
                "INSERT INTO step (case_id, at, action, outcome, who) VALUES (?, ?, ?, ?, ?) \
                 RETURNING id",
                &[
                    case_id.into(),
                    now.into(),
                    step.action.as_str().into(),
                    step.outcome.as_str().into(),
                    step.who.clone().into(),
                ],
            )
        })
    }

    /// Add a free-text note; returns the note id.
    pub fn add_note(&mut self, case_id: i64, author: Option<&str>, body: &str) -> Result<i64> {
        self.writable()?;
        let now = now_millis();
        self.transaction(|tx| {
            case_device(tx, case_id)?;
            tx.insert(
                "INSERT INTO note (case_id, at, author, body) VALUES (?, ?, ?, ?) RETURNING id",
                &[case_id.into(), now.into(), author.into(), body.into()],
            )
        })
    }

    /// Store what `diagnose` recommended; it becomes the case's `verdict`. Returns its id.
    pub fn record_recommendation(&mut self, case_id: i64, rec: &Recommendation) -> Result<i64> {
        self.writable()?;
        let now = now_millis();
        let body = rec.body.to_string();
        self.transaction(|tx| {
            case_device(tx, case_id)?;
            tx.exec(
                "UPDATE cases SET verdict = ? WHERE id = ?",
                &[body.as_str().into(), case_id.into()],
            )?;
            tx.insert(
                "INSERT INTO recommendation (case_id, at, next_action, verdict_cause, body) \
                 VALUES (?, ?, ?, ?, ?) RETURNING id",
                &[
                    case_id.into(),
                    now.into(),
                    rec.next_action.clone().into(),
                    rec.verdict_cause.clone().into(),
                    body.as_str().into(),
                ],
            )
        })
    }

    /// Close a case with its confirmed cause (a cause id of design.md §3; the caller validates
    /// it against the knowledge base). Closing a closed case is an error.
    pub fn close_case(&mut self, case_id: i64, cause: &str) -> Result<()> {
        self.writable()?;
        let now = now_millis();
        self.transaction(|tx| {
            let rows = tx.query(
                "SELECT closed_at FROM cases WHERE id = ?",
                &[case_id.into()],
            )?;
            let row = rows.first().ok_or(StoreError::NoSuchCase(case_id))?;
            if row[0] != Value::Null {
                return Err(StoreError::AlreadyClosed(case_id));
            }
            tx.exec(
                "UPDATE cases SET closed_at = ?, closed_cause = ? WHERE id = ?",
                &[now.into(), cause.into(), case_id.into()],
            )?;
            Ok(())
        })
    }

    /// A whole case: device, attempts, steps, notes, verdict.
    pub fn case(&mut self, case_id: i64) -> Result<Case> {
        self.transaction(|tx| {
            let rows = tx.query(
                &format!("SELECT {CASE_COLUMNS} FROM cases c JOIN device d ON d.id = c.device_id WHERE c.id = ?"),
                &[case_id.into()],
            )?;
            let row = rows.first().ok_or(StoreError::NoSuchCase(case_id))?;
            let (head, device) = case_head(row);
            let attempts = load_attempts(tx, case_id)?;
            let steps = tx
                .query(
                    "SELECT id, at, action, outcome, who FROM step WHERE case_id = ? ORDER BY at, id",
                    &[case_id.into()],
                )?
                .iter()
                .map(|r| Step {
                    id: r[0].int().unwrap_or(0),
                    at: r[1].int().unwrap_or(0),
                    action: r[2].text().unwrap_or_default(),
                    outcome: r[3]
                        .text()
                        .and_then(|s| StepOutcome::parse(&s))
                        .unwrap_or(StepOutcome::Skipped),
                    who: r[4].text(),
                })
                .collect();
            let notes = tx
                .query(
                    "SELECT id, at, author, body FROM note WHERE case_id = ? ORDER BY at, id",
                    &[case_id.into()],
                )?
                .iter()
                .map(|r| Note {
                    id: r[0].int().unwrap_or(0),
                    at: r[1].int().unwrap_or(0),
                    author: r[2].text(),
                    body: r[3].text().unwrap_or_default(),
                })
                .collect();
            Ok(Case {
                id: head.id,
                device,
                ticket: head.ticket,
                customer: head.customer,
                error_code: head.error_code,
                opened_at: head.opened_at,
                closed_at: head.closed_at,
                closed_cause: head.closed_cause,
                verdict: head.verdict,
                attempts,
                steps,
                notes,
            })
        })
    }

    /// The evidence of a case for the diagnosis engine.
    pub fn case_history(&mut self, case_id: i64) -> Result<CaseHistory> {
        let case = self.case(case_id)?;
        Ok(CaseHistory {
            case_id: case.id,
            device_product_type: case.device.product_type.clone(),
            device_label: case.device.label.clone(),
            error_code: case.error_code,
            attempts: case
                .attempts
                .into_iter()
                .filter(|a| !a.interrupted)
                .collect(),
            steps: case.steps,
            closed_cause: case.closed_cause,
        })
    }

    /// Cases, newest first; `open_only` keeps the cases not closed yet.
    pub fn list_cases(&mut self, open_only: bool) -> Result<Vec<CaseSummary>> {
        self.transaction(|tx| {
            let filter = if open_only {
                "WHERE c.closed_at IS NULL"
            } else {
                ""
            };
            let rows = tx.query(
                &format!(
                    "SELECT {CASE_COLUMNS}, \
                     (SELECT COUNT(*) FROM attempt a WHERE a.case_id = c.id), \
                     (SELECT COUNT(*) FROM attempt a WHERE a.case_id = c.id AND NOT a.ok \
                     AND NOT a.interrupted) \
                     FROM cases c JOIN device d ON d.id = c.device_id {filter} \
                     ORDER BY c.opened_at DESC, c.id DESC"
                ),
                &[],
            )?;
            Ok(rows
                .iter()
                .map(|r| {
                    let (head, device) = case_head(r);
                    CaseSummary {
                        id: head.id,
                        device,
                        customer: head.customer,
                        error_code: head.error_code,
                        opened_at: head.opened_at,
                        closed_at: head.closed_at,
                        closed_cause: head.closed_cause,
                        attempts: r[CASE_NCOLS].int().unwrap_or(0),
                        failures: r[CASE_NCOLS + 1].int().unwrap_or(0),
                    }
                })
                .collect())
        })
    }

    /// The full log stored with an attempt (`None` when the attempt has no log).
    pub fn attempt_log(&mut self, attempt_id: i64) -> Result<Option<Vec<u8>>> {
        self.transaction(|tx| {
            let rows = tx.query("SELECT log FROM attempt WHERE id = ?", &[attempt_id.into()])?;
            let row = rows.first().ok_or(StoreError::NoSuchAttempt(attempt_id))?;
            Ok(row[0].blob())
        })
    }

    /// What this shop has learned from outcomes: for every (error code, device product type,
    /// confirmed cause), the number of closed cases. The engine adds these counts as
    /// pseudo-counts to the knowledge base's prior for matching cases (see [`ShopPriors`]).
    pub fn shop_prior_counts(&mut self) -> Result<ShopPriors> {
        self.transaction(|tx| {
            let rows = tx.query(
                "SELECT c.error_code, d.product_type, c.closed_cause, COUNT(*) \
                 FROM cases c JOIN device d ON d.id = c.device_id \
                 WHERE c.closed_at IS NOT NULL AND c.closed_cause IS NOT NULL \
                 GROUP BY c.error_code, d.product_type, c.closed_cause \
                 ORDER BY c.error_code, d.product_type, c.closed_cause",
                &[],
            )?;
            Ok(ShopPriors {
                rows: rows
                    .iter()
                    .map(|r| PriorCount {
                        error_code: r[0].int(),
                        product_type: r[1].text(),
                        cause: r[2].text().unwrap_or_default(),
                        cases: r[3].int().unwrap_or(0).max(0) as u64,
                    })
                    .collect(),
            })
        })
    }

    /// Number of attempts stored (all cases).
    pub fn count_attempts(&mut self) -> Result<i64> {
        self.transaction(|tx| {
            Ok(first_int(tx.query("SELECT COUNT(*) FROM attempt", &[])?).unwrap_or(0))
        })
    }

    /// Number of cases that are not simulated (`fleet simulate` marks its cases with the ticket
    /// `simulated`).
    pub fn count_real_cases(&mut self) -> Result<i64> {
        self.transaction(|tx| {
            Ok(first_int(tx.query(
                "SELECT COUNT(*) FROM cases WHERE ticket IS NULL OR ticket <> 'simulated'",
                &[],
            )?)
            .unwrap_or(0))
        })
    }

    /// Run the backend's own consistency check (SQLite `PRAGMA integrity_check` plus
    /// foreign-key check; PostgreSQL: referential checks in SQL). Returns problems found.
    pub fn check_integrity(&mut self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        if let Backend::Sqlite(conn) = &mut *self.backend {
            let mut stmt = conn.prepare("PRAGMA integrity_check")?;
            let rows: Vec<String> = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<std::result::Result<_, _>>()?;
            problems.extend(rows.into_iter().filter(|r| r != "ok"));
            let mut fk = conn.prepare("PRAGMA foreign_key_check")?;
            let n = fk.query_map([], |_| Ok(()))?.count();
            if n > 0 {
                problems.push(format!("{n} rows break foreign keys"));
            }
        }
        let checks = [
            (
                "attempts without their case",
                "SELECT COUNT(*) FROM attempt a LEFT JOIN cases c ON c.id = a.case_id WHERE c.id IS NULL",
            ),
            (
                "attempts without their device",
                "SELECT COUNT(*) FROM attempt a LEFT JOIN device d ON d.id = a.device_id WHERE d.id IS NULL",
            ),
            (
                "attempts without their station",
                "SELECT COUNT(*) FROM attempt a LEFT JOIN station s ON s.id = a.station_id WHERE s.id IS NULL",
            ),
            (
                "attempts with an unknown cable",
                "SELECT COUNT(*) FROM attempt a LEFT JOIN cable k ON k.id = a.cable_id WHERE a.cable_id IS NOT NULL AND k.id IS NULL",
            ),
            (
                "attempts with an unknown port",
                "SELECT COUNT(*) FROM attempt a LEFT JOIN port p ON p.id = a.port_id WHERE a.port_id IS NOT NULL AND p.id IS NULL",
            ),
            (
                "attempts whose log does not match its SHA-256",
                "SELECT COUNT(*) FROM attempt WHERE (log IS NULL) <> (log_sha256 IS NULL)",
            ),
        ];
        for (what, sql) in checks {
            let n = self.transaction(|tx| {
                first_int(tx.query(sql, &[])?)
                    .ok_or_else(|| StoreError::Corrupt("count failed".into()))
            })?;
            if n > 0 {
                problems.push(format!("{n} {what}"));
            }
        }
        Ok(problems)
    }
}

/// Hex SHA-256 of a log.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn first_int(rows: Vec<Vec<Value>>) -> Option<i64> {
    rows.first().and_then(|r| r.first()).and_then(Value::int)
}

fn case_device(tx: &mut dyn Tx, case_id: i64) -> Result<i64> {
    first_int(tx.query(
        "SELECT device_id FROM cases WHERE id = ?",
        &[case_id.into()],
    )?)
    .ok_or(StoreError::NoSuchCase(case_id))
}

/// Find or create a row by unique name in `station` or `cable`.
pub(crate) fn upsert_name(tx: &mut dyn Tx, table: &str, name: &str) -> Result<i64> {
    debug_assert!(table == "station" || table == "cable");
    tx.exec(
        &format!("INSERT INTO {table} (name) VALUES (?) ON CONFLICT (name) DO NOTHING"),
        &[name.into()],
    )?;
    first_int(tx.query(
        &format!("SELECT id FROM {table} WHERE name = ?"),
        &[name.into()],
    )?)
    .ok_or_else(|| StoreError::Corrupt(format!("{table} {name:?} vanished")))
}

pub(crate) fn upsert_port(tx: &mut dyn Tx, station_id: i64, name: &str) -> Result<i64> {
    tx.exec(
        "INSERT INTO port (station_id, name) VALUES (?, ?) ON CONFLICT (station_id, name) DO NOTHING",
        &[station_id.into(), name.into()],
    )?;
    first_int(tx.query(
        "SELECT id FROM port WHERE station_id = ? AND name = ?",
        &[station_id.into(), name.into()],
    )?)
    .ok_or_else(|| StoreError::Corrupt(format!("port {name:?} vanished")))
}

const CASE_COLUMNS: &str = "c.id, c.ticket, c.customer, c.error_code, c.opened_at, c.closed_at, \
     c.closed_cause, c.verdict, d.id, d.label, d.product_type, d.name, d.ecid, d.serial, d.imei";
const CASE_NCOLS: usize = 15;

struct CaseHead {
    id: i64,
    ticket: Option<String>,
    customer: Option<String>,
    error_code: Option<i64>,
    opened_at: i64,
    closed_at: Option<i64>,
    closed_cause: Option<String>,
    verdict: Option<serde_json::Value>,
}

fn case_head(r: &[Value]) -> (CaseHead, Device) {
    (
        CaseHead {
            id: r[0].int().unwrap_or(0),
            ticket: r[1].text(),
            customer: r[2].text(),
            error_code: r[3].int(),
            opened_at: r[4].int().unwrap_or(0),
            closed_at: r[5].int(),
            closed_cause: r[6].text(),
            verdict: r[7].text().and_then(|s| serde_json::from_str(&s).ok()),
        },
        Device {
            id: r[8].int().unwrap_or(0),
            label: r[9].text().unwrap_or_default(),
            product_type: r[10].text(),
            name: r[11].text(),
            ecid: r[12].text(),
            serial: r[13].text(),
            imei: r[14].text(),
        },
    )
}

fn load_attempts(tx: &mut dyn Tx, case_id: i64) -> Result<Vec<Attempt>> {
    let rows = tx.query(
        "SELECT a.id, a.case_id, a.at, s.name, a.host_os, a.app_version, cb.name, p.name, a.hub, \
         a.tool, a.mode, a.kind, a.ok, a.error_code, a.stage, a.operation, a.checkpoint, \
         a.progress, a.log_sha256, a.duration_ms, a.usb_events, a.interrupted \
         FROM attempt a JOIN station s ON s.id = a.station_id \
         LEFT JOIN cable cb ON cb.id = a.cable_id LEFT JOIN port p ON p.id = a.port_id \
         WHERE a.case_id = ? ORDER BY a.at, a.id",
        &[case_id.into()],
    )?;
    rows.iter()
        .map(|r| {
            let id = r[0].int().unwrap_or(0);
            let usb_events = match r[20].text() {
                Some(json) => Some(serde_json::from_str(&json).map_err(|e| {
                    StoreError::Corrupt(format!("attempt {id}: usb_events is not valid: {e}"))
                })?),
                None => None,
            };
            Ok(Attempt {
                id,
                case_id: r[1].int().unwrap_or(0),
                at: r[2].int().unwrap_or(0),
                computer: r[3].text().unwrap_or_default(),
                host_os: r[4].text(),
                app_version: r[5].text(),
                cable: r[6].text(),
                port: r[7].text(),
                hub: r[8].bool(),
                tool: r[9].text(),
                mode: r[10].text(),
                kind: r[11].text().and_then(|k| AttemptKind::parse(&k)),
                ok: r[12].bool(),
                error_code: r[13].int(),
                stage: r[14].text(),
                operation: r[15].int(),
                checkpoint: r[16].text(),
                progress: r[17].int(),
                log_sha256: r[18].text(),
                duration_ms: r[19].int(),
                usb_events,
                interrupted: r[21].bool(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend_and_hide_passwords() {
        assert_eq!(
            Location::resolve(Some("postgres://u:pw@h:5432/db")).unwrap(),
            Location::Postgres("postgres://u:pw@h:5432/db".into())
        );
        assert_eq!(
            Location::resolve(Some("/tmp/x.sqlite3")).unwrap(),
            Location::Sqlite("/tmp/x.sqlite3".into())
        );
        assert_eq!(
            Location::resolve(Some("sqlite:///tmp/y.db")).unwrap(),
            Location::Sqlite("/tmp/y.db".into())
        );
        assert_eq!(
            redact_url_password("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact_url_password("postgres://u@h/db"),
            "postgres://u@h/db"
        );
    }

    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
