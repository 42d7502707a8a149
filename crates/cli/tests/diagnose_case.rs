//! `diagnose --case ID`: a stored case's attempts and steps are the evidence, and the
//! recommendation is recorded on the case.

use assert_cmd::Command;
use serde_json::Value;

fn rd(db: &str, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("restore-doctor")
        .unwrap()
        .env("NO_COLOR", "1")
        .env_remove("RESTORE_DOCTOR_DB")
        .args(args)
        .args(["--db", db])
        .output()
        .unwrap()
}

#[test]
fn a_case_with_same_stage_failures_on_two_stations() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.sqlite3");
    let db = db.to_str().unwrap();
    let out = rd(
        db,
        &[
            "cases", "new", "--device", "iPhone X", "--error", "4013", "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"].to_string();
    for (computer, cable) in [("bench-1", "c1"), ("bench-1", "c2"), ("bench-2", "c3")] {
        let out = rd(
            db,
            &[
                "cases",
                "attempt",
                "--case",
                &id,
                "--computer",
                computer,
                "--cable",
                cable,
                "--result",
                "4013",
                "--stage",
                "nand",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = rd(db, &["diagnose", "--case", &id, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["device"]["product_type"], "iPhone10,3");
    assert_eq!(v["error_code"], 4013);
    let top = v["causes"][0]["id"].as_str().unwrap();
    assert_eq!(top, "nand", "{}", v["causes"]);
    let p = |id: &str| {
        v["causes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["probability"]
            .as_f64()
            .unwrap()
    };
    assert!(
        p("usb_cable") < 0.02,
        "three cables on two stations rule the cable out"
    );
    // Three failures at the NAND step: restores stop.
    assert_eq!(v["next_step"]["action"], "shop_diagnosis");

    let shown = rd(db, &["cases", "show", &id, "--json"]);
    let case: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(case["verdict"]["next_step"]["action"], "shop_diagnosis");
}

#[test]
fn an_unknown_case_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.sqlite3");
    let out = rd(db.to_str().unwrap(), &["diagnose", "--case", "42"]);
    assert_eq!(out.status.code(), Some(2));
    let out = rd(db.to_str().unwrap(), &["diagnose", "--case", "forty-two"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn closed_cases_of_the_same_model_and_error_shift_the_prior() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cases.sqlite3");
    let db = db.to_str().unwrap();
    let new_case = || {
        let out = rd(
            db,
            &[
                "cases", "new", "--device", "iPhone 8", "--error", "4013", "--json",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"].to_string()
    };
    let tristar = |v: &Value| {
        v["causes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "tristar_hydra_charging_ic")
            .unwrap()["probability"]
            .as_f64()
            .unwrap()
    };
    let open = new_case();
    let before: Value =
        serde_json::from_slice(&rd(db, &["diagnose", "--case", &open, "--json"]).stdout).unwrap();
    for _ in 0..5 {
        let id = new_case();
        let out = rd(
            db,
            &[
                "cases",
                "close",
                &id,
                "--cause",
                "tristar_hydra_charging_ic",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let after: Value =
        serde_json::from_slice(&rd(db, &["diagnose", "--case", &open, "--json"]).stdout).unwrap();
    assert!(
        tristar(&after) > tristar(&before) + 0.1,
        "{} -> {}",
        tristar(&before),
        tristar(&after)
    );
    assert!(
        after["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["evidence"].as_str().unwrap().contains("5 closed case"))
    );
}
