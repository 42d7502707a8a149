//! `restore-doctor bench policies`: the stable JSON of design.md §8 and its bad input.

use assert_cmd::Command;
use serde_json::Value;

fn cmd() -> Command {
    let mut c = Command::cargo_bin("restore-doctor").unwrap();
    c.env("NO_COLOR", "1");
    c
}

#[test]
fn policies_json_has_the_stable_fields() {
    let out = cmd()
        .args(["bench", "policies", "--cases", "8", "--seed", "5", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cases"], 8);
    for name in ["seed_tree", "engine", "optimal"] {
        let p = &v["policies"][name];
        for key in [
            "mean_cost",
            "mean_minutes",
            "mean_usd",
            "mean_steps",
            "correct_verdict_rate",
            "data_loss_events",
        ] {
            assert!(p[key].is_number(), "{name}.{key}: {p}");
        }
        let rate = p["correct_verdict_rate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&rate));
    }
    assert_eq!(v["policies"]["engine"]["data_loss_events"], 0);
    assert!(v["engine_vs_seed_tree"].as_f64().unwrap() > 0.0);
    assert!(v["engine_vs_optimal"].is_number());

    // Same seed, same figures.
    let again = cmd()
        .args(["bench", "policies", "--cases", "8", "--seed", "5", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn human_table_names_every_policy() {
    let out = cmd()
        .args(["bench", "policies", "--cases", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in ["seed_tree", "engine", "optimal", "Engine vs checklist"] {
        assert!(text.contains(name), "{text}");
    }
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        vec!["bench", "policies", "--cases", "0"],
        vec!["bench", "policies", "--role", "ghost"],
        vec!["bench", "policies", "--cases", "many"],
    ] {
        let out = cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}
