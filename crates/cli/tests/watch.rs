//! `restore-doctor watch -- COMMAND`: end to end with fake restore tools (shell scripts in
//! tests/fixtures/restore that print realistic idevicerestore output with pauses), a temporary
//! SQLite case store, and recorded USB sequences replayed instead of hardware.
#![cfg(unix)]

use assert_cmd::Command;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn script(name: &str) -> String {
    fixture(&format!("restore/{name}")).display().to_string()
}

fn watch(db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("restore-doctor").unwrap();
    cmd.env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .env_remove("RESTORE_DOCTOR_USB_REPLAY")
        .env_remove("RESTORE_DOCTOR_DB")
        .args(["watch", "--db"])
        .arg(db);
    cmd
}

fn json_stdout(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn failing_restore_exits_with_its_code_and_is_recorded_with_full_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.db");
    let out = watch(&db)
        .args([
            "--station",
            "bench-3",
            "--cable",
            "C7",
            "--port",
            "left-usb-a",
            "--json",
            "--",
        ])
        .arg(script("fake_idevicerestore_nand_drop.sh"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(255),
        "the child's exit code is passed on"
    );
    let v = json_stdout(&out);
    assert_eq!(v["exit_code"], 255);
    assert_eq!(v["interrupted"], false);
    assert_eq!(v["tool"], "idevicerestore");
    assert_eq!(v["outcome"], "failure");
    assert_eq!(v["failure"]["stage"], "nand");
    assert_eq!(v["failure"]["operation"], 58);
    assert_eq!(v["failure"]["checkpoint"], "0x60E");
    assert_eq!(v["failure"]["disconnect"], true);
    assert_eq!(v["station"], "bench-3");
    // The diagnosis leans to storage / connection for a NAND-stage disconnect.
    let causes = v["diagnosis"]["causes"].as_array().unwrap();
    assert!(!causes.is_empty());
    // The tool's output went to stderr, keeping stdout JSON.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Updating NAND Firmware (58)"), "{err}");

    let case_id = v["case_id"].as_i64().unwrap();
    let attempt_id = v["attempt_id"].as_i64().unwrap();
    let mut store = store::Store::open_sqlite(&db).unwrap();
    let case = store.case(case_id).unwrap();
    assert_eq!(case.device.product_type.as_deref(), Some("iPhone10,1"));
    assert_eq!(case.attempts.len(), 1);
    let a = &case.attempts[0];
    assert_eq!(a.id, attempt_id);
    assert!(!a.ok);
    assert_eq!(a.computer, "bench-3");
    assert_eq!(a.cable.as_deref(), Some("C7"));
    assert_eq!(a.port.as_deref(), Some("left-usb-a"));
    assert_eq!(a.tool.as_deref(), Some("idevicerestore"));
    assert_eq!(a.stage.as_deref(), Some("nand"));
    assert_eq!(a.operation, Some(58));
    // The tool said "This restore will erase all device data": an erase restore, not an update.
    assert_eq!(a.kind, Some(store::AttemptKind::Restore));
    // The full log, byte for byte, including the \r progress-bar redraw.
    let log = store.attempt_log(attempt_id).unwrap().unwrap();
    let log = String::from_utf8(log).unwrap();
    assert!(
        log.starts_with("idevicerestore 1.0.0-262-g0f1e2d3"),
        "{log}"
    );
    assert!(log.contains("]  50.0%\r[====="), "{log}");
    assert!(
        log.ends_with("ERROR: Unable to restore device\n")
            || log.contains("ERROR: Unable to restore device\n")
    );
    // Duration and USB are fields of the attempt; the note keeps only the command and exit.
    assert!(a.duration_ms.is_some_and(|d| d > 0), "{:?}", a.duration_ms);
    assert_eq!(v["duration_ms"].as_i64(), a.duration_ms);
    assert!(!a.interrupted, "a failure, not a stop");
    let note = &case.notes[0].body;
    assert!(note.contains("exited with code 255"), "{note}");
    assert!(!note.contains("USB timeline"), "{note}");
}

#[test]
fn usb_events_are_recorded_beside_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.db");
    let out = watch(&db)
        .env(
            "RESTORE_DOCTOR_USB_REPLAY",
            fixture("usb/iphone8_restore_drop_two_devices.jsonl"),
        )
        .env("RESTORE_DOCTOR_USB_REPLAY_SPEED", "2000")
        .env("FAKE_RESTORE_PAUSE", "0.3")
        .args(["--json", "--"])
        .arg(script("fake_idevicerestore_nand_drop.sh"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    let v = json_stdout(&out);
    assert_eq!(v["usb_watched"], true);
    let events = v["usb_events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"present"), "{kinds:?}");
    let back = events
        .iter()
        .find(|e| e["kind"] == "came_back_after_drop")
        .unwrap_or_else(|| panic!("no drop callout in {kinds:?}"));
    assert_eq!(back["mode"], "dfu");
    assert_eq!(back["product_type"], "iPhone10,1");
    assert_eq!(back["ecid"], "****E32A", "ECID redacted by default");
    // The other phone on the bench (ECID ...0226) is not part of this attempt.
    assert!(
        events.iter().all(|e| e["ecid"] != "****0226"),
        "{events:#?}"
    );
    assert!(
        back["text"]
            .as_str()
            .unwrap()
            .contains("came back in DFU mode at 14:02:19")
    );
    let mut store = store::Store::open_sqlite(&db).unwrap();
    let case = store.case(v["case_id"].as_i64().unwrap()).unwrap();
    let a = &case.attempts[0];
    assert!(a.duration_ms.is_some_and(|d| d > 0));
    assert!(!a.interrupted);
    let usb = a.usb_events.as_ref().expect("USB was watched");
    assert_eq!(usb.len(), events.len(), "every event shown is recorded");
    let drop = usb
        .iter()
        .find(|e| e.kind == "came_back_after_drop")
        .unwrap_or_else(|| panic!("no drop event stored: {usb:#?}"));
    assert!(drop.alarm);
    assert_eq!(drop.mode.as_deref(), Some("dfu"));
    assert_eq!(drop.product_type.as_deref(), Some("iPhone10,1"));
    assert!(drop.at.starts_with("2026-11-21T14:02:19"), "{}", drop.at);
    assert!(
        drop.text.contains("this is what errors 4013/4014 report"),
        "{}",
        drop.text
    );
    // The store keeps the ECID raw, like the device's; every output redacts it.
    assert_eq!(drop.ecid.as_deref(), Some("00050011E9E5E32A"));
    assert!(
        usb.iter()
            .all(|e| e.ecid.as_deref() != Some("000264D410FB0226")),
        "the other phone on the bench is not stored: {usb:#?}"
    );
    let note = &case.notes[0].body;
    assert!(
        !note.contains("USB timeline"),
        "the timeline is a field now: {note}"
    );
    assert!(!note.contains("00050011E9E5E32A"), "ECID leaked: {note}");

    // `cases show` / `export`: the duration and the timeline, ECID redacted unless --show-ids.
    let cases = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("restore-doctor")
            .unwrap()
            .env("NO_COLOR", "1")
            .env_remove("RESTORE_DOCTOR_DB")
            .args(["cases", "--db"])
            .arg(&db)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let id = case.id.to_string();
    let human = cases(&["show", &id]);
    assert!(human.contains("took "), "{human}");
    assert!(human.contains("14:02:19 back in DFU"), "{human}");
    let shown: Value = serde_json::from_str(&cases(&["show", &id, "--json"])).unwrap();
    let att = &shown["attempts"][0];
    assert_eq!(att["duration_ms"].as_i64(), a.duration_ms);
    assert_eq!(att["interrupted"], false);
    let stored_drop = att["usb_events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "came_back_after_drop")
        .unwrap();
    assert_eq!(stored_drop["ecid"], "****E32A");
    assert!(!shown.to_string().contains("00050011E9E5E32A"));
    let with_ids = cases(&["show", &id, "--json", "--show-ids"]);
    assert!(with_ids.contains("00050011E9E5E32A"));
    let md = cases(&["export", &id, "--format", "md"]);
    assert!(md.contains("USB during the attempts (UTC):"), "{md}");
    assert!(md.contains("this is what errors 4013/4014 report"), "{md}");
    assert!(!md.contains("00050011E9E5E32A"), "{md}");
    let exported: Value =
        serde_json::from_str(&cases(&["export", &id, "--format", "json"])).unwrap();
    assert_eq!(exported["attempts"][0]["usb_events"], att["usb_events"]);
}

#[test]
fn a_tool_killed_mid_way_is_recorded_as_partial() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.db");
    let out = watch(&db)
        .args(["--station", "bench-1", "--no-usb", "--"])
        .arg(script("fake_restore_killed.sh"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(137), "128 + SIGKILL");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("was killed (signal 9) before it printed a verdict"),
        "{text}"
    );
    assert!(!text.contains("never printed"));
    let mut store = store::Store::open_sqlite(&db).unwrap();
    let case = store.case(1).unwrap();
    let a = &case.attempts[0];
    assert!(!a.ok);
    assert_eq!(a.progress, Some(34), "last progress seen");
    assert!(a.interrupted, "killed, not failed by the device");
    assert!(a.duration_ms.is_some_and(|d| d > 0));
    assert_eq!(a.usb_events, None, "USB was not watched (--no-usb)");
    let log = String::from_utf8(store.attempt_log(a.id).unwrap().unwrap()).unwrap();
    assert!(log.contains("Sending filesystem now..."));
    assert!(case.notes[0].body.contains("(signal 9)"));
    assert!(
        text.contains("recorded as interrupted"),
        "the summary says it is not counted: {text}"
    );
    // Not a failure of the device: neither in the case list nor in the evidence.
    assert_eq!(store.list_cases(false).unwrap()[0].failures, 0);
    assert!(store.case_history(1).unwrap().attempts.is_empty());
}

#[test]
fn ctrl_c_is_forwarded_and_the_partial_attempt_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.db");
    let bin = assert_cmd::cargo::cargo_bin("restore-doctor");
    let mut child = std::process::Command::new(bin)
        .env("NO_COLOR", "1")
        .env_remove("RESTORE_DOCTOR_USB_REPLAY")
        .args(["watch", "--json", "--db"])
        .arg(&db)
        .arg("--")
        .arg(script("fake_restore_hangs.sh"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // With --json the tool's output goes to stderr: wait for the script to be running.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "script never got ready"
        );
        if line.trim() == "READY" {
            break;
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "the child's code after its SIGINT trap"
    );
    assert!(
        rest.contains("Cleaning up..."),
        "the child saw the Ctrl-C: {rest}"
    );
    let v = json_stdout(&out);
    assert_eq!(v["interrupted"], true);
    assert_eq!(
        v["diagnosis"],
        Value::Null,
        "a stopped attempt is not diagnosed"
    );
    let mut store = store::Store::open_sqlite(&db).unwrap();
    let case = store.case(v["case_id"].as_i64().unwrap()).unwrap();
    assert_eq!(case.attempts.len(), 1);
    assert!(case.attempts[0].interrupted, "recorded as interrupted");
    assert!(case.attempts[0].duration_ms.is_some_and(|d| d > 0));
    assert_eq!(v["ctrl_c"], true);
    assert!(case.notes[0].body.contains("interrupted with Ctrl-C"));
    let log = String::from_utf8(store.attempt_log(case.attempts[0].id).unwrap().unwrap()).unwrap();
    assert!(log.contains("Sending filesystem now...") && log.contains("Cleaning up..."));
}

#[test]
fn a_successful_restore_exits_0_and_adds_to_an_existing_case() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.db");
    let first = watch(&db)
        .args(["--json", "--"])
        .arg(script("fake_restore_killed.sh"))
        .output()
        .unwrap();
    let case_id = json_stdout(&first)["case_id"].as_i64().unwrap();
    let out = watch(&db)
        .args(["--case", &case_id.to_string(), "--json", "--"])
        .arg(script("fake_restore_success.sh"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_stdout(&out);
    assert_eq!(v["outcome"], "success");
    assert_eq!(v["case_id"], case_id);
    let mut store = store::Store::open_sqlite(&db).unwrap();
    let case = store.case(case_id).unwrap();
    assert_eq!(case.attempts.len(), 2);
    assert!(case.attempts[1].ok);
    assert_eq!(case.attempts[1].progress, Some(100));
}

#[test]
fn bad_input_is_exit_2_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.db");
    // No command after `--`.
    watch(&db).assert().code(2);
    // A program that does not exist.
    watch(&db)
        .args(["--", "/nonexistent/idevicerestore", "-e"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "cannot run `/nonexistent/idevicerestore`",
        ));
    // A case that does not exist: the tool must not run.
    let marker = dir.path().join("ran");
    watch(&db)
        .args(["--case", "99", "--", "touch"])
        .arg(&marker)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--case 99"));
    assert!(!marker.exists(), "the tool ran despite a bad --case");
}

#[test]
fn no_record_leaves_the_store_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.db");
    let out = watch(&db)
        .args(["--no-record", "--json", "--"])
        .arg(script("fake_restore_success.sh"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_stdout(&out);
    assert_eq!(v["case_id"], Value::Null);
    assert!(!db.exists());
}

#[test]
fn a_question_without_line_end_is_shown_before_the_answer_is_given() {
    let bin = assert_cmd::cargo::cargo_bin("restore-doctor");
    let mut child = std::process::Command::new(bin)
        .env("NO_COLOR", "1")
        .env_remove("RESTORE_DOCTOR_USB_REPLAY")
        .args(["watch", "--no-record", "--no-usb", "--"])
        .arg(script("fake_restore_asks.sh"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A watchdog so a prompt that is never shown fails the test instead of hanging it.
    let pid = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watchdog_done = done.clone();
    std::thread::spawn(move || {
        for _ in 0..300 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            if watchdog_done.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
        }
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("(YES/NO) ") {
        let n = std::io::Read::read(&mut stdout, &mut buf).unwrap();
        assert!(
            n > 0,
            "the question never appeared: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"YES\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("DONE"), "{rest}");
    assert!(rest.contains("The restore tool finished"), "{rest}");
}
