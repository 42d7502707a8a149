//! The next-step planner: repair actions by updating P-over-C, questions and bench tests by
//! myopic value of information (Heckerman, Breese & Rommelse 1995; research.md §C).
//!
//! The plan is built greedily: at every position the action with the highest
//! P(it fixes | everything earlier failed, evidence) / cost is taken, and the belief is updated
//! as if it failed. A service call (the shop) ends the plan once no action is worth more per
//! cost than handing the device over. The expected cost of repair ECR(e) is the plan's
//! Σᵢ C(aᵢ)·P(a₁…aᵢ₋₁ all failed | e). A question Q is worth asking when
//! C_Q + Σ_q P(Q=q | e)·ECR(e ∪ {Q=q}) < ECR(e).

use crate::evidence::Derived;
use crate::guardrails::{self, Block};
use crate::model::{Model, Role, SERVICE_ACTION, TECHNICIAN_TERMINAL, normalise, scalar_cost};
use kb::{Action, Observation};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// What losing the data on a device is worth, in the planner's units (minutes + dollars), when
/// nobody said it is backed up: charged to a technician's steps that erase it (a storage rework,
/// a board swap), so that the tests that localise a fault and the repairs that keep the data
/// come first. An estimate: about what a data-recovery service asks for a phone (the cause
/// `nand`'s `keep_data` advice), and more than most localised repairs.
pub const DATA_VALUE: f64 = 250.0;

/// The cost of the service call when the model has no `shop_diagnosis` action.
pub const DEFAULT_SERVICE_COST: f64 = 240.0;

/// A question or revealing step is worth it when it lowers the expected cost by this share of
/// it at least (smaller gains are within the precision of the numbers behind them); a question
/// must also change the next step for some likely answer (see [`MIN_OUTCOME_SHARE`]).
pub const MIN_GAIN_SHARE: f64 = 0.002;

/// An outcome this likely, at least, must change the next step for a question to be asked
/// ("asks only questions that change the next step").
pub const MIN_OUTCOME_SHARE: f64 = 0.05;

/// Below this total probability mass a plan stops (everything is resolved).
const MASS_EPS: f64 = 1e-9;

/// The fixed inputs of planning for one case state, with the tables the planner reads in its
/// inner loops worked out once (by position, not by cause or action id).
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub model: &'a Model,
    pub role: Role,
    pub derived: &'a Derived,
    /// P(hardware group) under the current evidence (guardrail 3).
    pub hardware_prob: f64,
    /// Scalar cost of every action (aligned with `model.actions`).
    costs: Vec<f64>,
    /// P(action fixes | cause) and P(outcome | cause) by position.
    tables: Arc<Tables>,
    /// Whether an action erases the device (aligned with `model.actions`).
    erases: Vec<bool>,
    /// Candidate repair actions (see [`Context::candidates`]), in action order.
    candidates: Vec<usize>,
    /// The Recovery Update action, when the model has one.
    update: Option<usize>,
    /// The service call's index and cost.
    service: Option<(usize, f64)>,
    /// The cost charged for the service call that ends a plan.
    c_service: f64,
    /// An erasing restore is among the steps done (the free restore before a repair was had).
    restored: bool,
}

/// A model's numbers by position, for the planner's inner loops: P(action fixes | cause) for
/// every action and P(outcome | cause) for every outcome of every observation.
#[derive(Debug)]
struct Tables {
    causes: usize,
    /// Row-major: `fix[a * causes + f]`.
    fix: Vec<f64>,
    /// The non-zero entries of every fix row, (cause, P) in cause order: an action fixes a few
    /// causes only.
    fix_nonzero: Vec<(usize, f64)>,
    /// The first non-zero entry of every action's row, and one past the last.
    fix_start: Vec<usize>,
    /// One row per (observation, outcome), observations in order, outcomes in order.
    likelihood: Vec<f64>,
    /// The first likelihood row of every observation, and one past the last.
    first_row: Vec<usize>,
}

/// How many cause lists keep their tables (one per device kind in practice).
const TABLE_CACHE: usize = 256;

impl Tables {
    fn build(model: &Model) -> Tables {
        let n = model.causes.len();
        let mut fix = Vec::with_capacity(model.actions.len() * n);
        for a in model.actions.iter() {
            fix.extend((0..n).map(|f| model.fix_prob(a, f)));
        }
        let mut fix_nonzero = Vec::new();
        let mut fix_start = vec![0];
        for row in fix.chunks_exact(n.max(1)).take(model.actions.len()) {
            fix_nonzero.extend(row.iter().copied().enumerate().filter(|(_, q)| *q != 0.0));
            fix_start.push(fix_nonzero.len());
        }
        fix_start.resize(model.actions.len() + 1, fix_nonzero.len());
        let mut likelihood = Vec::new();
        let mut first_row = vec![0];
        for obs in model.observations.iter() {
            for o in &obs.outcomes {
                likelihood.extend((0..n).map(|f| model.likelihood(obs, o, f)));
            }
            first_row.push(first_row.last().copied().unwrap_or(0) + obs.outcomes.len());
        }
        Tables {
            causes: n,
            fix,
            fix_nonzero,
            fix_start,
            likelihood,
            first_row,
        }
    }

    /// The tables for a model, from a per-process cache keyed by the model's lists of actions
    /// and observations (by identity: the embedded knowledge base's, or a fit's, which never
    /// change once shared), its cause ids and its error-code family. The cache keeps a clone
    /// of both lists, so no list it has tables for can be changed in place
    /// (`Arc::make_mut` copies a shared list) or freed and its address reused.
    fn for_model(model: &Model) -> Arc<Tables> {
        struct Entry {
            _lists: (Arc<Vec<Observation>>, Arc<Vec<Action>>),
            tables: Arc<Tables>,
        }
        type Key = (usize, usize, Vec<String>);
        type Cache = Mutex<BTreeMap<Key, Entry>>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(Cache::default);
        // The family decides which family-limited observations and actions apply.
        let key: Key = (
            Arc::as_ptr(&model.observations) as usize,
            Arc::as_ptr(&model.actions) as usize,
            model
                .causes
                .iter()
                .map(|c| c.id.clone())
                .chain(model.family.clone())
                .collect(),
        );
        if let Some(t) = cache
            .lock()
            .ok()
            .and_then(|c| c.get(&key).map(|e| e.tables.clone()))
        {
            return t;
        }
        let tables = Arc::new(Tables::build(model));
        if let Ok(mut c) = cache.lock() {
            if c.len() >= TABLE_CACHE {
                c.clear();
            }
            c.insert(
                key,
                Entry {
                    _lists: (model.observations.clone(), model.actions.clone()),
                    tables: tables.clone(),
                },
            );
        }
        tables
    }

    fn fix_row(&self, a: usize) -> &[f64] {
        &self.fix[a * self.causes..(a + 1) * self.causes]
    }

    /// Σ_f w[f]·P(a fixes f), bit for bit what the sum over every cause gives: the skipped
    /// terms are zeros, which change a non-zero running sum not at all (a zero total is
    /// summed in full, for its sign).
    fn fixed_mass(&self, w: &[f64], a: usize) -> f64 {
        let mut s = self.fixed_mass_sparse(w, a);
        if s == 0.0 {
            s = w.iter().zip(self.fix_row(a)).map(|(x, q)| x * q).sum();
        }
        s
    }

    /// Σ_f w[f]·P(a fixes f) over the row's non-zero entries: [`Tables::fixed_mass`] where that
    /// is not zero (a zero here may be −0.0 where the full sum is +0.0).
    fn fixed_mass_sparse(&self, w: &[f64], a: usize) -> f64 {
        let mut s = -0.0;
        for &(f, q) in &self.fix_nonzero[self.fix_start[a]..self.fix_start[a + 1]] {
            s += w[f] * q;
        }
        s
    }

    /// w[f] ← w[f]·(1 − P(a fixes f)) (unchanged where P is zero).
    fn fail(&self, w: &mut [f64], a: usize) {
        for &(f, q) in &self.fix_nonzero[self.fix_start[a]..self.fix_start[a + 1]] {
            w[f] *= 1.0 - q;
        }
    }

    /// P(outcome | cause) for every outcome of observation `o`, row-major.
    fn likelihood_rows(&self, o: usize) -> &[f64] {
        &self.likelihood[self.first_row[o] * self.causes..self.first_row[o + 1] * self.causes]
    }
}

/// Buffers reused across the many plans one recommendation builds.
#[derive(Debug, Default)]
struct Scratch {
    w: Vec<f64>,
    remaining: Vec<usize>,
    after: Vec<f64>,
    /// The first step of the last plan built (an action index, or the service call's).
    first: Option<usize>,
}

/// How much of a plan to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extent {
    /// Up to the service call that ends it.
    Whole,
    /// The first step only (its ECR is not the plan's).
    FirstStep,
}

/// One position of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanEntry {
    /// Index into `model.actions`.
    pub action: usize,
    /// P(this action fixes it | evidence and every earlier action failed).
    pub p_fix: f64,
    /// P(reaching this step) = P(every earlier action failed | evidence).
    pub p_reach: f64,
    /// Scalar cost (minutes + USD + skill weight).
    pub cost: f64,
    /// The service call that ends the plan.
    pub is_service: bool,
}

/// A question or test with its expected cost of observation.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionValue {
    /// Index into `model.observations`.
    pub observation: usize,
    /// C_Q + Σ_q P(q)·ECR(e ∪ {Q=q}).
    pub eco: f64,
    /// ECR(e) − ECO(Q): positive when worth asking.
    pub gain: f64,
    pub cost: f64,
}

/// What the planner recommends.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// ECR(e) of the plan.
    pub ecr: f64,
    pub plan: Vec<PlanEntry>,
    /// Questions and tests worth asking, best first; includes free ones.
    pub questions: Vec<QuestionValue>,
    /// A step worth taking now for what it shows when it fails as well as what it fixes,
    /// ahead of the plan (its `observation` field holds the action index).
    pub revealing: Option<QuestionValue>,
}

impl<'a> Context<'a> {
    pub fn new(model: &'a Model, role: Role, derived: &'a Derived, p: &[f64]) -> Self {
        let costs: Vec<f64> = model
            .actions
            .iter()
            .map(|a| {
                let mut c = scalar_cost(a.cost, a.skill);
                // A board-level step that erases (a storage rework, a board swap) destroys data
                // a localised repair would keep: unless the data is safe, its loss is a cost.
                if a.skill != kb::Skill::Owner
                    && a.data_risk == kb::DataRisk::ErasesDevice
                    && !derived.data_safe
                {
                    c += DATA_VALUE;
                }
                c
            })
            .collect();
        // The step that ends a plan: the shop for an owner, a board swap for a technician
        // (who is the shop).
        let terminal = match role {
            Role::Technician if model.action(TECHNICIAN_TERMINAL).is_some() => TECHNICIAN_TERMINAL,
            _ => SERVICE_ACTION,
        };
        // Once taken (and it did not fix it), the terminal step is not planned again; one that
        // erases (a board swap) only once erasing is allowed (guardrail 1): until then a
        // technician's plan ends with the tests and the repairs that keep the data.
        let service = model
            .action_index(terminal)
            .filter(|_| !derived.done.contains(terminal))
            .filter(|&i| {
                model.actions[i].data_risk != kb::DataRisk::ErasesDevice
                    || guardrails::erasing_allowed(derived, false)
            })
            .map(|i| (i, costs[i]));
        let c_service = model
            .service_cost
            .unwrap_or_else(|| service.map_or(DEFAULT_SERVICE_COST, |s| s.1));
        let mut ctx = Context {
            model,
            role,
            derived,
            hardware_prob: hardware_prob(model, p),
            costs,
            tables: Tables::for_model(model),
            erases: model
                .actions
                .iter()
                .map(|a| a.data_risk == kb::DataRisk::ErasesDevice)
                .collect(),
            candidates: Vec::new(),
            update: model.action_index(guardrails::RECOVERY_UPDATE),
            service,
            c_service,
            restored: model.actions.iter().any(|a| {
                a.is_restore
                    && a.data_risk == kb::DataRisk::ErasesDevice
                    && derived.done.contains(&a.id)
            }),
        };
        ctx.candidates = ctx.candidates();
        ctx
    }

    /// Why an action may not be used (None: usable).
    pub fn blocked(&self, action: &Action, update_planned: bool) -> Option<Block> {
        guardrails::blocked(
            self.model,
            self.role,
            self.derived,
            action,
            update_planned,
            self.hardware_prob,
        )
    }

    /// Candidate repair actions (not the service call, not blocked ignoring rule 1, which
    /// depends on the position in the plan).
    fn candidates(&self) -> Vec<usize> {
        self.model
            .actions
            .iter()
            .enumerate()
            .filter(|(i, a)| a.id != SERVICE_ACTION && self.service.is_none_or(|s| s.0 != *i))
            .filter(|(_, a)| self.blocked(a, true).is_none())
            .map(|(i, _)| i)
            .collect()
    }

    /// The updating P-over-C plan from belief `p` and its ECR.
    pub fn plan(&self, p: &[f64]) -> (f64, Vec<PlanEntry>) {
        let mut plan = Vec::new();
        let ecr = self.plan_with(p, &mut Scratch::default(), Some(&mut plan));
        (ecr, plan)
    }

    /// [`Context::plan`] with reused buffers; the steps go to `plan` when given.
    fn plan_with(&self, p: &[f64], s: &mut Scratch, plan: Option<&mut Vec<PlanEntry>>) -> f64 {
        self.plan_after(p, s, plan, None, Extent::Whole)
    }

    /// The first step of the plan from belief `p` (what `s.first` holds after
    /// [`Context::plan_with`]), without planning the steps after it.
    fn first_step(&self, p: &[f64], s: &mut Scratch) -> Option<usize> {
        self.plan_after(p, s, None, None, Extent::FirstStep);
        s.first
    }

    /// The plan from belief `p` once step `done` (if any) has been taken and failed: it is not
    /// planned again, and a failed Recovery Update unlocks the erasing steps.
    fn plan_after(
        &self,
        p: &[f64],
        s: &mut Scratch,
        mut plan: Option<&mut Vec<PlanEntry>>,
        done: Option<usize>,
        extent: Extent,
    ) -> f64 {
        let w = &mut s.w;
        w.clear();
        w.extend_from_slice(p);
        let remaining = &mut s.remaining;
        remaining.clear();
        remaining.extend(self.candidates.iter().copied().filter(|a| Some(*a) != done));
        s.first = None;
        let c_service = self.c_service;
        let mut update_planned = done.is_some() && done == self.update;
        // An erasing restore done or planned: the free restore before a repair has been had.
        let erasing_restore = |ai: usize| self.erases[ai] && self.model.actions[ai].is_restore;
        let mut erased = self.restored || done.is_some_and(erasing_restore);
        let mut ecr = 0.0;
        loop {
            let mass: f64 = w.iter().sum();
            if mass <= MASS_EPS {
                break;
            }
            let erasing_ok = guardrails::erasing_allowed(self.derived, update_planned);
            let mut best: Option<(usize, f64, f64)> = None; // (position in remaining, eff, p)
            for (pos, &ai) in remaining.iter().enumerate() {
                if self.erases[ai] && !erasing_ok {
                    continue;
                }
                // Only a step with pf > 0 can be taken, so the sparse sum alone will do: where
                // it is zero, `fixed_mass` would add up the whole row for the zero's sign only.
                let pf = self.tables.fixed_mass_sparse(w, ai);
                if pf.is_nan() || pf <= 0.0 {
                    continue;
                }
                let mut eff = pf / self.costs[ai];
                if Some(ai) == self.update && !erasing_ok {
                    // Recovery Update also unlocks the erasing steps (guardrail 1): score it
                    // as the pair "update, then the best erasing step" when that is better.
                    eff = eff.max(self.unlock_efficiency(w, ai, pf, remaining, &mut s.after));
                }
                if best.is_none_or(|b| eff > b.1) {
                    best = Some((pos, eff, pf));
                }
            }
            // Before an owner whose data is safe (backed up, or not needed) pays for a repair,
            // one erasing restore is done if none was (the seeds' owner phase ends with a DFU
            // restore): it fixes what an update could not, costs nothing but time, and when it
            // fails at the same point it is the plainest evidence of hardware the shop gets.
            // The best such step by chance per cost. (Without a safe backup the plan's value
            // alone decides: a restore is never pressed on data at risk.)
            let best = match best {
                Some(b) if b.1 > mass / c_service => Some(b),
                _ if self.role == Role::Owner && self.derived.data_safe && !erased => remaining
                    .iter()
                    .enumerate()
                    .filter(|&(_, &ai)| {
                        let a = &self.model.actions[ai];
                        a.is_restore && !a.is_repair_software && (!self.erases[ai] || erasing_ok)
                    })
                    .map(|(pos, &ai)| {
                        let pf = self.tables.fixed_mass_sparse(w, ai);
                        (pos, f64::INFINITY, pf, pf / self.costs[ai])
                    })
                    .filter(|b| b.2 > 0.0)
                    .max_by(|a, b| a.3.total_cmp(&b.3))
                    .map(|(pos, eff, pf, _)| (pos, eff, pf)),
                _ => None,
            };
            match best {
                Some((pos, eff, pf)) if eff > mass / c_service => {
                    let ai = remaining.remove(pos);
                    s.first.get_or_insert(ai);
                    ecr += self.costs[ai] * mass;
                    if let Some(plan) = plan.as_deref_mut() {
                        plan.push(PlanEntry {
                            action: ai,
                            p_fix: pf / mass,
                            p_reach: mass,
                            cost: self.costs[ai],
                            is_service: false,
                        });
                    }
                    self.tables.fail(w, ai);
                    if Some(ai) == self.update {
                        update_planned = true;
                    }
                    erased |= erasing_restore(ai);
                    if extent == Extent::FirstStep {
                        break;
                    }
                }
                _ => {
                    if let Some((si, _)) = self.service {
                        s.first.get_or_insert(si);
                    }
                    ecr += c_service * mass;
                    if let (Some((si, _)), Some(plan)) = (self.service, plan.as_deref_mut()) {
                        let pf = self.tables.fixed_mass(w, si);
                        plan.push(PlanEntry {
                            action: si,
                            // The service call ends the case; this is its chance of a repair.
                            p_fix: pf / mass,
                            p_reach: mass,
                            cost: c_service,
                            is_service: true,
                        });
                    }
                    break;
                }
            }
        }
        ecr
    }

    /// Efficiency of "Recovery Update, then the best erasing action" from survival mass `w`.
    fn unlock_efficiency(
        &self,
        w: &[f64],
        update: usize,
        pf_update: f64,
        remaining: &[usize],
        after: &mut Vec<f64>,
    ) -> f64 {
        let mass: f64 = w.iter().sum();
        after.clear();
        after.extend_from_slice(w);
        self.tables.fail(after, update);
        let mut best = 0.0_f64;
        for &ei in remaining {
            if !self.erases[ei] {
                continue;
            }
            let pf_e = self.tables.fixed_mass(after, ei);
            let cost = self.costs[update] + (mass - pf_update) / mass * self.costs[ei];
            best = best.max((pf_update + pf_e) / cost);
        }
        best
    }

    /// Whether a question or test may be asked now.
    pub fn may_ask(&self, obs: &Observation) -> bool {
        if matches!(obs.kind.as_str(), "log_fact" | "reported")
            || self.derived.answered.contains_key(&obs.id)
        {
            return false;
        }
        if !self.role.allows(obs.skill) {
            return false;
        }
        // A question about other devices than the knowledge base's (an iPod with a hard drive)
        // is not asked about a known iPhone, iPad or iPod touch.
        if obs.known_device.is_some() && self.model.device.is_some() {
            return false;
        }
        obs.needs.iter().all(|need| {
            guardrails::need_question(self.model, need)
                .is_none_or(|q| self.derived.answered.get(&q).is_none_or(|v| v != "no"))
        })
    }

    /// P(Q = q | e) for every outcome of the model's observation `oi`.
    pub fn outcome_probs(&self, oi: usize, p: &[f64]) -> Vec<f64> {
        let outcomes = self.model.observations[oi].outcomes.len();
        let mut probs: Vec<f64> = (0..outcomes)
            .map(|v| {
                let row = self.likelihoods(oi, v);
                (0..p.len()).map(|f| p[f] * row[f]).sum()
            })
            .collect();
        normalise(&mut probs);
        probs
    }

    /// P(outcome `v` of the model's observation `oi` | cause) for every cause
    /// ([`Model::likelihood`]), read from the planner's tables.
    pub fn likelihoods(&self, oi: usize, v: usize) -> &[f64] {
        let n = self.model.causes.len();
        &self.tables.likelihood_rows(oi)[v * n..(v + 1) * n]
    }

    /// The full recommendation: plan, ECR and the questions worth asking.
    pub fn recommend(&self, p: &[f64]) -> Recommendation {
        let mut scratch = Scratch::default();
        let mut plan = Vec::new();
        let ecr = self.plan_with(p, &mut scratch, Some(&mut plan));
        let first_now = plan.first().map(|e| e.action);
        let n = p.len();
        let mut questions = Vec::new();
        let mut probs: Vec<f64> = Vec::new();
        let mut post: Vec<f64> = Vec::with_capacity(n);
        for (oi, obs) in self.model.observations.iter().enumerate() {
            if !self.may_ask(obs) {
                continue;
            }
            let cost = if obs.cost.minutes + obs.cost.usd > 0.0 {
                scalar_cost(obs.cost, obs.skill)
            } else {
                0.0
            };
            // Only the first outcome may be skipped when it is the binary complement.
            if obs.outcomes.is_empty() {
                continue;
            }
            if cost >= ecr {
                continue;
            }
            let lik = self.tables.likelihood_rows(oi);
            // P(Q = q | e), as `outcome_probs` computes it.
            probs.clear();
            probs.extend(
                lik.chunks_exact(n.max(1))
                    .take(obs.outcomes.len())
                    .map(|row| (0..n).map(|f| p[f] * row[f]).sum::<f64>()),
            );
            probs.resize(obs.outcomes.len(), 0.0);
            normalise(&mut probs);
            // A question is kept only when a likely answer changes the next step. That needs
            // the first step of each likely answer's plan only: when none changes, the
            // question is passed over without planning every answer in full (most questions
            // are, and their plans were most of the work of a recommendation).
            let changes_next = probs.iter().enumerate().any(|(k, pq)| {
                // (MIN_OUTCOME_SHARE is above the 1e-12 below which an answer is not planned.)
                *pq >= MIN_OUTCOME_SHARE && {
                    post.clear();
                    post.extend(p.iter().zip(&lik[k * n..(k + 1) * n]).map(|(x, l)| x * l));
                    normalise(&mut post);
                    self.first_step(&post, &mut scratch) != first_now
                }
            });
            if !changes_next {
                continue;
            }
            let mut eco = cost;
            for (k, pq) in probs.iter().enumerate() {
                if *pq <= 1e-12 {
                    continue;
                }
                post.clear();
                post.extend(p.iter().zip(&lik[k * n..(k + 1) * n]).map(|(x, l)| x * l));
                normalise(&mut post);
                eco += pq * self.plan_with(&post, &mut scratch, None);
            }
            let gain = ecr - eco;
            if gain > MIN_GAIN_SHARE * ecr.max(1.0) {
                questions.push(QuestionValue {
                    observation: oi,
                    eco,
                    gain,
                    cost,
                });
            }
        }
        questions.sort_by(|a, b| a.eco.total_cmp(&b.eco));
        let revealing = self.best_revealing_step(p, ecr, first_now, &mut scratch);
        Recommendation {
            ecr,
            plan,
            questions,
            revealing,
        }
    }

    /// A step that shows something when it fails (a restore: whether it stops at the same
    /// point with the same error), valued for what it fixes and what it reveals: its cost plus
    /// the expected cost of the plan after each way it can fail. The best one, when that beats
    /// the plan as it stands and is not already its first step.
    fn best_revealing_step(
        &self,
        p: &[f64],
        ecr: f64,
        first_now: Option<usize>,
        scratch: &mut Scratch,
    ) -> Option<QuestionValue> {
        let n = p.len();
        let erasing_ok = guardrails::erasing_allowed(self.derived, false);
        let mut best: Option<QuestionValue> = None;
        let mut post: Vec<f64> = Vec::with_capacity(n);
        for &ai in &self.candidates {
            let action = &self.model.actions[ai];
            if Some(ai) == first_now
                || action.reveals.is_empty()
                || (self.erases[ai] && !erasing_ok)
            {
                continue;
            }
            // The first revealed observation that is still open.
            let Some(oi) = action.reveals.iter().find_map(|id| {
                self.model.observation_index(id).filter(|&oi| {
                    !self
                        .derived
                        .answered
                        .contains_key(&self.model.observations[oi].id)
                })
            }) else {
                continue;
            };
            let outcomes = self.model.observations[oi].outcomes.len();
            let lik = self.tables.likelihood_rows(oi);
            let mut eco = self.costs[ai];
            for k in 0..outcomes {
                // P(a fails and shows outcome k) and the belief after it.
                post.clear();
                post.extend(
                    (0..n).map(|f| p[f] * (1.0 - self.tables.fix[ai * n + f]) * lik[k * n + f]),
                );
                let pk: f64 = post.iter().sum();
                if pk <= 1e-12 {
                    continue;
                }
                normalise(&mut post);
                eco += pk * self.plan_after(&post, scratch, None, Some(ai), Extent::Whole);
            }
            let gain = ecr - eco;
            if gain > MIN_GAIN_SHARE * ecr.max(1.0) && best.as_ref().is_none_or(|b| eco < b.eco) {
                best = Some(QuestionValue {
                    observation: ai,
                    eco,
                    gain,
                    cost: self.costs[ai],
                });
            }
        }
        best
    }
}

/// P(hardware group) under belief `p`.
pub fn hardware_prob(model: &Model, p: &[f64]) -> f64 {
    model
        .causes
        .iter()
        .zip(p)
        .filter(|(c, _)| c.group == "hardware")
        .map(|(_, x)| x)
        .sum()
}

/// ECR of a fixed sequence of actions (no service call) from belief `p`:
/// Σᵢ C(aᵢ)·P(a₁…aᵢ₋₁ all failed | e). Used by tests and the simulator.
pub fn sequence_ecr(model: &Model, p: &[f64], seq: &[usize]) -> f64 {
    let mut w = p.to_vec();
    let mut total = 0.0;
    for &ai in seq {
        let a = &model.actions[ai];
        let mass: f64 = w.iter().sum();
        total += scalar_cost(a.cost, a.skill) * mass;
        for (f, x) in w.iter_mut().enumerate() {
            *x *= 1.0 - model.fix_prob(a, f);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Derived;
    use crate::testkit::{action, cause, small_model};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn cheap_likely_fix_comes_first_and_the_plan_ends_at_the_shop() {
        let m = small_model();
        let d = Derived::default();
        let ctx = Context::new(&m, Role::Owner, &d, &m.prior);
        let (ecr, plan) = ctx.plan(&m.prior);
        assert_eq!(m.actions[plan[0].action].id, "swap_cable");
        assert!(plan.last().unwrap().is_service);
        assert!(ecr > 0.0);
        // The plan's ECR is what its steps cost when reached.
        let by_hand: f64 = plan.iter().map(|e| e.cost * e.p_reach).sum();
        assert!((by_hand - ecr).abs() < 1e-9);
    }

    #[test]
    fn erasing_steps_wait_for_recovery_update() {
        let m = small_model();
        let d = Derived::default();
        let ctx = Context::new(&m, Role::Owner, &d, &m.prior);
        let (_, plan) = ctx.plan(&m.prior);
        let ids: Vec<&str> = plan
            .iter()
            .map(|e| m.actions[e.action].id.as_str())
            .collect();
        if let Some(dfu) = ids.iter().position(|a| *a == "dfu_restore") {
            let upd = ids.iter().position(|a| *a == "recovery_update").unwrap();
            assert!(upd < dfu, "{ids:?}");
        }
    }

    #[test]
    fn a_question_that_splits_the_causes_is_worth_asking() {
        let mut m = small_model();
        // A question whose "yes" makes updating the computer's software the step to take first.
        std::sync::Arc::make_mut(&mut m.observations).push(crate::testkit::binary(
            "old_host_software",
            "symptom",
            1.0,
            &[("host_software_outdated", 0.95), ("default", 0.03)],
        ));
        let d = Derived::default();
        let ctx = Context::new(&m, Role::Owner, &d, &m.prior);
        let rec = ctx.recommend(&m.prior);
        let old = m.observation_index("old_host_software").unwrap();
        assert!(
            rec.questions
                .iter()
                .any(|q| q.observation == old && q.gain > 0.0),
            "{:?}",
            rec.questions
        );
        // Liquid moves the storage chip a lot but leaves the cable swap first either way: not
        // worth asking now (it will be once it changes what to do next).
        let liquid = m.observation_index("liquid_exposure").unwrap();
        assert_eq!(m.actions[rec.plan[0].action].id, "swap_cable");
        assert!(rec.questions.iter().all(|q| q.observation != liquid));
        // backup_exists does not depend on the cause: never worth asking for the diagnosis.
        let backup = m.observation_index("backup_exists").unwrap();
        assert!(rec.questions.iter().all(|q| q.observation != backup));
    }

    /// Random single-fault model: action i fixes only cause i, with probability q[i].
    fn independent_model(prior: &[f64], q: &[f64], cost: &[f64]) -> Model {
        let ids: Vec<String> = (0..prior.len()).map(|i| format!("c{i}")).collect();
        let causes = ids.iter().map(|id| cause(id, "hardware")).collect();
        let table: BTreeMap<String, f64> = ids.iter().cloned().zip(prior.iter().copied()).collect();
        let actions = (0..prior.len())
            .map(|i| action(&format!("a{i}"), cost[i], &[(ids[i].as_str(), q[i])]))
            .collect();
        let mut m = Model::new(None, None, causes, &table, vec![], vec![], actions, vec![]);
        m.prior = prior.to_vec();
        normalise(&mut m.prior);
        m.service_cost = Some(f64::INFINITY);
        m
    }

    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for i in 0..=p.len() {
                let mut q = p.clone();
                q.insert(i, n - 1);
                out.push(q);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn p_over_c_order_equals_the_brute_force_optimum(
            spec in (2usize..=6).prop_flat_map(|n| (
                proptest::collection::vec(0.01f64..1.0, n),
                proptest::collection::vec(0.05f64..=1.0, n),
                proptest::collection::vec(1.0f64..120.0, n),
            ))
        ) {
            let (prior, q, cost) = spec;
            let m = independent_model(&prior, &q, &cost);
            let d = Derived::default();
            let ctx = Context::new(&m, Role::Owner, &d, &m.prior);
            let (_, plan) = ctx.plan(&m.prior);
            let order: Vec<usize> = plan.iter().map(|e| e.action).collect();
            prop_assert_eq!(order.len(), prior.len());
            let engine = sequence_ecr(&m, &m.prior, &order);
            let mut all: Vec<(f64, Vec<usize>)> = permutations(prior.len())
                .into_iter()
                .map(|p| (sequence_ecr(&m, &m.prior, &p), p))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0));
            prop_assert!((engine - all[0].0).abs() <= 1e-9 * all[0].0.max(1.0),
                "engine {} vs optimum {}", engine, all[0].0);
            if all[1].0 - all[0].0 > 1e-7 * all[0].0.max(1.0) {
                prop_assert_eq!(&order, &all[0].1);
            }
            // Step by step (recomputed after every failure) the engine takes the same order.
            let mut evidence = crate::evidence::Evidence::default();
            let mut stepped = Vec::new();
            for _ in 0..prior.len() {
                let d = crate::diagnose::diagnose(&m, &evidence, Role::Owner);
                let Some(crate::diagnose::Next::Act { action, .. }) = d.next else {
                    break;
                };
                stepped.push(action);
                evidence.actions.push(crate::evidence::ActionTried {
                    action: m.actions[action].id.clone(),
                    outcome: crate::evidence::StepOutcome::Failed,
                });
            }
            prop_assert!((sequence_ecr(&m, &m.prior, &stepped) - all[0].0).abs() <= 1e-9 * all[0].0.max(1.0));
        }
    }
}
