//! The engine is a pure function of the request: the same request gives byte-identical JSON
//! every time, whatever ran before it in the process (cold or warm caches, other requests in
//! between, other threads).

use engine::api::{DiagnoseRequest, diagnose_request};
use engine::{ActionTried, Attempt, AttemptResult, Mode, StepOutcome, Target};
use std::collections::BTreeMap;

fn requests() -> Vec<DiagnoseRequest> {
    let failed_at_nand = |computer: &str, cable: &str| Attempt {
        computer: Some(computer.into()),
        cable: Some(cable.into()),
        mode: Some(Mode::Recovery),
        kind: Some(Target::Restore),
        result: AttemptResult::Error(4013),
        stage: Some(kb::Stage::Nand),
        ..Attempt::failed()
    };
    vec![
        DiagnoseRequest {
            device: Some("iPhone 8".into()),
            error: Some(4013),
            ..DiagnoseRequest::default()
        },
        DiagnoseRequest {
            device: Some("iPhone X".into()),
            error: Some(4013),
            host: Some("macos_finder".into()),
            tried: vec!["cable_swap".into(), "other_computer".into()],
            observed: vec!["recent_drop".into(), "failure_stage=nand".into()],
            ..DiagnoseRequest::default()
        },
        DiagnoseRequest {
            text: Some(
                "my iphone 7+ fails with error 4013 at the same percentage, tried two cables and \
                 my friend's mac, not water damaged"
                    .into(),
            ),
            ..DiagnoseRequest::default()
        },
        DiagnoseRequest {
            text: Some(
                "iPad 7th gen, 3uTools says error 14, no backup, dropped it last week".into(),
            ),
            role: Some("technician".into()),
            ..DiagnoseRequest::default()
        },
        DiagnoseRequest {
            device: Some("iPhone 11".into()),
            log_facts: vec![
                ("error_code".into(), "4013".into()),
                ("failure_stage".into(), "nand".into()),
            ],
            ..DiagnoseRequest::default()
        },
        DiagnoseRequest {
            device: Some("iPhone 6s".into()),
            error: Some(9),
            role: Some("technician".into()),
            attempts: vec![
                failed_at_nand("laptop", "c1"),
                failed_at_nand("laptop", "c2"),
                failed_at_nand("desk", "c3"),
            ],
            steps: vec![ActionTried {
                action: "recovery_update".into(),
                outcome: StepOutcome::Failed,
            }],
            answers: BTreeMap::from([("liquid_exposure".to_string(), "yes".to_string())]),
            shop_counts: BTreeMap::from([("nand".to_string(), 7), ("usb_cable".to_string(), 2)]),
            ..DiagnoseRequest::default()
        },
        DiagnoseRequest {
            error: Some(3194),
            text: Some("trying to downgrade to iOS 15 with itunes on windows".into()),
            data_expendable: true,
            ..DiagnoseRequest::default()
        },
    ]
}

fn json(req: &DiagnoseRequest) -> String {
    serde_json::to_string(&diagnose_request(req).expect("the request is valid")).unwrap()
}

const RUNS: usize = 12;

#[test]
fn the_same_request_gives_byte_identical_json_every_time() {
    let reqs = requests();
    // The first answers come with cold caches.
    let first: Vec<String> = reqs.iter().map(json).collect();
    for run in 0..RUNS {
        // Each request repeated back to back, then all of them interleaved in reverse.
        for (req, want) in reqs.iter().zip(&first) {
            assert_eq!(&json(req), want, "run {run}: {req:?}");
        }
        for (req, want) in reqs.iter().zip(&first).rev() {
            assert_eq!(&json(req), want, "run {run} (reversed): {req:?}");
        }
    }
    // Different requests give different answers (the comparison above can fail).
    assert_ne!(first[0], first[1]);
}

#[test]
fn answers_do_not_depend_on_the_thread() {
    let reqs = requests();
    let here: Vec<String> = reqs.iter().map(json).collect();
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let reqs = reqs.clone();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                for _ in 0..RUNS / 2 {
                    // Each thread walks the requests in its own order.
                    let order: Vec<usize> = if t == 0 {
                        (0..reqs.len()).collect()
                    } else {
                        (0..reqs.len()).rev().collect()
                    };
                    for i in order {
                        out.push((i, json(&reqs[i])));
                    }
                }
                out
            })
        })
        .collect();
    for h in handles {
        for (i, got) in h.join().unwrap() {
            assert_eq!(got, here[i], "request {i} on another thread");
        }
    }
}
