//! `explain --db` and `diagnose --db`: a shop's closed cases with a confirmed cause move the prior it shows, as
//! pseudo-counts on top of the knowledge base's numbers, with the evidence count.

use assert_cmd::Command;
use serde_json::Value;

fn rd(db: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("restore-doctor").unwrap();
    cmd.env("NO_COLOR", "1").env("RESTORE_DOCTOR_DB", db);
    cmd
}

fn probability(causes: &Value, id: &str) -> f64 {
    causes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .map(|c| c["probability"].as_f64().unwrap())
        .unwrap_or(0.0)
}

#[test]
fn confirmed_causes_raise_their_share_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.sqlite3");
    for (i, cause) in ["earpiece_faceid_flex", "earpiece_faceid_flex", "nand"]
        .iter()
        .enumerate()
    {
        rd(&db)
            .args(["cases", "new", "--device", "iPhone X", "--error", "4013"])
            .assert()
            .success();
        rd(&db)
            .args(["cases", "close", &(i + 1).to_string(), "--cause", cause])
            .assert()
            .success();
    }
    // A case with another code does not count for 4013.
    rd(&db)
        .args(["cases", "new", "--device", "iPhone X", "--error", "3194"])
        .assert()
        .success();
    rd(&db)
        .args(["cases", "close", "4", "--cause", "signing_or_downgrade"])
        .assert()
        .success();

    let out = rd(&db)
        .args(["explain", "4013", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["shop"]["cases"], 3);
    assert_eq!(v["shop"]["counts"]["earpiece_faceid_flex"], 2);
    let before = probability(&v["causes"], "earpiece_faceid_flex");
    let after = probability(&v["shop"]["causes"], "earpiece_faceid_flex");
    assert!(after > before + 0.05, "{before} -> {after}");
    let sum: f64 = v["shop"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["probability"].as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-9, "{sum}");

    let human =
        String::from_utf8(rd(&db).args(["explain", "4013"]).output().unwrap().stdout).unwrap();
    assert!(human.contains("With this shop's own history"), "{human}");
    assert!(
        human.contains("3 closed case(s) with error 4013"),
        "{human}"
    );
    assert!(human.contains("2 confirmed here"), "{human}");
}

#[test]
fn an_empty_shop_history_leaves_the_numbers_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.sqlite3");
    let human = String::from_utf8(rd(&db).args(["explain", "9"]).output().unwrap().stdout).unwrap();
    assert!(human.contains("No closed case with error 9"), "{human}");
}

#[test]
fn without_a_database_explain_touches_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("restore-doctor").unwrap();
    let out = cmd
        .env_remove("RESTORE_DOCTOR_DB")
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .args(["explain", "4013", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("shop").is_none());
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "explain created files"
    );
}

#[test]
fn diagnose_with_a_shop_database_learns_from_its_closed_cases() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.sqlite3");
    for i in 1..=4 {
        rd(&db)
            .args(["cases", "new", "--device", "iPhone X", "--error", "4013"])
            .assert()
            .success();
        rd(&db)
            .args([
                "cases",
                "close",
                &i.to_string(),
                "--cause",
                "earpiece_faceid_flex",
            ])
            .assert()
            .success();
    }
    let args = [
        "diagnose", "--device", "iPhone X", "--error", "4013", "--json",
    ];
    let plain = Command::cargo_bin("restore-doctor")
        .unwrap()
        .env_remove("RESTORE_DOCTOR_DB")
        .args(args)
        .output()
        .unwrap();
    let shop = rd(&db).args(args).output().unwrap();
    assert!(plain.status.success() && shop.status.success());
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap();
    let shop: Value = serde_json::from_slice(&shop.stdout).unwrap();
    let (before, after) = (
        probability(&plain["causes"], "earpiece_faceid_flex"),
        probability(&shop["causes"], "earpiece_faceid_flex"),
    );
    assert!(after > before + 0.05, "{before} -> {after}");
    assert!(
        shop["explanation"].to_string().contains("4 closed case"),
        "{}",
        shop["explanation"]
    );
}
