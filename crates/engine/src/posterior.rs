//! The single-fault Bayesian posterior over causes, with a trace of what each finding moved.

use crate::evidence::{Finding, Origin};
use crate::model::{Model, normalise};
use serde::Serialize;

/// How much a finding moved one cause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    pub cause: String,
    pub before: f64,
    pub after: f64,
}

/// What one finding did to the posterior.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    /// The finding in plain words.
    pub evidence: String,
    /// The causes it moved most (by at least two percentage points), largest move first.
    pub moves: Vec<Move>,
}

/// The posterior and how it got there.
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    /// Aligned with `model.causes`; sums to 1.
    pub p: Vec<f64>,
    pub trace: Vec<Effect>,
}

/// Multiply by P(outcome | cause) and renormalise.
pub fn observe(model: &Model, p: &mut [f64], observation: &str, outcome: &str) {
    observe_from(model, p, observation, outcome, &Origin::Stated, 1.0);
}

/// [`observe`] for an answer from a given origin: a thing the person's free text mentions is
/// weighed, under a fitted model, by how often people with each cause say it in their own words
/// ([`Model::said_as`]), its likelihood raised to `text_weight` ([`Model::mention_weight`]).
pub fn observe_from(
    model: &Model,
    p: &mut [f64],
    observation: &str,
    outcome: &str,
    origin: &Origin,
    text_weight: f64,
) {
    if let Some(obs) = model.observation(observation) {
        let mentioned = *origin == Origin::Text && model.applies(&obs.families);
        let weight = if mentioned || told_in_the_report(&obs.id, origin) {
            text_weight
        } else {
            1.0
        };
        for (i, x) in p.iter_mut().enumerate() {
            let l = mentioned
                .then(|| model.said_as(&obs.id, outcome, i))
                .flatten()
                .unwrap_or_else(|| model.likelihood(obs, outcome, i));
            *x *= l.powf(weight);
        }
        normalise(p);
    }
}

/// Observations the free text does not mention: P(not mentioned | cause) = 1 − mention rate,
/// under a fitted model (nothing without one), raised to `text_weight`.
pub fn silent(model: &Model, p: &mut [f64], observations: &[String], text_weight: f64) {
    for id in observations {
        let Some(obs) = model.observation(id) else {
            continue;
        };
        if !model.applies(&obs.families) {
            continue;
        }
        for (i, x) in p.iter_mut().enumerate() {
            if let Some(m) = model.mention_rate(id, i) {
                *x *= (1.0 - m).max(model.silent_floor()).powf(text_weight);
            }
        }
    }
    normalise(p);
}

/// An action done without success: P(f | a failed) ∝ P(f)·(1 − P(a fixes f)).
pub fn action_failed(model: &Model, p: &mut [f64], action: &str) {
    action_failed_from(model, p, action, &Origin::Attempts, 1.0);
}

/// [`action_failed`] for a failure from a given origin. A step the person *reports* having
/// tried (a flag, their own words) is weighed, under a fitted model, by how often people with
/// each cause report that step as tried and failed ([`Model::reported_failure`]): a step done
/// one's own way is weaker evidence than one done as the tool guided or a recorded attempt.
/// One the free text reports is raised to `text_weight`.
pub fn action_failed_from(
    model: &Model,
    p: &mut [f64],
    action: &str,
    origin: &Origin,
    text_weight: f64,
) {
    if let Some(a) = model.action(action) {
        let before = p.to_vec();
        let reported = matches!(origin, Origin::Stated | Origin::Text);
        let weight = if *origin == Origin::Text {
            text_weight
        } else {
            1.0
        };
        // The step's fitted rates, looked up once rather than for every cause.
        let rates = reported.then(|| model.reported_failures(&a.id)).flatten();
        for (i, x) in p.iter_mut().enumerate() {
            let l = rates
                .and_then(|r| r.get(&model.causes[i].id).copied())
                .unwrap_or_else(|| 1.0 - model.fix_prob(a, i));
            *x *= l.powf(weight);
        }
        if p.iter().sum::<f64>() <= 1e-12 {
            // The action fixes every cause for certain and yet failed: the model cannot
            // explain it; keep the belief rather than divide by zero.
            p.copy_from_slice(&before);
        }
        normalise(p);
    }
}

/// An action that made the restore work: P(f | a fixed) ∝ P(f)·P(a fixes f).
pub fn action_fixed(model: &Model, p: &mut [f64], action: &str) {
    if let Some(a) = model.action(action) {
        let before = p.to_vec();
        for (i, x) in p.iter_mut().enumerate() {
            *x *= model.fix_prob(a, i);
        }
        if p.iter().sum::<f64>() <= 1e-12 {
            p.copy_from_slice(&before);
        }
        normalise(p);
    }
}

/// Apply one finding; what the free text says is weighed as one of `text_weight`'s mentions
/// ([`Model::mention_weight`]).
pub fn apply(model: &Model, p: &mut [f64], finding: &Finding, text_weight: f64) {
    match finding {
        Finding::Observed {
            observation,
            outcome,
            origin,
        } => observe_from(model, p, observation, outcome, origin, text_weight),
        Finding::ActionFailed { action, origin } => {
            action_failed_from(model, p, action, origin, text_weight)
        }
        Finding::ActionFixed { action, .. } => action_fixed(model, p, action),
        Finding::Silent { observations } => silent(model, p, observations, text_weight),
    }
}

/// Whether an answer is part of the person's account of what happened, whether written or given
/// as a flag: the program they used. It is one more thing their story says (the program and what
/// went wrong with it are told together, and the corpus fitted the code families' priors from
/// the same reports), so it is tempered with the things the text says. Measured in
/// cross-validation (flags mode): log-loss 1.82 → 1.79, calibration error 0.177 → 0.143,
/// confident wrong answers 3 → 1.
fn told_in_the_report(observation: &str, origin: &Origin) -> bool {
    *origin == Origin::Stated && observation == crate::evidence::HOST_APP
}

/// How many things the person's account says (observations and failed steps read from the free
/// text, and the program however given): the count [`Model::mention_weight`] tempers by.
pub fn text_mentions(findings: &[Finding]) -> usize {
    findings
        .iter()
        .filter(|f| match f {
            Finding::Observed {
                observation,
                origin,
                ..
            } => *origin == Origin::Text || told_in_the_report(observation, origin),
            Finding::ActionFailed { origin, .. } => *origin == Origin::Text,
            _ => false,
        })
        .count()
}

/// The posterior given the findings, starting from the model's prior.
pub fn posterior(model: &Model, findings: &[Finding]) -> Posterior {
    let text_weight = model.mention_weight(text_mentions(findings));
    let mut p = model.prior.clone();
    let mut trace = Vec::new();
    for f in findings {
        let before = p.clone();
        apply(model, &mut p, f, text_weight);
        let mut moves: Vec<Move> = model
            .causes
            .iter()
            .enumerate()
            .filter(|(i, _)| (p[*i] - before[*i]).abs() >= 0.02)
            .map(|(i, c)| Move {
                cause: c.id.clone(),
                before: before[i],
                after: p[i],
            })
            .collect();
        moves.sort_by(|a, b| {
            (b.after - b.before)
                .abs()
                .total_cmp(&(a.after - a.before).abs())
        });
        moves.truncate(3);
        trace.push(Effect {
            evidence: describe(model, f),
            moves,
        });
    }
    // Known faults of the model whose story the evidence tells (liquid, a drop, the symptom).
    let mut weights: std::collections::BTreeMap<usize, (f64, &kb::KnownFault)> =
        std::collections::BTreeMap::new();
    for fault in &model.known_faults {
        if fault.triggers.is_empty() || !crate::model::fault_applies(fault, model.error_code) {
            continue;
        }
        let told = findings.iter().any(|f| match f {
            Finding::Observed {
                observation,
                outcome,
                ..
            } => crate::model::is_trigger(fault, observation, outcome),
            _ => false,
        });
        if let (true, Some(i)) = (told, model.cause_index(&fault.cause)) {
            let e = weights.entry(i).or_insert((1.0, fault));
            if fault.prior_weight > e.0 {
                *e = (fault.prior_weight, fault);
            }
        }
    }
    for (i, (w, fault)) in weights {
        let before = p[i];
        p[i] *= w;
        normalise(&mut p);
        trace.push(Effect {
            evidence: format!(
                "Known weakness of this model, and its story fits: {}",
                fault.title
            ),
            moves: vec![Move {
                cause: model.causes[i].id.clone(),
                before,
                after: p[i],
            }],
        });
    }
    let t = model.temperature();
    if t != 1.0 {
        for x in p.iter_mut() {
            *x = x.powf(t);
        }
        normalise(&mut p);
    }
    Posterior { p, trace }
}

/// A finding in plain words.
pub fn describe(model: &Model, f: &Finding) -> String {
    match f {
        Finding::Observed {
            observation,
            outcome,
            origin: o,
        } => {
            let q = model
                .observation(observation)
                .map(|o| o.question.trim_end_matches('?').to_string())
                .unwrap_or_else(|| observation.clone());
            format!("{q}: {outcome}{}", o.suffix())
        }
        Finding::ActionFailed { action, origin: o } => {
            let t = model.action(action).map_or(action.as_str(), |a| &a.title);
            format!("{t}: done, still fails{}", o.suffix())
        }
        Finding::ActionFixed { action, origin: o } => {
            let t = model.action(action).map_or(action.as_str(), |a| &a.title);
            format!("{t}: made it work{}", o.suffix())
        }
        Finding::Silent { observations } => format!(
            "Not mentioned in your description: {} thing{} people with some causes usually mention",
            observations.len(),
            if observations.len() == 1 { "" } else { "s" }
        ),
    }
}

/// A move in plain words ("USB cable 31% → 4%").
pub fn describe_move(model: &Model, m: &Move) -> String {
    let name = model
        .cause_index(&m.cause)
        .map_or(m.cause.as_str(), |i| &model.causes[i].name);
    format!("{name} {:.0}% → {:.0}%", m.before * 100.0, m.after * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::small_model;

    fn p_of(model: &Model, p: &[f64], id: &str) -> f64 {
        p[model.cause_index(id).unwrap()]
    }

    #[test]
    fn prior_sums_to_one_and_follows_the_table() {
        let m = small_model();
        assert!((m.prior.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p_of(&m, &m.prior, "usb_cable") > p_of(&m, &m.prior, "nand"));
    }

    #[test]
    fn a_failed_cable_swap_moves_belief_away_from_the_cable() {
        let m = small_model();
        let f = Finding::ActionFailed {
            action: "swap_cable".into(),
            origin: Origin::Stated,
        };
        let post = posterior(&m, &[f]);
        // P(cable | failed) ∝ 0.5 · 0.1 = 0.05; others 0.3 and 0.2: 0.05 / 0.55.
        assert!((p_of(&m, &post.p, "usb_cable") - 0.05 / 0.55).abs() < 1e-9);
        assert!((post.p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(post.trace.len(), 1);
        assert_eq!(post.trace[0].moves[0].cause, "usb_cable");
    }

    #[test]
    fn a_fix_points_at_what_the_action_fixes() {
        let m = small_model();
        let f = Finding::ActionFixed {
            action: "update_host_software".into(),
            origin: Origin::Stated,
        };
        let post = posterior(&m, &[f]);
        assert!(p_of(&m, &post.p, "host_software_outdated") > 0.999);
    }

    #[test]
    fn liquid_exposure_raises_nand() {
        let m = small_model();
        let mut p = m.prior.clone();
        observe(&m, &mut p, "liquid_exposure", "yes");
        // 0.2·0.9 = 0.18 vs 0.8·0.02 = 0.016.
        assert!((p_of(&m, &p, "nand") - 0.18 / 0.196).abs() < 1e-9);
        let mut q = m.prior.clone();
        observe(&m, &mut q, "liquid_exposure", "no");
        // Complement: 0.2·0.1 vs 0.8·0.98.
        assert!((p_of(&m, &q, "nand") - 0.02 / (0.02 + 0.784)).abs() < 1e-9);
    }

    #[test]
    fn an_action_that_should_always_work_but_failed_keeps_the_belief() {
        let mut m = small_model();
        for c in ["usb_cable", "host_software_outdated", "nand"] {
            std::sync::Arc::make_mut(&mut m.actions)[0]
                .fixes
                .insert(c.into(), 1.0);
        }
        let mut p = m.prior.clone();
        action_failed(&m, &mut p, "swap_cable");
        assert_eq!(p, m.prior);
    }

    #[test]
    fn a_fuller_report_weighs_each_thing_less_and_the_whole_more() {
        let mut m = small_model();
        assert_eq!(
            m.mention_weight(5),
            1.0,
            "nothing is tempered without a fit"
        );
        m.reports = Some(std::sync::Arc::new(crate::learn::ReportRates {
            mention_weight: crate::learn::MENTION_WEIGHT,
            silent_floor: 0.3,
            temperature: 1.0,
            observations: Default::default(),
            mentions: Default::default(),
            actions: Default::default(),
        }));
        let w: Vec<f64> = (0..=9).map(|k| m.mention_weight(k)).collect();
        assert_eq!(w[0], w[1], "no mention weighs as one");
        assert!(w.windows(2).all(|p| p[1] <= p[0] && p[1] > 0.0), "{w:?}");
        assert!(
            (w[4] - crate::learn::MENTION_WEIGHT / 2.0).abs() < 1e-12,
            "four count as two"
        );
        // The whole report's weight (k·w(k)) still grows with what it says.
        assert!((1..9).all(|k| (k + 1) as f64 * w[k + 1] > k as f64 * w[k]));
    }
}
