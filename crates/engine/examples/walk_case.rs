//! Follow the engine's advice on one corpus case with the fit of the other folds, printing
//! each step: `cargo run -p engine --example walk_case -- CASE_ID [text|flags]`.
use engine::api::diagnose_fitted;
use engine::casebench::folds;
use engine::corpus::{Mode, examples, request_for};
use engine::evidence::{ActionTried, StepOutcome};

fn main() {
    let mut args = std::env::args().skip(1);
    let id = args.next().expect("a case id");
    let mode = match args.next().as_deref() {
        Some("text") => Mode::Text,
        _ => Mode::Flags,
    };
    let kb = kb::kb();
    let cases = kb.cases();
    let fold = folds(cases, 5);
    let i = cases.iter().position(|c| c.id == id).expect("no such case");
    let train: Vec<&kb::RealCase> = cases
        .iter()
        .zip(&fold)
        .filter(|(c, f)| **f != fold[i] && c.scored())
        .map(|(c, _)| c)
        .collect();
    let fit = engine::learn::fit(kb, &examples(kb, &train));
    let mut req = request_for(kb, &cases[i], mode);
    println!("cause {}", cases[i].resolution_category);
    for _ in 0..10 {
        let r = diagnose_fitted(kb, Some(&fit), &req).unwrap();
        let causes: Vec<String> = r
            .causes
            .iter()
            .take(5)
            .map(|c| format!("{} {:.2}", c.id, c.probability))
            .collect();
        println!("causes: {}", causes.join(", "));
        let ns = r.next_step.as_ref();
        println!(
            "next: {:?} {:?}",
            ns.map(|s| s.kind.clone()),
            ns.map(|s| s.action.clone())
        );
        let plan: Vec<String> = r.plan.iter().map(|p| p.action.clone()).collect();
        println!("plan: {}", plan.join(" "));
        let next = ns
            .filter(|s| s.kind == "action")
            .map(|s| s.action.clone())
            .or_else(|| r.plan.first().map(|p| p.action.clone()));
        let Some(a) = next else { break };
        if a == "shop_diagnosis" {
            break;
        }
        req.steps.push(ActionTried {
            action: a,
            outcome: StepOutcome::Failed,
        });
    }
}
