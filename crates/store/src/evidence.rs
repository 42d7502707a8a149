//! A stored case as evidence for the diagnosis engine: its device, error code, attempts and
//! steps become an [`engine::api::DiagnoseRequest`], and this shop's other closed cases with the
//! same model and error become pseudo-counts on the prior. The CLI (`diagnose --case`) and the
//! web API (`"case"` in a diagnose body) both go through here, so they read a case the same way.

use crate::{CaseHistory, Result, ShopPriors, StepOutcome, Store};
use engine::api::DiagnoseRequest;
use std::collections::BTreeMap;

/// Add a case's device, error code, attempts and steps to a request. Flags already in the
/// request (device, error) win over the case's.
pub fn add_case(req: &mut DiagnoseRequest, h: &CaseHistory) {
    if req.device.is_none() {
        req.device = h
            .device_product_type
            .clone()
            .or_else(|| Some(h.device_label.clone()));
    }
    if req.error.is_none() {
        req.error = h.error_code;
    }
    for a in &h.attempts {
        req.attempts.push(engine::Attempt {
            computer: Some(a.computer.clone()),
            cable: a.cable.clone(),
            port: a.port.clone(),
            hub: Some(a.hub),
            tool: a.tool.clone(),
            mode: match a.mode.as_deref() {
                Some("normal") => Some(engine::Mode::Normal),
                Some("recovery") => Some(engine::Mode::Recovery),
                Some("dfu") => Some(engine::Mode::Dfu),
                _ => None,
            },
            kind: a.kind.map(|k| match k.as_str() {
                "update" => engine::Target::Update,
                _ => engine::Target::Restore,
            }),
            result: if a.ok {
                engine::AttemptResult::Ok
            } else {
                a.error_code
                    .map(engine::AttemptResult::Error)
                    .unwrap_or(engine::AttemptResult::Failed)
            },
            stage: a.stage.as_deref().and_then(kb::Stage::parse),
            progress: a.progress.map(|p| p as f64),
        });
    }
    for s in &h.steps {
        req.steps.push(engine::ActionTried {
            action: s.action.clone(),
            outcome: match s.outcome {
                StepOutcome::Fixed => engine::StepOutcome::Fixed,
                StepOutcome::Failed => engine::StepOutcome::Failed,
                StepOutcome::Skipped => engine::StepOutcome::CannotDo,
            },
        });
    }
}

/// This shop's confirmed causes for the case's model and error, not counting the case itself.
pub fn shop_counts_for_case(priors: &ShopPriors, h: &CaseHistory) -> BTreeMap<String, u64> {
    let mut counts = priors.for_code_and_device(h.error_code, h.device_product_type.as_deref());
    if let Some(own) = &h.closed_cause
        && let Some(n) = counts.get_mut(own)
    {
        *n = n.saturating_sub(1);
    }
    counts.retain(|_, n| *n > 0);
    counts
}

impl Store {
    /// Read case `id` into `req`: its attempts and steps as evidence, and this shop's other
    /// closed cases for the same model and error as pseudo-counts on the prior.
    pub fn add_case_evidence(&mut self, id: i64, req: &mut DiagnoseRequest) -> Result<CaseHistory> {
        let history = self.case_history(id)?;
        add_case(req, &history);
        let priors = self.shop_prior_counts()?;
        req.shop_counts = shop_counts_for_case(&priors, &history);
        Ok(history)
    }
}
