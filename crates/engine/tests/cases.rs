//! Accuracy on realistic cases (`tests/cases/*.toml`): each case is a person's situation as
//! `diagnose` flags and in their own words, with the cause an experienced technician would name.
//! Reports top-1/top-3 accuracy for both forms (run with `--nocapture` to see the table).
//! The floors below guard against regressions; the model's numbers are never tuned to them.
//! These cases were written here, by the same hands as the model: what the diagnosis is worth
//! on real reports is measured by `bench cases` on the corpus of real cases, and guarded by
//! `tests/real_cases.rs`.

use engine::api::{DiagnoseRequest, DiagnoseResponse, diagnose_request};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Flags {
    device: String,
    error: Option<i64>,
    host: Option<String>,
    #[serde(default)]
    tried: Vec<String>,
    #[serde(default)]
    observed: Vec<String>,
}

#[derive(Deserialize)]
struct Case {
    expected: String,
    role: String,
    text: String,
    flags: Flags,
}

fn rank(r: &DiagnoseResponse, cause: &str) -> Option<usize> {
    r.causes.iter().position(|c| c.id == cause)
}

fn load() -> Vec<(String, Case)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut out: Vec<(String, Case)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let case: Case =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_stem().unwrap().to_string_lossy().into_owned(), case)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn cases_are_valid_and_name_stable_causes() {
    let cases = load();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    for (id, c) in &cases {
        assert!(
            kb::vocab::group_of(&c.expected).is_some(),
            "{id}: {} is not a stable cause id",
            c.expected
        );
    }
}

#[test]
fn top1_and_top3_accuracy() {
    let cases = load();
    let mut flags_top1 = 0;
    let mut flags_top3 = 0;
    let mut text_top1 = 0;
    let mut text_top3 = 0;
    let mut text_parsed = 0;
    println!(
        "{:<42} {:<26} {:>5} {:>5}  top cause (flags)",
        "case", "expected", "flags", "text"
    );
    for (id, c) in &cases {
        let by_flags = diagnose_request(&DiagnoseRequest {
            device: Some(c.flags.device.clone()),
            error: c.flags.error,
            host: c.flags.host.clone(),
            tried: c.flags.tried.clone(),
            observed: c.flags.observed.clone(),
            role: Some(c.role.clone()),
            ..DiagnoseRequest::default()
        })
        .unwrap_or_else(|e| panic!("{id}: {e}"));
        let by_text = diagnose_request(&DiagnoseRequest {
            text: Some(c.text.clone()),
            role: Some(c.role.clone()),
            ..DiagnoseRequest::default()
        })
        .unwrap_or_else(|e| panic!("{id} (text): {e}"));
        let rf = rank(&by_flags, &c.expected);
        let rt = rank(&by_text, &c.expected);
        flags_top1 += usize::from(rf == Some(0));
        flags_top3 += usize::from(rf.is_some_and(|r| r < 3));
        text_top1 += usize::from(rt == Some(0));
        text_top3 += usize::from(rt.is_some_and(|r| r < 3));
        let same_device = by_text.device.as_ref().map(|d| &d.product_type)
            == by_flags.device.as_ref().map(|d| &d.product_type);
        text_parsed += usize::from(same_device && by_text.error_code == by_flags.error_code);
        let show = |r: Option<usize>| r.map_or("-".to_string(), |r| (r + 1).to_string());
        println!(
            "{:<42} {:<26} {:>5} {:>5}  {} {:.0}%",
            id,
            c.expected,
            show(rf),
            show(rt),
            by_flags.causes[0].id,
            by_flags.causes[0].probability * 100.0
        );
    }
    let n = cases.len() as f64;
    let pct = |k: usize| k as f64 / n * 100.0;
    println!(
        "\n{} cases. flags: top-1 {:.0}%, top-3 {:.0}%. text: top-1 {:.0}%, top-3 {:.0}%. \
         text read the same device and code as the flags in {:.0}%.",
        cases.len(),
        pct(flags_top1),
        pct(flags_top3),
        pct(text_top1),
        pct(text_top3),
        pct(text_parsed)
    );
    // A few points under what is measured (flags 80% / 96%, text 82% / 98% on 49 cases): one or
    // two cases may move, a real regression may not.
    assert!(
        pct(flags_top3) >= 92.0,
        "flags top-3 {:.0}%",
        pct(flags_top3)
    );
    assert!(
        pct(flags_top1) >= 75.0,
        "flags top-1 {:.0}%",
        pct(flags_top1)
    );
    assert!(pct(text_top3) >= 93.0, "text top-3 {:.0}%", pct(text_top3));
    assert!(pct(text_top1) >= 77.0, "text top-1 {:.0}%", pct(text_top1));
    assert!(
        pct(text_parsed) >= 85.0,
        "text parsing {:.0}%",
        pct(text_parsed)
    );
}
