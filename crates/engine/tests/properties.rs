//! Invariants over random evidence with the real knowledge base: probabilities sum to one and
//! cover every applicable cause, and the guardrails of design.md §5 are never broken.

use engine::api::{DiagnoseRequest, diagnose_request};
use engine::guardrails::{self, check};
use engine::{
    ActionTried, Answer, Attempt, AttemptResult, Evidence, Mode, Model, Next, Role, StepOutcome,
    Target, diagnose,
};
use kb::{DataRisk, Skill, Stage, vocab};
use proptest::prelude::*;

const CODES: [i64; 14] = [
    9, 4005, 4013, 4014, 14, 53, 56, 3194, 1, -1, 1015, 40, 3014, 21,
];

fn attempt() -> impl Strategy<Value = Attempt> {
    (
        0u8..3,
        0u8..4,
        0usize..14,
        prop::option::of(0usize..Stage::ALL.len()),
        0u8..3,
        any::<bool>(),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(computer, cable, code, stage, mode, ok, hub)| Attempt {
            computer: Some(format!("pc{computer}")),
            cable: Some(format!("cable{cable}")),
            port: None,
            hub,
            tool: None,
            mode: Some([Mode::Normal, Mode::Recovery, Mode::Dfu][mode as usize]),
            kind: Some(if ok { Target::Update } else { Target::Restore }),
            result: if code == 0 {
                AttemptResult::Ok
            } else {
                AttemptResult::Error(CODES[code % CODES.len()])
            },
            stage: stage.map(|s| Stage::ALL[s]),
            progress: None,
        })
}

#[derive(Debug, Clone)]
struct Case {
    device: usize,
    code: Option<i64>,
    role: Role,
    tried: Vec<usize>,
    observed: Vec<(usize, bool)>,
    attempts: Vec<Attempt>,
    expendable: bool,
    backup: Option<bool>,
}

fn case() -> impl Strategy<Value = Case> {
    let n_devices = kb::kb().devices().len();
    (
        0..n_devices,
        prop::option::of(prop::sample::select(CODES.to_vec())),
        any::<bool>(),
        prop::collection::vec(0..vocab::TRIED.len(), 0..6),
        prop::collection::vec((0..vocab::OBSERVED.len(), any::<bool>()), 0..5),
        prop::collection::vec(attempt(), 0..5),
        any::<bool>(),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(device, code, tech, tried, observed, attempts, expendable, backup)| Case {
                device,
                code,
                role: if tech { Role::Technician } else { Role::Owner },
                tried,
                observed,
                attempts,
                expendable,
                backup,
            },
        )
}

fn evidence(c: &Case) -> (Model, Evidence) {
    let kb = kb::kb();
    let device = &kb.devices()[c.device];
    let model = Model::from_kb(kb, Some(device), c.code);
    let mut answers: Vec<Answer> = c
        .observed
        .iter()
        .map(|(i, yes)| Answer {
            observation: vocab::OBSERVED[*i].to_string(),
            outcome: if *yes { "yes" } else { "no" }.to_string(),
        })
        .collect();
    if let Some(b) = c.backup {
        answers.push(Answer {
            observation: "backup_exists".into(),
            outcome: if b { "yes" } else { "no" }.into(),
        });
    }
    let actions = c
        .tried
        .iter()
        .filter_map(|i| kb.action_by_tried_flag(vocab::TRIED[*i]))
        .map(|a| ActionTried {
            action: a.id.clone(),
            outcome: StepOutcome::Failed,
        })
        .collect();
    let e = Evidence {
        device: Some(device.product_type.clone()),
        error_code: c.code,
        attempts: c.attempts.clone(),
        actions,
        answers,
        data_expendable: c.expendable,
        ..Evidence::default()
    };
    (model, e)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn guardrails_hold_over_random_evidence(c in case()) {
        let (model, e) = evidence(&c);
        let d = diagnose(&model, &e, c.role);
        let sum: f64 = d.p.iter().sum();
        prop_assert!((sum - 1.0).abs() < 1e-9, "posterior sums to {}", sum);
        prop_assert!(d.p.iter().all(|x| x.is_finite() && *x >= 0.0));

        let mut steps: Vec<&str> = Vec::new();
        if let Some(Next::Act { action, .. }) = &d.next {
            steps.push(model.actions[*action].id.as_str());
        }
        for entry in &d.recommendation.plan {
            let id = model.actions[entry.action].id.as_str();
            if steps.first() != Some(&id) {
                steps.push(id);
            }
        }
        let hw = engine::planner::hardware_prob(&model, &d.p);
        let violations = check(&model, &d.derived, &steps, d.verdict.as_ref().map(|v| v.group.as_str()), hw);
        prop_assert!(violations.is_empty(), "{:?} for steps {:?}", violations, steps);

        for id in &steps {
            let a = model.action(id).unwrap();
            if c.role == Role::Owner {
                prop_assert_eq!(a.skill, Skill::Owner, "owner got {}", id);
            }
            prop_assert!(!d.derived.done.contains(*id), "{} recommended again", id);
            if a.data_risk == DataRisk::ErasesDevice && !d.derived.data_safe {
                prop_assert!(
                    d.derived.done.contains(guardrails::RECOVERY_UPDATE)
                        || steps.contains(&guardrails::RECOVERY_UPDATE),
                    "{} erases with no Recovery Update before it", id
                );
            }
        }
        if let Some(Next::Observe { observation }) = &d.next {
            prop_assert!(c.role.allows(model.observations[*observation].skill));
        }
        if d.derived.same_point_failures >= 3 {
            prop_assert!(steps.iter().all(|id| !model.action(id).unwrap().is_restore));
            prop_assert!(d.warnings.iter().any(|w| w.contains("stop restoring")));
        }
        if let Some(i) = model.cause_index("signing_or_downgrade")
            && d.p[i] >= 0.25
        {
            prop_assert!(d.warnings.iter().any(|w| w.contains("downgrade")));
        }
    }

    #[test]
    fn json_lists_every_applicable_cause_sorted_and_summing_to_one(c in case()) {
        let kb = kb::kb();
        let device = &kb.devices()[c.device];
        let req = DiagnoseRequest {
            device: Some(device.product_type.clone()),
            error: c.code,
            tried: c.tried.iter().map(|i| vocab::TRIED[*i].to_string()).collect(),
            observed: c.observed.iter().map(|(i, y)| format!("{}={}", vocab::OBSERVED[*i], if *y { "yes" } else { "no" })).collect(),
            role: Some(c.role.as_str().into()),
            ..DiagnoseRequest::default()
        };
        let r = diagnose_request(&req).unwrap();
        prop_assert_eq!(r.causes.len(), kb.causes_for(Some(device)).len());
        let sum: f64 = r.causes.iter().map(|c| c.probability).sum();
        prop_assert!((sum - 1.0).abs() < 1e-9);
        prop_assert!(r.causes.windows(2).all(|w| w[0].probability >= w[1].probability));
        let gsum: f64 = r.groups.values().sum();
        prop_assert!((gsum - 1.0).abs() < 1e-9);
        prop_assert_eq!(r.groups.len(), 4);
        if let Some(v) = &r.verdict {
            prop_assert!(v.repair.usd_low <= v.repair.usd_high);
            prop_assert!(r.causes.iter().any(|c| c.id == v.cause && c.group == v.group));
        }
    }
}

#[test]
fn three_failures_at_the_nand_stage_stop_restores() {
    let kb = kb::kb();
    let device = kb.device("iPhone8,1").unwrap();
    let model = Model::from_kb(kb, Some(device), Some(4013));
    let failed = |cable: &str| Attempt {
        cable: Some(cable.into()),
        computer: Some("mac".into()),
        stage: Some(Stage::Nand),
        result: AttemptResult::Error(4013),
        ..Attempt::failed()
    };
    let e = Evidence {
        attempts: vec![failed("a"), failed("b"), failed("c")],
        ..Evidence::default()
    };
    let d = diagnose(&model, &e, Role::Owner);
    assert_eq!(d.derived.same_point_failures, 3);
    for entry in &d.recommendation.plan {
        assert!(!model.actions[entry.action].is_restore);
    }
    let v = d.verdict.expect("a verdict once restores stop");
    assert_eq!(v.group, "hardware");
    assert!(d.warnings.iter().any(|w| w.contains("stop restoring")));
}

#[test]
fn erasing_needs_recovery_update_first_unless_backed_up() {
    let kb = kb::kb();
    let device = kb.device("iPhone10,3").unwrap();
    let model = Model::from_kb(kb, Some(device), Some(14));
    let base = Evidence {
        answers: vec![Answer {
            observation: "boot_loop".into(),
            outcome: "yes".into(),
        }],
        ..Evidence::default()
    };
    let d = diagnose(&model, &base, Role::Owner);
    let seq = d.action_sequence(&model);
    if let Some(first_erase) = seq
        .iter()
        .position(|a| model.action(a).unwrap().data_risk == DataRisk::ErasesDevice)
    {
        let upd = seq.iter().position(|a| *a == "recovery_update");
        assert!(upd.is_some_and(|u| u < first_erase), "{seq:?}");
    }
    let backed_up = Evidence {
        data_expendable: true,
        ..base
    };
    let d = diagnose(&model, &backed_up, Role::Owner);
    let erases_first = d
        .action_sequence(&model)
        .iter()
        .take_while(|a| **a != "recovery_update")
        .any(|a| model.action(a).unwrap().data_risk == DataRisk::ErasesDevice);
    if erases_first {
        assert!(d.warnings.iter().any(|w| w.contains("backed up")));
    }
}

#[test]
fn a_downgrade_error_says_downgrades_are_impossible() {
    let r = diagnose_request(&DiagnoseRequest {
        device: Some("iPhone 8".into()),
        error: Some(3194),
        ..DiagnoseRequest::default()
    })
    .unwrap();
    assert!(
        r.warnings.iter().any(|w| w.contains("downgrade")),
        "{:?}",
        r.warnings
    );
}
