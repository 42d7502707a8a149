//! The diagnosis engine: from what is known about a failing iPhone/iPad/iPod touch restore to
//! a probability for every cause, the next step that is cheapest for what it is expected to
//! fix or reveal, a verdict, and the reasons, in plain words.
//!
//! It keeps a single-fault Bayesian posterior over the causes that apply to the device
//! ([`posterior`]), plans repair actions by updating P-over-C and questions by myopic value of
//! information ([`planner`]), enforces the safety rules of design.md §5 ([`guardrails`]), and
//! gives verdicts ([`verdict`]). [`api`] is the entry point for front ends (CLI, web): a
//! serde request in, the stable `diagnose --json` shape out. [`text`] reads a person's own
//! words. [`sim`] simulates cases from the knowledge base's model to compare policies.
//!
//! Invariants: no I/O, no clock, no randomness except through a seed passed in, no async.

pub mod api;
pub mod casebench;
pub mod corpus;
pub mod diagnose;
pub mod evidence;
pub mod guardrails;
pub mod intake;
pub mod learn;
pub mod model;
pub mod planner;
pub mod posterior;
pub mod rng;
pub mod sim;
pub mod text;
pub mod verdict;
pub mod words;

pub use diagnose::{Diagnosis, Next, diagnose};
pub use evidence::{
    ActionTried, Answer, Attempt, AttemptResult, Evidence, Finding, Mode, StepOutcome, Target,
};
pub use model::{Model, Role};

#[cfg(test)]
mod testkit;
