//! Printing: human text with optional colour (anstream honours `NO_COLOR` and pipes), JSON,
//! and the mapping from errors to exit codes.

use anstyle::{AnsiColor, Effects, Style};
use std::process::ExitCode;

/// Bad usage or bad input: printed with its message and exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Shorthand for returning a [`BadInput`].
pub fn bad_input<T>(msg: impl Into<String>) -> anyhow::Result<T> {
    Err(BadInput(msg.into()).into())
}

/// What a command returns: `Ok(code)` or an error (BadInput → 2, anything else → 1).
pub type CmdResult = anyhow::Result<ExitCode>;

pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn new(json: bool) -> Self {
        Out { json }
    }

    /// Print a JSON value (pretty) on stdout.
    pub fn json<T: serde::Serialize>(&self, value: &T) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(value)?;
        anstream::println!("{text}");
        Ok(())
    }
}

pub const HEADING: Style = Style::new().bold().underline();
pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().effects(Effects::DIMMED);
pub const GOOD: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
pub const WARN: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
pub const BAD: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();
pub const ACCENT: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)));

/// Wrap text in a style; anstream strips the escapes when colour is off.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// A text bar for a probability (0..=1), `width` cells wide.
pub fn bar(p: f64, width: usize) -> String {
    let filled = (p.clamp(0.0, 1.0) * width as f64).round() as usize;
    format!("{}{}", "█".repeat(filled), "·".repeat(width - filled))
}

/// Turn a command's result into the process exit code, printing errors on stderr.
pub fn finish(result: CmdResult) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            let code = if err.downcast_ref::<BadInput>().is_some() {
                2
            } else {
                1
            };
            anstream::eprintln!("{} {err:#}", paint(BAD, "error:"));
            ExitCode::from(code)
        }
    }
}

/// Wrap `text` to `width` columns, each line prefixed by `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Resolve `--device` to one model, or fail with the closest names (exit 2).
pub fn resolve_device(query: &str) -> anyhow::Result<(&'static str, Vec<&'static kb::Device>)> {
    match kb::kb().find_device(query) {
        kb::DeviceMatch::Found { name, variants } => Ok((name, variants)),
        kb::DeviceMatch::Ambiguous(names) => bad_input(format!(
            "`{query}` matches several devices: {}. Say which one (a name, a product type like iPhone10,3, or a board like d22ap).",
            names.join(", ")
        )),
        kb::DeviceMatch::NotFound(names) => bad_input(format!(
            "no device called `{query}`. Closest: {}. `restore-doctor devices` lists them all.",
            names.join(", ")
        )),
    }
}

/// The JSON shape of a device used across commands (built in `kb::report`).
pub use kb::report::DeviceJson;

/// Button names of a scheme, in words.
pub fn scheme_words(scheme: kb::ButtonScheme) -> &'static str {
    match scheme {
        kb::ButtonScheme::HomeButton => "Home button + Top/Side button",
        kb::ButtonScheme::VolumeDownSide => "Side/Top button + Volume Down",
        kb::ButtonScheme::VolumeUpDownSide => "Volume Up, Volume Down, then the Side button",
        kb::ButtonScheme::TopButtonIpad => {
            "Top button + the volume buttons (nearest, then farthest from the Top button)"
        }
    }
}
