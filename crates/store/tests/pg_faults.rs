//! The store against a PostgreSQL server that fails: crashed and restarted, hung (postmaster
//! stopped with SIGSTOP), a table locked by another session, a database that does not exist.
//! The destructive ones run on a throwaway cluster of their own (`scripts/pg-test-server.sh`
//! with `PG_TEST_DIR`), the others on the server `RESTORE_DOCTOR_TEST_PG` names. Without that
//! variable they say so and skip, except under `CI`, where they fail.
//!
//! Time limits here are liveness bounds (a hang fails the test), not performance figures.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use store::*;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-test-server.sh")
}

fn test_pg(test: &str) -> Option<String> {
    match std::env::var("RESTORE_DOCTOR_TEST_PG") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("RESTORE_DOCTOR_TEST_PG must be set in CI (scripts/test.sh starts a server)")
        }
        Err(_) => {
            eprintln!(
                "WARNING: PostgreSQL fault test skipped: RESTORE_DOCTOR_TEST_PG not set ({test})"
            );
            None
        }
    }
}

/// A PostgreSQL cluster of this test alone, stopped and removed on drop.
struct Cluster {
    dir: PathBuf,
    url: String,
}

impl Cluster {
    fn start(name: &str) -> Option<Cluster> {
        test_pg(name)?;
        let dir = std::env::temp_dir().join(format!("rd-pg-{name}-{}", std::process::id()));
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .env("PG_TEST_DIR", &dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cannot start a throwaway cluster: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Some(Cluster { dir, url })
    }

    fn run(&self, cmd: &str) {
        let out = Command::new("bash")
            .arg(script())
            .arg(cmd)
            .env("PG_TEST_DIR", &self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg-test-server.sh {cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("resume")
            .env("PG_TEST_DIR", &self.dir)
            .output();
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .env("PG_TEST_DIR", &self.dir)
            .output();
    }
}

fn with_params(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

fn case(customer: &str) -> NewCase {
    NewCase {
        device: NewDevice {
            label: "iPhone 8".into(),
            product_type: Some("iPhone10,1".into()),
            ..Default::default()
        },
        error_code: Some(4013),
        customer: Some(customer.into()),
        ticket: None,
    }
}

/// A fresh schema on the shared test server, as a URL with extra `options`.
fn fresh_schema(base: &str, test: &str, options: &str) -> String {
    let schema = format!("f_{test}_{}", std::process::id());
    let mut c = postgres::Client::connect(base, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))
    .unwrap();
    with_params(base, &format!("options=-csearch_path%3D{schema}{options}"))
}

#[test]
fn a_crashed_and_restarted_server_is_reconnected_and_a_stopped_one_times_out() {
    let Some(cluster) = Cluster::start("crash") else {
        return;
    };
    let url = with_params(&cluster.url, "connect_timeout=2");
    let mut s = Store::open_postgres(&url).unwrap();
    let first = s.create_case(&case("before the crash")).unwrap();
    s.add_attempt(
        first,
        &NewAttempt::new("bench-1", AttemptResult::Error(4013)),
    )
    .unwrap();

    // A power cut, then the server comes back: the same Store (as `serve` holds it) works
    // again without being reopened, and everything committed before is there.
    cluster.run("crash");
    let e = s.list_cases(false).err();
    assert!(e.is_some(), "the server is down");
    let msg = e.unwrap().to_string();
    assert!(
        msg.contains("127.0.0.1") && (msg.contains("refused") || msg.contains("lost")),
        "the cause is named: {msg}"
    );
    cluster.run("restart");
    let list = s.list_cases(false).expect("reconnected after the restart");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].attempts, 1);
    let second = s.create_case(&case("after the restart")).unwrap();
    assert!(second > first);

    // A hung server (postmaster stopped): a new connection fails within the connect
    // timeout, saying so, instead of waiting for ever.
    cluster.run("pause");
    let started = Instant::now();
    let e = Store::open_postgres(&url).expect_err("no answer, no store");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "waited {:?}",
        started.elapsed()
    );
    assert!(matches!(e, StoreError::PgTimeout { .. }), "{e}");
    assert!(e.to_string().contains("did not answer"), "{e}");
    cluster.run("resume");
    let mut again = Store::open_postgres(&url).expect("answers again once resumed");
    assert_eq!(again.list_cases(false).unwrap().len(), 2);
}

#[test]
fn a_locked_table_fails_within_the_lock_timeout_and_loses_nothing() {
    let Some(base) = test_pg("locked") else {
        return;
    };
    let url = fresh_schema(&base, "locked", "%20-clock_timeout%3D1s");
    let mut s = Store::open_postgres(&url).unwrap();
    let id = s.create_case(&case("Ada")).unwrap();
    s.add_attempt(id, &NewAttempt::new("bench-1", AttemptResult::Error(4013)))
        .unwrap();

    // Another session locks the cases table and sits on it.
    let mut locker = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut tx = locker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE cases IN ACCESS EXCLUSIVE MODE")
        .unwrap();

    let started = Instant::now();
    let e = s.list_cases(false).expect_err("the table is locked");
    assert!(started.elapsed() < Duration::from_secs(20));
    let msg = e.to_string();
    assert!(msg.contains("lock"), "the cause is named: {msg}");
    assert!(msg.contains("55P03"), "{msg}");
    let e = s
        .add_attempt(id, &NewAttempt::new("bench-2", AttemptResult::Error(9)))
        .expect_err("the write waits on the lock");
    assert!(e.to_string().contains("lock"), "{e}");
    tx.rollback().unwrap();

    // Nothing lost, nothing half-written.
    let c = s.case(id).unwrap();
    assert_eq!(c.attempts.len(), 1);
    assert_eq!(c.attempts[0].computer, "bench-1");
}

#[test]
fn a_missing_database_is_named() {
    let Some(base) = test_pg("missing") else {
        return;
    };
    let mut url = base.clone();
    // Replace the database name (the path after the host) with one that does not exist.
    let path_start = url.find("://").map(|i| i + 3).unwrap();
    let slash = url[path_start..].find('/').map(|i| i + path_start);
    let query = url.find('?').unwrap_or(url.len());
    match slash {
        Some(s) => url.replace_range(s..query, "/no_such_database_here"),
        None => url.insert_str(query, "/no_such_database_here"),
    }
    let e = Store::open_postgres(&url).expect_err("no such database");
    let msg = e.to_string();
    assert!(msg.contains("no_such_database_here"), "{msg}");
    assert!(msg.contains("does not exist"), "{msg}");
    assert!(
        !msg.contains("db error") || msg.contains("does not exist"),
        "{msg}"
    );
}

#[test]
fn a_statement_over_the_statement_timeout_is_cancelled_with_a_clear_message() {
    let Some(base) = test_pg("slow") else {
        return;
    };
    // Lock waits unbounded (lock_timeout 0): only the statement timeout can end this one.
    let url = fresh_schema(
        &base,
        "slow",
        "%20-cstatement_timeout%3D1s%20-clock_timeout%3D0",
    );
    let mut s = Store::open_postgres(&url).unwrap();
    let id = s.create_case(&case("Ada")).unwrap();
    let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut tx = other.transaction().unwrap();
    tx.batch_execute("SELECT * FROM cases FOR UPDATE").unwrap();
    let started = Instant::now();
    let e = s.close_case(id, "usb_cable").err();
    assert!(started.elapsed() < Duration::from_secs(20));
    tx.rollback().unwrap();
    let msg = e.expect("the row is locked").to_string();
    assert!(msg.contains("57014"), "{msg}");
    assert!(msg.contains("statement_timeout"), "{msg}");
    // The case is still open and can be closed now.
    s.close_case(id, "usb_cable").unwrap();
}
