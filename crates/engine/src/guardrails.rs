//! The safety rules of design.md §5. The planner asks [`blocked`] before it may use an action;
//! [`check`] re-checks a finished recommendation independently (used by the property tests).
//!
//! 1. No erasing step before Recovery *Update* was tried, unless the data is backed up or
//!    expendable (then a warning says so).
//! 2. After three failures at the same point, no further restores (a failing NAND can lose
//!    what is left): repair and data recovery instead.
//! 3. No "system repair" software when the fault is likely hardware.
//! 4. Downgrades to unsigned firmware are impossible: the engine says so and never plans one.

use crate::evidence::Derived;
use crate::model::{Model, Role};
use kb::{Action, DataRisk};

/// The action id of the data-keeping Recovery Mode update.
pub const RECOVERY_UPDATE: &str = "recovery_update";
/// Failures at the same point after which restores stop.
pub const MAX_SAME_POINT_FAILURES: u32 = 3;
/// Hardware probability from which repair software is never recommended.
pub const HARDWARE_BANS_REPAIR_SOFTWARE: f64 = 0.5;

/// Why an action may not be recommended now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Beyond the role's skill.
    Role,
    /// Already done.
    Done,
    /// The person said they cannot do it.
    CannotDo,
    /// The person lacks something it needs (the need's name).
    Missing(String),
    /// The device's state rules it out (the observation answered "yes").
    Impossible(String),
    /// Rule 1: erases the device before Recovery Update was tried, data not safe.
    ErasesBeforeUpdate,
    /// Rule 2: three failures at the same point.
    RestoresStopped,
    /// Rule 3: repair software with a likely hardware fault.
    RepairSoftwareForHardware,
}

/// Whether erasing is allowed: data safe, or Recovery Update already tried (for real or
/// earlier in the plan being built) and the person has not said the data matters and has no
/// backup.
pub fn erasing_allowed(derived: &Derived, update_planned: bool) -> bool {
    derived.data_safe
        || (!derived.data_at_risk && (update_planned || derived.done.contains(RECOVERY_UPDATE)))
}

/// Whether more restores are allowed.
pub fn restores_allowed(derived: &Derived) -> bool {
    derived.same_point_failures < MAX_SAME_POINT_FAILURES
}

/// The observation that asks whether the person has what a need names (`has_<need>`), or
/// whether the state it names holds (an observation with the need's own id: unlocking the
/// device needs `device_locked`). A "no" blocks the step; no answer yet asks first.
pub fn need_question(model: &Model, need: &str) -> Option<String> {
    let id = format!("has_{need}");
    model
        .observation(&id)
        .or_else(|| model.observation(need))
        .map(|o| o.id.clone())
}

/// Why `action` may not be recommended, or None. `update_planned`: Recovery Update comes
/// earlier in the plan; `hardware_prob`: current P(hardware group).
pub fn blocked(
    model: &Model,
    role: Role,
    derived: &Derived,
    action: &Action,
    update_planned: bool,
    hardware_prob: f64,
) -> Option<Block> {
    if !role.allows(action.skill) {
        return Some(Block::Role);
    }
    // A technician is the repair shop: "take it to a shop" is the owner's terminal step only.
    if role == Role::Technician && action.id == crate::model::SERVICE_ACTION {
        return Some(Block::Role);
    }
    if derived.done.contains(&action.id) {
        return Some(Block::Done);
    }
    if derived.cannot_do.contains(&action.id) {
        return Some(Block::CannotDo);
    }
    for need in &action.needs {
        if let Some(q) = need_question(model, need)
            && derived.answered.get(&q).is_some_and(|v| v == "no")
        {
            return Some(Block::Missing(need.clone()));
        }
    }
    if let Some(o) = action
        .not_when
        .iter()
        .find(|o| derived.answered.get(*o).is_some_and(|v| v == "yes"))
    {
        return Some(Block::Impossible(o.clone()));
    }
    // Owner-level steps (another cable, port, computer...) all end in another restore
    // attempt, so once restores stop only the shop and technician work remain.
    if !restores_allowed(derived)
        && (action.is_restore
            || (action.skill == kb::Skill::Owner && action.id != crate::model::SERVICE_ACTION))
    {
        return Some(Block::RestoresStopped);
    }
    if action.data_risk == DataRisk::ErasesDevice && !erasing_allowed(derived, update_planned) {
        return Some(Block::ErasesBeforeUpdate);
    }
    if action.is_repair_software && hardware_prob >= HARDWARE_BANS_REPAIR_SOFTWARE {
        return Some(Block::RepairSoftwareForHardware);
    }
    None
}

/// A broken rule found by [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

/// Check a sequence of recommended action ids (next step first) against the rules, given the
/// evidence-derived state, the verdict's group and P(hardware). Independent of the planner.
pub fn check(
    model: &Model,
    derived: &Derived,
    steps: &[&str],
    verdict_group: Option<&str>,
    hardware_prob: f64,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut update_seen = false;
    for id in steps {
        let Some(a) = model.action(id) else { continue };
        if a.data_risk == DataRisk::ErasesDevice && !erasing_allowed(derived, update_seen) {
            out.push(Violation(format!("{id} erases before Recovery Update")));
        }
        if a.is_restore && !restores_allowed(derived) {
            out.push(Violation(format!(
                "{id} restores after {} failures at the same point",
                derived.same_point_failures
            )));
        }
        if a.is_repair_software
            && (verdict_group == Some("hardware") || hardware_prob >= HARDWARE_BANS_REPAIR_SOFTWARE)
        {
            out.push(Violation(format!(
                "{id} is repair software for a hardware fault"
            )));
        }
        if a.id == RECOVERY_UPDATE {
            update_seen = true;
        }
    }
    out
}
