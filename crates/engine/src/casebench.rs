//! `bench cases`: the diagnosis and the advice scored on real cases (`kb::RealCase`), in
//! cross-validation when the model learns from the same corpus.
//!
//! Folds are by source ([`kb::RealCase::source_group`]: the site, or the GitHub repository), so
//! no case is scored by a model fitted on its own thread or project: each fold's cases are
//! diagnosed by a model fitted on the other folds ([`crate::learn::fit`]); the knowledge base
//! alone (nothing fitted) is scored on the same cases beside it, so the gain from learning shows.
//!
//! **Diagnosis**, on the scored cases (confidence high or medium, a confirmed cause): top-1,
//! top-3 and group accuracy (the most likely group is the confirmed cause's), log-loss and
//! Brier score of the posterior, a calibration table (the top cause's probability in tenths
//! against how often it was right) with its expected calibration error, and a confusion table.
//! Confident wrong answers (top cause ≥ 0.8 and not the confirmed one) count over every case
//! with a cause, low-confidence ones too.
//!
//! **Advice**, on the scored cases: the person follows the recommended next step (actions only;
//! a question is not answered, as nobody knows the answer), the step fails unless it is one
//! that fixes the confirmed cause (P(fixes) ≥ [`FIX_THRESHOLD`] in the knowledge base), and the
//! diagnosis is run again with that failure, until a fixing step, a repair (the shop or a
//! technician's repair) or [`MAX_STEPS`]. The same is done with the seeds' fixed checklist
//! (`seed_tree`). Figures: how often the real fix comes before any repair (cases whose cause is
//! not hardware), how often a repair is paid for that was not needed, and the mean cost to the
//! fix in minutes + dollars (a path that ends without the fix pays the shop).

use crate::api::{DiagnoseRequest, DiagnoseResponse, diagnose_fitted};
use crate::corpus::{Mode, examples, request_for};
use crate::evidence::{ActionTried, StepOutcome};
use crate::learn::{Fit, fit};
use crate::model::SERVICE_ACTION;
use crate::sim::SEED_TREE;
use kb::{Action, KnowledgeBase, RealCase, Skill, vocab};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// P(fixes | cause) from which a step counts as the fix of a case with that cause.
pub const FIX_THRESHOLD: f64 = 0.5;
/// A followed path gives up after this many steps (and pays the shop).
pub const MAX_STEPS: usize = 15;
/// The top cause's probability from which a wrong answer counts as confident.
pub const CONFIDENT: f64 = 0.8;

/// What to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Cross-validation folds (by source); 1 fits nothing and scores the knowledge base alone.
    pub folds: usize,
    pub modes: Vec<Mode>,
    /// Also follow the advice (slower: a diagnosis per step).
    pub advice: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            folds: 5,
            modes: Mode::ALL.to_vec(),
            advice: true,
        }
    }
}

/// One calibration bin: the top cause's probability in [low, high).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Bin {
    pub low: f64,
    pub high: f64,
    pub cases: usize,
    /// Mean top-cause probability in the bin.
    pub confidence: f64,
    /// Share of the bin's cases whose top cause was right.
    pub accuracy: f64,
}

/// Diagnosis figures for one mode and one model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Diagnosis {
    /// Scored cases.
    pub cases: usize,
    pub top1: f64,
    pub top3: f64,
    pub group: f64,
    pub log_loss: f64,
    pub brier: f64,
    pub calibration: Vec<Bin>,
    /// Expected calibration error over the bins.
    pub ece: f64,
    /// Every case with a cause (any confidence): how many, and how many had a wrong top cause
    /// at ≥ [`CONFIDENT`].
    pub all_cases: usize,
    pub confident_wrong: usize,
    pub confident_wrong_rate: f64,
    /// Confirmed cause → top cause → count (scored cases).
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

/// Advice figures for one policy.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Advice {
    pub cases: usize,
    /// Cases whose cause is not hardware.
    pub not_hardware: usize,
    /// Share of those where the fix comes before any repair.
    pub fix_before_repair: f64,
    /// Share of those that pay for a repair they did not need.
    pub wasted_repair: f64,
    /// Mean minutes + dollars to the fix (all scored cases).
    pub mean_cost: f64,
    pub mean_steps: f64,
}

/// Figures for one mode.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModeReport {
    pub mode: String,
    /// The model fitted on the other folds.
    pub learned: Diagnosis,
    /// The knowledge base alone.
    pub kb_only: Diagnosis,
    /// Following the learned model's advice, the knowledge base's, and the seeds' checklist.
    pub advice: BTreeMap<String, Advice>,
    /// engine (learned) / seed_tree mean cost.
    pub cost_vs_seed_tree: Option<f64>,
}

/// How one case went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub mode: String,
    pub fold: usize,
    pub cause: String,
    pub scored: bool,
    /// The three most likely causes (learned model) with their probability.
    pub top: Vec<(String, f64)>,
    pub top_kb: Vec<(String, f64)>,
    /// The probability of each group of causes (learned model).
    #[serde(default)]
    pub groups: BTreeMap<String, f64>,
    /// The steps followed (learned model's advice), and whether the fix was reached before a
    /// repair.
    pub steps: Vec<String>,
    pub fixed_before_repair: Option<bool>,
    /// What following the engine's advice, and the seeds' checklist, cost to the fix (or to
    /// the shop's repair).
    #[serde(default)]
    pub cost: Option<f64>,
    #[serde(default)]
    pub seed_tree_cost: Option<f64>,
    /// The same for the engine on the knowledge base alone.
    #[serde(default)]
    pub kb_only_cost: Option<f64>,
}

/// The `bench cases --json` report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub cases: usize,
    pub scored: usize,
    pub folds: usize,
    pub modes: Vec<ModeReport>,
    pub results: Vec<CaseResult>,
}

/// Fold of every case: source groups sorted largest first (then by name) go to the fold with
/// the fewest cases so far, so folds are balanced and deterministic.
pub fn folds(cases: &[RealCase], k: usize) -> Vec<usize> {
    let k = k.max(1);
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        groups.entry(c.source_group()).or_default().push(i);
    }
    let mut order: Vec<(String, Vec<usize>)> = groups.into_iter().collect();
    order.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut size = vec![0usize; k];
    let mut fold = vec![0usize; cases.len()];
    for (_, members) in order {
        let f = (0..k).min_by_key(|&f| (size[f], f)).unwrap_or(0);
        size[f] += members.len();
        for i in members {
            fold[i] = f;
        }
    }
    fold
}

/// The actions that fix a cause (P ≥ [`FIX_THRESHOLD`]), not counting the shop.
fn fixing_actions(kb: &KnowledgeBase, cause: &str) -> BTreeSet<String> {
    kb.actions()
        .iter()
        .filter(|a| a.id != SERVICE_ACTION)
        .filter(|a| a.fixes.get(cause).copied().unwrap_or(0.0) >= FIX_THRESHOLD)
        .map(|a| a.id.clone())
        .collect()
}

/// A step that is paid for at a repair shop: the service call or a technician's repair.
fn is_repair(a: &Action) -> bool {
    a.id == SERVICE_ACTION || a.skill != Skill::Owner
}

/// Steps a case says were already done (they are not done again).
fn tried_actions(kb: &KnowledgeBase, case: &RealCase) -> BTreeSet<String> {
    case.tried
        .iter()
        .filter_map(|t| vocab::action(kb, vocab::tried_alias(t).unwrap_or(t)))
        .map(|a| a.id.clone())
        .collect()
}

/// Where following a policy ends.
#[derive(Debug, Clone, PartialEq)]
struct Walk {
    steps: Vec<String>,
    cost: f64,
    /// The fix came before any repair.
    fixed_first: bool,
    /// A repair was paid for (the shop or a technician's repair).
    repaired: bool,
}

fn walk(
    kb: &KnowledgeBase,
    fixes: &BTreeSet<String>,
    next: &mut dyn FnMut(&[String]) -> Option<String>,
) -> Walk {
    let mut steps: Vec<String> = Vec::new();
    let mut cost = 0.0;
    let shop = kb.action(SERVICE_ACTION);
    for _ in 0..MAX_STEPS {
        let Some(id) = next(&steps) else { break };
        let Some(a) = kb.action(&id) else { break };
        cost += a.cost.minutes + a.cost.usd;
        steps.push(id.clone());
        if fixes.contains(&id) {
            return Walk {
                steps,
                cost,
                fixed_first: true,
                repaired: false,
            };
        }
        if is_repair(a) {
            return Walk {
                steps,
                cost,
                fixed_first: false,
                repaired: true,
            };
        }
    }
    // Nothing left or given up: the shop.
    if let Some(s) = shop {
        cost += s.cost.minutes + s.cost.usd;
    }
    Walk {
        steps,
        cost,
        fixed_first: false,
        repaired: true,
    }
}

/// Follow the engine's advice for a request: diagnose, take the next action (or the plan's
/// first), record it as failed, again.
fn follow_engine(
    kb: &KnowledgeBase,
    fit: Option<&Fit>,
    req: &DiagnoseRequest,
    fixes: &BTreeSet<String>,
) -> Walk {
    walk(kb, fixes, &mut |done| {
        let mut r = req.clone();
        r.steps.extend(done.iter().map(|a| ActionTried {
            action: a.clone(),
            outcome: StepOutcome::Failed,
        }));
        let resp = diagnose_fitted(kb, fit, &r).ok()?;
        resp.next_step
            .as_ref()
            .filter(|s| s.kind == "action")
            .map(|s| s.action.clone())
            .or_else(|| resp.plan.first().map(|p| p.action.clone()))
            .filter(|a| !done.contains(a))
    })
}

/// Follow the seeds' checklist, skipping what was already tried.
fn follow_seed_tree(
    tried: &BTreeSet<String>,
    kb: &KnowledgeBase,
    fixes: &BTreeSet<String>,
) -> Walk {
    let mut order = SEED_TREE
        .iter()
        .map(|s| s.to_string())
        .filter(|s| !tried.contains(s));
    walk(kb, fixes, &mut |_| order.next())
}

fn top3(resp: &DiagnoseResponse) -> Vec<(String, f64)> {
    resp.causes
        .iter()
        .take(3)
        .map(|c| (c.id.clone(), c.probability))
        .collect()
}

/// Accumulates diagnosis figures.
#[derive(Default)]
struct Tally {
    scored: usize,
    top1: usize,
    top3: usize,
    group: usize,
    log_loss: f64,
    brier: f64,
    bins: [(usize, f64, usize); 10],
    all: usize,
    confident_wrong: usize,
    confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Tally {
    fn add(&mut self, resp: &DiagnoseResponse, cause: &str, scored: bool) {
        let Some(top) = resp.causes.first() else {
            return;
        };
        self.all += 1;
        if top.probability >= CONFIDENT && top.id != cause {
            self.confident_wrong += 1;
        }
        if !scored {
            return;
        }
        self.scored += 1;
        let right = top.id == cause;
        self.top1 += right as usize;
        self.top3 += resp.causes.iter().take(3).any(|c| c.id == cause) as usize;
        let group = vocab::group_of(cause).unwrap_or("");
        let best_group = resp
            .groups
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(g, _)| g.as_str());
        self.group += (best_group == Some(group)) as usize;
        let p_true = resp
            .causes
            .iter()
            .find(|c| c.id == cause)
            .map_or(0.0, |c| c.probability);
        self.log_loss += -p_true.max(1e-6).ln();
        self.brier += resp
            .causes
            .iter()
            .map(|c| {
                let y = if c.id == cause { 1.0 } else { 0.0 };
                (c.probability - y).powi(2)
            })
            .sum::<f64>()
            + if p_true == 0.0 { 1.0 } else { 0.0 };
        let b = ((top.probability * 10.0) as usize).min(9);
        self.bins[b].0 += 1;
        self.bins[b].1 += top.probability;
        self.bins[b].2 += right as usize;
        *self
            .confusion
            .entry(cause.to_string())
            .or_default()
            .entry(top.id.clone())
            .or_default() += 1;
    }

    fn finish(self) -> Diagnosis {
        let n = self.scored.max(1) as f64;
        let calibration: Vec<Bin> = self
            .bins
            .iter()
            .enumerate()
            .filter(|(_, b)| b.0 > 0)
            .map(|(i, b)| Bin {
                low: i as f64 / 10.0,
                high: (i + 1) as f64 / 10.0,
                cases: b.0,
                confidence: b.1 / b.0 as f64,
                accuracy: b.2 as f64 / b.0 as f64,
            })
            .collect();
        let ece = calibration
            .iter()
            .map(|b| b.cases as f64 / n * (b.accuracy - b.confidence).abs())
            .sum();
        Diagnosis {
            cases: self.scored,
            top1: self.top1 as f64 / n,
            top3: self.top3 as f64 / n,
            group: self.group as f64 / n,
            log_loss: self.log_loss / n,
            brier: self.brier / n,
            calibration,
            ece,
            all_cases: self.all,
            confident_wrong: self.confident_wrong,
            confident_wrong_rate: self.confident_wrong as f64 / self.all.max(1) as f64,
            confusion: self.confusion,
        }
    }
}

/// Accumulates advice figures.
#[derive(Default)]
struct AdviceTally {
    cases: usize,
    not_hardware: usize,
    fixed_first: usize,
    wasted: usize,
    cost: f64,
    steps: usize,
}

impl AdviceTally {
    fn add(&mut self, w: &Walk, hardware: bool) {
        self.cases += 1;
        self.cost += w.cost;
        self.steps += w.steps.len();
        if !hardware {
            self.not_hardware += 1;
            self.fixed_first += w.fixed_first as usize;
            self.wasted += w.repaired as usize;
        }
    }

    fn finish(&self) -> Advice {
        let nh = self.not_hardware.max(1) as f64;
        let n = self.cases.max(1) as f64;
        Advice {
            cases: self.cases,
            not_hardware: self.not_hardware,
            fix_before_repair: self.fixed_first as f64 / nh,
            wasted_repair: self.wasted as f64 / nh,
            mean_cost: self.cost / n,
            mean_steps: self.steps as f64 / n,
        }
    }
}

/// Score the engine on `cases`. Every case with a cause id is diagnosed; only scored ones
/// ([`RealCase::scored`]) count toward accuracy and advice, and only they are fitted.
pub fn run(kb: &KnowledgeBase, cases: &[RealCase], config: &Config) -> Report {
    run_with_progress(kb, cases, config, &mut |_, _| {})
}

/// [`run`], calling `progress(done, total)` after each case of each mode.
pub fn run_with_progress(
    kb: &KnowledgeBase,
    cases: &[RealCase],
    config: &Config,
    progress: &mut dyn FnMut(usize, usize),
) -> Report {
    let total = cases.len() * config.modes.len();
    let mut done = 0;
    let k = config.folds.max(1);
    let fold = folds(cases, k);
    // One fit per fold (fitted on the other folds' scored cases), shared by both modes.
    let fits: Vec<Option<Fit>> = (0..k)
        .map(|f| {
            if k == 1 {
                return None;
            }
            let train: Vec<&RealCase> = cases
                .iter()
                .zip(&fold)
                .filter(|(c, cf)| **cf != f && c.scored())
                .map(|(c, _)| c)
                .collect();
            Some(fit(kb, &examples(kb, &train)))
        })
        .collect();
    let mut modes = Vec::new();
    let mut results = Vec::new();
    for &mode in &config.modes {
        let mut learned = Tally::default();
        let mut kb_only = Tally::default();
        let mut advice: BTreeMap<&str, AdviceTally> = BTreeMap::new();
        for (i, case) in cases.iter().enumerate() {
            done += 1;
            progress(done, total);
            if kb.cause(&case.resolution_category).is_none() {
                continue;
            }
            let req = request_for(kb, case, mode);
            let fit = fits[fold[i]].as_ref();
            let (Ok(with_fit), Ok(alone)) = (
                diagnose_fitted(kb, fit, &req),
                diagnose_fitted(kb, None, &req),
            ) else {
                continue;
            };
            let scored = case.scored();
            learned.add(&with_fit, &case.resolution_category, scored);
            kb_only.add(&alone, &case.resolution_category, scored);
            let mut result = CaseResult {
                id: case.id.clone(),
                mode: mode.as_str().into(),
                fold: fold[i],
                cause: case.resolution_category.clone(),
                scored,
                top: top3(&with_fit),
                top_kb: top3(&alone),
                groups: with_fit.groups.clone(),
                steps: Vec::new(),
                fixed_before_repair: None,
                cost: None,
                seed_tree_cost: None,
                kb_only_cost: None,
            };
            if config.advice && scored {
                let hardware = vocab::group_of(&case.resolution_category) == Some("hardware");
                let mut fixes = fixing_actions(kb, &case.resolution_category);
                if hardware {
                    // A hardware fault is fixed at the shop.
                    fixes.insert(SERVICE_ACTION.to_string());
                }
                let e = follow_engine(kb, fit, &req, &fixes);
                let e_kb = follow_engine(kb, None, &req, &fixes);
                let s = follow_seed_tree(&tried_actions(kb, case), kb, &fixes);
                advice.entry("engine").or_default().add(&e, hardware);
                advice
                    .entry("engine_kb_only")
                    .or_default()
                    .add(&e_kb, hardware);
                advice.entry("seed_tree").or_default().add(&s, hardware);
                result.fixed_before_repair = (!hardware).then_some(e.fixed_first);
                result.cost = Some(e.cost);
                result.seed_tree_cost = Some(s.cost);
                result.kb_only_cost = Some(e_kb.cost);
                result.steps = e.steps;
            }
            results.push(result);
        }
        let advice: BTreeMap<String, Advice> = advice
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.finish()))
            .collect();
        let cost_vs_seed_tree = match (advice.get("engine"), advice.get("seed_tree")) {
            (Some(e), Some(s)) if s.mean_cost > 0.0 => Some(e.mean_cost / s.mean_cost),
            _ => None,
        };
        modes.push(ModeReport {
            mode: mode.as_str().into(),
            learned: learned.finish(),
            kb_only: kb_only.finish(),
            advice,
            cost_vs_seed_tree,
        });
    }
    Report {
        cases: cases.len(),
        scored: cases.iter().filter(|c| c.scored()).count(),
        folds: k,
        modes,
        results,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &str, url: &str, cause: &str) -> RealCase {
        RealCase {
            id: id.into(),
            source_url: url.into(),
            language: "en".into(),
            device: "iPhone 8".into(),
            product_type: None,
            error_code: None,
            host: "other".into(),
            ios_from: None,
            ios_to: None,
            report: "it fails".into(),
            tried: vec![],
            log_excerpt: None,
            resolution: "fixed".into(),
            resolution_category: cause.into(),
            confidence: "high".into(),
        }
    }

    #[test]
    fn folds_keep_a_source_together_and_balance_the_rest() {
        let cases = vec![
            case("a", "https://github.com/x/tool/issues/1", "usb_cable"),
            case("b", "https://github.com/x/tool/issues/2", "usb_cable"),
            case("c", "https://github.com/x/tool/issues/3", "usb_cable"),
            case("d", "https://blog.example/post", "nand"),
            case("e", "https://www.other.example/a", "nand"),
            case("f", "https://other.example/b", "nand"),
        ];
        let f = folds(&cases, 2);
        assert_eq!(f[0], f[1]);
        assert_eq!(f[1], f[2]);
        // www. is the same site.
        assert_eq!(f[4], f[5]);
        assert_ne!(f[0], f[3]);
        assert_eq!(f.iter().filter(|x| **x == f[0]).count(), 3);
    }

    #[test]
    fn the_seed_checklist_stops_at_the_fix_and_skips_what_was_tried() {
        let kb = kb::kb();
        let fixes = fixing_actions(kb, "host_software_outdated");
        assert!(fixes.contains("update_host_software"));
        let tried: BTreeSet<String> = ["swap_cable".to_string()].into();
        let w = follow_seed_tree(&tried, kb, &fixes);
        assert_eq!(w.steps, ["force_restart", "update_host_software"]);
        assert!(w.fixed_first && !w.repaired);
        let minutes: f64 = w
            .steps
            .iter()
            .map(|s| kb.action(s).unwrap().cost.minutes)
            .sum();
        assert_eq!(w.cost, minutes);
    }

    #[test]
    fn a_hardware_cause_is_fixed_at_the_shop_and_anything_else_there_is_a_wasted_repair() {
        let kb = kb::kb();
        let mut fixes = fixing_actions(kb, "nand");
        fixes.insert(SERVICE_ACTION.into());
        let w = follow_seed_tree(&BTreeSet::new(), kb, &fixes);
        assert_eq!(w.steps.last().map(String::as_str), Some(SERVICE_ACTION));
        assert!(w.fixed_first);
        let other = fixing_actions(kb, "other_hardware");
        let w = follow_seed_tree(&BTreeSet::new(), kb, &other);
        assert!(w.repaired && !w.fixed_first);
    }
}
