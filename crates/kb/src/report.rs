//! The JSON documents of `explain`, `guide` and `devices` (design.md §6), built from the
//! knowledge base. The CLI prints them (as JSON or as text) and the web API serves them, so
//! both say the same thing. Pure: no I/O; failures are a typed [`ReportError`] carrying the
//! facts a front end needs to phrase its own message.

use crate::{
    Biometric, ButtonScheme, CodeEntry, Connector, Cost, DataRisk, Device, DeviceMatch, GuideKind,
    Skill, kb, normalise_name, power_words,
};
use serde::Serialize;

/// Why a report could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// The code is not documented, alone or in a range.
    #[error("error {code} is not a documented restore or update error")]
    UnknownCode {
        code: i64,
        /// The numerically nearest documented code with its family (title, id).
        nearest: Option<NearestCode>,
    },
    /// Not one of force-restart, recovery, dfu, exit-recovery.
    #[error("unknown guide `{0}`: choose force-restart, recovery, dfu or exit-recovery")]
    UnknownGuide(String),
    /// The query matches several models.
    #[error("`{query}` matches several devices: {}", .names.join(", "))]
    AmbiguousDevice { query: String, names: Vec<String> },
    /// The query matches no model.
    #[error("no device called `{query}`; closest: {}", .closest.join(", "))]
    UnknownDevice { query: String, closest: Vec<String> },
    /// The knowledge base lacks a record it refers to (a bug in the data).
    #[error("knowledge base is missing {0}")]
    Missing(String),
}

/// The documented code nearest to an undocumented one.
#[derive(Debug, Clone, PartialEq)]
pub struct NearestCode {
    pub code: i64,
    pub family_id: String,
    pub family_title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CauseJson {
    pub id: String,
    pub group: String,
    pub name: String,
    pub probability: f64,
    /// What the cause stands for with this code, when the code's entry says (`cause_notes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FirstStepJson {
    pub action: String,
    pub title: String,
    pub cost: Cost,
    pub skill: Skill,
    pub erases_data: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RangeJson {
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FamilyJson {
    pub id: String,
    pub title: String,
}

/// `explain <CODE> --json`.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainJson {
    pub code: i64,
    /// `code` or `range`.
    pub documented_as: &'static str,
    pub range: Option<RangeJson>,
    pub summary: String,
    pub meaning: String,
    pub apple_category: Vec<String>,
    pub apple_category_confidence: Option<String>,
    pub family: FamilyJson,
    /// The prior over causes, most likely first (causes with probability 0 left out).
    pub causes: Vec<CauseJson>,
    pub prior_source: Option<String>,
    pub first_steps: Vec<FirstStepJson>,
    pub related: Vec<i64>,
    pub source: String,
}

/// One line of `explain --list --json` (`{"codes": [...]}`).
#[derive(Debug, Clone, Serialize)]
pub struct CodeListEntry {
    pub code: Option<i64>,
    pub range: Option<RangeJson>,
    pub family: String,
    pub summary: String,
}

/// Parse an error code as a person types it: `4013`, `-1`, `Error 4013`, `(4013)`.
pub fn parse_code(text: &str) -> Option<i64> {
    let t = text.trim().trim_start_matches('(').trim_end_matches(')');
    let lower = t.to_ascii_lowercase();
    let t = lower
        .strip_prefix("error")
        .or_else(|| lower.strip_prefix("err"))
        .unwrap_or(&lower)
        .trim();
    t.parse::<i64>().ok()
}

/// What a code means, its prior over causes and what to try first.
pub fn explain(code: i64) -> Result<ExplainJson, ReportError> {
    let kb = kb();
    let Some(entry) = kb.lookup_code(code) else {
        let nearest = kb.nearest_code(code).and_then(|n| {
            kb.family(&n.family).map(|f| NearestCode {
                code: n.code,
                family_id: f.id.clone(),
                family_title: f.title.clone(),
            })
        });
        return Err(ReportError::UnknownCode { code, nearest });
    };
    let family = kb
        .family(entry.family_id())
        .ok_or_else(|| ReportError::Missing(format!("family {}", entry.family_id())))?;
    let prior = kb.code_prior(code).cloned().unwrap_or_default();
    let mut causes: Vec<CauseJson> = prior
        .iter()
        .filter(|(_, p)| **p > 0.0)
        .filter_map(|(id, p)| {
            kb.cause(id).map(|c| CauseJson {
                id: id.clone(),
                group: c.group.clone(),
                name: c.name.clone(),
                probability: *p,
                note: kb.cause_note(code, id).map(str::to_string),
            })
        })
        .collect();
    causes.sort_by(|a, b| b.probability.total_cmp(&a.probability));
    let first_steps: Vec<FirstStepJson> = family
        .first_steps
        .iter()
        .filter_map(|id| kb.action(id))
        .map(|a| FirstStepJson {
            action: a.id.clone(),
            title: a.title.clone(),
            cost: a.cost,
            skill: a.skill,
            erases_data: a.data_risk == DataRisk::ErasesDevice,
        })
        .collect();
    let (documented_as, range, related, confidence) = match entry {
        CodeEntry::Code(c) => (
            "code",
            None,
            c.related.clone(),
            c.apple_category_confidence.clone(),
        ),
        CodeEntry::Range(r) => (
            "range",
            Some(RangeJson {
                start: r.start,
                end: r.end,
            }),
            Vec::new(),
            None,
        ),
    };
    Ok(ExplainJson {
        code,
        documented_as,
        range,
        summary: entry.summary().to_string(),
        meaning: entry.meaning().to_string(),
        apple_category: entry.apple_category().to_vec(),
        apple_category_confidence: confidence,
        family: FamilyJson {
            id: family.id.clone(),
            title: family.title.clone(),
        },
        causes,
        prior_source: kb.code_prior_source(code).map(str::to_string),
        first_steps,
        related,
        source: entry.source().to_string(),
    })
}

/// Every documented code, then every documented range.
pub fn code_list() -> Vec<CodeListEntry> {
    let kb = kb();
    let mut entries: Vec<CodeListEntry> = kb
        .error_codes()
        .into_iter()
        .map(|c| CodeListEntry {
            code: Some(c.code),
            range: None,
            family: c.family.clone(),
            summary: c.summary.clone(),
        })
        .collect();
    for r in kb.ranges() {
        entries.push(CodeListEntry {
            code: None,
            range: Some(RangeJson {
                start: r.start,
                end: r.end,
            }),
            family: r.family.clone(),
            summary: r.summary.clone(),
        });
    }
    entries
}

/// Resolve a device query to one model (all its variants), or say why not.
pub fn resolve_device(query: &str) -> Result<(&'static str, Vec<&'static Device>), ReportError> {
    match kb().find_device(query) {
        DeviceMatch::Found { name, variants } if !variants.is_empty() => Ok((name, variants)),
        DeviceMatch::Found { .. } => Err(ReportError::UnknownDevice {
            query: query.to_string(),
            closest: Vec::new(),
        }),
        DeviceMatch::Ambiguous(names) => Err(ReportError::AmbiguousDevice {
            query: query.to_string(),
            names: names.iter().map(|s| s.to_string()).collect(),
        }),
        DeviceMatch::NotFound(names) => Err(ReportError::UnknownDevice {
            query: query.to_string(),
            closest: names.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GuideStepJson {
    pub n: usize,
    pub text: String,
    pub hold_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppJson {
    pub os: String,
    pub app: String,
    pub how: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GuideDeviceJson {
    pub name: String,
    pub product_types: Vec<String>,
    pub button_scheme: ButtonScheme,
}

/// `guide <KIND> --device D --json`.
#[derive(Debug, Clone, Serialize)]
pub struct GuideJson {
    pub kind: &'static str,
    pub device: GuideDeviceJson,
    pub title: String,
    pub before: Vec<String>,
    pub steps: Vec<GuideStepJson>,
    pub success: String,
    pub failure: Vec<String>,
    pub mistakes: Vec<String>,
    pub apps: Vec<AppJson>,
    pub source: String,
}

/// The button steps of a guide kind (`force-restart`, `recovery`, `dfu`, `exit-recovery`)
/// for the device a query names.
pub fn guide(kind: &str, device_query: &str) -> Result<GuideJson, ReportError> {
    let kind = GuideKind::parse(kind).ok_or_else(|| ReportError::UnknownGuide(kind.to_string()))?;
    let (name, variants) = resolve_device(device_query)?;
    guide_for(kind, name, &variants)
}

/// [`guide`] for a resolved device (`variants` non-empty; the first one's buttons are used).
pub fn guide_for(
    kind: GuideKind,
    name: &str,
    variants: &[&Device],
) -> Result<GuideJson, ReportError> {
    let device = *variants
        .first()
        .ok_or_else(|| ReportError::Missing(format!("variants of {name}")))?;
    let kb = kb();
    let guide = kb.guide(device.button_scheme, kind).ok_or_else(|| {
        ReportError::Missing(format!(
            "the {} guide for {}",
            kind.cli_name(),
            device.button_scheme.as_str()
        ))
    })?;
    let mut product_types: Vec<String> = variants.iter().map(|d| d.product_type.clone()).collect();
    product_types.dedup();
    let words =
        |list: &[String]| -> Vec<String> { list.iter().map(|t| power_words(t, device)).collect() };
    Ok(GuideJson {
        kind: kind.cli_name(),
        device: GuideDeviceJson {
            name: name.to_string(),
            product_types,
            button_scheme: device.button_scheme,
        },
        title: guide.title.clone(),
        before: words(&guide.before),
        steps: guide
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| GuideStepJson {
                n: i + 1,
                text: power_words(&s.text, device),
                hold_seconds: s.hold_seconds,
            })
            .collect(),
        success: power_words(&guide.success, device),
        failure: words(&guide.failure),
        mistakes: words(&guide.mistakes),
        apps: kb
            .host_apps()
            .iter()
            .map(|h| AppJson {
                os: h.os.clone(),
                app: h.app.clone(),
                how: h.how.clone(),
            })
            .collect(),
        source: guide.source.clone(),
    })
}

/// The JSON shape of a device used across commands (`devices --json` lists these).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceJson {
    pub name: String,
    pub product_type: String,
    pub board: String,
    pub cpid: String,
    pub bdid: String,
    pub soc: String,
    pub year: u16,
    pub connector: Connector,
    pub button_scheme: ButtonScheme,
    pub biometric: Biometric,
    pub cellular: bool,
    pub variant: String,
    pub known_faults: Vec<String>,
}

impl DeviceJson {
    pub fn new(d: &Device) -> Self {
        DeviceJson {
            name: d.name.clone(),
            product_type: d.product_type.clone(),
            board: d.board.clone(),
            cpid: format!("0x{:04X}", d.cpid),
            bdid: format!("0x{:02X}", d.bdid),
            soc: d.soc.clone(),
            year: d.year,
            connector: d.connector,
            button_scheme: d.button_scheme,
            biometric: d.biometric,
            cellular: d.cellular,
            variant: d.variant.clone(),
            known_faults: kb()
                .known_faults_for(&d.product_type)
                .iter()
                .map(|f| f.id.clone())
                .collect(),
        }
    }
}

/// The devices a `devices [NAME]` filter selects: every device whose name holds all the words
/// of the query, plus an exact match on a product type, board or spelling ("7+", "d22ap").
/// `None` selects every device. No match is [`ReportError::UnknownDevice`] with the closest
/// names.
pub fn devices_matching(query: Option<&str>) -> Result<Vec<&'static Device>, ReportError> {
    let kb = kb();
    let Some(q) = query else {
        return Ok(kb.devices().iter().collect());
    };
    let nq = normalise_name(q);
    let words: Vec<&str> = nq.split(' ').collect();
    let found = kb.find_device(q);
    let exact: Vec<&Device> = match &found {
        DeviceMatch::Found { variants, .. } => variants.clone(),
        _ => Vec::new(),
    };
    let hits: Vec<&Device> = kb
        .devices()
        .iter()
        .filter(|d| {
            let name = normalise_name(&d.name);
            let have: Vec<&str> = name.split(' ').collect();
            exact.iter().any(|e| std::ptr::eq(*e, *d)) || words.iter().all(|w| have.contains(w))
        })
        .collect();
    if hits.is_empty() {
        let closest = match found {
            DeviceMatch::NotFound(c) | DeviceMatch::Ambiguous(c) => c,
            DeviceMatch::Found { name, .. } => vec![name],
        };
        return Err(ReportError::UnknownDevice {
            query: q.to_string(),
            closest: closest.iter().map(|s| s.to_string()).collect(),
        });
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_4013_prior_sums_to_one_and_is_sorted() {
        let e = explain(4013).unwrap();
        let sum: f64 = e.causes.iter().map(|c| c.probability).sum();
        assert!((sum - 1.0).abs() < 1e-6, "sum {sum}");
        assert!(
            e.causes
                .windows(2)
                .all(|w| w[0].probability >= w[1].probability)
        );
        assert_eq!(e.documented_as, "code");
    }

    #[test]
    fn an_undocumented_code_names_the_nearest() {
        match explain(777) {
            Err(ReportError::UnknownCode { code: 777, nearest }) => assert!(nearest.is_some()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parse_code_reads_what_people_type() {
        assert_eq!(parse_code("Error 4013"), Some(4013));
        assert_eq!(parse_code("(-1)"), Some(-1));
        assert_eq!(parse_code("forty"), None);
    }

    #[test]
    fn codes_say_what_a_broad_cause_means_for_them() {
        let r = explain(53).unwrap();
        let other = r.causes.iter().find(|c| c.id == "other_hardware").unwrap();
        assert!(other.note.as_deref().unwrap().contains("Touch ID"));
        let r = explain(4037).unwrap();
        let sw = r
            .causes
            .iter()
            .find(|c| c.id == "ios_system_software")
            .unwrap();
        assert!(sw.note.as_deref().unwrap().contains("passcode"));
        // Codes without notes carry none.
        let r = explain(4013).unwrap();
        assert!(r.causes.iter().all(|c| c.note.is_none()));
    }

    #[test]
    fn guide_names_the_power_button_and_rejects_unknown_kinds() {
        let g = guide("dfu", "iPhone X").unwrap();
        assert!(g.steps.iter().any(|s| s.text.contains("Side button")));
        assert_eq!(
            guide("reboot", "iPhone X").unwrap_err(),
            ReportError::UnknownGuide("reboot".into())
        );
        assert!(matches!(
            guide("dfu", "iphone 99"),
            Err(ReportError::UnknownDevice { .. })
        ));
    }

    #[test]
    fn devices_matching_filters_by_words() {
        let all = devices_matching(None).unwrap();
        let elevens = devices_matching(Some("iphone 11")).unwrap();
        assert!(elevens.len() < all.len());
        assert!(elevens.iter().all(|d| d.name.contains("11")));
        assert!(devices_matching(Some("nokia")).is_err());
    }
}
