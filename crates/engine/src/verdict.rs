//! Verdicts: when a cause or group is likely enough, when restores must stop, or when the role's
//! steps are exhausted, say what it most likely is, what a shop should test first, what the
//! repair costs and how to keep the data.

use crate::evidence::Derived;
use crate::model::Model;
use crate::planner::Recommendation;
use serde::Serialize;

/// A single cause this likely is a verdict.
pub const CAUSE_THRESHOLD: f64 = 0.7;
/// A group this likely is a verdict.
pub const GROUP_THRESHOLD: f64 = 0.85;

/// Why the verdict was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictReason {
    /// A step made the restore work.
    Fixed,
    /// One cause is likely enough.
    CauseLikely,
    /// One group is likely enough.
    GroupLikely,
    /// Restores stopped after repeated failures at the same point.
    RestoresStopped,
    /// Nothing left worth trying in this role but the shop.
    StepsExhausted,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub group: String,
    pub cause: String,
    /// P(cause) for a cause verdict, P(group) for a group verdict.
    pub confidence: f64,
    pub cause_probability: f64,
    pub summary: String,
    pub shop_test_first: String,
    pub keep_data: String,
    pub repair_usd: [f64; 2],
    pub reason: VerdictReason,
}

/// The verdict for belief `p`, if one is due.
pub fn verdict(
    model: &Model,
    p: &[f64],
    derived: &Derived,
    rec: &Recommendation,
) -> Option<Verdict> {
    if model.causes.is_empty() {
        return None;
    }
    let top = argmax(p);
    let groups: Vec<(&str, f64, usize)> = model
        .groups()
        .into_iter()
        .filter(|(_, m)| !m.is_empty())
        .map(|(g, m)| {
            let total: f64 = m.iter().map(|&i| p[i]).sum();
            let best = *m.iter().max_by(|a, b| p[**a].total_cmp(&p[**b])).unwrap();
            (g, total, best)
        })
        .collect();
    let top_group = groups.iter().max_by(|a, b| a.1.total_cmp(&b.1)).copied()?;
    let exhausted = rec.plan.first().is_none_or(|e| e.is_service);
    let (cause, confidence, reason) = if derived.fixed_by.is_some() {
        (top, p[top], VerdictReason::Fixed)
    } else if p[top] >= CAUSE_THRESHOLD {
        (top, p[top], VerdictReason::CauseLikely)
    } else if top_group.1 >= GROUP_THRESHOLD {
        (top_group.2, top_group.1, VerdictReason::GroupLikely)
    } else if !crate::guardrails::restores_allowed(derived) {
        (top_group.2, top_group.1, VerdictReason::RestoresStopped)
    } else if exhausted {
        (top_group.2, top_group.1, VerdictReason::StepsExhausted)
    } else {
        return None;
    };
    let c = &model.causes[cause];
    let repair = model
        .known_faults
        .iter()
        .filter(|f| f.cause == c.id)
        .find_map(|f| f.repair_usd)
        .unwrap_or(c.repair_usd);
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    let summary = match reason {
        VerdictReason::Fixed => format!(
            "It works now. The most likely cause was {} ({}).",
            in_sentence(&c.name),
            pct(p[cause])
        ),
        VerdictReason::CauseLikely => {
            format!("Most likely {} ({}).", in_sentence(&c.name), pct(p[cause]))
        }
        _ => format!(
            "Most likely a {} fault ({}); the likeliest single cause is {} ({}).",
            c.group,
            pct(top_group.1),
            in_sentence(&c.name),
            pct(p[cause])
        ),
    };
    let summary = match reason {
        VerdictReason::RestoresStopped => format!(
            "{summary} It failed {} times at the same point: stop restoring and take it to a repair shop.",
            derived.same_point_failures
        ),
        VerdictReason::StepsExhausted => {
            format!("{summary} Nothing cheaper is left worth trying: take it to a repair shop.")
        }
        _ => summary,
    };
    Some(Verdict {
        group: c.group.clone(),
        cause: c.id.clone(),
        confidence,
        cause_probability: p[cause],
        summary,
        shop_test_first: c.shop_test_first.clone(),
        keep_data: c.keep_data.clone(),
        repair_usd: repair,
        reason,
    })
}

/// Index of the largest value (first on ties).
pub fn argmax(p: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in p.iter().enumerate() {
        if *x > p[best] {
            best = i;
        }
    }
    best
}

/// A cause name inside a sentence: "Storage chip (NAND)" → "storage chip (NAND)", while names
/// that start with an acronym or a product name keep their capitals ("USB cable", "iPhone").
fn in_sentence(name: &str) -> String {
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => {
            first.to_lowercase().chain(name.chars().skip(1)).collect()
        }
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod in_sentence_tests {
    use super::in_sentence;

    #[test]
    fn lowers_only_an_ordinary_first_word() {
        assert_eq!(in_sentence("Storage chip (NAND)"), "storage chip (NAND)");
        assert_eq!(
            in_sentence("Earpiece / Face ID flex"),
            "earpiece / Face ID flex"
        );
        assert_eq!(in_sentence("USB cable"), "USB cable");
        assert_eq!(
            in_sentence("Audio chip (iPhone 7 'loop disease')"),
            "audio chip (iPhone 7 'loop disease')"
        );
    }
}
