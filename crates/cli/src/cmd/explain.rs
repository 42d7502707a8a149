//! `restore-doctor explain <CODE>`: what a restore/update error code means, its likely causes
//! (the prior before anything is tried) and what to try first. `--list` lists every code.

use crate::output::{self, ACCENT, BOLD, CmdResult, DIM, HEADING, Out, bad_input, paint};
use kb::report::{self, ExplainJson, ReportError};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor explain 4013\n  restore-doctor explain -- -1\n  restore-doctor explain 3456      # explained by the 3000-3999 range\n  restore-doctor explain --list --json"
)]
pub struct Args {
    /// The error code (e.g. 4013, 9, 3194, -1).
    #[arg(allow_negative_numbers = true, required_unless_present = "list")]
    pub code: Option<String>,
    /// List every documented code and range.
    #[arg(long)]
    pub list: bool,
    /// A case database (SQLite path or postgres:// URL): also show this shop's confirmed causes
    /// for the code, added to the knowledge base's prior as pseudo-counts.
    #[arg(long, env = "RESTORE_DOCTOR_DB")]
    pub db: Option<String>,
}

/// This shop's closed cases with a confirmed cause for the code, and the prior they give.
#[derive(serde::Serialize)]
struct ShopView {
    /// Closed cases with this code and a confirmed cause.
    cases: u64,
    /// Confirmed cause → number of cases.
    counts: std::collections::BTreeMap<String, u64>,
    /// How many cases the knowledge base's prior counts for (the Dirichlet strength).
    knowledge_base_weight: f64,
    /// The prior with the shop's cases added, sorted by probability.
    causes: Vec<ShopCause>,
}

#[derive(serde::Serialize)]
struct ShopCause {
    id: String,
    name: String,
    knowledge_base: f64,
    probability: f64,
}

#[derive(serde::Serialize)]
struct ExplainWithShop<'a> {
    #[serde(flatten)]
    report: &'a ExplainJson,
    shop: &'a ShopView,
}

/// Read the shop's counts for `code` and combine them with the knowledge base's prior the way
/// the engine does: p ← (p·S + n) / (S + N).
fn shop_view(db: &str, report: &ExplainJson) -> anyhow::Result<ShopView> {
    let mut store = crate::cmd::cases::open_store(Some(db))?;
    let priors = store
        .shop_prior_counts()
        .map_err(crate::cmd::cases::store_err)?;
    let counts = priors.for_codes(&[report.code]);
    let known: u64 = counts
        .iter()
        .filter(|(c, _)| kb::kb().cause(c).is_some())
        .map(|(_, n)| *n)
        .sum();
    let strength = engine::model::KB_PRIOR_STRENGTH;
    let mut ids: Vec<String> = report.causes.iter().map(|c| c.id.clone()).collect();
    for c in counts.keys() {
        if kb::kb().cause(c).is_some() && !ids.contains(c) {
            ids.push(c.clone());
        }
    }
    let mut causes: Vec<ShopCause> = ids
        .into_iter()
        .map(|id| {
            let base = report
                .causes
                .iter()
                .find(|c| c.id == id)
                .map_or(0.0, |c| c.probability);
            let n = counts.get(&id).copied().unwrap_or(0) as f64;
            ShopCause {
                name: kb::kb().cause(&id).map_or(id.clone(), |c| c.name.clone()),
                probability: (base * strength + n) / (strength + known as f64),
                knowledge_base: base,
                id,
            }
        })
        .collect();
    causes.sort_by(|a, b| b.probability.total_cmp(&a.probability));
    Ok(ShopView {
        cases: known,
        counts,
        knowledge_base_weight: strength,
        causes,
    })
}

pub fn parse_code(text: &str) -> anyhow::Result<i64> {
    match report::parse_code(text) {
        Some(c) => Ok(c),
        None => bad_input(format!(
            "`{text}` is not an error code: give the number the app showed, e.g. 4013 or -1"
        )),
    }
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    if args.list {
        return list(out);
    }
    let text = args.code.unwrap_or_default();
    let code = parse_code(&text)?;
    let report = match report::explain(code) {
        Ok(r) => r,
        Err(ReportError::UnknownCode { code, nearest }) => {
            let hint = nearest
                .map(|n| {
                    format!(
                        " The nearest documented code is {}, in the family \"{}\" ({}).",
                        n.code, n.family_title, n.family_id
                    )
                })
                .unwrap_or_default();
            return bad_input(format!(
                "error {code} is not a documented restore or update error.{hint} `restore-doctor explain --list` shows every code."
            ));
        }
        Err(e) => return Err(anyhow::anyhow!(e)),
    };
    tracing::info!(
        "code {}: documented as {}, family {}, prior from {}",
        report.code,
        report.documented_as,
        report.family.id,
        if report.prior_source.is_some() {
            "the code's own numbers"
        } else {
            "its family"
        }
    );
    let shop = match args.db.as_deref() {
        Some(db) => Some(shop_view(db, &report)?),
        None => None,
    };
    match (&shop, out.json) {
        (Some(shop), true) => out.json(&ExplainWithShop {
            report: &report,
            shop,
        })?,
        (None, true) => out.json(&report)?,
        (_, false) => {
            print_human(&report);
            if let Some(shop) = &shop {
                print_shop(&report, shop);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_shop(report: &ExplainJson, shop: &ShopView) {
    let mut s = format!("\n{}\n", paint(HEADING, "With this shop's own history"));
    if shop.cases == 0 {
        s.push_str(&format!(
            "  {}\n",
            paint(
                DIM,
                format!("No closed case with error {} and a confirmed cause yet: the numbers above stand.", report.code)
            )
        ));
        crate::say!("{s}");
        return;
    }
    s.push_str(&output::wrap(
        &format!(
            "{} closed case(s) with error {} had a confirmed cause. They are added to the knowledge base's numbers, which count as {} cases:",
            shop.cases, report.code, shop.knowledge_base_weight
        ), "  "));
    let width = shop
        .causes
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(10);
    for c in shop.causes.iter().filter(|c| c.probability >= 0.005) {
        let n = shop.counts.get(&c.id).copied().unwrap_or(0);
        let seen = if n > 0 {
            paint(BOLD, format!("  {n} confirmed here"))
        } else {
            String::new()
        };
        s.push_str(&format!(
            "  {:<width$} {} {:>3.0}%  {}{}\n",
            c.name,
            paint(ACCENT, output::bar(c.probability, 20)),
            c.probability * 100.0,
            paint(
                DIM,
                format!("(knowledge base {:.0}%)", c.knowledge_base * 100.0)
            ),
            seen
        ));
    }
    crate::say!("{s}");
}

fn category_words(cat: &str) -> String {
    let (base, era) = match cat.split_once('[') {
        Some((b, e)) => (
            b,
            format!(" (in Apple's {} edition)", e.trim_end_matches(']')),
        ),
        None => (cat, String::new()),
    };
    let words = match base {
        "check_usb_connection" => "check the USB connection",
        "hardware_issue" => "hardware issue",
        "check_security_software" => "check security software",
        "connect_to_apple_servers" => "connection to Apple's servers",
        "update_computer" => "update the computer",
        "separate_article" => "its own support article",
        "mixed" => "mixed",
        other => other,
    };
    format!("{words}{era}")
}

fn print_human(r: &ExplainJson) {
    let mut s = String::new();
    let title = match &r.range {
        Some(range) => format!(
            "Error {} (in the documented range {}–{})",
            r.code, range.start, range.end
        ),
        None => format!("Error {}", r.code),
    };
    s.push_str(&format!(
        "{}  {}\n",
        paint(HEADING, title),
        paint(BOLD, &r.summary)
    ));
    if !r.apple_category.is_empty() {
        let cats: Vec<String> = r.apple_category.iter().map(|c| category_words(c)).collect();
        let note = match r.apple_category_confidence.as_deref() {
            Some("documented_secondary") => "quoted from Apple by a secondary source",
            _ => "as we recall Apple's article; not re-checked",
        };
        s.push_str(&format!(
            "Apple's category: {} {}\n",
            cats.join("; "),
            paint(DIM, format!("({note})"))
        ));
    }
    s.push_str(&format!(
        "Family: {} {}\n\n",
        r.family.title,
        paint(DIM, format!("({})", r.family.id))
    ));
    s.push_str(&format!("{}\n", paint(HEADING, "What it means")));
    s.push_str(&output::wrap(&r.meaning, "  "));
    s.push_str(&format!(
        "\n{}\n",
        paint(HEADING, "Likely causes, before anything is tried")
    ));
    let width = r
        .causes
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(10);
    for c in &r.causes {
        s.push_str(&format!(
            "  {:<width$} {} {:>3.0}%  {}\n",
            c.name,
            paint(ACCENT, output::bar(c.probability, 20)),
            c.probability * 100.0,
            paint(DIM, &c.group)
        ));
        if let Some(note) = &c.note {
            s.push_str(&paint(
                DIM,
                output::wrap(&format!("With this code: {note}"), "      "),
            ));
        }
    }
    // Sources by title and link, cited by number (the keys are the knowledge base's own).
    let sources = kb::sources::cited(
        kb::kb(),
        &[r.prior_source.as_deref().unwrap_or(""), &r.source],
    );
    if let Some(src) = &r.prior_source {
        s.push_str(&output::wrap_hang(
            &format!(
                "Source of these numbers: {}",
                kb::sources::number_citations(src, &sources)
            ),
            "  ",
            "    ",
        ));
    }
    if !r.first_steps.is_empty() {
        s.push_str(&format!(
            "\n{}\n",
            paint(HEADING, "What to try first (cheapest first)")
        ));
        for (i, st) in r.first_steps.iter().enumerate() {
            let warn = if st.erases_data {
                paint(crate::output::BAD, "  erases the device: back up first")
            } else {
                String::new()
            };
            s.push_str(&format!(
                "  {}. {}  {}{}\n",
                i + 1,
                st.title,
                paint(DIM, format!("~{} min, ${}", st.cost.minutes, st.cost.usd)),
                warn
            ));
        }
        s.push_str(&format!(
            "  {}\n",
            paint(DIM, "For a step-by-step diagnosis: restore-doctor diagnose --error <code> --device <model>")
        ));
    }
    if !r.related.is_empty() {
        let rel: Vec<String> = r.related.iter().map(|c| c.to_string()).collect();
        s.push_str(&format!("\nRelated codes: {}\n", rel.join(", ")));
    }
    if !sources.is_empty() {
        s.push_str(&format!("\n{}\n", paint(HEADING, "Sources")));
        for (i, src) in sources.iter().enumerate() {
            let number = format!("  [{}] ", i + 1);
            let hang = " ".repeat(number.len());
            s.push_str(&output::wrap_hang(&src.title, &number, &hang));
            if let Some(url) = &src.url {
                s.push_str(&format!("{hang}{}\n", paint(DIM, url)));
            }
        }
    }
    tracing::info!(
        "code {}: {} causes, {} first steps, {} sources cited",
        r.code,
        r.causes.len(),
        r.first_steps.len(),
        sources.len()
    );
    crate::say!("{s}");
}

fn list(out: &Out) -> CmdResult {
    let entries = report::code_list();
    tracing::info!("{} documented codes and ranges", entries.len());
    if out.json {
        out.json(&serde_json::json!({ "codes": entries }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = format!("{}\n", paint(HEADING, "Documented error codes"));
    for e in &entries {
        let label = match (&e.code, &e.range) {
            (Some(c), _) => c.to_string(),
            (None, Some(r)) => format!("{}–{}", r.start, r.end),
            _ => String::new(),
        };
        s.push_str(&format!(
            "  {}  {} {}\n",
            paint(BOLD, format!("{label:>9}")),
            paint(DIM, format!("{:<26}", e.family)),
            e.summary
        ));
    }
    crate::say!("{s}");
    Ok(ExitCode::SUCCESS)
}
