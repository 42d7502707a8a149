//! The store test suite, run against both backends: SQLite (a temporary file) and PostgreSQL
//! (a fresh schema per test on the server named by `RESTORE_DOCTOR_TEST_PG`; see
//! `scripts/pg-test-server.sh`). Without that variable the PostgreSQL half says so loudly and
//! skips, except under `CI`, where it fails.

use store::fleet::{self, FleetOptions};
use store::simulate::{SimConfig, SimWorld};
use store::*;

/// Where a test's database lives; keeps the temp dir alive.
struct TestDb {
    url: String,
    _dir: Option<tempfile::TempDir>,
}

fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("cases.sqlite3").display().to_string();
    TestDb {
        url,
        _dir: Some(dir),
    }
}

/// A fresh schema on the test PostgreSQL server, or `None` (with a loud warning) when none is
/// configured. Panics under `CI` when it is missing.
fn pg_db(test: &str) -> Option<TestDb> {
    let Ok(base) = std::env::var("RESTORE_DOCTOR_TEST_PG") else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "RESTORE_DOCTOR_TEST_PG must be set in CI (start one with scripts/pg-test-server.sh start)"
            );
        }
        eprintln!("WARNING: PostgreSQL tests skipped: RESTORE_DOCTOR_TEST_PG not set ({test})");
        return None;
    };
    let schema = format!(
        "t_{}_{}_{}",
        test,
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut client = postgres::Client::connect(&base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to RESTORE_DOCTOR_TEST_PG={base}: {e}"));
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(TestDb {
        url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
        _dir: None,
    })
}

fn sample_case() -> NewCase {
    NewCase {
        device: NewDevice {
            label: "iPhone X".into(),
            product_type: Some("iPhone10,3".into()),
            name: Some("iPhone X".into()),
            ecid: Some("000A1B2C3D4E5F60".into()),
            serial: Some("F2LXK0ABCDEF".into()),
            imei: Some("356789012345678".into()),
        },
        error_code: Some(4013),
        customer: Some("Ada".into()),
        ticket: None,
    }
}

fn failing_attempt(computer: &str, cable: &str, stage: &str) -> NewAttempt {
    NewAttempt {
        cable: Some(cable.into()),
        port: Some("left".into()),
        tool: Some("idevicerestore".into()),
        kind: Some(AttemptKind::Restore),
        stage: Some(stage.into()),
        progress: Some(40),
        ..NewAttempt::new(computer, AttemptResult::Error(4013))
    }
}

fn case_roundtrip(db: TestDb) {
    let mut s = Store::open(Some(&db.url)).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    let id = s.create_case(&sample_case()).unwrap();
    let log = b"ERROR: Unable to restore device\n\xff\xfe binary tail".to_vec();
    let a1 = s
        .add_attempt(
            id,
            &NewAttempt {
                log: Some(log.clone()),
                at: Some(1_000),
                ..failing_attempt("bench-1", "cable-A", "nand")
            },
        )
        .unwrap();
    s.add_attempt(
        id,
        &NewAttempt {
            at: Some(2_000),
            ..failing_attempt("bench-2", "cable-B", "nand")
        },
    )
    .unwrap();
    s.add_step(
        id,
        &NewStep {
            action: "swap_cable".into(),
            outcome: StepOutcome::Failed,
            who: Some("tech".into()),
        },
    )
    .unwrap();
    s.add_note(id, Some("tech"), "customer says it was dropped")
        .unwrap();
    s.record_recommendation(
        id,
        &Recommendation {
            next_action: None,
            verdict_cause: Some("nand".into()),
            body: serde_json::json!({"verdict": {"cause": "nand"}}),
        },
    )
    .unwrap();

    let case = s.case(id).unwrap();
    assert_eq!(case.device.ecid.as_deref(), Some("000A1B2C3D4E5F60"));
    assert_eq!(case.device.redacted().ecid.as_deref(), Some("****5F60"));
    assert_eq!(case.attempts.len(), 2);
    assert_eq!(case.attempts[0].computer, "bench-1");
    assert_eq!(case.attempts[0].cable.as_deref(), Some("cable-A"));
    assert_eq!(case.attempts[0].port.as_deref(), Some("left"));
    assert_eq!(case.attempts[0].result(), AttemptResult::Error(4013));
    assert_eq!(case.attempts[0].kind, Some(AttemptKind::Restore));
    assert_eq!(case.attempts[0].log_sha256, Some(sha256_hex(&log)));
    assert_eq!(case.attempts[1].log_sha256, None);
    assert_eq!(case.steps[0].outcome, StepOutcome::Failed);
    assert_eq!(case.notes[0].body, "customer says it was dropped");
    assert_eq!(case.verdict.as_ref().unwrap()["verdict"]["cause"], "nand");
    assert_eq!(s.attempt_log(a1).unwrap(), Some(log));

    let h = s.case_history(id).unwrap();
    assert_eq!(h.device_product_type.as_deref(), Some("iPhone10,3"));
    assert_eq!(h.error_code, Some(4013));
    assert_eq!(h.computers(), vec!["bench-1", "bench-2"]);
    assert_eq!(h.cables(), vec!["cable-A", "cable-B"]);
    assert_eq!(h.same_failure_stage(), Some(true));

    let open = s.list_cases(true).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].attempts, open[0].failures), (2, 2));
    s.close_case(id, "nand").unwrap();
    assert!(s.list_cases(true).unwrap().is_empty());
    assert_eq!(s.list_cases(false).unwrap().len(), 1);
    assert!(matches!(
        s.close_case(id, "nand"),
        Err(StoreError::AlreadyClosed(_))
    ));
    assert!(matches!(s.case(id + 999), Err(StoreError::NoSuchCase(_))));
    assert!(matches!(
        s.add_attempt(id + 999, &failing_attempt("x", "y", "z")),
        Err(StoreError::NoSuchCase(_))
    ));
    assert!(s.check_integrity().unwrap().is_empty());
    // Reopening migrates nothing and keeps everything.
    drop(s);
    let mut s = Store::open(Some(&db.url)).unwrap();
    assert_eq!(s.case(id).unwrap().attempts.len(), 2);
}

fn shop_priors(db: TestDb) {
    let mut s = Store::open(Some(&db.url)).unwrap();
    for cause in ["earpiece_faceid_flex", "earpiece_faceid_flex", "usb_cable"] {
        let id = s.create_case(&sample_case()).unwrap();
        s.close_case(id, cause).unwrap();
    }
    s.create_case(&sample_case()).unwrap(); // open: not counted
    let p = s.shop_prior_counts().unwrap();
    assert_eq!(p.total(), 3);
    let m = p.for_code_and_device(Some(4013), Some("iPhone10,3"));
    assert_eq!(m.get("earpiece_faceid_flex"), Some(&2));
    assert_eq!(m.get("usb_cable"), Some(&1));
    assert!(
        p.for_code_and_device(Some(9), Some("iPhone10,3"))
            .is_empty()
    );
    assert_eq!(p.for_codes(&[4013, 4014]).values().sum::<u64>(), 3);
    assert_eq!(p.for_device("iPhone10,3").len(), 2);
}

fn concurrent_writers(db: TestDb) {
    let id = Store::open(Some(&db.url))
        .unwrap()
        .create_case(&sample_case())
        .unwrap();
    let writers = 4;
    let each = 25;
    std::thread::scope(|scope| {
        for w in 0..writers {
            let url = db.url.clone();
            scope.spawn(move || {
                let mut s = Store::open(Some(&url)).unwrap();
                for i in 0..each {
                    // New station/cable names from several writers at once exercise the upserts.
                    s.add_attempt(
                        id,
                        &failing_attempt(
                            &format!("bench-{}", i % 3),
                            &format!("cable-{w}-{}", i % 2),
                            "nand",
                        ),
                    )
                    .unwrap();
                }
            });
        }
    });
    let mut s = Store::open(Some(&db.url)).unwrap();
    assert_eq!(s.case(id).unwrap().attempts.len(), writers * each);
    assert!(s.check_integrity().unwrap().is_empty());
}

fn fleet_finds_planted_faults(db: TestDb) {
    let mut cfg = SimConfig::new(120_000);
    cfg.stations = 12;
    cfg.cables = 48;
    cfg.devices = 3_000;
    cfg.seed = 5;
    let world = SimWorld::new(cfg);
    let mut s = Store::open(Some(&db.url)).unwrap();
    let mut calls = 0;
    let truth = s
        .import_simulation(&world, &mut |done, total| {
            calls += 1;
            assert!(done <= total);
        })
        .unwrap();
    assert!(calls >= 2, "progress is reported per batch");
    assert_eq!(s.count_attempts().unwrap(), 120_000);
    let data = s.fleet_data(&mut |_, _| {}).unwrap();
    assert_eq!(
        data.cells.iter().map(|c| u64::from(c.n)).sum::<u64>(),
        120_000
    );
    let report = fleet::fit(&data, &FleetOptions::default());
    let sc = fleet::score(&report, &truth);
    assert!(
        sc.all.precision >= 0.9 && sc.all.recall >= 0.9,
        "{}",
        serde_json::to_string_pretty(&sc).unwrap()
    );
    assert!(sc.devices.recall >= 0.9 && sc.stations.recall >= 0.9);
    // Every planted faulty device that was flagged gets the "device" verdict.
    for d in report
        .devices
        .iter()
        .filter(|d| truth.devices.contains(&d.id) && d.flagged)
    {
        assert_eq!(d.verdict.as_deref(), Some("device"));
    }
}

fn newer_schema_is_refused(db: TestDb) {
    let mut s = Store::open(Some(&db.url)).unwrap();
    s.create_case(&sample_case()).unwrap();
    drop(s);
    bump_version(&db.url);
    let before = snapshot(&db.url);
    let err = Store::open(Some(&db.url)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::TooNew {
                found: 99,
                known: SCHEMA_VERSION
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("newer than this restore-doctor"),
        "{err}"
    );
    assert_eq!(
        snapshot(&db.url),
        before,
        "the database must be left unchanged"
    );
}

fn bump_version(url: &str) {
    if url.starts_with("postgres") {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        c.batch_execute("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)")
            .unwrap();
    } else {
        let c = rusqlite::Connection::open(url).unwrap();
        c.execute_batch(
            "INSERT INTO schema_version (version, applied_at) VALUES (99, 0); PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .unwrap();
    }
}

/// What a refused open must not change.
fn snapshot(url: &str) -> Vec<u8> {
    if url.starts_with("postgres") {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        let rows = c
            .query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1",
                &[],
            )
            .unwrap();
        let mut out: Vec<u8> = rows
            .iter()
            .flat_map(|r| r.get::<_, String>(0).into_bytes())
            .collect();
        let v: i64 = c
            .query_one("SELECT MAX(version) FROM schema_version", &[])
            .unwrap()
            .get(0);
        out.extend(v.to_le_bytes());
        out
    } else {
        std::fs::read(url).unwrap()
    }
}

fn usb_timeline() -> Vec<UsbEventRecord> {
    vec![
        UsbEventRecord {
            at: "2026-11-21T14:02:11.250Z".into(),
            kind: "dropped_mid_restore".into(),
            mode: Some("restore".into()),
            text: "The iPhone dropped off USB at 14:02:11 during the restore (34%), before the restore finished".into(),
            product_type: Some("iPhone10,1".into()),
            ecid: Some("00050011E9E5E32A".into()),
            alarm: true,
        },
        UsbEventRecord {
            at: "2026-11-21T14:02:19.000Z".into(),
            kind: "came_back_after_drop".into(),
            mode: Some("dfu".into()),
            // An ECID inside the text too, to check redaction covers it.
            text: "ECID 00050011E9E5E32A came back in DFU mode at 14:02:19".into(),
            product_type: Some("iPhone10,1".into()),
            ecid: Some("00050011E9E5E32A".into()),
            alarm: true,
        },
    ]
}

fn watch_fields_roundtrip(db: TestDb) {
    let mut s = Store::open(Some(&db.url)).unwrap();
    let id = s.create_case(&sample_case()).unwrap();
    let watched = s
        .add_attempt(
            id,
            &NewAttempt {
                at: Some(1_000),
                duration_ms: Some(252_000),
                usb_events: Some(usb_timeline()),
                ..failing_attempt("bench-1", "cable-A", "nand")
            },
        )
        .unwrap();
    let stopped = s
        .add_attempt(
            id,
            &NewAttempt {
                at: Some(2_000),
                duration_ms: Some(1_500),
                usb_events: Some(Vec::new()),
                interrupted: true,
                ..NewAttempt::new("bench-1", AttemptResult::Failed)
            },
        )
        .unwrap();
    let by_hand = s
        .add_attempt(
            id,
            &NewAttempt {
                at: Some(3_000),
                ..failing_attempt("bench-2", "cable-B", "nand")
            },
        )
        .unwrap();
    let case = s.case(id).unwrap();
    let ids: Vec<i64> = case.attempts.iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![watched, stopped, by_hand]);
    let (w, st, h) = (&case.attempts[0], &case.attempts[1], &case.attempts[2]);
    assert_eq!(w.duration_ms, Some(252_000));
    assert_eq!(w.usb_events.as_deref(), Some(&usb_timeline()[..]));
    assert!(!w.interrupted && w.is_failure());
    // Stored raw, like the device's ECID.
    assert_eq!(
        w.usb_events.as_ref().unwrap()[0].ecid.as_deref(),
        Some("00050011E9E5E32A")
    );
    let red = w.usb_events.as_ref().unwrap()[1].redacted();
    assert_eq!(red.ecid.as_deref(), Some("****E32A"));
    assert!(!red.text.contains("00050011E9E5E32A"), "{}", red.text);
    assert!(red.text.contains("****E32A"));
    assert_eq!(
        w.usb_summary().as_deref(),
        Some("14:02:11 dropped off in restore mode, 14:02:19 back in DFU")
    );
    assert_eq!(st.duration_ms, Some(1_500));
    assert_eq!(st.usb_events, Some(Vec::new()), "watched, nothing seen");
    assert!(st.interrupted && !st.ok && !st.is_failure());
    assert_eq!(
        (h.duration_ms, h.usb_events.as_ref(), h.interrupted),
        (None, None, false)
    );
    // The interrupted attempt is kept in the case, but is neither a failure nor evidence.
    let listed = s.list_cases(false).unwrap();
    assert_eq!((listed[0].attempts, listed[0].failures), (3, 2));
    let hist = s.case_history(id).unwrap();
    assert_eq!(
        hist.attempts.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![watched, by_hand]
    );
    assert!(s.check_integrity().unwrap().is_empty());
}

fn interrupted_attempts_are_not_fleet_data(db: TestDb) {
    let mut s = Store::open(Some(&db.url)).unwrap();
    let id = s.create_case(&sample_case()).unwrap();
    for i in 0..3 {
        s.add_attempt(
            id,
            &NewAttempt {
                interrupted: true,
                ..failing_attempt("bench-1", "cable-A", "nand")
            },
        )
        .unwrap();
        let ok = if i == 0 {
            AttemptResult::Ok
        } else {
            AttemptResult::Error(4013)
        };
        s.add_attempt(
            id,
            &NewAttempt {
                cable: Some("cable-A".into()),
                ..NewAttempt::new("bench-1", ok)
            },
        )
        .unwrap();
    }
    // Only ever interrupted: this station is known but has no fleet data at all.
    s.add_attempt(
        id,
        &NewAttempt {
            interrupted: true,
            ..failing_attempt("bench-9", "cable-Z", "nand")
        },
    )
    .unwrap();
    assert_eq!(s.count_attempts().unwrap(), 7);
    let data = s.fleet_data(&mut |_, _| {}).unwrap();
    let n: u32 = data.cells.iter().map(|c| c.n).sum();
    let failures: u32 = data.cells.iter().map(|c| c.failures).sum();
    assert_eq!((n, failures), (3, 2), "{:?}", data.cells);
    let bench9 = data.stations.iter().position(|n| n == "bench-9").unwrap() as u32;
    assert!(data.cells.iter().all(|c| c.station != bench9));
    let report = fleet::fit(&data, &FleetOptions::default());
    let b9 = report.stations.iter().find(|r| r.id == "bench-9");
    assert!(b9.is_none_or(|r| r.attempts == 0 && !r.flagged), "{b9:?}");
}

/// A database as the version-1 binary left it: the 0001 schema, version row 1, some rows.
fn build_version_1(url: &str) {
    let schema_version = "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL, applied_at BIGINT NOT NULL);
        INSERT INTO schema_version (version, applied_at) VALUES (1, 1700000000000);";
    let rows = "INSERT INTO device (id, label, product_type, ecid, created_at) VALUES (1, 'iPhone X', 'iPhone10,3', '000A1B2C3D4E5F60', 1000);
        INSERT INTO station (id, name) VALUES (1, 'bench-1');
        INSERT INTO cable (id, name) VALUES (1, 'C7');
        INSERT INTO cases (id, device_id, error_code, opened_at) VALUES (1, 1, 4013, 1000);
        INSERT INTO attempt (id, case_id, device_id, at, station_id, cable_id, tool, ok, error_code, stage, log, log_sha256)
            VALUES (1, 1, 1, 2000, 1, 1, 'idevicerestore', FALSE, 4013, 'nand', NULL, NULL);
        INSERT INTO attempt (id, case_id, device_id, at, station_id, ok) VALUES (2, 1, 1, 3000, 1, TRUE);";
    if url.starts_with("postgres") {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        c.batch_execute(include_str!("../migrations/postgres/0001_init.sql"))
            .unwrap();
        c.batch_execute(schema_version).unwrap();
        c.batch_execute(rows).unwrap();
        // Identity columns as the old binary's inserts would have left them.
        c.batch_execute(
            "SELECT setval(pg_get_serial_sequence('attempt', 'id'), 2);
             SELECT setval(pg_get_serial_sequence('cases', 'id'), 1);
             SELECT setval(pg_get_serial_sequence('device', 'id'), 1);
             SELECT setval(pg_get_serial_sequence('station', 'id'), 1);
             SELECT setval(pg_get_serial_sequence('cable', 'id'), 1);",
        )
        .unwrap();
    } else {
        let c = rusqlite::Connection::open(url).unwrap();
        c.execute_batch(include_str!("../migrations/sqlite/0001_init.sql"))
            .unwrap();
        c.execute_batch(schema_version).unwrap();
        c.execute_batch(&rows.replace("FALSE", "0").replace("TRUE", "1"))
            .unwrap();
    }
}

fn version_1_database_is_upgraded(db: TestDb) {
    build_version_1(&db.url);
    let mut s = Store::open(Some(&db.url)).unwrap();
    assert_eq!(s.schema_version().unwrap(), 2);
    let case = s.case(1).unwrap();
    assert_eq!(case.device.ecid.as_deref(), Some("000A1B2C3D4E5F60"));
    assert_eq!(case.attempts.len(), 2);
    let (a, b) = (&case.attempts[0], &case.attempts[1]);
    assert_eq!(a.computer, "bench-1");
    assert_eq!(a.cable.as_deref(), Some("C7"));
    assert_eq!(a.result(), AttemptResult::Error(4013));
    assert_eq!(a.stage.as_deref(), Some("nand"));
    assert!(b.ok);
    for old in [a, b] {
        assert_eq!(old.duration_ms, None);
        assert_eq!(old.usb_events, None);
        assert!(!old.interrupted);
    }
    // The old rows count as fleet data as before.
    let data = s.fleet_data(&mut |_, _| {}).unwrap();
    assert_eq!(data.cells.iter().map(|c| c.n).sum::<u32>(), 2);
    // New attempts with the new fields go in beside them.
    let id = s
        .add_attempt(
            1,
            &NewAttempt {
                duration_ms: Some(42),
                interrupted: true,
                ..NewAttempt::new("bench-1", AttemptResult::Failed)
            },
        )
        .unwrap();
    assert_eq!(id, 3);
    assert!(s.case(1).unwrap().attempts[2].interrupted);
    assert!(s.check_integrity().unwrap().is_empty());
    // Opening again applies nothing twice.
    drop(s);
    let mut s = Store::open(Some(&db.url)).unwrap();
    assert_eq!(s.schema_version().unwrap(), 2);
    assert_eq!(s.case(1).unwrap().attempts.len(), 3);
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::sqlite_db()); } )*
        }
        mod postgres_backend {
            $( #[test] fn $name() {
                if let Some(db) = super::pg_db(stringify!($name)) { super::$name(db); }
            } )*
        }
    };
}

suite!(
    case_roundtrip,
    shop_priors,
    concurrent_writers,
    fleet_finds_planted_faults,
    newer_schema_is_refused,
    watch_fields_roundtrip,
    interrupted_attempts_are_not_fleet_data,
    version_1_database_is_upgraded,
);
