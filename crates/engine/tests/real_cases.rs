//! The diagnosis and the advice on the real cases of the knowledge base's corpus
//! (`knowledge/cases/`), scored as `restore-doctor bench cases` scores them: 5-fold
//! cross-validation by source, each case diagnosed by a model fitted on the other folds only.
//!
//! The floors sit a few points under what was measured when they were set (see the README's
//! Benchmarks section for the figures); a change that loses more than that on real reports fails
//! here even when every written case still passes. They are not the goals of issue 13 (top-3 and
//! group 0.85), which the model does not reach yet.

use engine::casebench::{self, Config, ModeReport, Report};
use engine::corpus::Mode;
use std::sync::OnceLock;

fn report() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(|| {
        let kb = kb::kb();
        casebench::run(kb, kb.cases(), &Config::default())
    })
}

fn mode(name: &str) -> &'static ModeReport {
    report()
        .modes
        .iter()
        .find(|m| m.mode == name)
        .unwrap_or_else(|| panic!("no {name} mode in the report"))
}

#[test]
fn every_scored_case_is_diagnosed_by_a_model_that_never_saw_it() {
    let r = report();
    assert!(r.scored >= 100, "{} scored cases", r.scored);
    assert_eq!(r.folds, 5);
    let folds = casebench::folds(kb::kb().cases(), 5);
    // A source's cases share a fold, so no fitted case's sibling report is scored beside it.
    let mut fold_of_source = std::collections::BTreeMap::new();
    for (case, fold) in kb::kb().cases().iter().zip(&folds) {
        let seen = fold_of_source.entry(case.source_group()).or_insert(*fold);
        assert_eq!(seen, fold, "{} split across folds", case.source_group());
    }
    for m in Mode::ALL {
        let scored = r
            .results
            .iter()
            .filter(|c| c.mode == m.as_str() && c.scored)
            .count();
        assert_eq!(scored, r.scored, "{} mode", m.as_str());
        for c in r.results.iter().filter(|c| c.mode == m.as_str()) {
            assert_eq!(c.fold, folds[case_index(&c.id)], "{}", c.id);
        }
    }
}

fn case_index(id: &str) -> usize {
    kb::kb()
        .cases()
        .iter()
        .position(|c| c.id == id)
        .unwrap_or_else(|| panic!("{id} is not in the corpus"))
}

/// The least a mode's learned diagnosis may score: (top-3, top-1, group, confident wrong rate,
/// ECE).
fn assert_at_least(name: &str, top3: f64, top1: f64, group: f64, wrong: f64, ece: f64) {
    let d = &mode(name).learned;
    assert!(d.top3 >= top3, "{name} top-3 {:.2}", d.top3);
    assert!(d.top1 >= top1, "{name} top-1 {:.2}", d.top1);
    assert!(d.group >= group, "{name} group {:.2}", d.group);
    assert!(
        d.confident_wrong_rate <= wrong,
        "{name} confident wrong {}",
        d.confident_wrong
    );
    assert!(d.ece <= ece, "{name} ECE {:.3}", d.ece);
}

#[test]
fn the_report_alone_names_the_confirmed_cause_in_the_top_three_of_most_cases() {
    assert_at_least("text", 0.78, 0.47, 0.65, 0.04, 0.21);
}

#[test]
fn device_code_program_and_tried_steps_keep_the_confirmed_cause_near_the_top() {
    assert_at_least("flags", 0.71, 0.44, 0.60, 0.03, 0.19);
}

/// What the fit adds over the knowledge base alone on these cases: a better log-loss, fewer
/// confident wrong answers and the right group at least as often, in both modes. (From the
/// report alone the knowledge base's own reading scores about as well on top-3: the README's
/// Benchmarks section has both.)
#[test]
fn learning_from_the_other_folds_does_not_lose_to_the_knowledge_base_alone() {
    for name in ["text", "flags"] {
        let m = mode(name);
        let (learned, alone) = (&m.learned, &m.kb_only);
        assert!(
            learned.log_loss <= alone.log_loss + 0.02,
            "{name}: log-loss learned {:.2}, knowledge base alone {:.2}",
            learned.log_loss,
            alone.log_loss
        );
        assert!(
            learned.confident_wrong <= alone.confident_wrong,
            "{name}: confident wrong learned {}, knowledge base alone {}",
            learned.confident_wrong,
            alone.confident_wrong
        );
        assert!(
            learned.group + 0.02 >= alone.group,
            "{name}: group learned {:.2}, knowledge base alone {:.2}",
            learned.group,
            alone.group
        );
    }
}

#[test]
fn the_advice_reaches_the_fix_before_a_repair_and_costs_less_than_the_checklist() {
    for name in ["text", "flags"] {
        let m = mode(name);
        let engine = &m.advice["engine"];
        let checklist = &m.advice["seed_tree"];
        assert!(
            engine.fix_before_repair >= 0.87,
            "{name}: fix before repair {:.2}",
            engine.fix_before_repair
        );
        assert!(
            engine.wasted_repair <= checklist.wasted_repair,
            "{name}: wasted repair engine {:.2}, checklist {:.2}",
            engine.wasted_repair,
            checklist.wasted_repair
        );
        let ratio = m
            .cost_vs_seed_tree
            .expect("a cost ratio against the checklist");
        assert!(ratio <= 0.74, "{name}: cost {ratio:.2}× the checklist's");
    }
}
