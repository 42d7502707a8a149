//! End-to-end tests of `restore-doctor fleet`: simulate a shop with planted faults, report, and
//! check the JSON contract (design.md §8) and that the flags find the planted faults.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::HashSet;

fn rd(db: &str) -> Command {
    let mut c = Command::cargo_bin("restore-doctor").unwrap();
    // Through the environment variable here; `json`/`run_json` pass `--db`.
    c.env("RESTORE_DOCTOR_DB", db).env("NO_COLOR", "1");
    c
}

fn run_json(db: &str, args: &[&str]) -> Value {
    let out = rd("")
        .env_remove("RESTORE_DOCTOR_DB")
        .args(args)
        .args(["--db", db, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn flagged(items: &Value) -> HashSet<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["flagged"] == true)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn planted(truth: &Value, kind: &str) -> HashSet<String> {
    truth[kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn report_finds_the_faults_simulate_planted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.sqlite3").display().to_string();
    let truth_path = dir.path().join("truth.json");
    let sim = run_json(
        &db,
        &[
            "fleet",
            "simulate",
            "--attempts",
            "150000",
            "--stations",
            "15",
            "--cables",
            "60",
            "--devices",
            "4000",
            "--seed",
            "3",
            "--truth",
            truth_path.to_str().unwrap(),
        ],
    );
    assert_eq!(sim["attempts"], 150000);
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(&truth_path).unwrap()).unwrap();
    let report = run_json(&db, &["fleet", "report"]);
    let (mut tp, mut flagged_n, mut planted_n) = (0, 0, 0);
    for kind in ["stations", "cables", "ports", "devices"] {
        let items = &report[kind];
        for r in items.as_array().unwrap() {
            for f in [
                "id",
                "attempts",
                "failures",
                "failure_rate",
                "excess_failure_rate",
                "p_faulty",
                "flagged",
            ] {
                assert!(r.get(f).is_some(), "{kind} item lacks {f}: {r}");
            }
            let p = r["p_faulty"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&p));
        }
        let f = flagged(items);
        let t = planted(&truth, kind);
        assert!(!t.is_empty(), "simulate planted no {kind}");
        tp += f.intersection(&t).count();
        flagged_n += f.len();
        planted_n += t.len();
    }
    let precision = tp as f64 / flagged_n as f64;
    let recall = tp as f64 / planted_n as f64;
    assert!(
        precision >= 0.9 && recall >= 0.9,
        "precision {precision} recall {recall}"
    );
    let total: u64 = report["stations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attempts"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 150000, "every attempt counted once per station");

    // The same numbers through --truth.
    let scored = run_json(
        &db,
        &["fleet", "report", "--truth", truth_path.to_str().unwrap()],
    );
    assert_eq!(scored["scores"]["all"]["true_positives"], tp);

    // Human output names the flagged stations.
    let text = rd(&db).args(["fleet", "report"]).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    for s in planted(&truth, "stations") {
        assert!(text.contains(&s), "{s} missing from:\n{text}");
    }
    assert!(text.contains("FLAGGED"));
}

#[test]
fn an_empty_database_gives_an_empty_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.sqlite3").display().to_string();
    let r = run_json(&db, &["fleet", "report"]);
    for kind in ["stations", "cables", "ports", "devices"] {
        assert_eq!(r[kind].as_array().unwrap().len(), 0);
    }
}

#[test]
fn bad_simulation_parameters_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.sqlite3").display().to_string();
    rd(&db)
        .args(["fleet", "simulate", "--attempts", "10", "--devices", "100"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "--attempts (10) must be at least --devices (100)",
        ));
    rd(&db)
        .args(["fleet", "simulate", "--attempts", "100", "--stations", "0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--stations"));
    rd(&db)
        .args([
            "fleet",
            "simulate",
            "--attempts",
            "100",
            "--truth",
            "/nonexistent-dir/t.json",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--truth /nonexistent-dir/t.json"));
    rd(&db)
        .args(["fleet", "report", "--flag-probability", "2"])
        .assert()
        .code(2);
    // A database with real cases is not filled with simulated ones by accident.
    run_json(&db, &["cases", "new", "--device", "iPhone 8"]);
    rd(&db)
        .args(["fleet", "simulate", "--attempts", "100"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("1 real case"));
    assert_eq!(
        run_json(&db, &["cases", "list"])["cases"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
