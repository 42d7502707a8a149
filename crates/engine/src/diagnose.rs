//! One diagnosis: posterior, next step, plan, questions worth asking, verdict, warnings and
//! explanations, for a model, the evidence and a role.

use crate::evidence::{Derived, Evidence};
use crate::guardrails;
use crate::model::{Model, Role};
use crate::planner::{Context, QuestionValue, Recommendation};
use crate::posterior::{Effect, describe_move, posterior};
use crate::verdict::{Verdict, verdict};
use kb::DataRisk;

/// Guardrail 4 in plain words.
pub const DOWNGRADE_WARNING: &str = "Apple only allows installing iOS versions it still signs: a downgrade to an unsigned version is impossible, whatever a tool promises. Restore the latest signed version instead.";

/// What to do about a locked device, when the update could not start (device-state codes or
/// no code): unlock and trust first; a forgotten passcode leaves only an erasing restore.
pub const LOCKED_WARNING: &str = "The device was locked: unlock it with its passcode, tap Trust when it asks \"Trust This Computer?\", keep it on the Home Screen and start the Update again. If the passcode is forgotten (or it says it is disabled or unavailable), the only way back is a Restore from Recovery Mode, which erases it: a locked device cannot be backed up, so its data comes back only from a backup made before. A Recovery Mode Update keeps the data but leaves the passcode lock in place.";

/// The same for an error of another family: the lock is why the person restores, not why the
/// restore failed.
pub const LOCKED_OTHER_ERROR_WARNING: &str = "A locked device does not explain this error: it happens during the restore itself, so the steps below still apply. If the passcode is forgotten, a Restore (which erases) is the only way back in: a locked device cannot be backed up, so its data comes back only from a backup made before.";

/// The question whose answer says whether the data is safe to erase.
pub const BACKUP_QUESTION: &str = "backup_exists";

/// P(signing_or_downgrade) from which the "no downgrades" warning is shown.
pub const SIGNING_WARNING: f64 = 0.25;

/// The step to take now.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Carry out an action (index into `model.actions`). `ask_first`: a `has_*` question about
    /// something the action needs that the person has not answered yet.
    Act {
        action: usize,
        ask_first: Option<String>,
    },
    /// Answer a question or run a test that costs something (index into `model.observations`).
    Observe { observation: usize },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// Aligned with `model.causes`, sums to 1.
    pub p: Vec<f64>,
    pub trace: Vec<Effect>,
    pub derived: Derived,
    pub recommendation: Recommendation,
    /// None once it works or nothing is left.
    pub next: Option<Next>,
    /// Quick questions (the person knows or checks in a minute or two) worth answering first,
    /// best first. Longer questions and bench tests compete with actions for `next`.
    pub free_questions: Vec<QuestionValue>,
    pub verdict: Option<Verdict>,
    pub warnings: Vec<String>,
    /// The evidence is thin (the likeliest cause is below [`THIN_EVIDENCE`]): the questions
    /// that would best tell the leading causes apart (observation indexes), best first. Empty
    /// when the evidence is not thin.
    pub separating: Vec<usize>,
}

impl Diagnosis {
    /// P(group) for every group in display order (0 for groups with no applicable cause).
    pub fn groups(&self, model: &Model) -> Vec<(&'static str, f64)> {
        model
            .groups()
            .into_iter()
            .map(|(g, m)| (g, m.iter().map(|&i| self.p[i]).sum()))
            .collect()
    }

    /// The recommended action ids in order (next step first, then the rest of the plan).
    pub fn action_sequence<'m>(&self, model: &'m Model) -> Vec<&'m str> {
        self.recommendation
            .plan
            .iter()
            .map(|e| model.actions[e.action].id.as_str())
            .collect()
    }

    /// Why the next step: its chance, cost, and the evidence that moved the causes it fixes.
    pub fn why(&self, model: &Model) -> String {
        match &self.next {
            None => String::new(),
            Some(Next::Observe { observation }) => {
                let q = self
                    .recommendation
                    .questions
                    .iter()
                    .find(|q| q.observation == *observation);
                let o = &model.observations[*observation];
                match q {
                    Some(q) => format!(
                        "Knowing the answer lowers the expected cost of fixing this from {:.0} to {:.0} (minutes + dollars + skill), because it tells the likeliest causes apart.",
                        self.recommendation.ecr, q.eco
                    ),
                    None => format!("{}: the answer tells the likeliest causes apart.", o.id),
                }
            }
            Some(Next::Act { action, .. }) => {
                let a = &model.actions[*action];
                let entry = self
                    .recommendation
                    .plan
                    .iter()
                    .find(|e| e.action == *action);
                let mut why = match entry {
                    Some(e) if e.is_service => {
                        "Nothing cheaper left is likely enough to fix it; a repair shop can test the hardware.".to_string()
                    }
                    Some(e) => format!(
                        "{:.0}% chance this fixes it for about {:.0} min{}: the best chance per cost of the steps left.",
                        e.p_fix * 100.0,
                        a.cost.minutes,
                        if a.cost.usd > 0.0 {
                            format!(" and ${:.0}", a.cost.usd)
                        } else {
                            String::new()
                        }
                    ),
                    None => String::new(),
                };
                let fixes: Vec<&str> = {
                    let mut v: Vec<(&str, f64)> = model
                        .causes
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.name.as_str(), self.p[i] * model.fix_prob(a, i)))
                        .filter(|(_, x)| *x > 0.01)
                        .collect();
                    v.sort_by(|a, b| b.1.total_cmp(&a.1));
                    v.into_iter().take(3).map(|(n, _)| n).collect()
                };
                if !fixes.is_empty() {
                    why.push_str(&format!(" It addresses: {}.", fixes.join(", ")));
                }
                let moved: Vec<String> = self
                    .trace
                    .iter()
                    .filter(|e| !e.moves.is_empty())
                    .take(3)
                    .map(|e| {
                        let m: Vec<String> =
                            e.moves.iter().map(|m| describe_move(model, m)).collect();
                        format!("{} ({})", e.evidence, m.join(", "))
                    })
                    .collect();
                if !moved.is_empty() {
                    why.push_str(&format!(" Evidence so far: {}.", moved.join("; ")));
                }
                why
            }
        }
    }
}

/// A question the person answers from what they know or see in a minute or two (symptoms,
/// `has_*`), as opposed to a test that is a step of its own (another cable, a bench test).
pub fn is_quick_question(obs: &kb::Observation) -> bool {
    obs.kind != "bench_test" && obs.cost.minutes + obs.cost.usd < 5.0
}

/// Diagnose: posterior from the evidence, plan for the role, verdict and warnings.
pub fn diagnose(model: &Model, evidence: &Evidence, role: Role) -> Diagnosis {
    let (findings, derived) = evidence.findings(model);
    let post = posterior(model, &findings);
    let p = post.p;
    let ctx = Context::new(model, role, &derived, &p);
    let mut rec = ctx.recommend(&p);
    if derived.fixed_by.is_some() {
        rec.plan.clear();
        rec.questions.clear();
        rec.ecr = 0.0;
    }
    let mut verdict = verdict(model, &p, &derived, &rec);
    if verdict.as_ref().is_some_and(|v| v.group == "hardware") {
        // Guardrail 3 also applies when the verdict (not just the probability) is hardware.
        rec.plan
            .retain(|e| !model.actions[e.action].is_repair_software);
    }
    let (free, costed): (Vec<QuestionValue>, Vec<QuestionValue>) = rec
        .questions
        .iter()
        .cloned()
        .partition(|q| is_quick_question(&model.observations[q.observation]));
    // A step valued for what it reveals goes first when it beats a costed test too.
    if let Some(r) = rec
        .revealing
        .clone()
        .filter(|r| derived.fixed_by.is_none() && costed.first().is_none_or(|q| r.eco < q.eco))
    {
        let ai = r.observation;
        rec.plan.retain(|e| e.action != ai);
        let a = &model.actions[ai];
        let p_fix: f64 = (0..p.len()).map(|f| p[f] * model.fix_prob(a, f)).sum();
        rec.plan.insert(
            0,
            crate::planner::PlanEntry {
                action: ai,
                p_fix,
                p_reach: 1.0,
                cost: r.cost,
                is_service: false,
            },
        );
    }
    let revealing_first = rec
        .revealing
        .as_ref()
        .is_some_and(|r| rec.plan.first().is_some_and(|e| e.action == r.observation));
    let next = if derived.fixed_by.is_some() {
        None
    } else if let Some(q) = costed.first().filter(|_| !revealing_first) {
        Some(Next::Observe {
            observation: q.observation,
        })
    } else {
        rec.plan.first().map(|e| {
            let a = &model.actions[e.action];
            let ask_first = a
                .needs
                .iter()
                .find_map(|n| {
                    guardrails::need_question(model, n)
                        .filter(|q| !derived.answered.contains_key(q))
                })
                .or_else(|| {
                    // An erasing step is the best next one: is the data safe? (Asked when nobody
                    // said; a "no" takes erasing steps off the plan.)
                    (a.data_risk == DataRisk::ErasesDevice
                        && !derived.data_safe
                        && !derived.answered.contains_key(BACKUP_QUESTION)
                        && model.observation(BACKUP_QUESTION).is_some())
                    .then(|| BACKUP_QUESTION.to_string())
                });
            Next::Act {
                action: e.action,
                ask_first,
            }
        })
    };
    if verdict
        .as_ref()
        .is_some_and(|v| v.reason == crate::verdict::VerdictReason::StepsExhausted)
        && matches!(next, Some(Next::Observe { .. }))
    {
        // A test is still worth running: no verdict yet.
        verdict = None;
    }
    let mut warnings = warnings(model, &p, &derived, &rec, &ctx, verdict.as_ref());
    let separating =
        if derived.fixed_by.is_none() && p.iter().cloned().fold(0.0, f64::max) < THIN_EVIDENCE {
            separating_questions(&ctx, &p)
        } else {
            Vec::new()
        };
    if !separating.is_empty() {
        let mut top: Vec<usize> = (0..p.len()).collect();
        top.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
        let leading: Vec<String> = top
            .iter()
            .take(3)
            .map(|&i| format!("{} ({:.0}%)", model.causes[i].name, p[i] * 100.0))
            .collect();
        warnings.push(format!(
            "Not enough to go on yet: no cause stands out (the likeliest are {}). The steps below \
             are the cheapest safe ones either way; the questions under \"Answers that would \
             sharpen this\" tell these apart.",
            leading.join(", ")
        ));
    }
    Diagnosis {
        p,
        trace: post.trace,
        derived,
        recommendation: rec,
        next,
        free_questions: free,
        verdict,
        warnings,
        separating,
    }
}

/// Below this the likeliest cause is a guess: the diagnosis says so and asks what would tell
/// the leading causes apart, rather than put a confident face on a weak lead.
pub const THIN_EVIDENCE: f64 = 0.35;

/// How many separating questions to ask at most.
const SEPARATING_MAX: usize = 3;

/// The quick questions the person can answer (not yet answered) that tell the causes apart
/// best: by the expected fall in the entropy of the posterior (information gain, at least
/// 0.05 bits), best first.
fn separating_questions(ctx: &Context, p: &[f64]) -> Vec<usize> {
    let entropy =
        |q: &[f64]| -> f64 { q.iter().filter(|x| **x > 0.0).map(|x| -x * x.log2()).sum() };
    let h = entropy(p);
    let model = ctx.model;
    let mut gains: Vec<(usize, f64)> = model
        .observations
        .iter()
        .enumerate()
        .filter(|(_, o)| is_quick_question(o) && ctx.may_ask(o) && model.applies(&o.families))
        .map(|(oi, _)| {
            let probs = ctx.outcome_probs(oi, p);
            let after: f64 = probs
                .iter()
                .enumerate()
                .filter(|(_, pq)| **pq > 1e-12)
                .map(|(v, pq)| {
                    let row = ctx.likelihoods(oi, v);
                    let mut post: Vec<f64> = (0..p.len()).map(|i| p[i] * row[i]).collect();
                    crate::model::normalise(&mut post);
                    pq * entropy(&post)
                })
                .sum();
            (oi, h - after)
        })
        .filter(|(_, g)| *g >= 0.05)
        .collect();
    gains.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    gains
        .into_iter()
        .take(SEPARATING_MAX)
        .map(|(oi, _)| oi)
        .collect()
}

fn warnings(
    model: &Model,
    p: &[f64],
    derived: &Derived,
    rec: &Recommendation,
    ctx: &Context,
    verdict: Option<&Verdict>,
) -> Vec<String> {
    let mut out = Vec::new();
    let erasing_in_plan: Vec<&str> = rec
        .plan
        .iter()
        .map(|e| &model.actions[e.action])
        .filter(|a| a.data_risk == DataRisk::ErasesDevice)
        .map(|a| a.title.as_str())
        .collect();
    let update_done = derived.done.contains(guardrails::RECOVERY_UPDATE);
    if !erasing_in_plan.is_empty() {
        if derived.data_safe && !update_done {
            out.push(format!(
                "Erases the device: {}. You said the data is backed up or does not matter; if that is not so, do the Recovery Mode Update (keeps data) first.",
                erasing_in_plan.join(", ")
            ));
        } else if !derived.data_safe {
            out.push(format!(
                "Erases the device: {}. Only after the Recovery Mode Update (which keeps data) has failed; if the data matters and there is no backup, ask a repair shop for data recovery before erasing.",
                erasing_in_plan.join(", ")
            ));
        }
    }
    if !guardrails::restores_allowed(derived) {
        let stage = derived
            .same_point_stage
            .map(|s| format!(" ({})", s.as_str()))
            .unwrap_or_default();
        out.push(format!(
            "It failed {} times at the same point{stage}: stop restoring. Repeated restores can make a failing storage chip lose what is left; ask a repair shop for a board-level diagnosis and data recovery, not a board swap.",
            derived.same_point_failures
        ));
    }
    if derived
        .answered
        .get("device_locked")
        .is_some_and(|v| v == "yes")
    {
        let evidence_here = model
            .observation("device_locked")
            .is_some_and(|o| model.applies(&o.families));
        out.push(
            if evidence_here {
                LOCKED_WARNING
            } else {
                LOCKED_OTHER_ERROR_WARNING
            }
            .to_string(),
        );
    }
    if let Some(i) = model.cause_index("signing_or_downgrade")
        && p[i] >= SIGNING_WARNING
    {
        out.push(DOWNGRADE_WARNING.to_string());
    }
    let hardware = verdict.is_some_and(|v| v.group == "hardware");
    let repair_sw_blocked = model.actions.iter().any(|a| {
        a.is_repair_software
            && (hardware
                || (derived.done.contains(&a.id)
                    && ctx.hardware_prob >= guardrails::HARDWARE_BANS_REPAIR_SOFTWARE))
    });
    if repair_sw_blocked {
        out.push("The fault looks like hardware: \"system repair\" software cannot fix it; do not pay for it.".to_string());
    }
    out
}
