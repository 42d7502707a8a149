//! The problem for one case: the causes that apply to the device with their prior, and the
//! observations and actions the planner can use. Built from the knowledge base
//! ([`Model::from_kb`]) or by hand (tests, simulation).

use kb::{Action, Cause, Cost, Device, Guide, KnownFault, Observation, Skill};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock, RwLock};

/// Who is doing the work: restricts the steps the planner may recommend.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A person at home: only owner-level steps (never bench tests or microsoldering).
    #[default]
    Owner,
    /// A repair technician: also bench tests and board-level repairs.
    Technician,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Owner, Role::Technician];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Technician => "technician",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether a person in this role may carry out a step of this skill.
    pub fn allows(self, skill: Skill) -> bool {
        match self {
            Role::Owner => skill == Skill::Owner,
            Role::Technician => true,
        }
    }
}

/// The extra cost charged for a skill level (in the same units as minutes and dollars): the
/// effort and risk of handing the device to someone with that skill.
pub fn skill_weight(skill: Skill) -> f64 {
    match skill {
        Skill::Owner => 0.0,
        Skill::Technician => 10.0,
        Skill::Microsoldering => 30.0,
    }
}

/// One number for a step's cost: minutes + US dollars + skill weight (never below one).
pub fn scalar_cost(cost: Cost, skill: Skill) -> f64 {
    (cost.minutes + cost.usd + skill_weight(skill)).max(1.0)
}

/// Every applicable cause keeps at least this prior mass before renormalising (Cromwell's rule:
/// a cause the prior table omits is unlikely, not impossible, so evidence can still find it).
pub const PRIOR_FLOOR: f64 = 0.002;

/// How many closed cases the knowledge base's prior is worth when a shop's own confirmed
/// causes are added as pseudo-counts (a Dirichlet prior of this total strength).
pub const KB_PRIOR_STRENGTH: f64 = 20.0;

/// The family of a failure that showed no error code.
pub const NO_CODE: &str = "no_code";

/// A technician's last resort, which ends a technician's plan the way the service call ends an
/// owner's (a technician is the shop: no "take it to a repair shop" for them).
pub const TECHNICIAN_TERMINAL: &str = "logic_board_swap";

/// The service call that ends a case when nothing cheaper is worth trying.
pub const SERVICE_ACTION: &str = "shop_diagnosis";

/// Why a cause's prior was changed from the error code's table.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorAdjustment {
    pub cause: String,
    pub fault_title: String,
    pub weight: f64,
}

/// One case's problem: causes (with prior), observations, actions, guides.
#[derive(Debug, Clone)]
pub struct Model {
    pub device: Option<Device>,
    pub error_code: Option<i64>,
    /// The error code's family (`unknown` for no code or an undocumented one); None for a
    /// model built by hand, where every observation and action applies.
    pub family: Option<String>,
    /// Shared by every model with the same applicable causes and code (`Arc::make_mut` to
    /// change).
    pub causes: Arc<Vec<Cause>>,
    /// Aligned with `causes`, sums to 1.
    pub prior: Vec<f64>,
    /// The error code's prior alone (before known-fault weights), for explanations.
    pub base_prior: Vec<f64>,
    pub adjustments: Vec<PriorAdjustment>,
    pub known_faults: Vec<KnownFault>,
    /// Shared by every model built from the same knowledge base (`Arc::make_mut` to change).
    pub observations: Arc<Vec<Observation>>,
    pub actions: Arc<Vec<Action>>,
    pub guides: Arc<Vec<Guide>>,
    /// Overrides the service call's cost (tests: `f64::INFINITY` for "no service call").
    pub service_cost: Option<f64>,
    /// How often people with each cause mention things and report steps as tried, fitted from
    /// the corpus of real cases (None: the knowledge base alone).
    pub reports: Option<Arc<crate::learn::ReportRates>>,
}

/// The knowledge base's observations, actions and guides, shared between models.
#[derive(Debug, Clone)]
struct KbLists {
    observations: Arc<Vec<Observation>>,
    actions: Arc<Vec<Action>>,
    guides: Arc<Vec<Guide>>,
}

/// The embedded knowledge base's lists, copied on first use.
static EMBEDDED: OnceLock<KbLists> = OnceLock::new();

/// The embedded knowledge base's cause lists as models use them, by the indices of the causes
/// that apply (a handful of device kinds) and the error code when it renames a cause
/// (`cause_names`, a few codes): built once each, then shared instead of copied per request.
type CauseLists = RwLock<HashMap<(Vec<usize>, Option<i64>), Arc<Vec<Cause>>>>;
static EMBEDDED_CAUSES: OnceLock<CauseLists> = OnceLock::new();

/// The causes that apply to `device`, named as `error_code` names them.
fn causes_for(
    kb: &kb::KnowledgeBase,
    device: Option<&Device>,
    error_code: Option<i64>,
) -> Arc<Vec<Cause>> {
    let build = || {
        let mut causes: Vec<Cause> = kb.causes_for(device).into_iter().cloned().collect();
        // What a broad cause is called with this code (4037: the device's own state).
        if let Some(code) = error_code {
            for c in &mut causes {
                if let Some(name) = kb.cause_name(code, &c.id) {
                    c.name = name.to_string();
                }
            }
        }
        Arc::new(causes)
    };
    if !std::ptr::eq(kb, kb::kb()) {
        return build();
    }
    let all = kb.causes();
    let applies: Vec<usize> = (0..all.len())
        .filter(|&i| device.is_none_or(|d| kb.cause_applies(&all[i], d)))
        .collect();
    let renames = error_code.filter(|&code| {
        applies
            .iter()
            .any(|&i| kb.cause_name(code, &all[i].id).is_some())
    });
    let key = (applies, renames);
    let lists = EMBEDDED_CAUSES.get_or_init(Default::default);
    if let Some(causes) = lists.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return causes.clone();
    }
    lists
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert_with(build)
        .clone()
}

impl KbLists {
    fn of(kb: &kb::KnowledgeBase) -> KbLists {
        KbLists {
            observations: Arc::new(kb.observations().to_vec()),
            actions: Arc::new(kb.actions().to_vec()),
            guides: Arc::new(kb.tables().guides.clone()),
        }
    }
}

impl Model {
    /// Build a model from records. `prior` is the error code's prior over cause ids (missing
    /// causes get [`PRIOR_FLOOR`]); known faults multiply their cause's prior by their weight
    /// when they are reported with this code (or list no codes, or the code is unknown).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        device: Option<Device>,
        error_code: Option<i64>,
        causes: Vec<Cause>,
        prior: &BTreeMap<String, f64>,
        known_faults: Vec<KnownFault>,
        observations: Vec<Observation>,
        actions: Vec<Action>,
        guides: Vec<Guide>,
    ) -> Model {
        Model::with_lists(
            device,
            error_code,
            Arc::new(causes),
            prior,
            known_faults,
            KbLists {
                observations: Arc::new(observations),
                actions: Arc::new(actions),
                guides: Arc::new(guides),
            },
        )
    }

    /// [`Model::new`] with the observation, action and guide lists already shared.
    fn with_lists(
        device: Option<Device>,
        error_code: Option<i64>,
        causes: Arc<Vec<Cause>>,
        prior: &BTreeMap<String, f64>,
        known_faults: Vec<KnownFault>,
        lists: KbLists,
    ) -> Model {
        let KbLists {
            observations,
            actions,
            guides,
        } = lists;
        let mut weights: BTreeMap<&str, (f64, &KnownFault)> = BTreeMap::new();
        for fault in &known_faults {
            // A fault with triggers weighs only once one is answered (see `triggered_faults`).
            if !fault_applies(fault, error_code) || !fault.triggers.is_empty() {
                continue;
            }
            let entry = weights.entry(fault.cause.as_str()).or_insert((1.0, fault));
            if fault.prior_weight > entry.0 {
                *entry = (fault.prior_weight, fault);
            }
        }
        let mut base_prior: Vec<f64> = causes
            .iter()
            .map(|c| prior.get(&c.id).copied().unwrap_or(0.0).max(PRIOR_FLOOR))
            .collect();
        let mut p: Vec<f64> = causes
            .iter()
            .zip(&base_prior)
            .map(|(c, base)| base * weights.get(c.id.as_str()).map_or(1.0, |w| w.0))
            .collect();
        normalise(&mut p);
        normalise(&mut base_prior);
        let adjustments = weights
            .iter()
            .filter(|(cause, (w, _))| *w != 1.0 && causes.iter().any(|c| c.id == **cause))
            .map(|(cause, (w, f))| PriorAdjustment {
                cause: cause.to_string(),
                fault_title: f.title.clone(),
                weight: *w,
            })
            .collect();
        Model {
            device,
            error_code,
            family: None,
            causes,
            prior: p,
            base_prior,
            adjustments,
            known_faults,
            observations,
            actions,
            guides,
            service_cost: None,
            reports: None,
        }
    }

    /// The model for a device (product type or None) and error code, from the knowledge base.
    /// Unknown codes use the `unknown` family's prior when there is one, else a flat prior.
    pub fn from_kb(
        kb: &kb::KnowledgeBase,
        device: Option<&Device>,
        error_code: Option<i64>,
    ) -> Model {
        Model::from_fit(kb, None, device, error_code)
    }

    /// [`Model::from_kb`] with what was learned from real cases on top (`fit`, see
    /// [`crate::learn`]): the family's confirmed causes added to the prior as pseudo-counts,
    /// observation likelihoods fitted, and the rates at which people mention things and report
    /// steps as tried. None: the knowledge base alone.
    pub fn from_fit(
        kb: &kb::KnowledgeBase,
        fit: Option<&crate::learn::Fit>,
        device: Option<&Device>,
        error_code: Option<i64>,
    ) -> Model {
        let causes = causes_for(kb, device, error_code);
        // No code at all is its own family; an undocumented code is `unknown`.
        let family = match error_code {
            None if kb.family(NO_CODE).is_some() => NO_CODE,
            None => "unknown",
            Some(c) => kb.lookup_code(c).map_or("unknown", |entry| match entry {
                kb::CodeEntry::Code(c) => c.family.as_str(),
                kb::CodeEntry::Range(r) => r.family.as_str(),
            }),
        }
        .to_string();
        let prior = error_code
            .and_then(|c| kb.code_prior(c))
            .or_else(|| kb.family(&family).map(|f| &f.prior))
            .or_else(|| kb.family("unknown").map(|f| &f.prior))
            .cloned()
            .unwrap_or_else(|| causes.iter().map(|c| (c.id.clone(), 1.0)).collect());
        let faults = device
            .map(|d| {
                kb.known_faults_for(&d.product_type)
                    .into_iter()
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        // The embedded knowledge base never changes: copy its lists once per process.
        let lists = if let Some(fit) = fit {
            KbLists {
                observations: fit.observations.clone(),
                actions: fit.actions.clone(),
                guides: fit.guides.clone(),
            }
        } else if std::ptr::eq(kb, kb::kb()) {
            EMBEDDED.get_or_init(|| KbLists::of(kb)).clone()
        } else {
            KbLists::of(kb)
        };
        let mut model =
            Model::with_lists(device.cloned(), error_code, causes, &prior, faults, lists);
        if let Some(fit) = fit {
            for (c, p) in model.causes.iter().zip(model.prior.iter_mut()) {
                *p *= fit.cause_rates.get(&c.id).copied().unwrap_or(1.0);
            }
            normalise(&mut model.prior);
            if let Some(counts) = fit.family_counts.get(&family) {
                model.add_counts(counts, crate::learn::PRIOR_STRENGTH);
            }
            model.reports = Some(fit.reports.clone());
        }
        model.family = Some(family);
        model
    }

    /// The exponent on the likelihood of each thing free text says, when the text says
    /// `mentions` things (1 without a fit): a fit's weight for one mention over √mentions, at
    /// most 1. Things one story says are not independent; k of them count as √k would.
    pub fn mention_weight(&self, mentions: usize) -> f64 {
        self.reports.as_ref().map_or(1.0, |r| {
            (r.mention_weight / (mentions.max(1) as f64).sqrt()).min(1.0)
        })
    }

    /// The exponent on the final posterior (see `learn::POSTERIOR_TEMPERATURE`; 1 without a fit).
    pub fn temperature(&self) -> f64 {
        self.reports.as_ref().map_or(1.0, |r| r.temperature)
    }

    /// The least likelihood of a thing not mentioned (see `learn::SILENT_FLOOR`).
    pub fn silent_floor(&self) -> f64 {
        self.reports
            .as_ref()
            .map_or(MIN_LIKELIHOOD, |r| r.silent_floor)
    }

    /// How often a person whose restore fails for cause `cause` mentions observation `id` in
    /// their own words (fitted; None without a fit).
    pub fn mention_rate(&self, id: &str, cause: usize) -> Option<f64> {
        let r = self.reports.as_ref()?;
        r.observations.get(id)?.get(&self.causes[cause].id).copied()
    }

    /// How often a person whose restore fails for cause `cause` says outcome `outcome` of
    /// observation `id` in their own words (fitted; None without a fit).
    pub fn said_as(&self, id: &str, outcome: &str, cause: usize) -> Option<f64> {
        let r = self.reports.as_ref()?;
        r.mentions
            .get(id)?
            .get(outcome)?
            .get(&self.causes[cause].id)
            .copied()
    }

    /// P(a person reports having tried `action` without success | cause), relative to how often
    /// people report it at all (fitted; None without a fit): the likelihood of a reported failed
    /// step.
    pub fn reported_failure(&self, action: &str, cause: usize) -> Option<f64> {
        self.reported_failures(action)?
            .get(&self.causes[cause].id)
            .copied()
    }

    /// [`Model::reported_failure`] for every cause at once: the fitted rates of `action` by
    /// cause id (None without a fit or for a step the fit has no rates for).
    pub fn reported_failures(&self, action: &str) -> Option<&BTreeMap<String, f64>> {
        self.reports.as_ref()?.actions.get(action)
    }

    /// Whether an observation or action limited to `families` applies to this model's code
    /// (an empty list, or a model without a family: always).
    pub fn applies(&self, families: &[String]) -> bool {
        families.is_empty()
            || self
                .family
                .as_ref()
                .is_none_or(|f| families.iter().any(|x| x == f))
    }

    /// Add a shop's confirmed causes for this device and error code as pseudo-counts:
    /// prior ← (prior·S + counts) / (S + n) with S = [`KB_PRIOR_STRENGTH`]. Causes that do not
    /// apply to the device are ignored. Returns the number of cases used.
    pub fn add_shop_counts(&mut self, counts: &BTreeMap<String, u64>) -> u64 {
        self.add_counts(counts, KB_PRIOR_STRENGTH)
    }

    /// [`Model::add_shop_counts`] with the knowledge base worth `strength` cases.
    pub fn add_counts(&mut self, counts: &BTreeMap<String, u64>, strength: f64) -> u64 {
        let used: u64 = counts
            .iter()
            .filter(|(c, _)| self.cause_index(c).is_some())
            .map(|(_, n)| *n)
            .sum();
        if used == 0 {
            return 0;
        }
        let mut p: Vec<f64> = self
            .causes
            .iter()
            .zip(&self.prior)
            .map(|(c, x)| x * strength + counts.get(&c.id).copied().unwrap_or(0) as f64)
            .collect();
        normalise(&mut p);
        self.prior = p;
        used
    }

    /// Whether the actions and observations are the embedded knowledge base's, unchanged
    /// (a model that changes them gets its own copy through `Arc::make_mut`).
    pub fn uses_embedded_lists(&self) -> bool {
        EMBEDDED.get().is_some_and(|l| {
            Arc::ptr_eq(&l.actions, &self.actions)
                && Arc::ptr_eq(&l.observations, &self.observations)
        })
    }

    pub fn cause_index(&self, id: &str) -> Option<usize> {
        self.causes.iter().position(|c| c.id == id)
    }

    pub fn action(&self, id: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.id == id)
    }

    pub fn action_index(&self, id: &str) -> Option<usize> {
        self.actions.iter().position(|a| a.id == id)
    }

    pub fn observation(&self, id: &str) -> Option<&Observation> {
        self.observations.iter().find(|o| o.id == id)
    }

    pub fn observation_index(&self, id: &str) -> Option<usize> {
        self.observations.iter().position(|o| o.id == id)
    }

    /// P(action fixes the restore | cause i).
    /// Zero for an action limited to other error-code families.
    pub fn fix_prob(&self, action: &Action, cause: usize) -> f64 {
        if !self.applies(&action.families) {
            return 0.0;
        }
        action
            .fixes
            .get(&self.causes[cause].id)
            .copied()
            .unwrap_or(0.0)
            .clamp(0.0, 1.0)
    }

    /// P(outcome | cause i) for an observation (see [`likelihood`]); the same for every cause
    /// (no evidence) when the observation is limited to other error-code families.
    pub fn likelihood(&self, obs: &Observation, outcome: &str, cause: usize) -> f64 {
        if !self.applies(&obs.families) {
            return 1.0 / obs.outcomes.len().max(1) as f64;
        }
        likelihood(obs, outcome, &self.causes[cause].id)
    }

    /// The group ids in display order with their member cause indexes.
    pub fn groups(&self) -> Vec<(&'static str, Vec<usize>)> {
        kb::vocab::GROUPS
            .iter()
            .map(|g| {
                let members = self
                    .causes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.group == *g)
                    .map(|(i, _)| i)
                    .collect();
                (*g, members)
            })
            .collect()
    }
}

/// Whether a known fault is reported with this error code (or lists none, or the code is
/// unknown), with a positive weight.
pub fn fault_applies(fault: &KnownFault, error_code: Option<i64>) -> bool {
    let code_fits = match error_code {
        None => true,
        Some(code) => fault.error_codes.is_empty() || fault.error_codes.contains(&code),
    };
    code_fits && fault.prior_weight > 0.0
}

/// Whether an answer (observation id, outcome) is one of a fault's triggers.
pub fn is_trigger(fault: &KnownFault, observation: &str, outcome: &str) -> bool {
    fault.triggers.iter().any(|t| {
        let (id, value) = t.split_once('=').unwrap_or((t, "yes"));
        id == observation && value == outcome
    })
}

/// Smallest likelihood used, so that no single answer rules a cause out completely.
pub const MIN_LIKELIHOOD: f64 = 0.001;

/// P(outcome | cause) for an observation. Named causes use their entry, others `default`;
/// a binary observation's second outcome is the complement of the first; in a multi-outcome
/// observation an outcome without an entry shares what the listed outcomes leave.
pub fn likelihood(obs: &Observation, outcome: &str, cause: &str) -> f64 {
    let lookup = |o: &str| -> Option<f64> {
        let m = obs.likelihood.get(o)?;
        m.get(cause).or_else(|| m.get("default")).copied()
    };
    let raw = if let Some(v) = lookup(outcome) {
        v
    } else {
        let listed: Vec<f64> = obs
            .outcomes
            .iter()
            .filter(|o| o.as_str() != outcome)
            .filter_map(|o| lookup(o))
            .collect();
        let missing = obs
            .outcomes
            .iter()
            .filter(|o| lookup(o).is_none())
            .count()
            .max(1);
        if listed.is_empty() {
            1.0 / obs.outcomes.len().max(1) as f64
        } else {
            (1.0 - listed.iter().sum::<f64>()).max(0.0) / missing as f64
        }
    };
    raw.clamp(MIN_LIKELIHOOD, 1.0)
}

/// Scale to sum 1 (uniform if everything is zero).
pub fn normalise(p: &mut [f64]) {
    let s: f64 = p.iter().sum();
    if s > 0.0 && s.is_finite() {
        for x in p.iter_mut() {
            *x /= s;
        }
    } else if !p.is_empty() {
        let u = 1.0 / p.len() as f64;
        for x in p.iter_mut() {
            *x = u;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A family-limited observation and action apply only with codes of their families: with
    /// 4013 (the device stopped responding) the lock is no evidence and unlocking fixes nothing; with 4037 both
    /// count; with no code the observation counts (the `unknown` family) and the step does not.
    #[test]
    fn family_limited_observations_and_actions_apply_only_there() {
        let kb = kb::kb();
        let locked = kb.observation("device_locked").unwrap();
        let unlock = kb.action("unlock_and_trust").unwrap();
        let spread = |m: &Model| {
            let l: Vec<f64> = (0..m.causes.len())
                .map(|i| m.likelihood(locked, "yes", i))
                .collect();
            l.iter().cloned().fold(0.0, f64::max) - l.iter().cloned().fold(1.0, f64::min)
        };
        let fixes = |m: &Model| {
            (0..m.causes.len())
                .map(|i| m.fix_prob(unlock, i))
                .sum::<f64>()
        };
        let usb = Model::from_kb(kb, None, Some(4013));
        assert_eq!(usb.family.as_deref(), Some("device_stopped_responding"));
        assert_eq!(spread(&usb), 0.0);
        assert_eq!(fixes(&usb), 0.0);
        let state = Model::from_kb(kb, None, Some(4037));
        assert_eq!(state.family.as_deref(), Some("device_state"));
        assert!(spread(&state) > 0.5);
        assert!(fixes(&state) > 0.5);
        let none = Model::from_kb(kb, None, None);
        assert_eq!(none.family.as_deref(), Some("no_code"));
        assert!(spread(&none) > 0.5);
        assert_eq!(fixes(&none), 0.0);
        // A model built by hand has no family: everything applies.
        let mut by_hand = none.clone();
        by_hand.family = None;
        assert!(fixes(&by_hand) > 0.5);
    }
}
