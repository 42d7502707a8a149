//! End-to-end tests of `restore-doctor diagnose`: the stable `--json` shape, the vocabularies
//! and their errors, free text, restore logs, roles, and the human report.

use assert_cmd::Command;
use serde_json::Value;

fn cmd() -> Command {
    let mut c = Command::cargo_bin("restore-doctor").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn json(args: &[&str]) -> Value {
    let out = cmd()
        .arg("diagnose")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The human report of `diagnose ARGS` (NO_COLOR), which must succeed.
fn human(args: &[&str]) -> String {
    let out = cmd().arg("diagnose").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn causes(v: &Value) -> Vec<(String, f64)> {
    v["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["probability"].as_f64().unwrap(),
            )
        })
        .collect()
}

const NAND_LOG: &str =
    "../logs/tests/fixtures/idevicerestore_2024_nand_firmware_op58_disconnect_iphone11_2.log";

#[test]
fn json_has_the_stable_shape() {
    let v = json(&["--device", "iPhone X", "--error", "4013"]);
    assert_eq!(v["device"]["name"], "iPhone X");
    assert_eq!(v["device"]["product_type"], "iPhone10,3");
    assert_eq!(v["error_code"], 4013);
    let c = causes(&v);
    let sum: f64 = c.iter().map(|x| x.1).sum();
    assert!((sum - 1.0).abs() < 1e-9, "causes sum to {sum}");
    assert!(c.windows(2).all(|w| w[0].1 >= w[1].1), "sorted");
    // Every cause an iPhone X can have: all 19 but the iPhone 7 audio chip.
    assert_eq!(c.len(), 18, "{c:?}");
    assert!(!c.iter().any(|x| x.0 == "audio_ic"));
    for cause in v["causes"].as_array().unwrap() {
        assert!(
            ["connection", "host", "software", "hardware"]
                .contains(&cause["group"].as_str().unwrap())
        );
    }
    let groups = v["groups"].as_object().unwrap();
    assert_eq!(groups.len(), 4);
    let gsum: f64 = groups.values().map(|x| x.as_f64().unwrap()).sum();
    assert!((gsum - 1.0).abs() < 1e-9);
    let next = &v["next_step"];
    for key in [
        "action",
        "title",
        "instructions",
        "cost",
        "skill",
        "erases_data",
        "why",
    ] {
        assert!(!next[key].is_null(), "next_step.{key} missing");
    }
    assert!(next["cost"]["minutes"].is_number() && next["cost"]["usd"].is_number());
    assert!(!next["why"].as_str().unwrap().is_empty());
    assert!(v["plan"].is_array());
    assert!(v["warnings"].is_array());
    assert!(v.get("verdict").is_some());
}

#[test]
fn unknown_device_is_null_and_all_causes_are_listed() {
    let v = json(&["--error", "9"]);
    assert!(v["device"].is_null());
    assert_eq!(causes(&v).len(), 19);
}

#[test]
fn tried_steps_are_not_recommended_again_and_move_the_causes() {
    let before = json(&["--device", "iPhone 8", "--error", "4013"]);
    let after = json(&[
        "--device",
        "iPhone 8",
        "--error",
        "4013",
        "--tried",
        "cable_swap,port_swap,hub_removed",
    ]);
    let p = |v: &Value, id: &str| causes(v).into_iter().find(|c| c.0 == id).unwrap().1;
    assert!(p(&after, "usb_cable") < p(&before, "usb_cable") / 3.0);
    let steps: Vec<&str> = std::iter::once(&after["next_step"])
        .chain(after["plan"].as_array().unwrap())
        .filter_map(|s| s["action"].as_str())
        .collect();
    for done in ["swap_cable", "port_swap", "remove_hub"] {
        assert!(
            !steps.contains(&done),
            "{done} recommended again: {steps:?}"
        );
    }
    assert!(
        after["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"].as_str().unwrap().contains("USB cable"))
    );
}

#[test]
fn speaker_greyed_out_on_an_iphone_7_points_at_the_audio_chip() {
    let v = json(&[
        "--device",
        "iPhone 7",
        "--error",
        "4013",
        "--observed",
        "speaker_greyed_out",
    ]);
    assert_eq!(causes(&v)[0].0, "audio_ic");
}

#[test]
fn unknown_vocabulary_values_list_the_accepted_ones() {
    let cases: [(&[&str], &str); 6] = [
        (&["--tried", "prayed"], "cable_swap"),
        (&["--observed", "smoke"], "liquid_exposure"),
        (&["--observed", "failure_stage=moon"], "image_transfer"),
        (&["--host", "winamp"], "windows_itunes"),
        (&["--role", "wizard"], "technician"),
        (&["--device", "Nokia 3310"], "unknown device"),
    ];
    for (args, expected) in cases {
        let out = cmd().arg("diagnose").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let out = cmd()
        .args(["diagnose", "--error", "four"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn no_flags_off_a_terminal_points_to_json_usage() {
    let out = cmd().arg("diagnose").write_stdin("").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--json") && err.contains("terminal"), "{err}");
}

#[test]
fn free_text_is_understood_and_flags_win() {
    let v = json(&[
        "--text",
        "My iPhone 7+ keeps failing with err 4013 at the same percentage. Tried two different cables and my friend's Mac, didn't try DFU, not water damaged",
    ]);
    let u = &v["understood"];
    assert_eq!(u["device"], "iPhone 7 Plus");
    assert_eq!(u["error_code"], 4013);
    let tried: Vec<&str> = u["tried"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tried.contains(&"cable_swap") && tried.contains(&"other_computer"),
        "{tried:?}"
    );
    assert!(!tried.contains(&"dfu_restore"));
    assert_eq!(u["observed"]["liquid_exposure"], "no");
    assert_eq!(u["observed"]["same_failure_point"], "yes");
    assert_eq!(v["device"]["name"], "iPhone 7 Plus");

    let v = json(&[
        "--text",
        "iphone 7 error 9",
        "--device",
        "iPhone 8",
        "--error",
        "14",
    ]);
    assert_eq!(v["device"]["name"], "iPhone 8");
    assert_eq!(v["error_code"], 14);
    assert_eq!(v["understood"]["device"], "iPhone 7");
}

#[test]
fn three_logs_failing_at_the_nand_stop_restores() {
    let v = json(&["--log", NAND_LOG, "--log", NAND_LOG, "--log", NAND_LOG]);
    assert_eq!(v["device"]["product_type"], "iPhone11,2");
    assert_eq!(v["verdict"]["group"], "hardware");
    assert_eq!(v["verdict"]["cause"], "nand");
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("stop restoring"))
    );
    assert_eq!(v["next_step"]["action"], "shop_diagnosis");
}

#[test]
fn a_missing_log_is_bad_input() {
    let out = cmd()
        .args(["diagnose", "--log", "/nonexistent/restore.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
}

#[test]
fn owners_never_get_technician_steps_and_technicians_get_bench_tests() {
    let args = [
        "--device",
        "iPhone XS",
        "--error",
        "4013",
        "--tried",
        "cable_swap,other_computer,recovery_update",
        "--observed",
        "same_failure_point",
    ];
    let owner = json(&args);
    let steps = std::iter::once(&owner["next_step"]).chain(owner["plan"].as_array().unwrap());
    for s in steps {
        assert_eq!(s["skill"], "owner", "{s}");
    }
    let mut tech_args = args.to_vec();
    tech_args.extend(["--role", "technician"]);
    let tech = json(&tech_args);
    assert_eq!(tech["role"], "technician");
    assert_eq!(
        tech["next_step"]["kind"], "bench_test",
        "{}",
        tech["next_step"]
    );
}

#[test]
fn the_human_report_shows_bars_the_next_step_and_why() {
    let text = human(&[
        "--device",
        "iPhone 8",
        "--error",
        "4013",
        "--tried",
        "cable_swap",
    ]);
    assert!(!text.contains('\u{1b}'), "NO_COLOR: no escapes");
    insta::assert_snapshot!("diagnose_iphone8_4013_cable_swap", text);
}

/// The Apple Devices app on Windows, after a cable, a port and a force restart: the Recovery
/// Mode Update's instructions name that app only (no Finder, no macOS), the causes and the
/// evidence are in plain words, and `--why` shows the full reasoning and what moved each cause.
#[test]
fn the_human_report_for_apple_devices_on_windows_with_why() {
    let args = [
        "--device",
        "iPhone 11",
        "--error",
        "4013",
        "--host",
        "windows_apple_devices",
        "--tried",
        "cable_swap,port_swap,force_restart,device_port_cleaned",
        "--observed",
        "hub_or_adapter=no,update_interrupted",
    ];
    let short = human(&args);
    assert!(short.contains("Open the Apple Devices app."), "{short}");
    assert!(!short.contains("Finder"), "{short}");
    assert!(!short.contains("What moved the probabilities"), "{short}");
    assert!(short.contains("--why"), "{short}");
    let mut with_why = args.to_vec();
    with_why.push("--why");
    let text = human(&with_why);
    assert!(text.contains("What moved the probabilities"), "{text}");
    assert!(text.contains("Evidence so far"), "{text}");
    for id in [
        "apple_current",
        "windows_apple_devices",
        "update_interrupted",
        "hub_or_adapter",
    ] {
        assert!(!text.contains(id), "{id} in:\n{text}");
    }
    insta::assert_snapshot!("diagnose_iphone11_4013_apple_devices_why", text);
}

/// diagnose with an undocumented code still answers (exit 0) and says, as explain does, that
/// the code is undocumented and which documented code is nearest.
#[test]
fn an_undocumented_code_is_said_to_be_undocumented() {
    let v = json(&["--device", "iPhone 11", "--error", "777"]);
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("777 is not a documented"), "{warnings}");
    assert!(warnings.contains("nearest documented code"), "{warnings}");
    // The general prior of restore failures, reweighted by what the real cases confirm: the
    // computer's side leads, not a part of the device.
    assert_ne!(v["causes"][0]["group"], "hardware", "{}", v["causes"][0]);
}

/// `diagnose --help` lists every `--observed` word the engine accepts.
#[test]
fn help_lists_every_observed_word() {
    let out = cmd().args(["diagnose", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for word in kb::vocab::OBSERVED {
        assert!(help.contains(word), "{word} missing from --help");
    }
}

/// Error 4037 on a phone said to be locked: unlock it and tap Trust first (not a force restart),
/// the device's own state leads with what 4037 means, and the warning says what a forgotten
/// passcode costs. Free text saying the passcode is forgotten drops the unlock step and keeps
/// the data-keeping Update before the erasing Restore.
#[test]
fn a_locked_device_with_4037_is_unlocked_and_trusted_first() {
    let locked = [
        "--device",
        "iPhone 12",
        "--error",
        "4037",
        "--observed",
        "device_locked",
    ];
    let v = json(&locked);
    assert_eq!(
        v["next_step"]["action"], "unlock_and_trust",
        "{}",
        v["next_step"]
    );
    assert_eq!(v["causes"][0]["id"], "ios_system_software");
    assert!(
        v["causes"][0]["note"]
            .as_str()
            .unwrap()
            .contains("locked with its passcode")
    );
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("tap Trust"), "{warnings}");
    assert!(warnings.contains("cannot be backed up"), "{warnings}");

    let forgot = json(&[
        "--text",
        "iPhone 12 error 4037, I forgot my passcode and it says iPhone is disabled",
    ]);
    assert_eq!(forgot["understood"]["passcode_forgotten"], true);
    let steps: Vec<&str> = std::iter::once(&forgot["next_step"])
        .chain(forgot["plan"].as_array().unwrap())
        .filter_map(|s| s["action"].as_str())
        .collect();
    assert!(!steps.contains(&"unlock_and_trust"), "{steps:?}");
    let update = steps.iter().position(|s| *s == "recovery_update").unwrap();
    let restore = steps.iter().position(|s| *s == "recovery_restore").unwrap();
    assert!(update < restore, "{steps:?}");

    let text = human(&locked);
    insta::assert_snapshot!("diagnose_iphone12_4037_locked", text);
}

/// Issue 14's first scenario: an iPhone 11 with 4013 on the Apple Devices app, where the cable,
/// the port, another computer, updated software, a force restart and a Recovery Update all
/// failed, and the owner has a backup. The free restore comes before any paid repair; without
/// a backup, nothing erasing is offered.
#[test]
fn with_a_backup_the_free_restore_comes_before_the_repair_shop() {
    let tried =
        "cable_swap,port_swap,other_computer,host_software_update,force_restart,recovery_update";
    let steps = |v: &Value| -> Vec<String> {
        std::iter::once(&v["next_step"])
            .chain(v["plan"].as_array().unwrap())
            .filter_map(|s| s["action"].as_str().map(String::from))
            .collect()
    };
    let with = |extra: &[&str]| {
        let mut args = vec![
            "--device",
            "iPhone 11",
            "--error",
            "4013",
            "--host",
            "windows_apple_devices",
            "--tried",
            tried,
        ];
        args.extend_from_slice(extra);
        json(&args)
    };
    let backed_up = with(&["--text", "I have a backup of everything"]);
    let s = steps(&backed_up);
    let restore = s
        .iter()
        .position(|a| a == "recovery_restore" || a == "dfu_restore")
        .unwrap_or_else(|| panic!("no restore: {s:?}"));
    let shop = s.iter().position(|a| a == "shop_diagnosis").unwrap();
    assert!(restore < shop, "{s:?}");
    assert_eq!(backed_up["next_step"]["erases_data"], true, "{s:?}");

    let no_backup = with(&["--observed", "backup_exists=no"]);
    let s = steps(&no_backup);
    assert!(
        !s.iter()
            .any(|a| a == "recovery_restore" || a == "dfu_restore"),
        "erasing without a backup: {s:?}"
    );
}
