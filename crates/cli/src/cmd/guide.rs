//! `restore-doctor guide <force-restart|recovery|dfu|exit-recovery> --device <D>`: numbered
//! button steps for that model, what the screen shows when it worked and when it did not.

use crate::output::{
    self, ACCENT, BOLD, CmdResult, DIM, GOOD, HEADING, Out, WARN, bad_input, paint,
};
use kb::GuideKind;
use kb::report::{self, GuideJson};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  restore-doctor guide dfu --device \"iPhone 8\"\n  restore-doctor guide recovery --device iphone-6s\n  restore-doctor guide force-restart --device iPhone10,3 --json"
)]
pub struct Args {
    /// force-restart, recovery, dfu or exit-recovery.
    pub kind: String,
    /// The device: a name in any spelling ("iphone x", "7 plus", "iPad 7"), a product type
    /// (iPhone10,3) or a board (d22ap).
    #[arg(long, short)]
    pub device: String,
}

pub fn run(args: Args, out: &Out) -> CmdResult {
    let Some(kind) = GuideKind::parse(&args.kind) else {
        return bad_input(format!(
            "unknown guide `{}`: choose force-restart, recovery, dfu or exit-recovery",
            args.kind
        ));
    };
    let (name, variants) = output::resolve_device(&args.device)?;
    let report = report::guide_for(kind, name, &variants).map_err(|e| anyhow::anyhow!(e))?;
    tracing::info!(
        "`{}` is {name} ({} variants), button scheme {}: {} steps",
        args.device,
        variants.len(),
        report.device.button_scheme.as_str(),
        report.steps.len()
    );
    if out.json {
        out.json(&report)?;
    } else {
        print_human(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_human(g: &GuideJson) {
    let mut s = String::new();
    s.push_str(&format!(
        "{}\n{} {}\n",
        paint(HEADING, format!("{} — {}", g.title, g.device.name)),
        paint(DIM, format!("{} ·", g.device.product_types.join(", "))),
        paint(DIM, output::scheme_words(g.device.button_scheme))
    ));
    if !g.before.is_empty() {
        s.push_str(&format!("\n{}\n", paint(BOLD, "Before you start")));
        for b in &g.before {
            s.push_str(&output::wrap_hang(b, "  • ", "    "));
        }
    }
    s.push_str(&format!("\n{}\n", paint(BOLD, "Steps")));
    for st in &g.steps {
        let text = match st.hold_seconds {
            Some(h) => format!("{} {}", st.text, paint(ACCENT, format!("[hold {h} s]"))),
            None => st.text.clone(),
        };
        s.push_str(&output::wrap_hang(
            &text,
            &format!("  {:>2}. ", st.n),
            "      ",
        ));
    }
    s.push_str(&format!("\n{}\n", paint(GOOD, "When it worked")));
    s.push_str(&output::wrap(&g.success, "  "));
    if !g.failure.is_empty() {
        s.push_str(&format!("\n{}\n", paint(WARN, "If it did not work")));
        for f in &g.failure {
            s.push_str(&output::wrap_hang(f, "  • ", "    "));
        }
    }
    if !g.mistakes.is_empty() {
        s.push_str(&format!("\n{}\n", paint(BOLD, "Common mistakes")));
        for m in &g.mistakes {
            s.push_str(&output::wrap_hang(m, "  • ", "    "));
        }
    }
    if !g.apps.is_empty() && g.kind != "force-restart" {
        s.push_str(&format!(
            "\n{}\n",
            paint(BOLD, "Which app to open on the computer")
        ));
        for a in &g.apps {
            s.push_str(&format!("  {:<34} {}\n", a.os, a.app));
        }
    }
    crate::say!("{s}");
}
