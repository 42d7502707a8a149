//! What is known about a case, and its reduction to findings the posterior can use.
//!
//! [`Evidence`] holds what a person, a technician, a case history or a restore log says:
//! the attempts made, actions tried and their outcome, answers to questions and bench tests, and
//! log facts. [`Evidence::findings`] turns it into a list of [`Finding`]s (observation outcomes,
//! failed and successful actions), each with where it came from, plus the [`Derived`] state the
//! planner and guardrails need (what was tried, how many failures at the same point...).

use crate::model::Model;
use kb::Stage;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Update (keeps data) or restore (erases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Update,
    Restore,
}

/// The device's mode during an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Normal,
    Recovery,
    Dfu,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResult {
    Ok,
    /// Failed with this error code.
    Error(i64),
    /// Failed without a known code.
    Failed,
}

impl AttemptResult {
    pub fn failed(self) -> bool {
        !matches!(self, AttemptResult::Ok)
    }
}

/// One try at updating or restoring the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// A label for the computer ("laptop", "station-3").
    pub computer: Option<String>,
    pub cable: Option<String>,
    pub port: Option<String>,
    /// Through a hub, dock or adapter.
    pub hub: Option<bool>,
    /// The program used (`--host` vocabulary).
    pub tool: Option<String>,
    pub mode: Option<Mode>,
    pub kind: Option<Target>,
    pub result: AttemptResult,
    pub stage: Option<Stage>,
    pub progress: Option<f64>,
}

impl Attempt {
    /// A failed attempt with nothing else known.
    pub fn failed() -> Attempt {
        Attempt {
            computer: None,
            cable: None,
            port: None,
            hub: None,
            tool: None,
            mode: None,
            kind: None,
            result: AttemptResult::Failed,
            stage: None,
            progress: None,
        }
    }
}

/// How a step the person carried out ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// The restore or update then worked.
    Fixed,
    /// Done, and it still fails.
    Failed,
    /// The person cannot do it (no second computer, no tools...): not evidence, just excluded.
    CannotDo,
}

/// An action carried out and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionTried {
    pub action: String,
    pub outcome: StepOutcome,
}

/// An answered question, symptom, bench test or log fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub observation: String,
    pub outcome: String,
}

/// Everything known about a case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Product type, when known.
    pub device: Option<String>,
    pub error_code: Option<i64>,
    /// `--host` vocabulary.
    pub host: Option<String>,
    pub target: Option<Target>,
    /// Recorded attempts: a case history, `watch`, or the runs of one pasted log (each earlier
    /// failed run and the last one, with its stage). Failures at one stage count toward the
    /// same-point total that stops restores after three; a `same_failure_point` log fact alone
    /// counts as two.
    pub attempts: Vec<Attempt>,
    pub actions: Vec<ActionTried>,
    /// Questions, symptoms and bench tests answered by the person or technician.
    pub answers: Vec<Answer>,
    /// Facts derived from restore logs, as (observation id, value).
    pub log_facts: Vec<(String, String)>,
    /// The person said the data is backed up or does not matter.
    pub data_expendable: bool,
    /// How many times the restore failed, as the person reported it.
    pub reported_failures: Option<u32>,
    /// Progress (percent) at which it failed, as reported.
    pub progress: Option<f64>,
    /// Observation and action ids whose answer (or "tried") comes from the person's free text
    /// alone: a thing mentioned, which the model weighs by how often people with each cause
    /// mention it (see `learn`).
    #[serde(default)]
    pub from_text: BTreeSet<String>,
    /// Observations the free-text reader could have found but the text does not mention (empty
    /// when there was no text): with a fitted model, not mentioning a thing is evidence too.
    #[serde(default)]
    pub silent: Vec<String>,
    /// Action ids carried out as the tool's instructions say (a wizard step, a step recorded in
    /// the case history): their failure is weighed by the knowledge base's P(fixes), not by how
    /// often people who say they tried it in their own way still fail (see `learn`).
    #[serde(default)]
    pub guided: BTreeSet<String>,
}

/// The observation that names the program used for the restore (`--host`).
pub const HOST_APP: &str = "host_app";

/// Where a finding came from (for explanations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Said by the person (flag, answer, free text).
    Stated,
    /// Worked out from the recorded attempts.
    Attempts,
    /// From a restore log.
    Log,
    /// Read from the person's own words (free text).
    Text,
    /// A step carried out as the tool's instructions say (wizard, case history).
    Guided,
}

impl Origin {
    /// What an explanation adds after a finding to say where it came from ("" where the
    /// person said it or did it as guided).
    pub fn suffix(&self) -> &'static str {
        match self {
            Origin::Stated | Origin::Guided => "",
            Origin::Attempts => " (from the attempts)",
            Origin::Log => " (from the restore log)",
            Origin::Text => " (from your description)",
        }
    }
}

/// One piece of evidence as the posterior uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Finding {
    Observed {
        observation: String,
        outcome: String,
        origin: Origin,
    },
    ActionFailed {
        action: String,
        origin: Origin,
    },
    ActionFixed {
        action: String,
        origin: Origin,
    },
    /// Things the free text could have named but does not (observation ids).
    Silent {
        observations: Vec<String>,
    },
}

/// State the planner and guardrails need, derived from the evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// Action ids done (failed or fixed).
    pub done: BTreeSet<String>,
    /// Action ids the person cannot do.
    pub cannot_do: BTreeSet<String>,
    /// Observation id → outcome, for everything answered (including log facts).
    pub answered: BTreeMap<String, String>,
    /// The largest number of failures known to have happened at the same point.
    pub same_point_failures: u32,
    /// The point they failed at, if known.
    pub same_point_stage: Option<Stage>,
    /// An action that made the restore work.
    pub fixed_by: Option<String>,
    /// Backed up or expendable: erasing steps are allowed (with a warning).
    pub data_safe: bool,
    /// The person said the data is not backed up and matters: no erasing step is offered.
    pub data_at_risk: bool,
}

/// Yes/no spellings accepted for binary observations.
pub fn normalise_outcome(value: &str) -> String {
    let v = value.trim().to_ascii_lowercase();
    match v.as_str() {
        "" | "true" | "y" | "1" => "yes".to_string(),
        "false" | "n" | "0" => "no".to_string(),
        _ => v,
    }
}

/// The `host_app` outcome a `--host` value stands for (None for `other`/`unknown`): the
/// program says something about the computer side (an iTunes on a Mac means macOS 10.14 or
/// earlier; futurerestore and third-party wrappers are how people install their own firmware).
pub fn host_app_outcome(host: &str) -> Option<&'static str> {
    match host {
        "macos_itunes" => Some("macos_itunes"),
        "windows_itunes" => Some("windows_itunes"),
        "itunes" => Some("itunes"),
        "macos_finder" | "windows_apple_devices" | "apple_configurator" => Some("apple_current"),
        "3utools" | "imazing" => Some("third_party"),
        "idevicerestore" => Some("idevicerestore"),
        "pymobiledevice3" => Some("pymobiledevice3"),
        "futurerestore" => Some("futurerestore"),
        "legacy_ios_kit" | "downgrade_tool" => Some("downgrade_tool"),
        _ => None,
    }
}

impl Evidence {
    /// Reduce the evidence to findings (in a stable order: log facts, attempts, actions,
    /// answers) and derived state. Observations the model does not know are skipped.
    pub fn findings(&self, model: &Model) -> (Vec<Finding>, Derived) {
        let mut derived = Derived {
            data_safe: self.data_expendable,
            ..Derived::default()
        };
        let mut observed: BTreeMap<String, (String, Origin)> = BTreeMap::new();
        let mut failed_counts: BTreeMap<String, (u32, Origin)> = BTreeMap::new();
        let mut fixed: Vec<(String, Origin)> = Vec::new();
        let has_obs = |id: &str| model.observation(id).is_some();
        let has_action = |id: &str| model.action(id).is_some();

        for (id, value) in &self.log_facts {
            if has_obs(id) {
                observed.insert(id.clone(), (normalise_outcome(value), Origin::Log));
            }
        }

        // The program: as stated, else the one the recorded attempts used.
        let host = self
            .host
            .as_deref()
            .or_else(|| self.attempts.iter().find_map(|a| a.tool.as_deref()));
        if let Some(outcome) = host.and_then(host_app_outcome)
            && has_obs(HOST_APP)
        {
            let origin = if self.from_text.contains(HOST_APP) {
                Origin::Text
            } else {
                Origin::Stated
            };
            observed.insert(HOST_APP.into(), (outcome.into(), origin));
        }

        // Attempts.
        let failed: Vec<&Attempt> = self.attempts.iter().filter(|a| a.result.failed()).collect();
        let distinct = |f: fn(&Attempt) -> Option<&String>| -> u32 {
            failed
                .iter()
                .filter_map(|a| f(a))
                .collect::<BTreeSet<_>>()
                .len() as u32
        };
        let mut bump = |action: &str, n: u32| {
            if n > 0 && has_action(action) {
                let e = failed_counts
                    .entry(action.to_string())
                    .or_insert((0, Origin::Attempts));
                e.0 = e.0.max(n);
            }
        };
        bump(
            "swap_cable",
            distinct(|a| a.cable.as_ref()).saturating_sub(1),
        );
        bump("port_swap", distinct(|a| a.port.as_ref()).saturating_sub(1));
        bump(
            "other_computer",
            distinct(|a| a.computer.as_ref()).saturating_sub(1),
        );
        if failed.iter().any(|a| a.hub == Some(false)) {
            bump("remove_hub", 1);
        }
        for a in &failed {
            let action = match (a.mode, a.kind) {
                (Some(Mode::Dfu), _) => Some("dfu_restore"),
                (Some(Mode::Recovery), Some(Target::Restore)) => Some("recovery_restore"),
                (Some(Mode::Recovery), Some(Target::Update)) => Some("recovery_update"),
                _ => None,
            };
            if let Some(action) = action {
                bump(action, 1);
            }
        }
        let mut by_stage: BTreeMap<Stage, u32> = BTreeMap::new();
        for a in &failed {
            if let Some(s) = a.stage {
                *by_stage.entry(s).or_default() += 1;
            }
        }
        if let Some((stage, n)) = by_stage.iter().max_by_key(|(_, n)| **n) {
            if stage.before_restore() {
                // A stage before the restore proper is the log fact `failed_before_restore`
                // (as `--observed failure_stage=` and the log reader give it), said once
                // however many places tell it.
                if has_obs("failed_before_restore") {
                    observed
                        .entry("failed_before_restore".into())
                        .or_insert(("yes".to_string(), Origin::Attempts));
                }
            } else if has_obs("failure_stage") {
                observed
                    .entry("failure_stage".into())
                    .or_insert((stage.as_str().to_string(), Origin::Attempts));
            }
            derived.same_point_failures = *n;
            derived.same_point_stage = Some(*stage);
            let staged: u32 = by_stage.values().sum();
            if staged >= 2 && has_obs("same_failure_point") {
                let same = if by_stage.len() == 1 { "yes" } else { "no" };
                observed
                    .entry("same_failure_point".into())
                    .or_insert((same.into(), Origin::Attempts));
            }
        }
        let codes: BTreeSet<i64> = failed
            .iter()
            .filter_map(|a| match a.result {
                AttemptResult::Error(c) => Some(c),
                _ => None,
            })
            .collect();
        let coded = failed
            .iter()
            .filter(|a| matches!(a.result, AttemptResult::Error(_)))
            .count();
        if coded >= 2 && has_obs("error_varies") {
            let varies = if codes.len() > 1 { "yes" } else { "no" };
            observed
                .entry("error_varies".into())
                .or_insert((varies.into(), Origin::Attempts));
        }
        for ok in self.attempts.iter().filter(|a| !a.result.failed()) {
            if failed.is_empty() {
                continue;
            }
            let differs = |f: fn(&Attempt) -> Option<&String>| {
                f(ok).is_some_and(|v| failed.iter().all(|a| f(a) != Some(v)))
            };
            let action = if differs(|a| a.computer.as_ref()) {
                Some("other_computer")
            } else if differs(|a| a.cable.as_ref()) {
                Some("swap_cable")
            } else if differs(|a| a.port.as_ref()) {
                Some("port_swap")
            } else if ok.hub == Some(false) && failed.iter().all(|a| a.hub == Some(true)) {
                Some("remove_hub")
            } else if ok.mode == Some(Mode::Dfu) && failed.iter().all(|a| a.mode != Some(Mode::Dfu))
            {
                Some("dfu_restore")
            } else {
                None
            };
            if let Some(a) = action.filter(|a| has_action(a)) {
                fixed.push((a.to_string(), Origin::Attempts));
            }
        }

        // Actions the person reports.
        for t in &self.actions {
            if !has_action(&t.action) {
                continue;
            }
            match t.outcome {
                StepOutcome::Failed => {
                    let origin = if self.from_text.contains(&t.action) {
                        Origin::Text
                    } else if self.guided.contains(&t.action) {
                        Origin::Guided
                    } else {
                        Origin::Stated
                    };
                    let e = failed_counts.entry(t.action.clone()).or_insert((0, origin));
                    e.0 = e.0.max(1);
                }
                StepOutcome::Fixed => fixed.push((t.action.clone(), Origin::Stated)),
                StepOutcome::CannotDo => {
                    derived.cannot_do.insert(t.action.clone());
                }
            }
        }

        // Answers (stated answers win over log facts and attempts).
        for a in &self.answers {
            if has_obs(&a.observation) {
                let origin = if self.from_text.contains(&a.observation) {
                    Origin::Text
                } else {
                    Origin::Stated
                };
                observed.insert(
                    a.observation.clone(),
                    (normalise_outcome(&a.outcome), origin),
                );
            }
        }
        match observed.get("backup_exists").map(|(v, _)| v.as_str()) {
            Some("yes") => derived.data_safe = true,
            Some("no") if !self.data_expendable => derived.data_at_risk = true,
            _ => {}
        }
        let same_point_said = observed
            .get("same_failure_point")
            .is_some_and(|(v, _)| v == "yes");
        if same_point_said {
            let restores_failed = failed_counts
                .keys()
                .filter(|a| model.action(a).is_some_and(|a| a.is_restore))
                .count() as u32;
            let n = self
                .reported_failures
                .unwrap_or(0)
                .max(restores_failed)
                .max(failed.len() as u32)
                .max(2);
            derived.same_point_failures = derived.same_point_failures.max(n);
            if derived.same_point_stage.is_none() {
                derived.same_point_stage = observed
                    .get("failure_stage")
                    .and_then(|(v, _)| Stage::parse(v));
            }
        }

        let mut findings = Vec::new();
        for (id, (outcome, origin)) in &observed {
            findings.push(Finding::Observed {
                observation: id.clone(),
                outcome: outcome.clone(),
                origin: origin.clone(),
            });
        }
        for (action, (n, origin)) in &failed_counts {
            derived.done.insert(action.clone());
            for _ in 0..*n {
                findings.push(Finding::ActionFailed {
                    action: action.clone(),
                    origin: origin.clone(),
                });
            }
        }
        for (action, origin) in fixed {
            derived.done.insert(action.clone());
            if derived.fixed_by.is_none() {
                derived.fixed_by = Some(action.clone());
            }
            findings.push(Finding::ActionFixed { action, origin });
        }
        let silent: Vec<String> = self
            .silent
            .iter()
            .filter(|id| has_obs(id) && !observed.contains_key(*id))
            .cloned()
            .collect();
        if !silent.is_empty() {
            findings.push(Finding::Silent {
                observations: silent,
            });
        }
        derived.answered = observed.into_iter().map(|(k, (v, _))| (k, v)).collect();
        // What a failed step implies is answered, though not evidence again.
        for action in &derived.done {
            if derived.fixed_by.as_ref() == Some(action) {
                continue;
            }
            for implied in model.action(action).map_or(&[][..], |a| &a.implies[..]) {
                let (id, value) = implied.split_once('=').unwrap_or((implied, "yes"));
                derived
                    .answered
                    .entry(id.to_string())
                    .or_insert_with(|| value.to_string());
            }
        }
        (findings, derived)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::small_model;

    fn failed_on(computer: &str, cable: &str, stage: Stage) -> Attempt {
        Attempt {
            computer: Some(computer.into()),
            cable: Some(cable.into()),
            stage: Some(stage),
            result: AttemptResult::Error(4013),
            ..Attempt::failed()
        }
    }

    #[test]
    fn three_cables_on_two_computers_at_the_same_stage() {
        let m = small_model();
        let e = Evidence {
            attempts: vec![
                failed_on("a", "c1", Stage::Nand),
                failed_on("a", "c2", Stage::Nand),
                failed_on("b", "c3", Stage::Nand),
            ],
            ..Evidence::default()
        };
        let (findings, derived) = e.findings(&m);
        let swaps = findings
            .iter()
            .filter(|f| matches!(f, Finding::ActionFailed { action, .. } if action == "swap_cable"))
            .count();
        assert_eq!(swaps, 2, "three cables are two swaps");
        assert_eq!(derived.same_point_failures, 3);
        assert_eq!(derived.same_point_stage, Some(Stage::Nand));
        assert!(derived.done.contains("swap_cable"));
    }

    #[test]
    fn success_on_another_computer_is_evidence_for_the_first() {
        let mut m = small_model();
        std::sync::Arc::make_mut(&mut m.actions).push(crate::testkit::action(
            "other_computer",
            60.0,
            &[("host_software_outdated", 0.95)],
        ));
        let e = Evidence {
            attempts: vec![
                failed_on("a", "c1", Stage::Usb),
                Attempt {
                    computer: Some("b".into()),
                    cable: Some("c1".into()),
                    result: AttemptResult::Ok,
                    ..Attempt::failed()
                },
            ],
            ..Evidence::default()
        };
        let (findings, derived) = e.findings(&m);
        assert_eq!(derived.fixed_by.as_deref(), Some("other_computer"));
        assert!(findings.iter().any(
            |f| matches!(f, Finding::ActionFixed { action, .. } if action == "other_computer")
        ));
    }

    #[test]
    fn the_host_app_is_evidence_from_the_flag_or_the_attempts() {
        let m = crate::model::Model::from_kb(kb::kb(), None, Some(4013));
        let host_finding = |e: &Evidence| {
            e.findings(&m).0.into_iter().find_map(|f| match f {
                Finding::Observed {
                    observation,
                    outcome,
                    ..
                } if observation == HOST_APP => Some(outcome),
                _ => None,
            })
        };
        let stated = Evidence {
            host: Some("macos_itunes".into()),
            ..Evidence::default()
        };
        assert_eq!(host_finding(&stated).as_deref(), Some("macos_itunes"));
        let recorded = Evidence {
            attempts: vec![Attempt {
                tool: Some("futurerestore".into()),
                ..Attempt::failed()
            }],
            ..Evidence::default()
        };
        assert_eq!(host_finding(&recorded).as_deref(), Some("futurerestore"));
        let unknown = Evidence {
            host: Some("unknown".into()),
            ..Evidence::default()
        };
        assert_eq!(host_finding(&unknown), None);
    }

    /// A log that only says its runs stopped at the same point counts as two failures there;
    /// Runs that stopped before the restore proper (the ramdisk did not start) count as the
    /// same point, but say "it failed before the restore began" once, as the log's own fact
    /// does: not that fact and a restore stage besides, which would count one line twice.
    #[test]
    fn runs_stopped_before_the_restore_say_so_once() {
        let m = crate::model::Model::from_kb(kb::kb(), None, None);
        let e = Evidence {
            log_facts: vec![("failed_before_restore".into(), "yes".into())],
            attempts: (0..2)
                .map(|_| Attempt {
                    stage: Some(Stage::Ramdisk),
                    ..Attempt::failed()
                })
                .collect(),
            ..Evidence::default()
        };
        let (findings, derived) = e.findings(&m);
        let observed = |id: &str| {
            findings
                .iter()
                .filter(|f| matches!(f, Finding::Observed { observation, .. } if observation == id))
                .count()
        };
        assert_eq!(observed("failed_before_restore"), 1);
        assert_eq!(observed("failure_stage"), 0);
        assert_eq!(derived.same_point_failures, 2);
        assert_eq!(derived.same_point_stage, Some(Stage::Ramdisk));
    }

    /// the runs given as attempts with their stage count as many as there were.
    #[test]
    fn runs_of_one_log_count_at_their_stage() {
        let m = crate::model::Model::from_kb(kb::kb(), None, Some(4013));
        let fact_only = Evidence {
            log_facts: vec![("same_failure_point".into(), "yes".into())],
            ..Evidence::default()
        };
        assert_eq!(fact_only.findings(&m).1.same_point_failures, 2);
        let runs = Evidence {
            attempts: (0..4)
                .map(|_| Attempt {
                    stage: Some(Stage::Verify),
                    ..Attempt::failed()
                })
                .collect(),
            ..fact_only.clone()
        };
        let (findings, derived) = runs.findings(&m);
        assert_eq!(derived.same_point_failures, 4);
        assert_eq!(derived.same_point_stage, Some(Stage::Verify));
        // The log's own fact wins over the attempts' reading; it is there once.
        let same: Vec<_> = findings
            .iter()
            .filter(|f| matches!(f, Finding::Observed { observation, origin: Origin::Log, .. } if observation == "same_failure_point"))
            .collect();
        assert_eq!(same.len(), 1);
        assert!(!crate::guardrails::restores_allowed(&derived));
    }

    #[test]
    fn a_stated_backup_makes_data_safe() {
        let m = small_model();
        let e = Evidence {
            answers: vec![Answer {
                observation: "backup_exists".into(),
                outcome: "yes".into(),
            }],
            ..Evidence::default()
        };
        assert!(e.findings(&m).1.data_safe);
    }
}
