//! Cross-reference checks over the whole knowledge base. `build.rs` already rejects entries
//! that do not parse; this catches what parses but is wrong: priors that do not sum to 1,
//! ids that name nothing, numbers without a source, devices without a guide.

use crate::citation;
use crate::model::*;
use crate::vocab;
use std::collections::{BTreeSet, HashMap, HashSet};

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
    sources: HashMap<&'a str, &'a Source>,
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

    /// `KEY; KEY@rev; estimate: one line of reasoning`: keys must exist (and a pinned revision
    /// must be the one the record read), an estimate must reason, and a key its reasoning
    /// names must exist too.
    fn source(&mut self, file: &'static str, entry: &str, field: &'static str, value: &str) {
        let cited = citation::parse_citation(value);
        if let Some(reason) = cited.estimate
            && reason.len() < 10
        {
            self.err(
                file,
                entry.into(),
                field,
                "`estimate:` needs a line of reasoning".into(),
            );
        }
        for k in &cited.keys {
            match self.sources.get(k.key) {
                None => self.err(
                    file,
                    entry.into(),
                    field,
                    format!("unknown source key `{}`", k.key),
                ),
                Some(record) => {
                    if let Some(pin) = k.revision
                        && record.revision.as_deref() != Some(pin)
                    {
                        self.err(
                            file,
                            entry.into(),
                            field,
                            format!(
                                "`{}@{pin}` pins a revision the source record does not name ({:?})",
                                k.key, record.revision
                            ),
                        );
                    }
                }
            }
        }
        for named in cited.estimate.into_iter().flat_map(citation::keys_named_in) {
            if !self.sources.contains_key(named) {
                self.err(
                    file,
                    entry.into(),
                    field,
                    format!("the reasoning names `{named}`, which is not a source key"),
                );
            }
        }
        if cited.keys.is_empty() && cited.estimate.is_none() {
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
        sources: t.sources.iter().map(|s| (s.key.as_str(), s)).collect(),
        causes: t.causes.iter().map(|c| c.id.as_str()).collect(),
        errors: Vec::new(),
    };
    check_sources(&mut c);
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

/// Every source record names a concrete reference: a key citations can use, a title saying
/// what the document is, and an address to read it at (the commit too, for source code).
fn check_sources(c: &mut Checker) {
    let t = c.t;
    let mut seen = HashSet::new();
    for s in &t.sources {
        let e = format!("source `{}`", s.key);
        if !seen.insert(s.key.as_str()) {
            c.err("sources.toml", e.clone(), "key", "duplicate".into());
        }
        if !citation::is_key_shaped(&s.key) {
            c.err(
                "sources.toml",
                e.clone(),
                "key",
                "a key is an upper-case word and any `_`-joined parts (e.g. `PG_ROSSMANN_4013`)"
                    .into(),
            );
        }
        if let Some(problem) = title_problem(s) {
            c.err("sources.toml", e.clone(), "title", problem);
        }
        for url in std::iter::once(&s.url).chain(&s.also) {
            if let Some(problem) = address_problem(url) {
                c.err("sources.toml", e.clone(), "url", problem);
            }
        }
        let pinned = github_pinned_ref(&s.url);
        match (&s.revision, pinned) {
            (Some(rev), _) if rev.trim().is_empty() || rev.contains(char::is_whitespace) => c.err(
                "sources.toml",
                e.clone(),
                "revision",
                format!("{rev:?} is not a revision"),
            ),
            (Some(rev), Some(r)) if r != rev => c.err(
                "sources.toml",
                e.clone(),
                "revision",
                format!("is `{rev}`, but the address reads `{r}`"),
            ),
            (None, Some(r)) if is_commit(r) => c.err(
                "sources.toml",
                e.clone(),
                "revision",
                format!("the address pins commit `{r}`: name it as the revision"),
            ),
            _ => {}
        }
    }
}

/// Why a title does not say what the document is, if it does not.
fn title_problem(s: &Source) -> Option<String> {
    let title = s.title.trim();
    let lower = title.to_lowercase();
    if title.is_empty() {
        Some("empty: say what the document is".into())
    } else if title == s.key || title.split_whitespace().count() < 3 {
        Some(format!("{title:?} does not say what the document is"))
    } else if ["cited by the reference", "no separate entry"]
        .iter()
        .any(|p| lower.contains(p))
        || lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| matches!(w, "placeholder" | "todo" | "tbd"))
    {
        Some(format!("{title:?} is a placeholder, not a reference"))
    } else {
        None
    }
}

/// Why a string is not an address to read a source at, if it is not.
fn address_problem(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    if rest.is_none() {
        Some(format!("{url:?} is not an http(s) address"))
    } else if !host.is_some_and(|h| h.contains('.') && !h.starts_with('.') && !h.ends_with('.')) {
        Some(format!("{url:?} has no host"))
    } else if url.contains(char::is_whitespace) {
        Some(format!("{url:?} contains a space"))
    } else if url.contains('…') || url.contains("...") {
        Some(format!("{url:?} is cut short"))
    } else {
        None
    }
}

/// The ref of a GitHub file, tree or commit address (`…/blob/<ref>/path`, `…/commit/<ref>`).
fn github_pinned_ref(url: &str) -> Option<&str> {
    let path = url.strip_prefix("https://github.com/")?;
    let mut parts = path.split('/');
    let (_owner, _repo, kind, r) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    matches!(kind, "blob" | "tree" | "commit").then_some(r)
}

/// A (possibly short) git commit id.
fn is_commit(r: &str) -> bool {
    (7..=40).contains(&r.len()) && r.chars().all(|c| c.is_ascii_hexdigit())
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
        for (field, keys) in [
            ("cause_notes", x.cause_notes.keys().collect::<Vec<_>>()),
            ("cause_names", x.cause_names.keys().collect()),
        ] {
            for cause in keys {
                if !c.causes.contains(cause.as_str()) {
                    c.err(
                        "error_codes.toml",
                        e.clone(),
                        field,
                        format!("unknown cause `{cause}`"),
                    );
                }
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
        if let Some(v) = o.known_device.as_ref().filter(|v| !o.outcomes.contains(v)) {
            c.err(
                "observations.toml",
                e.clone(),
                "known_device",
                format!("`{v}` is not one of the outcomes"),
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
        for named in a.implies.iter().chain(&a.reveals) {
            let (id, value) = named.split_once('=').unwrap_or((named, ""));
            match t.observations.iter().find(|o| o.id == id) {
                None => c.err(
                    "actions.toml",
                    e.clone(),
                    "implies/reveals",
                    format!("unknown observation `{id}`"),
                ),
                Some(o) if !value.is_empty() && !o.outcomes.iter().any(|x| x == value) => c.err(
                    "actions.toml",
                    e.clone(),
                    "implies",
                    format!("`{id}` has no outcome `{value}`"),
                ),
                Some(_) => {}
            }
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
    for w in &t.host_wordings {
        let e = format!("host_wording `{}`", w.generic);
        let used = t
            .actions
            .iter()
            .flat_map(|a| &a.instructions)
            .chain(t.observations.iter().map(|o| &o.question))
            .any(|line| line.contains(w.generic.as_str()));
        if !used {
            c.err(
                "guides.toml",
                e.clone(),
                "generic",
                "no action's instructions or question hold these words (reworded?)".into(),
            );
        }
        for host in w.by_host.keys() {
            if !vocab::HOSTS.contains(&host.as_str()) {
                c.err(
                    "guides.toml",
                    e.clone(),
                    "by_host",
                    format!("`{host}` is not in the --host vocabulary"),
                );
            }
        }
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
        for trigger in &f.triggers {
            let (id, value) = trigger.split_once('=').unwrap_or((trigger, "yes"));
            match t.observations.iter().find(|o| o.id == id) {
                None => c.err(
                    "known_faults.toml",
                    e.clone(),
                    "triggers",
                    format!("unknown observation `{id}`"),
                ),
                Some(o) if !o.outcomes.iter().any(|x| x == value) => c.err(
                    "known_faults.toml",
                    e.clone(),
                    "triggers",
                    format!("`{id}` has no outcome `{value}`"),
                ),
                Some(_) => {}
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded tables with one change, and the problems validation finds in them.
    fn problems_after(change: impl FnOnce(&mut Tables)) -> Vec<String> {
        let mut t = crate::kb().tables().clone();
        change(&mut t);
        validate(&t).iter().map(|e| e.to_string()).collect()
    }

    fn source(key: &str, title: &str, url: &str) -> Source {
        Source {
            key: key.into(),
            title: title.into(),
            url: url.into(),
            revision: None,
            also: vec![],
            note: None,
        }
    }

    fn has(problems: &[String], needle: &str) -> bool {
        problems.iter().any(|p| p.contains(needle))
    }

    #[test]
    fn a_placeholder_source_record_is_rejected() {
        // The shape 70 keys had before: a sentence about the reference tables, no address.
        let p = problems_after(|t| {
            t.sources.push(source(
                "IDEVICERESTORE_LOGS",
                "cited by the reference tables in shared/reference (no separate entry in SOURCES.md)",
                "",
            ))
        });
        assert!(
            has(&p, "source `IDEVICERESTORE_LOGS`: field `title`: ") && has(&p, "placeholder"),
            "{p:#?}"
        );
        assert!(
            has(
                &p,
                "source `IDEVICERESTORE_LOGS`: field `url`: \"\" is not an http(s) address"
            ),
            "{p:#?}"
        );
        // A title that is only the key, or a word or two, says nothing either.
        let p = problems_after(|t| {
            t.sources.push(source(
                "PG_SOME_PAGE",
                "PG_SOME_PAGE",
                "https://example.org/a",
            ));
            t.sources
                .push(source("PG_OTHER_PAGE", "a page", "https://example.org/b"));
        });
        assert!(has(&p, "source `PG_SOME_PAGE`: field `title`"), "{p:#?}");
        assert!(has(&p, "source `PG_OTHER_PAGE`: field `title`"), "{p:#?}");
    }

    #[test]
    fn addresses_must_be_whole_http_addresses() {
        for (url, why) in [
            ("outofajam.net/blog/2011/10/17/", "not an http(s) address"),
            ("search-index id 36998354847", "not an http(s) address"),
            ("https://", "has no host"),
            ("https://localhost/file", "has no host"),
            (
                "https://outofajam.net/blog/2011/10/17/iphone-error-3014-…",
                "cut short",
            ),
            ("https://example.org/a page", "contains a space"),
        ] {
            let problem = address_problem(url).unwrap_or_default();
            assert!(problem.contains(why), "{url}: {problem:?}");
        }
        for url in [
            "https://github.com/libimobiledevice/idevicerestore/blob/405fcd1/src/restore.c",
            "http://example.org",
            "https://kobomo.com/75エラー/",
            "https://macsurfer.com/redir.php?u=1110871",
        ] {
            assert_eq!(address_problem(url), None, "{url}");
        }
        let p = problems_after(|t| {
            t.sources[0].also.push("gist.github.com/abc".into());
        });
        assert!(
            has(&p, "\"gist.github.com/abc\" is not an http(s) address"),
            "{p:#?}"
        );
    }

    #[test]
    fn a_pinned_address_and_its_revision_agree() {
        let url = "https://github.com/libimobiledevice/idevicerestore/blob/405fcd1/src/restore.c";
        let p = problems_after(|t| {
            let mut s = source("CODE_UNNAMED_REV", "a source file read at a commit", url);
            t.sources.push(s.clone());
            s.key = "CODE_OTHER_REV".into();
            s.revision = Some("deadbee".into());
            t.sources.push(s);
        });
        assert!(
            has(
                &p,
                "source `CODE_UNNAMED_REV`: field `revision`: the address pins commit `405fcd1`"
            ),
            "{p:#?}"
        );
        assert!(
            has(
                &p,
                "source `CODE_OTHER_REV`: field `revision`: is `deadbee`, but the address reads `405fcd1`"
            ),
            "{p:#?}"
        );
        // A citation that pins a commit must pin the one the record read.
        let p = problems_after(|t| {
            t.operations[0].source = "IDR_RESTORE_C@0000000".into();
        });
        assert!(has(&p, "`IDR_RESTORE_C@0000000` pins a revision"), "{p:#?}");
    }

    #[test]
    fn every_cited_key_exists_also_in_the_reasoning() {
        let p = problems_after(|t| {
            t.devices[0].source = "LIBIRECOVERY_C;cpid_to_soc_general_knowledge".into();
            t.families[0].prior_source =
                "estimate: as RESTORED_LOG_2017 and DFU logs show, most of these are cables".into();
        });
        assert!(
            has(&p, "unknown source key `cpid_to_soc_general_knowledge`"),
            "{p:#?}"
        );
        assert!(
            has(
                &p,
                "the reasoning names `RESTORED_LOG_2017`, which is not a source key"
            ),
            "{p:#?}"
        );
        assert!(!has(&p, "`DFU`"), "{p:#?}");
    }
}
