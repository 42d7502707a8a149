//! The two backends behind one small SQL surface: a dynamic [`Value`], a transaction trait
//! ([`Tx`]) with `exec`/`query`, and the per-backend open + migrate logic. The store's logic
//! (in `lib.rs`) is written once against [`Tx`]; SQL uses `?` placeholders and is rewritten to
//! `$1, $2, ...` for PostgreSQL.

use crate::StoreError;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use std::path::Path;

/// A value bound to or read from a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Blob(Vec<u8>),
    Real(f64),
}

impl Value {
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            Value::Real(r) => Some(*r as i64),
            _ => None,
        }
    }
    pub fn bool(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            _ => false,
        }
    }
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Text(s) => Some(s.clone()),
            Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Value::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }
    pub fn blob(&self) -> Option<Vec<u8>> {
        match self {
            Value::Blob(b) => Some(b.clone()),
            Value::Text(s) => Some(s.clone().into_bytes()),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Real(r) => ToSqlOutput::Borrowed(ValueRef::Real(*r)),
        })
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => {
                if *ty == Type::INT4 {
                    i32::try_from(*i)?.to_sql(ty, out)
                } else {
                    i.to_sql(ty, out)
                }
            }
            Value::Bool(b) => b.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
            Value::Real(r) => r.to_sql(ty, out),
        }
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// One open transaction on either backend.
pub(crate) trait Tx {
    /// Run a statement; returns the number of rows changed.
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Run a query; every row as a vector of values.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StoreError>;
    /// Run an `INSERT ... RETURNING id` and return the id.
    fn insert(&mut self, sql: &str, params: &[Value]) -> Result<i64, StoreError> {
        let rows = self.query(sql, params)?;
        rows.first()
            .and_then(|r| r.first())
            .and_then(Value::int)
            .ok_or_else(|| StoreError::Corrupt(format!("insert returned no id: {sql}")))
    }
}

pub(crate) struct SqliteTx<'a>(pub rusqlite::Transaction<'a>);

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StoreError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let ncol = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut vals = Vec::with_capacity(ncol);
            for i in 0..ncol {
                use rusqlite::types::ValueRef;
                vals.push(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Int(i),
                    ValueRef::Real(r) => Value::Real(r),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(vals);
        }
        Ok(out)
    }
}

pub(crate) struct PgTx<'a>(pub postgres::Transaction<'a>);

/// Rewrite `?` placeholders to `$1, $2, ...` (no `?` appears inside our SQL string literals).
pub(crate) fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

fn pg_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn pg_value(row: &postgres::Row, i: usize) -> Result<Value, StoreError> {
    let ty = row.columns()[i].type_().clone();
    Ok(if ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Int)
    } else if ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into()))
    } else if ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into()))
    } else if ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, Value::Bool)
    } else if ty == Type::BYTEA {
        row.try_get::<_, Option<Vec<u8>>>(i)?
            .map_or(Value::Null, Value::Blob)
    } else if ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)?
            .map_or(Value::Null, Value::Real)
    } else {
        row.try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::Text)
    })
}

impl Tx for PgTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        Ok(self.0.execute(pg_sql(sql).as_str(), &pg_params(params))?)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StoreError> {
        let rows = self.0.query(pg_sql(sql).as_str(), &pg_params(params))?;
        rows.iter()
            .map(|r| (0..r.len()).map(|i| pg_value(r, i)).collect())
            .collect()
    }
}

/// Migrations known to this binary, per backend: (version, SQL).
/// Each runs once, in order, in the same transaction as the version row it writes.
pub(crate) const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../migrations/sqlite/0002_attempt_duration_usb_interrupted.sql"),
    ),
];
pub(crate) const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../migrations/postgres/0002_attempt_duration_usb_interrupted.sql"),
    ),
];

/// The newest schema version this binary knows (the last migration's version).
pub const SCHEMA_VERSION: i64 = 2;

/// Open (creating if needed) a SQLite database file and bring its schema up to date. A file
/// that exists but cannot be written (read-only file, directory or file system) is opened for
/// reading only, without touching it: no journal-mode switch, no migration. Returns the
/// connection and whether it is read-only.
pub(crate) fn open_sqlite(path: &Path) -> Result<(rusqlite::Connection, bool), StoreError> {
    if path.exists() && !writable(path) {
        return open_sqlite_read_only(path).map(|c| (c, true));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let mut conn = rusqlite::Connection::open(path).map_err(|e| open_error(e, path))?;
    conn.busy_timeout(std::time::Duration::from_secs(60))?;
    // Refuse a newer schema before changing anything (not even the journal mode).
    if let Some(found) = sqlite_version(&conn)?.filter(|v| *v > SCHEMA_VERSION) {
        return Err(StoreError::TooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut t = SqliteTx(tx);
        migrate(&mut t, SQLITE_MIGRATIONS)?;
        t.0.commit()?;
    }
    Ok((conn, false))
}

/// The schema version recorded in a SQLite database (`None`: no schema yet).
fn sqlite_version(conn: &rusqlite::Connection) -> Result<Option<i64>, StoreError> {
    let has_version: bool = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has_version {
        return Ok(None);
    }
    Ok(conn.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))?)
}

/// Whether this process can write the file and create files beside it (SQLite's journal, WAL
/// and shared-memory files live in the same directory).
fn writable(path: &Path) -> bool {
    let file_ok = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .is_ok();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    file_ok && dir_writable(dir)
}

#[cfg(unix)]
fn dir_writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: access() reads the NUL-terminated path we own.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

#[cfg(not(unix))]
fn dir_writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}

/// Open an existing database for reading only. A database in WAL mode whose shared-memory file
/// is missing and cannot be created is opened as immutable (nothing may change it meanwhile,
/// which holds for a file nobody can write).
fn open_sqlite_read_only(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    use rusqlite::OpenFlags;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let readable = |conn: &rusqlite::Connection| sqlite_version(conn);
    let conn = match rusqlite::Connection::open_with_flags(path, flags) {
        Ok(c) if readable(&c).is_ok() => c,
        _ => {
            let uri = format!("file:{}?immutable=1", uri_path(path));
            rusqlite::Connection::open_with_flags(uri, flags).map_err(|e| open_error(e, path))?
        }
    };
    conn.busy_timeout(std::time::Duration::from_secs(60))?;
    let found = sqlite_version(&conn)
        .map_err(|e| sqlite_write_error(e, &path.display().to_string()))?
        .unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    if found < SCHEMA_VERSION {
        return Err(StoreError::ReadOnlyNeedsUpgrade {
            path: path.display().to_string(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    Ok(conn)
}

/// A path as the path part of a `file:` URI (`%`, `?`, `#` escaped).
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for ch in path.display().to_string().chars() {
        match ch {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// A SQLite open failure with the path it was about.
fn open_error(e: rusqlite::Error, path: &Path) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// SQLite's "attempt to write a readonly database" (and its variants) as one message with the
/// path; other errors unchanged.
pub(crate) fn sqlite_write_error(e: StoreError, path: &str) -> StoreError {
    if let StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) = &e
        && f.code == rusqlite::ErrorCode::ReadOnly
    {
        return StoreError::ReadOnly { path: path.into() };
    }
    e
}

/// Connect to PostgreSQL and bring the schema up to date.
pub(crate) fn open_postgres(url: &str) -> Result<crate::pg::PgConn, StoreError> {
    let mut conn = crate::pg::PgConn::open(url)?;
    let client = conn.client()?;
    {
        let mut tx = PgTx(client.transaction()?);
        // One migrator at a time across processes.
        tx.0.execute("SELECT pg_advisory_xact_lock(7413001)", &[])?;
        migrate(&mut tx, POSTGRES_MIGRATIONS)?;
        tx.0.commit()?;
    }
    Ok(conn)
}

fn migrate(tx: &mut dyn Tx, migrations: &[(i64, &str)]) -> Result<(), StoreError> {
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL, applied_at BIGINT NOT NULL)",
        &[],
    )?;
    let current = tx
        .query("SELECT MAX(version) FROM schema_version", &[])?
        .first()
        .and_then(|r| r.first())
        .and_then(Value::int)
        .unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    for (version, sql) in migrations.iter().filter(|(v, _)| *v > current) {
        for statement in split_sql(sql) {
            tx.exec(&statement, &[])?;
        }
        tx.exec(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
            &[Value::Int(*version), Value::Int(crate::model::now_millis())],
        )?;
    }
    Ok(())
}

/// Split a migration file into statements (on `;` at line ends, dropping `--` comments).
fn split_sql(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        let line = match line.find("--") {
            Some(i) => &line[..i],
            None => line,
        };
        cur.push_str(line);
        cur.push('\n');
        if line.trim_end().ends_with(';') {
            let s = cur.trim().trim_end_matches(';').trim().to_string();
            if !s.is_empty() {
                out.push(s);
            }
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            pg_sql("INSERT INTO t (a, b) VALUES (?, ?)"),
            "INSERT INTO t (a, b) VALUES ($1, $2)"
        );
    }

    #[test]
    fn migration_files_split_into_statements() {
        for (version, sql) in SQLITE_MIGRATIONS.iter().chain(POSTGRES_MIGRATIONS) {
            let stmts = split_sql(sql);
            let expected = if *version == 1 { 10 } else { 3 };
            assert!(stmts.len() >= expected, "{version}: {stmts:?}");
            assert!(stmts.iter().all(|s| !s.contains(';')));
            assert!(stmts.iter().all(|s| !s.contains("--")), "{stmts:?}");
        }
    }

    #[test]
    fn versions_are_consecutive_and_end_at_schema_version() {
        for list in [SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS] {
            let versions: Vec<i64> = list.iter().map(|(v, _)| *v).collect();
            let expected: Vec<i64> = (1..=SCHEMA_VERSION).collect();
            assert_eq!(versions, expected);
        }
    }
}
