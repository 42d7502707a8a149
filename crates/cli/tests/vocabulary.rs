//! One vocabulary for actions and observations: the flags, the free text, the case history and
//! the API accept the same words, the old spellings staying as aliases; and the `cases`
//! subcommands take the case the same way.

use assert_cmd::Command;
use serde_json::Value;

fn rd() -> Command {
    let mut cmd = Command::cargo_bin("restore-doctor").unwrap();
    cmd.env("NO_COLOR", "1").env_remove("RESTORE_DOCTOR_DB");
    cmd
}

fn json(args: &[&str]) -> Value {
    let out = rd().args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The actions tried, as the response's explanation names them.
fn explained(v: &Value) -> String {
    v["explanation"].to_string()
}

#[test]
fn tried_takes_the_action_ids_and_the_tried_words_alike() {
    for (word, alias) in [
        ("cable_swap", "swap_cable"),
        ("host_software_update", "update_host_software"),
        ("hub_removed", "remove_hub"),
        ("device_port_cleaned", "clean-device-port"),
    ] {
        let base = [
            "diagnose", "--device", "iPhone X", "--error", "4013", "--tried",
        ];
        let a = json(&[&base[..], &[word]].concat());
        let b = json(&[&base[..], &[alias]].concat());
        assert_eq!(a["causes"], b["causes"], "{word} and {alias} differ");
        assert_eq!(explained(&a), explained(&b));
    }
    let out = rd()
        .args([
            "diagnose",
            "--device",
            "iPhone X",
            "--tried",
            "reboot_router",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cable_swap") && err.contains("swap_cable"),
        "{err}"
    );
}

#[test]
fn observed_takes_any_observation_the_free_text_produces() {
    // The free text produces backup_exists=yes for "I have a backup".
    let text = json(&[
        "diagnose",
        "--device",
        "iPhone X",
        "--error",
        "4013",
        "--text",
        "I have a backup on my mac",
    ]);
    assert_eq!(
        text["understood"]["observed"]["backup_exists"], "yes",
        "{text}"
    );
    // The same key is accepted as a flag, with the same effect.
    let flag = json(&[
        "diagnose",
        "--device",
        "iPhone X",
        "--error",
        "4013",
        "--observed",
        "backup_exists=yes",
    ]);
    let no = json(&[
        "diagnose",
        "--device",
        "iPhone X",
        "--error",
        "4013",
        "--observed",
        "backup_exists=no",
    ]);
    // The answer is used: with a backup, erasing steps are no longer held back.
    assert_ne!(flag, no, "backup_exists=yes and =no gave the same answer");
    // A question with its own outcomes.
    json(&[
        "diagnose",
        "--device",
        "iPhone X",
        "--error",
        "4013",
        "--role",
        "technician",
        "--observed",
        "dc_boot_current=short",
    ]);
    // A value outside the question's outcomes is bad input naming them.
    let out = rd()
        .args([
            "diagnose",
            "--device",
            "iPhone X",
            "--observed",
            "backup_exists=maybe",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("backup_exists") && err.contains("yes, no"),
        "{err}"
    );
}

#[test]
fn cases_take_the_same_words_and_the_case_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite3").display().to_string();
    let run = |args: &[&str]| json(&[args, &["--db", &db]].concat());
    assert_eq!(
        run(&["cases", "new", "--device", "iPhone X", "--error", "4013"])["id"],
        1
    );
    // The --tried word and the action id both record the action.
    for word in [
        "cable_swap",
        "swap_cable",
        "update_host_software",
        "host_software_update",
    ] {
        run(&[
            "cases",
            "step",
            "--case",
            "1",
            "--action",
            word,
            "--outcome",
            "failed",
        ]);
    }
    let show = run(&["cases", "show", "1"]);
    let actions: Vec<&str> = show["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "swap_cable",
            "swap_cable",
            "update_host_software",
            "update_host_software"
        ]
    );
    // The positional id and --case, for show, export and close.
    assert_eq!(run(&["cases", "show", "--case", "1"]), show);
    let exported = run(&["cases", "export", "--case", "1", "--format", "json"]);
    assert_eq!(exported, run(&["cases", "export", "1", "--format", "json"]));
    let md = rd()
        .args(["cases", "export", "--case", "1", "--db", &db])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&md.stdout).starts_with("# Case 1"));
    run(&["cases", "close", "--case", "1", "--cause", "usb_cable"]);
    assert_eq!(run(&["cases", "show", "1"])["closed_cause"], "usb_cable");
    // Both at once, or neither, is a usage error.
    for args in [
        vec!["cases", "show", "1", "--case", "1"],
        vec!["cases", "show"],
    ] {
        let out = rd().args(&args).args(["--db", &db]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
