//! Cross-reference checks over the whole knowledge base. `build.rs` already rejects entries
//! that do not parse; this catches what parses but is wrong: priors that do not sum to 1,
//! ids that name nothing, numbers without a source, devices without a guide.

use crate::model::*;
use crate::vocab;
use std::collections::{BTreeSet, HashSet};

/// One problem, naming the file, the entry and the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("knowledge/{file}: {entry}: field `{field}`: {problem}")]
pub struct KbError {
    pub file: &'static str,
    pub entry: String,
    pub field: &'static str,
    pub problem: String,
}

struct Checker<'a> {
    t: &'a Tables,
    sources: HashSet<&'a str>,
    causes: HashSet<&'a str>,
    errors: Vec<KbError>,
}

impl<'a> Checker<'a> {
    fn err(&mut self, file: &'static str, entry: String, field: &'static str, problem: String) {
        self.errors.push(KbError {
            file,
            entry,
            field,
            problem,
        });
    }

    /// `KEY; KEY@rev; estimate: one line of reasoning` — keys must exist, an estimate must reason.
    fn source(&mut self, file: &'static str, entry: &str, field: &'static str, value: &str) {
        let mut parts = value.splitn(2, "estimate:");
        let keys = parts.next().unwrap_or("");
        let estimate = parts.next();
        if let Some(reason) = estimate
            && reason.trim().len() < 10
        {
            self.err(
                file,
                entry.into(),
                field,
                "`estimate:` needs a line of reasoning".into(),
            );
        }
        let mut any_key = false;
        for key in keys.split(';').map(str::trim).filter(|k| !k.is_empty()) {
            any_key = true;
            let bare = key.split('@').next().unwrap_or(key);
            if !self.sources.contains(bare) {
                self.err(
                    file,
                    entry.into(),
                    field,
                    format!("unknown source key `{bare}`"),
                );
            }
        }
        if !any_key && estimate.is_none() {
            self.err(file, entry.into(), field, "empty source".into());
        }
    }

    fn prior(&mut self, file: &'static str, entry: &str, field: &'static str, prior: &Prior) {
        let mut sum = 0.0;
        for (cause, p) in prior {
            if !self.causes.contains(cause.as_str()) {
                self.err(
                    file,
                    entry.into(),
                    field,
                    format!("unknown cause `{cause}`"),
                );
            }
            if !(0.0..=1.0).contains(p) {
                self.err(
                    file,
                    entry.into(),
                    field,
                    format!("{cause} = {p} is not a probability"),
                );
            }
            sum += p;
        }
        if (sum - 1.0).abs() > 1e-6 {
            self.err(
                file,
                entry.into(),
                field,
                format!("sums to {sum:.6}, not 1"),
            );
        }
    }
}

type Prior = std::collections::BTreeMap<String, f64>;

/// Every problem in the tables; empty when the knowledge base is sound.
pub fn validate(t: &Tables) -> Vec<KbError> {
    let mut c = Checker {
        t,
        sources: t.sources.iter().map(|s| s.key.as_str()).collect(),
        causes: t.causes.iter().map(|c| c.id.as_str()).collect(),
        errors: Vec::new(),
    };
    check_causes(&mut c);
    check_codes(&mut c);
    check_observations(&mut c);
    check_actions(&mut c);
    check_devices_and_guides(&mut c);
    check_faults(&mut c);
    check_restore_tables(&mut c);
    check_cases(&mut c);
    c.errors
}

fn check_causes(c: &mut Checker) {
    let t = c.t;
    for (id, group) in vocab::CAUSES {
        match t.causes.iter().find(|x| x.id == id) {
            None => c.err(
                "causes.toml",
                format!("cause `{id}`"),
                "id",
                "stable cause id missing".into(),
            ),
            Some(x) if x.group != group => c.err(
                "causes.toml",
                format!("cause `{id}`"),
                "group",
                format!("is `{}`, design.md says `{group}`", x.group),
            ),
            Some(_) => {}
        }
    }
    let mut seen = HashSet::new();
    for x in &t.causes {
        let e = format!("cause `{}`", x.id);
        if !seen.insert(&x.id) {
            c.err("causes.toml", e.clone(), "id", "duplicate".into());
        }
        if vocab::group_of(&x.id).is_none() {
            c.err(
                "causes.toml",
                e.clone(),
                "id",
                "not a stable cause id of design.md §3".into(),
            );
        }
        if x.repair_usd[0] > x.repair_usd[1] || x.repair_usd[0] < 0.0 {
            c.err(
                "causes.toml",
                e.clone(),
                "repair_usd",
                "must be [low, high] with 0 <= low <= high".into(),
            );
        }
        c.source("causes.toml", &e, "repair_source", &x.repair_source);
    }
}

fn check_codes(c: &mut Checker) {
    let t = c.t;
    let families: HashSet<&str> = t.families.iter().map(|f| f.id.as_str()).collect();
    let actions: HashSet<&str> = t.actions.iter().map(|a| a.id.as_str()).collect();
    for f in &t.families {
        let e = format!("family `{}`", f.id);
        c.prior("error_codes.toml", &e, "prior", &f.prior);
        c.source("error_codes.toml", &e, "prior_source", &f.prior_source);
        for step in &f.first_steps {
            if !actions.contains(step.as_str()) {
                c.err(
                    "error_codes.toml",
                    e.clone(),
                    "first_steps",
                    format!("unknown action `{step}`"),
                );
            }
        }
    }
    let mut seen = HashSet::new();
    let documented = |code: i64| {
        t.codes.iter().any(|x| x.code == code)
            || t.ranges.iter().any(|r| r.start <= code && code <= r.end)
    };
    for x in &t.codes {
        let e = format!("code {}", x.code);
        if !seen.insert(x.code) {
            c.err("error_codes.toml", e.clone(), "code", "duplicate".into());
        }
        for cause in x.cause_notes.keys() {
            if !c.causes.contains(cause.as_str()) {
                c.err(
                    "error_codes.toml",
                    e.clone(),
                    "cause_notes",
                    format!("unknown cause `{cause}`"),
                );
            }
        }
        if !families.contains(x.family.as_str()) {
            c.err(
                "error_codes.toml",
                e.clone(),
                "family",
                format!("unknown family `{}`", x.family),
            );
        }
        if x.summary.trim().is_empty() || x.meaning.trim().is_empty() {
            c.err(
                "error_codes.toml",
                e.clone(),
                "meaning",
                "summary and meaning must be written".into(),
            );
        }
        for r in &x.related {
            if !documented(*r) {
                c.err(
                    "error_codes.toml",
                    e.clone(),
                    "related",
                    format!("{r} is not documented"),
                );
            }
        }
        c.source("error_codes.toml", &e, "source", &x.source);
        match (&x.prior, &x.prior_source) {
            (Some(p), Some(s)) => {
                c.prior("error_codes.toml", &e, "prior", p);
                c.source("error_codes.toml", &e, "prior_source", s);
            }
            (Some(_), None) => c.err(
                "error_codes.toml",
                e.clone(),
                "prior_source",
                "a prior needs its source".into(),
            ),
            _ => {}
        }
    }
    for r in &t.ranges {
        let e = format!("range {}-{}", r.start, r.end);
        if r.start > r.end {
            c.err(
                "error_codes.toml",
                e.clone(),
                "end",
                "range ends before it starts".into(),
            );
        }
        if !families.contains(r.family.as_str()) {
            c.err(
                "error_codes.toml",
                e.clone(),
                "family",
                format!("unknown family `{}`", r.family),
            );
        }
        c.source("error_codes.toml", &e, "source", &r.source);
    }
}

fn check_observations(c: &mut Checker) {
    let t = c.t;
    let mut seen = HashSet::new();
    for o in &t.observations {
        let e = format!("observation `{}`", o.id);
        if !seen.insert(&o.id) {
            c.err("observations.toml", e.clone(), "id", "duplicate".into());
        }
        if o.outcomes.len() < 2 {
            c.err(
                "observations.toml",
                e.clone(),
                "outcomes",
                "needs at least two outcomes".into(),
            );
        }
        for (outcome, table) in &o.likelihood {
            if !o.outcomes.contains(outcome) {
                c.err(
                    "observations.toml",
                    e.clone(),
                    "likelihood",
                    format!("unknown outcome `{outcome}`"),
                );
            }
            for (cause, p) in table {
                if cause != "default" && !c.causes.contains(cause.as_str()) {
                    c.err(
                        "observations.toml",
                        e.clone(),
                        "likelihood",
                        format!("unknown cause `{cause}`"),
                    );
                }
                if !(*p > 0.0 && *p <= 1.0) {
                    c.err(
                        "observations.toml",
                        e.clone(),
                        "likelihood",
                        format!("{outcome}.{cause} = {p} must be in (0, 1]"),
                    );
                }
            }
        }
        for f in &o.families {
            if !t.families.iter().any(|x| &x.id == f) {
                c.err(
                    "observations.toml",
                    e.clone(),
                    "families",
                    format!("unknown family `{f}`"),
                );
            }
        }
        let binary = o.outcomes.len() == 2;
        if binary && o.likelihood.len() != 1 {
            c.err(
                "observations.toml",
                e.clone(),
                "likelihood",
                "a binary observation gives its first outcome only".into(),
            );
        }
        if !binary {
            // P(outcome | cause) must sum to 1 over the outcomes, for every cause.
            let causes: BTreeSet<&str> = t.causes.iter().map(|x| x.id.as_str()).collect();
            for cause in causes {
                let sum: f64 = o
                    .outcomes
                    .iter()
                    .map(|out| {
                        o.likelihood
                            .get(out)
                            .and_then(|m| m.get(cause).or_else(|| m.get("default")))
                            .copied()
                            .unwrap_or(0.0)
                    })
                    .sum();
                if (sum - 1.0).abs() > 1e-6 {
                    c.err(
                        "observations.toml",
                        e.clone(),
                        "likelihood",
                        format!("P(outcome | {cause}) sums to {sum:.4}, not 1"),
                    );
                }
            }
        }
        c.source("observations.toml", &e, "source", &o.source);
    }
}

fn check_actions(c: &mut Checker) {
    let t = c.t;
    let mut seen = HashSet::new();
    for a in &t.actions {
        let e = format!("action `{}`", a.id);
        if !seen.insert(&a.id) {
            c.err("actions.toml", e.clone(), "id", "duplicate".into());
        }
        if let Some(flag) = &a.tried_flag
            && !vocab::TRIED.contains(&flag.as_str())
        {
            c.err(
                "actions.toml",
                e.clone(),
                "tried_flag",
                format!("`{flag}` is not in the --tried vocabulary"),
            );
        }
        for f in &a.families {
            if !t.families.iter().any(|x| &x.id == f) {
                c.err(
                    "actions.toml",
                    e.clone(),
                    "families",
                    format!("unknown family `{f}`"),
                );
            }
        }
        for o in &a.not_when {
            if !t
                .observations
                .iter()
                .any(|x| &x.id == o && x.outcomes.iter().any(|v| v == "yes"))
            {
                c.err(
                    "actions.toml",
                    e.clone(),
                    "not_when",
                    format!("`{o}` is not an observation with a \"yes\" outcome"),
                );
            }
        }
        for (cause, p) in &a.fixes {
            if !c.causes.contains(cause.as_str()) {
                c.err(
                    "actions.toml",
                    e.clone(),
                    "fixes",
                    format!("unknown cause `{cause}`"),
                );
            }
            if !(0.0..=1.0).contains(p) {
                c.err(
                    "actions.toml",
                    e.clone(),
                    "fixes",
                    format!("{cause} = {p} is not a probability"),
                );
            }
        }
        if a.cost.minutes < 0.0 || a.cost.usd < 0.0 {
            c.err(
                "actions.toml",
                e.clone(),
                "cost",
                "costs cannot be negative".into(),
            );
        }
        if a.instructions.is_empty() {
            c.err(
                "actions.toml",
                e.clone(),
                "instructions",
                "every action says how to do it".into(),
            );
        }
        c.source("actions.toml", &e, "source", &a.source);
    }
    for flag in vocab::TRIED {
        if !t
            .actions
            .iter()
            .any(|a| a.tried_flag.as_deref() == Some(flag))
        {
            c.err(
                "actions.toml",
                format!("--tried `{flag}`"),
                "tried_flag",
                "no action stands for this word".into(),
            );
        }
    }
}

fn check_devices_and_guides(c: &mut Checker) {
    let t = c.t;
    let mut seen = HashSet::new();
    for d in &t.devices {
        let e = format!("device `{}` ({})", d.product_type, d.board);
        if !seen.insert((&d.product_type, &d.board)) {
            c.err(
                "devices.toml",
                e.clone(),
                "board",
                "duplicate product type and board".into(),
            );
        }
        for kind in GuideKind::ALL {
            if !t
                .guides
                .iter()
                .any(|g| g.scheme == d.button_scheme && g.kind == kind)
            {
                c.err(
                    "guides.toml",
                    e.clone(),
                    "scheme",
                    format!(
                        "no `{}` guide for scheme `{}`",
                        kind.cli_name(),
                        d.button_scheme.as_str()
                    ),
                );
            }
        }
        c.source("devices.toml", &e, "source", &d.source);
    }
    let mut seen = HashSet::new();
    for g in &t.guides {
        let e = format!("guide {}/{}", g.scheme.as_str(), g.kind.cli_name());
        if !seen.insert((g.scheme, g.kind)) {
            c.err("guides.toml", e.clone(), "kind", "duplicate".into());
        }
        if g.steps.is_empty() {
            c.err(
                "guides.toml",
                e.clone(),
                "steps",
                "a guide needs steps".into(),
            );
        }
        c.source("guides.toml", &e, "source", &g.source);
    }
    for h in &t.host_apps {
        let e = format!("host_app `{}`", h.os);
        c.source("guides.toml", &e, "source", &h.source);
    }
}

fn check_faults(c: &mut Checker) {
    let t = c.t;
    let product_types: HashSet<&str> = t.devices.iter().map(|d| d.product_type.as_str()).collect();
    for f in &t.known_faults {
        let e = format!("fault `{}`", f.id);
        if !c.causes.contains(f.cause.as_str()) {
            c.err(
                "known_faults.toml",
                e.clone(),
                "cause",
                format!("unknown cause `{}`", f.cause),
            );
        }
        if f.product_types.is_empty() {
            c.err(
                "known_faults.toml",
                e.clone(),
                "product_types",
                "names no device".into(),
            );
        }
        for p in &f.product_types {
            if !product_types.contains(p.as_str()) {
                c.err(
                    "known_faults.toml",
                    e.clone(),
                    "product_types",
                    format!("unknown product type `{p}`"),
                );
            }
        }
        if f.prior_weight <= 0.0 {
            c.err(
                "known_faults.toml",
                e.clone(),
                "prior_weight",
                "must be positive".into(),
            );
        }
        c.source(
            "known_faults.toml",
            &e,
            "prior_weight_source",
            &f.prior_weight_source,
        );
        c.source("known_faults.toml", &e, "source", &f.source);
    }
}

fn check_restore_tables(c: &mut Checker) {
    let t = c.t;
    let mut seen = HashSet::new();
    for o in &t.operations {
        let e = format!("operation {}", o.id);
        if !seen.insert(o.id) {
            c.err(
                "restore_operations.toml",
                e.clone(),
                "id",
                "duplicate".into(),
            );
        }
        c.source("restore_operations.toml", &e, "source", &o.source);
    }
    let mut seen = HashSet::new();
    for x in &t.checkpoints {
        let e = format!("checkpoint {:#06x}", x.id);
        if !seen.insert(x.id) {
            c.err("checkpoints.toml", e.clone(), "id", "duplicate".into());
        }
        c.source("checkpoints.toml", &e, "source", &x.source);
    }
    for s in &t.statuses {
        c.source(
            "restore_status.toml",
            &format!("status {}", s.status),
            "source",
            &s.source,
        );
    }
    for h in &t.progress_hints {
        c.source(
            "restore_status.toml",
            &format!("progress_hint `{}`", h.progress_point),
            "source",
            &h.source,
        );
    }
    for u in &t.usb_ids {
        c.source(
            "usb.toml",
            &format!("usb_id {:#06x}", u.pid_low),
            "source",
            &u.source,
        );
    }
    for f in &t.serial_fields {
        c.source(
            "usb.toml",
            &format!("serial_field `{}`", f.field),
            "source",
            &f.source,
        );
    }
}

/// The corpus of real cases: unique ids, a source address, a stable cause id (or
/// `unresolved`) and a known confidence level.
fn check_cases(c: &mut Checker) {
    let t = c.t;
    let mut seen = HashSet::new();
    for x in &t.cases {
        let e = format!("case `{}`", x.id);
        if !seen.insert(x.id.as_str()) {
            c.err("cases/*.jsonl", e.clone(), "id", "duplicate".into());
        }
        if !(x.source_url.starts_with("https://") || x.source_url.starts_with("http://")) {
            c.err(
                "cases/*.jsonl",
                e.clone(),
                "source_url",
                format!("{:?} is not an address", x.source_url),
            );
        }
        if x.resolution_category != "unresolved"
            && !c.causes.contains(x.resolution_category.as_str())
        {
            c.err(
                "cases/*.jsonl",
                e.clone(),
                "resolution_category",
                format!("unknown cause `{}`", x.resolution_category),
            );
        }
        if !matches!(x.confidence.as_str(), "high" | "medium" | "low") {
            c.err(
                "cases/*.jsonl",
                e.clone(),
                "confidence",
                format!("{:?} is not high, medium or low", x.confidence),
            );
        }
        if x.report.trim().is_empty() {
            c.err("cases/*.jsonl", e, "report", "empty".into());
        }
    }
}
