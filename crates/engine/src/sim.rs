//! Policy simulation (`bench policies`): cases drawn from the knowledge base's own model, run
//! to resolution by three policies on the same draws.
//!
//! A case draws a device (uniform over the catalogue), an error code (uniform over documented
//! codes) and a true cause from the model's prior for that device and code, plus what the person
//! has (a second computer with probability 0.7, a backup with probability 0.4), known to every
//! policy from the start. Answers come from the observations' likelihoods and action outcomes
//! from P(fixes | true cause); each is a deterministic function of (seed, case, step), so every
//! policy meets the same world. A case ends when a step fixes it or at the service call (the
//! shop), which always ends it.
//!
//! Policies:
//! - `seed_tree`: the fixed published order (cable, force restart, update the computer's
//!   software, Recovery Update, second computer, DFU restore, repair shop).
//! - `engine`: [`crate::diagnose`] step by step (quick questions first when worth it).
//! - `optimal`: exact expected-cost minimisation by dynamic programming over belief states
//!   (which actions failed, which answers were given). It is solved on a reduced problem per
//!   case: the [`OPTIMAL_ACTIONS`] actions with the best initial P/C ratio, the service call and
//!   the [`OPTIMAL_QUESTIONS`] questions of highest myopic value. The engine is run on the same
//!   reduced problem and `engine_vs_optimal` compares the two there.
//!
//! Cost is the engine's scalar cost (minutes + USD + skill weight); minutes and dollars are also
//! reported. The named cause at the end of a case is the posterior's most likely cause given the
//! evidence that policy gathered (the same inference for every policy); a verdict is correct
//! when it is the true cause. A data-loss event is an erasing step taken before Recovery Update
//! was tried while the person had no backup.

use crate::diagnose::{Next, diagnose};
use crate::evidence::{ActionTried, Answer, Evidence, StepOutcome};
use crate::guardrails::{RECOVERY_UPDATE, erasing_allowed};
use crate::model::{Model, Role, SERVICE_ACTION, normalise, scalar_cost};
use crate::planner::{Context, DEFAULT_SERVICE_COST};
use crate::posterior::posterior;
use crate::rng::Rng;
use crate::verdict::argmax;
use kb::{DataRisk, KnowledgeBase};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Candidate actions in the reduced problem the exact solver works on.
pub const OPTIMAL_ACTIONS: usize = 10;
/// Questions in the reduced problem.
pub const OPTIMAL_QUESTIONS: usize = 2;
/// Probability that the simulated person has a second computer.
pub const P_SECOND_COMPUTER: f64 = 0.7;
/// Probability that the simulated person has a backup.
pub const P_BACKUP: f64 = 0.4;
/// A case gives up after this many steps (then pays the service call).
pub const MAX_STEPS: usize = 40;

/// The fixed published order of `seed_tree`.
pub const SEED_TREE: [&str; 7] = [
    "swap_cable",
    "force_restart",
    "update_host_software",
    "recovery_update",
    "other_computer",
    "dfu_restore",
    SERVICE_ACTION,
];

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    pub cases: usize,
    pub seed: u64,
    pub role: Role,
}

/// One policy's figures (the *stable* `P` of design.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyStats {
    pub mean_cost: f64,
    pub mean_minutes: f64,
    pub mean_usd: f64,
    pub mean_steps: f64,
    pub correct_verdict_rate: f64,
    pub data_loss_events: u64,
    /// Mean dollars paid for repairs (the shop, a technician's repair) that did not fix the
    /// case, or that a cause outside the hardware did not need.
    #[serde(default)]
    pub mean_wasted_repair_usd: f64,
    /// How many cases these figures cover.
    pub cases: usize,
}

/// The `bench policies --json` report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    pub cases: usize,
    pub seed: u64,
    pub role: Role,
    pub policies: BTreeMap<String, PolicyStats>,
    /// engine / optimal mean cost on the reduced problems (the cases `optimal` covers).
    pub engine_vs_optimal: Option<f64>,
    /// engine / seed_tree mean cost on all cases.
    pub engine_vs_seed_tree: f64,
    /// The engine on the reduced problems `optimal` was solved on.
    pub engine_on_optimal_cases: PolicyStats,
    /// Exact expected costs on the reduced problems (no sampling noise): the engine's policy
    /// evaluated over every outcome, and the optimum.
    pub expected_on_optimal_cases: ExpectedCosts,
}

/// Mean exact expected costs over the reduced problems.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ExpectedCosts {
    pub engine: f64,
    pub optimal: f64,
    /// engine / optimal.
    pub ratio: f64,
}

/// One simulated case.
#[derive(Debug, Clone)]
pub struct Case {
    pub index: usize,
    pub model: Model,
    pub cause: usize,
    pub second_computer: bool,
    pub backup: bool,
}

/// The world of one case: deterministic answers and outcomes.
#[derive(Debug, Clone, Copy)]
struct World {
    seed: u64,
    case: usize,
    cause: usize,
}

impl World {
    fn rng(&self, tag: u64, item: usize) -> Rng {
        let mut r = Rng::new(
            self.seed
                ^ (self.case as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ tag.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
                ^ (item as u64).wrapping_mul(0x1656_67B1_9E37_79F9),
        );
        r.next_u64();
        r
    }

    fn fixes(&self, model: &Model, action: usize) -> bool {
        let a = &model.actions[action];
        self.rng(1, action).chance(model.fix_prob(a, self.cause))
    }

    fn answer(&self, model: &Model, obs: usize) -> String {
        let o = &model.observations[obs];
        let w: Vec<f64> = o
            .outcomes
            .iter()
            .map(|out| model.likelihood(o, out, self.cause))
            .collect();
        let i = self.rng(2, obs).weighted(&w);
        o.outcomes[i].clone()
    }
}

/// The run of one policy on one case.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    cost: f64,
    minutes: f64,
    usd: f64,
    steps: usize,
    correct: bool,
    data_loss: bool,
    /// Dollars paid for repairs (the shop, a technician's repair) that did not fix the case,
    /// or that a cause outside the hardware did not need.
    wasted_repair_usd: f64,
}

struct Tally {
    runs: Vec<Run>,
}

impl Tally {
    fn stats(&self) -> PolicyStats {
        let n = self.runs.len().max(1) as f64;
        PolicyStats {
            mean_cost: self.runs.iter().map(|r| r.cost).sum::<f64>() / n,
            mean_minutes: self.runs.iter().map(|r| r.minutes).sum::<f64>() / n,
            mean_usd: self.runs.iter().map(|r| r.usd).sum::<f64>() / n,
            mean_steps: self.runs.iter().map(|r| r.steps as f64).sum::<f64>() / n,
            correct_verdict_rate: self.runs.iter().filter(|r| r.correct).count() as f64 / n,
            data_loss_events: self.runs.iter().filter(|r| r.data_loss).count() as u64,
            mean_wasted_repair_usd: self.runs.iter().map(|r| r.wasted_repair_usd).sum::<f64>() / n,
            cases: self.runs.len(),
        }
    }
}

/// Draw `n` cases.
pub fn draw_cases(kb: &KnowledgeBase, n: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    let codes: Vec<i64> = kb.error_codes().iter().map(|c| c.code).collect();
    let devices = kb.devices();
    (0..n)
        .map(|index| {
            let device = &devices[rng.below(devices.len())];
            let code = codes[rng.below(codes.len())];
            let model = Model::from_kb(kb, Some(device), Some(code));
            let cause = rng.weighted(&model.prior);
            Case {
                index,
                model,
                cause,
                second_computer: rng.chance(P_SECOND_COMPUTER),
                backup: rng.chance(P_BACKUP),
            }
        })
        .collect()
}

/// The state a policy builds up while it works on a case.
struct Progress<'a> {
    model: &'a Model,
    world: World,
    evidence: Evidence,
    run: Run,
    backup: bool,
}

impl<'a> Progress<'a> {
    fn new(case: &'a Case, model: &'a Model, seed: u64) -> Self {
        let evidence = known_answers(case, model);
        Progress {
            model,
            world: World {
                seed,
                case: case.index,
                cause: case.cause,
            },
            evidence,
            run: Run::default(),
            backup: case.backup,
        }
    }

    fn pay(&mut self, cost: kb::Cost, skill: kb::Skill) {
        self.run.cost += scalar_cost(cost, skill);
        self.run.minutes += cost.minutes;
        self.run.usd += cost.usd;
        self.run.steps += 1;
    }

    /// Carry out an action; true when the case ends (fixed or service).
    fn act(&mut self, ai: usize) -> bool {
        let a = &self.model.actions[ai];
        self.pay(a.cost, a.skill);
        let repair = a.id == SERVICE_ACTION || a.skill != kb::Skill::Owner;
        let hardware = self.model.causes[self.world.cause].group == "hardware";
        if a.id == SERVICE_ACTION {
            if !hardware {
                self.run.wasted_repair_usd += a.cost.usd;
            }
            return true;
        }
        let update_done = self
            .evidence
            .actions
            .iter()
            .any(|t| t.action == RECOVERY_UPDATE);
        if a.data_risk == DataRisk::ErasesDevice && !update_done && !self.backup {
            self.run.data_loss = true;
        }
        let fixed = self.world.fixes(self.model, ai);
        if repair && (!fixed || !hardware) {
            self.run.wasted_repair_usd += a.cost.usd;
        }
        self.evidence.actions.push(ActionTried {
            action: a.id.clone(),
            outcome: if fixed {
                StepOutcome::Fixed
            } else {
                StepOutcome::Failed
            },
        });
        if !fixed {
            // A failed restore shows where it stopped (the same point as before, the same
            // error), as a real one does: the answers come with the step, free.
            for id in &a.reveals {
                if let Some(oi) = self.model.observation_index(id)
                    && !self.evidence.answers.iter().any(|x| x.observation == *id)
                {
                    let outcome = self.world.answer(self.model, oi);
                    self.evidence.answers.push(Answer {
                        observation: id.clone(),
                        outcome,
                    });
                }
            }
        }
        fixed
    }

    fn ask(&mut self, oi: usize) {
        let o = &self.model.observations[oi];
        self.pay(o.cost, o.skill);
        let outcome = self.world.answer(self.model, oi);
        self.evidence.answers.push(Answer {
            observation: o.id.clone(),
            outcome,
        });
    }

    fn service(&mut self) {
        match self.model.action_index(SERVICE_ACTION) {
            Some(si) => {
                self.act(si);
            }
            None => {
                self.run.cost += DEFAULT_SERVICE_COST;
                self.run.steps += 1;
            }
        }
    }

    fn finish(mut self) -> Run {
        let (findings, _) = self.evidence.findings(self.model);
        let p = posterior(self.model, &findings).p;
        self.run.correct = argmax(&p) == self.world.cause;
        self.run
    }
}

fn run_seed_tree(case: &Case, seed: u64, role: Role) -> Run {
    let model = &case.model;
    let mut pr = Progress::new(case, model, seed);
    for id in SEED_TREE {
        let Some(ai) = model.action_index(id) else {
            continue;
        };
        let a = &model.actions[ai];
        if !role.allows(a.skill) || (a.id == "other_computer" && !case.second_computer) {
            continue;
        }
        if pr.act(ai) {
            return pr.finish();
        }
    }
    if model.action_index(SERVICE_ACTION).is_none() {
        pr.service();
    }
    pr.finish()
}

fn run_engine(case: &Case, model: &Model, seed: u64, role: Role) -> Run {
    let mut pr = Progress::new(case, model, seed);
    for _ in 0..MAX_STEPS {
        let d = diagnose(model, &pr.evidence, role);
        if d.derived.fixed_by.is_some() {
            return pr.finish();
        }
        if let Some(q) = d.free_questions.first() {
            pr.ask(q.observation);
            continue;
        }
        match d.next {
            Some(Next::Act { action, .. }) => {
                if pr.act(action) {
                    return pr.finish();
                }
            }
            Some(Next::Observe { observation }) => pr.ask(observation),
            None => {
                pr.service();
                return pr.finish();
            }
        }
    }
    pr.service();
    pr.finish()
}

/// What the simulated person knows before the first step: whether they have a second computer
/// and a backup (only where the knowledge base asks these questions).
fn known_answers(case: &Case, model: &Model) -> Evidence {
    let mut evidence = Evidence::default();
    for (q, yes) in [
        ("has_second_computer", case.second_computer),
        ("backup_exists", case.backup),
    ] {
        if model.observation(q).is_some() {
            evidence.answers.push(Answer {
                observation: q.into(),
                outcome: if yes { "yes" } else { "no" }.into(),
            });
        }
    }
    evidence
}

/// The reduced problem of a case for the exact solver: the best actions by initial P/C, the
/// service call, and the questions of highest myopic value.
pub fn reduce(case: &Case, role: Role) -> Model {
    let model = &case.model;
    let evidence = known_answers(case, model);
    let (_, derived) = evidence.findings(model);
    let ctx = Context::new(model, role, &derived, &model.prior);
    let mut scored: Vec<(usize, f64)> = model
        .actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.id != SERVICE_ACTION && ctx.blocked(a, true).is_none())
        .map(|(i, a)| {
            let pf: f64 = (0..model.causes.len())
                .map(|f| model.prior[f] * model.fix_prob(a, f))
                .sum();
            (i, pf / scalar_cost(a.cost, a.skill))
        })
        .filter(|(_, e)| *e > 0.0)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut keep: Vec<usize> = scored
        .iter()
        .take(OPTIMAL_ACTIONS)
        .map(|(i, _)| *i)
        .collect();
    // Recovery Update unlocks the erasing steps: keep it when an erasing step is kept.
    if let Some(ru) = model.action_index(RECOVERY_UPDATE) {
        let erasing = keep
            .iter()
            .any(|&i| model.actions[i].data_risk == DataRisk::ErasesDevice);
        if erasing && !keep.contains(&ru) && ctx.blocked(&model.actions[ru], true).is_none() {
            keep.pop();
            keep.push(ru);
        }
    }
    if let Some(si) = model.action_index(SERVICE_ACTION) {
        keep.push(si);
    }
    keep.sort();
    let rec = ctx.recommend(&model.prior);
    let mut questions: Vec<usize> = rec
        .questions
        .iter()
        .take(OPTIMAL_QUESTIONS)
        .map(|q| q.observation)
        .collect();
    for q in ["has_second_computer", "backup_exists"] {
        if let Some(i) = model.observation_index(q) {
            questions.push(i);
        }
    }
    questions.sort();
    questions.dedup();
    let mut reduced = model.clone();
    reduced.actions = std::sync::Arc::new(keep.iter().map(|&i| model.actions[i].clone()).collect());
    reduced.observations = std::sync::Arc::new(
        questions
            .iter()
            .map(|&i| model.observations[i].clone())
            .collect(),
    );
    reduced
}

/// Exact expected-cost solver over belief states (failed-action set, answers) of a reduced
/// model. Only the first [`OPTIMAL_QUESTIONS`]-ish diagnostic questions are decision options;
/// `has_*`/`backup_exists` are fixed by the case.
pub struct Optimal<'m> {
    model: &'m Model,
    role: Role,
    data_safe: bool,
    second_computer: bool,
    /// Observation indexes the solver may ask.
    questions: Vec<usize>,
    memo: HashMap<(u32, u32), (f64, Choice)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Choice {
    Service,
    Act(usize),
    Ask(usize),
}

impl<'m> Optimal<'m> {
    pub fn new(model: &'m Model, role: Role, case: &Case) -> Self {
        let questions = (0..model.observations.len())
            .filter(|&i| {
                let o = &model.observations[i];
                o.id != "has_second_computer"
                    && o.id != "backup_exists"
                    && role.allows(o.skill)
                    && o.kind != "log_fact"
                    && o.needs
                        .iter()
                        .all(|n| n != "second_computer" || case.second_computer)
            })
            .collect();
        Optimal {
            model,
            role,
            data_safe: case.backup,
            second_computer: case.second_computer,
            questions,
            memo: HashMap::new(),
        }
    }

    fn service_cost(&self) -> f64 {
        self.model
            .action(SERVICE_ACTION)
            .map_or(DEFAULT_SERVICE_COST, |a| scalar_cost(a.cost, a.skill))
    }

    /// Unnormalised belief for a state: prior × likelihoods of the answers × (1 − q) of the
    /// failed actions.
    fn weights(&self, failed: u32, answers: u32) -> Vec<f64> {
        let m = self.model;
        let mut w = m.prior.clone();
        for (ai, a) in m.actions.iter().enumerate() {
            if failed & (1 << ai) != 0 {
                for (f, x) in w.iter_mut().enumerate() {
                    *x *= 1.0 - m.fix_prob(a, f);
                }
            }
        }
        for (k, &oi) in self.questions.iter().enumerate() {
            let ans = (answers >> (4 * k)) & 0xF;
            if ans != 0 {
                let o = &m.observations[oi];
                let outcome = &o.outcomes[(ans - 1) as usize];
                for (f, x) in w.iter_mut().enumerate() {
                    *x *= m.likelihood(o, outcome, f);
                }
            }
        }
        w
    }

    fn allowed(&self, failed: u32, ai: usize) -> bool {
        let a = &self.model.actions[ai];
        if a.id == SERVICE_ACTION || failed & (1 << ai) != 0 || !self.role.allows(a.skill) {
            return false;
        }
        if a.id == "other_computer" && !self.second_computer {
            return false;
        }
        if a.data_risk == DataRisk::ErasesDevice {
            let update_done = self
                .model
                .action_index(RECOVERY_UPDATE)
                .is_some_and(|ru| failed & (1 << ru) != 0);
            let derived = crate::evidence::Derived {
                data_safe: self.data_safe,
                ..Default::default()
            };
            if !erasing_allowed(&derived, update_done) {
                return false;
            }
        }
        true
    }

    /// Minimal expected remaining cost from a state, and the choice that achieves it.
    fn solve(&mut self, failed: u32, answers: u32) -> (f64, Choice) {
        if let Some(v) = self.memo.get(&(failed, answers)) {
            return *v;
        }
        let m = self.model;
        let mut w = self.weights(failed, answers);
        normalise(&mut w);
        let mut best = (self.service_cost(), Choice::Service);
        let hardware = crate::planner::hardware_prob(m, &w);
        for ai in 0..m.actions.len() {
            if !self.allowed(failed, ai) {
                continue;
            }
            let a = &m.actions[ai];
            if a.is_repair_software && hardware >= crate::guardrails::HARDWARE_BANS_REPAIR_SOFTWARE
            {
                continue;
            }
            let pf: f64 = (0..w.len()).map(|f| w[f] * m.fix_prob(a, f)).sum();
            if pf <= 1e-12 {
                continue;
            }
            let c = scalar_cost(a.cost, a.skill);
            if c >= best.0 {
                continue;
            }
            let rest = if pf >= 1.0 - 1e-12 {
                0.0
            } else {
                self.solve(failed | (1 << ai), answers).0
            };
            let v = c + (1.0 - pf) * rest;
            if v < best.0 - 1e-12 {
                best = (v, Choice::Act(ai));
            }
        }
        for k in 0..self.questions.len() {
            if (answers >> (4 * k)) & 0xF != 0 {
                continue;
            }
            let oi = self.questions[k];
            let o = &m.observations[oi];
            let c = scalar_cost(o.cost, o.skill);
            if c >= best.0 {
                continue;
            }
            let mut probs: Vec<f64> = o
                .outcomes
                .iter()
                .map(|out| (0..w.len()).map(|f| w[f] * m.likelihood(o, out, f)).sum())
                .collect();
            normalise(&mut probs);
            let mut v = c;
            for (j, pq) in probs.iter().enumerate() {
                if *pq > 1e-12 {
                    let next = answers | (((j + 1) as u32) << (4 * k));
                    v += pq * self.solve(failed, next).0;
                }
            }
            if v < best.0 - 1e-12 {
                best = (v, Choice::Ask(oi));
            }
        }
        self.memo.insert((failed, answers), best);
        best
    }

    /// Expected cost of the optimal policy from the start.
    pub fn expected_cost(&mut self) -> f64 {
        self.solve(0, 0).0
    }
}

fn base_evidence(case: &Case, model: &Model) -> Evidence {
    let mut evidence = Evidence::default();
    for (q, yes) in [
        ("has_second_computer", case.second_computer),
        ("backup_exists", case.backup),
    ] {
        if model.observation(q).is_some() {
            evidence.answers.push(Answer {
                observation: q.into(),
                outcome: if yes { "yes" } else { "no" }.into(),
            });
        }
    }
    evidence
}

/// The exact expected cost of the engine's policy from `evidence`: every answer and every
/// failure is followed with its probability under the model.
pub fn engine_expected(model: &Model, role: Role, evidence: &Evidence, depth: usize) -> f64 {
    let d = diagnose(model, evidence, role);
    if d.derived.fixed_by.is_some() {
        return 0.0;
    }
    let service = || {
        model
            .action(SERVICE_ACTION)
            .map_or(DEFAULT_SERVICE_COST, |a| scalar_cost(a.cost, a.skill))
    };
    if depth >= MAX_STEPS {
        return service();
    }
    let observe = |oi: usize| -> f64 {
        let o = &model.observations[oi];
        let ctx = Context::new(model, role, &d.derived, &d.p);
        let probs = ctx.outcome_probs(oi, &d.p);
        let mut v = scalar_cost(o.cost, o.skill);
        for (out, pq) in o.outcomes.iter().zip(probs) {
            if pq > 1e-12 {
                let mut e = evidence.clone();
                e.answers.push(Answer {
                    observation: o.id.clone(),
                    outcome: out.clone(),
                });
                v += pq * engine_expected(model, role, &e, depth + 1);
            }
        }
        v
    };
    if let Some(q) = d.free_questions.first() {
        return observe(q.observation);
    }
    match d.next {
        Some(Next::Observe { observation }) => observe(observation),
        Some(Next::Act { action, .. }) => {
            let a = &model.actions[action];
            let c = scalar_cost(a.cost, a.skill);
            if a.id == SERVICE_ACTION {
                return c;
            }
            let pf: f64 = (0..d.p.len()).map(|f| d.p[f] * model.fix_prob(a, f)).sum();
            let mut e = evidence.clone();
            e.actions.push(ActionTried {
                action: a.id.clone(),
                outcome: StepOutcome::Failed,
            });
            c + (1.0 - pf) * engine_expected(model, role, &e, depth + 1)
        }
        None => service(),
    }
}

fn run_optimal(case: &Case, model: &Model, seed: u64, role: Role) -> Run {
    let mut solver = Optimal::new(model, role, case);
    let mut pr = Progress::new(case, model, seed);
    let mut failed = 0u32;
    let mut answers = 0u32;
    for _ in 0..MAX_STEPS {
        match solver.solve(failed, answers).1 {
            Choice::Service => {
                pr.service();
                return pr.finish();
            }
            Choice::Act(ai) => {
                if pr.act(ai) {
                    return pr.finish();
                }
                failed |= 1 << ai;
            }
            Choice::Ask(oi) => {
                pr.ask(oi);
                let k = solver.questions.iter().position(|&q| q == oi).unwrap();
                let given = &pr.evidence.answers.last().unwrap().outcome;
                let j = model.observations[oi]
                    .outcomes
                    .iter()
                    .position(|o| o == given)
                    .unwrap();
                answers |= ((j + 1) as u32) << (4 * k);
            }
        }
    }
    pr.service();
    pr.finish()
}

/// Run the benchmark.
pub fn run(kb: &KnowledgeBase, config: SimConfig) -> BenchReport {
    let cases = draw_cases(kb, config.cases, config.seed);
    let mut seed_tree = Tally { runs: vec![] };
    let mut engine = Tally { runs: vec![] };
    let mut optimal = Tally { runs: vec![] };
    let mut engine_small = Tally { runs: vec![] };
    let mut expected = (0.0, 0.0, 0usize);
    for case in &cases {
        seed_tree
            .runs
            .push(run_seed_tree(case, config.seed, config.role));
        engine
            .runs
            .push(run_engine(case, &case.model, config.seed, config.role));
        let reduced = reduce(case, config.role);
        if reduced.actions.len() <= OPTIMAL_ACTIONS + 2 {
            optimal
                .runs
                .push(run_optimal(case, &reduced, config.seed, config.role));
            engine_small
                .runs
                .push(run_engine(case, &reduced, config.seed, config.role));
            let start = base_evidence(case, &reduced);
            expected.0 += engine_expected(&reduced, config.role, &start, 0);
            expected.1 += Optimal::new(&reduced, config.role, case).expected_cost();
            expected.2 += 1;
        }
    }
    let s = seed_tree.stats();
    let e = engine.stats();
    let o = optimal.stats();
    let es = engine_small.stats();
    let mut policies = BTreeMap::new();
    policies.insert("seed_tree".to_string(), s);
    policies.insert("engine".to_string(), e);
    policies.insert("optimal".to_string(), o);
    BenchReport {
        cases: config.cases,
        seed: config.seed,
        role: config.role,
        policies,
        engine_vs_optimal: (o.cases > 0 && o.mean_cost > 0.0).then(|| es.mean_cost / o.mean_cost),
        engine_vs_seed_tree: if s.mean_cost > 0.0 {
            e.mean_cost / s.mean_cost
        } else {
            1.0
        },
        engine_on_optimal_cases: es,
        expected_on_optimal_cases: {
            let n = expected.2.max(1) as f64;
            ExpectedCosts {
                engine: expected.0 / n,
                optimal: expected.1 / n,
                ratio: if expected.1 > 0.0 {
                    expected.0 / expected.1
                } else {
                    1.0
                },
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Derived;

    #[test]
    fn same_seed_same_report() {
        let kb = kb::kb();
        let c = SimConfig {
            cases: 4,
            seed: 42,
            role: Role::Owner,
        };
        assert_eq!(run(kb, c), run(kb, c));
    }

    #[test]
    fn the_engine_never_loses_data_and_reports_every_policy() {
        let r = run(
            kb::kb(),
            SimConfig {
                cases: 8,
                seed: 3,
                role: Role::Owner,
            },
        );
        assert_eq!(r.policies["engine"].data_loss_events, 0);
        for name in ["seed_tree", "engine", "optimal"] {
            let p = &r.policies[name];
            assert!(p.mean_cost > 0.0 && p.mean_steps >= 1.0, "{name}: {p:?}");
            assert!((0.0..=1.0).contains(&p.correct_verdict_rate));
        }
    }

    #[test]
    fn the_engine_policy_never_beats_the_exact_optimum_in_expectation() {
        let kb = kb::kb();
        for case in draw_cases(kb, 6, 21) {
            let reduced = reduce(&case, Role::Owner);
            let start = base_evidence(&case, &reduced);
            let engine = engine_expected(&reduced, Role::Owner, &start, 0);
            let optimal = Optimal::new(&reduced, Role::Owner, &case).expected_cost();
            assert!(
                optimal <= engine + 1e-6,
                "optimal {optimal} > engine {engine}"
            );
        }
    }

    #[test]
    fn the_exact_solver_is_never_worse_than_the_greedy_plan() {
        // Without questions the greedy plan is one policy the solver considers, so the optimum's
        // expected cost cannot exceed the plan's ECR.
        let kb = kb::kb();
        for case in draw_cases(kb, 12, 9) {
            let mut reduced = reduce(&case, Role::Owner);
            std::sync::Arc::make_mut(&mut reduced.observations)
                .retain(|o| o.id == "has_second_computer" || o.id == "backup_exists");
            let mut answers = Evidence::default();
            for (q, yes) in [
                ("has_second_computer", case.second_computer),
                ("backup_exists", case.backup),
            ] {
                answers.answers.push(Answer {
                    observation: q.into(),
                    outcome: if yes { "yes" } else { "no" }.into(),
                });
            }
            let (_, derived): (_, Derived) = answers.findings(&reduced);
            let ctx = Context::new(&reduced, Role::Owner, &derived, &reduced.prior);
            let (ecr, _) = ctx.plan(&reduced.prior);
            let opt = Optimal::new(&reduced, Role::Owner, &case).expected_cost();
            assert!(opt <= ecr + 1e-6, "optimal {opt} > greedy {ecr}");
            assert!(opt > 0.0);
        }
    }
}
