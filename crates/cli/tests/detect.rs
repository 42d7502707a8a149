//! `restore-doctor detect`: end to end through the binary, with recorded USB sequences
//! replayed by the USB backend (RESTORE_DOCTOR_USB_REPLAY) instead of hardware.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/usb")
        .join(name)
}

fn detect(recording: Option<&str>) -> Command {
    let mut cmd = Command::cargo_bin("restore-doctor").unwrap();
    cmd.env("NO_COLOR", "1").env("TZ", "UTC").arg("detect");
    match recording {
        Some(r) => {
            cmd.env("RESTORE_DOCTOR_USB_REPLAY", fixture(r))
                .env("RESTORE_DOCTOR_USB_REPLAY_SPEED", "1000");
        }
        None => {
            cmd.env_remove("RESTORE_DOCTOR_USB_REPLAY");
        }
    }
    cmd
}

fn json_of(cmd: &mut Command) -> Value {
    let out = cmd
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("detect --json prints JSON")
}

#[test]
fn no_apple_device_is_an_empty_list_and_exit_0() {
    let v = json_of(&mut detect(Some("keyboard_only.jsonl")));
    assert_eq!(v["devices"], Value::Array(vec![]));
    detect(Some("keyboard_only.jsonl"))
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "No iPhone, iPad or iPod touch on USB.",
        ));
}

#[test]
fn live_bus_never_fails_without_usb() {
    // Whatever this machine has (a container has no USB at all), detect exits 0 with a list.
    let v = json_of(&mut detect(None));
    assert!(v["devices"].is_array());
    if !std::path::Path::new("/sys/bus/usb/devices").exists() && cfg!(target_os = "linux") {
        assert_eq!(v["devices"].as_array().unwrap().len(), 0);
        assert!(v["note"].as_str().unwrap().contains("no USB subsystem"));
    }
}

#[test]
fn bench_devices_are_identified_with_mode_model_port_and_redacted_ecid() {
    let v = json_of(&mut detect(Some("bench_examples.jsonl")));
    let devices = v["devices"].as_array().unwrap();
    // The keyboard is not listed; four Apple phones are, sorted by bus and port.
    assert_eq!(devices.len(), 4, "{v:#}");

    let dfu = &devices[0];
    assert_eq!(dfu["mode"], "dfu");
    assert_eq!(dfu["product_type"], "iPhone8,1");
    assert_eq!(dfu["name"], "iPhone 6s");
    assert_eq!(dfu["cpid"], "0x8003");
    assert_eq!(dfu["bdid"], "0x04");
    assert_eq!(dfu["ecid"], "****0226");
    assert_eq!(dfu["ecid_redacted"], true);
    assert_eq!(dfu["location"], "bus 1, port 2");
    assert_eq!(dfu["boot_stage"], "securerom_dfu");
    assert_eq!(dfu["speed"], "high");

    let recovery = &devices[1];
    assert_eq!(recovery["mode"], "recovery");
    assert_eq!(recovery["product_type"], "iPhone3,1");
    assert_eq!(recovery["location"], "bus 1, port 3.1");
    assert_eq!(recovery["boot_stage"], "recovery");

    let normal = &devices[2];
    assert_eq!(normal["mode"], "normal");
    assert_eq!(normal["cpid"], "0x8030");
    assert_eq!(normal["family"], "iPhone");
    assert_eq!(normal["udid"], "****6F70");

    // A Recovery device whose serial string is only the manufacturer: listed, not identified.
    let unreadable = &devices[3];
    assert_eq!(unreadable["mode"], "recovery");
    assert_eq!(unreadable["product_type"], Value::Null);
    assert!(
        unreadable["serial_error"]
            .as_str()
            .unwrap()
            .contains("manufacturer string")
    );
}

#[test]
fn show_ids_prints_the_full_ecid() {
    let v = json_of(detect(Some("bench_examples.jsonl")).arg("--show-ids"));
    assert_eq!(v["devices"][0]["ecid"], "000264D410FB0226");
    assert_eq!(v["devices"][0]["ecid_redacted"], false);
    let human = detect(Some("bench_examples.jsonl")).assert().success();
    let text = String::from_utf8(human.get_output().stdout.clone()).unwrap();
    assert!(text.contains("iPhone 6s (iPhone8,1)  DFU mode"), "{text}");
    assert!(text.contains("bus 1, port 3.1"), "{text}");
    assert!(!text.contains("000264D410FB0226"), "ECID leaked: {text}");
    assert!(text.contains("--show-ids"), "{text}");
}

#[test]
fn watch_calls_out_the_drop_mid_restore_in_plain_words() {
    let out = detect(Some("restore_drop_at_34.jsonl"))
        .arg("--watch")
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].contains("iPhone 6s Plus (iPhone8,2) in DFU mode"),
        "{text}"
    );
    // Long notes are wrapped to the width (80 off a terminal): compare the words.
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("14:00:09 ~ The iPhone came back in Recovery Mode after 3.0 s"),
        "{text}"
    );
    assert!(
        words.contains("The restore ramdisk seems to be running (a normal-mode id right after Recovery/DFU): the iPhone came back in restore mode"),
        "{text}"
    );
    assert!(
        words.contains("14:02:19 ! The iPhone dropped off USB at 14:02:11 in restore mode and came back in DFU mode at 14:02:19 (8.0 s later): this is what errors 4013/4014 report"),
        "{text}"
    );
}

#[test]
fn watch_json_is_one_object_per_line() {
    let out = detect(Some("restore_drop_at_34.jsonl"))
        .args(["--watch", "--json"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let notes: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(notes.len(), 7);
    assert_eq!(notes[0]["kind"], "present");
    // The replay clock starts at the recording's base time (replayed 1000x faster).
    assert!(
        notes[0]["at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-21T14:00:0"),
        "{}",
        notes[0]["at"]
    );
    assert_eq!(notes[1]["at"], "2026-11-21T14:00:06.000Z");
    let last = notes.last().unwrap();
    assert_eq!(last["kind"], "came_back_after_drop");
    assert_eq!(last["alarm"], true);
    assert_eq!(last["from"], "restore");
    assert_eq!(last["mode"], "dfu");
    assert_eq!(last["gap_ms"], 8000);
    assert_eq!(last["ecid"], "****B41C");
}

#[test]
fn a_broken_recording_is_bad_input_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.jsonl");
    std::fs::write(&path, "# header\n{\"t\": 0, \"event\": \"attached\"}\n").unwrap();
    Command::cargo_bin("restore-doctor")
        .unwrap()
        .env("RESTORE_DOCTOR_USB_REPLAY", &path)
        .arg("detect")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("line 2"));
}

#[test]
fn permission_denied_points_to_the_udev_rule() {
    let v = json_of(&mut detect(Some("permission_denied.jsonl")));
    assert_eq!(v["devices"][0]["access"], "permission_denied");
    assert_eq!(v["devices"][0]["product_type"], "iPhone9,1");
    let warning = v["warnings"][0].as_str().unwrap();
    assert!(warning.contains("USB access denied"), "{warning}");
    assert!(
        warning.contains("packaging/udev/39-restore-doctor.rules"),
        "{warning}"
    );
    assert!(
        warning.contains("udevadm control --reload-rules"),
        "{warning}"
    );
    detect(Some("permission_denied.jsonl"))
        .assert()
        .success()
        .stdout(predicates::str::contains("warning: USB access denied"));
}

#[test]
fn the_shipped_udev_rule_covers_every_restore_mode_product_id() {
    let rule = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../packaging/udev/39-restore-doctor.rules"),
    )
    .unwrap();
    assert!(rule.contains("ATTR{idVendor}!=\"05ac\""));
    assert!(rule.contains("TAG+=\"uaccess\""));
    for pid in [
        "1222", "1227", "1280", "1281", "1282", "1283", "1338", "1881", "f014",
    ] {
        assert!(rule.contains(pid), "udev rule misses product id {pid}");
    }
    // Normal/restore range 0x1290-0x12af as globs.
    assert!(rule.contains("129[0-9a-f]|12a[0-9a-f]"));
}

#[test]
fn human_listing_snapshot() {
    let out = detect(Some("bench_examples.jsonl")).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    insta::assert_snapshot!("detect_bench_human", text);
}

#[test]
fn human_watch_snapshot() {
    let out = detect(Some("restore_drop_at_34.jsonl"))
        .arg("--watch")
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let text: Vec<&str> = text.lines().collect();
    insta::assert_snapshot!("detect_watch_human", text.join("\n"));
}

#[test]
fn watch_record_writes_a_replayable_recording() {
    let dir = tempfile::tempdir().unwrap();
    let recorded = dir.path().join("bench.jsonl");
    let first = detect(Some("restore_drop_at_34.jsonl"))
        .args(["--watch", "--json", "--record"])
        .arg(&recorded)
        .assert()
        .success();
    let text = std::fs::read_to_string(&recorded).unwrap();
    assert!(text.starts_with("{\"base_ms\": "), "{text}");
    assert_eq!(
        text.lines().count(),
        8,
        "header + present device + 6 events:\n{text}"
    );
    // Replaying the recording tells the same story (times shift with the recording's start).
    let again = detect(None)
        .env("RESTORE_DOCTOR_USB_REPLAY", &recorded)
        .env("RESTORE_DOCTOR_USB_REPLAY_SPEED", "1000")
        .args(["--watch", "--json"])
        .assert()
        .success();
    let kinds = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["kind"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        kinds(&again.get_output().stdout),
        kinds(&first.get_output().stdout)
    );
    // --record needs --watch.
    detect(None)
        .args(["--record"])
        .arg(&recorded)
        .assert()
        .code(2);
}

#[test]
fn no_udev_advice_where_no_usb_bus_is_visible_or_for_root() {
    let out = detect(None).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let no_bus =
        cfg!(target_os = "linux") && !std::path::Path::new("/sys/bus/usb/devices").exists();
    // SAFETY: geteuid(2) has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if no_bus {
        assert!(text.contains("shows no USB bus at all"), "{text}");
    }
    if no_bus || root {
        assert!(!text.contains("udev"), "{text}");
    }
}
