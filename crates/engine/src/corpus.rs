//! The corpus of real cases (`knowledge/cases/`, `kb::RealCase`) as the engine sees it: each
//! case turned into the diagnosis request a person would make, in one of two modes, and into
//! the examples the model learns from ([`crate::learn`]).
//!
//! - [`Mode::Text`]: the report alone, as `diagnose --text` gets it.
//! - [`Mode::Flags`]: the report plus what the case records as fields (device, error code,
//!   program, steps tried), as `diagnose --device … --error … --host … --tried … --text …`.
//!
//! In both, the log lines a case quotes go through the log reader as a pasted log would.

use crate::api::{DiagnoseRequest, resolve_with};
use crate::learn::Example;
use kb::{KnowledgeBase, RealCase, vocab};

/// What of a case the diagnosis gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The report alone.
    Text,
    /// The report plus device, code, program and steps tried.
    Flags,
}

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Text, Mode::Flags];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Text => "text",
            Mode::Flags => "flags",
        }
    }
}

/// The request a person with this case would make in `mode`.
pub fn request_for(kb: &KnowledgeBase, case: &RealCase, mode: Mode) -> DiagnoseRequest {
    let mut req = DiagnoseRequest {
        text: Some(case.report.clone()),
        ..DiagnoseRequest::default()
    };
    if mode == Mode::Flags {
        req.error = case.error_code;
        req.host = vocab::host_alias(&case.host).map(|(h, _)| h.to_string());
        req.device = case
            .product_type
            .clone()
            .filter(|p| kb.device(p).is_some())
            .or_else(|| {
                crate::api::find_device(kb, &case.device)
                    .ok()
                    .map(|d| d.product_type.clone())
            });
        req.tried = case
            .tried
            .iter()
            .filter_map(|t| vocab::tried_flag(kb, vocab::tried_alias(t).unwrap_or(t)))
            .map(str::to_string)
            .collect();
    }
    if let Some(lines) = case.log_excerpt.as_deref().filter(|l| !l.trim().is_empty()) {
        let log = logs::analyze_bytes(lines.as_bytes());
        crate::intake::add_logs(&mut req, std::slice::from_ref(&log));
    }
    req
}

/// The examples the model learns from: each case read as a diagnosis would read it in
/// [`Mode::Flags`] (the knowledge base alone, no fit), with its confirmed cause. Cases the
/// engine cannot read are left out.
pub fn examples(kb: &KnowledgeBase, cases: &[&RealCase]) -> Vec<Example> {
    cases
        .iter()
        .filter(|c| kb.cause(&c.resolution_category).is_some())
        .filter_map(|c| {
            let req = request_for(kb, c, Mode::Flags);
            let r = resolve_with(kb, None, &req).ok()?;
            let (findings, _) = r.evidence.findings(&r.model);
            Some(Example {
                family: r.model.family.clone().unwrap_or_else(|| "unknown".into()),
                findings,
                cause: c.resolution_category.clone(),
                kb_prior: r
                    .model
                    .causes
                    .iter()
                    .zip(&r.model.prior)
                    .map(|(c, p)| (c.id.clone(), *p))
                    .collect(),
            })
        })
        .collect()
}
