//! End-to-end tests of `restore-doctor cases`: the JSON contract (design.md §8), redaction,
//! bad input, and what must survive real processes: kill -9 in the middle of writes, and several
//! processes writing one database at once (SQLite, and PostgreSQL when
//! `RESTORE_DOCTOR_TEST_PG` names a server; see `scripts/pg-test-server.sh`).

use assert_cmd::Command;
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("restore-doctor")
}

fn rd(db: &str) -> Command {
    let mut c = Command::new(bin());
    // Through the environment variable here; `json`/`run_json` pass `--db`.
    c.env("RESTORE_DOCTOR_DB", db).env("NO_COLOR", "1");
    c
}

fn json(db: &str, args: &[&str]) -> Value {
    let out = rd("")
        .env_remove("RESTORE_DOCTOR_DB")
        .args(args)
        .args(["--db", db, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn temp_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.sqlite3").display().to_string();
    (dir, db)
}

/// A fresh schema on the PostgreSQL test server, or None (loudly) when there is none; under CI
/// a missing server is a failure.
fn pg_url(test: &str) -> Option<String> {
    let Ok(base) = std::env::var("RESTORE_DOCTOR_TEST_PG") else {
        if std::env::var_os("CI").is_some() {
            panic!("RESTORE_DOCTOR_TEST_PG must be set in CI (scripts/pg-test-server.sh start)");
        }
        eprintln!("WARNING: PostgreSQL tests skipped: RESTORE_DOCTOR_TEST_PG not set ({test})");
        return None;
    };
    let schema = format!("cli_{test}_{}", std::process::id());
    let mut c = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))
    .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-csearch_path%3D{schema}"))
}

/// Replace RFC 3339 timestamps so human output can be snapshotted.
fn mask_times(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let is_time = i + 20 <= b.len()
            && b[i..i + 4].iter().all(u8::is_ascii_digit)
            && b[i + 4] == b'-'
            && b[i + 10] == b'T'
            && b[i + 19] == b'Z';
        if is_time {
            out.push_str("<time>");
            i += 20;
        } else {
            let ch = s[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[test]
fn a_case_from_open_to_close_through_the_cli() {
    let (dir, db) = temp_db();
    let created = json(
        &db,
        &[
            "cases",
            "new",
            "--device",
            "iPhone X",
            "--error",
            "4013",
            "--customer",
            "Ada",
            "--ecid",
            "000A1B2C3D4E5F60",
            "--serial",
            "F2LXK0ABCDEF",
        ],
    );
    let id = created["id"].as_i64().unwrap();
    let log = dir.path().join("restore.log");
    std::fs::write(&log, "ERROR: Unable to restore device\n").unwrap();
    let a = json(
        &db,
        &[
            "cases",
            "attempt",
            "--case",
            &id.to_string(),
            "--computer",
            "bench-1",
            "--cable",
            "C1",
            "--port",
            "left",
            "--hub",
            "--tool",
            "idevicerestore",
            "--kind",
            "restore",
            "--result",
            "4013",
            "--stage",
            "nand",
            "--progress",
            "40",
            "--log",
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(
        a["log_sha256"],
        store::sha256_hex(b"ERROR: Unable to restore device\n")
    );
    json(
        &db,
        &[
            "cases",
            "attempt",
            "--case",
            &id.to_string(),
            "--computer",
            "bench-2",
            "--cable",
            "C2",
            "--result",
            "4013",
            "--stage",
            "nand",
        ],
    );
    // The stored log comes back byte for byte.
    let stored = rd(&db)
        .args(["cases", "log", "--attempt", &a["id"].to_string()])
        .output()
        .unwrap();
    assert_eq!(stored.stdout, b"ERROR: Unable to restore device\n");
    json(
        &db,
        &[
            "cases",
            "step",
            "--case",
            &id.to_string(),
            "--action",
            "swap_cable",
            "--outcome",
            "failed",
        ],
    );

    let show = json(&db, &["cases", "show", &id.to_string()]);
    for field in [
        "id",
        "device",
        "attempts",
        "steps",
        "verdict",
        "closed_cause",
    ] {
        assert!(
            show.get(field).is_some(),
            "cases show lacks {field}: {show}"
        );
    }
    assert_eq!(show["device"]["product_type"], "iPhone10,3");
    assert_eq!(
        show["device"]["ecid"], "****5F60",
        "ECID is redacted by default"
    );
    assert_eq!(show["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(show["attempts"][0]["result"], 4013);
    assert_eq!(show["attempts"][0]["hub"], true);
    assert_eq!(show["steps"][0]["action"], "swap_cable");
    assert_eq!(show["steps"][0]["outcome"], "failed");
    assert!(show["verdict"].is_null() && show["closed_cause"].is_null());
    let full = json(&db, &["cases", "show", &id.to_string(), "--show-ids"]);
    assert_eq!(full["device"]["ecid"], "000A1B2C3D4E5F60");

    let list = json(&db, &["cases", "list", "--open"]);
    assert_eq!(list["cases"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains("000A1B2C3D4E5F60"));

    // A cause that is not a cause id is refused, naming it.
    rd(&db)
        .args(["cases", "close", &id.to_string(), "--cause", "gremlins"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("gremlins"));
    json(&db, &["cases", "close", &id.to_string(), "--cause", "nand"]);
    assert_eq!(
        json(&db, &["cases", "list", "--open"])["cases"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        json(&db, &["cases", "show", &id.to_string()])["closed_cause"],
        "nand"
    );

    let md = rd(&db)
        .args(["cases", "export", &id.to_string(), "--format", "md"])
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(
        !md.contains("000A1B2C3D4E5F60") && !md.contains("F2LXK0ABCDEF"),
        "{md}"
    );
    insta::assert_snapshot!("cases_export_md", mask_times(&md));
    let md_ids = rd(&db)
        .args(["cases", "export", &id.to_string(), "--show-ids"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&md_ids.stdout).contains("000A1B2C3D4E5F60"));
}

#[test]
fn bad_input_is_named_and_exits_2() {
    let (dir, db) = temp_db();
    let id = json(&db, &["cases", "new", "--device", "iPhone 8"])["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "cases",
                "attempt",
                "--case",
                "999",
                "--computer",
                "b",
                "--result",
                "ok",
            ],
            "no case with id 999",
        ),
        (
            &[
                "cases",
                "attempt",
                "--case",
                &id,
                "--computer",
                "b",
                "--result",
                "banana",
            ],
            "--result `banana`",
        ),
        (
            &[
                "cases",
                "attempt",
                "--case",
                &id,
                "--computer",
                "b",
                "--result",
                "9",
                "--stage",
                "moon",
            ],
            "--stage `moon`",
        ),
        (
            &[
                "cases",
                "attempt",
                "--case",
                &id,
                "--computer",
                "b",
                "--result",
                "9",
                "--progress",
                "140",
            ],
            "--progress 140",
        ),
        (&["cases", "new", "--device", "Nokia 3310"], "Nokia 3310"),
        (
            &[
                "cases",
                "step",
                "--case",
                &id,
                "--action",
                "pray",
                "--outcome",
                "failed",
            ],
            "--action `pray`",
        ),
        (
            &["cases", "log", "--attempt", "77"],
            "no attempt with id 77",
        ),
        (&["cases", "show", "4242"], "no case with id 4242"),
    ];
    for (args, needle) in cases {
        rd(&db)
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(*needle));
    }
    let missing = dir.path().join("nope.log");
    rd(&db)
        .args([
            "cases",
            "attempt",
            "--case",
            &id,
            "--computer",
            "b",
            "--result",
            "9",
            "--log",
        ])
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nope.log"));
    // Nothing half-written by the refused commands.
    assert_eq!(
        json(&db, &["cases", "show", &id])["attempts"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

/// What `watch` records (duration, USB timeline, interrupted) as `cases show`, `show --json` and
/// `export` print it; the ECID inside the USB events is redacted unless `--show-ids`.
#[test]
fn duration_usb_timeline_and_interrupted_attempts_are_shown() {
    let (_dir, db) = temp_db();
    let mut s = store::Store::open_sqlite(std::path::Path::new(&db)).unwrap();
    let id = s
        .create_case(&store::NewCase {
            device: store::NewDevice {
                label: "iPhone 8".into(),
                product_type: Some("iPhone10,1".into()),
                name: Some("iPhone 8".into()),
                ..Default::default()
            },
            error_code: Some(4013),
            ..Default::default()
        })
        .unwrap();
    let ecid = "00050011E9E5E32A";
    let event = |at: &str, kind: &str, mode: &str, text: &str| store::UsbEventRecord {
        at: at.into(),
        kind: kind.into(),
        mode: Some(mode.into()),
        text: text.into(),
        product_type: Some("iPhone10,1".into()),
        ecid: Some(ecid.into()),
        alarm: kind != "present",
    };
    s.add_attempt(
        id,
        &store::NewAttempt {
            at: Some(1_795_269_600_000),
            cable: Some("C7".into()),
            tool: Some("idevicerestore".into()),
            stage: Some("nand".into()),
            progress: Some(34),
            duration_ms: Some(252_000),
            usb_events: Some(vec![
                event(
                    "2026-11-21T14:02:11.250Z",
                    "dropped_mid_restore",
                    "restore",
                    "The iPhone dropped off USB at 14:02:11 during the restore (34%), before the restore finished",
                ),
                event(
                    "2026-11-21T14:02:19.000Z",
                    "came_back_after_drop",
                    "dfu",
                    &format!("iPhone 8 (ECID {ecid}) came back in DFU mode at 14:02:19"),
                ),
            ]),
            ..store::NewAttempt::new("bench-3", store::AttemptResult::Error(4013))
        },
    )
    .unwrap();
    s.add_attempt(
        id,
        &store::NewAttempt {
            at: Some(1_795_269_900_000),
            cable: Some("C8".into()),
            duration_ms: Some(12_400),
            usb_events: Some(Vec::new()),
            interrupted: true,
            ..store::NewAttempt::new("bench-3", store::AttemptResult::Failed)
        },
    )
    .unwrap();
    drop(s);
    let human = rd(&db)
        .args(["cases", "show", &id.to_string()])
        .output()
        .unwrap();
    let human = String::from_utf8(human.stdout).unwrap();
    // Long lines are wrapped to the width (80 off a terminal): compare the words.
    let words = human.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "took 4 min 12 s; USB (UTC): 14:02:11 dropped off in restore mode, 14:02:19 back in DFU"
        ),
        "{human}"
    );
    assert!(human.contains("interrupted"), "{human}");
    insta::assert_snapshot!("cases_show_watch_fields", mask_times(&human));

    let v = json(&db, &["cases", "show", &id.to_string()]);
    let a = &v["attempts"][0];
    assert_eq!(a["duration_ms"], 252_000);
    assert_eq!(a["duration"], "4 min 12 s");
    assert_eq!(a["interrupted"], false);
    assert_eq!(a["usb_events"][1]["kind"], "came_back_after_drop");
    assert_eq!(a["usb_events"][1]["ecid"], "****E32A");
    assert!(
        a["usb_events"][1]["text"]
            .as_str()
            .unwrap()
            .contains("(ECID ****E32A)")
    );
    assert!(!v.to_string().contains(ecid), "{v}");
    assert_eq!(v["attempts"][1]["interrupted"], true);
    assert_eq!(v["attempts"][1]["usb_events"], serde_json::json!([]));
    let with_ids = json(&db, &["cases", "show", &id.to_string(), "--show-ids"]);
    assert_eq!(with_ids["attempts"][0]["usb_events"][1]["ecid"], ecid);
    // The interrupted attempt is kept but is not a failure.
    let list = json(&db, &["cases", "list"]);
    assert_eq!(list["cases"][0]["attempts"], 2);
    assert_eq!(list["cases"][0]["failures"], 1);

    let md = rd(&db)
        .args(["cases", "export", &id.to_string(), "--format", "md"])
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(!md.contains(ecid), "{md}");
    insta::assert_snapshot!("cases_export_md_watch_fields", mask_times(&md));
    let md_ids = rd(&db)
        .args(["cases", "export", &id.to_string(), "--show-ids"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&md_ids.stdout).contains(ecid));
}

#[test]
fn a_database_newer_than_the_binary_is_refused_and_left_alone() {
    let (_dir, db) = temp_db();
    json(&db, &["cases", "new", "--device", "iPhone 8"]);
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "INSERT INTO schema_version (version, applied_at) VALUES (999, 0); PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    rd(&db)
        .args(["cases", "list"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("newer than this restore-doctor"));
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

/// kill -9 during a bulk import: the database opens clean, and holds whole batches only.
#[test]
fn kill_9_mid_import_keeps_whole_transactions_only() {
    let (_dir, db) = temp_db();
    let mut child = std::process::Command::new(bin())
        .args([
            "fleet",
            "simulate",
            "--attempts",
            "20000000",
            "--devices",
            "1000",
            "--stations",
            "5",
            "--cables",
            "10",
            "--db",
            &db,
        ])
        .env_remove("RESTORE_DOCTOR_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until at least one batch is committed, then kill it mid-flight.
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(30));
        let n = rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM attempt", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if n > 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "import never committed"
        );
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let mut s = store::Store::open_sqlite(std::path::Path::new(&db)).unwrap();
    assert_eq!(s.check_integrity().unwrap(), Vec::<String>::new());
    let n = s.count_attempts().unwrap() as u64;
    assert!(n > 0 && n < 20_000_000, "{n}");
    assert_eq!(n % store::IMPORT_BATCH, 0, "a partial batch survived: {n}");
    // Still writable.
    let id = s.create_case(&store::NewCase::default()).unwrap();
    s.add_attempt(id, &store::NewAttempt::new("b", store::AttemptResult::Ok))
        .unwrap();
}

/// kill -9 while single attempts (with a large log) are being written: every attempt whose
/// command reported success is there, with its whole log.
#[test]
fn kill_9_during_attempts_keeps_every_committed_attempt() {
    let (dir, db) = temp_db();
    kill_9_during_attempts(&dir, &db);
}

#[test]
fn kill_9_during_attempts_on_postgres_keeps_every_committed_attempt() {
    if let Some(url) = pg_url("kill") {
        let dir = tempfile::tempdir().unwrap();
        kill_9_during_attempts(&dir, &url);
    }
}

fn kill_9_during_attempts(dir: &tempfile::TempDir, db: &str) {
    let db = db.to_string();
    let case = json(&db, &["cases", "new", "--device", "iPhone 8"])["id"].to_string();
    let log = dir.path().join("big.log");
    let body: Vec<u8> = (0..6_000_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(&log, &body).unwrap();
    let sha = store::sha256_hex(&body);
    let mut committed = Vec::new();
    // Two writers that are not killed: something is always committed, and they tell how long
    // one write takes, so the kills below land before, during and after the commit.
    let t = Instant::now();
    for _ in 0..2 {
        let v = json(
            &db,
            &[
                "cases",
                "attempt",
                "--case",
                &case,
                "--computer",
                "bench",
                "--result",
                "4013",
                "--log",
                log.to_str().unwrap(),
            ],
        );
        committed.push(v["id"].as_i64().unwrap());
    }
    let one = t.elapsed().as_millis() as u64 / 2;
    let mut killed = 0;
    let n = 24u64;
    for i in 0..n {
        let mut child = std::process::Command::new(bin())
            .args([
                "cases",
                "attempt",
                "--case",
                &case,
                "--computer",
                "bench",
                "--result",
                "4013",
                "--json",
                "--db",
                &db,
                "--log",
            ])
            .arg(&log)
            .env_remove("RESTORE_DOCTOR_DB")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(one * 3 * i / (2 * n)));
        let _ = child.kill(); // SIGKILL
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            committed.push(v["id"].as_i64().unwrap());
        } else {
            killed += 1;
        }
    }
    eprintln!("{killed} writers killed, {} committed", committed.len());
    let mut s = store::Store::open(Some(&db)).unwrap();
    assert_eq!(s.check_integrity().unwrap(), Vec::<String>::new());
    let c = s.case(case.parse().unwrap()).unwrap();
    for id in &committed {
        assert!(
            c.attempts.iter().any(|a| a.id == *id),
            "committed attempt {id} is missing"
        );
    }
    for a in &c.attempts {
        assert_eq!(a.log_sha256.as_deref(), Some(sha.as_str()));
        assert_eq!(
            s.attempt_log(a.id).unwrap().as_deref(),
            Some(body.as_slice())
        );
    }
}

/// Two bulk imports and a stream of single attempts, all at once, on one database.
fn concurrent_processes(db: &str) {
    let case = json(db, &["cases", "new", "--device", "iPhone 11"])["id"].to_string();
    std::thread::scope(|scope| {
        for seed in ["1", "2"] {
            scope.spawn(move || {
                json(
                    db,
                    &[
                        "fleet",
                        "simulate",
                        "--attempts",
                        "150000",
                        "--devices",
                        "300",
                        "--stations",
                        "4",
                        "--cables",
                        "8",
                        "--seed",
                        seed,
                        "--force",
                    ],
                );
            });
        }
        for bench in ["bench-a", "bench-b"] {
            let case = case.clone();
            scope.spawn(move || {
                for _ in 0..10 {
                    json(
                        db,
                        &[
                            "cases",
                            "attempt",
                            "--case",
                            &case,
                            "--computer",
                            bench,
                            "--result",
                            "ok",
                        ],
                    );
                }
            });
        }
    });
    let mut s = store::Store::open(Some(db)).unwrap();
    assert_eq!(s.count_attempts().unwrap(), 2 * 150_000 + 20);
    assert_eq!(s.case(case.parse().unwrap()).unwrap().attempts.len(), 20);
    assert_eq!(s.list_cases(false).unwrap().len(), 1 + 2 * 300);
    assert!(s.check_integrity().unwrap().is_empty());
}

#[test]
fn several_processes_writing_one_sqlite_file_lose_no_row() {
    let (_dir, db) = temp_db();
    concurrent_processes(&db);
}

#[test]
fn several_processes_writing_one_postgres_database_lose_no_row() {
    if let Some(url) = pg_url("concurrent") {
        concurrent_processes(&url);
    }
}
