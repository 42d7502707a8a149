//! Learning from real cases: the knowledge base's estimates are the prior, the corpus of real
//! cases (`knowledge/cases/`, see `kb::RealCase`) adds counts. What is fitted, and why this way,
//! is written up in `LEARNING.md` beside this crate.
//!
//! - **Cause rates per error-code family**: each family's confirmed causes are added to the
//!   knowledge base's prior as Dirichlet pseudo-counts, the knowledge base worth
//!   [`KB_PRIOR_STRENGTH`] cases (the mechanism a shop's own closed cases use, a third layer on
//!   top).
//! - **Observations**: a person reports a thing (a symptom, the program they used, a step's
//!   outcome) with some propensity; with cause `c` they report outcome `v` of observation `o`
//!   at the rate q(v | c) = (S·m·P(v | c) + k) / (S + n_c), where P(v | c) is the knowledge
//!   base's likelihood, m the share of all cases that report `o`, k the cases with cause `c`
//!   that reported `v`, n_c the cases with cause `c` and S = [`REPORT_STRENGTH`]. The fitted
//!   answer likelihood is q(v | c) / Σ_v q(v | c) (what the answer says when asked), and the
//!   mention rate Σ_v q(v | c) (how often people with that cause bring it up at all): a thing a
//!   person's free text mentions is weighed by both, and a thing it could have said but does not
//!   by 1 − the mention rate.
//! - **Steps reported as tried**: the same for "tried it, still fails": a reported failed step
//!   is weighed by q(a | c) / m, with the knowledge base's 1 − P(a fixes c) as the prior rate.
//!   The planner keeps the knowledge base's P(fixes): a step done as the tool guides is not the
//!   same as one a person says they did their own way.
//!
//! Pure: examples in, a [`Fit`] out. [`default_fit`] fits the embedded corpus once per process.

use crate::evidence::{Finding, Origin};
use crate::model::{KB_PRIOR_STRENGTH, MIN_LIKELIHOOD, likelihood};
use kb::{Action, Guide, KnowledgeBase, Observation};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

/// How many cases the knowledge base's P(step fixes | cause) is worth against the corpus's
/// reports of steps tried and failed (steps are reported loosely: a strong prior).
pub const STEP_STRENGTH: f64 = 30.0;

/// A cause needs this many cases before the corpus says anything about how steps reported as
/// tried bear on it (fewer: the knowledge base's P(fixes) alone).
pub const MIN_CASES_FOR_STEPS: f64 = 5.0;

/// The most a cause's rate correction may shift every family's prior, either way: the corpus is
/// one population (people who report in public), and specific evidence (a log that stops at
/// the storage chip three times) must still be able to carry a cause it rarely confirms.
pub const MAX_RATE_SHIFT: f64 = 2.0;

/// Pseudo-cases that pull each cause's rate correction toward 1 (no correction).
pub const RATE_SMOOTHING: f64 = 2.0;

/// How many cases the knowledge base's likelihoods and fix probabilities are worth when the
/// corpus's counts are added to them.
pub const REPORT_STRENGTH: f64 = 10.0;

/// One case as the model learns from it: its error-code family, what the engine read from it
/// (the same findings a diagnosis uses) and its confirmed cause.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub family: String,
    pub findings: Vec<Finding>,
    pub cause: String,
    /// The knowledge base's prior for this case (its code and device), cause id → P.
    pub kb_prior: BTreeMap<String, f64>,
}

/// The weight (an exponent) of evidence read from a person's own words when the report says one
/// thing; a report that says k things weighs each by this over √k (`Model::mention_weight`).
/// The things one report mentions are not independent of each other (one story, told once), so
/// multiplying their likelihoods as if they were counts the same story several times and makes
/// the posterior overconfident; √k lets a fuller report count for more than a short one, but
/// not k times more. The rule and the value were chosen by cross-validation on the corpus
/// (`bench cases`, LEARNING.md): against one weight of 0.6 for every mention, log-loss fell
/// 1.72 → 1.68 (text) and 1.87 → 1.82 (flags).
pub const MENTION_WEIGHT: f64 = 1.0;

/// The exponent on the final posterior of a fitted model (temperature scaling, Guo et al. 2017):
/// below 1 it spreads the belief. Naive Bayes over evidence that is not independent (one
/// person's story, a code and the program that showed it) is overconfident however each
/// likelihood is set; this one number, chosen by cross-validation on the corpus (log-loss and
/// calibration, `bench cases`), brings the stated probabilities in line with how often the top
/// cause is right. It changes no ranking.
pub const POSTERIOR_TEMPERATURE: f64 = 0.8;

/// The least likelihood a thing not mentioned keeps for any cause: a report that leaves out
/// what most people with a cause say (the program, say) is weaker evidence against that cause
/// than its rate alone makes it, since who writes a report, and how fully, varies.
pub const SILENT_FLOOR: f64 = 0.3;

/// Fitted rates at which people report things, per cause id.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReportRates {
    /// [`MENTION_WEIGHT`] for a fit; the exponent on the likelihood of what free text says.
    pub mention_weight: f64,
    /// [`SILENT_FLOOR`] for a fit.
    pub silent_floor: f64,
    /// [`POSTERIOR_TEMPERATURE`] for a fit.
    pub temperature: f64,
    /// Observation id → cause id → how often people with that cause mention it at all.
    pub observations: BTreeMap<String, BTreeMap<String, f64>>,
    /// Observation id → outcome → cause id → how often people with that cause say that
    /// outcome in their own words (the likelihood of a mention).
    #[serde(default)]
    pub mentions: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>,
    /// Action id → cause id → likelihood of "I tried it, it still fails" (relative).
    pub actions: BTreeMap<String, BTreeMap<String, f64>>,
}

/// What was learned from a corpus.
#[derive(Debug, Clone)]
pub struct Fit {
    /// How many cases were fitted.
    pub cases: usize,
    /// Error-code family → confirmed cause → count (added to the prior as pseudo-counts).
    pub family_counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// Cause id → how much more (or less) often the corpus confirms it than the knowledge
    /// base's priors expect over the same cases: every family's prior is reweighted by it
    /// before that family's own counts are added.
    pub cause_rates: BTreeMap<String, f64>,
    /// The observations with fitted likelihoods (in the knowledge base's order).
    pub observations: Arc<Vec<Observation>>,
    /// The knowledge base's actions (the planner's P(fixes) are not refitted).
    pub actions: Arc<Vec<Action>>,
    pub guides: Arc<Vec<Guide>>,
    pub reports: Arc<ReportRates>,
    /// Observation or action id → how many fitted cases reported it.
    pub reported: BTreeMap<String, usize>,
}

/// Fit the corpus `examples` on top of the knowledge base.
pub fn fit(kb: &KnowledgeBase, examples: &[Example]) -> Fit {
    let causes: Vec<&str> = kb.causes().iter().map(|c| c.id.as_str()).collect();
    let n = examples.len() as f64;
    let mut n_cause: BTreeMap<&str, f64> = BTreeMap::new();
    let mut family_counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for e in examples {
        *n_cause.entry(e.cause.as_str()).or_default() += 1.0;
        *family_counts
            .entry(e.family.clone())
            .or_default()
            .entry(e.cause.clone())
            .or_default() += 1;
    }
    let n_c = |c: &str| n_cause.get(c).copied().unwrap_or(0.0);
    let mut expected: BTreeMap<&str, f64> = BTreeMap::new();
    for e in examples {
        for (c, p) in &e.kb_prior {
            *expected.entry(c.as_str()).or_default() += p;
        }
    }
    let a = RATE_SMOOTHING;
    let cause_rates: BTreeMap<String, f64> = causes
        .iter()
        .map(|&c| {
            let e = expected.get(c).copied().unwrap_or(0.0);
            (
                c.to_string(),
                ((n_c(c) + a) / (e + a)).clamp(1.0 / MAX_RATE_SHIFT, MAX_RATE_SHIFT),
            )
        })
        .collect();

    // What each example reported: observation → outcome, and the steps tried and failed.
    let mut answers: Vec<BTreeMap<&str, &str>> = Vec::with_capacity(examples.len());
    let mut tried: Vec<BTreeSet<&str>> = Vec::with_capacity(examples.len());
    for e in examples {
        let mut a = BTreeMap::new();
        let mut t = BTreeSet::new();
        for f in &e.findings {
            match f {
                Finding::Observed {
                    observation,
                    outcome,
                    ..
                } => {
                    a.insert(observation.as_str(), outcome.as_str());
                }
                Finding::ActionFailed {
                    action,
                    origin: Origin::Stated | Origin::Text,
                } => {
                    t.insert(action.as_str());
                }
                _ => {}
            }
        }
        answers.push(a);
        tried.push(t);
    }

    let mut reports = ReportRates {
        mention_weight: MENTION_WEIGHT,
        silent_floor: SILENT_FLOOR,
        temperature: POSTERIOR_TEMPERATURE,
        observations: BTreeMap::new(),
        mentions: BTreeMap::new(),
        actions: BTreeMap::new(),
    };
    let mut reported: BTreeMap<String, usize> = BTreeMap::new();
    let mut observations: Vec<Observation> = kb.observations().to_vec();
    for obs in &mut observations {
        let said = answers
            .iter()
            .filter(|a| a.contains_key(obs.id.as_str()))
            .count();
        if said == 0 || obs.outcomes.is_empty() {
            continue;
        }
        reported.insert(obs.id.clone(), said);
        let m = said as f64 / n;
        let mut table: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        let mut said_as: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        let mut mention: BTreeMap<String, f64> = BTreeMap::new();
        // Per outcome: how often the corpus reports it (the knowledge base's average
        // likelihood as a prior worth S cases), and that average itself.
        let rates: Vec<(f64, f64)> = obs
            .outcomes
            .iter()
            .map(|v| {
                let count = answers
                    .iter()
                    .filter(|a| a.get(obs.id.as_str()) == Some(&v.as_str()))
                    .count() as f64;
                let mean_kb = examples
                    .iter()
                    .map(|e| likelihood(obs, v, &e.cause))
                    .sum::<f64>()
                    / n;
                let base = (count + REPORT_STRENGTH * m * mean_kb) / (n + REPORT_STRENGTH);
                (base, mean_kb)
            })
            .collect();
        for &c in &causes {
            let q: Vec<f64> = obs
                .outcomes
                .iter()
                .zip(&rates)
                .map(|(v, (base, mean_kb))| {
                    let k = examples
                        .iter()
                        .zip(&answers)
                        .filter(|(e, a)| {
                            e.cause == c && a.get(obs.id.as_str()) == Some(&v.as_str())
                        })
                        .count() as f64;
                    // The knowledge base says how much likelier (or less likely) this cause
                    // makes the outcome than causes do on average; the corpus says how often
                    // people report it at all.
                    let prior = if *mean_kb > 0.0 {
                        (base * likelihood(obs, v, c) / mean_kb).min(0.95)
                    } else {
                        0.0
                    };
                    (REPORT_STRENGTH * prior + k) / (REPORT_STRENGTH + n_c(c))
                })
                .collect();
            let total: f64 = q.iter().sum();
            mention.insert(c.to_string(), total.min(1.0));
            // The answer itself, as when asked or read from a log: among this cause's cases
            // that said anything about it, how often each outcome, the knowledge base's
            // likelihood worth S cases.
            let answered = examples
                .iter()
                .zip(&answers)
                .filter(|(e, a)| e.cause == c && a.contains_key(obs.id.as_str()))
                .count() as f64;
            for (v, qv) in obs.outcomes.iter().zip(&q) {
                let k = examples
                    .iter()
                    .zip(&answers)
                    .filter(|(e, a)| e.cause == c && a.get(obs.id.as_str()) == Some(&v.as_str()))
                    .count() as f64;
                let answer =
                    (REPORT_STRENGTH * likelihood(obs, v, c) + k) / (REPORT_STRENGTH + answered);
                table
                    .entry(v.clone())
                    .or_default()
                    .insert(c.to_string(), answer.clamp(MIN_LIKELIHOOD, 1.0));
                said_as
                    .entry(v.clone())
                    .or_default()
                    .insert(c.to_string(), qv.clamp(MIN_LIKELIHOOD, 1.0));
            }
        }
        obs.likelihood = table;
        reports.observations.insert(obs.id.clone(), mention);
        reports.mentions.insert(obs.id.clone(), said_as);
    }

    for a in kb.actions() {
        let fix = |c: &str| a.fixes.get(c).copied().unwrap_or(0.0).clamp(0.0, 1.0);
        let said = tried.iter().filter(|t| t.contains(a.id.as_str())).count();
        if said == 0 {
            continue;
        }
        reported.insert(a.id.clone(), said);
        let expected: f64 = examples.iter().map(|e| 1.0 - fix(&e.cause)).sum();
        if expected <= 0.0 {
            continue;
        }
        let m = said as f64 / expected;
        let mut rates = BTreeMap::new();
        for &c in &causes {
            if n_c(c) < MIN_CASES_FOR_STEPS {
                continue;
            }
            let k = examples
                .iter()
                .zip(&tried)
                .filter(|(e, t)| e.cause == c && t.contains(a.id.as_str()))
                .count() as f64;
            let s = STEP_STRENGTH;
            let q = (s * m * (1.0 - fix(c)) + k) / (s + n_c(c));
            // A step reported as failed is never evidence for a cause beyond one it cannot
            // fix: people with a cable fault who say they swapped the cable swapped it for
            // another bad one, or not at all.
            rates.insert(c.to_string(), (q / m).clamp(MIN_LIKELIHOOD, 1.0));
        }
        reports.actions.insert(a.id.clone(), rates);
    }

    Fit {
        cases: examples.len(),
        family_counts,
        cause_rates,
        observations: Arc::new(observations),
        actions: Arc::new(kb.actions().to_vec()),
        guides: Arc::new(kb.tables().guides.clone()),
        reports: Arc::new(reports),
        reported,
    }
}

/// The fit of the embedded corpus (every scored case), made once per process.
///
/// Reading every report of the corpus takes longer than a diagnosis should (the free-text
/// reader's patterns), so the fit of the embedded corpus is kept, already made, in
/// [`EMBEDDED_FIT`] (`crates/engine/fitted/default_fit.json`), and decoded here. A test
/// (`tests/fit.rs`) fits the corpus again and checks it is the same; after a change to the
/// corpus, the knowledge base or the reader, `cargo run -p engine --example write_fit` writes
/// it anew.
pub fn default_fit() -> &'static Fit {
    static FIT: OnceLock<Fit> = OnceLock::new();
    FIT.get_or_init(|| {
        let kb = kb::kb();
        match serde_json::from_str::<FitData>(EMBEDDED_FIT) {
            Ok(data) => Fit::from_data(kb, data),
            // Never reached with the file the tests check; still no panic.
            Err(_) => fit_corpus(kb),
        }
    })
}

/// Fit every scored case of the knowledge base's corpus (what [`default_fit`] holds).
pub fn fit_corpus(kb: &KnowledgeBase) -> Fit {
    let scored: Vec<&kb::RealCase> = kb.cases().iter().filter(|c| c.scored()).collect();
    fit(kb, &crate::corpus::examples(kb, &scored))
}

/// The fit of the embedded corpus, made by `examples/write_fit.rs`.
pub const EMBEDDED_FIT: &str = include_str!("../fitted/default_fit.json");

/// A [`Fit`] as data: what was learned, without the knowledge base it was learned on top of.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FitData {
    pub cases: usize,
    pub family_counts: BTreeMap<String, BTreeMap<String, u64>>,
    pub cause_rates: BTreeMap<String, f64>,
    /// Observation id → outcome → cause id → fitted P(outcome | cause), for the observations
    /// the corpus informs.
    pub likelihoods: BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>,
    pub reports: ReportRates,
    pub reported: BTreeMap<String, usize>,
}

impl Fit {
    /// What was learned, as data.
    pub fn data(&self) -> FitData {
        FitData {
            cases: self.cases,
            family_counts: self.family_counts.clone(),
            cause_rates: self.cause_rates.clone(),
            likelihoods: self
                .observations
                .iter()
                .filter(|o| self.reports.observations.contains_key(&o.id))
                .map(|o| (o.id.clone(), o.likelihood.clone()))
                .collect(),
            reports: (*self.reports).clone(),
            reported: self.reported.clone(),
        }
    }

    /// The fit again from its data, on top of `kb`.
    pub fn from_data(kb: &KnowledgeBase, data: FitData) -> Fit {
        let mut observations: Vec<Observation> = kb.observations().to_vec();
        for o in &mut observations {
            if let Some(l) = data.likelihoods.get(&o.id) {
                o.likelihood = l.clone();
            }
        }
        Fit {
            cases: data.cases,
            family_counts: data.family_counts,
            cause_rates: data.cause_rates,
            observations: Arc::new(observations),
            actions: Arc::new(kb.actions().to_vec()),
            guides: Arc::new(kb.tables().guides.clone()),
            reports: Arc::new(data.reports),
            reported: data.reported,
        }
    }
}

/// The fit a diagnosis with this knowledge base uses by default: the embedded corpus's for the
/// embedded knowledge base, none for one built by hand (tests).
pub fn fit_for(kb: &KnowledgeBase) -> Option<&'static Fit> {
    (std::ptr::eq(kb, kb::kb()) && kb.cases().iter().any(|c| c.scored())).then(default_fit)
}

/// The `KB_PRIOR_STRENGTH` the family counts are added against (re-exported for the docs).
pub const PRIOR_STRENGTH: f64 = KB_PRIOR_STRENGTH;
